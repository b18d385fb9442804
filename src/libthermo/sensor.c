/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "sensor.h"

static const struct {
        const char *name;
        int (*new)(const char *args, Sensor **ret, const char **ret_error);
} backends[] = {
        { "auto", sensor_auto_new },
        { "simulated", sensor_simulated_new },
        { "thermal", sensor_thermal_new },
        { "hwmon", sensor_hwmon_new },
        { "file", sensor_file_new },
};

int sensor_new(const char *spec, Sensor **ret, const char **ret_error) {
        const char *colon;
        size_t len;

        assert(spec);
        assert(ret);
        assert(ret_error);

        colon = strchr(spec, ':');
        len = colon ? (size_t) (colon - spec) : strlen(spec);

        for (size_t i = 0; i < ELEMENTSOF(backends); i++)
                if (strlen(backends[i].name) == len && strncmp(spec, backends[i].name, len) == 0)
                        return backends[i].new(colon ? colon + 1 : NULL, ret, ret_error);

        *ret_error = "unknown sensor type";
        return -EINVAL;
}

Sensor *sensor_free(Sensor *s) {
        if (s) {
                free(s->name);
                free(s->description);
                free(s->label);
                s->ops->free(s);
        }
        return NULL;
}
