/* SPDX-License-Identifier: MIT */
/* The exposition of a scrape, byte for byte, in both formats: what Prometheus parses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"

static const Reading readings[] = {
        { .sensor = "cpu", .seq = 7, .time_ms = 1795731139415, .millicelsius = 48250 },
        { .sensor = "outside", .seq = 7, .time_ms = 1795731139002, .millicelsius = -500 },
        { .sensor = "gone", .seq = 7, .error = -ENODEV },
};

static const MetricsInfo info = {
        .version = "1.2.3",
        .server = "thermo-server",
        .readings = readings,
        .n_readings = 3,
        .readings_total = 20,
        .skipped_total = 3,
        .clients = 2,
};

static char *write_metrics(MetricsFormat format) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        assert_non_null(f);
        assert_int_equal(metrics_write(f, format, &info), 0);
        assert_int_equal(fclose(f), 0);
        return text;
}

static void test_text_format(void **state) {
        char *text = write_metrics(METRICS_TEXT);

        assert_string_equal(text,
                "# HELP thermo_temperature_celsius The newest reading of each sensor, in degrees Celsius (none while it has none).\n"
                "# TYPE thermo_temperature_celsius gauge\n"
                "thermo_temperature_celsius{sensor=\"cpu\"} 48.250\n"
                "thermo_temperature_celsius{sensor=\"outside\"} -0.500\n"
                "# HELP thermo_sensor_up Whether the sensor gave a reading at the newest tick.\n"
                "# TYPE thermo_sensor_up gauge\n"
                "thermo_sensor_up{sensor=\"cpu\"} 1\n"
                "thermo_sensor_up{sensor=\"outside\"} 1\n"
                "thermo_sensor_up{sensor=\"gone\"} 0\n"
                "# HELP thermo_reading_timestamp_seconds When the newest reading of each sensor was taken, in seconds since the epoch.\n"
                "# TYPE thermo_reading_timestamp_seconds gauge\n"
                "thermo_reading_timestamp_seconds{sensor=\"cpu\"} 1795731139.415\n"
                "thermo_reading_timestamp_seconds{sensor=\"outside\"} 1795731139.002\n"
                "# HELP thermo_readings_total Readings the sensors gave since the server started, of every sensor.\n"
                "# TYPE thermo_readings_total counter\n"
                "thermo_readings_total 20\n"
                "# HELP thermo_skipped_readings_total Readings skipped for clients too slow to take them.\n"
                "# TYPE thermo_skipped_readings_total counter\n"
                "thermo_skipped_readings_total 3\n"
                "# HELP thermo_clients Clients connected now, scrapes included.\n"
                "# TYPE thermo_clients gauge\n"
                "thermo_clients 2\n"
                "# HELP thermo_build_info The server, and its version.\n"
                "# TYPE thermo_build_info gauge\n"
                "thermo_build_info{server=\"thermo-server\",version=\"1.2.3\"} 1\n");
        free(text);
}

static void test_openmetrics(void **state) {
        char *text = write_metrics(METRICS_OPENMETRICS);

        assert_string_equal(text,
                "# HELP thermo_temperature_celsius The newest reading of each sensor, in degrees Celsius (none while it has none).\n"
                "# TYPE thermo_temperature_celsius gauge\n"
                "# UNIT thermo_temperature_celsius celsius\n"
                "thermo_temperature_celsius{sensor=\"cpu\"} 48.250\n"
                "thermo_temperature_celsius{sensor=\"outside\"} -0.500\n"
                "# HELP thermo_sensor_up Whether the sensor gave a reading at the newest tick.\n"
                "# TYPE thermo_sensor_up gauge\n"
                "thermo_sensor_up{sensor=\"cpu\"} 1\n"
                "thermo_sensor_up{sensor=\"outside\"} 1\n"
                "thermo_sensor_up{sensor=\"gone\"} 0\n"
                "# HELP thermo_reading_timestamp_seconds When the newest reading of each sensor was taken, in seconds since the epoch.\n"
                "# TYPE thermo_reading_timestamp_seconds gauge\n"
                "# UNIT thermo_reading_timestamp_seconds seconds\n"
                "thermo_reading_timestamp_seconds{sensor=\"cpu\"} 1795731139.415\n"
                "thermo_reading_timestamp_seconds{sensor=\"outside\"} 1795731139.002\n"
                "# HELP thermo_readings Readings the sensors gave since the server started, of every sensor.\n"
                "# TYPE thermo_readings counter\n"
                "thermo_readings_total 20\n"
                "# HELP thermo_skipped_readings Readings skipped for clients too slow to take them.\n"
                "# TYPE thermo_skipped_readings counter\n"
                "thermo_skipped_readings_total 3\n"
                "# HELP thermo_clients Clients connected now, scrapes included.\n"
                "# TYPE thermo_clients gauge\n"
                "thermo_clients 2\n"
                "# HELP thermo_build The server, and its version.\n"
                "# TYPE thermo_build info\n"
                "thermo_build_info{server=\"thermo-server\",version=\"1.2.3\"} 1\n"
                "# EOF\n");
        free(text);
}

static void test_format_from_accept(void **state) {
        assert_int_equal(metrics_format_from_accept(NULL), METRICS_TEXT);
        assert_int_equal(metrics_format_from_accept("*/*"), METRICS_TEXT);
        assert_int_equal(metrics_format_from_accept("text/plain;version=0.0.4"), METRICS_TEXT);
        assert_int_equal(metrics_format_from_accept("Application/OpenMetrics-Text; version=1.0.0"), METRICS_OPENMETRICS);
        /* Prometheus 2.x */
        assert_int_equal(metrics_format_from_accept("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                                                    "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
                        METRICS_OPENMETRICS);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_text_format),
                cmocka_unit_test(test_openmetrics),
                cmocka_unit_test(test_format_from_accept),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
