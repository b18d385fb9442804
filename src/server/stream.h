/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "macro.h"

/* One connection seen as asyncio's streams see it: a reader that hands out whole lines, and a writer with
 * a bounded buffer and a drain(). Built on a Transport, as asyncio's StreamReader and StreamWriter are. */
typedef struct Stream Stream;

typedef void (*stream_handler_t)(Stream *s, void *userdata);
/* The connection is over (error: 0 after close(), else a negative errno). Called from an event of its
 * own, so the owner may free the stream there. */
typedef void (*stream_closed_t)(Stream *s, int error, void *userdata);

/* Takes over fd. on_readable runs whenever stream_readline() may have something new. The writer holds at
 * most capacity bytes, and asks for a drain above high_water until it is down to low_water. */
int stream_new(sd_event *e, int fd, size_t capacity, size_t high_water, size_t low_water,
                stream_handler_t on_readable, stream_closed_t on_closed, void *userdata, Stream **ret);
Stream *stream_free(Stream *s);

/* The reader. Returns 1 with the next line (without "\n" or "\r\n"), 0 when none is complete yet,
 * -EMSGSIZE for a line longer than the protocol allows, -EPIPE once the peer has sent everything. */
int stream_readline(Stream *s, const char **ret_line, size_t *ret_length);

/* The writer. Queues all n bytes or fails; a write to a broken connection closes it. */
int stream_write(Stream *s, const char *data, size_t n);
size_t stream_get_buffer_size(Stream *s);
/* Like 'await writer.drain()': returns true, having stopped reading, when the peer must take what is
 * queued first; on_readable runs again once it has. Returns false when there is room now. */
bool stream_drain(Stream *s);
/* Sends what is queued, then closes. */
void stream_close(Stream *s);
