/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "buffer.h"
#include "linger.h"
#include "protocol.h"
#include "stream.h"

#define STREAM_INPUT_SIZE 4096
#define STREAM_CLOSE_TIMEOUT_USEC (5 * UINT64_C(1000000)) /* for a peer that never reads its last lines */

struct Stream {
        sd_event *event;
        int fd;
        sd_event_source *io;
        sd_event_source *finish;
        sd_event_source *close_timer;

        char input[STREAM_INPUT_SIZE];
        size_t in_start, in_end;
        bool eof;

        Buffer output;
        size_t low_water;
        bool draining; /* reading waits until the queue is down to low_water */

        bool closing;
        bool finished;
        int error;

        stream_handler_t on_readable;
        stream_closed_t on_closed;
        void *userdata;
};

static bool reading_enabled(Stream *s) {
        return !s->eof && !s->closing && !s->finished && !s->draining && s->in_end - s->in_start < STREAM_INPUT_SIZE;
}

static void update_events(Stream *s) {
        uint32_t events = (reading_enabled(s) ? EPOLLIN : 0) | (buffer_size(&s->output) > 0 ? EPOLLOUT : 0);

        if (s->finished)
                return;
        if (events == 0) {
                (void) sd_event_source_set_enabled(s->io, SD_EVENT_OFF);
                return;
        }
        (void) sd_event_source_set_io_events(s->io, events);
        (void) sd_event_source_set_enabled(s->io, SD_EVENT_ON);
}

static int on_finish(sd_event_source *source, void *userdata) {
        Stream *s = userdata;

        s->on_closed(s, s->error, s->userdata);
        return 0;
}

/* Ends the connection now; the owner hears of it from an event of its own, once no callback of ours is
 * on the stack any more. */
static void finish(Stream *s, int error) {
        if (s->finished)
                return;
        s->finished = true;
        s->error = error;
        s->io = sd_event_source_disable_unref(s->io);
        s->close_timer = sd_event_source_disable_unref(s->close_timer);
        if (error == 0)
                (void) linger_close(s->event, TAKE_FD(s->fd));
        else
                s->fd = safe_close(s->fd);
        if (sd_event_add_defer(s->event, &s->finish, on_finish, s) < 0)
                s->on_closed(s, error, s->userdata); /* cannot defer: nothing of ours runs after this */
}

static int socket_error(int fd) {
        int error = 0;
        socklen_t n = sizeof(error);

        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &n) < 0 || error == 0)
                return -ECONNRESET;
        return -error;
}

static void do_read(Stream *s) {
        ssize_t n;

        if (s->in_start > 0) {
                memmove(s->input, s->input + s->in_start, s->in_end - s->in_start);
                s->in_end -= s->in_start;
                s->in_start = 0;
        }
        n = recv(s->fd, s->input + s->in_end, STREAM_INPUT_SIZE - s->in_end, MSG_DONTWAIT);
        if (n < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        finish(s, -errno);
                return;
        }
        if (n == 0)
                s->eof = true;
        s->in_end += (size_t) n;
}

static int on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Stream *s = userdata;
        bool readable = false;
        int r;

        if (revents & EPOLLERR) {
                finish(s, socket_error(fd));
                return 0;
        }
        if ((revents & EPOLLHUP) && !reading_enabled(s)) {
                finish(s, -EPIPE);
                return 0;
        }

        if (buffer_size(&s->output) > 0) {
                r = buffer_flush(&s->output, fd);
                if (r < 0) {
                        finish(s, r);
                        return 0;
                }
        }
        if (s->draining && buffer_size(&s->output) <= s->low_water) {
                s->draining = false;
                readable = true; /* lines may be waiting in the input buffer */
        }

        if ((revents & (EPOLLIN | EPOLLHUP)) && reading_enabled(s)) {
                do_read(s);
                readable = true;
        }
        if (s->finished)
                return 0;

        if (s->closing && buffer_size(&s->output) == 0) {
                finish(s, 0);
                return 0;
        }
        update_events(s);

        if (readable)
                s->on_readable(s, s->userdata);
        return 0;
}

int stream_new(sd_event *e, int fd, size_t capacity, stream_handler_t on_readable, stream_closed_t on_closed,
                void *userdata, Stream **ret) {
        _cleanup_(stream_freep) Stream *s = NULL;
        int r;

        s = malloc(sizeof(*s));
        if (!s) {
                safe_close(fd);
                return -ENOMEM;
        }
        *s = (Stream) {
                .event = sd_event_ref(e),
                .fd = fd,
                .on_readable = on_readable,
                .on_closed = on_closed,
                .userdata = userdata,
        };
        buffer_init(&s->output, capacity);

        r = sd_event_add_io(e, &s->io, fd, EPOLLIN, on_io, s);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(s->io, "stream");

        *ret = TAKE_PTR(s);
        return 0;
}

Stream *stream_free(Stream *s) {
        if (!s)
                return NULL;
        sd_event_source_disable_unref(s->io);
        sd_event_source_disable_unref(s->finish);
        sd_event_source_disable_unref(s->close_timer);
        safe_close(s->fd);
        buffer_done(&s->output);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

int stream_readline(Stream *s, const char **ret_line, size_t *ret_length) {
        size_t available = s->in_end - s->in_start, length;
        const char *start = s->input + s->in_start;
        int r;

        if (s->closing || s->finished)
                return 0;

        r = protocol_next_line(start, available, &length);
        if (r < 0)
                return r;
        if (r > 0) {
                s->in_start += (size_t) r;
                update_events(s);
                *ret_line = start;
                *ret_length = length;
                return 1;
        }
        if (!s->eof)
                return 0;
        if (available > 0) {
                /* Like asyncio's readline(): at the end, what is left is the last line, terminator or not. */
                s->in_start = s->in_end;
                *ret_line = start;
                *ret_length = available - (start[available - 1] == '\r');
                return 1;
        }
        return -EPIPE;
}

int stream_write(Stream *s, const char *data, size_t n) {
        int r;

        if (s->finished || s->closing)
                return -EPIPE;

        /* With nothing queued, try the socket first: most writes never touch the buffer. */
        if (buffer_size(&s->output) == 0) {
                ssize_t k = send(s->fd, data, n, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (k < 0 && errno != EAGAIN && errno != EINTR) {
                        r = -errno;
                        finish(s, r);
                        return r;
                }
                if (k > 0) {
                        data += k;
                        n -= (size_t) k;
                }
                if (n == 0)
                        return 0;
        }

        r = buffer_append(&s->output, data, n);
        if (r < 0) {
                finish(s, r);
                return r;
        }
        update_events(s);
        return 0;
}

size_t stream_get_buffer_size(Stream *s) {
        return buffer_size(&s->output);
}

void stream_drain(Stream *s, size_t low_water) {
        s->low_water = low_water;
        s->draining = true;
        update_events(s);
}

static int on_close_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        finish(userdata, -ETIMEDOUT);
        return 0;
}

void stream_close(Stream *s) {
        if (s->closing || s->finished)
                return;
        s->closing = true;
        if (buffer_size(&s->output) == 0) {
                finish(s, 0);
                return;
        }
        update_events(s);
        if (sd_event_add_time_relative(s->event, &s->close_timer, CLOCK_MONOTONIC, STREAM_CLOSE_TIMEOUT_USEC, 0,
                                on_close_timeout, s) < 0)
                finish(s, -ETIMEDOUT);
}
