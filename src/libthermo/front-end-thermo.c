/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "front-end-thermo.h"

struct ThermoFrontEnd {
        FrontEnd front_end;
        const char *server_name;
        thermo_handler_t handler;
        ThermometerObserver observer;

        Session *subscribers;
        size_t reply_max;
};

static Session *session_of(Connection *c) {
        return container_of(c, Session, connection);
}

static void connection_readable(Connection *c) {
        Session *s = session_of(c);
        s->front_end->handler(s);
}

static void peer_shutdown(Peer *p) {
        session_shutdown(session_of(container_of(p, Connection, peer)));
}

static void peer_free(Peer *p) {
        session_free(session_of(container_of(p, Connection, peer)));
}

static const ConnectionOps session_ops = {
        .peer = {
                .shutdown = peer_shutdown,
                .free = peer_free,
        },
        .readable = connection_readable,
};

static ThermoFrontEnd *thermo_of(FrontEnd *fe) {
        return container_of(fe, ThermoFrontEnd, front_end);
}

static int front_end_open(FrontEnd *fe, int fd, const PeerAddress *address) {
        Session *s;

        return session_new(thermo_of(fe), fd, address, &session_ops, &s);
}

static void front_end_refuse(FrontEnd *fe, int fd) {
        static const char line[] = "ERR 503 too many clients\n";

        /* A new socket's send buffer is empty, so this short line fits without waiting. */
        (void) send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void front_end_free(FrontEnd *fe) {
        ThermoFrontEnd *t = thermo_of(fe);

        thermometer_remove_observer(manager_get_thermometer(fe->manager), &t->observer);
        free(t);
}

static const FrontEndOps thermo_front_end_ops = {
        .open = front_end_open,
        .refuse = front_end_refuse,
        .free = front_end_free,
};

/* Each tick is formatted once, and the same bytes go to every session that streams. */
static void on_tick(ThermometerObserver *o, const Reading *readings, size_t n) {
        ThermoFrontEnd *t = container_of(o, ThermoFrontEnd, observer);
        char line[PROTOCOL_REPLY_MAX];
        Session *i, *next;
        size_t length;

        if (!t->subscribers)
                return;
        length = protocol_format_reading(line, sizeof(line), &readings[0]);
        LIST_FOREACH_SAFE(subscribers, i, next, t->subscribers)
                session_deliver(i, line, length, readings[0].error == 0);
}

int thermo_front_end_new(Manager *m, const char *server_name, thermo_handler_t handler, FrontEnd **ret) {
        ThermoFrontEnd *t;

        assert(m);
        assert(server_name);
        assert(handler);
        assert(ret);

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->front_end = (FrontEnd) { .ops = &thermo_front_end_ops, .name = "thermo", .manager = m };
        t->server_name = server_name;
        t->handler = handler;
        /* A reply line, and the END or OK line that may follow it. */
        t->reply_max = 2 * PROTOCOL_REPLY_MAX;
        t->observer.tick = on_tick;
        thermometer_add_observer(manager_get_thermometer(m), &t->observer);
        *ret = &t->front_end;
        return 0;
}

void thermo_front_end_subscribe(ThermoFrontEnd *t, Session *s) {
        assert(t);
        assert(s);

        if (s->subscribed)
                return;
        LIST_PREPEND(subscribers, t->subscribers, s);
        s->subscribed = true;
        thermometer_set_active(manager_get_thermometer(t->front_end.manager), &t->observer, true);
}

void thermo_front_end_unsubscribe(ThermoFrontEnd *t, Session *s) {
        assert(t);
        assert(s);

        if (!s->subscribed)
                return;
        LIST_REMOVE(subscribers, t->subscribers, s);
        s->subscribed = false;
        if (!t->subscribers)
                thermometer_set_active(manager_get_thermometer(t->front_end.manager), &t->observer, false);
}

void thermo_front_end_get_info(ThermoFrontEnd *t, ServerInfo *ret) {
        Manager *m;
        Thermometer *thermometer;

        assert(t);
        assert(ret);

        m = t->front_end.manager;
        thermometer = manager_get_thermometer(m);
        *ret = (ServerInfo) {
                .server = t->server_name,
                .version = PROJECT_VERSION,
                .sensor = thermometer_get_sensor(thermometer, 0)->description,
                .interval_ms = thermometer_get_interval(thermometer) / 1000,
                .clients = manager_get_clients(m),
                .uptime_s = manager_get_uptime_usec(m) / 1000000,
        };
}

Manager *thermo_front_end_get_manager(ThermoFrontEnd *t) {
        assert(t);
        return t->front_end.manager;
}

Thermometer *thermo_front_end_get_thermometer(ThermoFrontEnd *t) {
        assert(t);
        return manager_get_thermometer(t->front_end.manager);
}

size_t thermo_front_end_get_reply_max(ThermoFrontEnd *t) {
        assert(t);
        return t->reply_max;
}
