/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "macro.h"

/* The events an event stream (/api/v1/events) has still to send. An event is formatted once, into a chunk
 * that every stream sending it holds a reference to: the same bytes for all, and a stream that lags holds
 * pointers, not copies. No I/O here. */
typedef struct EventChunk EventChunk;

/* A chunk that owns data (n bytes, from malloc()), with one reference. On failure data is freed. */
EventChunk *event_chunk_new(char *data, size_t n);
EventChunk *event_chunk_ref(EventChunk *c);
EventChunk *event_chunk_unref(EventChunk *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(EventChunk *, event_chunk_unref);
size_t event_chunk_size(const EventChunk *c);

/* Slots of a queue: a tick may take EVENT_QUEUE_TICKS of them, an alarm every one (an alarm is never
 * skipped where a tick may be: event-stream.c). */
#define EVENT_QUEUE_TICKS 16
#define EVENT_QUEUE_SLOTS 24

typedef struct EventQueue {
        EventChunk *chunks[EVENT_QUEUE_SLOTS];
        size_t first;   /* slot of the oldest chunk */
        size_t n;       /* chunks held */
        size_t offset;  /* bytes of the oldest already taken */
        size_t bytes;   /* bytes held, not yet taken */
} EventQueue;

/* Queues a reference to c, unless that would put more than slots chunks or capacity bytes in q: then
 * -ENOBUFS, and nothing queued. An empty queue takes any chunk, so that an event larger than the capacity
 * is sent, not skipped for ever. */
int event_queue_push(EventQueue *q, EventChunk *c, size_t slots, size_t capacity);

/* Copies up to max of the oldest bytes into buf and lets go of the chunks taken whole: the bytes copied. */
size_t event_queue_take(EventQueue *q, char *buf, size_t max);

static inline bool event_queue_is_empty(const EventQueue *q) {
        return q->n == 0;
}

void event_queue_clear(EventQueue *q);
