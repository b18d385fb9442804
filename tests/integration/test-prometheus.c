/* SPDX-License-Identifier: MIT */
/* The real Prometheus against thermo-server: promtool checks what a scrape shows, a Prometheus on loopback
 * scrapes the server every second (in OpenMetrics, as it asks for it) and evaluates the example alerting
 * rules, and we ask it what it stored. Skipped (77) where Prometheus is not installed. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

#define PROMETHEUS "/usr/bin/prometheus"
#define PROMTOOL "/usr/bin/promtool"
/* Prometheus comes up, scrapes and evaluates within a few seconds; this bounds every wait for it. */
#define PROMETHEUS_TIMEOUT_MS 30000

static char dir[64], room[128], attic[128], missing[128], out[64 * 1024], err[16 * 1024];

static int setup(void **state) {
        snprintf(dir, sizeof(dir), "/tmp/thermo-prometheus-XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(room, sizeof(room), "%s/room", dir);
        snprintf(attic, sizeof(attic), "%s/attic", dir);
        snprintf(missing, sizeof(missing), "%s/missing", dir);
        harness_write_file(room, "-5250\n");
        harness_write_file(attic, "12125\n");
        return 0;
}

static int teardown(void **state) {
        harness_kill_all(state);
        harness_remove_tree(dir);
        return 0;
}

/* Three sensors: two that read what the test wrote, one that gives no reading. */
static void start_server(ServerProcess *s) {
        char room_spec[160], attic_spec[160], missing_spec[160];

        snprintf(room_spec, sizeof(room_spec), "room=file:%s", room);
        snprintf(attic_spec, sizeof(attic_spec), "attic=file:%s", attic);
        snprintf(missing_spec, sizeof(missing_spec), "gone=file:%s", missing);
        harness_start_activated_with(s,
                        (const char *const[]) { "--interval", "200ms", "--sensor", room_spec, "--sensor", attic_spec,
                                "--sensor", missing_spec, NULL },
                        &(HarnessOptions) { .metrics = true });
}

__attribute__((format(printf, 1, 2))) static int sh(const char *format, ...) {
        char command[2048];
        va_list ap;

        va_start(ap, format);
        vsnprintf(command, sizeof(command), format, ap);
        va_end(ap);
        return harness_run((const char *const[]) { "/bin/sh", "-c", command, NULL }, out, sizeof(out), err, sizeof(err));
}

static void test_promtool_checks_the_scrape(void **state) {
        ServerProcess s;

        start_server(&s);
        /* promtool lints the text format only; Prometheus parses OpenMetrics below. */
        if (sh("curl -sSf http://127.0.0.1:%i/metrics | " PROMTOOL " check metrics", s.metrics_port) != 0)
                fail_msg("promtool check metrics:\n%s%s", out, err);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

static void test_example_rules(void **state) {
        const char *source = getenv("THERMO_SOURCE_ROOT");

        assert_non_null(source);
        if (sh(PROMTOOL " check rules '%s/prometheus/thermo.rules.yml'", source) != 0)
                fail_msg("promtool check rules:\n%s%s", out, err);
        if (sh("cd '%s/tests/prometheus' && " PROMTOOL " test rules thermo.rules.test.yml", source) != 0)
                fail_msg("promtool test rules:\n%s%s", out, err);
}

/* Asks Prometheus until the query has a result that holds want; bounded. */
static void assert_query(int port, const char *query, const char *want) {
        for (int waited = 0; waited < PROMETHEUS_TIMEOUT_MS; waited += 250) {
                if (sh(PROMTOOL " query instant http://127.0.0.1:%i '%s'", port, query) == 0 && strstr(out, want))
                        return;
                usleep(250 * 1000);
        }
        fail_msg("Prometheus has no '%s' for %s:\n%s%s", want, query, out, err);
}

static void test_prometheus_scrapes_the_server(void **state) {
        const char *source = getenv("THERMO_SOURCE_ROOT");
        char config[256], text[1024], data[128], address[64], log[128];
        int port = harness_free_port(), fd;
        ServerProcess s;
        pid_t pid;

        assert_non_null(source);
        start_server(&s);

        snprintf(config, sizeof(config), "%s/prometheus.yml", dir);
        snprintf(text, sizeof(text),
                        "global:\n"
                        "  scrape_interval: 1s\n"
                        "  evaluation_interval: 1s\n"
                        "rule_files:\n"
                        "  - %s/prometheus/thermo.rules.yml\n"
                        "scrape_configs:\n"
                        "  - job_name: thermo\n"
                        "    static_configs:\n"
                        "      - targets: ['127.0.0.1:%i']\n",
                        source, s.metrics_port);
        harness_write_file(config, text);
        snprintf(data, sizeof(data), "--storage.tsdb.path=%s/data", dir);
        snprintf(address, sizeof(address), "--web.listen-address=127.0.0.1:%i", port);
        snprintf(log, sizeof(log), "%s/prometheus.log", dir);
        snprintf(config, sizeof(config), "--config.file=%s/prometheus.yml", dir);

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
                        _exit(126);
                execl(PROMETHEUS, PROMETHEUS, config, data, address, "--log.level=warn", NULL);
                _exit(127);
        }
        harness_track(pid);

        /* The target is up: Prometheus parsed a scrape. */
        assert_query(port, "up{job=\"thermo\"}", "=> 1 @");
        assert_query(port, "thermo_temperature_celsius{sensor=\"room\"}", "=> -5.25 @");
        assert_query(port, "thermo_temperature_celsius{sensor=\"attic\"}", "=> 12.125 @");
        assert_query(port, "thermo_sensor_up{sensor=\"gone\"}", "=> 0 @");
        assert_query(port, "thermo_sensor_up{sensor=\"room\"}", "=> 1 @");
        /* No temperature at all for the sensor without a reading. */
        assert_query(port, "count(thermo_temperature_celsius)", "=> 2 @");
        assert_query(port, "thermo_build_info", "server=\"thermo-server\"");
        /* A reading that changes is seen to change. */
        harness_write_file(room, "31500\n");
        assert_query(port, "thermo_temperature_celsius{sensor=\"room\"}", "=> 31.5 @");
        assert_query(port, "increase(thermo_readings_total[10s]) > 0", "=> ");
        /* The rules are loaded and evaluated: the sensor that gives no reading is on its way to alert. */
        assert_query(port, "ALERTS{alertname=\"ThermoSensorDown\"}", "alertstate=\"pending\"");

        kill(pid, SIGTERM);
        assert_int_equal(harness_wait_pid(pid, PROMETHEUS_TIMEOUT_MS), 0);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_promtool_checks_the_scrape, setup, teardown),
                cmocka_unit_test_setup_teardown(test_example_rules, setup, teardown),
                cmocka_unit_test_setup_teardown(test_prometheus_scrapes_the_server, setup, teardown),
        };

        if (access(PROMETHEUS, X_OK) < 0 || access(PROMTOOL, X_OK) < 0) {
                fprintf(stderr, "Prometheus is not installed (apt-get install prometheus): skipped.\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
