/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "connection.h"
#include "linger.h"
#include "parse.h"

/* Reads of one client per wakeup: a client that floods us gets its turn, and so does everyone else. */
#define READS_PER_WAKEUP 8
/* How long the last replies may take to be read, and how long we wait for the peer to close after them. */
#define CLOSE_TIMEOUT_USEC (5 * UINT64_C(1000000))

/* Where readable() reads requests: on the stack of the dispatch, so that no client keeps an input buffer.
 * It holds a partial line at most between reads, and a line is never longer than the buffer. */
struct Pump {
        char data[LINE_MAX_BYTES];
        size_t start, end;      /* the bytes not taken yet */
        unsigned reads;
        unsigned lines;         /* taken in this dispatch, blank ones not counted: they are no request */
};

static const ConnectionOps *ops(Connection *c) {
        return container_of(c->peer.ops, ConnectionOps, peer);
}

static size_t high_water(Connection *c) {
        return (size_t) c->peer.manager->options->buffer_size;
}

/* A client is one small allocation: what the poller watches for is kept in a byte. */
_Static_assert((EPOLLIN | EPOLLOUT) <= UINT8_MAX, "epoll's flags no longer fit in Connection.events");

static void update_events(Connection *c) {
        uint8_t events = 0;

        if (c->finished)
                return;
        if (c->output)
                events |= EPOLLOUT;
        if (c->lingering || (!c->closing && !c->eof && !c->paused && !c->held))
                events |= EPOLLIN;
        /* Even with no events asked for, epoll reports a hang-up or an error. */
        if (events != c->events && poller_modify(c->peer.manager->poller, c->fd, events, &c->watch) >= 0)
                c->events = events;
}

/* The socket is done with: close it, and let the manager count us out and free us later. */
static void finish(Connection *c, int error) {
        if (c->finished)
                return;
        c->finished = true;
        if (error < 0)
                c->peer.error = (int16_t) error;
        connection_done(c);
        manager_remove_peer(c->peer.manager, &c->peer);
}

static int socket_error(int fd) {
        int error = 0;
        socklen_t n = sizeof(error);

        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &n) < 0 || error == 0)
                return -ECONNRESET;
        return -error;
}

static void keep_input(Connection *c, const Pump *p) {
        size_t n = p->end - p->start;

        if (n == 0)
                return;
        c->input = malloc(n);
        if (!c->input) {
                finish(c, -ENOMEM);
                return;
        }
        memcpy(c->input, p->data + p->start, n);
        c->n_input = (uint16_t) n;
}

static uint64_t idle_timeout(Connection *c) {
        return c->peer.manager->options->idle_timeout;
}

static uint64_t partial_timeout(Connection *c) {
        return MIN(CONNECTION_PARTIAL_TIMEOUT_USEC, idle_timeout(c));
}

static void set_deadline(Connection *c, uint64_t usec) {
        Deadlines *t = c->peer.manager->deadlines;

        if (usec == 0)
                deadline_cancel(t, &c->deadline);
        else
                deadline_set(t, &c->deadline, usec);
}

/* The deadline a client has now: none while it streams, else its partial line's or its idle time. */
static uint64_t deadline(Connection *c) {
        return c->streaming ? 0 : c->partial ? partial_timeout(c) : idle_timeout(c);
}

/* Whether what is left of a line is blanks alone (spaces, tabs, a CR): it may end as an empty line, which
 * is no request, so it is no partial one either, lest the two in turn restart the idle time. */
static bool bytes_are_blank(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!IN_SET(s[i], ' ', '\t', '\r'))
                        return false;
        return true;
}

/* After requests were read: a partial line left starts its own deadline (once: more bytes of the same
 * line do not extend it, but a line begun after whole ones is a new one); a whole request restarts the
 * idle one. Whole lines left are not the client's slowness but ours (paused, held): they run the idle
 * time. */
static void update_deadline(Connection *c, const Pump *p) {
        bool partial = p->end > p->start && !memchr(p->data + p->start, '\n', p->end - p->start) &&
                        !bytes_are_blank(p->data + p->start, p->end - p->start);

        if (c->closing || c->finished || (p->lines == 0 && partial == c->partial))
                return;
        c->partial = partial;
        set_deadline(c, deadline(c));
}

static void dispatch_readable(Connection *c) {
        Pump pump = {};

        if (c->input) {
                memcpy(pump.data, c->input, c->n_input);
                pump.end = c->n_input;
                c->input = mfree(c->input);
                c->n_input = 0;
        }
        ops(c)->readable(c, &pump);
        update_deadline(c, &pump);
        if (!c->finished && !c->closing)
                keep_input(c, &pump);
}

/* Closing, all sent: shut our side down, and read what the peer still sends until it closes too (linger.h). */
static void linger(Connection *c) {
        if (!c->lingering) {
                c->lingering = true;
                linger_begin(c->fd);
                if (c->eof) {
                        finish(c, 0);
                        return;
                }
                set_deadline(c, LINGER_TIMEOUT_USEC);
        }
        if (linger_drain(c->fd))
                finish(c, 0);
}

static void on_io(PollerWatch *w, uint32_t revents) {
        Connection *c = container_of(w, Connection, watch);
        int fd = c->fd;
        int r;

        /* Gone earlier in this wakeup: the reaper has not run yet, and we have nothing more to do. */
        if (c->finished)
                return;

        if (revents & EPOLLERR) {
                finish(c, socket_error(fd));
                return;
        }
        if (c->output) {
                r = send_queue_flush(&c->output, fd);
                if (r < 0) {
                        finish(c, r);
                        return;
                }
        }

        if (c->closing) {
                if (!c->output)
                        linger(c);
                update_events(c);
                return;
        }

        /* Hung up while we do not read (at its end of input, paused, or held while a GET waits for a slow
         * sensor): nobody will ever take what we write, and a hang-up stays ready, level-triggered, for as
         * long as we watch the socket: the condition is consumed here, or the loop spins. */
        if ((revents & EPOLLHUP) && !(c->events & EPOLLIN)) {
                finish(c, -EPIPE);
                return;
        }

        /* Requests first (a STOP, a QUIT), then what the owner has more to write. */
        if (c->paused && send_queue_size(c->output) <= high_water(c) / 4) {
                c->paused = false;
                dispatch_readable(c);
        } else if (revents & (EPOLLIN | EPOLLHUP))
                dispatch_readable(c);
        if (c->notify_drained && !c->finished && !c->closing && send_queue_size(c->output) <= high_water(c) / 4) {
                c->notify_drained = false;
                ops(c)->drained(c);
        }
        update_events(c);
        return;
}

static void on_deadline(Deadline *d) {
        Connection *c = container_of(d, Connection, deadline);

        if (!c->closing) {
                ops(c)->expired(c, c->partial ? CONNECTION_PARTIAL : c->paused ? CONNECTION_UNREAD : CONNECTION_IDLE);
                return;
        }
        /* Lingering, the peer had our last line: that it did not close is its business. */
        finish(c, c->lingering ? 0 : -ETIMEDOUT);
}

int connection_start(Connection *c, Manager *m, int fd, const PeerAddress *address, const ConnectionOps *ops) {
        int r;

        assert(c);
        assert(m);
        assert(fd >= 0);
        assert(address);
        assert(ops);
        assert(ops->readable);
        assert(ops->expired);

        c->fd = fd;
        c->watch.handler = on_io;
        c->events = EPOLLIN;
        r = poller_add(m->poller, fd, c->events, &c->watch);
        if (r < 0) {
                c->fd = safe_close(c->fd);
                return r;
        }
        manager_add_peer(m, &c->peer, &ops->peer, address);
        /* A first request is due as any other. */
        c->deadline.handler = on_deadline;
        set_deadline(c, idle_timeout(c));
        return 0;
}

void connection_serialize(Connection *c, StateWriter *w) {
        size_t record;

        assert(c);
        assert(w);

        record = state_begin_record(w, STATE_CONNECTION);
        state_put_bytes(w, c->input, c->n_input);
        state_put_bytes(w, send_queue_data(c->output), send_queue_size(c->output));
        state_put_u8(w, c->eof);
        state_put_u8(w, c->paused);
        state_put_u8(w, c->closing);
        state_put_u8(w, c->partial);
        state_end_record(w, record);
}

int connection_restore(Connection *c, Manager *m, int fd, const ConnectionOps *ops, StateReader *r) {
        const void *input, *output;
        size_t n_input, n_output;
        PeerAddress address;
        bool closing;
        int k;

        assert(c);
        assert(m);
        assert(r);

        input = state_get_bytes(r, LINE_MAX_BYTES, &n_input);
        /* As much as a client may have queued: what a request's replies take past the high-water mark. */
        output = state_get_bytes(r, UINT32_MAX, &n_output);
        c->eof = state_get_bool(r);
        c->paused = state_get_bool(r);
        closing = state_get_bool(r);
        c->partial = state_get_bool(r);
        if (r->error < 0) {
                safe_close(fd);
                return r->error;
        }
        if (n_input > 0) {
                c->input = malloc(n_input);
                if (c->input)
                        memcpy(c->input, input, n_input);
                c->n_input = (uint16_t) n_input;
        }
        if ((n_input > 0 && !c->input) ||
                        (n_output > 0 && send_queue_append(&c->output, output, n_output, n_output) < 0)) {
                connection_done(c);
                safe_close(fd);
                return -ENOMEM;
        }
        k = peer_address_from_socket(fd, &address);
        if (k < 0) {
                connection_done(c);
                safe_close(fd);
                return k;
        }
        k = connection_start(c, m, fd, &address, ops);
        if (k < 0) {
                connection_done(c);
                return k;
        }
        /* Nothing is taken before the owner is back as it was: connection_resume(). */
        deadline_cancel(m->deadlines, &c->deadline);
        c->held = true;
        c->resume_closing = closing;
        update_events(c);
        return 0;
}

void connection_resume(Connection *c, bool held) {
        assert(c);

        if (c->finished)
                return;
        /* Its last replies go out, as they would have from the server before. */
        if (c->resume_closing) {
                c->held = false;
                connection_close(c, "closing at the restart");
                return;
        }
        set_deadline(c, deadline(c));
        if (!held)
                connection_release(c);
        update_events(c);
}

void connection_done(Connection *c) {
        assert(c);

        if (c->fd >= 0) {
                poller_remove(c->peer.manager->poller, c->fd);
                deadline_cancel(c->peer.manager->deadlines, &c->deadline);
        }
        c->fd = safe_close(c->fd);
        c->output = send_queue_free(c->output);
        c->input = mfree(c->input);
        c->n_input = 0;
}

int connection_read_line(Connection *c, Pump *p, const char **ret_line, size_t *ret_length) {
        assert(c);
        assert(p);
        assert(ret_line);
        assert(ret_length);

        for (;;) {
                size_t length;
                ssize_t n;
                int r;

                if (c->closing || c->finished || c->held)
                        return 0;
                /* The flow-control rule: the replies to what we took still wait to be sent; take no more
                 * until they are down to the low-water mark. */
                if (send_queue_size(c->output) > high_water(c)) {
                        c->paused = true;
                        return 0;
                }

                r = line_next(p->data + p->start, p->end - p->start, &length);
                if (r < 0)
                        return r;
                if (r > 0) {
                        *ret_line = p->data + p->start;
                        *ret_length = length;
                        p->start += (size_t) r;
                        p->lines += !line_is_blank(*ret_line, length);
                        return 1;
                }

                if (c->eof) {
                        size_t left = p->end - p->start;

                        if (left == 0)
                                return -EPIPE;
                        /* The last line, without its "\n", as readline() has it. */
                        *ret_line = p->data + p->start;
                        *ret_length = left - (p->data[p->end - 1] == '\r');
                        p->start = p->end;
                        p->lines += !line_is_blank(*ret_line, *ret_length);
                        return 1;
                }

                /* No whole line: move the partial one to the front, and read after it. The buffer holds
                 * exactly one line at its longest, so a read either completes it or proves it too long. */
                memmove(p->data, p->data + p->start, p->end - p->start);
                p->end -= p->start;
                p->start = 0;
                if (p->reads >= READS_PER_WAKEUP)
                        return 0; /* EPOLLIN is level-triggered: we get our next turn */
                p->reads++;

                n = recv(c->fd, p->data + p->end, sizeof(p->data) - p->end, MSG_DONTWAIT);
                if (n < 0) {
                        if (errno != EAGAIN && errno != EINTR)
                                finish(c, -errno);
                        return 0;
                }
                if (n == 0)
                        c->eof = true;
                p->end += (size_t) n;
        }
}

bool connection_has_room(Connection *c, size_t n) {
        assert(c);
        /* Whatever its size, into an empty queue: else a tick larger than the buffer (STREAM * of a
         * thousand sensors) would never go to anyone. */
        return !c->finished && !c->closing && (!c->output || send_queue_size(c->output) + n <= high_water(c));
}

int connection_writev(Connection *c, const struct iovec *iov, size_t n_iov, size_t extra) {
        size_t n = 0, sent = 0;
        int r;

        assert(c);
        assert(iov || n_iov == 0);

        if (c->finished || c->closing)
                return -EPIPE;
        for (size_t i = 0; i < n_iov; i++)
                n += iov[i].iov_len;
        /* An empty queue takes any one write, as connection_has_room() says. */
        if (c->output && send_queue_size(c->output) + n > high_water(c) + extra)
                return -ENOBUFS;
        extra = MAX(extra, n);

        /* With nothing queued, the socket first: most writes never touch a queue. */
        if (!c->output) {
                struct msghdr msg = { .msg_iov = (struct iovec *) iov, .msg_iovlen = n_iov };
                ssize_t k = sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);

                if (k < 0 && errno != EAGAIN && errno != EINTR) {
                        r = -errno;
                        finish(c, r);
                        return r;
                }
                sent = k > 0 ? (size_t) k : 0;
                if (sent == n)
                        return 0;
        }

        /* What the socket did not take, queued in order; the room was checked above, so only memory can
         * fail here. */
        for (size_t i = 0; i < n_iov; i++) {
                size_t skip = MIN(sent, iov[i].iov_len);

                sent -= skip;
                r = send_queue_append(&c->output, (const char *) iov[i].iov_base + skip, iov[i].iov_len - skip,
                                high_water(c) + extra);
                if (r < 0) {
                        finish(c, r);
                        return r;
                }
        }
        update_events(c);
        return 0;
}

int connection_write(Connection *c, const void *data, size_t n, size_t extra) {
        struct iovec iov = { .iov_base = (void *) data, .iov_len = n };

        assert(data || n == 0);
        return connection_writev(c, &iov, 1, extra);
}

void connection_notify_drained(Connection *c) {
        assert(c);
        assert(ops(c)->drained);

        c->notify_drained = true;
        update_events(c);
}

void connection_hold(Connection *c) {
        assert(c);

        c->held = true;
        update_events(c);
}

void connection_release(Connection *c) {
        assert(c);

        if (!c->held)
                return;
        c->held = false;
        if (!c->finished && !c->closing) {
                dispatch_readable(c);
                update_events(c);
        }
}

void connection_close(Connection *c, const char *reason) {
        assert(c);
        assert(reason);

        if (c->closing || c->finished)
                return;
        c->closing = true;
        c->peer.reason = reason;

        set_deadline(c, CLOSE_TIMEOUT_USEC);
        if (!c->output)
                linger(c);
        update_events(c);
}

void connection_set_streaming(Connection *c, bool streaming) {
        assert(c);

        if (c->streaming == streaming)
                return;
        c->streaming = streaming;
        if (!c->closing && !c->finished)
                set_deadline(c, deadline(c));
}

void connection_abort(Connection *c, int error) {
        assert(c);
        assert(error < 0);
        finish(c, error);
}
