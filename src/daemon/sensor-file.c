/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol.h"
#include "sensor.h"

typedef struct PathSensor {
        Sensor sensor;
} PathSensor;

int sensor_read_millidegrees(const char *path, int64_t *ret) {
        _cleanup_close_ int fd = -EBADF;
        char buf[32], *end, more;
        struct stat st;
        long long v;
        ssize_t n;

        assert(path);
        assert(ret);

        /* Opened anew for every reading: sysfs gives a fresh value only to a fresh read. Never waiting
         * to open (a FIFO without a writer), and only a regular file is read: sysfs attributes and 1-Wire
         * files are; a FIFO, a tty or a device could block the reader for good. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        if (n == 0)
                return -ENODATA;
        /* All of it, or it is no reading: a number cut at the buffer's end would read as another. */
        if ((size_t) n == sizeof(buf) - 1 && read(fd, &more, 1) != 0)
                return -EBADMSG;
        buf[n] = '\0';

        /* A number, and a newline at most: an embedded NUL would end it early ("21\0" "000"), and strtoll()
         * would skip blanks before it. */
        if (!strchr("+-0123456789", buf[0]) || buf[0] == '\0')
                return -EBADMSG;
        errno = 0;
        v = strtoll(buf, &end, 10);
        if (errno != 0 || end == buf || (end != buf + n && !(*end == '\n' && end + 1 == buf + n)))
                return -EBADMSG;
        if (v <= SENSOR_MILLIDEGREES_MIN || v >= SENSOR_MILLIDEGREES_MAX)
                return -ERANGE;
        *ret = v;
        return 0;
}

static int path_read(Sensor *s, int64_t *ret) {
        return sensor_read_millidegrees(s->path, ret);
}

static void path_free(Sensor *s) {
        free(container_of(s, PathSensor, sensor));
}

static const SensorOps path_ops = {
        .read = path_read,
        .free = path_free,
};

int sensor_path_new(const char *path, const char *name, const char *source, const char *label, bool slow,
                Sensor **ret) {
        _cleanup_(sensor_unrefp) Sensor *s = NULL;
        PathSensor *p;
        int r;

        assert(path);
        assert(name);
        assert(source);
        assert(ret);

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        s = &p->sensor;
        r = sensor_init(s, &path_ops, path, name, source, label, slow);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

/* A name from the path: the file's own name, or for the usual names of a reading (temperature,
 * temp1_input, w1_slave) its directory's, as a 1-Wire device's address: file-28-000005e2fdc3. */
static void name_from_path(const char *path, char name[static PROTOCOL_NAME_MAX + 1]) {
        static const char *const generic_names[] = { "temperature", "temp", "w1_slave", "input", "value" };
        const char *base = strrchr(path, '/') + 1, *dir = base - 1;
        bool generic = startswith(base, "temp") && strstr(base, "_input");
        char word[PATH_MAX];

        while (dir > path && dir[-1] != '/')
                dir--;
        for (size_t k = 0; !generic && k < ELEMENTSOF(generic_names); k++)
                generic = strcmp(base, generic_names[k]) == 0;
        if (generic && dir < base - 1)
                snprintf(word, sizeof(word), "%.*s", (int) (base - 1 - dir), dir);
        else
                snprintf(word, sizeof(word), "%s", base);
        sensor_name_from(name, PROTOCOL_NAME_MAX + 1, "file-", word);
}

int sensor_file_new(const char *args, Sensor **ret, char error[static SENSOR_ERROR_MAX]) {
        char source[PROTOCOL_SOURCE_MAX + 1], name[PROTOCOL_NAME_MAX + 1];
        struct stat st;

        assert(ret);
        assert(error);

        if (!args || args[0] != '/' || args[1] == '\0' || args[strlen(args) - 1] == '/') {
                snprintf(error, SENSOR_ERROR_MAX, "expected file:/absolute/path");
                return -EINVAL;
        }
        /* One word in HELLO and in logs, and a line of its own in SENSORS: nothing that would break them. */
        for (const char *p = args; *p; p++)
                if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 0x7f) {
                        snprintf(error, SENSOR_ERROR_MAX, "the path may hold no blanks, control or non-ASCII characters");
                        return -EINVAL;
                }
        if (snprintf(source, sizeof(source), "file:%s", args) >= (int) sizeof(source)) {
                snprintf(error, SENSOR_ERROR_MAX, "the path is longer than %zu characters",
                                sizeof(source) - 1 - strlen("file:"));
                return -EINVAL;
        }
        /* Checked now, to say so at start: a file that is there and no regular file stays refused. */
        if (stat(args, &st) == 0 && !S_ISREG(st.st_mode)) {
                snprintf(error, SENSOR_ERROR_MAX, "not a regular file (a FIFO or a device could block the reader)");
                return -EINVAL;
        }

        name_from_path(args, name);
        /* Any file may be slow (a DS18B20 converts for 750ms): read it off the event loop. */
        return sensor_path_new(args, name, source, NULL, true, ret);
}
