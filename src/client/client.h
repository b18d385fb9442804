/* SPDX-License-Identifier: MIT */
#pragma once

#include "macro.h"
#include "options.h"

/* One run of thermo-client: connect, greet, ask, show readings; reconnect with --retry. */
typedef struct Client Client;

int client_new(const ClientOptions *options, Client **ret);
Client *client_free(Client *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Client *, client_free);

/* Returns the exit status (sysexits.h), or a negative errno when it could not start. */
int client_run(Client *c);
