/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "metrics.h"

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

/* Label values need no escaping: sensor names are checked (protocol_name_is_valid()), and the server's name
 * and version are ours. */
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
