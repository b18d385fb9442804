/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "limit-option.h"
#include "sensor.h"

/* The sensors a server serves, the default first: built from its --sensor options, shown by
 * --list-sensors. */
typedef struct SensorList {
        Sensor **sensors;
        size_t n;
        bool sensors_conf_stale; /* sensors.conf could not be read again (a slow sensor was being read) */
} SensorList;

/* Each spec is "[NAME=]SPEC"; "auto" is every sensor found but those already given; with nothing found,
 * one simulated sensor. A bad spec, a bad name or a name taken twice is said (as a usage error) and gives
 * -EINVAL. A rescan (rescan set) leaves out, with a warning, a sensor a spec names that is not there now. */
int sensor_list_build(SensorList *l, const char *const *specs, size_t n_specs, bool rescan);
void sensor_list_done(SensorList *l);

/* The admin's limits (--limit) over the hardware's, sensor by name; one that names no sensor is said at
 * start (a rescan may find it later). */
void sensor_list_apply_limits(SensorList *l, const LimitOverride *limits, size_t n, bool rescan);
/* The admin's calibrations (--calibrate), the same way. */
void sensor_list_apply_calibrations(SensorList *l, const CalibrationOption *calibrations, size_t n, bool rescan);

/* Each sensor's name, source, label and value now, as a table (legend: with its header) or a JSON array.
 * Slow sensors are read too: it takes them as long as it takes. */
int sensor_list_print(const SensorList *l, FILE *f, bool legend, bool json);
