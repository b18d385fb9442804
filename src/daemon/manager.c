/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <systemd/sd-daemon.h>

#include "address-count.h"
#include "handover.h"
#include "linger.h"
#include "listen.h"
#include "log.h"
#include "manager.h"
#include "parse.h"
#include "sensor-list.h"
#include "signals.h"

#define ACCEPT_BATCH 64                          /* connections taken per wakeup, so one busy port can't starve */
#define ACCEPT_RETRY_USEC (250 * USEC_PER_MSEC)    /* pause after running out of fds */
#define SHUTDOWN_TIMEOUT_USEC (5 * USEC_PER_SEC)   /* how long goodbyes may take to reach slow clients */
#define STATUS_INTERVAL_USEC USEC_PER_SEC          /* STATUS= at most this often */
#define SHORT_CONNECTIONS_SUMMARY_USEC (3600 * USEC_PER_SEC) /* how often short connections are summed up */
#define REFUSALS_LOG_USEC USEC_PER_SEC             /* refusals are logged once in this at most, then counted */
#define ANNOUNCED_PER_SECOND 10                    /* streaming clients logged one by one; past it, counted */
/* The fds kept from clients, whatever --max-clients says: for the sensors' files (each reading opens one),
 * the journal, timers, threads; so that a flood of connections never costs the readings. */
#define FD_RESERVE 64
/* Refused sockets that linger for their ERR line to be read; past this many, they are closed at once. */
#define LINGER_MAX 256
/* The fewest clients at once that make a crowd whose going gives memory back (malloc_trim()). */
#define TRIM_CROWD_MIN 16

typedef struct Listener {
        Manager *manager;
        FrontEnd *front_end;
        int fd;
        sd_event_source *io;
        char *name;
        SocketAddress address;
        bool unlink_on_exit;
} Listener;


static uint64_t now_usec(Manager *m) {
        uint64_t now;

        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        return now;
}

#define STATUS_SENSORS_MAX 4 /* sensors STATUS= names; then how many more there are */

/* "STATUS=3 clients, last reading #42: cpu 92.000 °C (crit), room 21.375 °C": the sensors not at ok
 * first, where systemctl status shows them before any other. */
static void send_status(Manager *m) {
        const Reading *readings = thermometer_peek_readings(m->thermometer);
        size_t n = thermometer_get_n_sensors(m->thermometer), at, shown = 0;
        char text[512];

        m->status_sent = now_usec(m);
        at = (size_t) snprintf(text, sizeof(text), "STATUS=%zu client%s, ", m->n_peers, m->n_peers == 1 ? "" : "s");
        if (!readings) {
                (void) sd_notifyf(false, "%sno reading yet", text);
                return;
        }
        at += (size_t) snprintf(text + at, sizeof(text) - at, "last reading #%" PRIu64 ":", readings[0].seq);
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < n && shown < STATUS_SENSORS_MAX && at < sizeof(text); i++) {
                        char value[48];

                        if ((readings[i].level != LEVEL_OK) != (pass == 0))
                                continue;
                        /* A sensor without a reading says so: never its last good value as if it were new. */
                        if (readings[i].error < 0)
                                snprintf(value, sizeof(value), "unavailable");
                        else {
                                size_t k = format_millidegrees(value, sizeof(value), readings[i].millicelsius);

                                snprintf(value + k, sizeof(value) - k, " °C");
                        }
                        if (readings[i].level != LEVEL_OK) {
                                size_t k = strlen(value);

                                snprintf(value + k, sizeof(value) - k, " (%s)", level_to_string(readings[i].level));
                        }
                        at += (size_t) snprintf(text + at, sizeof(text) - at, "%s %s %s", shown > 0 ? "," : "",
                                        readings[i].sensor, value);
                        shown++;
                }
        if (n > STATUS_SENSORS_MAX && at < sizeof(text))
                snprintf(text + at, sizeof(text) - at, " (+%zu more)", n - STATUS_SENSORS_MAX);
        (void) sd_notify(false, text);
}

static int on_status_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        send_status(userdata);
        return 0;
}

/* Something STATUS= shows changed: say so now, or at the end of the current second, so that a busy server
 * does not write to systemd at every connection. */
static void status_changed(Manager *m) {
        uint64_t due = m->status_sent + STATUS_INTERVAL_USEC;
        int r;

        if (m->stopping)
                return;
        if (now_usec(m) >= due) {
                send_status(m);
                return;
        }
        if (!m->status_timer) {
                r = sd_event_add_time(m->event, &m->status_timer, CLOCK_MONOTONIC, due, 0, on_status_timer, m);
                if (r < 0)
                        return;
        } else
                (void) sd_event_source_set_time(m->status_timer, due);
        (void) sd_event_source_set_enabled(m->status_timer, SD_EVENT_ONESHOT);
}

static void on_tick(ThermometerObserver *o, const Reading *readings, size_t n) {
        status_changed(container_of(o, Manager, observer));
}

static int on_reap(sd_event_source *s, void *userdata) {
        Manager *m = userdata;

        while (m->removed) {
                Peer *p = m->removed;

                LIST_REMOVE(peers, m->removed, p);
                p->ops->free(p);
        }
        /* A crowd gone, down to a quarter of its peak: what its memory took goes back to the system, not
         * only to malloc's free lists, though a few clients stay. A few clients that come and go are no
         * crowd: trimming at each of their ends would cost more than the little they freed. */
        if (m->peers_peak >= TRIM_CROWD_MIN && m->n_peers <= m->peers_peak / 4) {
                (void) malloc_trim(0);
                m->peers_peak = m->n_peers;
        }
        return 0;
}

/* The clients that came and went without a line each: once an hour at most, and at the end. */
static void say_short_connections(Manager *m) {
        char span[64], field[64];

        if (m->short_connections == 0)
                return;
        snprintf(field, sizeof(field), "CONNECTIONS=%" PRIu64, m->short_connections);
        /* A span under a millisecond (a stop right after a scrape) is said as one. */
        log_struct(LOG_INFO, 0, THERMO_MESSAGE_SHORT_CONNECTIONS, LOG_FIELDS(field),
                        "%" PRIu64 " connection%s (requests, scrapes; streams past %d a second) in the last %s, "
                        "not logged one by one; --log-level=debug shows each.",
                        m->short_connections, m->short_connections == 1 ? "" : "s", ANNOUNCED_PER_SECOND,
                        format_timespan_ms(span, sizeof(span), MAX(now_usec(m) - m->short_since, USEC_PER_MSEC)));
        m->short_connections = 0;
}

static int on_summary(sd_event_source *s, uint64_t usec, void *userdata) {
        say_short_connections(userdata);
        return 0;
}

static void on_lingers_drained(Lingers *l);

int manager_new(const ServerOptions *options, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        assert(options);
        assert(ret);

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->options = options;

        r = sd_event_default(&m->event);
        if (r < 0)
                return r;
        r = poller_new(m->event, SD_EVENT_PRIORITY_NORMAL, &m->poller);
        if (r < 0)
                return r;
        r = deadlines_new(m->event, &m->deadlines);
        if (r < 0)
                return r;
        r = address_count_new(&m->per_address);
        if (r < 0)
                return r;
        m->client_cap = options->max_clients;
        m->lingers = (Lingers) { .poller = m->poller, .deadlines = m->deadlines, .drained = on_lingers_drained };
        r = thermometer_default(&m->thermometer);
        if (r < 0)
                return r;
        m->observer.tick = on_tick;
        thermometer_add_observer(m->thermometer, &m->observer);

        /* Made now, enabled when a client goes: freeing a client then needs no memory, and never happens
         * inside a callback of the client's own. */
        r = sd_event_add_defer(m->event, &m->reaper, on_reap, m);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(m->reaper, SD_EVENT_OFF);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(m->reaper, "reaper");
        r = sd_event_add_time_relative(m->event, &m->summary_timer, CLOCK_MONOTONIC, SHORT_CONNECTIONS_SUMMARY_USEC,
                        USEC_PER_SEC, on_summary, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(m->summary_timer, SD_EVENT_OFF);

        m->started = now_usec(m);
        *ret = TAKE_PTR(m);
        return 0;
}

static void listener_close(Listener *l) {
        l->io = sd_event_source_disable_unref(l->io);
        l->fd = safe_close(l->fd);
        if (l->unlink_on_exit)
                (void) unlink(l->address.un.sun_path);
        l->unlink_on_exit = false;
}

static Listener *listener_free(Listener *l) {
        if (!l)
                return NULL;
        listener_close(l);
        free(l->name);
        free(l);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Listener *, listener_free);

static void free_peers(Peer **list) {
        while (*list) {
                Peer *p = *list;

                LIST_REMOVE(peers, *list, p);
                p->ops->free(p);
        }
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;

        for (size_t i = 0; i < m->n_listeners; i++)
                listener_free(m->listeners[i]);
        free(m->listeners);
        /* Clients first: they belong to front ends. */
        free_peers(&m->peers);
        free_peers(&m->removed);
        lingers_done(&m->lingers);
        for (size_t i = 0; i < m->n_front_ends; i++)
                m->front_ends[i]->ops->free(m->front_ends[i]);
        free(m->front_ends);

        address_count_free(m->per_address);
        sd_event_source_disable_unref(m->reaper);
        sd_event_source_disable_unref(m->summary_timer);
        sd_event_source_disable_unref(m->rescan_timer);
        sd_event_source_disable_unref(m->keep_timer);
        sd_event_source_disable_unref(m->idle_timer);
        sd_event_source_disable_unref(m->accept_timer);
        sd_event_source_disable_unref(m->status_timer);
        sd_event_source_disable_unref(m->shutdown_timer);
        sd_event_source_disable_unref(m->handover);
        deadlines_free(m->deadlines);
        poller_free(m->poller);
        if (m->thermometer)
                thermometer_remove_observer(m->thermometer, &m->observer);
        thermometer_unref(m->thermometer);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

int manager_add_front_end(Manager *m, FrontEnd *fe) {
        FrontEnd **p;

        assert(m);
        assert(fe);
        assert(fe->ops && fe->name);

        p = reallocarray(m->front_ends, m->n_front_ends + 1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        fe->manager = m;
        p[m->n_front_ends++] = fe;
        m->front_ends = p;
        return 0;
}

uint64_t manager_get_uptime_usec(Manager *m) {
        assert(m);
        return now_usec(m) - m->started;
}

static int on_idle(sd_event_source *source, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        char span[64];

        /* systemd keeps the listening sockets: a client that connects from now on waits in their backlog
         * and starts us again. */
        log_info("No clients for %s, exiting until the next connection.",
                        format_timespan(span, sizeof(span), m->options->exit_idle));
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Exiting on idle.");
        m->stopping = true;
        return sd_event_exit(m->event, 0);
}

/* No client, and no refused one still reading why: what exiting waits for, on idle or when told to. */
static bool all_gone(Manager *m) {
        return m->n_peers == 0 && m->lingers.n == 0;
}

static void update_idle_timer(Manager *m) {
        int r;

        if (!m->activated || m->options->exit_idle == 0 || m->stopping)
                return;

        /* Readings taken for a client that may come back: the idle time starts after. */
        if (!all_gone(m) || m->keeping) {
                (void) sd_event_source_set_enabled(m->idle_timer, SD_EVENT_OFF);
                return;
        }
        if (!m->idle_timer) {
                r = sd_event_add_time_relative(m->event, &m->idle_timer, CLOCK_MONOTONIC, m->options->exit_idle, 0,
                                on_idle, m);
                if (r < 0)
                        log_warning_errno(r, "Failed to set up exit on idle, staying up: %m");
                return;
        }
        (void) sd_event_source_set_time_relative(m->idle_timer, m->options->exit_idle);
        (void) sd_event_source_set_enabled(m->idle_timer, SD_EVENT_ONESHOT);
}

static int on_keep_over(sd_event_source *source, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        m->keeping = false;
        thermometer_set_active(m->thermometer, &m->observer, false);
        update_idle_timer(m);
        return 0;
}

void manager_keep_ticking(Manager *m) {
        assert(m);
        manager_keep_ticking_for(m, m->options->history);
}

void manager_keep_ticking_for(Manager *m, uint64_t usec) {
        int r;

        assert(m);

        if (usec == 0 || m->stopping)
                return;
        if (!m->keep_timer) {
                r = sd_event_add_time_relative(m->event, &m->keep_timer, CLOCK_MONOTONIC, usec, 0, on_keep_over, m);
                if (r < 0) {
                        log_warning_errno(r, "Failed to keep taking readings for a client that lost its connection: %m");
                        return;
                }
        }
        (void) sd_event_source_set_time_relative(m->keep_timer, usec);
        (void) sd_event_source_set_enabled(m->keep_timer, SD_EVENT_ONESHOT);
        m->keeping = true;
        thermometer_set_active(m->thermometer, &m->observer, true);
        update_idle_timer(m);
}

static void on_lingers_drained(Lingers *l) {
        Manager *m = container_of(l, Manager, lingers);

        if (m->stopping && all_gone(m))
                (void) sd_event_exit(m->event, 0);
        else
                update_idle_timer(m);
}

static void log_connected(Manager *m, Peer *p, int level) {
        char addr[PEER_ADDRESS_STRING_MAX], addr_field[PEER_ADDRESS_STRING_MAX + 16], clients[32];

        peer_address_format(&p->address, addr, sizeof(addr));
        snprintf(addr_field, sizeof(addr_field), "REMOTE_ADDR=%s", addr);
        snprintf(clients, sizeof(clients), "CLIENTS=%zu", m->n_peers);
        log_struct(level, 0, THERMO_MESSAGE_CONNECTED, LOG_FIELDS(addr_field, clients),
                        "Connection from %s (%zu client%s).", addr, m->n_peers, m->n_peers == 1 ? "" : "s");
}

void manager_add_peer(Manager *m, Peer *p, const PeerOps *ops, const PeerAddress *address) {
        assert(m);
        assert(p);
        assert(ops && ops->shutdown && ops->free);
        assert(address);

        p->manager = m;
        p->ops = ops;
        p->address = *address;
        LIST_PREPEND(peers, m->peers, p);
        m->n_peers++;
        m->peers_peak = MAX(m->peers_peak, m->n_peers);
        if (address_count_add(m->per_address, &p->address) < 0)
                log_oom(); /* that one connection goes uncounted: its address may have one more */

        log_connected(m, p, LOG_DEBUG);
        update_idle_timer(m);
        status_changed(m);
}

void manager_announce_peer(Manager *m, Peer *p) {
        uint64_t now;

        assert(m);
        assert(p);

        if (p->announced || p->removed)
                return;
        /* A churn of streaming clients must not drown the journal either: past a few a second, they are
         * counted with the short ones. */
        now = now_usec(m);
        if (now >= m->announced_since + USEC_PER_SEC) {
                m->announced_since = now;
                m->n_announced = 0;
        }
        if (m->n_announced >= ANNOUNCED_PER_SECOND)
                return;
        m->n_announced++;
        p->announced = true;
        log_connected(m, p, LOG_INFO);
}

void manager_note_skipping(Manager *m, Peer *p) {
        char addr[PEER_ADDRESS_STRING_MAX], addr_field[PEER_ADDRESS_STRING_MAX + 16], size[32];

        assert(m);
        assert(p);

        peer_address_format(&p->address, addr, sizeof(addr));
        snprintf(addr_field, sizeof(addr_field), "REMOTE_ADDR=%s", addr);
        snprintf(size, sizeof(size), "%" PRIu64, m->options->buffer_size);
        log_struct(p->announced ? LOG_INFO : LOG_DEBUG, 0, NULL, LOG_FIELDS(addr_field),
                        "Readings are skipped for %s: it takes them more slowly than they come, and its buffer "
                        "(--buffer-size=%s bytes) is full. It sees gaps in the readings' numbers.", addr, size);
}

static void hand_over_when_ready(Manager *m);

void manager_remove_peer(Manager *m, Peer *p) {
        char addr[PEER_ADDRESS_STRING_MAX], addr_field[PEER_ADDRESS_STRING_MAX + 16], clients[32], why[128];
        const char *reason;
        int r;

        assert(m);
        assert(p);
        assert(!p->removed);

        LIST_REMOVE(peers, m->peers, p);
        m->n_peers--;
        address_count_remove(m->per_address, &p->address);
        p->removed = true;
        LIST_PREPEND(peers, m->removed, p);
        r = sd_event_source_set_enabled(m->reaper, SD_EVENT_ONESHOT);
        if (r < 0)
                /* It stays on the list: the next client that goes, or the end, frees it. */
                log_warning_errno(r, "Failed to schedule freeing a client: %m");

        reason = p->error < 0 ? strerror(-p->error) : p->reason ?: "connection lost";
        peer_address_format(&p->address, addr, sizeof(addr));
        snprintf(addr_field, sizeof(addr_field), "REMOTE_ADDR=%s", addr);
        snprintf(clients, sizeof(clients), "CLIENTS=%zu", m->n_peers);
        snprintf(why, sizeof(why), "REASON=%s", reason);
        log_struct(p->announced ? LOG_INFO : LOG_DEBUG, 0, THERMO_MESSAGE_DISCONNECTED,
                        LOG_FIELDS(addr_field, clients, why), "Connection from %s closed: %s (%zu client%s).", addr,
                        reason, m->n_peers, m->n_peers == 1 ? "" : "s");
        if (!p->announced) {
                if (m->short_connections++ == 0) {
                        m->short_since = now_usec(m);
                        (void) sd_event_source_set_time_relative(m->summary_timer, SHORT_CONNECTIONS_SUMMARY_USEC);
                        (void) sd_event_source_set_enabled(m->summary_timer, SD_EVENT_ONESHOT);
                }
        }

        if (m->handing_over) {
                hand_over_when_ready(m);
                return;
        }
        if (m->stopping && all_gone(m)) {
                (void) sd_event_exit(m->event, 0);
                return;
        }
        update_idle_timer(m);
        status_changed(m);
}

/* No room: the front end says so in a line, and the socket lingers until the peer has read it. The log
 * hears of one refusal a second at most, and of how many it did not hear of, so that a flood of
 * connections does not flood the journal past its rate limit and lose what matters. */
static void refuse(Manager *m, FrontEnd *fe, int fd, const PeerAddress *address, const char *why) {
        char addr[PEER_ADDRESS_STRING_MAX], addr_field[PEER_ADDRESS_STRING_MAX + 16], more[96] = "";
        uint64_t now = now_usec(m);

        fe->ops->refuse(fe, fd);
        /* Lingering takes an fd for a while: only while there are fds to spare. */
        if (m->lingers.n < LINGER_MAX && m->n_peers + m->lingers.n < m->client_cap) {
                (void) lingers_add(&m->lingers, fd);
                update_idle_timer(m);
        } else
                safe_close(fd);

        if (m->refusals_logged > 0 && now < m->refusals_logged + REFUSALS_LOG_USEC) {
                m->refusals_unlogged++;
                return;
        }
        if (m->refusals_unlogged > 0)
                snprintf(more, sizeof(more), " (and %" PRIu64 " more refused since the last such line)",
                                m->refusals_unlogged);
        m->refusals_logged = now;
        m->refusals_unlogged = 0;
        peer_address_format(address, addr, sizeof(addr));
        snprintf(addr_field, sizeof(addr_field), "REMOTE_ADDR=%s", addr);
        log_struct(LOG_WARNING, 0, THERMO_MESSAGE_REJECTED, LOG_FIELDS(addr_field), "Refused connection from %s: %s%s.",
                        addr, why, more);
}

static void set_accepting(Manager *m, bool on) {
        for (size_t i = 0; i < m->n_listeners; i++)
                if (m->listeners[i]->io)
                        (void) sd_event_source_set_enabled(m->listeners[i]->io, on ? SD_EVENT_ON : SD_EVENT_OFF);
}

static int on_accept_retry(sd_event_source *source, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        if (!m->stopping)
                set_accepting(m, true);
        return 0;
}

/* Out of fds or memory: the listening socket stays readable, so stop watching it for a moment rather
 * than spinning on accept(). */
static void pause_accepting(Manager *m) {
        int r;

        set_accepting(m, false);
        if (!m->accept_timer) {
                r = sd_event_add_time_relative(m->event, &m->accept_timer, CLOCK_MONOTONIC, ACCEPT_RETRY_USEC, 0,
                                on_accept_retry, m);
                if (r < 0)
                        set_accepting(m, true);
                return;
        }
        (void) sd_event_source_set_time_relative(m->accept_timer, ACCEPT_RETRY_USEC);
        (void) sd_event_source_set_enabled(m->accept_timer, SD_EVENT_ONESHOT);
}

/* No slot for one more client: --max-clients, or the fds left. */
static bool full(Manager *m) {
        return m->n_peers >= m->options->max_clients || m->n_peers + m->lingers.n >= m->client_cap;
}

static bool accept_error_is_transient(int error) {
        /* accept(2): errors of the one connection that failed, not of the listening socket. */
        return IN_SET(error, ECONNABORTED, EPROTO, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH,
                        EOPNOTSUPP, ENETUNREACH, EPERM, EINTR);
}

static int on_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Listener *l = userdata;
        Manager *m = l->manager;

        for (int i = 0; i < ACCEPT_BATCH; i++) {
                char addr[PEER_ADDRESS_STRING_MAX], why[128];
                PeerAddress address;
                bool is_full;
                int cfd, r;

                cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno == EAGAIN)
                                return 0;
                        if (accept_error_is_transient(errno))
                                continue;
                        log_warning_errno(errno, "Failed to accept connection on %s: %m", l->name);
                        pause_accepting(m);
                        return 0;
                }

                /* Reset before we got to it: nobody to serve, or to refuse. */
                if (peer_address_from_socket(cfd, &address) == -ENOTCONN) {
                        safe_close(cfd);
                        continue;
                }
                /* Every slot taken: a front end with a share of its own may still make room in it. */
                is_full = full(m);
                if (is_full && !(l->front_end->ops->admit && l->front_end->ops->admit(l->front_end, true))) {
                        snprintf(why, sizeof(why), "already serving %zu client%s", m->n_peers,
                                        m->n_peers == 1 ? "" : "s");
                        refuse(m, l->front_end, cfd, &address, why);
                        continue;
                }
                if (address_count_get(m->per_address, &address) >= m->options->max_clients_per_address) {
                        snprintf(why, sizeof(why), "%s %zu connections already (--max-clients-per-address)",
                                        address_count_by_network(&address) ? "its /64 has" : "it has",
                                        address_count_get(m->per_address, &address));
                        refuse(m, l->front_end, cfd, &address, why);
                        continue;
                }
                if (!is_full && l->front_end->ops->admit && !l->front_end->ops->admit(l->front_end, false)) {
                        snprintf(why, sizeof(why), "the %s front end's share of the slots is taken", l->front_end->name);
                        refuse(m, l->front_end, cfd, &address, why);
                        continue;
                }
                if (IN_SET(address.family, AF_INET, AF_INET6))
                        listen_tune_connection(cfd);
                r = l->front_end->ops->open(l->front_end, cfd, &address);
                if (r < 0) {
                        peer_address_format(&address, addr, sizeof(addr));
                        log_warning_errno(r, "Failed to set up connection from %s: %m", addr);
                }
        }
        return 0;
}

static FrontEnd *find_front_end(Manager *m, const char *name) {
        for (size_t i = 0; name && i < m->n_front_ends; i++)
                if (strcmp(m->front_ends[i]->name, name) == 0)
                        return m->front_ends[i];
        return m->front_ends[0];
}

static int add_listener(Manager *m, int fd, const char *name, FrontEnd *fe, const SocketAddress *address) {
        _cleanup_(listener_freep) Listener *l = NULL;
        Listener **p;
        int r;

        l = calloc(1, sizeof(*l));
        if (!l) {
                safe_close(fd);
                return -ENOMEM;
        }
        *l = (Listener) { .manager = m, .front_end = fe, .fd = fd };
        if (address) {
                l->address = *address;
                l->unlink_on_exit = address->sa.sa_family == AF_UNIX && address->un.sun_path[0] != '\0';
        }
        l->name = strdup(name);
        if (!l->name)
                return -ENOMEM;

        r = sd_event_add_io(m->event, &l->io, fd, EPOLLIN, on_accept, l);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(l->io, "listener");

        p = reallocarray(m->listeners, m->n_listeners + 1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        m->listeners = p;
        p[m->n_listeners++] = TAKE_PTR(l);
        return 0;
}

static int open_listen_address(Manager *m, const SocketAddress *a, FrontEnd *fe) {
        char name[SOCKET_ADDRESS_STRING_MAX];
        int fd, r;

        socket_address_format(a, name, sizeof(name));
        r = listen_open(a, &fd);
        if (r < 0)
                return log_error_errno(r, "Failed to listen on %s: %m", name);
        log_info("Listening on %s (%s).", name, fe->name);
        r = add_listener(m, fd, name, fe, a);
        if (r < 0)
                return log_error_errno(r, "Failed to watch %s: %m", name);
        return 0;
}

static bool listens_for(Manager *m, FrontEnd *fe) {
        for (size_t i = 0; i < m->n_listeners; i++)
                if (m->listeners[i]->front_end == fe)
                        return true;
        return false;
}

/* What systemd's file descriptor store kept, from the server before a restart: for handover_take(). */
typedef struct StoredFds {
        int *fds;
        char **names;
        size_t n;
} StoredFds;

static void stored_fds_done(StoredFds *s) {
        for (size_t i = 0; i < s->n; i++) {
                safe_close(s->fds[i]);
                free(s->names[i]);
        }
        free(s->fds);
        free(s->names);
        *s = (StoredFds) {};
}

/* The sockets systemd passed, each to the front end its FileDescriptorName= names, else to the default
 * one, and what its store kept, into stored. The count of listeners, or a negative errno. */
static int take_passed(Manager *m, StoredFds *stored) {
        _cleanup_free_ int *fds = NULL;
        char **names = NULL;
        int n, r = 0, listeners = 0;

        n = listen_from_systemd(&fds, &names);
        if (n < 0)
                return log_error_errno(n, "Failed to take the sockets passed by systemd: %m");

        stored->fds = calloc(MAX(n, 1), sizeof(int));
        stored->names = calloc(MAX(n, 1), sizeof(char *));
        if (!stored->fds || !stored->names)
                r = log_oom();
        for (int i = 0; i < n; i++) {
                FrontEnd *fe;

                if (r >= 0 && handover_is_fd_name(names[i])) {
                        stored->fds[stored->n] = fds[i];
                        stored->names[stored->n++] = TAKE_PTR(names[i]);
                        continue;
                }
                fe = find_front_end(m, names[i]);
                if (r >= 0) {
                        r = listen_check_passed(fds[i]);
                        if (r < 0)
                                log_error_errno(r, "Socket %s passed by systemd is no listening stream socket: %m",
                                                names[i]);
                }
                if (r >= 0) {
                        /* add_listener() takes the fd, whatever it returns. */
                        r = add_listener(m, fds[i], names[i], fe, NULL);
                        if (r < 0)
                                log_error_errno(r, "Failed to watch the sockets passed by systemd: %m");
                        else {
                                log_debug("Listening on socket %s passed by systemd (%s).", names[i], fe->name);
                                listeners++;
                        }
                } else
                        safe_close(fds[i]);
                free(names[i]);
        }
        free(names);
        return r < 0 ? r : listeners;
}

static int setup_listeners(Manager *m, StoredFds *stored) {
        int n, r;

        n = take_passed(m, stored);
        if (n < 0)
                return n;

        /* Exiting on idle is safe only when systemd holds every socket we listen on. */
        m->activated = n > 0 && m->options->n_listen == 0;

        for (size_t i = 0; i < m->options->n_listen; i++) {
                const ListenAddress *a = &m->options->listen[i];

                r = open_listen_address(m, &a->address, find_front_end(m, a->front_end));
                if (r < 0)
                        return r;
        }

        /* Started by hand: thermo/1 on its default address, unless told where (--listen-metrics alone
         * adds HTTP beside it). Under socket activation, the sockets systemd passes say it all. */
        if (n == 0 && !listens_for(m, m->front_ends[0])) {
                SocketAddress a;

                r = socket_address_parse(m->options->default_listen, &a);
                if (r < 0)
                        return log_error_errno(r, "Failed to parse default address %s: %m",
                                        m->options->default_listen);
                return open_listen_address(m, &a, m->front_ends[0]);
        }
        return 0;
}

static int on_shutdown_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        log_warning("%zu client%s did not take their goodbye in time, closing anyway.", m->n_peers,
                        m->n_peers == 1 ? "" : "s");
        return sd_event_exit(m->event, 0);
}

/* Every client, of whichever front end, is told goodbye; the loop ends once they are all gone, or the
 * time for it is over. */
static void say_goodbye(Manager *m) {
        Peer *i, *n;
        int r;

        LIST_FOREACH_SAFE(peers, i, n, m->peers)
                i->ops->shutdown(i);

        if (all_gone(m)) {
                (void) sd_event_exit(m->event, 0);
                return;
        }
        m->shutdown_timer = sd_event_source_disable_unref(m->shutdown_timer);
        r = sd_event_add_time_relative(m->event, &m->shutdown_timer, CLOCK_MONOTONIC, SHUTDOWN_TIMEOUT_USEC, 0,
                        on_shutdown_timeout, m);
        if (r < 0)
                (void) sd_event_exit(m->event, 0);
}

/* No new client from now on: systemd keeps the listening sockets, and what connects waits in their backlog
 * for the next server, if any. */
static void stop_listening(Manager *m, const char *status) {
        (void) sd_notifyf(false, "STOPPING=1\nSTATUS=%s", status);
        m->stopping = true;
        for (size_t k = 0; k < m->n_listeners; k++)
                listener_close(m->listeners[k]);
        (void) sd_event_source_set_enabled(m->idle_timer, SD_EVENT_OFF);
}

static void manager_shutdown(Manager *m) {
        if (m->stopping)
                return;
        stop_listening(m, "Saying goodbye to every client.");
        say_goodbye(m);
}

/* The clients that go across, all at once, with the state: in a turn of the loop of its own, never from
 * inside a callback of a client's or a timer's, which could go on to write to a socket handed over. The
 * loop ends right after, and nothing else runs. */
static int on_hand_over(sd_event_source *source, void *userdata) {
        Manager *m = userdata;
        char field[32], took[96];
        HandoverClock clock;
        int r;

        m->handing_over = false;
        m->shutdown_timer = sd_event_source_disable_unref(m->shutdown_timer);
        handover_clock_start(&clock);
        r = handover_store(m);
        if (r < 0) {
                log_warning_errno(r, "Failed to hand the clients over to the next server, saying goodbye instead: %m");
                say_goodbye(m);
                return 0;
        }
        m->handed_over = true;
        snprintf(field, sizeof(field), "CLIENTS=%i", r);
        log_struct(LOG_INFO, 0, THERMO_MESSAGE_HANDED_OVER, LOG_FIELDS(field),
                        "Handed %i client%s over to the next server, after tick #%" PRIu64 " (%s).", r, r == 1 ? "" : "s",
                        thermometer_get_seq(m->thermometer), handover_clock_format(&clock, took, sizeof(took)));
        return sd_event_exit(m->event, 0);
}

static void hand_over(Manager *m) {
        if (!m->handing_over)
                return;
        if (!m->handover && sd_event_add_defer(m->event, &m->handover, on_hand_over, m) < 0) {
                log_warning("Failed to hand the clients over to the next server, saying goodbye instead.");
                m->handing_over = false;
                say_goodbye(m);
                return;
        }
        (void) sd_event_source_set_enabled(m->handover, SD_EVENT_ONESHOT);
}

/* Only clients that go across are left (a scrape has finished its response): now. */
static void hand_over_when_ready(Manager *m) {
        for (Peer *p = m->peers; p; p = p->peers_next)
                if (!p->ops->serialize)
                        return;
        hand_over(m);
}

static int on_handover_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        size_t n = 0;

        for (Peer *p = m->peers; p; p = p->peers_next)
                n += !p->ops->serialize;
        log_warning("%zu client%s did not finish in time for the restart, closing them.", n, n == 1 ? "" : "s");
        hand_over(m);
        return 0;
}

/* A restart: the clients that cannot go across (HTTP) finish the response under way and close, as any
 * HTTP server's do at a stop; meanwhile the others are served on, and then all go to the next server. */
static void manager_restart(Manager *m) {
        Peer *i, *n;
        int r;

        if (m->stopping)
                return;
        stop_listening(m, "Restarting: handing the clients over to the next server.");
        m->handing_over = true;
        LIST_FOREACH_SAFE(peers, i, n, m->peers)
                if (!i->ops->serialize)
                        i->ops->shutdown(i);
        r = sd_event_add_time_relative(m->event, &m->shutdown_timer, CLOCK_MONOTONIC, SHUTDOWN_TIMEOUT_USEC, 0,
                        on_handover_timeout, m);
        if (r < 0) {
                hand_over(m);
                return;
        }
        hand_over_when_ready(m);
}

static int on_signal(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        if (m->restart_asked) {
                log_info("Received %s for a restart, handing %zu client%s over to the next server.",
                                strsignal((int) si->ssi_signo), m->n_peers, m->n_peers == 1 ? "" : "s");
                manager_restart(m);
                return 0;
        }
        log_info("Received %s, saying goodbye to %zu client%s.", strsignal((int) si->ssi_signo), m->n_peers,
                        m->n_peers == 1 ? "" : "s");
        manager_shutdown(m);
        return 0;
}

/* SIGUSR2: the stop that comes is a restart (thermo-handover(8) says so, from the unit's ExecStop=). Of a
 * higher priority than SIGTERM's source: sent first, it is taken first. Only as thermo-handover sends it,
 * queued with its value: a stray kill -USR2 must not turn a later stop into an exit without a word. */
static int on_restart_signal(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        if (si->ssi_code != SI_QUEUE || si->ssi_int != SIGNALS_RESTART_VALUE) {
                log_notice("Received SIGUSR2 from PID %" PRIu32 ", not from thermo-handover: ignored.", si->ssi_pid);
                return 0;
        }
        log_debug("Told that the next stop is a restart.");
        m->restart_asked = true;
        return 0;
}

/* SIGHUP, or systemctl reload: the sensors are looked for again, as at start. A new one is served after
 * the others, a gone one is unavailable, and every client stays. Options are not read again: they come
 * with a restart. */
static void manager_reload(Manager *m);

static int on_rescan_again(sd_event_source *source, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        if (!m->stopping)
                manager_reload(m);
        return 0;
}

/* sensors.conf could not be read again while a slow sensor was being read: the rescan is done again in a
 * second, and again, until it is, so that a reload always takes in the sensors.conf of when it was asked. */
static void rescan_again(Manager *m) {
        int r;

        if (!m->rescan_timer) {
                r = sd_event_add_time_relative(m->event, &m->rescan_timer, CLOCK_MONOTONIC, USEC_PER_SEC, 0,
                                on_rescan_again, m);
                if (r < 0) {
                        log_warning_errno(r, "Failed to rescan again for sensors.conf, the next reload reads it: %m");
                        return;
                }
        }
        (void) sd_event_source_set_time_relative(m->rescan_timer, USEC_PER_SEC);
        (void) sd_event_source_set_enabled(m->rescan_timer, SD_EVENT_ONESHOT);
}

static void manager_reload(Manager *m) {
        _cleanup_(sensor_list_done) SensorList found = {};
        ThermometerUpdate u = {};
        struct timespec ts;
        char field[32];
        size_t n;
        int r;

        /* The time tells systemd this RELOADING=1 is the answer to its signal, not an older one. */
        clock_gettime(CLOCK_MONOTONIC, &ts);
        (void) sd_notifyf(false, "RELOADING=1\nSTATUS=Looking for sensors.\nMONOTONIC_USEC=%" PRIu64,
                        (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000);

        r = sensor_list_build(&found, (const char *const *) m->options->sensors, m->options->n_sensors, true);
        if (found.sensors_conf_stale)
                rescan_again(m);
        if (r >= 0)
                sensor_list_apply_limits(&found, m->options->limits, m->options->n_limits, true);
        if (r >= 0)
                sensor_list_apply_calibrations(&found, m->options->calibrations, m->options->n_calibrations, true);
        /* Room in every front end for the most it can come to, before anything changes. */
        n = thermometer_get_n_sensors(m->thermometer) + found.n;
        for (size_t i = 0; r >= 0 && i < m->n_front_ends; i++)
                if (m->front_ends[i]->ops->reserve)
                        r = m->front_ends[i]->ops->reserve(m->front_ends[i], n);
        if (r >= 0) {
                r = thermometer_update_sensors(m->thermometer, found.sensors, found.n, &u);
                found = (SensorList) {};
        }
        if (r < 0)
                log_error_errno(r, "Failed to rescan the sensors fully, serving what there is: %m");

        n = thermometer_get_n_sensors(m->thermometer);
        snprintf(field, sizeof(field), "SENSORS=%zu", n);
        log_struct(LOG_INFO, 0, THERMO_MESSAGE_RESCANNED, LOG_FIELDS(field),
                        "Rescanned the sensors: %zu in all, %zu new, %zu gone, %zu back, %zu from a new source.", n,
                        u.added, u.gone, u.back, u.changed);
        (void) sd_notify(false, "READY=1");
        send_status(m);
}

static int on_reload_signal(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        if (!m->stopping)
                manager_reload(m);
        return 0;
}

/* Each client is one fd: the default soft limit of 1024 would cap us well below --max-clients. Whatever
 * the limit, FD_RESERVE of it are kept from clients. */
static void raise_fd_limit(Manager *m) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return;
        if (rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                        (void) getrlimit(RLIMIT_NOFILE, &rl);
        }
        if (rl.rlim_cur == RLIM_INFINITY)
                return;
        m->client_cap = rl.rlim_cur > FD_RESERVE + m->n_listeners ? rl.rlim_cur - FD_RESERVE - m->n_listeners : 1;
        if (m->client_cap < m->options->max_clients)
                log_warning("The fd limit (%ju) leaves room for %zu client%s and refused sockets, fewer than "
                            "--max-clients=%" PRIu64 ": raise LimitNOFILE=.",
                                (uintmax_t) rl.rlim_cur, m->client_cap, m->client_cap == 1 ? "" : "s",
                                m->options->max_clients);
}

int manager_run(Manager *m) {
        _cleanup_(stored_fds_done) StoredFds stored = {};
        char field[256], sensors[32], span[64];
        const Sensor *sensor;
        size_t n;
        int r;

        assert(m);
        assert(m->n_front_ends > 0);
        assert(thermometer_get_n_sensors(m->thermometer) > 0);

        r = setup_listeners(m, &stored);
        if (r < 0)
                return r;
        raise_fd_limit(m);

        /* Every send says MSG_NOSIGNAL; a SIGPIPE sent by hand must not kill us without a BYE either. */
        (void) signal(SIGPIPE, SIG_IGN);
        r = signals_add_stop(m->event, on_signal, m);
        if (r >= 0)
                r = signals_add_reload(m->event, on_reload_signal, m);
        if (r >= 0)
                r = signals_add_restart(m->event, SD_EVENT_PRIORITY_IMPORTANT, on_restart_signal, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch signals: %m");

        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                return log_error_errno(r, "Failed to enable the watchdog: %m");

        sensor = thermometer_get_sensor(m->thermometer, 0);
        n = thermometer_get_n_sensors(m->thermometer);
        snprintf(field, sizeof(field), "SENSOR=%s", sensor->source);
        snprintf(sensors, sizeof(sensors), "SENSORS=%zu", n);
        log_struct(LOG_INFO, 0, THERMO_MESSAGE_STARTED, LOG_FIELDS(field, sensors),
                        "%s %s started: %zu sensor%s (the default %s, %s), a reading every %s%s.",
                        program_invocation_short_name, PROJECT_VERSION, n, n == 1 ? "" : "s", sensor->name,
                        sensor->source, format_timespan(span, sizeof(span), thermometer_get_interval(m->thermometer)),
                        m->activated ? ", socket-activated" : "");
        for (size_t i = 0; i < n; i++)
                log_debug("Sensor %s: %s.", thermometer_get_sensor(m->thermometer, i)->name,
                                thermometer_get_sensor(m->thermometer, i)->source);
        /* A sensor that gives no reading is said now, not at the first client. */
        thermometer_check(m->thermometer);
        /* The clients of the server before a restart, before anyone new. */
        handover_take(m, stored.fds, stored.names, stored.n);
        for (size_t i = 0; i < stored.n; i++)
                stored.fds[i] = -EBADF;

        (void) sd_notify(false, "READY=1");
        send_status(m);
        update_idle_timer(m);

        r = sd_event_loop(m->event);
        say_short_connections(m);
        log_struct(LOG_INFO, 0, THERMO_MESSAGE_STOPPED, NULL, "%s stopped%s.", program_invocation_short_name,
                        m->handed_over ? " for a restart" : "");
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}
