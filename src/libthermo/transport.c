/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sys/socket.h>

#include "buffer.h"
#include "line-buffer.h"
#include "linger.h"
#include "transport.h"

#define CLOSE_TIMEOUT_USEC (5 * UINT64_C(1000000)) /* for a peer that never reads its last lines */

struct Transport {
        sd_event *event;
        int fd;
        sd_event_source *io;
        sd_event_source *lost;
        sd_event_source *close_timer;

        Buffer output;
        size_t high_water, low_water;
        bool writing_paused;

        bool reading_paused;
        bool eof;
        bool closing;
        bool finished;
        int error;

        const TransportProtocol *protocol;
        void *userdata;
};

static bool reading(Transport *t) {
        return !t->reading_paused && !t->eof && !t->closing && !t->finished;
}

static void update_events(Transport *t) {
        uint32_t events = (reading(t) ? EPOLLIN : 0) | (buffer_size(&t->output) > 0 ? EPOLLOUT : 0);

        if (t->finished)
                return;
        if (events == 0) {
                (void) sd_event_source_set_enabled(t->io, SD_EVENT_OFF);
                return;
        }
        (void) sd_event_source_set_io_events(t->io, events);
        (void) sd_event_source_set_enabled(t->io, SD_EVENT_ON);
}

static int on_lost(sd_event_source *source, void *userdata) {
        Transport *t = userdata;

        t->protocol->connection_lost(t, t->error, t->userdata);
        return 0;
}

/* Ends the connection now; the protocol hears of it from an event of its own, once no callback of ours
 * is on the stack any more. */
static void finish(Transport *t, int error) {
        if (t->finished)
                return;
        t->finished = true;
        t->error = error;
        t->io = sd_event_source_disable_unref(t->io);
        t->close_timer = sd_event_source_disable_unref(t->close_timer);
        if (error == 0)
                (void) linger_close(t->event, TAKE_FD(t->fd));
        else
                t->fd = safe_close(t->fd);
        if (sd_event_add_defer(t->event, &t->lost, on_lost, t) < 0)
                t->protocol->connection_lost(t, error, t->userdata); /* nothing of ours runs after this */
}

static int socket_error(int fd) {
        int error = 0;
        socklen_t n = sizeof(error);

        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &n) < 0 || error == 0)
                return -ECONNRESET;
        return -error;
}

static void update_writing(Transport *t) {
        size_t size = buffer_size(&t->output);

        if (!t->writing_paused && size > t->high_water) {
                t->writing_paused = true;
                t->protocol->pause_writing(t, t->userdata);
        } else if (t->writing_paused && size <= t->low_water) {
                t->writing_paused = false;
                t->protocol->resume_writing(t, t->userdata);
        }
}

static void do_read(Transport *t) {
        char data[LINE_BUFFER_READ_MAX];
        ssize_t n;

        n = recv(t->fd, data, sizeof(data), MSG_DONTWAIT);
        if (n < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        finish(t, -errno);
                return;
        }
        if (n > 0) {
                t->protocol->data_received(t, data, (size_t) n, t->userdata);
                return;
        }
        t->eof = true;
        update_events(t);
        if (!t->protocol->eof_received(t, t->userdata))
                transport_close(t);
}

static int on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Transport *t = userdata;
        int r;

        if (revents & EPOLLERR) {
                finish(t, socket_error(fd));
                return 0;
        }
        /* Hung up while we do not read: nobody will ever take what we write. */
        if ((revents & EPOLLHUP) && !reading(t)) {
                finish(t, -EPIPE);
                return 0;
        }

        if (buffer_size(&t->output) > 0) {
                r = buffer_flush(&t->output, fd);
                if (r < 0) {
                        finish(t, r);
                        return 0;
                }
                if (t->closing && r == 0) {
                        finish(t, 0);
                        return 0;
                }
                update_writing(t);
        }

        if ((revents & (EPOLLIN | EPOLLHUP)) && reading(t))
                do_read(t);

        update_events(t);
        return 0;
}

int transport_new(sd_event *e, int fd, size_t capacity, size_t high_water, size_t low_water,
                const TransportProtocol *protocol, void *userdata, Transport **ret) {
        _cleanup_(transport_freep) Transport *t = NULL;
        int r;

        t = malloc(sizeof(*t));
        if (!t) {
                safe_close(fd);
                return -ENOMEM;
        }
        *t = (Transport) {
                .event = sd_event_ref(e),
                .fd = fd,
                .high_water = high_water,
                .low_water = low_water,
                .protocol = protocol,
                .userdata = userdata,
        };
        buffer_init(&t->output, capacity);

        r = sd_event_add_io(e, &t->io, fd, EPOLLIN, on_io, t);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(t->io, "transport");

        *ret = t;
        protocol->connection_made(TAKE_PTR(t), userdata);
        return 0;
}

Transport *transport_free(Transport *t) {
        if (!t)
                return NULL;
        sd_event_source_disable_unref(t->io);
        sd_event_source_disable_unref(t->lost);
        sd_event_source_disable_unref(t->close_timer);
        safe_close(t->fd);
        buffer_done(&t->output);
        sd_event_unref(t->event);
        free(t);
        return NULL;
}

int transport_write(Transport *t, const char *data, size_t n) {
        int r;

        if (t->finished || t->closing)
                return -EPIPE;

        /* With nothing queued, try the socket first: most writes never touch the buffer. */
        if (buffer_size(&t->output) == 0) {
                ssize_t k = send(t->fd, data, n, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (k < 0 && errno != EAGAIN && errno != EINTR) {
                        r = -errno;
                        finish(t, r);
                        return r;
                }
                if (k > 0) {
                        data += k;
                        n -= (size_t) k;
                }
                if (n == 0)
                        return 0;
        }

        r = buffer_append(&t->output, data, n);
        if (r < 0) {
                finish(t, r);
                return r;
        }
        update_writing(t);
        update_events(t);
        return 0;
}

size_t transport_get_write_buffer_size(Transport *t) {
        return buffer_size(&t->output);
}

bool transport_is_writing_paused(Transport *t) {
        return t->writing_paused;
}

void transport_pause_reading(Transport *t) {
        t->reading_paused = true;
        update_events(t);
}

void transport_resume_reading(Transport *t) {
        t->reading_paused = false;
        update_events(t);
}

static int on_close_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        finish(userdata, -ETIMEDOUT);
        return 0;
}

void transport_close(Transport *t) {
        if (t->closing || t->finished)
                return;
        t->closing = true;
        if (buffer_size(&t->output) == 0) {
                finish(t, 0);
                return;
        }
        update_events(t);
        if (sd_event_add_time_relative(t->event, &t->close_timer, CLOCK_MONOTONIC, CLOSE_TIMEOUT_USEC, 0,
                                on_close_timeout, t) < 0)
                finish(t, -ETIMEDOUT);
}

void transport_abort(Transport *t) {
        finish(t, -ECONNABORTED);
}
