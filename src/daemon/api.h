/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "history.h"
#include "level.h"
#include "reading.h"

/* The JSON of the HTTP API, /api/v1/ (thermo-server(8), HTTP API): stable, every field documented. No I/O
 * here. A reading is {"seq":42,"time_ms":1796162402123,"celsius":45.125}, celsius null where the sensor
 * gave none at that tick. */

/* What /api/v1/sensors says of a sensor beyond its reading. */
typedef struct ApiSensor {
        const char *name;
        const char *label;      /* may be NULL */
        const char *source;
        const Limits *limits;
} ApiSensor;

#define API_JSON_TYPE "application/json"

/* What /api/v1/sensors says of the server. */
typedef struct ApiServer {
        const char *host;       /* the machine's name, as HELLO gives it */
        const char *server;     /* thermo-server or thermo-server-proto */
        const char *version;
        const char *run;        /* names this run: kept by restarts that hand the clients over, new otherwise */
        uint64_t interval_ms;
        uint64_t history_ms;    /* the span of the history, 0 for none */
} ApiServer;

/* /api/v1/sensors: {"host":..,"server":..,"version":..,"run":..,"interval_ms":..,"history_ms":..,"sensors":[{"name":..,
 * "label":..,"source":..,"reading":..,"level":..,"limits":{"low":..,"high":..,"crit":..}}]}; readings one
 * per sensor, or NULL before the first tick (then each reading is null, and each level "ok"). */
int api_write_sensors(FILE *f, const ApiServer *server, const ApiSensor *sensors, size_t n, const Reading *readings);

/* /api/v1/history: {"oldest_seq":..,"newest_seq":..,"readings":[{"sensor":..,"seq":..,"time_ms":..,
 * "celsius":..}]}, the held ticks after after, oldest first, each sensor's in sensor order: only sensor's
 * where it is >= 0. A sensor that was not there at a tick has none in it. h may be NULL: nothing held. */
int api_write_history(FILE *f, const History *h, const ApiSensor *sensors, size_t n, int sensor, uint64_t after);

/* The events of /api/v1/events (text/event-stream): for a tick, "id: SEQ\ndata: {"seq":SEQ,"readings":[..]}"
 * and a blank line, each reading as /api/v1/history gives it (every one of the tick's); a tick with no
 * reading at all has no id, and its seqs are null. */
int api_write_tick_event(FILE *f, uint64_t seq, const Reading *readings, size_t n);
/* The same for a held tick seq of h, which holds it: each sensor's that was there then. */
int api_write_held_tick_event(FILE *f, const History *h, uint64_t seq, const ApiSensor *sensors, size_t n);
/* For each reading that changed its sensor's level (Reading.alarm): "event: alarm\ndata: {"sensor":..,
 * "seq":..,"time_ms":..,"celsius":..,"level":..}" and a blank line. Nothing where none did. */
int api_write_alarm_events(FILE *f, const Reading *readings, size_t n);

/* An error, as every API answer that is not one gives it: {"error":"..."}. */
int api_write_error(FILE *f, const char *text);
