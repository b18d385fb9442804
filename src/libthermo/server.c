/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#include "linger.h"
#include "listen.h"
#include "log.h"
#include "parse.h"
#include "server.h"
#include "signals.h"

#define ACCEPT_BATCH 64                       /* connections taken per wakeup, so one busy port can't starve */
#define ACCEPT_RETRY_USEC (250 * USEC_PER_MSEC) /* pause after running out of fds */
#define SHUTDOWN_TIMEOUT_USEC (5 * USEC_PER_SEC) /* how long BYE may take to reach slow clients */
#define STATUS_INTERVAL_USEC USEC_PER_SEC     /* STATUS= at most this often for new readings */

typedef struct Listener {
        Server *server;
        int fd;
        sd_event_source *io;
        char *name;
        bool unlink_on_exit;
        SocketAddress address;
} Listener;

struct Server {
        const char *name;
        ServerOptions options;
        sd_event *event;
        Thermometer *thermometer;
        server_open_t open;

        Listener **listeners;   /* each on its own: their event sources point at them */
        size_t n_listeners;
        bool activated;         /* every listener came from systemd: we may exit on idle */

        Session *sessions;
        size_t n_sessions;

        sd_event_source *idle_timer;
        sd_event_source *accept_timer;
        sd_event_source *shutdown_timer;
        uint64_t started;
        uint64_t status_sent;
        bool stopping;
};

static uint64_t now_usec(Server *s) {
        uint64_t now;

        (void) sd_event_now(s->event, CLOCK_MONOTONIC, &now);
        return now;
}

static void update_status(Server *s, bool force) {
        const Reading *reading = thermometer_get_reading(s->thermometer);
        uint64_t now = now_usec(s);
        char value[32];

        if (s->stopping || (!force && now < s->status_sent + STATUS_INTERVAL_USEC))
                return;
        s->status_sent = now;

        if (!reading) {
                (void) sd_notifyf(false, "STATUS=%zu clients, no reading yet", s->n_sessions);
                return;
        }
        protocol_format_milli(value, sizeof(value), reading->millicelsius);
        (void) sd_notifyf(false, "STATUS=%zu clients, last reading %s °C (#%" PRIu64 ")", s->n_sessions, value,
                        reading->seq);
}

static void on_reading(Thermometer *t, void *userdata) {
        update_status(userdata, false);
}

int server_new(const char *name, ServerOptions *options, server_open_t open, Server **ret) {
        _cleanup_(server_freep) Server *s = NULL;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->name = name;
        s->open = open;
        s->options = *options;
        options->sensor = NULL;
        options->listen = NULL;
        options->n_listen = 0;

        r = sd_event_default(&s->event);
        if (r < 0)
                return r;
        r = thermometer_default(&s->thermometer);
        if (r < 0)
                return r;
        thermometer_set_sensor(s->thermometer, TAKE_PTR(s->options.sensor));
        thermometer_set_interval(s->thermometer, s->options.interval);
        thermometer_set_observer(s->thermometer, on_reading, s);
        s->started = now_usec(s);

        *ret = TAKE_PTR(s);
        return 0;
}

static void listener_close(Listener *l) {
        l->io = sd_event_source_disable_unref(l->io);
        l->fd = safe_close(l->fd);
        if (l->unlink_on_exit)
                (void) unlink(l->address.un.sun_path);
        l->unlink_on_exit = false;
}

Server *server_free(Server *s) {
        if (!s)
                return NULL;

        /* Sessions belong to their connection layer, which frees them with the event loop's sources. */
        for (size_t i = 0; i < s->n_listeners; i++) {
                listener_close(s->listeners[i]);
                free(s->listeners[i]->name);
                free(s->listeners[i]);
        }
        free(s->listeners);
        sd_event_source_disable_unref(s->idle_timer);
        sd_event_source_disable_unref(s->accept_timer);
        sd_event_source_disable_unref(s->shutdown_timer);
        if (s->thermometer)
                thermometer_set_observer(s->thermometer, NULL, NULL);
        thermometer_unref(s->thermometer);
        sd_event_unref(s->event);
        server_options_done(&s->options);
        free(s);
        return NULL;
}

sd_event *server_get_event(Server *s) {
        return s->event;
}

Thermometer *server_get_thermometer(Server *s) {
        return s->thermometer;
}

size_t server_get_buffer_limit(Server *s) {
        return (size_t) s->options.buffer_size;
}

size_t server_get_buffer_capacity(Server *s) {
        /* Requests are read only while the buffer is within the limit, and one request's replies are
         * shorter than this. */
        return (size_t) s->options.buffer_size + 2 * PROTOCOL_REPLY_MAX;
}

void server_get_info(Server *s, ServerInfo *ret) {
        *ret = (ServerInfo) {
                .server = s->name,
                .version = PROJECT_VERSION,
                .sensor = thermometer_get_sensor_description(s->thermometer),
                .interval_ms = thermometer_get_interval(s->thermometer) / USEC_PER_MSEC,
                .clients = s->n_sessions,
                .uptime_s = (now_usec(s) - s->started) / USEC_PER_SEC,
        };
}

static int on_idle(sd_event_source *source, uint64_t usec, void *userdata) {
        Server *s = userdata;

        /* systemd keeps the listening sockets: a client that connects from now on waits in their backlog
         * and starts us again. */
        log_info("No clients for %" PRIu64 "ms, exiting until the next connection.",
                        s->options.exit_idle / USEC_PER_MSEC);
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Exiting on idle.");
        s->stopping = true;
        return sd_event_exit(s->event, 0);
}

static void update_idle_timer(Server *s) {
        int r;

        if (!s->activated || s->options.exit_idle == 0 || s->stopping)
                return;

        if (s->n_sessions > 0) {
                (void) sd_event_source_set_enabled(s->idle_timer, SD_EVENT_OFF);
                return;
        }
        if (!s->idle_timer) {
                r = sd_event_add_time_relative(s->event, &s->idle_timer, CLOCK_MONOTONIC, s->options.exit_idle,
                                0, on_idle, s);
                if (r < 0)
                        log_warning_errno(r, "Failed to set up exit on idle, staying up: %m");
                return;
        }
        (void) sd_event_source_set_time_relative(s->idle_timer, s->options.exit_idle);
        (void) sd_event_source_set_enabled(s->idle_timer, SD_EVENT_ONESHOT);
}

void server_add_session(Server *s, Session *session) {
        char addr[SOCKET_ADDRESS_STRING_MAX + 16], clients[32];

        LIST_PREPEND(sessions, s->sessions, session);
        s->n_sessions++;

        snprintf(addr, sizeof(addr), "REMOTE_ADDR=%s", session->peer);
        snprintf(clients, sizeof(clients), "CLIENTS=%zu", s->n_sessions);
        log_struct(LOG_INFO, 0, THERMO_MESSAGE_CONNECTED, LOG_FIELDS(addr, clients),
                        "Connection from %s (%zu clients).", session->peer, s->n_sessions);
        update_idle_timer(s);
        update_status(s, true);
}

void server_remove_session(Server *s, Session *session, const char *reason) {
        char addr[SOCKET_ADDRESS_STRING_MAX + 16], clients[32], why[128];

        LIST_REMOVE(sessions, s->sessions, session);
        s->n_sessions--;

        snprintf(addr, sizeof(addr), "REMOTE_ADDR=%s", session->peer);
        snprintf(clients, sizeof(clients), "CLIENTS=%zu", s->n_sessions);
        snprintf(why, sizeof(why), "REASON=%s", reason);
        log_struct(LOG_INFO, 0, THERMO_MESSAGE_DISCONNECTED, LOG_FIELDS(addr, clients, why),
                        "Connection from %s closed: %s (%zu clients).", session->peer, reason, s->n_sessions);

        if (s->stopping && s->n_sessions == 0) {
                (void) sd_event_exit(s->event, 0);
                return;
        }
        update_idle_timer(s);
        update_status(s, true);
}

static void reject(Server *s, int fd, const char *peer) {
        static const char line[] = "ERR 503 too many clients\n";
        char addr[SOCKET_ADDRESS_STRING_MAX + 16];

        /* A new socket's send buffer is empty, so this short line fits without waiting. */
        (void) send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL);
        snprintf(addr, sizeof(addr), "REMOTE_ADDR=%s", peer);
        log_struct(LOG_WARNING, 0, THERMO_MESSAGE_REJECTED, LOG_FIELDS(addr),
                        "Refused connection from %s: already serving %zu clients.", peer, s->n_sessions);
        (void) linger_close(s->event, fd);
}

static void set_accepting(Server *s, bool on) {
        for (size_t i = 0; i < s->n_listeners; i++)
                if (s->listeners[i]->io)
                        (void) sd_event_source_set_enabled(s->listeners[i]->io, on ? SD_EVENT_ON : SD_EVENT_OFF);
}

static int on_accept_retry(sd_event_source *source, uint64_t usec, void *userdata) {
        Server *s = userdata;

        if (!s->stopping)
                set_accepting(s, true);
        return 0;
}

/* Out of fds or memory: the listening socket stays readable, so stop watching it for a moment rather
 * than spinning on accept(). */
static void pause_accepting(Server *s) {
        int r;

        set_accepting(s, false);
        if (!s->accept_timer) {
                r = sd_event_add_time_relative(s->event, &s->accept_timer, CLOCK_MONOTONIC, ACCEPT_RETRY_USEC, 0,
                                on_accept_retry, s);
                if (r < 0)
                        set_accepting(s, true);
                return;
        }
        (void) sd_event_source_set_time_relative(s->accept_timer, ACCEPT_RETRY_USEC);
        (void) sd_event_source_set_enabled(s->accept_timer, SD_EVENT_ONESHOT);
}

static bool accept_error_is_transient(int error) {
        /* accept(2): errors of the one connection that failed, not of the listening socket. */
        return IN_SET(error, ECONNABORTED, EPROTO, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH,
                        EOPNOTSUPP, ENETUNREACH, EPERM, EINTR);
}

static int on_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Listener *l = userdata;
        Server *s = l->server;

        for (int i = 0; i < ACCEPT_BATCH; i++) {
                char peer[SOCKET_ADDRESS_STRING_MAX];
                int cfd, r;

                cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno == EAGAIN)
                                return 0;
                        if (accept_error_is_transient(errno))
                                continue;
                        log_warning_errno(errno, "Failed to accept connection on %s: %m", l->name);
                        pause_accepting(s);
                        return 0;
                }

                socket_peer_format(cfd, peer, sizeof(peer));
                if (s->n_sessions >= s->options.max_clients) {
                        reject(s, cfd, peer);
                        continue;
                }
                r = s->open(s, cfd, peer);
                if (r < 0)
                        log_warning_errno(r, "Failed to set up connection from %s: %m", peer);
        }
        return 0;
}

static int add_listener(Server *s, int fd, const char *name, const SocketAddress *address) {
        Listener **p, *l;
        int r;

        p = realloc(s->listeners, (s->n_listeners + 1) * sizeof(*p));
        l = calloc(1, sizeof(*l));
        if (p)
                s->listeners = p;
        if (!p || !l) {
                free(l);
                safe_close(fd);
                return -ENOMEM;
        }
        p[s->n_listeners++] = l;
        *l = (Listener) { .server = s, .fd = fd };
        if (address) {
                l->address = *address;
                l->unlink_on_exit = address->sa.sa_family == AF_UNIX && address->un.sun_path[0] != '\0';
        }
        l->name = strdup(name);
        if (!l->name)
                return -ENOMEM;

        r = sd_event_add_io(s->event, &l->io, fd, EPOLLIN, on_accept, l);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(l->io, "listener");
        return 0;
}

static int open_listen_address(Server *s, const SocketAddress *a) {
        char name[SOCKET_ADDRESS_STRING_MAX];
        int fd, r;

        socket_address_format(a, name, sizeof(name));
        r = listen_open(a, &fd);
        if (r < 0)
                return log_error_errno(r, "Failed to listen on %s: %m", name);
        log_info("Listening on %s.", name);
        return add_listener(s, fd, name, a);
}

static int setup_listeners(Server *s) {
        _cleanup_free_ int *fds = NULL;
        char **names = NULL;
        int n, r = 0;

        n = listen_from_systemd(&fds, &names);
        if (n < 0)
                return log_error_errno(n, "Failed to take the sockets passed by systemd: %m");

        for (int i = 0; i < n; i++) {
                if (r >= 0) {
                        r = add_listener(s, fds[i], names[i], NULL);
                        if (r >= 0)
                                log_debug("Listening on socket %s passed by systemd.", names[i]);
                }
                free(names[i]);
        }
        free(names);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the sockets passed by systemd: %m");

        /* Exiting on idle is safe only when systemd holds every socket we listen on. */
        s->activated = n > 0 && s->options.n_listen == 0;

        for (size_t i = 0; i < s->options.n_listen; i++) {
                r = open_listen_address(s, &s->options.listen[i]);
                if (r < 0)
                        return r;
        }

        if (s->n_listeners == 0) {
                SocketAddress a;

                r = socket_address_parse(s->options.default_listen, &a);
                if (r < 0)
                        return log_error_errno(r, "Failed to parse default address %s: %m",
                                        s->options.default_listen);
                return open_listen_address(s, &a);
        }
        return 0;
}

static int on_shutdown_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        Server *s = userdata;

        log_warning("%zu clients did not take their BYE in time, closing anyway.", s->n_sessions);
        return sd_event_exit(s->event, 0);
}

static void server_shutdown(Server *s) {
        Session *i, *n;
        int r;

        if (s->stopping)
                return;
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Saying BYE to every client.");
        s->stopping = true;

        for (size_t k = 0; k < s->n_listeners; k++)
                listener_close(s->listeners[k]);
        (void) sd_event_source_set_enabled(s->idle_timer, SD_EVENT_OFF);

        LIST_FOREACH_SAFE(sessions, i, n, s->sessions)
                session_shutdown(i);

        if (s->n_sessions == 0) {
                (void) sd_event_exit(s->event, 0);
                return;
        }
        r = sd_event_add_time_relative(s->event, &s->shutdown_timer, CLOCK_MONOTONIC, SHUTDOWN_TIMEOUT_USEC, 0,
                        on_shutdown_timeout, s);
        if (r < 0)
                (void) sd_event_exit(s->event, 0);
}

static int on_signal(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        log_info("Received %s, saying BYE to %zu clients.", strsignal((int) si->ssi_signo),
                        ((Server *) userdata)->n_sessions);
        server_shutdown(userdata);
        return 0;
}

/* Each client is one fd: the default soft limit of 1024 would cap us well below --max-clients. */
static void raise_fd_limit(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
}

int server_run(Server *s) {
        char status[64];
        int r;

        raise_fd_limit();

        r = setup_listeners(s);
        if (r < 0)
                return r;

        r = signals_add_stop(s->event, on_signal, s);
        if (r < 0)
                return log_error_errno(r, "Failed to watch signals: %m");

        r = sd_event_set_watchdog(s->event, true);
        if (r < 0)
                return log_error_errno(r, "Failed to enable the watchdog: %m");

        snprintf(status, sizeof(status), "SENSOR=%s", thermometer_get_sensor_description(s->thermometer));
        log_struct(LOG_INFO, 0, THERMO_MESSAGE_STARTED, LOG_FIELDS(status),
                        "%s %s started: sensor %s, a reading every %" PRIu64 "ms%s.", s->name, PROJECT_VERSION,
                        thermometer_get_sensor_description(s->thermometer),
                        thermometer_get_interval(s->thermometer) / USEC_PER_MSEC,
                        s->activated ? ", socket-activated" : "");

        (void) sd_notify(false, "READY=1");
        update_status(s, true);
        update_idle_timer(s);

        r = sd_event_loop(s->event);
        log_struct(LOG_INFO, 0, THERMO_MESSAGE_STOPPED, NULL, "%s stopped.", s->name);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}
