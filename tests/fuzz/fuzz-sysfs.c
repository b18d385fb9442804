/* SPDX-License-Identifier: MIT */
/* What the kernel, or a fake tree, may show under /sys: the input builds a tree (thermal zones with any
 * type and temperature, hwmon chips with any name, inputs, labels, and devices on any bus, nested
 * anyhow, a zone's own chip among them), and sensor discovery reads it. Whatever is there, every sensor
 * found has a name the protocol allows, no two the same, and a source that fits a line. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "log.h"
#include "protocol.h"
#include "sensor.h"

static char root[64];

typedef struct Input {
        const uint8_t *data;
        size_t size;
} Input;

static uint8_t byte(Input *in) {
        if (in->size == 0)
                return 0;
        in->size--;
        return *in->data++;
}

/* A word of the input, up to a NUL, with no '/' (a path component) and not "." or "..". */
static const char *word(Input *in, char *buf, size_t max) {
        size_t n = 0;

        while (in->size > 0 && *in->data != '\0' && n + 1 < max) {
                char c = (char) byte(in);

                buf[n++] = c == '/' ? '_' : c;
        }
        (void) byte(in);
        buf[n] = '\0';
        if (n == 0 || strcmp(buf, ".") == 0 || strcmp(buf, "..") == 0)
                snprintf(buf, max, "x");
        return buf;
}

static void put(const char *path, const char *content) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        if (fd < 0)
                return;
        (void) write(fd, content, strlen(content));
        close(fd);
}

static void mkdirs(const char *path) {
        char buf[4096];

        snprintf(buf, sizeof(buf), "%s", path);
        for (char *p = buf + strlen(root) + 1; (p = strchr(p, '/')); p++) {
                *p = '\0';
                (void) mkdir(buf, 0755);
                *p = '/';
        }
        (void) mkdir(buf, 0755);
}

/* A device for a chip to sit on: devices/<parent>/<name>, in subsystem bus/<bus> (or none, a grouping
 * directory), the chip's "device" link pointing at it. */
static void device(Input *in, const char *chip) {
        static const char *const buses[] = { "pci", "platform", "i2c", "spi", "acpi", "scsi", "hid", "nvme", "thermal" };
        char parent[64], name[64], dir[1024], bus[128], link[1200], target[1100];
        uint8_t how = byte(in);

        word(in, parent, sizeof(parent));
        word(in, name, sizeof(name));
        snprintf(dir, sizeof(dir), "%s/devices/%s/%s", root, parent, name);
        mkdirs(dir);
        if (how % 4 != 0) {
                snprintf(bus, sizeof(bus), "%s/%s/%s", root, how % 4 == 3 ? "class" : "bus", buses[how / 4 % ELEMENTSOF(buses)]);
                mkdirs(bus);
                snprintf(link, sizeof(link), "%s/subsystem", dir);
                (void) symlink(bus, link);
        }
        snprintf(link, sizeof(link), "%s/device", chip);
        snprintf(target, sizeof(target), "%s", dir);
        (void) symlink(target, link);
}

static void build(Input *in) {
        char dir[512], path[1024], text[64], label[64];

        while (in->size > 0) {
                uint8_t kind = byte(in), n = byte(in);

                if (kind % 2 == 0) {
                        snprintf(dir, sizeof(dir), "%s/class/thermal/thermal_zone%u", root, n % 16);
                        mkdirs(dir);
                        snprintf(path, sizeof(path), "%s/type", dir);
                        put(path, word(in, text, sizeof(text)));
                        snprintf(path, sizeof(path), "%s/temp", dir);
                        put(path, word(in, text, sizeof(text)));
                        if (byte(in) % 2)
                                device(in, dir);
                        continue;
                }
                snprintf(dir, sizeof(dir), "%s/class/hwmon/hwmon%u", root, n % 16);
                mkdirs(dir);
                snprintf(path, sizeof(path), "%s/name", dir);
                put(path, word(in, text, sizeof(text)));
                for (uint8_t k = byte(in) % 4; k > 0; k--) {
                        unsigned input = byte(in) % 8;

                        snprintf(path, sizeof(path), "%s/temp%u_input", dir, input);
                        put(path, word(in, text, sizeof(text)));
                        snprintf(path, sizeof(path), "%s/temp%u_label", dir, input);
                        put(path, word(in, label, sizeof(label)));
                }
                if (byte(in) % 2)
                        device(in, dir);
        }
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

static void remove_tree(void) {
        (void) nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Input in = { data, size };
        Sensor **sensors = NULL;
        int n;

        if (!root[0]) {
                /* In memory (/dev/shm is a tmpfs): a tree a turn, made and removed. */
                snprintf(root, sizeof(root), "/dev/shm/thermo-fuzz-sysfs-%i", (int) getpid());
                if (setenv("THERMO_SYSFS_ROOT", root, 1) < 0 || atexit(remove_tree) != 0)
                        abort();
                log_set_max_level(LOG_CRIT);
        }
        remove_tree();
        if (mkdir(root, 0755) < 0)
                abort();
        build(&in);

        n = sensor_discover(&sensors);
        if (n < 0 && n != -ENOMEM)
                abort();
        for (int i = 0; i < n; i++) {
                if (!protocol_name_is_valid(sensors[i]->name, strlen(sensors[i]->name)) ||
                                strlen(sensors[i]->source) > PROTOCOL_SOURCE_MAX || strpbrk(sensors[i]->source, "\n\r"))
                        abort();
                for (int k = 0; k < i; k++)
                        if (strcmp(sensors[k]->name, sensors[i]->name) == 0)
                                abort();
        }
        for (int i = 0; i < n; i++)
                sensor_unref(sensors[i]);
        free(sensors);
        return 0;
}
