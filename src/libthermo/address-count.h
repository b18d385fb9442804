/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "address.h"
#include "macro.h"

/* How many connections each IP address holds, for --max-clients-per-address: a table sized once for the
 * most clients there can be, so that counting never allocates. Unix-socket peers are not counted: they
 * are local users, whom the file's permissions admit. */
typedef struct AddressCount AddressCount;

/* Room for max connections, from as many addresses. */
int address_count_new(size_t max, AddressCount **ret);
AddressCount *address_count_free(AddressCount *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(AddressCount *, address_count_free);

/* The connections a's address holds now (0 for a peer that is not counted). */
size_t address_count_get(const AddressCount *t, const PeerAddress *a);
/* One more, or one fewer; at most max at a time, all told. */
void address_count_add(AddressCount *t, const PeerAddress *a);
void address_count_remove(AddressCount *t, const PeerAddress *a);
