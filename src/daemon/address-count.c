/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "address-count.h"

typedef struct Slot {
        struct in6_addr address;
        size_t count;           /* 0: empty */
} Slot;

struct AddressCount {
        Slot *slots;
        size_t mask;            /* slots - 1, a power of two minus one */
        size_t used;            /* addresses with a count */
        uint64_t seed;          /* so that no peer can pick addresses that collide */
};

#define SLOTS_MIN 16

static bool counted(const PeerAddress *a) {
        return a->family == AF_INET || a->family == AF_INET6;
}

bool address_count_by_network(const PeerAddress *a) {
        assert(a);
        return a->family == AF_INET6 && !IN6_IS_ADDR_V4MAPPED(&a->in6);
}

/* What is counted as one address: an IPv4 address (mapped to IPv6 or not); of IPv6, the /64. */
static struct in6_addr key(const PeerAddress *a) {
        struct in6_addr k = a->in6;

        if (address_count_by_network(a))
                memset(&k.s6_addr[8], 0, 8);
        return k;
}

/* FNV-1a, seeded. */
static size_t hash(const AddressCount *t, const struct in6_addr *a) {
        uint64_t h = UINT64_C(0xcbf29ce484222325) ^ t->seed;

        for (size_t i = 0; i < sizeof(a->s6_addr); i++) {
                h ^= a->s6_addr[i];
                h *= UINT64_C(0x100000001b3);
        }
        return (size_t) (h ^ h >> 32);
}

int address_count_new(AddressCount **ret) {
        _cleanup_(address_count_freep) AddressCount *t = NULL;

        assert(ret);

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->slots = calloc(SLOTS_MIN, sizeof(Slot));
        if (!t->slots)
                return -ENOMEM;
        t->mask = SLOTS_MIN - 1;
        if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
                t->seed = (uint64_t) (uintptr_t) t;
        *ret = TAKE_PTR(t);
        return 0;
}

AddressCount *address_count_free(AddressCount *t) {
        if (!t)
                return NULL;
        free(t->slots);
        free(t);
        return NULL;
}

/* Where a is, or the empty slot where it would go. */
static size_t find(const AddressCount *t, const struct in6_addr *a) {
        size_t i = hash(t, a) & t->mask;

        while (t->slots[i].count > 0 && memcmp(&t->slots[i].address, a, sizeof(*a)) != 0)
                i = (i + 1) & t->mask;
        return i;
}

size_t address_count_get(const AddressCount *t, const PeerAddress *a) {
        struct in6_addr k;

        assert(t);
        assert(a);

        k = key(a);
        return counted(a) ? t->slots[find(t, &k)].count : 0;
}

/* Twice the slots, every address moved over: the table stays at most half full. */
static int grow(AddressCount *t) {
        Slot *old = t->slots;
        size_t n = t->mask + 1;

        if (n > SIZE_MAX / 2 / sizeof(Slot))
                return -ENOMEM;
        t->slots = calloc(2 * n, sizeof(Slot));
        if (!t->slots) {
                t->slots = old;
                return -ENOMEM;
        }
        t->mask = 2 * n - 1;
        for (size_t i = 0; i < n; i++)
                if (old[i].count > 0)
                        t->slots[find(t, &old[i].address)] = old[i];
        free(old);
        return 0;
}

int address_count_add(AddressCount *t, const PeerAddress *a) {
        struct in6_addr k;
        size_t i;
        int r;

        assert(t);
        assert(a);

        if (!counted(a))
                return 0;
        k = key(a);
        i = find(t, &k);
        if (t->slots[i].count == 0) {
                if (2 * (t->used + 1) > t->mask + 1) {
                        r = grow(t);
                        if (r < 0)
                                return r;
                        i = find(t, &k);
                }
                t->slots[i].address = k;
                t->used++;
        }
        t->slots[i].count++;
        return 0;
}

void address_count_remove(AddressCount *t, const PeerAddress *a) {
        struct in6_addr k;
        size_t i, j;

        assert(t);
        assert(a);

        if (!counted(a))
                return;
        k = key(a);
        i = find(t, &k);
        if (t->slots[i].count == 0 || --t->slots[i].count > 0)
                return;
        t->used--;

        /* Empty now: move up each entry after it that would no longer be found past the gap (linear
         * probing's deletion, without tombstones). */
        for (j = i;;) {
                size_t home;

                j = (j + 1) & t->mask;
                if (t->slots[j].count == 0)
                        break;
                home = hash(t, &t->slots[j].address) & t->mask;
                if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
                        continue;
                t->slots[i] = t->slots[j];
                i = j;
        }
        t->slots[i].count = 0;
}
