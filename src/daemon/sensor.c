/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "protocol.h"
#include "sensor.h"

static const struct {
        const char *type;
        int (*new)(const char *args, Sensor **ret, char error[static SENSOR_ERROR_MAX]);
} backends[] = {
        { "simulated", sensor_simulated_new },
        { "thermal", sensor_thermal_new },
        { "hwmon", sensor_hwmon_new },
        { "file", sensor_file_new },
};

int sensor_new(const char *spec, Sensor **ret, char error[static SENSOR_ERROR_MAX]) {
        const char *colon;
        size_t len;

        assert(spec);
        assert(ret);
        assert(error);

        colon = strchr(spec, ':');
        len = colon ? (size_t) (colon - spec) : strlen(spec);
        for (size_t i = 0; i < ELEMENTSOF(backends); i++)
                if (strlen(backends[i].type) == len && strncmp(spec, backends[i].type, len) == 0)
                        return backends[i].new(colon ? colon + 1 : NULL, ret, error);

        snprintf(error, SENSOR_ERROR_MAX, "unknown sensor type (auto, simulated, thermal, hwmon or file)");
        return -EINVAL;
}

int sensor_init(Sensor *s, const SensorOps *ops, const char *path, const char *name, const char *source,
                const char *label, bool slow) {
        assert(s);
        assert(ops);
        assert(name);
        assert(source);

        s->ops = ops;
        s->slow = slow;
        s->limits = LIMITS_NONE;
        s->path = path ? strdup(path) : NULL;
        s->name = strdup(name);
        s->source = strdup(source);
        s->label = label ? strdup(label) : NULL;
        if ((path && !s->path) || !s->name || !s->source || (label && !s->label))
                return -ENOMEM;
        return 0;
}

Sensor *sensor_ref(Sensor *s) {
        assert(s);
        __atomic_add_fetch(&s->n_ref, 1, __ATOMIC_RELAXED);
        return s;
}

Sensor *sensor_unref(Sensor *s) {
        unsigned n;

        if (!s)
                return NULL;
        /* Zeroed memory is a sensor with its owner's reference alone: n_ref counts the others. */
        n = __atomic_load_n(&s->n_ref, __ATOMIC_ACQUIRE);
        do
                if (n == 0)
                        break;
        while (!__atomic_compare_exchange_n(&s->n_ref, &n, n - 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
        if (n > 0)
                return NULL;
        free(s->name);
        free(s->source);
        free(s->label);
        free(s->chip);
        free(s->path);
        s->ops->free(s);
        return NULL;
}

int sensor_set_name(Sensor *s, const char *name) {
        char *copy;

        assert(s);
        assert(name);
        assert(protocol_name_is_valid(name, strlen(name)));

        copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        free(s->name);
        s->name = copy;
        return 0;
}

void sensor_name_from(char *buf, size_t size, const char *prefix, const char *s) {
        size_t n = 0;

        assert(buf);
        assert(size > 1);
        assert(prefix);
        assert(s);

        if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z'))
                for (; *prefix && n + 1 < size; prefix++)
                        buf[n++] = *prefix;
        for (; *s && n + 1 < size; s++) {
                char c = *s;

                if (c >= 'A' && c <= 'Z')
                        c = (char) (c - 'A' + 'a');
                else if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && !IN_SET(c, '.', '-'))
                        c = '_';
                buf[n++] = c;
        }
        buf[n] = '\0';
}

const char *sensor_sysfs_root(void) {
        return secure_getenv("THERMO_SYSFS_ROOT") ?: "/sys";
}
