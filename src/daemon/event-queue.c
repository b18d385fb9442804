/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "event-queue.h"

struct EventChunk {
        unsigned refs;
        size_t size;
        char *data;
};

EventChunk *event_chunk_new(char *data, size_t n) {
        EventChunk *c;

        assert(data || n == 0);

        c = malloc(sizeof(*c));
        if (!c) {
                free(data);
                return NULL;
        }
        *c = (EventChunk) { .refs = 1, .size = n, .data = data };
        return c;
}

EventChunk *event_chunk_ref(EventChunk *c) {
        assert(c);
        c->refs++;
        return c;
}

EventChunk *event_chunk_unref(EventChunk *c) {
        if (!c || --c->refs > 0)
                return NULL;
        free(c->data);
        free(c);
        return NULL;
}

size_t event_chunk_size(const EventChunk *c) {
        assert(c);
        return c->size;
}

int event_queue_push(EventQueue *q, EventChunk *c, size_t slots, size_t capacity) {
        assert(q);
        assert(c);
        assert(slots <= EVENT_QUEUE_SLOTS);

        if (q->n >= slots || (q->n > 0 && q->bytes + c->size > capacity))
                return -ENOBUFS;
        q->chunks[(q->first + q->n) % EVENT_QUEUE_SLOTS] = event_chunk_ref(c);
        q->n++;
        q->bytes += c->size;
        return 0;
}

size_t event_queue_take(EventQueue *q, char *buf, size_t max) {
        size_t taken = 0;

        assert(q);
        assert(buf || max == 0);

        while (q->n > 0 && taken < max) {
                EventChunk *c = q->chunks[q->first];
                size_t n = MIN(c->size - q->offset, max - taken);

                memcpy(buf + taken, c->data + q->offset, n);
                taken += n;
                q->offset += n;
                q->bytes -= n;
                if (q->offset < c->size)
                        break;
                event_chunk_unref(c);
                q->chunks[q->first] = NULL;
                q->first = (q->first + 1) % EVENT_QUEUE_SLOTS;
                q->n--;
                q->offset = 0;
        }
        return taken;
}

void event_queue_clear(EventQueue *q) {
        assert(q);

        for (; q->n > 0; q->n--) {
                event_chunk_unref(q->chunks[q->first]);
                q->chunks[q->first] = NULL;
                q->first = (q->first + 1) % EVENT_QUEUE_SLOTS;
        }
        q->offset = 0;
        q->bytes = 0;
}
