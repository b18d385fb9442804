/* SPDX-License-Identifier: MIT */
#pragma once

#include "manager.h"
#include "protocol.h"
#include "session.h"

/* The thermo/1 front end (thermo-protocol(7)), shared by both servers. Its clients are sessions; at each
 * tick the lines are formatted once, and the same bytes go to every session that streams them. The
 * servers differ only in their handler: how a session's requests are taken from its connection. */
typedef void (*thermo_handler_t)(Session *s, Pump *requests);

struct ThermoFrontEnd {
        FrontEnd front_end;
        const char *server_name;
        thermo_handler_t handler;
        ThermometerObserver observer;
        size_t n_sensors;       /* at the newest tick */
        size_t capacity;        /* sensors the buffers below have room for */

        Session *subscribers;

        /* The tick's lines, formatted once: the default sensor's without its name, then every sensor's with
         * its name, back to back in sensor order, so that "STREAM *" is one write and a set of names one
         * writev() of some of them. */
        char default_line[PROTOCOL_REPLY_MAX];
        size_t default_length;
        char *lines;
        size_t *offsets;        /* capacity + 1 */
        struct iovec *iov;      /* room for a subset's lines */
        /* The tick's ALARM lines, formatted once too: one per sensor whose level it changed. */
        char *alarms;
        size_t alarms_length;
};

/* The lines held tick seq had for a selection: the sensors of subset (n of them), or every sensor with
 * all, by name; else the default sensor's, unnamed. Their length, in the front end's buffer until the next
 * call or tick; how many are readings in *ret_readings. A sensor that was not there then has none. */
size_t thermo_front_end_format_held(ThermoFrontEnd *t, const uint64_t *subset, size_t n, bool all, uint64_t seq,
                const char **ret, size_t *ret_readings);

/* Observes m's thermometer, whose sensors are set, from now on; hand it to m with manager_add_front_end(). */
int thermo_front_end_new(Manager *m, const char *server_name, thermo_handler_t handler, FrontEnd **ret);

/* For the sessions (session.c). */
void thermo_front_end_subscribe(ThermoFrontEnd *fe, Session *s);
void thermo_front_end_unsubscribe(ThermoFrontEnd *fe, Session *s);
/* For HELLO and INFO; host holds the host name the info points to. */
void thermo_front_end_get_info(ThermoFrontEnd *fe, char host[static PROTOCOL_HOST_MAX + 1], ServerInfo *ret);
/* The most bytes the replies to one request take: what a session may queue beyond --buffer-size. */
size_t thermo_front_end_get_reply_max(ThermoFrontEnd *fe);
