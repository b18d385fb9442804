/* SPDX-License-Identifier: MIT */
/* What a scrape shows of any set of sensors, and what a scrape's Accept header asks for: up to 8 sensors
 * with names the protocol allows, any value, time and failure, any counters, in either format. The
 * output must be the exposition format, line by line, whatever went in. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "metrics.h"
#include "protocol.h"

static uint64_t take(const uint8_t **data, size_t *size, size_t n) {
        uint64_t v = 0;

        for (size_t i = 0; i < n && *size > 0; i++, (*data)++, (*size)--)
                v = v << 8 | **data;
        return v;
}

/* A metric line: name[{label="value",...}] value, with nothing else on it; a label's value quoted, its
 * quotes, backslashes and newlines escaped. */
static void check_line(const char *line, size_t n) {
        size_t i = strspn(line, "abcdefghijklmnopqrstuvwxyz_");

        if (n == 0 || i == 0)
                abort();
        if (line[i] == '{') {
                do {
                        size_t k = strspn(line + ++i, "abcdefghijklmnopqrstuvwxyz_");

                        if (k == 0 || line[i + k] != '=' || line[i + k + 1] != '"')
                                abort();
                        for (i += k + 2; i < n && line[i] != '"'; i++)
                                if (line[i] == '\\' && (++i >= n || !strchr("\\\"n", line[i])))
                                        abort();
                        if (i++ >= n)
                                abort();
                } while (line[i] == ',');
                if (line[i++] != '}')
                        abort();
        }
        if (i >= n || line[i] != ' ' || i + 1 == n)
                abort();
        for (i++; i < n; i++)
                if (!strchr("0123456789.-", line[i]))
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char names[8][PROTOCOL_NAME_MAX + 1], texts[8][2][32], accept[256];
        MetricsSensor sensors[8] = {};
        Limits limits[8] = {};
        Reading readings[8] = {};
        MetricsInfo info;
        MetricsFormat format;
        char *out = NULL;
        size_t n, length = 0;
        FILE *f;

        n = take(&data, &size, 1) % 9;
        for (size_t i = 0; i < n; i++) {
                size_t k = take(&data, &size, 1) % PROTOCOL_NAME_MAX + 1;

                /* A name as the thermometer guarantees one: a letter, then a-z 0-9 _ . - */
                for (size_t j = 0; j < k; j++) {
                        static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789_.-";
                        uint8_t c = (uint8_t) take(&data, &size, 1);

                        names[i][j] = j == 0 ? (char) ('a' + c % 26) : alphabet[c % (sizeof(alphabet) - 1)];
                }
                names[i][k] = '\0';
                readings[i] = (Reading) {
                        .sensor = names[i],
                        .seq = take(&data, &size, 8),
                        .time_ms = take(&data, &size, 8),
                        .millicelsius = (int64_t) take(&data, &size, 8),
                        .error = take(&data, &size, 1) % 4 == 0 ? -ENODEV : 0,
                        .level = (Level) (take(&data, &size, 1) % _LEVEL_MAX),
                };
                /* A chip and a label as the hardware or sensors.conf may give them: any bytes. */
                for (size_t t = 0; t < 2; t++) {
                        size_t len = take(&data, &size, 1) % sizeof(texts[i][t]);

                        for (size_t j = 0; j < len; j++)
                                texts[i][t][j] = (char) (take(&data, &size, 1) | 1); /* no NUL */
                        texts[i][t][len] = '\0';
                }
                limits[i] = (Limits) {
                        .low = (int64_t) take(&data, &size, 4) - 300000, .high = (int64_t) take(&data, &size, 4),
                        .crit = (int64_t) take(&data, &size, 4),
                };
                limits[i].has_low = take(&data, &size, 1) & 1;
                limits[i].has_high = take(&data, &size, 1) & 1;
                limits[i].has_crit = take(&data, &size, 1) & 1;
                sensors[i] = (MetricsSensor) { .chip = texts[i][0], .label = texts[i][1], .source = "file:/x",
                                               .limits = &limits[i] };
        }
        info = (MetricsInfo) {
                .version = "0.0",
                .server = "fuzz",
                .readings = readings,
                .sensors = take(&data, &size, 1) & 1 ? sensors : NULL,
                .n_readings = n,
                .readings_total = take(&data, &size, 8),
                .skipped_total = take(&data, &size, 8),
                .clients = take(&data, &size, 8),
        };
        n = MIN(size, sizeof(accept) - 1);
        memcpy(accept, data, n);
        accept[n] = '\0';
        format = metrics_format_from_accept(accept);

        f = open_memstream(&out, &length);
        if (!f || metrics_write(f, format, &info) < 0 || fclose(f) != 0)
                abort();
        for (const char *line = out, *end; *line; line = end + 1) {
                end = strchr(line, '\n');
                if (!end)
                        abort(); /* every line ends */
                if (line[0] != '#')
                        check_line(line, (size_t) (end - line));
        }
        if (format == METRICS_OPENMETRICS && (length < 6 || strcmp(out + length - 6, "# EOF\n") != 0))
                abort();
        free(out);
        return 0;
}
