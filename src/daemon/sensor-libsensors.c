/* SPDX-License-Identifier: MIT */
/* hwmon chips as lm-sensors' sensors(1) sees them, through libsensors, the library sensors is built on:
 * what /etc/sensors3.conf and /etc/sensors.d/ say of each input (its label; compute, for its reading and
 * its limits alike; ignore), so that thermo says what sensors says. Names are none of its business: they
 * come of sysfs alone (sensor-sysfs.c), and a label written in sensors.conf changes what people see only.
 *
 * libsensors keeps one configuration for the whole process, in globals of its own, that sensors_init()
 * fills and sensors_cleanup() frees. The lock and the count below are its companions, not state of ours:
 * every use of libsensors holds the lock shared, a slow sensor's reader thread too (sensor-reader.c), and
 * only reading the configuration again takes it alone. That happens on the event loop, which never waits
 * for it: while a disk is slow to answer a reader, a rescan keeps the configuration it has. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sensors/error.h>
#include <sensors/sensors.h>

#include "log.h"
#include "sensor-libsensors.h"

static pthread_rwlock_t libsensors_lock = PTHREAD_RWLOCK_INITIALIZER;
static unsigned libsensors_parse_errors; /* of the load under way: libsensors says them only to its callback */

typedef struct LibsensorsSensor {
        Sensor sensor;
        char *chip_dir;         /* class/hwmon/hwmon<N>, and what the chip there must be: */
        char *driver;
        char input[16];         /* temp<M> */
} LibsensorsSensor;

/* What libsensors would print on stderr: the journal takes it with the file and line. libsensors goes on
 * past the statement, and so does sensors(1), with the rest of the file. */
static void parse_error(const char *error, const char *file, int line) {
        libsensors_parse_errors++;
        if (line > 0)
                log_warning("%s:%i: %s", file ?: "sensors.conf", line, error);
        else
                log_warning("%s: %s", file ?: "sensors.conf", error);
}

int libsensors_load(char error[static SENSOR_ERROR_MAX]) {
        unsigned n;
        int r;

        assert(error);

        sensors_parse_error_wfn = parse_error;

        if (pthread_rwlock_trywrlock(&libsensors_lock) != 0) {
                snprintf(error, SENSOR_ERROR_MAX, "a slow sensor is being read");
                return -EBUSY;
        }
        /* Nothing to free the first time, nor after a load that failed (which cleaned up after itself). */
        sensors_cleanup();
        libsensors_parse_errors = 0;
        /* NULL: the files sensors reads by default, /etc/sensors3.conf (or /etc/sensors.conf) and then
         * /etc/sensors.d/. */
        r = sensors_init(NULL);
        n = libsensors_parse_errors;
        (void) pthread_rwlock_unlock(&libsensors_lock);
        if (r != 0) {
                snprintf(error, SENSOR_ERROR_MAX, "%s", sensors_strerror(r));
                return -EIO;
        }
        return (int) MIN(n, (unsigned) INT_MAX);
}

/* Whether libsensors's chip c is the one we named chip, of driver: by its name as sensors says it, or, for
 * chips that libsensors names alike (each virtual one is <driver>-virtual-0), by its driver alone, the path
 * telling them apart. So what a stale configuration (a rescan that could not load it) says of another chip
 * now at the same hwmon<N> is never taken for this one's. */
static bool chip_is(const sensors_chip_name *c, const char *driver, const char *chip) {
        char name[128], ours[128];

        if (strcmp(c->prefix, driver) != 0)
                return false;
        if (IN_SET(c->bus.type, SENSORS_BUS_TYPE_VIRTUAL, SENSORS_BUS_TYPE_ACPI))
                return true;
        if (sensors_snprintf_chip_name(name, sizeof(name), c) < 0)
                return false;
        sensor_name_from(ours, sizeof(ours), "hwmon-", name);
        return strcmp(ours, chip) == 0;
}

/* The chip libsensors found at chip_dir (/sys/class/hwmon/hwmon<N>: it builds the path as we do), if it
 * is the one we know there; NULL where there is none (none loaded, a fake tree elsewhere). Under the lock. */
static const sensors_chip_name *find_chip(const char *chip_dir, const char *driver, const char *chip) {
        const sensors_chip_name *c;
        int nr = 0;

        while ((c = sensors_get_detected_chips(NULL, &nr)))
                if (strcmp(c->path, chip_dir) == 0)
                        return chip_is(c, driver, chip) ? c : NULL;
        return NULL;
}

/* input's feature of chip (temp<M>): NULL where there is none, or where sensors.conf ignores it. */
static const sensors_feature *find_feature(const sensors_chip_name *chip, const char *input) {
        const sensors_feature *f;
        int nr = 0;

        while ((f = sensors_get_features(chip, &nr)))
                if (f->type == SENSORS_FEATURE_TEMP && strcmp(f->name, input) == 0)
                        return f;
        return NULL;
}

/* A value of chip's, its compute applied, in millidegrees. */
static int get_millidegrees(const sensors_chip_name *chip, int subfeature, int64_t *ret) {
        double v;
        int r;

        r = sensors_get_value(chip, subfeature, &v);
        if (r < 0)
                return r == -SENSORS_ERR_IO ? -EIO : r == -SENSORS_ERR_KERNEL ? -ENOENT : -EBADMSG;
        /* The bounds of sensor_read_millidegrees(), on the value as it will be. */
        if (!isfinite(v) || fabs(v) > 1e9)
                return -ERANGE;
        v = round(v * 1000);
        if (v <= SENSOR_MILLIDEGREES_MIN || v >= SENSOR_MILLIDEGREES_MAX)
                return -ERANGE;
        *ret = (int64_t) v;
        return 0;
}

typedef struct LimitLookup {
        const sensors_chip_name *chip;
        const sensors_feature *feature;
} LimitLookup;

static bool get_limit(void *userdata, const char *attribute, int64_t *ret) {
        const LimitLookup *k = userdata;
        const sensors_subfeature *sub;
        int nr = 0;

        while ((sub = sensors_get_all_subfeatures(k->chip, k->feature, &nr)))
                if (strcmp(sub->name, attribute) == 0)
                        return (sub->flags & SENSORS_MODE_R) && get_millidegrees(k->chip, sub->number, ret) >= 0;
        return false;
}

int libsensors_input(const char *chip_dir, const char *driver, const char *chip_name, const char *input,
                char **ret_label, Limits *ret_limits) {
        const sensors_chip_name *chip;
        const sensors_feature *feature;
        char *label = NULL;
        Limits limits;
        int r = 1;

        assert(chip_dir);
        assert(driver);
        assert(chip_name);
        assert(input);
        assert(ret_label);
        assert(ret_limits);

        (void) pthread_rwlock_rdlock(&libsensors_lock);
        chip = find_chip(chip_dir, driver, chip_name);
        feature = chip ? find_feature(chip, input) : NULL;
        if (!chip)
                r = -ENOENT;
        else if (!feature)
                r = 0;
        else {
                /* What sensors prints before the reading: the label sensors.conf gives, else the chip's
                 * own, else the input's name, which is no label. */
                label = sensors_get_label(chip, feature);
                if (!label)
                        r = -ENOMEM;
                else if (strcmp(label, input) == 0)
                        label = mfree(label);
                hwmon_limits_from(get_limit, &(LimitLookup) { chip, feature }, input, &limits);
        }
        (void) pthread_rwlock_unlock(&libsensors_lock);
        if (r == 1) {
                *ret_label = label;
                *ret_limits = limits;
        }
        return r;
}

/* Looked up at each reading: a reload frees what libsensors had, and may find the chip's inputs in another
 * order. */
static int libsensors_read(Sensor *s, int64_t *ret) {
        LibsensorsSensor *p = container_of(s, LibsensorsSensor, sensor);
        const sensors_subfeature *sub = NULL;
        const sensors_chip_name *chip;
        const sensors_feature *feature;
        int r = -ENOENT;

        (void) pthread_rwlock_rdlock(&libsensors_lock);
        chip = find_chip(p->chip_dir, p->driver, s->chip);
        feature = chip ? find_feature(chip, p->input) : NULL;
        if (feature)
                sub = sensors_get_subfeature(chip, feature, SENSORS_SUBFEATURE_TEMP_INPUT);
        if (sub)
                r = get_millidegrees(chip, sub->number, ret);
        (void) pthread_rwlock_unlock(&libsensors_lock);
        /* No such chip now (a reload that failed, or that has not come yet): the file, as it is. A rescan
         * makes it a sensor of its own kind, with limits to match. */
        if (!sub)
                return sensor_read_millidegrees(s->path, ret);
        /* libsensors says little of why a read failed: the file itself says it (gone, EIO, ENODATA). */
        if (r == -ENOENT || r == -EIO || r == -EBADMSG) {
                int64_t v;
                int k = sensor_read_millidegrees(s->path, &v);

                return k < 0 ? k : r;
        }
        return r;
}

static void libsensors_free(Sensor *s) {
        LibsensorsSensor *p = container_of(s, LibsensorsSensor, sensor);

        free(p->chip_dir);
        free(p->driver);
        free(p);
}

static const SensorOps libsensors_ops = {
        .read = libsensors_read,
        .free = libsensors_free,
};

int sensor_libsensors_new(const char *chip_dir, const char *driver, const char *chip, const char *input,
                const char *path, const char *name, const char *source, const char *label, bool slow, Sensor **ret) {
        _cleanup_(sensor_unrefp) Sensor *s = NULL;
        LibsensorsSensor *p;
        int r;

        assert(chip_dir);
        assert(driver);
        assert(chip);
        assert(input);
        assert(path);
        assert(name);
        assert(source);
        assert(ret);

        if (strlen(input) >= sizeof(p->input))
                return -EINVAL;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        s = &p->sensor;
        r = sensor_init(s, &libsensors_ops, path, name, source, label, slow);
        if (r < 0)
                return r;
        strcpy(p->input, input);
        p->chip_dir = strdup(chip_dir);
        p->driver = strdup(driver);
        s->chip = strdup(chip);
        if (!p->chip_dir || !p->driver || !s->chip)
                return -ENOMEM;
        *ret = TAKE_PTR(s);
        return 0;
}
