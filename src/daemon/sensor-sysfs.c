/* SPDX-License-Identifier: MIT */
/* The temperature sensors Linux shows under /sys, named for what the hardware is, the same on every boot:
 *
 * - thermal zones (class/thermal/thermal_zone<N>), by their type: x86_pkg_temp, cpu-thermal; zones of the
 *   same type by the device they belong to (acpitz-lnxtherm_00);
 * - the temperature inputs of hwmon chips (class/hwmon/hwmon<N>/temp<M>_input), by the chip as lm-sensors
 *   names it, its driver and the bus address of the device it sits on (nvme-pci-0100: two identical
 *   drives differ), then by the input's label or number: nvme-pci-0100-composite.
 *
 * A thermal zone also shows as an hwmon chip whose device is the zone: that one is the zone, and is served
 * once. The numbers N of thermal_zone<N> and hwmon<N> come from the order the kernel found things in and
 * are in no name. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "protocol.h"
#include "sensor-libsensors.h"
#include "sensor.h"

/* snprintf() that says whether all of it fit: a path that does not is none of ours, and a name or label is
 * cut where it must be. */
_printf_(3, 4) static bool format(char *buf, size_t size, const char *fmt, ...) {
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vsnprintf(buf, size, fmt, ap);
        va_end(ap);
        return k >= 0 && (size_t) k < size;
}

typedef enum FoundKind {
        FOUND_THERMAL,
        FOUND_HWMON,
} FoundKind;

typedef struct Found {
        FoundKind kind;
        unsigned zone;          /* thermal_zone<N>: for the old spec thermal:<N> only */
        char type[64];          /* thermal: the zone's type; hwmon: the chip's driver */
        char chip[64];          /* thermal: the zone's name; hwmon: <driver>-<bus>-<address> */
        char device[64];        /* thermal: what the zone's device is called, to tell zones of one type apart */
        char input[16];         /* hwmon: temp<M> */
        char label[128];        /* the hardware's: names are made of it */
        char shown[128];        /* what people see: sensors.conf's label where it gives one */
        char name[PROTOCOL_NAME_MAX + 1];
        char chip_dir[PATH_MAX]; /* hwmon: class/hwmon/hwmon<N> */
        char path[PATH_MAX];
        Limits limits;
        bool slow;
        bool libsensors;        /* hwmon: read through libsensors, for sensors.conf's compute */
        bool ignored;           /* hwmon: sensors.conf says ignore: named, never served by auto */
} Found;

typedef struct FoundList {
        Found *items;
        size_t n;
} FoundList;

static void found_list_done(FoundList *l) {
        l->items = mfree(l->items);
        l->n = 0;
}

static Found *found_list_add(FoundList *l) {
        Found *p = reallocarray(l->items, l->n + 1, sizeof(Found));

        if (!p)
                return NULL;
        l->items = p;
        p[l->n] = (Found) {};
        return &p[l->n++];
}

/* The first line of a small sysfs attribute, without its newline; "" when it cannot be read. */
static void read_attribute(const char *dir, const char *attribute, char *buf, size_t size) {
        char path[PATH_MAX];
        FILE *f;

        buf[0] = '\0';
        if (!format(path, sizeof(path), "%s/%s", dir, attribute))
                return;
        f = fopen(path, "re");
        if (!f)
                return;
        if (!fgets(buf, (int) size, f))
                buf[0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        fclose(f);
}

/* Entries of dir that are prefix and a number, in the order of that number (zone2 before zone10). */
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

static const char *last_component(const char *path) {
        const char *slash = strrchr(path, '/');
        return slash ? slash + 1 : path;
}

/* A limit in millidegrees from a sysfs attribute of dir: false where there is none. */
static bool read_limit(const char *dir, const char *attribute, int64_t *ret) {
        char path[PATH_MAX];

        return format(path, sizeof(path), "%s/%s", dir, attribute) && sensor_read_millidegrees(path, ret) >= 0;
}

/* A thermal zone's limits, from its trip points: the lowest passive or hot one is high, the lowest
 * critical one crit, each with the trip point's hysteresis where it has one. */
static void trip_points(const char *zone, Limits *l) {
        *l = LIMITS_NONE;
        for (unsigned k = 0; k < 32; k++) {
                char attribute[64], type[32];
                int64_t temp, hyst;
                bool crit;

                (void) format(attribute, sizeof(attribute), "trip_point_%u_type", k);
                read_attribute(zone, attribute, type, sizeof(type));
                if (!type[0])
                        break;
                crit = strcmp(type, "critical") == 0;
                if (!crit && strcmp(type, "passive") != 0 && strcmp(type, "hot") != 0)
                        continue;
                (void) format(attribute, sizeof(attribute), "trip_point_%u_temp", k);
                if (!read_limit(zone, attribute, &temp))
                        continue;
                (void) format(attribute, sizeof(attribute), "trip_point_%u_hyst", k);
                if (!read_limit(zone, attribute, &hyst) || hyst <= 0)
                        hyst = LEVEL_HYSTERESIS_DEFAULT;
                if (crit && (!l->has_crit || temp < l->crit)) {
                        l->crit = temp;
                        l->crit_hysteresis = hyst;
                        l->has_crit = true;
                } else if (!crit && (!l->has_high || temp < l->high)) {
                        l->high = temp;
                        l->high_hysteresis = hyst;
                        l->has_high = true;
                }
        }
}

/* An hwmon input's limits: <input>_min, _max and _crit, each with its _hyst where it has one (an absolute
 * temperature there, as a sensor's chip says it: the distance from the limit is the hysteresis). */
void hwmon_limits_from(hwmon_attribute_t get, void *userdata, const char *input, Limits *l) {
        static const struct {
                const char *limit, *hyst;
                size_t value, hysteresis;
        } kinds[] = {
                { "min", "min_hyst", offsetof(Limits, low), offsetof(Limits, low_hysteresis) },
                { "max", "max_hyst", offsetof(Limits, high), offsetof(Limits, high_hysteresis) },
                { "crit", "crit_hyst", offsetof(Limits, crit), offsetof(Limits, crit_hysteresis) },
        };

        assert(get);
        assert(input);
        assert(l);

        *l = LIMITS_NONE;
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                char attribute[64];
                int64_t v, hyst, *value = (int64_t *) ((char *) l + kinds[i].value),
                                 *hysteresis = (int64_t *) ((char *) l + kinds[i].hysteresis);

                (void) format(attribute, sizeof(attribute), "%s_%s", input, kinds[i].limit);
                if (!get(userdata, attribute, &v))
                        continue;
                *value = v;
                if (i == 0)
                        l->has_low = true;
                else if (i == 1)
                        l->has_high = true;
                else
                        l->has_crit = true;
                (void) format(attribute, sizeof(attribute), "%s_%s", input, kinds[i].hyst);
                if (get(userdata, attribute, &hyst) && (i == 0 ? hyst > v : hyst < v))
                        *hysteresis = i == 0 ? hyst - v : v - hyst;
        }
}

static bool read_chip_limit(void *userdata, const char *attribute, int64_t *ret) {
        return read_limit(userdata, attribute, ret);
}

static int thermal_zones(FoundList *l) {
        char dir[PATH_MAX], zone[PATH_MAX], device[PATH_MAX];
        struct dirent **zones;
        int n;

        (void) format(dir, sizeof(dir), "%s/class/thermal", sensor_sysfs_root());
        n = scan(dir, "thermal_zone", &zones);
        for (int i = 0; i < n; i++) {
                Found *f;

                if (!format(zone, sizeof(zone), "%s/%s/device", dir, zones[i]->d_name))
                        continue;
                f = found_list_add(l);
                if (!f) {
                        free_entries(zones, n);
                        return -ENOMEM;
                }
                if (realpath(zone, device))
                        (void) format(f->device, sizeof(f->device), "%s", last_component(device));
                /* zone is ".../thermal_zoneN/device": the zone's directory. */
                zone[strlen(zone) - strlen("/device")] = '\0';
                f->kind = FOUND_THERMAL;
                f->zone = (unsigned) strtoul(zones[i]->d_name + strlen("thermal_zone"), NULL, 10);
                read_attribute(zone, "type", f->type, sizeof(f->type));
                if (!f->type[0])
                        (void) format(f->type, sizeof(f->type), "thermal");
                (void) format(f->label, sizeof(f->label), "%s", f->type);
                (void) format(f->shown, sizeof(f->shown), "%s", f->label);
                (void) format(f->path, sizeof(f->path), "%s/temp", zone);
                trip_points(zone, &f->limits);
        }
        free_entries(zones, n);
        return 0;
}

/* Names zones by type; where several share one, by their device (an ACPI thermal zone's LNXTHERM:00), or
 * failing that by their place among those of the type. */
static void name_thermal_zones(FoundList *l) {
        for (size_t i = 0; i < l->n; i++) {
                Found *f = &l->items[i];
                size_t same = 0, before = 0, same_device = 0;

                if (f->kind != FOUND_THERMAL)
                        continue;
                for (size_t k = 0; k < l->n; k++) {
                        const Found *g = &l->items[k];

                        if (g->kind != FOUND_THERMAL || strcmp(g->type, f->type) != 0)
                                continue;
                        same++;
                        before += k < i;
                        same_device += strcmp(g->device, f->device) == 0;
                }
                if (same == 1)
                        sensor_name_from(f->name, sizeof(f->name), "thermal-", f->type);
                else {
                        char word[sizeof(f->type) + sizeof(f->device) + 16];

                        if (f->device[0] && same_device == 1)
                                (void) format(word, sizeof(word), "%s-%s", f->type, f->device);
                        else
                                (void) format(word, sizeof(word), "%s-%zu", f->type, before);
                        sensor_name_from(f->name, sizeof(f->name), "thermal-", word);
                }
                (void) format(f->chip, sizeof(f->chip), "%s", f->name);
        }
}

/* path's parent, in place: false at the top (a fake tree may have anything there). */
static bool up(char *path) {
        char *slash = strrchr(path, '/');

        if (!slash || slash == path)
                return false;
        *slash = '\0';
        return true;
}

/* "<bus>-<address>" of the device an hwmon chip sits on, as lm-sensors says it: pci-0100 (domain, bus,
 * slot, function), isa-0000 (a platform device), i2c-1-48, acpi-0, scsi-0-0; a class device (nvme0) sits on
 * its parent's bus. Sets *ret_thermal for a chip that is a thermal zone's own. */
static void chip_bus(const char *hwmon_dir, char *buf, size_t size, bool *ret_thermal) {
        char path[PATH_MAX], device[PATH_MAX], target[PATH_MAX];
        unsigned a, b, c, d;

        *ret_thermal = false;
        (void) format(buf, size, "virtual-0");
        if (!format(path, sizeof(path), "%s/device", hwmon_dir) || !realpath(path, device))
                return;

        for (int depth = 0; depth < 8; depth++) {
                const char *name = last_component(device), *subsystem;
                ssize_t n;

                if (!format(path, sizeof(path), "%s/subsystem", device))
                        return;
                n = readlink(path, target, sizeof(target) - 1);
                if (n < 0) {
                        /* A directory that groups devices (nvme/ of nvme0): what it is in is the device. */
                        if (!up(device) || strcmp(last_component(device), "devices") == 0)
                                return;
                        continue;
                }
                target[n] = '\0';
                subsystem = last_component(target);

                if (strcmp(subsystem, "thermal") == 0 && startswith(name, "thermal_zone")) {
                        *ret_thermal = true;
                        return;
                }
                if (!strstr(target, "/class/")) {
                        if (strcmp(subsystem, "pci") == 0 && sscanf(name, "%x:%x:%x.%x", &a, &b, &c, &d) == 4)
                                (void) format(buf, size, "pci-%04x", (a << 16) + (b << 8) + (c << 3) + d);
                        else if (strcmp(subsystem, "platform") == 0 || strcmp(subsystem, "of_platform") == 0)
                                (void) format(buf, size, "isa-%04x", sscanf(strchr(name, '.') ?: "", ".%u", &a) == 1 ? a : 0);
                        else if (strcmp(subsystem, "i2c") == 0 && sscanf(name, "%u-%x", &a, &b) == 2)
                                (void) format(buf, size, "i2c-%u-%02x", a, b);
                        else if (strcmp(subsystem, "spi") == 0 && sscanf(name, "spi%u.%u", &a, &b) == 2)
                                (void) format(buf, size, "spi-%u-%u", a, b);
                        else if (strcmp(subsystem, "acpi") == 0)
                                (void) format(buf, size, "acpi-0");
                        else if (strcmp(subsystem, "scsi") == 0 && sscanf(name, "%u:%u:%u:%u", &a, &b, &c, &d) == 4)
                                (void) format(buf, size, "scsi-%u-%u", a, c);
                        else if (strcmp(subsystem, "hid") == 0 && sscanf(name, "%x:%x:%x.%x", &a, &b, &c, &d) == 4)
                                (void) format(buf, size, "hid-%u-%x", a, d);
                        else
                                (void) format(buf, size, "%s-%s", subsystem, name);
                        return;
                }
                /* A class device: what it sits on is its parent. */
                if (!up(device))
                        return;
        }
}

/* "<chip>-<input>", within a name's length: the label where it fits, else temp<M>, else a shorter chip. */
static void name_input(Found *f) {
        char input[sizeof(f->label)];
        size_t room;

        if (f->label[0] && strlen(f->chip) + 1 + strlen(f->label) <= PROTOCOL_NAME_MAX)
                (void) format(input, sizeof(input), "%s", f->label);
        else
                (void) format(input, sizeof(input), "%s", f->input);
        room = PROTOCOL_NAME_MAX - MIN(strlen(input) + 1, (size_t) PROTOCOL_NAME_MAX - 1);
        {
                char word[sizeof(f->chip) + sizeof(input) + 2];

                (void) format(word, sizeof(word), "%.*s-%s", (int) room, f->chip, input);
                sensor_name_from(f->name, sizeof(f->name), "hwmon-", word);
        }
}

/* How many chips of this driver with no device to tell them apart came before. */
static unsigned virtual_chips_before(const FoundList *l, const char *chip_prefix) {
        unsigned n = 0;

        for (size_t i = 0; i < l->n; i++)
                if (l->items[i].kind == FOUND_HWMON && startswith(l->items[i].chip, chip_prefix) &&
                                (i == 0 || strcmp(l->items[i - 1].chip, l->items[i].chip) != 0))
                        n++;
        return n;
}

/* What sensors.conf says of f, through libsensors: its label, its limits computed, or that it is ignored;
 * nothing where libsensors does not know the chip. */
static int apply_sensors_conf(Found *f) {
        _cleanup_free_ char *label = NULL;
        Limits limits;
        int r;

        r = libsensors_input(f->chip_dir, f->type, f->chip, f->input, &label, &limits);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        f->ignored = r == 0;
        if (f->ignored)
                return 0;
        f->libsensors = true;
        f->limits = limits;
        (void) format(f->shown, sizeof(f->shown), "%s", label ?: "");
        return 0;
}

static int hwmon_chip(FoundList *l, const char *chip_dir) {
        char driver[64], bus[64], path[PATH_MAX], chip[sizeof(driver) + sizeof(bus) + 2];
        struct dirent **inputs;
        bool thermal;
        int m, r;

        read_attribute(chip_dir, "name", driver, sizeof(driver));
        if (!driver[0])
                return 0;
        chip_bus(chip_dir, bus, sizeof(bus), &thermal);
        if (thermal)
                return 0; /* a thermal zone's, served as that zone */

        (void) format(chip, sizeof(chip), "%s-%s", driver, bus);
        sensor_name_from(chip, sizeof(chip), "hwmon-", chip);
        if (strcmp(bus, "virtual-0") == 0) {
                /* No device: lm-sensors says virtual-0 for each; ours differ by their place among them. */
                char prefix[sizeof(chip)];

                (void) format(prefix, sizeof(prefix), "%.*s", (int) (strlen(chip) - 1), chip);
                (void) format(chip + strlen(chip) - 1, sizeof(chip) - strlen(chip) + 1, "%u",
                                virtual_chips_before(l, prefix));
        }

        m = scan(chip_dir, "temp", &inputs);
        for (int k = 0; k < m; k++) {
                const char *name = inputs[k]->d_name;
                size_t digits = strspn(name + 4, "0123456789");
                Found *f;

                /* temp<M>_input only: temp<M>_label, _max, _crit are not readings. */
                if (strcmp(name + 4 + digits, "_input") != 0)
                        continue;
                f = found_list_add(l);
                if (!f) {
                        free_entries(inputs, m);
                        return -ENOMEM;
                }
                f->kind = FOUND_HWMON;
                f->slow = strcmp(driver, "drivetemp") == 0; /* through the SCSI layer, to the disk */
                (void) format(f->type, sizeof(f->type), "%s", driver);
                (void) format(f->input, sizeof(f->input), "temp%.*s", (int) digits, name + 4);
                (void) format(path, sizeof(path), "%s_label", f->input);
                read_attribute(chip_dir, path, f->label, sizeof(f->label));
                (void) format(f->path, sizeof(f->path), "%s/%s", chip_dir, name);
                (void) format(f->chip, sizeof(f->chip), "%s", chip);
                (void) format(f->chip_dir, sizeof(f->chip_dir), "%s", chip_dir);
                (void) format(f->shown, sizeof(f->shown), "%s", f->label);
                hwmon_limits_from(read_chip_limit, (void *) chip_dir, f->input, &f->limits);
                name_input(f);
                r = apply_sensors_conf(f);
                if (r < 0) {
                        free_entries(inputs, m);
                        return r;
                }
        }
        free_entries(inputs, m);
        return 0;
}

static int hwmon_chips(FoundList *l) {
        char dir[PATH_MAX], chip_dir[PATH_MAX];
        struct dirent **chips;
        int n, r = 0;

        (void) format(dir, sizeof(dir), "%s/class/hwmon", sensor_sysfs_root());
        n = scan(dir, "hwmon", &chips);
        for (int i = 0; i < n && r >= 0; i++) {
                if (!format(chip_dir, sizeof(chip_dir), "%s/%s", dir, chips[i]->d_name))
                        continue;
                r = hwmon_chip(l, chip_dir);
        }
        free_entries(chips, n);
        return r;
}

static bool name_taken(const FoundList *l, size_t i, const char *name) {
        for (size_t k = 0; k < i; k++)
                if (strcmp(l->items[k].name, name) == 0)
                        return true;
        return false;
}

/* Every sensor found, each with a name no other has. */
static int discover(FoundList *l) {
        int r;

        r = thermal_zones(l);
        if (r < 0)
                return r;
        name_thermal_zones(l);
        r = hwmon_chips(l);
        if (r < 0)
                return r;

        /* Two names alike by now come of labels alike within a chip, or of shortening: number the later. */
        for (size_t i = 0; i < l->n; i++) {
                char base[sizeof(l->items[i].name)];

                (void) format(base, sizeof(base), "%s", l->items[i].name);
                for (unsigned suffix = 2; name_taken(l, i, l->items[i].name); suffix++) {
                        char number[16];

                        (void) format(number, sizeof(number), "-%u", suffix);
                        (void) format(l->items[i].name, sizeof(l->items[i].name), "%.*s%s",
                                        (int) MIN(strlen(base), PROTOCOL_NAME_MAX - strlen(number)), base, number);
                }
        }
        return 0;
}

/* What --sensor takes for f, and SENSOR lines show. */
static void found_source(const Found *f, char source[static PROTOCOL_SOURCE_MAX + 1]) {
        if (f->kind == FOUND_THERMAL)
                (void) format(source, PROTOCOL_SOURCE_MAX + 1, "thermal:%s", f->chip);
        else
                (void) format(source, PROTOCOL_SOURCE_MAX + 1, "hwmon:%s/%s", f->chip, f->input);
}

static int found_new(const Found *f, Sensor **ret) {
        _cleanup_(sensor_unrefp) Sensor *s = NULL;
        char source[PROTOCOL_SOURCE_MAX + 1];
        int r;

        found_source(f, source);
        if (f->libsensors)
                r = sensor_libsensors_new(f->chip_dir, f->type, f->chip, f->input, f->path, f->name, source,
                                f->shown[0] ? f->shown : NULL, f->slow, &s);
        else
                r = sensor_path_new(f->path, f->name, source, f->shown[0] ? f->shown : NULL, f->slow, &s);
        if (r < 0)
                return r;
        s->limits = f->limits;
        if (!s->chip)
                s->chip = strdup(f->chip);
        if (!s->chip)
                return -ENOMEM;
        *ret = TAKE_PTR(s);
        return 0;
}

static bool thermal_matches(const Found *f, const char *want) {
        char number[16];

        (void) format(number, sizeof(number), "%u", f->zone);
        return strcmp(want, number) == 0 || strcmp(want, f->type) == 0 || strcmp(want, f->chip) == 0 ||
                        strcmp(want, f->name) == 0;
}

/* hwmon:<chip>[/<input>]: the chip by its name (nvme-pci-0100) or, where there is only one, its driver's
 * (nvme); the input by its number (temp1) or its label ("Package id 0"); the first input without one. */
static bool hwmon_matches(const Found *f, const char *want, bool *first_only) {
        const char *slash = strchr(want, '/');
        size_t chip_len = slash ? (size_t) (slash - want) : strlen(want);
        char driver[sizeof(f->type)];

        sensor_name_from(driver, sizeof(driver), "hwmon-", f->type);
        if (!(strlen(f->chip) == chip_len && strncmp(want, f->chip, chip_len) == 0) &&
                        !(strlen(f->type) == chip_len && strncmp(want, f->type, chip_len) == 0) &&
                        !(strlen(driver) == chip_len && strncmp(want, driver, chip_len) == 0))
                return false;
        *first_only = !slash;
        return !slash || strcmp(slash + 1, f->input) == 0 || strcmp(slash + 1, f->label) == 0;
}

static int new_matching(FoundKind kind, const char *args, Sensor **ret, char error[static SENSOR_ERROR_MAX]) {
        _cleanup_(found_list_done) FoundList l = {};
        const Found *match = NULL;
        size_t n_matches = 0;
        int r;

        if (!args || !args[0]) {
                snprintf(error, SENSOR_ERROR_MAX, kind == FOUND_THERMAL ? "expected thermal:<zone>" :
                                                                          "expected hwmon:<chip>[/<input>]");
                return -EINVAL;
        }
        r = discover(&l);
        if (r < 0)
                return r;

        for (size_t i = 0; i < l.n; i++) {
                const Found *f = &l.items[i];
                bool first_only = false;

                if (f->kind != kind || (kind == FOUND_THERMAL ? !thermal_matches(f, args) : !hwmon_matches(f, args, &first_only)))
                        continue;
                /* Without an input, a chip's first: one match per chip. */
                if (first_only && match && strcmp(match->chip, f->chip) == 0)
                        continue;
                if (n_matches++ == 0)
                        match = f;
                else if (n_matches == 2) {
                        char a[PROTOCOL_SOURCE_MAX + 1], b[PROTOCOL_SOURCE_MAX + 1];

                        found_source(match, a);
                        found_source(f, b);
                        (void) format(error, SENSOR_ERROR_MAX, "more than one sensor matches, such as %s and %s", a, b);
                }
        }
        if (n_matches == 0) {
                snprintf(error, SENSOR_ERROR_MAX, "no such sensor (see --list-sensors)");
                return -ENOENT;
        }
        if (n_matches > 1)
                return -EINVAL;
        return found_new(match, ret);
}

int sensor_thermal_new(const char *args, Sensor **ret, char error[static SENSOR_ERROR_MAX]) {
        assert(ret);
        assert(error);

        return new_matching(FOUND_THERMAL, args, ret, error);
}

int sensor_hwmon_new(const char *args, Sensor **ret, char error[static SENSOR_ERROR_MAX]) {
        assert(ret);
        assert(error);

        return new_matching(FOUND_HWMON, args, ret, error);
}

int sensor_discover(Sensor ***ret) {
        _cleanup_(found_list_done) FoundList l = {};
        Sensor **sensors;
        size_t first = 0;
        int64_t v;
        int r;

        assert(ret);

        r = discover(&l);
        if (r < 0)
                return r;
        /* What sensors.conf ignores is left out once every name is made: the others keep theirs. */
        {
                size_t kept = 0;

                for (size_t i = 0; i < l.n; i++)
                        if (!l.items[i].ignored)
                                l.items[kept++] = l.items[i];
                l.n = kept;
        }
        if (l.n == 0) {
                *ret = NULL;
                return 0;
        }

        /* The default, as ever: the first that gives a reading now, thermal zones before hwmon inputs. */
        for (size_t i = 0; i < l.n; i++)
                if (!l.items[i].slow && sensor_read_millidegrees(l.items[i].path, &v) >= 0) {
                        first = i;
                        break;
                }

        sensors = calloc(l.n, sizeof(Sensor *));
        if (!sensors)
                return -ENOMEM;
        for (size_t i = 0, k = 0; i < l.n; i++) {
                size_t from = i == 0 ? first : i <= first ? i - 1 : i;

                r = found_new(&l.items[from], &sensors[k++]);
                if (r < 0) {
                        while (k > 0)
                                sensor_unref(sensors[--k]);
                        free(sensors);
                        return r;
                }
        }
        *ret = sensors;
        return (int) l.n;
}
