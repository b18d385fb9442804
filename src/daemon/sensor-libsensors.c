/* SPDX-License-Identifier: MIT */
/* hwmon chips as lm-sensors' sensors(1) sees them, through libsensors, the library sensors is built on:
 * what /etc/sensors3.conf and /etc/sensors.d/ say of each input (its label; compute, for its reading and
 * its limits alike; ignore), so that thermo says what sensors says. Names are none of its business: they
 * come of sysfs alone (sensor-sysfs.c), and a label written in sensors.conf changes what people see only.
 *
 * libsensors keeps one configuration for the whole process, in globals of its own, that sensors_init()
 * fills and sensors_cleanup() frees. The lock and the flag below are its companions, not state of ours:
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
static bool libsensors_loaded;
static unsigned libsensors_parse_errors; /* of the load under way: libsensors says them only to its callback */

typedef struct LibsensorsSensor {
        Sensor sensor;
        sensors_chip_name chip; /* our own copy: the library's is freed at each reload */
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
        if (libsensors_loaded)
                sensors_cleanup();
        libsensors_parse_errors = 0;
        /* NULL: the files sensors reads by default, /etc/sensors3.conf (or /etc/sensors.conf) and then
         * /etc/sensors.d/. */
        r = sensors_init(NULL);
        libsensors_loaded = r == 0;
        n = libsensors_parse_errors;
        (void) pthread_rwlock_unlock(&libsensors_lock);
        if (r != 0) {
                snprintf(error, SENSOR_ERROR_MAX, "%s", sensors_strerror(r));
                return -EIO;
        }
        return (int) MIN(n, (unsigned) INT_MAX);
}

/* The chip libsensors found at chip_dir (/sys/class/hwmon/hwmon<N>, as it builds the path too), or the
 * chip of that name, wherever it is now; NULL where there is none. Under the lock. */
static const sensors_chip_name *find_chip(const char *chip_dir, const sensors_chip_name *match) {
        const sensors_chip_name *c;
        int nr = 0;

        if (!libsensors_loaded)
                return NULL;
        while ((c = sensors_get_detected_chips(match, &nr)))
                if (match || strcmp(c->path, chip_dir) == 0)
                        return c;
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
        if (!isfinite(v) || v * 1000 <= SENSOR_MILLIDEGREES_MIN || v * 1000 >= SENSOR_MILLIDEGREES_MAX)
                return -ERANGE;
        *ret = llround(v * 1000);
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

int libsensors_input(const char *chip_dir, const char *input, char **ret_label, Limits *ret_limits) {
        const sensors_chip_name *chip;
        const sensors_feature *feature;
        char *label = NULL;
        int r = 1;

        assert(chip_dir);
        assert(input);
        assert(ret_label);
        assert(ret_limits);

        (void) pthread_rwlock_rdlock(&libsensors_lock);
        chip = find_chip(chip_dir, NULL);
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
                hwmon_limits_from(get_limit, &(LimitLookup) { chip, feature }, input, ret_limits);
        }
        (void) pthread_rwlock_unlock(&libsensors_lock);
        *ret_label = label;
        return r;
}

/* Looked up at each reading, by name: a reload frees what libsensors had, and may find the chip's inputs
 * in another order. */
static int libsensors_read(Sensor *s, int64_t *ret) {
        LibsensorsSensor *p = container_of(s, LibsensorsSensor, sensor);
        const sensors_subfeature *sub;
        const sensors_chip_name *chip;
        const sensors_feature *feature;
        int r = -ENOENT;

        (void) pthread_rwlock_rdlock(&libsensors_lock);
        chip = find_chip(NULL, &p->chip);
        feature = chip ? find_feature(chip, p->input) : NULL;
        sub = feature ? sensors_get_subfeature(chip, feature, SENSORS_SUBFEATURE_TEMP_INPUT) : NULL;
        if (sub)
                r = get_millidegrees(chip, sub->number, ret);
        (void) pthread_rwlock_unlock(&libsensors_lock);
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

        free(p->chip.prefix);
        free(p->chip.path);
        free(p);
}

static const SensorOps libsensors_ops = {
        .read = libsensors_read,
        .free = libsensors_free,
};

int sensor_libsensors_new(const char *chip_dir, const char *input, const char *path, const char *name,
                const char *source, const char *label, bool slow, Sensor **ret) {
        _cleanup_(sensor_unrefp) Sensor *s = NULL;
        const sensors_chip_name *chip;
        LibsensorsSensor *p;
        int r = 0;

        assert(chip_dir);
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

        (void) pthread_rwlock_rdlock(&libsensors_lock);
        chip = find_chip(chip_dir, NULL);
        if (!chip)
                r = -ENOENT;
        else {
                p->chip.bus = chip->bus;
                p->chip.addr = chip->addr;
                p->chip.prefix = strdup(chip->prefix);
                p->chip.path = strdup(chip->path);
                if (!p->chip.prefix || !p->chip.path)
                        r = -ENOMEM;
        }
        (void) pthread_rwlock_unlock(&libsensors_lock);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}
