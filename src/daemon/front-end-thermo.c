/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "front-end-thermo.h"
#include "history.h"


static Session *session_of(Connection *c) {
        return container_of(c, Session, connection);
}

static void connection_readable(Connection *c, Pump *p) {
        Session *s = session_of(c);
        s->front_end->handler(s, p);
}

static void peer_shutdown(Peer *p) {
        session_shutdown(session_of(container_of(p, Connection, peer)));
}

static void peer_free(Peer *p) {
        session_free(session_of(container_of(p, Connection, peer)));
}

static int peer_serialize(Peer *p, StateWriter *w) {
        Session *s = session_of(container_of(p, Connection, peer));

        session_serialize(s, w);
        return s->connection.fd;
}

static void peer_resume(Peer *p) {
        session_resume(session_of(container_of(p, Connection, peer)));
}

static void connection_expired(Connection *c, ConnectionExpiry why) {
        session_expire(session_of(c), why);
}

static void connection_drained(Connection *c) {
        session_drained(session_of(c));
}

static const ConnectionOps session_ops = {
        .peer = {
                .shutdown = peer_shutdown,
                .free = peer_free,
                .serialize = peer_serialize,
                .front_end = "thermo",
                .resume = peer_resume,
        },
        .readable = connection_readable,
        .expired = connection_expired,
        .drained = connection_drained,
};

static ThermoFrontEnd *thermo_of(FrontEnd *fe) {
        return container_of(fe, ThermoFrontEnd, front_end);
}

static int front_end_open(FrontEnd *fe, int fd, const PeerAddress *address) {
        Session *s;

        return session_new(thermo_of(fe), fd, address, &session_ops, &s);
}

static int front_end_restore(FrontEnd *fe, int fd, StateReader *r, const SensorMap *map, Peer **ret) {
        Session *s;
        int k;

        k = session_restore(thermo_of(fe), fd, &session_ops, r, map, &s);
        if (k >= 0)
                *ret = &s->connection.peer;
        return k;
}

static void front_end_refuse(FrontEnd *fe, int fd) {
        static const char line[] = "ERR 503 too many clients\n";

        /* A new socket's send buffer is empty, so this short line fits without waiting. */
        (void) send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void front_end_free(FrontEnd *fe) {
        ThermoFrontEnd *t = thermo_of(fe);

        thermometer_remove_observer(fe->manager->thermometer, &t->observer);
        free(t->lines);
        free(t->offsets);
        free(t->iov);
        free(t->alarms);
        free(t);
}

/* Room for a tick of n sensors' lines. */
static int front_end_reserve(FrontEnd *fe, size_t n) {
        ThermoFrontEnd *t = thermo_of(fe);
        size_t *offsets;
        struct iovec *iov;
        char *lines;

        if (n <= t->capacity)
                return 0;
        lines = reallocarray(t->lines, n, PROTOCOL_REPLY_MAX);
        if (!lines)
                return -ENOMEM;
        t->lines = lines;
        offsets = reallocarray(t->offsets, n + 1, sizeof(size_t));
        if (!offsets)
                return -ENOMEM;
        t->offsets = offsets;
        iov = reallocarray(t->iov, n, sizeof(struct iovec));
        if (!iov)
                return -ENOMEM;
        t->iov = iov;
        lines = reallocarray(t->alarms, n, PROTOCOL_REPLY_MAX);
        if (!lines)
                return -ENOMEM;
        t->alarms = lines;
        t->capacity = n;
        return 0;
}

static const FrontEndOps thermo_front_end_ops = {
        .open = front_end_open,
        .refuse = front_end_refuse,
        .reserve = front_end_reserve,
        .restore = front_end_restore,
        .free = front_end_free,
};

static void format_tick(ThermoFrontEnd *t, const Reading *readings, size_t n) {
        size_t at = 0;

        t->default_length = protocol_format_reading(t->default_line, sizeof(t->default_line), &readings[0], false);
        for (size_t i = 0; i < n; i++) {
                t->offsets[i] = at;
                at += protocol_format_reading(t->lines + at, PROTOCOL_REPLY_MAX, &readings[i], true);
        }
        t->offsets[n] = at;
}

static void format_alarms(ThermoFrontEnd *t, const Reading *readings, size_t n) {
        t->alarms_length = 0;
        for (size_t i = 0; i < n; i++)
                if (readings[i].alarm)
                        t->alarms_length += protocol_format_alarm(t->alarms + t->alarms_length, PROTOCOL_REPLY_MAX,
                                        &readings[i]);
}

/* The lines of a stream: its sensors', all or none, and how many of them are readings. */
static size_t stream_lines(ThermoFrontEnd *t, Session *s, const Reading *readings, size_t *ret_n_iov) {
        size_t n_iov = 0, n_readings = 0;

        if (s->all) {
                t->iov[n_iov++] = (struct iovec) { t->lines, t->offsets[t->n_sensors] };
                for (size_t i = 0; i < t->n_sensors; i++)
                        n_readings += readings[i].error == 0;
        } else if (s->subset) {
                for (size_t i = 0; i < t->n_sensors; i++)
                        if (session_streams(s, i)) {
                                t->iov[n_iov++] = (struct iovec) { t->lines + t->offsets[i], t->offsets[i + 1] - t->offsets[i] };
                                n_readings += readings[i].error == 0;
                        }
        } else {
                t->iov[n_iov++] = (struct iovec) { t->default_line, t->default_length };
                n_readings = readings[0].error == 0;
        }
        *ret_n_iov = n_iov;
        return n_readings;
}

/* One tick to a subscribed session: its stream's lines, and the tick's alarms where it has ALARMS. */
static void deliver(ThermoFrontEnd *t, Session *s, const Reading *readings) {
        size_t n_iov = 0, total = 0, n_readings = 0;

        if (s->stream)
                n_readings = stream_lines(t, s, readings, &n_iov);
        for (size_t i = 0; i < n_iov; i++)
                total += t->iov[i].iov_len;
        session_deliver(s, readings[0].seq, t->iov, n_iov, total, n_readings, t->alarms, t->alarms_length);
}

static void on_answer(ThermometerObserver *o, ThermometerRequest *q, const Reading *readings, size_t n) {
        session_answer_get(container_of(q, Session, get), readings);
}

static void on_tick(ThermometerObserver *o, const Reading *readings, size_t n) {
        ThermoFrontEnd *t = container_of(o, ThermoFrontEnd, observer);
        Session *i, *next;

        assert(n <= t->capacity);

        t->n_sensors = n;
        if (t->subscribers) {
                format_tick(t, readings, n);
                format_alarms(t, readings, n);
                LIST_FOREACH_SAFE(subscribers, i, next, t->subscribers)
                        deliver(t, i, readings);
        }
}

int thermo_front_end_new(Manager *m, const char *server_name, thermo_handler_t handler, FrontEnd **ret) {
        _cleanup_(front_end_freep) FrontEnd *fe = NULL;
        Thermometer *thermometer;
        ThermoFrontEnd *t;
        size_t n;
        int r;

        assert(m);
        assert(server_name);
        assert(handler);
        assert(ret);

        thermometer = m->thermometer;
        n = thermometer_get_n_sensors(thermometer);
        assert(n > 0);

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->front_end = (FrontEnd) { .ops = &thermo_front_end_ops, .name = "thermo", .manager = m };
        t->observer.tick = on_tick;
        t->observer.answer = on_answer;
        thermometer_add_observer(thermometer, &t->observer);
        fe = &t->front_end;

        t->server_name = server_name;
        t->handler = handler;
        t->n_sensors = n;
        r = front_end_reserve(fe, n);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(fe);
        return 0;
}

size_t thermo_front_end_format_held(ThermoFrontEnd *t, const uint64_t *subset, size_t n, bool all, uint64_t seq,
                const char **ret, size_t *ret_readings) {
        Thermometer *thermometer = t->front_end.manager->thermometer;
        History *h = thermometer_get_history(thermometer);
        size_t at = 0, readings = 0, n_sensors = MIN(thermometer_get_n_sensors(thermometer), t->capacity);

        assert(ret);
        assert(ret_readings);

        for (size_t i = 0; h && i < n_sensors; i++) {
                bool named = all || subset;
                Reading r;

                if (named ? !all && !subset_has(subset, n, i) : i > 0)
                        continue;
                if (history_reading(h, seq, i, &r) < 0)
                        continue;
                r.sensor = thermometer_get_sensor(thermometer, i)->name;
                at += protocol_format_reading(t->lines + at, PROTOCOL_REPLY_MAX, &r, named);
                readings += r.error == 0;
        }
        *ret = t->lines;
        *ret_readings = readings;
        return at;
}

void thermo_front_end_subscribe(ThermoFrontEnd *t, Session *s) {
        assert(t);
        assert(s);

        if (s->subscribed)
                return;
        LIST_PREPEND(subscribers, t->subscribers, s);
        s->subscribed = true;
        connection_set_streaming(&s->connection, true);
        thermometer_set_active(t->front_end.manager->thermometer, &t->observer, true);
}

void thermo_front_end_unsubscribe(ThermoFrontEnd *t, Session *s) {
        assert(t);
        assert(s);

        if (!s->subscribed)
                return;
        LIST_REMOVE(subscribers, t->subscribers, s);
        s->subscribed = false;
        connection_set_streaming(&s->connection, false);
        if (!t->subscribers)
                thermometer_set_active(t->front_end.manager->thermometer, &t->observer, false);
}

void thermo_front_end_get_info(ThermoFrontEnd *t, char host[static PROTOCOL_HOST_MAX + 1], ServerInfo *ret) {
        Thermometer *thermometer;
        uint64_t oldest = 0, newest = 0;
        History *h;
        Manager *m;

        assert(t);
        assert(ret);

        m = t->front_end.manager;
        thermometer = m->thermometer;
        h = thermometer_get_history(thermometer);
        if (h)
                history_bounds(h, &oldest, &newest);
        *ret = (ServerInfo) {
                .oldest_seq = oldest,
                .newest_seq = newest,
                .server = t->server_name,
                .version = PROJECT_VERSION,
                .sensor = thermometer_get_sensor(thermometer, 0)->source,
                .sensors = thermometer_get_n_sensors(thermometer),
                .interval_ms = thermometer_get_interval(thermometer) / 1000,
                .clients = m->n_peers,
                .uptime_s = manager_get_uptime_usec(m) / 1000000,
                .restarts = m->restarts,
                .host = host,
        };
        protocol_host(host);
}

size_t thermo_front_end_get_reply_max(ThermoFrontEnd *t) {
        assert(t);
        /* The longest reply is a line per sensor and END: SENSORS, or GET *. */
        return (thermometer_get_n_sensors(t->front_end.manager->thermometer) + 2) * PROTOCOL_REPLY_MAX;
}
