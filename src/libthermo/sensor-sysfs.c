/* SPDX-License-Identifier: MIT */
/* The temperature sensors Linux shows under /sys: thermal zones (/sys/class/thermal/thermal_zone<N>/temp,
 * named by their 'type') and hwmon chips (/sys/class/hwmon/hwmon<N>/temp<M>_input, named by the chip's
 * 'name' and each input's 'temp<M>_label'). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "protocol.h"
#include "reading.h"
#include "sensor.h"

#define SYSFS_PATH_MAX 512

/* One sensor found: its spec (what --sensor takes), a label for people, and the file to read. */
typedef struct Found {
        char spec[128];
        char label[300];
        char path[4 * SYSFS_PATH_MAX];
} Found;

/* Return > 0 to stop the walk there. */
typedef int (*found_handler_t)(const Found *f, void *userdata);

/* Where sysfs is: /sys, unless $THERMO_SYSFS_ROOT says otherwise (the tests' fake trees). */
static const char *sensor_sysfs_root(void) {
        return getenv("THERMO_SYSFS_ROOT") ?: "/sys";
}

/* The first line of a small sysfs attribute, without its newline; "" when it cannot be read. */
static void read_attribute(const char *path, char *buf, size_t size) {
        FILE *f = fopen(path, "re");

        buf[0] = '\0';
        if (!f)
                return;
        if (!fgets(buf, (int) size, f))
                buf[0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        fclose(f);
}

/* Entries of dir starting with prefix and a number, in the order of that number (zone2 before zone10).
 * *ret is to be freed with free_entries() whatever the count, 0 included. */
static int scan(const char *dir, const char *prefix, struct dirent ***ret) {
        int n = scandir(dir, ret, NULL, versionsort);
        int k = 0;

        if (n < 0) {
                *ret = NULL;
                return 0;
        }
        for (int i = 0; i < n; i++) {
                const char *name = (*ret)[i]->d_name;
                size_t len = strlen(prefix);

                if (strncmp(name, prefix, len) == 0 && name[len] >= '0' && name[len] <= '9')
                        (*ret)[k++] = (*ret)[i];
                else
                        free((*ret)[i]);
        }
        return k;
}

static void free_entries(struct dirent **entries, int n) {
        for (int i = 0; i < n; i++)
                free(entries[i]);
        free(entries);
}

/* HELLO and the spec are words: no blanks. */
static void wordify(char *s) {
        for (; *s; s++)
                if (*s == ' ' || *s == '\t')
                        *s = '_';
}

static int walk_thermal(found_handler_t handler, void *userdata) {
        char dir[SYSFS_PATH_MAX], type[64];
        struct dirent **zones;
        int n, r = 0;

        snprintf(dir, sizeof(dir), "%s/class/thermal", sensor_sysfs_root());
        n = scan(dir, "thermal_zone", &zones);
        for (int i = 0; i < n && r == 0; i++) {
                Found f;
                char path[SYSFS_PATH_MAX + 300];

                snprintf(path, sizeof(path), "%s/%s/type", dir, zones[i]->d_name);
                read_attribute(path, type, sizeof(type));
                snprintf(f.spec, sizeof(f.spec), "thermal:%s", zones[i]->d_name + strlen("thermal_zone"));
                snprintf(f.label, sizeof(f.label), "%s", type[0] ? type : zones[i]->d_name);
                snprintf(f.path, sizeof(f.path), "%s/%s/temp", dir, zones[i]->d_name);
                r = handler(&f, userdata);
        }
        free_entries(zones, n);
        return r;
}

static int walk_hwmon(found_handler_t handler, void *userdata) {
        char dir[SYSFS_PATH_MAX], chip[64];
        struct dirent **chips;
        int n, r = 0;

        snprintf(dir, sizeof(dir), "%s/class/hwmon", sensor_sysfs_root());
        n = scan(dir, "hwmon", &chips);
        for (int i = 0; i < n && r == 0; i++) {
                char chip_dir[SYSFS_PATH_MAX + 300], path[SYSFS_PATH_MAX + 600];
                struct dirent **inputs;
                int m;

                snprintf(chip_dir, sizeof(chip_dir), "%s/%s", dir, chips[i]->d_name);
                snprintf(path, sizeof(path), "%s/name", chip_dir);
                read_attribute(path, chip, sizeof(chip));
                if (!chip[0])
                        continue;
                wordify(chip);

                m = scan(chip_dir, "temp", &inputs);
                for (int k = 0; k < m && r == 0; k++) {
                        const char *name = inputs[k]->d_name;
                        size_t digits = strspn(name + 4, "0123456789");
                        char label[96];
                        Found f;

                        /* temp<M>_input only: temp<M>_label, _max, _crit are not readings. */
                        if (strcmp(name + 4 + digits, "_input") != 0)
                                continue;
                        snprintf(path, sizeof(path), "%s/temp%.*s_label", chip_dir, (int) digits, name + 4);
                        read_attribute(path, label, sizeof(label));
                        snprintf(f.spec, sizeof(f.spec), "hwmon:%s/temp%.*s", chip, (int) digits, name + 4);
                        if (label[0])
                                snprintf(f.label, sizeof(f.label), "%s", label);
                        else
                                snprintf(f.label, sizeof(f.label), "%s temp%.*s", chip, (int) digits, name + 4);
                        snprintf(f.path, sizeof(f.path), "%s/%s", chip_dir, name);
                        r = handler(&f, userdata);
                }
                free_entries(inputs, m);
        }
        free_entries(chips, n);
        return r;
}

static int walk(found_handler_t handler, void *userdata) {
        int r = walk_thermal(handler, userdata);
        return r != 0 ? r : walk_hwmon(handler, userdata);
}

typedef struct Match {
        const char *kind;   /* "thermal:" or "hwmon:" */
        const char *want;   /* what follows it in the spec */
        Found found;
        bool ok;
} Match;

static int match(const Found *f, void *userdata) {
        Match *m = userdata;
        const char *spec = f->spec + strlen(m->kind);
        size_t chip_len;

        if (strncmp(f->spec, m->kind, strlen(m->kind)) != 0)
                return 0;

        if (strcmp(m->kind, "thermal:") == 0) {
                /* thermal:<N> or thermal:<type> */
                if (strcmp(spec, m->want) != 0 && strcmp(f->label, m->want) != 0)
                        return 0;
        } else {
                /* hwmon:<chip>, hwmon:<chip>/temp<M> or hwmon:<chip>/<label> */
                const char *slash = strchr(m->want, '/');

                chip_len = slash ? (size_t) (slash - m->want) : strlen(m->want);
                if (strncmp(spec, m->want, chip_len) != 0 || spec[chip_len] != '/')
                        return 0;
                if (slash && strcmp(spec + chip_len + 1, slash + 1) != 0 && strcmp(f->label, slash + 1) != 0)
                        return 0;
        }
        m->found = *f;
        m->ok = true;
        return 1;
}

static int new_matching(const char *kind, const char *args, Sensor **ret, const char **ret_error) {
        Match m = { .kind = kind, .want = args };

        if (!args || !args[0]) {
                *ret_error = strcmp(kind, "thermal:") == 0 ? "expected thermal:<zone number or type>" :
                                                             "expected hwmon:<chip>[/<label>]";
                return -EINVAL;
        }
        (void) walk(match, &m);
        if (!m.ok) {
                *ret_error = "no such sensor (see --list-sensors)";
                return -ENOENT;
        }
        return sensor_path_new(m.found.path, m.found.spec, m.found.label, ret);
}

int sensor_thermal_new(const char *args, Sensor **ret, const char **ret_error) {
        assert(ret);
        assert(ret_error);

        return new_matching("thermal:", args, ret, ret_error);
}

int sensor_hwmon_new(const char *args, Sensor **ret, const char **ret_error) {
        assert(ret);
        assert(ret_error);

        return new_matching("hwmon:", args, ret, ret_error);
}

static int first_usable(const Found *f, void *userdata) {
        Match *m = userdata;
        int64_t v;

        if (sensor_read_millidegrees(f->path, &v) < 0)
                return 0;
        m->found = *f;
        m->ok = true;
        return 1;
}

int sensor_auto_new(const char *args, Sensor **ret, const char **ret_error) {
        Match m = {};
        int r;

        assert(ret);
        assert(ret_error);

        if (args) {
                *ret_error = "auto takes no arguments";
                return -EINVAL;
        }
        /* Thermal zones first, then hwmon, as walk() goes: the first that gives a reading now. */
        (void) walk(first_usable, &m);
        if (m.ok) {
                r = sensor_path_new(m.found.path, m.found.spec, m.found.label, ret);
                if (r >= 0)
                        log_info("Sensor auto: %s (%s).", m.found.spec, m.found.label);
                return r;
        }
        log_info("Sensor auto: no temperature sensor under %s, simulating one.", sensor_sysfs_root());
        return sensor_simulated_new(NULL, ret, ret_error);
}

static int print_found(const Found *f, void *userdata) {
        FILE *out = userdata;
        char value[32];
        int64_t v;
        int r;

        r = sensor_read_millidegrees(f->path, &v);
        if (r < 0)
                snprintf(value, sizeof(value), "- (%s)", strerror(-r));
        else {
                format_millidegrees(value, sizeof(value), v);
                strcat(value, " °C");
        }
        fprintf(out, "%-32s %-24s %s\n", f->spec, f->label, value);
        return 0;
}

static int count_found(const Found *f, void *userdata) {
        (*(unsigned *) userdata)++;
        return 0;
}

int sensor_list(FILE *f) {
        unsigned n = 0;

        assert(f);

        (void) walk(count_found, &n);
        if (n == 0) {
                fprintf(f, "No temperature sensors under %s: --sensor=auto simulates one.\n", sensor_sysfs_root());
                return 0;
        }
        fprintf(f, "%-32s %-24s %s\n", "SPEC", "LABEL", "VALUE");
        return walk(print_found, f);
}
