/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "protocol.h"
#include "server-options.h"
#include "session.h"
#include "thermometer.h"

/* What both servers share: listeners, accepting, the client limit, exit on idle, sd_notify, signals and
 * shutdown. A server program supplies only its connection layer, as the open callback. */
typedef struct Server Server;

/* Takes over a connected, non-blocking socket and starts a session on it (session_new()). On failure
 * the callback has closed fd. */
typedef int (*server_open_t)(Server *server, int fd, const char *peer);

/* name is what HELLO and INFO say; takes over the options' sensor. */
int server_new(const char *name, ServerOptions *options, server_open_t open, Server **ret);
Server *server_free(Server *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Server *, server_free);

/* Runs until SIGTERM, SIGINT or exit on idle: returns 0, or a negative errno when it could not start. */
int server_run(Server *s);

/* A whole server program: options, set-up, run. Returns the exit status. */
int server_main(int argc, char *argv[], const char *name, const char *default_listen, server_open_t open);

sd_event *server_get_event(Server *s);
Thermometer *server_get_thermometer(Server *s);
/* A client's readings are skipped beyond the limit (--buffer-size); its connection's buffer holds up to
 * the capacity, which leaves room for the replies to one more request. */
size_t server_get_buffer_limit(Server *s);
size_t server_get_buffer_capacity(Server *s);
void server_get_info(Server *s, ServerInfo *ret);

/* Called by session_new() and session_free() only. */
void server_add_session(Server *s, Session *session);
void server_remove_session(Server *s, Session *session, const char *reason);
