/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "calibration.h"
#include "level.h"
#include "macro.h"

/* Where readings come from. A backend fills in SensorOps; the rest of thermo sees only these calls. */
typedef struct Sensor Sensor;

typedef struct SensorOps {
        /* One reading in millidegrees Celsius; a negative errno when the sensor has none to give. A slow
         * sensor's read may take long: it is called from a thread of its own (sensor-reader.c). */
        int (*read)(Sensor *s, int64_t *ret_millicelsius);
        void (*free)(Sensor *s);
} SensorOps;

struct Sensor {
        const SensorOps *ops;
        char *name;        /* what clients and logs call it: stable for the same hardware */
        char *source;      /* where it reads, as --sensor takes it: what HELLO and SENSOR lines show */
        char *label;       /* what the hardware calls it, for people; may be NULL */
        char *chip;        /* the chip it is an input of (an hwmon chip, a thermal zone); may be NULL */
        Limits limits;     /* the hardware's, then the admin's (--limit) */
        Calibration calibration; /* --calibrate: set before any thread reads the sensor, never after */
        char *path;        /* the file it reads; NULL for a simulated one */
        bool slow;         /* may take long to read: read off the event loop */
        bool discovered;   /* found by auto, not named by a --sensor: its name may give way */
        unsigned n_ref;    /* references beyond its owner's: a slow sensor's reader thread holds one */
};

/* What an error message may take. */
#define SENSOR_ERROR_MAX 256

/* One sensor from a spec: "simulated[:seed=N][,delay=TIME]", "thermal:ZONE", "hwmon:CHIP[/INPUT]" or
 * "file:PATH" (see thermo-server(8)), named as the hardware is. -EINVAL for a spec it cannot parse, -ENOENT
 * for a sensor that is not there, with the reason in error. "auto" is sensor_discover()'s. */
int sensor_new(const char *spec, Sensor **ret, char error[static SENSOR_ERROR_MAX]);
/* A backend's sensor, zeroed, gets its fields (path and label may be NULL): -ENOMEM leaves it for
 * sensor_unref(). */
int sensor_init(Sensor *s, const SensorOps *ops, const char *path, const char *name, const char *source,
                const char *label, bool slow);
/* A reference more, for a thread that may read it after its owner is done with it. */
Sensor *sensor_ref(Sensor *s);
/* Drops a reference (the owner's, or a sensor_ref()'s), from any thread; the last frees it. */
Sensor *sensor_unref(Sensor *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Sensor *, sensor_unref);

/* Every temperature sensor of the machine: thermal zones, then hwmon inputs, a sensor the kernel shows both
 * ways only once. The one the default should be (the first that gives a reading now) comes first. Returns
 * the count, 0 when there is none. */
int sensor_discover(Sensor ***ret);

/* What the sensor's hardware says, before its calibration. */
static inline int sensor_read_raw(Sensor *s, int64_t *ret_millicelsius) {
        return s->ops->read(s, ret_millicelsius);
}

/* A reading, calibrated: what every consumer sees. */
static inline int sensor_read(Sensor *s, int64_t *ret_millicelsius) {
        int r = sensor_read_raw(s, ret_millicelsius);

        if (r < 0 || calibration_is_none(&s->calibration))
                return r;
        return calibration_apply(&s->calibration, *ret_millicelsius, ret_millicelsius);
}

/* Whether a rescan's a reads as b does: the same source, file and backend (a sensor that sensors.conf's
 * compute now reads through libsensors, or no longer does, is another, or its limits would be computed and
 * its readings not). */
static inline bool sensor_same(const Sensor *a, const Sensor *b) {
        return a->ops == b->ops && strcmp(a->source, b->source) == 0 && strcmp(strempty(a->path), strempty(b->path)) == 0;
}

/* Takes a name (valid per thermo-protocol(7)) for the sensor instead of its own. */
int sensor_set_name(Sensor *s, const char *name);

/* The coldest a thermometer can say, and a bound no room, board or CPU reaches: beyond either, the
 * driver is telling us it has no reading (some chips say -273150), and a calibration has gone wrong. */
#define SENSOR_MILLIDEGREES_MIN (-273150)
#define SENSOR_MILLIDEGREES_MAX 1000000

/* Reads a file that holds millidegrees Celsius, as sysfs and 1-Wire drivers write them: -ENOENT when it
 * is gone, -EBADFD when it is no regular file (a FIFO, a device: it could block), the read's own error
 * (EIO, ENODATA), -EBADMSG for anything but a number, -ERANGE for a number no thermometer gives. */
int sensor_read_millidegrees(const char *path, int64_t *ret);

/* A sensor that reads the file at path. */
int sensor_path_new(const char *path, const char *name, const char *source, const char *label, bool slow,
                Sensor **ret);

/* s as a name: lowercase, [a-z0-9_.-] only (anything else becomes "_"), at most size - 1 bytes, starting
 * with a letter (prefix is put first where s does not). */
void sensor_name_from(char *buf, size_t size, const char *prefix, const char *s);

/* Where sysfs is: /sys, unless $THERMO_SYSFS_ROOT says otherwise (the tests' fake trees). */
const char *sensor_sysfs_root(void);

/* An hwmon input's limits, from its attributes <input>_min, _max, _crit and their _hyst, each got by get
 * in millidegrees (false where there is none): sysfs's own files, or libsensors's values, computed. */
typedef bool (*hwmon_attribute_t)(void *userdata, const char *attribute, int64_t *ret);
void hwmon_limits_from(hwmon_attribute_t get, void *userdata, const char *input, Limits *ret);

/* Backends */
int sensor_simulated_new(const char *args, Sensor **ret, char error[static SENSOR_ERROR_MAX]);
int sensor_file_new(const char *args, Sensor **ret, char error[static SENSOR_ERROR_MAX]);
int sensor_thermal_new(const char *args, Sensor **ret, char error[static SENSOR_ERROR_MAX]);
int sensor_hwmon_new(const char *args, Sensor **ret, char error[static SENSOR_ERROR_MAX]);
