/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "macro.h"

/* Where readings come from. A backend fills in SensorOps; the rest of thermo sees only these calls. */
typedef struct Sensor Sensor;

typedef struct SensorOps {
        /* One reading in millidegrees Celsius; a negative errno when the sensor has none to give. */
        int (*read)(Sensor *s, int64_t *ret_millicelsius);
        void (*free)(Sensor *s);
} SensorOps;

struct Sensor {
        const SensorOps *ops;
        char *name;        /* what clients and logs call it; NULL where nobody named it */
        char *description; /* the word HELLO and INFO show after sensor= */
        char *label;       /* what the hardware calls it, for people; may be NULL */
};

/* "auto", "simulated[:seed=N]", "thermal:<zone>", "hwmon:<chip>[/<label>]" or "file:<path>": see
 * thermo-server(8). -EINVAL for a spec it cannot parse, -ENOENT for a sensor that is not there, with a
 * reason in *ret_error. */
int sensor_new(const char *spec, Sensor **ret, const char **ret_error);
Sensor *sensor_free(Sensor *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Sensor *, sensor_free);

static inline int sensor_read(Sensor *s, int64_t *ret_millicelsius) {
        return s->ops->read(s, ret_millicelsius);
}

/* Prints every temperature sensor found, with its spec, label and current value. */
int sensor_list(FILE *f);

/* Reads a file that holds millidegrees Celsius, as sysfs and 1-Wire drivers write them: -ENOENT when it
 * is gone, the read's own error (EIO, ENODATA), -EBADMSG for anything but a number, -ERANGE for a
 * number no thermometer gives. */
int sensor_read_millidegrees(const char *path, int64_t *ret);

/* A sensor that reads the file at path; description is what HELLO says, label what a person reads. */
int sensor_path_new(const char *path, const char *description, const char *label, Sensor **ret);

/* Backends */
int sensor_simulated_new(const char *args, Sensor **ret, const char **ret_error);
int sensor_file_new(const char *args, Sensor **ret, const char **ret_error);
int sensor_thermal_new(const char *args, Sensor **ret, const char **ret_error);
int sensor_hwmon_new(const char *args, Sensor **ret, const char **ret_error);
int sensor_auto_new(const char *args, Sensor **ret, const char **ret_error);
