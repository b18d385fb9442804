/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "protocol.h"
#include "reading.h"
#include "sensor-libsensors.h"
#include "sensor-list.h"

void sensor_list_done(SensorList *l) {
        assert(l);

        for (size_t i = 0; i < l->n; i++)
                sensor_unref(l->sensors[i]);
        l->sensors = mfree(l->sensors);
        l->n = 0;
}

void sensor_list_apply_limits(SensorList *l, const LimitOverride *limits, size_t n, bool rescan) {
        assert(l);
        assert(limits || n == 0);

        for (size_t k = 0; k < n; k++) {
                size_t i;

                for (i = 0; i < l->n && strcmp(l->sensors[i]->name, limits[k].name) != 0; i++)
                        ;
                if (i < l->n)
                        limits_override(&l->sensors[i]->limits, &limits[k]);
                else if (!rescan)
                        log_warning("--limit %s:...: no sensor is called %s (see --list-sensors); a rescan may find "
                                    "it.", limits[k].name, limits[k].name);
        }
}

void sensor_list_apply_calibrations(SensorList *l, const CalibrationOption *calibrations, size_t n, bool rescan) {
        assert(l);
        assert(calibrations || n == 0);

        for (size_t k = 0; k < n; k++) {
                size_t i;

                for (i = 0; i < l->n && strcmp(l->sensors[i]->name, calibrations[k].name) != 0; i++)
                        ;
                if (i < l->n)
                        l->sensors[i]->calibration = calibrations[k].calibration;
                else if (!rescan)
                        log_warning("--calibrate %s:...: no sensor is called %s (see --list-sensors); a rescan may "
                                    "find it.", calibrations[k].name, calibrations[k].name);
        }
}

static int add(SensorList *l, Sensor *s) {
        Sensor **p = reallocarray(l->sensors, l->n + 1, sizeof(Sensor *));

        if (!p) {
                sensor_unref(s);
                return -ENOMEM;
        }
        p[l->n++] = s;
        l->sensors = p;
        return 0;
}

static bool has_path(const SensorList *l, const char *path) {
        for (size_t i = 0; path && i < l->n; i++)
                if (l->sensors[i]->path && strcmp(l->sensors[i]->path, path) == 0)
                        return true;
        return false;
}

static bool has_name(const SensorList *l, const char *name) {
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->sensors[i]->name, name) == 0)
                        return true;
        return false;
}

/* A sensor found whose name another has already (one a --sensor NAME= named so) is served as NAME-2, -3...,
 * as discovery numbers two alike: names are unique among all sensors, and the admin's stay as given. */
static int name_uniquely(const SensorList *l, Sensor *s) {
        char name[PROTOCOL_NAME_MAX + 1], suffix[16];

        if (!has_name(l, s->name))
                return 0;
        for (unsigned k = 2;; k++) {
                snprintf(suffix, sizeof(suffix), "-%u", k);
                snprintf(name, sizeof(name), "%.*s%s", (int) (PROTOCOL_NAME_MAX - strlen(suffix)), s->name, suffix);
                if (!has_name(l, name))
                        break;
        }
        log_notice("Sensor %s is served as %s: another sensor is called %s.", s->source, name, s->name);
        return sensor_set_name(s, name);
}

/* Every sensor found, but those given already. */
static int add_discovered(SensorList *l) {
        Sensor **found;
        int n, r = 0;

        n = sensor_discover(&found);
        if (n < 0)
                return n;
        for (int i = 0; i < n; i++) {
                if (r < 0 || has_path(l, found[i]->path)) {
                        sensor_unref(found[i]);
                        continue;
                }
                found[i]->discovered = true;
                r = name_uniquely(l, found[i]);
                if (r < 0)
                        sensor_unref(found[i]);
                else
                        r = add(l, found[i]);
        }
        free(found);
        return r;
}

/* "NAME=SPEC": a name is what comes before an "=" that comes before any ":". */
static int split_name(const char *spec, char name[static PROTOCOL_NAME_MAX + 1], const char **ret_spec) {
        const char *eq = strchr(spec, '='), *colon = strchr(spec, ':');

        name[0] = '\0';
        *ret_spec = spec;
        if (!eq || (colon && colon < eq))
                return 0;
        if (!protocol_name_is_valid(spec, (size_t) (eq - spec)))
                return -EINVAL;
        memcpy(name, spec, (size_t) (eq - spec));
        name[eq - spec] = '\0';
        *ret_spec = eq + 1;
        return 1;
}

/* Whether a spec may give hwmon sensors: auto, or one named so. */
static bool uses_hwmon(const char *const *specs, size_t n_specs) {
        if (n_specs == 0)
                return true;
        for (size_t i = 0; i < n_specs; i++) {
                const char *eq = strchr(specs[i], '='), *colon = strchr(specs[i], ':');
                const char *spec = eq && (!colon || eq < colon) ? eq + 1 : specs[i];

                if (strcmp(spec, "auto") == 0 || startswith(spec, "hwmon:"))
                        return true;
        }
        return false;
}

int sensor_list_build(SensorList *l, const char *const *specs, size_t n_specs, bool rescan) {
        static const char *const automatic = "auto";
        char error[SENSOR_ERROR_MAX];
        int r;

        assert(l);
        assert(specs || n_specs == 0);

        /* sensors.conf as it is now, and the chips libsensors finds now, for the hwmon sensors found below:
         * for those alone, for it reads /etc and scans /sys. */
        r = uses_hwmon(specs, n_specs) ? libsensors_load(error) : 0;
        l->sensors_conf_stale = r == -EBUSY;
        if (r == -EBUSY)
                log_notice("sensors.conf is not read again now: %s.", error);
        else if (r < 0)
                log_warning("sensors.conf is not honoured: %s.", error);
        else if (r > 0)
                log_warning("sensors.conf: %i statement%s skipped (see above), the rest honoured, as sensors does.", r,
                                r == 1 ? "" : "s");

        if (n_specs == 0) {
                specs = &automatic;
                n_specs = 1;
        }
        for (size_t i = 0; i < n_specs; i++) {
                char name[PROTOCOL_NAME_MAX + 1];
                const char *spec;
                Sensor *s;
                size_t k;

                if (split_name(specs[i], name, &spec) < 0)
                        return log_invalid_value("--sensor", specs[i],
                                        "a name is 1 to 32 of a-z, 0-9, '_', '.' and '-', starting with a letter");
                if (strcmp(spec, "auto") == 0) {
                        if (name[0])
                                return log_invalid_value("--sensor", specs[i], "auto is every sensor: it takes no name");
                        r = add_discovered(l);
                        if (r < 0)
                                return log_oom();
                        continue;
                }

                r = sensor_new(spec, &s, error);
                if (r == -ENOMEM)
                        return log_oom();
                if (r == -ENOENT && rescan) {
                        log_warning("Sensor %s: %s.", specs[i], error);
                        continue;
                }
                if (r < 0)
                        return log_invalid_value("--sensor", specs[i], error);
                if (name[0] && sensor_set_name(s, name) < 0) {
                        sensor_unref(s);
                        return log_oom();
                }
                for (k = 0; k < l->n && strcmp(l->sensors[k]->name, s->name) != 0; k++)
                        ;
                /* A sensor auto found first gives way to the name a --sensor gives after it. */
                if (k < l->n && l->sensors[k]->discovered && name[0]) {
                        r = name_uniquely(l, l->sensors[k]);
                        if (r < 0) {
                                sensor_unref(s);
                                return log_oom();
                        }
                        k = l->n;
                }
                if (k < l->n) {
                        snprintf(error, sizeof(error), "another sensor is called %s already: name this one (NAME=%s)",
                                        s->name, spec);
                        sensor_unref(s);
                        return log_invalid_value("--sensor", specs[i], error);
                }
                r = add(l, s);
                if (r < 0)
                        return log_oom();
        }

        if (l->n == 0) {
                Sensor *s;
                char field[PATH_MAX + 8];

                /* Said where a newcomer sees it: 21 °C from a VM is no reading of a room. */
                snprintf(field, sizeof(field), "SYSFS=%s", sensor_sysfs_root());
                log_struct(LOG_NOTICE, 0, THERMO_MESSAGE_SIMULATED, LOG_FIELDS(field),
                                "No temperature sensor under %s: serving a simulated one, a random walk around 21 °C "
                                "(not a measurement; see --sensor).", sensor_sysfs_root());
                r = sensor_simulated_new(NULL, &s, error);
                if (r < 0)
                        return log_oom();
                r = add(l, s);
                if (r < 0)
                        return log_oom();
        }
        return 0;
}

static void print_json(FILE *f, Sensor *s, int r, int64_t v, int64_t raw) {
        char value[32], low[32], high[32], crit[32];

        fputs("{\"name\":", f);
        json_write_string(f, s->name);
        fputs(",\"source\":", f);
        json_write_string(f, s->source);
        fputs(",\"label\":", f);
        if (s->label)
                json_write_string(f, s->label);
        else
                fputs("null", f);
        if (r < 0) {
                fputs(",\"celsius\":null,\"error\":", f);
                json_write_string(f, strerror(-r));
        } else {
                format_millidegrees(value, sizeof(value), v);
                fprintf(f, ",\"celsius\":%s", value);
                if (!calibration_is_none(&s->calibration)) {
                        format_millidegrees(value, sizeof(value), raw);
                        fprintf(f, ",\"raw\":%s", value);
                }
        }
        fprintf(f, ",\"low\":%s,\"high\":%s,\"crit\":%s", format_limit(low, s->limits.has_low, s->limits.low, "null"),
                        format_limit(high, s->limits.has_high, s->limits.high, "null"),
                        format_limit(crit, s->limits.has_crit, s->limits.crit, "null"));
        fputc('}', f);
}

/* A reading as the table shows it: "20.000 °C", "20.500 °C (raw 20.000)" for a calibrated sensor, or
 * "- (No such file or directory)". */
static void value_text(char *buf, size_t size, int r, int64_t v, const Sensor *s, int64_t raw) {
        if (r < 0)
                snprintf(buf, size, "- (%s)", strerror(-r));
        else {
                size_t k = format_millidegrees(buf, size, v);

                k += (size_t) snprintf(buf + k, size - k, " °C");
                if (!calibration_is_none(&s->calibration) && k < size) {
                        k += (size_t) snprintf(buf + k, size - k, " (raw ");
                        k += format_millidegrees(buf + MIN(k, size - 1), size - MIN(k, size - 1), raw);
                        if (k + 1 < size)
                                snprintf(buf + k, size - k, ")");
                }
        }
}

int sensor_list_print(const SensorList *l, FILE *f, bool legend, bool json) {
        size_t name_width = strlen("NAME"), source_width = strlen("SOURCE"), label_width = strlen("LABEL"),
               value_width = strlen("VALUE");
        _cleanup_free_ int64_t *values = NULL, *raws = NULL;
        _cleanup_free_ int *results = NULL;
        Sensor *const *sensors;
        size_t n;

        assert(l);
        assert(f);

        sensors = l->sensors;
        n = l->n;

        /* Each read once, the values first: the VALUE column is as wide as its longest. */
        values = calloc(MAX(n, (size_t) 1), sizeof(int64_t));
        raws = calloc(MAX(n, (size_t) 1), sizeof(int64_t));
        results = calloc(MAX(n, (size_t) 1), sizeof(int));
        if (!values || !raws || !results)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char value[64];
                int64_t raw;

                /* Calibrated: the value, and what the hardware said. */
                results[i] = sensor_read_raw(sensors[i], &raw);
                raws[i] = raw;
                if (results[i] >= 0 && !calibration_is_none(&sensors[i]->calibration))
                        results[i] = calibration_apply(&sensors[i]->calibration, raw, &values[i]);
                else
                        values[i] = raw;
                value_text(value, sizeof(value), results[i], values[i], sensors[i], raws[i]);
                name_width = MAX(name_width, strlen(sensors[i]->name));
                source_width = MAX(source_width, strlen(sensors[i]->source));
                label_width = MAX(label_width, strlen(strempty(sensors[i]->label)));
                /* The degree sign is two bytes and one column. */
                value_width = MAX(value_width, strlen(value) - (results[i] < 0 ? 0 : 1));
        }

        if (json)
                fputc('[', f);
        else if (legend)
                fprintf(f, "%-*s %-*s %-*s %-*s %8s %8s %8s\n", (int) name_width, "NAME", (int) source_width, "SOURCE",
                                (int) label_width, "LABEL", (int) value_width, "VALUE", "LOW", "HIGH", "CRIT");
        for (size_t i = 0; i < n; i++) {
                char value[64], low[32], high[32], crit[32];
                const Limits *lim = &sensors[i]->limits;

                if (json) {
                        if (i > 0)
                                fputc(',', f);
                        print_json(f, sensors[i], results[i], values[i], raws[i]);
                        continue;
                }
                value_text(value, sizeof(value), results[i], values[i], sensors[i], raws[i]);
                fprintf(f, "%-*s %-*s %-*s %-*s %8s %8s %8s\n", (int) name_width, sensors[i]->name, (int) source_width,
                                sensors[i]->source, (int) label_width, sensors[i]->label ?: "-",
                                (int) (value_width + (results[i] < 0 ? 0 : 1)), value,
                                format_limit(low, lim->has_low, lim->low, "-"), format_limit(high, lim->has_high, lim->high, "-"),
                                format_limit(crit, lim->has_crit, lim->crit, "-"));
        }
        if (json)
                fputs("]\n", f);
        return fflush(f) == 0 ? 0 : -errno;
}
