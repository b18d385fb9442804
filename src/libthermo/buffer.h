/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* A connection's output queue. It never holds more than 'capacity' bytes: a connection's memory stays
 * bounded whatever its peer does. Storage grows on demand, so an idle connection costs little. */
typedef struct Buffer {
        char *data;
        size_t start;     /* first unsent byte */
        size_t end;       /* one past the last queued byte */
        size_t allocated;
        size_t capacity;
} Buffer;

void buffer_init(Buffer *b, size_t capacity);
void buffer_done(Buffer *b);

static inline size_t buffer_size(const Buffer *b) {
        return b->end - b->start;
}

/* Queues all n bytes or none: -ENOBUFS when they would not fit in the capacity. */
int buffer_append(Buffer *b, const void *data, size_t n);

/* Marks n bytes at the front as sent. */
void buffer_consume(Buffer *b, size_t n);

/* Sends what it can of the queue to a non-blocking socket. Returns the bytes still queued, or a negative
 * errno from send() other than EAGAIN. */
int buffer_flush(Buffer *b, int fd);
