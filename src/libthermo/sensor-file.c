/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"
#include "sensor.h"

/* The coldest a thermometer can say, and a bound no room, board or CPU reaches: beyond either, the
 * driver is telling us it has no reading (a DS18B20 that lost power says 85000, some chips -273150). */
#define MILLIDEGREES_MIN (-273150)
#define MILLIDEGREES_MAX 1000000

typedef struct PathSensor {
        Sensor sensor;
        char *path;
} PathSensor;

int sensor_read_millidegrees(const char *path, int64_t *ret) {
        _cleanup_close_ int fd = -EBADF;
        char buf[32], *end;
        long long v;
        ssize_t n;

        assert(path);
        assert(ret);

        /* Opened anew for every reading: sysfs gives a fresh value only to a fresh read. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        if (n == 0)
                return -ENODATA;
        buf[n] = '\0';

        errno = 0;
        v = strtoll(buf, &end, 10);
        if (errno != 0 || end == buf || (*end != '\0' && *end != '\n'))
                return -EBADMSG;
        if (v <= MILLIDEGREES_MIN || v >= MILLIDEGREES_MAX)
                return -ERANGE;
        *ret = v;
        return 0;
}

static int path_read(Sensor *s, int64_t *ret) {
        return sensor_read_millidegrees(((PathSensor *) s)->path, ret);
}

static void path_free(Sensor *s) {
        free(((PathSensor *) s)->path);
        free(s);
}

static const SensorOps path_ops = {
        .read = path_read,
        .free = path_free,
};

int sensor_path_new(const char *path, const char *description, const char *label, Sensor **ret) {
        PathSensor *p;

        assert(path);
        assert(description);
        assert(ret);

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->sensor.ops = &path_ops;
        p->path = strdup(path);
        p->sensor.description = strdup(description);
        p->sensor.label = label ? strdup(label) : NULL;
        if (!p->path || !p->sensor.description || (label && !p->sensor.label)) {
                free(p->sensor.description);
                free(p->sensor.label);
                path_free(&p->sensor);
                return -ENOMEM;
        }
        *ret = &p->sensor;
        return 0;
}

int sensor_file_new(const char *args, Sensor **ret, const char **ret_error) {
        char description[4096];

        assert(ret);
        assert(ret_error);

        if (!args || args[0] != '/') {
                *ret_error = "expected file:/absolute/path";
                return -EINVAL;
        }
        /* A word in HELLO: no blanks in it. */
        if (strpbrk(args, " \t")) {
                *ret_error = "the path may not contain blanks";
                return -EINVAL;
        }
        snprintf(description, sizeof(description), "file:%s", args);
        return sensor_path_new(args, description, NULL, ret);
}
