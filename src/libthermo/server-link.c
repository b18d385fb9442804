/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>

#include "address.h"
#include "backoff.h"
#include "offload.h"
#include "parse.h"
#include "server-link.h"
#include "text.h"

/* A reply line is 1023 bytes at most, with room to spare over the protocol's: a longer one is none. What one
 * recv() takes is many: a tick of dozens of sensors, in one call and one turn of the loop. */
#define LINK_LINE_MAX 1024
#define LINK_INPUT_SIZE (16 * 1024)

typedef enum LinkState {
        LINK_DOWN,              /* not started, closed, or failed and waiting for the owner */
        LINK_RESOLVING,
        LINK_CONNECTING,
        LINK_GREETING,
        LINK_UP,
        LINK_BACKING_OFF,
} LinkState;

struct ServerLink {
        ServerLinkConfig config;
        const ServerLinkOps *ops;
        void *userdata;
        sd_event *event;
        char destination[SOCKET_ADDRESS_STRING_MAX + NI_MAXHOST];

        Offload *resolving;          /* getaddrinfo(), off the loop */
        struct addrinfo *addresses;  /* from getaddrinfo(), or unix_address */
        struct addrinfo *next_address;
        struct addrinfo unix_address;
        SocketAddress unix_sockaddr;

        LinkState state;
        int fd;
        sd_event_source *io;
        sd_event_source *timer;
        char input[LINK_INPUT_SIZE];
        size_t in_len;
        uint64_t silence;       /* usec allowed between lines */
        uint64_t backoff;
        uint64_t greeted_at;    /* CLOCK_MONOTONIC of this connection's HELLO, 0 before it */

        uint64_t interval_ms;   /* from HELLO */
        char host[PROTOCOL_HOST_MAX + 1];
        uint64_t last_seq;
        bool unavailable;       /* a sensor was unavailable since the last reading: a gap after it is no news */
        bool connected_anew;    /* no reading yet on this connection: a lower seq is a restart */
};

int server_destination_parse(const char *s, char **ret_host, char **ret_port) {
        const char *colon = strrchr(s, ':'), *port = THERMO_PORT_DEFAULT;
        _cleanup_free_ char *host = NULL;
        uint64_t v;

        assert(s);
        assert(ret_host);
        assert(ret_port);

        if (s[0] == '[') {
                const char *close = strchr(s, ']');
                if (!close || (close[1] != '\0' && close[1] != ':') || close == s + 1)
                        return -EINVAL;
                host = strndup(s + 1, (size_t) (close - s - 1));
                if (close[1] == ':')
                        port = close + 2;
        } else if (colon && strchr(s, ':') == colon) {
                host = strndup(s, (size_t) (colon - s));
                port = colon + 1;
        } else
                host = strdup(s); /* a name, or an IPv6 address without a port */
        if (!host)
                return -ENOMEM;
        if (host[0] == '\0' || parse_uint64(port, 1, 65535, &v) < 0)
                return -EINVAL;

        *ret_port = strdup(port);
        if (!*ret_port)
                return -ENOMEM;
        *ret_host = TAKE_PTR(host);
        return 0;
}

static void disconnect(ServerLink *l) {
        /* A resolution under way ends in its thread, unheard. */
        l->resolving = offload_cancel(l->resolving);
        l->io = sd_event_source_disable_unref(l->io);
        l->fd = safe_close(l->fd);
        l->in_len = 0;
}

static void set_timer(ServerLink *l, uint64_t usec) {
        /* A span past the clock's end (centuries) is no bound. */
        if (sd_event_source_set_time_relative(l->timer, usec) < 0) {
                (void) sd_event_source_set_enabled(l->timer, SD_EVENT_OFF);
                return;
        }
        (void) sd_event_source_set_enabled(l->timer, SD_EVENT_ONESHOT);
}

void server_link_fail(ServerLink *l, int status, int error, const char *format, ...) {
        char message[512];
        va_list ap;

        assert(l);
        assert(format);

        errno = abs(error);
        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);

        disconnect(l);
        (void) sd_event_source_set_enabled(l->timer, SD_EVENT_OFF);
        l->state = LINK_DOWN;
        l->ops->failed(l, status, message);
}

uint64_t server_link_retry(ServerLink *l) {
        uint64_t now = 0;

        assert(l);

        /* From the shortest again after a connection that worked for a while; one that fails soon after its
         * HELLO (a line we take for no protocol's, at every connection) waits longer each time, as one that
         * is refused does, and its owner says so less and less often. */
        (void) sd_event_now(l->event, CLOCK_MONOTONIC, &now);
        if (l->greeted_at > 0 && now >= l->greeted_at + BACKOFF_MAX_USEC)
                l->backoff = 0;
        l->greeted_at = 0;
        l->backoff = backoff_next(l->backoff);
        l->state = LINK_BACKING_OFF;
        set_timer(l, l->backoff);
        return l->backoff;
}

void server_link_close(ServerLink *l) {
        assert(l);

        disconnect(l);
        (void) sd_event_source_set_enabled(l->timer, SD_EVENT_OFF);
        l->state = LINK_DOWN;
}

static int status_for_connect_error(int error) {
        return IN_SET(-error, ETIMEDOUT, EAGAIN, EINTR, ENOBUFS, ENOMEM) ? EX_TEMPFAIL : EX_UNAVAILABLE;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);

/* Tries the addresses in the order getaddrinfo() gave them, as other clients do. */
static void connect_next(ServerLink *l, int error) {
        while (l->next_address) {
                struct addrinfo *ai = l->next_address;
                int r;

                l->next_address = ai->ai_next;
                l->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                if (l->fd < 0) {
                        error = -errno;
                        continue;
                }
                if (connect(l->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
                        error = -errno;
                        l->fd = safe_close(l->fd);
                        continue;
                }
                r = sd_event_add_io(l->event, &l->io, l->fd, EPOLLOUT, on_io, l);
                if (r < 0) {
                        error = r;
                        l->fd = safe_close(l->fd);
                        continue;
                }
                l->state = LINK_CONNECTING;
                set_timer(l, l->config.timeout);
                return;
        }
        server_link_fail(l, status_for_connect_error(error), error, "Failed to connect to %s: %m", l->destination);
}

/* A getaddrinfo() of the link's host and port, in a thread of its own. */
typedef struct Resolution {
        char *host, *port;
        int error;              /* getaddrinfo()'s */
        int system_error;       /* errno, for EAI_SYSTEM */
        struct addrinfo *addresses;
} Resolution;

static void resolve(void *data) {
        Resolution *q = data;
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM };

        q->error = getaddrinfo(q->host, q->port, &hints, &q->addresses);
        q->system_error = errno;
}

static void resolution_free(void *data) {
        Resolution *q = data;

        if (q->addresses)
                freeaddrinfo(q->addresses);
        free(q->host);
        free(q->port);
        free(q);
}

static void resolved(void *data, void *userdata) {
        ServerLink *l = userdata;
        Resolution *q = data;

        l->resolving = NULL;
        (void) sd_event_source_set_enabled(l->timer, SD_EVENT_OFF);
        if (q->error != 0) {
                server_link_fail(l, q->error == EAI_AGAIN ? EX_TEMPFAIL : EX_UNAVAILABLE, -EHOSTUNREACH,
                                "Failed to resolve '%s': %s", l->config.host,
                                q->error == EAI_SYSTEM ? strerror(q->system_error) : gai_strerror(q->error));
                return;
        }
        l->addresses = TAKE_PTR(q->addresses);
        l->next_address = l->addresses;
        connect_next(l, -EHOSTUNREACH);
}

static const OffloadOps resolution_ops = {
        .work = resolve,
        .done = resolved,
        .free_data = resolution_free,
};

void server_link_start(ServerLink *l) {
        Resolution *q;
        int r;

        assert(l);

        if (l->config.unix_path) {
                l->next_address = l->addresses;
                connect_next(l, -ENOENT);
                return;
        }

        /* Resolved anew on every attempt: a name may point elsewhere by the time we retry. */
        if (l->addresses)
                freeaddrinfo(l->addresses);
        l->addresses = NULL;
        q = calloc(1, sizeof(*q));
        if (q) {
                *q = (Resolution) { .host = strdup(l->config.host), .port = strdup(l->config.port) };
                if (!q->host || !q->port) {
                        resolution_free(q);
                        q = NULL;
                }
        }
        r = q ? offload_start(l->event, &resolution_ops, q, l, &l->resolving) : -ENOMEM;
        if (r < 0) {
                if (q)
                        resolution_free(q);
                server_link_fail(l, EX_TEMPFAIL, r, "Failed to resolve '%s': %m", l->config.host);
                return;
        }
        /* A resolver that does not answer is a connection that is not made: the same time allowed. */
        l->state = LINK_RESOLVING;
        set_timer(l, l->config.timeout);
}

/* The one timer: the end of a backoff, of a connection attempt, or of the silence allowed. */
static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        ServerLink *l = userdata;

        switch (l->state) {
        case LINK_BACKING_OFF:
                server_link_start(l);
                break;
        case LINK_RESOLVING:
                server_link_fail(l, EX_TEMPFAIL, -ETIMEDOUT, "Failed to resolve '%s': no answer in time",
                                l->config.host);
                break;
        case LINK_CONNECTING:
                disconnect(l);
                connect_next(l, -ETIMEDOUT);
                break;
        case LINK_GREETING:
        case LINK_UP: {
                char span[64];

                server_link_fail(l, EX_TEMPFAIL, -ETIMEDOUT, "No word from %s for %s", l->destination,
                                format_timespan(span, sizeof(span), l->silence / USEC_PER_MSEC * USEC_PER_MSEC));
                break;
        }
        case LINK_DOWN:
                break;
        }
        return 0;
}

int server_link_send(ServerLink *l, const char *request, size_t n) {
        ssize_t k;

        assert(l);
        assert(request);

        if (l->fd < 0)
                return -ENOTCONN;
        k = send(l->fd, request, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k < 0)
                return -errno;
        if ((size_t) k != n)
                return -EAGAIN;
        return 0;
}

void server_link_set_silence(ServerLink *l, uint64_t usec) {
        assert(l);

        l->silence = usec;
        if (l->state == LINK_GREETING || l->state == LINK_UP)
                set_timer(l, usec);
}

static void handle_greeting(ServerLink *l, int r, const Reply *reply, const char *line) {
        if (r >= 0 && reply->type == REPLY_ERR) {
                server_link_fail(l, reply->error == 503 ? EX_TEMPFAIL : EX_PROTOCOL, -EBUSY, "%s refused us: %s",
                                l->destination, reply->text);
                return;
        }
        if (r < 0 || reply->type != REPLY_HELLO) {
                server_link_fail(l, EX_PROTOCOL, -EBADMSG, "%s did not greet us as a thermo server: %s", l->destination,
                                line);
                return;
        }

        l->interval_ms = reply->interval_ms;
        snprintf(l->host, sizeof(l->host), "%s", reply->host);
        (void) sd_event_now(l->event, CLOCK_MONOTONIC, &l->greeted_at);
        l->connected_anew = true;
        l->state = LINK_UP;
        l->ops->greeted(l, reply);
}

static void handle_line(ServerLink *l, char *line) {
        char copy[LINK_LINE_MAX];
        Reply reply;
        int r;

        /* Whatever the owner does with a line, it may show it on a terminal: text, or the end of it. */
        if (!text_is_printable(line)) {
                server_link_fail(l, EX_PROTOCOL, -EBADMSG, "%s sent a line that is not text: %s", l->destination,
                                text_escape(line, copy, sizeof(copy)));
                return;
        }
        /* Parsing splits the line: the owner gets it whole as well, for its messages (shorter than
         * LINK_LINE_MAX: handle_input() says so). */
        memcpy(copy, line, strlen(line) + 1);
        r = protocol_parse_reply(line, &reply);
        if (r == -EPROTONOSUPPORT) {
                server_link_fail(l, EX_PROTOCOL, r, "%s speaks another protocol: %s", l->destination, copy);
                return;
        }
        if (l->state == LINK_GREETING)
                handle_greeting(l, r, &reply, copy);
        else
                l->ops->line(l, r, &reply, copy);
}

static void handle_input(ServerLink *l) {
        ssize_t n;
        char *nl;

        n = recv(l->fd, l->input + l->in_len, sizeof(l->input) - l->in_len - 1, MSG_DONTWAIT);
        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return;
                server_link_fail(l, EX_TEMPFAIL, -errno, "Connection to %s lost: %m", l->destination);
                return;
        }
        if (n == 0) {
                server_link_fail(l, EX_TEMPFAIL, -ECONNRESET, "%s closed the connection", l->destination);
                return;
        }
        /* Only a whole line is a sign of life: a server that trickles a byte at a time gets no more time. */
        if (memchr(l->input + l->in_len, '\n', (size_t) n))
                set_timer(l, l->silence);
        l->in_len += (size_t) n;

        /* Every whole line, then what is left of one moved to the front, once. */
        for (size_t start = 0;;) {
                char *line = l->input + start;
                size_t length;

                nl = memchr(line, '\n', l->in_len - start);
                length = nl ? (size_t) (nl - line) : l->in_len - start;
                if (length >= LINK_LINE_MAX) {
                        server_link_fail(l, EX_PROTOCOL, -EMSGSIZE, "%s sent a line too long for the protocol",
                                        l->destination);
                        return;
                }
                if (!nl) {
                        l->in_len -= start;
                        memmove(l->input, line, l->in_len);
                        return;
                }
                *nl = '\0';
                if (length > 0 && line[length - 1] == '\r')
                        line[length - 1] = '\0';
                handle_line(l, line);
                /* Closed, or failed, by the owner or the line (and maybe made anew): the rest went with the
                 * connection. */
                if (l->fd < 0 || l->in_len < start + length + 1)
                        return;
                start += length + 1;
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ServerLink *l = userdata;

        if (l->state == LINK_CONNECTING) {
                int error = 0;
                socklen_t n = sizeof(error);

                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &n) < 0)
                        error = errno;
                if (error != 0) {
                        disconnect(l);
                        connect_next(l, -error);
                        return 0;
                }
                l->state = LINK_GREETING;
                l->silence = l->config.timeout;
                (void) sd_event_source_set_io_events(s, EPOLLIN);
                set_timer(l, l->silence);
                return 0;
        }

        handle_input(l);
        return 0;
}

bool server_link_tick(ServerLink *l, uint64_t seq, TickNews *ret_news) {
        TickNews news = {};
        bool new_tick;

        assert(l);
        assert(ret_news);

        new_tick = l->last_seq == 0 || seq != l->last_seq || l->connected_anew;
        /* A gap after a sensor was unavailable is the ticks it missed: said already. Compared without
         * adding to seq, which may be anywhere up to 2^64 - 1. */
        if (new_tick && l->last_seq > 0 && seq > l->last_seq && seq - l->last_seq > 1 && !l->unavailable)
                news = (TickNews) { .missed_first = l->last_seq + 1, .missed_last = seq - 1, .away = l->connected_anew };
        else if (new_tick && l->last_seq > 0 && (seq < l->last_seq || (l->connected_anew && seq <= l->last_seq)))
                news = (TickNews) { .restarted = seq };
        l->last_seq = seq;
        l->unavailable = false;
        l->connected_anew = false;
        *ret_news = news;
        return new_tick;
}

const char *tick_news_format(const TickNews *news, char *buf, size_t size) {
        uint64_t n;

        assert(news);
        assert(buf);

        if (news->restarted > 0) {
                snprintf(buf, size, "Readings are numbered from #%" PRIu64 " again: the server restarted.",
                                news->restarted);
                return buf;
        }
        n = news->missed_last - news->missed_first + 1;
        snprintf(buf, size, "Missed %" PRIu64 " reading%s (#%" PRIu64 " to #%" PRIu64 "): %s.", n, n == 1 ? "" : "s",
                        news->missed_first, news->missed_last,
                        news->away ? "taken while we were away, and held no more" : "they were skipped for us");
        return buf;
}

void server_link_note_resumed(ServerLink *l, uint64_t after) {
        assert(l);
        l->last_seq = after;
        l->connected_anew = true;
        l->unavailable = false;
}

void server_link_note_unavailable(ServerLink *l) {
        assert(l);
        l->unavailable = true;
}

void *server_link_get_userdata(ServerLink *l) {
        assert(l);
        return l->userdata;
}

const char *server_link_get_destination(ServerLink *l) {
        assert(l);
        return l->destination;
}

uint64_t server_link_stream_silence(ServerLink *l, uint64_t timeout) {
        uint64_t interval;

        assert(l);

        /* No server has a longer interval than the protocol's longest: one that says so gets no more time
         * (nor a sum that wraps). */
        interval = MIN(l->interval_ms, PROTOCOL_INTERVAL_MS_MAX) * USEC_PER_MSEC;
        return timeout > UINT64_MAX - interval ? UINT64_MAX : timeout + interval;
}

const char *server_link_get_host(ServerLink *l) {
        assert(l);
        return l->host[0] ? l->host : NULL;
}

int server_link_new(sd_event *e, const ServerLinkConfig *config, const ServerLinkOps *ops, void *userdata,
                ServerLink **ret) {
        _cleanup_(server_link_freep) ServerLink *l = NULL;
        int r;

        assert(e);
        assert(config);
        assert(config->unix_path || (config->host && config->port));
        assert(ops && ops->greeted && ops->line && ops->failed);
        assert(ret);

        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->config = *config;
        l->ops = ops;
        l->userdata = userdata;
        l->fd = -EBADF;
        l->event = sd_event_ref(e);

        if (config->unix_path) {
                r = socket_address_parse(config->unix_path, &l->unix_sockaddr);
                if (r < 0)
                        return r;
                if (l->unix_sockaddr.sa.sa_family != AF_UNIX)
                        return -EINVAL;
                l->unix_address = (struct addrinfo) {
                        .ai_family = AF_UNIX,
                        .ai_socktype = SOCK_STREAM,
                        .ai_addr = &l->unix_sockaddr.sa,
                        .ai_addrlen = l->unix_sockaddr.size,
                };
                l->addresses = &l->unix_address;
                snprintf(l->destination, sizeof(l->destination), "%s", config->unix_path);
        } else if (strchr(config->host, ':'))
                snprintf(l->destination, sizeof(l->destination), "[%s]:%s", config->host, config->port);
        else
                snprintf(l->destination, sizeof(l->destination), "%s:%s", config->host, config->port);

        r = sd_event_add_time_relative(e, &l->timer, CLOCK_MONOTONIC, config->timeout, 0, on_timer, l);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(l->timer, SD_EVENT_OFF);

        *ret = TAKE_PTR(l);
        return 0;
}

ServerLink *server_link_free(ServerLink *l) {
        if (!l)
                return NULL;
        disconnect(l);
        sd_event_source_disable_unref(l->timer);
        if (l->addresses && l->addresses != &l->unix_address)
                freeaddrinfo(l->addresses);
        sd_event_unref(l->event);
        free(l);
        return NULL;
}
