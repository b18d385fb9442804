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

/* /api/v1/sensors: {"sensors":[{"name":..,"label":..,"source":..,"reading":..,"level":..,"limits":
 * {"low":..,"high":..,"crit":..}}]}; readings one per sensor, or NULL before the first tick (then each
 * reading is null, and each level "ok"). */
int api_write_sensors(FILE *f, const ApiSensor *sensors, size_t n, const Reading *readings);

/* /api/v1/history: {"oldest_seq":..,"newest_seq":..,"readings":[{"sensor":..,"seq":..,"time_ms":..,
 * "celsius":..}]}, the held ticks after after, oldest first, each sensor's in sensor order: only sensor's
 * where it is >= 0. A sensor that was not there at a tick has none in it. h may be NULL: nothing held. */
int api_write_history(FILE *f, const History *h, const ApiSensor *sensors, size_t n, int sensor, uint64_t after);

/* An error, as every API answer that is not one gives it: {"error":"..."}. */
int api_write_error(FILE *f, const char *text);
