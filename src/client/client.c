/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <systemd/sd-event.h>

#include "address.h"
#include "client.h"
#include "json.h"
#include "log.h"
#include "parse.h"
#include "plot.h"
#include "signals.h"
#include "terminal.h"

#define BACKOFF_MIN_USEC (500 * USEC_PER_MSEC)
#define BACKOFF_MAX_USEC (30 * USEC_PER_SEC)

typedef enum ClientState {
        STATE_CONNECTING,
        STATE_GREETING,
        STATE_LISTING,          /* SENSOR lines until END */
        STATE_RUNNING,
        STATE_ENDING,           /* all readings shown; END is on its way */
        STATE_BACKING_OFF,
} ClientState;

struct Client {
        const ClientOptions *options;
        sd_event *event;
        char destination[SOCKET_ADDRESS_STRING_MAX + NI_MAXHOST];

        struct addrinfo *addresses;  /* from getaddrinfo(), or unix_address */
        struct addrinfo *next_address;
        struct addrinfo unix_address;
        SocketAddress unix_sockaddr;

        ClientState state;
        int fd;
        sd_event_source *io;
        sd_event_source *timer;
        char input[1024];
        size_t in_len;

        uint64_t interval_ms;   /* from HELLO: how long silence is normal while streaming */
        uint64_t received;      /* ticks shown, over all connections */
        uint64_t last_seq;
        uint64_t answers;       /* --once: sensors answered on this connection */
        bool answered_all;      /* --once: every sensor asked for gave a reading */
        bool unavailable;       /* a sensor was unavailable since the last reading: a gap after it is no news */
        bool connected_anew;    /* no reading yet on this connection: a lower seq is a restart */
        uint64_t backoff;

        char **names;           /* the sensors asked for (--sensor), or every sensor (--all, from SENSORS) */
        char **sources;         /* --list: each one's source */
        size_t n_names;
        bool *failing;          /* per name, and one more for a line that names none */
        Output output;
        Plot *plot;
};

static void disconnect(Client *c) {
        c->io = sd_event_source_disable_unref(c->io);
        c->fd = safe_close(c->fd);
        c->in_len = 0;
}

static void set_timer(Client *c, uint64_t usec) {
        (void) sd_event_source_set_time_relative(c->timer, usec);
        (void) sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

/* How long the server may be silent before we give up on it. */
static uint64_t silence_allowed(Client *c) {
        if (c->state == STATE_RUNNING && !c->options->once)
                return c->options->timeout + c->interval_ms * USEC_PER_MSEC;
        return c->options->timeout;
}

static int finish(Client *c, int status) {
        disconnect(c);
        /* Give the terminal back before anything else is said on it. */
        c->plot = plot_free(c->plot);
        return sd_event_exit(c->event, status);
}

/* The connection failed or ended early: try again later with --retry unless retrying cannot help,
 * else exit with status. error is a negative errno for %m in the message. */
_printf_(4, 5) static int fail(Client *c, int status, int error, const char *format, ...) {
        char message[512];
        va_list ap;

        errno = abs(error);
        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);

        disconnect(c);
        if (!c->options->retry || status == EX_PROTOCOL) {
                c->plot = plot_free(c->plot);
                log_error("%s", message);
                (void) sd_event_exit(c->event, status);
                return -abs(error);
        }

        c->backoff = c->backoff == 0 ? BACKOFF_MIN_USEC : MIN(c->backoff * 2, BACKOFF_MAX_USEC);
        log_notice("%s; reconnecting in %" PRIu64 ".%us.", message, c->backoff / USEC_PER_SEC,
                        (unsigned) (c->backoff % USEC_PER_SEC / 100000));
        c->state = STATE_BACKING_OFF;
        set_timer(c, c->backoff);
        return -abs(error);
}

static int status_for_connect_error(int error) {
        return IN_SET(-error, ETIMEDOUT, EAGAIN, EINTR, ENOBUFS, ENOMEM) ? EX_TEMPFAIL : EX_UNAVAILABLE;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);

/* Tries the addresses in the order getaddrinfo() gave them, as other clients do. */
static void connect_next(Client *c, int error) {
        while (c->next_address) {
                struct addrinfo *ai = c->next_address;
                int r;

                c->next_address = ai->ai_next;
                c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                if (c->fd < 0) {
                        error = -errno;
                        continue;
                }
                if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
                        error = -errno;
                        c->fd = safe_close(c->fd);
                        continue;
                }
                r = sd_event_add_io(c->event, &c->io, c->fd, EPOLLOUT, on_io, c);
                if (r < 0) {
                        error = r;
                        c->fd = safe_close(c->fd);
                        continue;
                }
                c->state = STATE_CONNECTING;
                set_timer(c, c->options->timeout);
                return;
        }
        fail(c, status_for_connect_error(error), error, "Failed to connect to %s: %m", c->destination);
}

static int start_attempt(Client *c) {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
        int r;

        if (c->options->unix_path) {
                c->next_address = c->addresses;
                connect_next(c, -ENOENT);
                return 0;
        }

        /* Resolved anew on every attempt: a name may point elsewhere by the time we retry. */
        if (c->addresses)
                freeaddrinfo(c->addresses);
        c->addresses = NULL;
        r = getaddrinfo(c->options->host, c->options->port, &hints, &c->addresses);
        if (r != 0) {
                fail(c, r == EAI_AGAIN ? EX_TEMPFAIL : EX_UNAVAILABLE, -EHOSTUNREACH,
                                "Failed to resolve '%s': %s", c->options->host,
                                r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
                return 0;
        }
        c->next_address = c->addresses;
        connect_next(c, -EHOSTUNREACH);
        return 0;
}

/* The one timer: the end of a backoff, or of the silence we allow in the current state. */
static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Client *c = userdata;

        if (c->state == STATE_BACKING_OFF)
                return start_attempt(c);
        if (c->state == STATE_ENDING)
                return finish(c, EX_OK);
        if (c->state == STATE_CONNECTING) {
                disconnect(c);
                connect_next(c, -ETIMEDOUT);
                return 0;
        }
        fail(c, EX_TEMPFAIL, -ETIMEDOUT, "No word from %s for %" PRIu64 "ms", c->destination,
                        silence_allowed(c) / USEC_PER_MSEC);
        return 0;
}

static int send_request(Client *c) {
        const ClientOptions *o = c->options;
        char request[2048] = "";
        int n = 0;

        /* With --all, the names first: for the columns of the text and the lines of the plot. */
        if (o->list || (o->all && c->n_names == 0))
                n += snprintf(request + n, sizeof(request) - n, "SENSORS\n");
        if (o->list)
                ;
        else if (o->once && o->n_sensors > 0)
                for (size_t i = 0; i < o->n_sensors; i++)
                        n += snprintf(request + n, sizeof(request) - n, "GET %s\n", o->sensors[i]);
        else if (o->once)
                n += snprintf(request + n, sizeof(request) - n, "GET%s\n", o->all ? " *" : "");
        else {
                n += snprintf(request + n, sizeof(request) - n, "STREAM");
                if (o->count > 0)
                        /* After a reconnect, ask only for what is still missing. */
                        n += snprintf(request + n, sizeof(request) - n, " %" PRIu64, o->count - c->received);
                if (o->all)
                        n += snprintf(request + n, sizeof(request) - n, " *");
                for (size_t i = 0; i < o->n_sensors; i++)
                        n += snprintf(request + n, sizeof(request) - n, " %s", o->sensors[i]);
                n += snprintf(request + n, sizeof(request) - n, "\n");
        }

        /* A request is a few bytes on a fresh connection: the socket buffer takes it whole. */
        if (send(c->fd, request, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
                return -errno ?: -EIO;
        log_debug("Sent %.*s", n - 1, request);
        return 0;
}

/* Where a sensor's failure is kept: its place among the names, or the last for one we did not name. */
static size_t failing_index(Client *c, const char *name) {
        for (size_t i = 0; name && i < c->n_names; i++)
                if (strcmp(c->names[i], name) == 0)
                        return i;
        return c->n_names;
}

/* "localhost:8888" or "localhost:8888's sensor cpu", for what is said about a sensor. */
static void describe(Client *c, const char *name, char *buf, size_t size) {
        if (name)
                snprintf(buf, size, "%s's sensor %s", c->destination, name);
        else
                snprintf(buf, size, "%s", c->destination);
}

/* --once: every sensor asked for has answered. */
static int once_done(Client *c) {
        if (!c->answered_all)
                return fail(c, EX_TEMPFAIL, -ENODATA, "%s has no reading of every sensor asked for", c->destination);
        return finish(c, EX_OK);
}

static int handle_reading(Client *c, const Reading *r) {
        size_t k = failing_index(c, r->sensor);
        bool new_tick = c->last_seq == 0 || r->seq != c->last_seq || c->connected_anew;
        char who[sizeof(c->destination) + 64];

        if (new_tick) {
                /* A gap after a sensor was unavailable is the ticks it missed: said already. */
                if (c->last_seq > 0 && r->seq > c->last_seq + 1 && !c->unavailable)
                        log_warning("Missed %" PRIu64 " readings (#%" PRIu64 " to #%" PRIu64 "): they were skipped for us.",
                                        r->seq - c->last_seq - 1, c->last_seq + 1, r->seq - 1);
                else if (c->last_seq > 0 && (r->seq < c->last_seq || (c->connected_anew && r->seq <= c->last_seq)))
                        log_notice("Readings are numbered from #%" PRIu64 " again: the server restarted.", r->seq);
                if (c->options->count > 0 && c->received >= c->options->count)
                        /* The server ends after as many ticks as we asked for: this is none of ours. */
                        return finish(c, EX_OK);
                c->received++;
        }
        c->last_seq = r->seq;
        c->unavailable = false;
        c->connected_anew = false;

        if (c->failing[k]) {
                describe(c, r->sensor, who, sizeof(who));
                log_notice("%s gives readings again.", who);
        }
        c->failing[k] = false;

        if (c->plot)
                plot_add(c->plot, r);
        else
                output_reading(&c->output, r);
        if (c->options->once && !c->options->all && ++c->answers >= MAX(c->options->n_sensors, (size_t) 1))
                return once_done(c);
        if (new_tick && c->options->count > 0 && c->received >= c->options->count) {
                /* Wait for END (the rest of this tick's lines come first), so that the server sees us leave in
                 * good order rather than a reset. */
                c->state = STATE_ENDING;
                set_timer(c, c->options->timeout);
        }
        return 0;
}

static int handle_unavailable(Client *c, const Reply *reply) {
        size_t k = failing_index(c, reply->reading.sensor);
        char who[sizeof(c->destination) + 64];

        describe(c, reply->reading.sensor, who, sizeof(who));
        c->unavailable = true;
        if (c->options->once && !c->options->all && c->options->n_sensors <= 1)
                return fail(c, EX_TEMPFAIL, -ENODATA, "%s has no reading: %s", who, reply->text);
        if (!c->failing[k])
                log_warning("%s has no reading: %s", who, reply->text);
        c->failing[k] = true;
        if (c->options->once) {
                c->answered_all = false;
                if (!c->options->all && ++c->answers >= c->options->n_sensors)
                        return once_done(c);
        }
        return 0;
}

/* Keeps a name (and its source, for --list) from a SENSOR line. */
static int add_name(Client *c, const char *name, const char *source) {
        char **names, **sources;
        bool *failing;

        names = reallocarray(c->names, c->n_names + 1, sizeof(char *));
        if (names)
                c->names = names;
        sources = reallocarray(c->sources, c->n_names + 1, sizeof(char *));
        if (sources)
                c->sources = sources;
        failing = reallocarray(c->failing, c->n_names + 2, sizeof(bool));
        if (failing)
                c->failing = failing;
        if (!names || !sources || !failing)
                return -ENOMEM;
        c->names[c->n_names] = strdup(name);
        c->sources[c->n_names] = strdup(source);
        if (!c->names[c->n_names] || !c->sources[c->n_names]) {
                free(c->names[c->n_names]);
                free(c->sources[c->n_names]);
                return -ENOMEM;
        }
        c->n_names++;
        c->failing[c->n_names - 1] = c->failing[c->n_names] = false;
        return 0;
}

static int print_list(Client *c) {
        size_t width = strlen("NAME");

        for (size_t i = 0; i < c->n_names; i++)
                width = MAX(width, strlen(c->names[i]));
        if (c->options->format == OUTPUT_JSON) {
                fputc('[', stdout);
                for (size_t i = 0; i < c->n_names; i++) {
                        fprintf(stdout, "%s{\"name\":\"%s\",\"source\":", i > 0 ? "," : "", c->names[i]);
                        json_write_string(stdout, c->sources[i]);
                        fputc('}', stdout);
                }
                fputs("]\n", stdout);
        } else {
                if (c->options->legend)
                        printf("%-*s %s\n", (int) width, "NAME", "SOURCE");
                for (size_t i = 0; i < c->n_names; i++)
                {
                        printf("%-*s ", (int) width, c->names[i]);
                        terminal_write_safe(stdout, c->sources[i]);
                        fputc('\n', stdout);
                }
        }
        fflush(stdout);
        return finish(c, EX_OK);
}

/* The names are known: the text's column for them, and the plot's lines. */
static int sensors_known(Client *c) {
        size_t width = 0;
        int r;

        if (c->n_names > 1)
                for (size_t i = 0; i < c->n_names; i++)
                        width = MAX(width, strlen(c->names[i]));
        c->output.name_width = width;
        if (c->options->plot && !c->plot) {
                char title[sizeof(c->destination) + 64];

                snprintf(title, sizeof(title), "thermo-client: %s", c->destination);
                r = plot_new(stdout, title, c->options->unit, (const char *const *) c->names,
                                client_options_named(c->options) ? c->n_names : 0, &c->plot);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int handle_line(Client *c, char *line) {
        Reply reply;
        int r;

        log_debug("Received %s", line);
        r = protocol_parse_reply(line, &reply);
        if (r == -EPROTONOSUPPORT)
                return fail(c, EX_PROTOCOL, r, "%s speaks another protocol: %s", c->destination, line);

        if (c->state == STATE_GREETING) {
                if (r >= 0 && reply.type == REPLY_ERR)
                        return fail(c, reply.error == 503 ? EX_TEMPFAIL : EX_PROTOCOL, -EBUSY,
                                        "%s refused us: %s", c->destination, reply.text);
                if (r < 0 || reply.type != REPLY_HELLO)
                        return fail(c, EX_PROTOCOL, -EBADMSG, "%s did not greet us as a thermo server: %s",
                                        c->destination, line);

                log_info("Connected to %s: %s", c->destination, reply.text);
                c->interval_ms = reply.interval_ms;
                c->backoff = 0;
                c->answers = 0;
                c->answered_all = true;
                c->connected_anew = true;
                c->state = c->options->list || (c->options->all && c->n_names == 0) ? STATE_LISTING : STATE_RUNNING;
                r = send_request(c);
                if (r < 0)
                        return fail(c, EX_TEMPFAIL, r, "Failed to send request to %s: %m", c->destination);
                return 0;
        }

        if (r < 0)
                return c->state == STATE_ENDING ? finish(c, EX_OK) :
                                                  fail(c, EX_PROTOCOL, r, "Unexpected line from %s: %s", c->destination, line);

        if (c->state == STATE_LISTING) {
                if (reply.type == REPLY_SENSOR) {
                        r = add_name(c, reply.reading.sensor, reply.text);
                        return r < 0 ? fail(c, EX_OSERR, r, "Failed to keep the sensors' names: %m") : 0;
                }
                if (reply.type != REPLY_END)
                        return fail(c, EX_PROTOCOL, -EBADMSG, "Unexpected line from %s: %s", c->destination, line);
                if (c->options->list)
                        return print_list(c);
                r = sensors_known(c);
                if (r < 0)
                        return fail(c, EX_OSERR, r, "Failed to set up the plot: %m");
                c->state = STATE_RUNNING;
                return 0;
        }

        switch (reply.type) {
        case REPLY_TEMP:
                return handle_reading(c, &reply.reading);
        case REPLY_ERR:
                if (reply.error == 404)
                        return fail(c, EX_USAGE, -ENOENT, "%s has no such sensor (thermo-client --list shows them)",
                                        c->destination);
                if (reply.error != 503)
                        return fail(c, EX_PROTOCOL, -EBADMSG, "%s says: %s", c->destination, line);
                return handle_unavailable(c, &reply);
        case REPLY_END:
                if (c->options->once)
                        return once_done(c);
                return finish(c, EX_OK);
        case REPLY_BYE:
                return fail(c, EX_TEMPFAIL, -ECONNRESET, "%s is going away (BYE)", c->destination);
        case REPLY_HELLO:
                return fail(c, EX_PROTOCOL, -EBADMSG, "%s greeted us twice", c->destination);
        default:
                return 0; /* OK STREAM and replies to requests we did not send */
        }
}

static int handle_input(Client *c) {
        ssize_t n;
        char *nl;

        n = recv(c->fd, c->input + c->in_len, sizeof(c->input) - c->in_len - 1, MSG_DONTWAIT);
        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return 0;
                if (c->state == STATE_ENDING)
                        return finish(c, EX_OK);
                return fail(c, EX_TEMPFAIL, -errno, "Connection to %s lost: %m", c->destination);
        }
        if (n == 0 && c->state == STATE_ENDING)
                return finish(c, EX_OK);
        if (n == 0)
                return fail(c, EX_TEMPFAIL, -ECONNRESET, "%s closed the connection", c->destination);
        c->in_len += (size_t) n;
        if (c->state != STATE_ENDING)
                set_timer(c, silence_allowed(c));

        while (c->fd >= 0 && (nl = memchr(c->input, '\n', c->in_len))) {
                size_t length = (size_t) (nl - c->input);

                *nl = '\0';
                if (length > 0 && c->input[length - 1] == '\r')
                        c->input[length - 1] = '\0';
                handle_line(c, c->input);
                if (c->fd < 0)
                        return 0;
                c->in_len -= length + 1;
                memmove(c->input, nl + 1, c->in_len);
        }
        if (c->in_len >= sizeof(c->input) - 1)
                return fail(c, EX_PROTOCOL, -EMSGSIZE, "%s sent a line too long for the protocol", c->destination);
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Client *c = userdata;

        if (c->state == STATE_CONNECTING) {
                int error = 0;
                socklen_t n = sizeof(error);

                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &n) < 0)
                        error = errno;
                if (error != 0) {
                        disconnect(c);
                        connect_next(c, -error);
                        return 0;
                }
                log_debug("Connected to %s, waiting for HELLO.", c->destination);
                c->state = STATE_GREETING;
                (void) sd_event_source_set_io_events(s, EPOLLIN);
                set_timer(c, c->options->timeout);
                return 0;
        }

        handle_input(c);
        return 0;
}

static int on_resize(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Client *c = userdata;

        if (c->plot)
                plot_redraw(c->plot);
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        /* Ctrl-C ends a stream the user watched: that is success, and every line shown is whole. */
        finish(userdata, EX_OK);
        return 0;
}

int client_new(const ClientOptions *options, Client **ret) {
        _cleanup_(client_freep) Client *c = NULL;
        int r;

        assert(options);
        assert(ret);

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->options = options;
        c->fd = -EBADF;
        c->output = (Output) {
                .f = stdout,
                .format = options->format,
                .unit = options->unit,
                .named = client_options_named(options),
                .header_done = !options->legend,
        };
        c->failing = calloc(1, sizeof(bool));
        if (!c->failing)
                return -ENOMEM;
        for (size_t i = 0; i < options->n_sensors; i++) {
                r = add_name(c, options->sensors[i], "");
                if (r < 0)
                        return r;
        }

        if (options->unix_path) {
                r = socket_address_parse(options->unix_path, &c->unix_sockaddr);
                if (r < 0 || c->unix_sockaddr.sa.sa_family != AF_UNIX)
                        return r < 0 ? r : -EINVAL;
                c->unix_address = (struct addrinfo) {
                        .ai_family = AF_UNIX,
                        .ai_socktype = SOCK_STREAM,
                        .ai_addr = &c->unix_sockaddr.sa,
                        .ai_addrlen = c->unix_sockaddr.size,
                };
                snprintf(c->destination, sizeof(c->destination), "%s", options->unix_path);
        } else if (strchr(options->host, ':'))
                snprintf(c->destination, sizeof(c->destination), "[%s]:%s", options->host, options->port);
        else
                snprintf(c->destination, sizeof(c->destination), "%s:%s", options->host, options->port);

        r = sd_event_default(&c->event);
        if (r < 0)
                return r;

        r = signals_add_stop(c->event, on_signal, c);
        if (r < 0)
                return r;

        r = sd_event_add_time_relative(c->event, &c->timer, CLOCK_MONOTONIC, options->timeout, 0, on_timer, c);
        if (r < 0)
                return r;

        if (options->plot) {
                sigset_t mask;

                sigemptyset(&mask);
                sigaddset(&mask, SIGWINCH);
                if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                        return -errno;
                r = sd_event_add_signal(c->event, NULL, SIGWINCH, on_resize, c);
                if (r < 0)
                        return r;
        }
        /* With --all, the names come from the server. */
        if (!options->all && !options->list) {
                r = sensors_known(c);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(c);
        return 0;
}

Client *client_free(Client *c) {
        if (!c)
                return NULL;
        disconnect(c);
        plot_free(c->plot);
        for (size_t i = 0; i < c->n_names; i++) {
                free(c->names[i]);
                free(c->sources[i]);
        }
        free(c->names);
        free(c->sources);
        free(c->failing);
        sd_event_source_disable_unref(c->timer);
        if (c->addresses && c->addresses != &c->unix_address)
                freeaddrinfo(c->addresses);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

int client_run(Client *c) {
        int r;

        assert(c);

        if (c->options->unix_path)
                c->addresses = &c->unix_address;
        r = start_attempt(c);
        if (r < 0)
                return r;
        return sd_event_loop(c->event);
}
