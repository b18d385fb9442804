/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "metrics.h"
#include "text.h"

MetricsFormat metrics_format_from_accept(const char *accept) {
        /* Prometheus asks for OpenMetrics first where it takes it, with a q= on each; anything that names
         * the type asks for it. */
        if (accept && strcasestr(accept, "application/openmetrics-text"))
                return METRICS_OPENMETRICS;
        return METRICS_TEXT;
}

/* "# HELP" and "# TYPE" of a family. OpenMetrics names a counter's family without "_total", an info
 * family without "_info", and knows units. */
static void family(FILE *f, MetricsFormat format, const char *name, const char *type, const char *unit,
                const char *help) {
        size_t n = strlen(name);

        if (format == METRICS_OPENMETRICS && strcmp(type, "counter") == 0)
                n -= strlen("_total");
        else if (format == METRICS_OPENMETRICS && strcmp(type, "info") == 0)
                n -= strlen("_info");
        if (format == METRICS_TEXT && strcmp(type, "info") == 0)
                type = "gauge";

        fprintf(f, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int) n, name, help, (int) n, name, type);
        if (format == METRICS_OPENMETRICS && unit)
                fprintf(f, "# UNIT %.*s %s\n", (int) n, name, unit);
}

/* A label value from the hardware or the admin (a chip's name, a label from sensors.conf): escaped as the
 * exposition formats say, and UTF-8, as they want it (a byte that is none is U+FFFD). */
static void label_value(FILE *f, const char *s) {
        fputc('"', f);
        while (s && *s) {
                uint32_t c;
                size_t n = text_utf8_char(s, &c);

                if (n == 0) {
                        fputs("\xef\xbf\xbd", f);
                        s++;
                        continue;
                }
                if (c == '\\' || c == '"')
                        fprintf(f, "\\%c", (char) c);
                else if (c == '\n')
                        fputs("\\n", f);
                else
                        fwrite(s, 1, n, f);
                s += n;
        }
        fputc('"', f);
}

/* A limit's gauge: for each sensor that has that limit. */
static void limit_family(FILE *f, MetricsFormat format, const MetricsInfo *info, const char *name, const char *what,
                size_t offset, size_t has) {
        char help[160], value[32];

        snprintf(help, sizeof(help), "The %s limit of each sensor that has one, in degrees Celsius.", what);
        family(f, format, name, "gauge", "celsius", help);
        for (size_t i = 0; i < info->n_readings; i++) {
                const Limits *l = info->sensors[i].limits;
                bool present = has == 0 ? l->has_low : has == 1 ? l->has_high : l->has_crit;

                if (!present)
                        continue;
                format_millidegrees(value, sizeof(value), *(const int64_t *) ((const char *) l + offset));
                fprintf(f, "%s{sensor=\"%s\"} %s\n", name, info->readings[i].sensor, value);
        }
}

/* Where each sensor is: -1 low, 0 ok, 1 high, 2 crit, one series a sensor that an alert rule takes as it is
 * (thermo_sensor_level >= 1: too hot). And what each is, for sum by (chip) and the like. */
static void sensor_families(FILE *f, MetricsFormat format, const MetricsInfo *info) {
        static const int values[_LEVEL_MAX] = { [LEVEL_OK] = 0, [LEVEL_LOW] = -1, [LEVEL_HIGH] = 1, [LEVEL_CRIT] = 2 };

        limit_family(f, format, info, "thermo_temperature_low_celsius", "low", offsetof(Limits, low), 0);
        limit_family(f, format, info, "thermo_temperature_high_celsius", "high", offsetof(Limits, high), 1);
        limit_family(f, format, info, "thermo_temperature_crit_celsius", "critical", offsetof(Limits, crit), 2);

        family(f, format, "thermo_sensor_level", "gauge", NULL,
                        "Where each sensor is against its limits: -1 low, 0 ok, 1 high, 2 crit.");
        for (size_t i = 0; i < info->n_readings; i++)
                fprintf(f, "thermo_sensor_level{sensor=\"%s\"} %i\n", info->readings[i].sensor,
                                values[info->readings[i].level]);

        /* Every change, however short: a sensor that went to crit and back between two scrapes shows here. */
        family(f, format, "thermo_sensor_level_changes_total", "counter", NULL,
                        "Changes of each sensor with limits into each level since the server started.");
        for (size_t i = 0; i < info->n_readings; i++)
                for (Level l = 0; l < _LEVEL_MAX && info->sensors[i].level_changes && limits_any(info->sensors[i].limits); l++)
                        fprintf(f, "thermo_sensor_level_changes_total{sensor=\"%s\",level=\"%s\"} %" PRIu64 "\n",
                                        info->readings[i].sensor, level_to_string(l), info->sensors[i].level_changes[l]);

        family(f, format, "thermo_sensor_info", "info", NULL, "Each sensor's chip, label and source.");
        for (size_t i = 0; i < info->n_readings; i++) {
                fprintf(f, "thermo_sensor_info{sensor=\"%s\",chip=", info->readings[i].sensor);
                label_value(f, info->sensors[i].chip);
                fputs(",label=", f);
                label_value(f, info->sensors[i].label);
                fputs(",source=", f);
                label_value(f, info->sensors[i].source);
                fputs("} 1\n", f);
        }
}

/* Label values need no escaping but those sensor_families() escapes: sensor names are checked
 * (protocol_name_is_valid()), and the server's name and version are ours. */
int metrics_write(FILE *f, MetricsFormat format, const MetricsInfo *info) {
        char value[32];

        assert(f);
        assert(info);
        assert(info->readings || info->n_readings == 0);

        family(f, format, "thermo_temperature_celsius", "gauge", "celsius",
                        "The newest reading of each sensor, in degrees Celsius (none while it has none).");
        for (size_t i = 0; i < info->n_readings; i++) {
                const Reading *r = &info->readings[i];

                if (r->error < 0)
                        continue;
                format_millidegrees(value, sizeof(value), r->millicelsius);
                fprintf(f, "thermo_temperature_celsius{sensor=\"%s\"} %s\n", r->sensor, value);
        }

        family(f, format, "thermo_sensor_up", "gauge", NULL, "Whether the sensor gave a reading at the newest tick.");
        for (size_t i = 0; i < info->n_readings; i++)
                fprintf(f, "thermo_sensor_up{sensor=\"%s\"} %i\n", info->readings[i].sensor,
                                info->readings[i].error < 0 ? 0 : 1);

        family(f, format, "thermo_reading_timestamp_seconds", "gauge", "seconds",
                        "When the newest reading of each sensor was taken, in seconds since the epoch.");
        for (size_t i = 0; i < info->n_readings; i++) {
                const Reading *r = &info->readings[i];

                if (r->error < 0)
                        continue;
                fprintf(f, "thermo_reading_timestamp_seconds{sensor=\"%s\"} %" PRIu64 ".%03" PRIu64 "\n", r->sensor,
                                r->time_ms / 1000, r->time_ms % 1000);
        }

        if (info->sensors)
                sensor_families(f, format, info);

        family(f, format, "thermo_readings_total", "counter", NULL,
                        "Readings the sensors gave since the server started, of every sensor.");
        fprintf(f, "thermo_readings_total %" PRIu64 "\n", info->readings_total);

        family(f, format, "thermo_skipped_readings_total", "counter", NULL,
                        "Readings skipped for clients too slow to take them.");
        fprintf(f, "thermo_skipped_readings_total %" PRIu64 "\n", info->skipped_total);

        family(f, format, "thermo_clients", "gauge", NULL, "Clients connected now, scrapes included.");
        fprintf(f, "thermo_clients %" PRIu64 "\n", info->clients);

        family(f, format, "thermo_build_info", "info", NULL, "The server, and its version.");
        fprintf(f, "thermo_build_info{server=\"%s\",version=\"%s\"} 1\n", info->server, info->version);

        if (format == METRICS_OPENMETRICS)
                fputs("# EOF\n", f);
        return ferror(f) ? -EIO : 0;
}
