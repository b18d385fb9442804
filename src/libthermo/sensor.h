/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "macro.h"

/* Where readings come from. A backend fills in SensorOps; the rest of thermo sees only these calls. */
typedef struct Sensor Sensor;

typedef struct SensorOps {
        const char *name;
        /* One reading in millidegrees Celsius; a negative errno when the sensor has none to give. */
        int (*read)(Sensor *s, int64_t *ret_millicelsius);
        void (*free)(Sensor *s);
} SensorOps;

struct Sensor {
        const SensorOps *ops;
        char *description; /* the word HELLO and INFO show after sensor= */
};

/* "simulated" or "simulated:seed=N". -EINVAL for a spec it cannot parse, with a reason in *ret_error. */
int sensor_new(const char *spec, Sensor **ret, const char **ret_error);
Sensor *sensor_free(Sensor *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Sensor *, sensor_free);

static inline int sensor_read(Sensor *s, int64_t *ret_millicelsius) {
        return s->ops->read(s, ret_millicelsius);
}

/* Backends */
int sensor_simulated_new(const char *args, Sensor **ret, const char **ret_error);
