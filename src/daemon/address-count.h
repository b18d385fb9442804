/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "address.h"
#include "macro.h"

/* How many connections each IP address holds, for --max-clients-per-address: a table that grows with the
 * addresses in use (at most half full), and never shrinks. An IPv6 /64 counts as one address: a host
 * gets a whole /64 to pick its addresses from. Unix-socket peers are not counted: they are local users,
 * whom the file's permissions admit. */
typedef struct AddressCount AddressCount;

int address_count_new(AddressCount **ret);
AddressCount *address_count_free(AddressCount *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(AddressCount *, address_count_free);

/* Whether a counts with its whole /64 (IPv6 that is not a mapped IPv4 address). */
bool address_count_by_network(const PeerAddress *a);
/* The connections a's address holds now (0 for a peer that is not counted). */
size_t address_count_get(const AddressCount *t, const PeerAddress *a);
/* One more (-ENOMEM when a new address finds no room: it is not counted then), or one fewer. */
int address_count_add(AddressCount *t, const PeerAddress *a);
void address_count_remove(AddressCount *t, const PeerAddress *a);
