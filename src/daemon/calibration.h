/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "protocol.h"

/* A sensor's calibration, as --calibrate=NAME:offset=C,scale=F gives it: every reading is raw × scale +
 * offset, for files, thermal zones, hwmon inputs and simulated sensors alike, before anything sees it.
 * The scale is kept in millionths, so that no float is on the reading's path. */
typedef struct Calibration {
        int64_t offset;         /* millidegrees */
        int64_t scale;          /* millionths: 1000000 is 1, and so is 0, zeroed memory's */
} Calibration;

static inline bool calibration_is_none(const Calibration *c) {
        return c->offset == 0 && (c->scale == 0 || c->scale == 1000000);
}

/* raw × scale + offset, rounded to the millidegree; -ERANGE where that is past what a thermometer says
 * (SENSOR_MILLIDEGREES_MIN and _MAX, sensor.h). */
int calibration_apply(const Calibration *c, int64_t raw, int64_t *ret);

typedef struct CalibrationOption {
        char name[PROTOCOL_NAME_MAX + 1];
        Calibration calibration;
} CalibrationOption;

/* "NAME:offset=C,scale=F", either or both: -EINVAL for what is not, with *ret_error saying why. */
int calibration_option_parse(const char *s, CalibrationOption *ret, const char **ret_error);
