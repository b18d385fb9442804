/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"

/* Many deadlines as one timer. Every client has a deadline (its idle time, its partial line, its close),
 * and an sd-event timer each would cost some 300 bytes a client, plus a place in sd-event's timer queues,
 * which keep the size of the largest crowd ever served for good. But deadlines of one length, each set to
 * now + length, fall due in the order they were set: a list per length, appended to, is in order by
 * construction. So: one list per length (a handful), one timer at the earliest head of them, and setting,
 * moving or cancelling a deadline takes no allocation and no search. */
typedef struct Deadlines Deadlines;
typedef struct Deadline Deadline;

typedef void (*deadline_handler_t)(Deadline *d);

/* How many different lengths there may be: what the callers use is a handful of constants and options. */
#define DEADLINE_LENGTHS_MAX 8

/* Embedded in what has a deadline, zeroed, with handler set. */
struct Deadline {
        Deadline *next, *prev;
        uint64_t due;           /* CLOCK_MONOTONIC; 0 while not set */
        deadline_handler_t handler;
        uint8_t list;           /* which length's list it is on, while set */
};

int deadlines_new(sd_event *e, Deadlines **ret);
Deadlines *deadlines_free(Deadlines *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Deadlines *, deadlines_free);

/* d->handler runs once, length from now (later by a tenth of length at most, and a second at most), unless
 * d is set again or cancelled first. It runs with d no longer set, and may set it again. length > 0. */
void deadline_set(Deadlines *t, Deadline *d, uint64_t length);
/* Whether d is set or not. */
void deadline_cancel(Deadlines *t, Deadline *d);
