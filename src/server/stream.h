/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <systemd/sd-event.h>

#include "macro.h"

/* One connected socket seen as asyncio's streams see it: a buffered reader that hands out whole lines, and
 * a writer with a bounded buffer and a drain() that says when it has room again. */
typedef struct Stream Stream;

typedef void (*stream_handler_t)(Stream *s, void *userdata);
/* The connection is over (error: 0 after close(), or the socket's negative errno). Called from an event
 * of its own, so the owner may free the stream there. */
typedef void (*stream_closed_t)(Stream *s, int error, void *userdata);

/* Takes over fd. on_readable runs whenever stream_readline() may have something new. */
int stream_new(sd_event *e, int fd, size_t capacity, stream_handler_t on_readable, stream_closed_t on_closed,
                void *userdata, Stream **ret);
Stream *stream_free(Stream *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Stream *, stream_free);

/* The reader. Returns 1 with the next line (without "\n" or "\r\n"), 0 when none is complete yet,
 * -EMSGSIZE for a line longer than the protocol allows, -EPIPE once the peer has sent everything. */
int stream_readline(Stream *s, const char **ret_line, size_t *ret_length);

/* The writer. Queues all n bytes or fails; a write to a broken connection closes it. */
int stream_write(Stream *s, const char *data, size_t n);
size_t stream_get_buffer_size(Stream *s);
/* Like asyncio's 'await drain()': stops reading until the queue is down to low_water bytes, then calls
 * on_readable again. */
void stream_drain(Stream *s, size_t low_water);
/* Sends what is queued, then closes (see linger_close()). */
void stream_close(Stream *s);
