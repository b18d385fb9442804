/* SPDX-License-Identifier: MIT */
/* A real sensor behind the server: one that fails and recovers, seen on the wire and in the log, and the
 * listing of sensors, all against a fake /sys (THERMO_SYSFS_ROOT). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

#define T HARNESS_TIMEOUT_MS

static char root[64], path[128];

static int setup(void **state) {
        snprintf(root, sizeof(root), "/tmp/thermo-sensors-XXXXXX");
        assert_non_null(mkdtemp(root));
        harness_add_thermal_zone(root, 0, "cpu-thermal\n", "20000\n");
        /* What the tests change: the zone's temperature. */
        snprintf(path, sizeof(path), "%s/class/thermal/thermal_zone0/temp", root);
        setenv("THERMO_SYSFS_ROOT", root, 1);
        return 0;
}

static int teardown(void **state) {
        harness_remove_tree(root);
        return harness_kill_all(state);
}

static void read_line(int fd, char *line, size_t size) {
        assert_true(harness_read_line(fd, line, size, T) > 0);
}

static void test_failing_sensor_gives_503_once_logged_and_recovers(void **state) {
        char line[256], log[8192];
        const char *p;
        uint64_t seq = 0, last = 0;
        int logs[2], fd, n, failed = 0, lost = 0, again = 0;
        ServerProcess s;

        assert_int_equal(pipe2(logs, O_CLOEXEC | O_NONBLOCK), 0);
        harness_start_activated_with(&s, (const char *const[]) { "--sensor", "thermal:cpu-thermal", "--interval", "20ms",
                                                 NULL },
                        &(HarnessOptions) { .stderr_fd = logs[1] });
        fd = harness_connect(s.port, 0);
        read_line(fd, line, sizeof(line));
        assert_non_null(strstr(line, " sensor=thermal:cpu-thermal sensors=1"));

        harness_send_str(fd, "STREAM\n");
        read_line(fd, line, sizeof(line));
        assert_string_equal(line, "OK STREAM");
        for (int i = 0; i < 3; i++) {
                read_line(fd, line, sizeof(line));
                seq = harness_assert_temp(line);
                assert_non_null(strstr(line, " 20.000"));
        }

        /* Garbage, then gone: ERR 503 in place of each reading, and streaming goes on. */
        harness_write_file(path, "EIO?\n");
        for (int i = 0; i < 200 && failed < 5; i++) {
                read_line(fd, line, sizeof(line));
                if (strncmp(line, "TEMP ", 5) == 0)
                        last = harness_assert_temp(line);
                else {
                        assert_string_equal(line, "ERR 503 sensor unavailable");
                        failed++;
                }
        }
        assert_int_equal(unlink(path), 0);
        for (int i = 0; i < 5; i++) {
                read_line(fd, line, sizeof(line));
                assert_string_equal(line, "ERR 503 sensor unavailable");
        }

        /* Back: readings again, numbered on from the last good one. */
        harness_write_file(path, "21500\n");
        for (int i = 0; i < 200; i++) {
                read_line(fd, line, sizeof(line));
                if (strncmp(line, "TEMP ", 5) == 0)
                        break;
        }
        assert_int_equal(harness_assert_temp(line), (last ?: seq) + 1);
        assert_non_null(strstr(line, " 21.500"));
        close(fd);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);

        /* Said once when it failed and once when it came back, not at every tick. */
        n = (int) read(logs[0], log, sizeof(log) - 1);
        assert_true(n > 0);
        log[n] = '\0';
        for (p = log; (p = strstr(p, "gives no reading")); p++)
                lost++;
        for (p = log; (p = strstr(p, "gives readings again")); p++)
                again++;
        assert_int_equal(lost, 1);
        assert_int_equal(again, 1);
        close(logs[0]);
        close(logs[1]);
        harness_cleanup(&s);
}

static void test_get_while_failing_is_503(void **state) {
        char line[256];
        ServerProcess s;
        int fd;

        harness_write_file(path, "\n");
        harness_start_activated(&s, (const char *const[]) { "--sensor", "thermal:0", NULL });
        fd = harness_connect(s.port, 0);
        read_line(fd, line, sizeof(line));
        harness_send_str(fd, "GET\n");
        read_line(fd, line, sizeof(line));
        assert_string_equal(line, "ERR 503 sensor unavailable");
        close(fd);
        harness_cleanup(&s);
}

static void test_list_sensors(void **state) {
        char out[1024], err[1024];

        assert_int_equal(harness_run((const char *const[]) { harness_server(), "--list-sensors", NULL }, out,
                                 sizeof(out), err, sizeof(err)),
                        0);
        assert_string_equal(out, "NAME        SOURCE              LABEL       VALUE          LOW     HIGH     CRIT\n"
                                 "cpu-thermal thermal:cpu-thermal cpu-thermal 20.000 °C        -        -        -\n");

        /* What a configuration would serve, without a header, or as JSON. */
        assert_int_equal(harness_run((const char *const[]) { harness_server(), "--list-sensors", "--no-legend", "--sensor",
                                             "auto", "--sensor", "sim=simulated:seed=1", NULL },
                                 out, sizeof(out), err, sizeof(err)),
                        0);
        assert_string_equal(out, "cpu-thermal thermal:cpu-thermal cpu-thermal 20.000 °C        -        -        -\n"
                                 "sim         simulated           -           21.031 °C        -        -        -\n");
        assert_int_equal(harness_run((const char *const[]) { harness_server(), "--list-sensors", "-o", "json", NULL }, out,
                                 sizeof(out), err, sizeof(err)),
                        0);
        assert_string_equal(out, "[{\"name\":\"cpu-thermal\",\"source\":\"thermal:cpu-thermal\",\"label\":\"cpu-thermal\","
                                 "\"celsius\":20.000,\"low\":null,\"high\":null,\"crit\":null}]\n");
}

/* A sensor that fails is said at start, before any client; under systemd with a hint at the sandbox
 * where the path is one it hides. */
static void test_failure_is_said_at_start_with_a_sandbox_hint(void **state) {
        char log[4096], spec[128];
        int logs[2], n;
        ServerProcess s;

        assert_int_equal(pipe2(logs, O_CLOEXEC | O_NONBLOCK), 0);
        snprintf(spec, sizeof(spec), "gone=file:/tmp/thermo-no-such-sensor-%i", (int) getpid());
        setenv("INVOCATION_ID", "0123456789abcdef0123456789abcdef", 1);
        harness_start_activated_with(&s, (const char *const[]) { "--sensor", spec, NULL },
                        &(HarnessOptions) { .stderr_fd = logs[1] });
        unsetenv("INVOCATION_ID");
        /* The slow reader answers soon after READY=1. */
        for (int i = 0; i < 50; i++) {
                n = (int) read(logs[0], log, sizeof(log) - 1);
                if (n > 0 && (log[n] = '\0', strstr(log, "gives no reading")))
                        break;
                usleep(20 * 1000);
        }
        assert_true(n > 0);
        assert_non_null(strstr(log, "Sensor gone (file:/tmp/thermo-no-such-sensor-"));
        assert_non_null(strstr(log, "gives no reading: No such file or directory (the service has a /tmp of its own "
                                    "under PrivateTmp="));
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        close(logs[0]);
        close(logs[1]);
        harness_cleanup(&s);
}

static void test_missing_sensor_is_a_usage_error(void **state) {
        char out[1024], err[1024];

        assert_int_equal(harness_run((const char *const[]) { harness_server(), "--sensor", "hwmon:k10temp", NULL }, out,
                                 sizeof(out), err, sizeof(err)),
                        2);
        assert_non_null(strstr(err, "Invalid value 'hwmon:k10temp' for --sensor: no such sensor"));
}

/* Reads a stream until a line that is exactly want; fails after 100 lines. */
static void read_until(int fd, const char *want) {
        char line[256];

        for (int i = 0; i < 100; i++) {
                read_line(fd, line, sizeof(line));
                if (strcmp(line, want) == 0)
                        return;
        }
        fail_msg("no \"%s\" in 100 lines", want);
}

/* Reads a stream until a TEMP line of that sensor; fails after 100 lines. */
static void read_until_temp(int fd, const char *sensor) {
        char line[256];
        size_t n = strlen(sensor);

        for (int i = 0; i < 100; i++) {
                read_line(fd, line, sizeof(line));
                if (strncmp(line, "TEMP ", 5) == 0 && strlen(line) > n + 1 && line[strlen(line) - n - 1] == ' ' &&
                                strcmp(line + strlen(line) - n, sensor) == 0)
                        return;
        }
        fail_msg("no reading of %s in 100 lines", sensor);
}

static void test_reload_rescans_and_keeps_every_client(void **state) {
        char line[256];
        int all, cpu, fd;
        ServerProcess s;

        harness_start_activated(&s, (const char *const[]) { "--interval", "20ms", NULL });
        all = harness_connect(s.port, 0);
        read_line(all, line, sizeof(line));
        assert_non_null(strstr(line, " sensors=1"));
        harness_send_str(all, "STREAM *\n");
        read_until(all, "OK STREAM");
        cpu = harness_connect(s.port, 0);
        read_line(cpu, line, sizeof(line));
        harness_send_str(cpu, "STREAM cpu-thermal\n");
        read_until(cpu, "OK STREAM");

        /* Plugged in: after a reload, STREAM * has it, and a stream of named sensors does not. */
        harness_add_thermal_zone(root, 1, "gpu-thermal\n", "30000\n");
        harness_reload(&s);
        read_until_temp(all, "gpu-thermal");
        for (int i = 0; i < 5; i++) {
                read_line(cpu, line, sizeof(line));
                assert_non_null(strstr(line, " cpu-thermal"));
        }
        fd = harness_connect(s.port, 0);
        read_line(fd, line, sizeof(line));
        assert_non_null(strstr(line, " sensors=2"));
        harness_send_str(fd, "SENSORS\n");
        read_until(fd, "SENSOR cpu-thermal thermal:cpu-thermal");
        read_line(fd, line, sizeof(line));
        assert_string_equal(line, "SENSOR gpu-thermal thermal:gpu-thermal");
        read_line(fd, line, sizeof(line));
        assert_string_equal(line, "END");
        close(fd);

        /* Unplugged: unavailable under its name, for whoever asked for it; the others go on. */
        snprintf(line, sizeof(line), "%s/class/thermal/thermal_zone0", root);
        harness_remove_tree(line);
        harness_reload(&s);
        read_until(cpu, "ERR 503 sensor unavailable cpu-thermal");
        read_until(all, "ERR 503 sensor unavailable cpu-thermal");
        read_until_temp(all, "gpu-thermal");

        /* Back, in the place it had. */
        harness_add_thermal_zone(root, 0, "cpu-thermal\n", "21000\n");
        harness_reload(&s);
        read_until_temp(cpu, "cpu-thermal");
        read_until_temp(all, "cpu-thermal");

        close(all);
        close(cpu);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

/* A sensor found whose name a --sensor NAME= gave another: served as NAME-2, before and after a rescan,
 * and a rescan that finds it never takes one name twice (it overflowed the heap). */
static void test_a_found_sensor_never_takes_a_given_name(void **state) {
        char line[256], spec[160], file[128];
        ServerProcess s;
        int fd;

        snprintf(file, sizeof(file), "%s/cellar", root);
        harness_write_file(file, "12000\n");
        snprintf(spec, sizeof(spec), "foo=file:%s", file);
        harness_add_thermal_zone(root, 1, "foo\n", "30000\n");
        harness_start_activated(&s, (const char *const[]) { "--sensor", spec, "--sensor", "auto", "--interval", "50ms",
                                        NULL });
        fd = harness_connect(s.port, 0);
        read_line(fd, line, sizeof(line));
        harness_send_str(fd, "SENSORS\n");
        snprintf(spec, sizeof(spec), "SENSOR foo file:%s", file);
        read_line(fd, line, sizeof(line));
        assert_string_equal(line, spec);
        read_line(fd, line, sizeof(line));
        assert_string_equal(line, "SENSOR cpu-thermal thermal:cpu-thermal");
        read_line(fd, line, sizeof(line));
        assert_string_equal(line, "SENSOR foo-2 thermal:foo");
        read_line(fd, line, sizeof(line));
        assert_string_equal(line, "END");

        /* Another zone of that type comes: the rescan names both (foo-0, foo-1, by their place: they have no
         * device to tell them apart), and every name stays one sensor's. */
        harness_add_thermal_zone(root, 2, "foo\n", "31000\n");
        harness_reload(&s);
        harness_send_str(fd, "GET *\n");
        read_until(fd, "END");
        harness_send_str(fd, "SENSORS\n");
        read_line(fd, line, sizeof(line));
        assert_string_equal(line, spec);
        {
                char names[8][64];
                size_t n = 0;

                for (read_line(fd, line, sizeof(line)); strcmp(line, "END") != 0; read_line(fd, line, sizeof(line))) {
                        assert_true(n < 8);
                        assert_int_equal(sscanf(line, "SENSOR %63s", names[n]), 1);
                        assert_string_not_equal(names[n], "foo");
                        for (size_t k = 0; k < n; k++)
                                assert_string_not_equal(names[k], names[n]);
                        n++;
                }
                assert_int_equal(n, 4); /* cpu-thermal, foo-2 (gone: its zone is foo-0 now), foo-0, foo-1 */
        }
        close(fd);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

/* A SIGHUP that comes while the server still looks for its sensors (seconds, with thousands of them) is a
 * reload once it runs: not the end of a server started by hand. The test holds discovery where it is by
 * a chip whose name is a FIFO, which the server reads, waiting, until the test writes it. */
static void test_sighup_during_discovery_is_no_end(void **state) {
        char dir[128], fifo[160], address[32], line[256];
        int port = harness_free_port(), w = -1, fd;
        pid_t pid;

        snprintf(dir, sizeof(dir), "%s/class/hwmon", root);
        assert_true(mkdir(dir, 0755) == 0 || errno == EEXIST);
        snprintf(dir, sizeof(dir), "%s/class/hwmon/hwmon0", root);
        snprintf(fifo, sizeof(fifo), "%s/name", dir);
        assert_true(mkdir(dir, 0755) == 0 || errno == EEXIST);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        snprintf(address, sizeof(address), "127.0.0.1:%i", port);

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                execl(harness_server(), harness_server(), "--listen", address, "--interval", "50ms", NULL);
                _exit(127);
        }
        harness_track(pid);
        /* Open for writing once the server reads it, then it waits for our line. */
        for (int i = 0; i < 1000 && w < 0; i++) {
                w = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
                if (w < 0)
                        usleep(10 * 1000);
        }
        assert_true(w >= 0);
        assert_int_equal(unlink(fifo), 0); /* read once: a rescan finds no such chip */
        assert_int_equal(kill(pid, SIGHUP), 0);
        usleep(200 * 1000);
        assert_int_equal(write(w, "fakechip\n", 9), 9);
        close(w);

        /* It listens once it has its sensors. */
        for (int i = 0; i < 500; i++) {
                struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port),
                                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

                fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                assert_true(fd >= 0);
                if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0)
                        break;
                close(fd);
                fd = -1;
                assert_int_equal(waitpid(pid, NULL, WNOHANG), 0);
                usleep(10 * 1000);
        }
        assert_true(fd >= 0);
        read_line(fd, line, sizeof(line));
        assert_true(strncmp(line, "HELLO thermo/1 ", 15) == 0);
        close(fd);
        assert_int_equal(kill(pid, SIGTERM), 0);
        assert_int_equal(harness_wait_pid(pid, T), 0);
}

/* Limits from the hardware: an hwmon input's _max, _crit and _max_hyst, a thermal zone's trip points (the
 * lowest passive or hot as high, the critical one as crit); --limit over them. */
static void test_limits_from_the_hardware_and_the_admin(void **state) {
        static const char *const files[][2] = {
                { "class/hwmon/hwmon0/name", "coretemp\n" },
                { "class/hwmon/hwmon0/temp1_input", "45000\n" },
                { "class/hwmon/hwmon0/temp1_label", "Package id 0\n" },
                { "class/hwmon/hwmon0/temp1_max", "80000\n" },
                { "class/hwmon/hwmon0/temp1_max_hyst", "75000\n" },
                { "class/hwmon/hwmon0/temp1_crit", "100000\n" },
                { "class/thermal/thermal_zone0/trip_point_0_type", "passive\n" },
                { "class/thermal/thermal_zone0/trip_point_0_temp", "70000\n" },
                { "class/thermal/thermal_zone0/trip_point_1_type", "critical\n" },
                { "class/thermal/thermal_zone0/trip_point_1_temp", "90000\n" },
                { "class/thermal/thermal_zone0/trip_point_2_type", "hot\n" },
                { "class/thermal/thermal_zone0/trip_point_2_temp", "65000\n" },
                { "class/thermal/thermal_zone0/trip_point_3_type", "active\n" },
                { "class/thermal/thermal_zone0/trip_point_3_temp", "50000\n" },
        };
        char file[256], out[2048], err[1024], line[256];
        ServerProcess s;
        int fd;

        snprintf(file, sizeof(file), "%s/class/hwmon", root);
        assert_true(mkdir(file, 0755) == 0 || errno == EEXIST);
        snprintf(file, sizeof(file), "%s/class/hwmon/hwmon0", root);
        assert_true(mkdir(file, 0755) == 0 || errno == EEXIST);
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                snprintf(file, sizeof(file), "%s/%s", root, files[i][0]);
                harness_write_file(file, files[i][1]);
        }

        assert_int_equal(harness_run((const char *const[]) { harness_server(), "--list-sensors", "-o", "json", NULL }, out,
                                 sizeof(out), err, sizeof(err)),
                        0);
        assert_non_null(strstr(out, "\"name\":\"cpu-thermal\",\"source\":\"thermal:cpu-thermal\",\"label\":\"cpu-thermal\","
                                    "\"celsius\":20.000,\"low\":null,\"high\":65.000,\"crit\":90.000}"));
        assert_non_null(strstr(out, "\"label\":\"Package id 0\",\"celsius\":45.000,\"low\":null,\"high\":80.000,"
                                    "\"crit\":100.000}"));

        harness_start_activated(&s, (const char *const[]) { "--interval", "50ms", "--limit",
                                        "cpu-thermal:low=-5,crit=85.5", NULL });
        fd = harness_connect(s.port, 0);
        read_line(fd, line, sizeof(line));
        harness_send_str(fd, "LIMITS *\n");
        read_line(fd, line, sizeof(line));
        assert_string_equal(line, "LIMIT cpu-thermal ok low=-5.000 high=65.000 crit=85.500");
        read_line(fd, line, sizeof(line));
        assert_string_equal(line, "LIMIT coretemp-virtual-0-package_id_0 ok low=- high=80.000 crit=100.000");
        read_line(fd, line, sizeof(line));
        assert_string_equal(line, "END");

        /* Past the chip's max: high; back at 76 (its _max_hyst is 75, so 5 °C): still high; at 74.999 ok. */
        harness_send_str(fd, "ALARMS\n");
        read_line(fd, line, sizeof(line));
        assert_string_equal(line, "OK ALARMS");
        snprintf(file, sizeof(file), "%s/class/hwmon/hwmon0/temp1_input", root);
        harness_write_file(file, "81000\n");
        read_line(fd, line, sizeof(line));
        assert_non_null(strstr(line, " coretemp-virtual-0-package_id_0 high 81.000"));
        harness_write_file(file, "76000\n");
        usleep(200 * 1000);
        harness_write_file(file, "74999\n");
        read_line(fd, line, sizeof(line));
        assert_non_null(strstr(line, " coretemp-virtual-0-package_id_0 ok 74.999"));
        close(fd);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

/* A calibration (value x scale + offset) is what every consumer sees; --list-sensors shows the raw value
 * beside it. Files, thermal zones and simulated sensors alike. */
static void test_calibration_for_any_sensor(void **state) {
        char out[2048], err[1024], line[256], spec[160], cellar[128];
        ServerProcess s;
        int fd;

        snprintf(cellar, sizeof(cellar), "%s/cellar", root);
        harness_write_file(cellar, "10000\n");
        snprintf(spec, sizeof(spec), "cellar=file:%s", cellar);
        assert_int_equal(harness_run((const char *const[]) { harness_server(), "--list-sensors", "--no-legend", "--sensor",
                                             "auto", "--sensor", spec, "--calibrate", "cellar:offset=1,scale=2",
                                             "--calibrate", "cpu-thermal:offset=-0.5", NULL },
                                 out, sizeof(out), err, sizeof(err)),
                        0);
        assert_non_null(strstr(out, " cpu-thermal 19.500 °C (raw 20.000) "));
        assert_non_null(strstr(out, " 21.000 °C (raw 10.000)"));
        assert_int_equal(harness_run((const char *const[]) { harness_server(), "--list-sensors", "-o", "json",
                                             "--calibrate", "cpu-thermal:scale=1.5", NULL },
                                 out, sizeof(out), err, sizeof(err)),
                        0);
        assert_non_null(strstr(out, "\"celsius\":30.000,\"raw\":20.000,"));
        assert_int_equal(harness_run((const char *const[]) { harness_server(), "--calibrate", "cpu:scale=0", NULL }, out,
                                 sizeof(out), err, sizeof(err)),
                        2);
        assert_non_null(strstr(err, "Invalid value 'cpu:scale=0' for --calibrate"));

        harness_start_activated(&s, (const char *const[]) { "--interval", "50ms", "--sensor", spec, "--sensor",
                                        "sim=simulated:seed=1", "--calibrate", "cellar:offset=1,scale=2", "--calibrate",
                                        "sim:offset=100", "--limit", "cellar:high=20", NULL });
        fd = harness_connect(s.port, 0);
        read_line(fd, line, sizeof(line));
        harness_send_str(fd, "GET *\n");
        read_line(fd, line, sizeof(line));
        assert_non_null(strstr(line, " 21.000 cellar"));
        read_line(fd, line, sizeof(line));
        /* The simulated walk starts about 21 °C: 121 °C with its offset. */
        assert_true(strstr(line, " 12") && strstr(line, " sim"));
        read_line(fd, line, sizeof(line));
        assert_string_equal(line, "END");
        /* Its limits are the calibrated value's. */
        harness_send_str(fd, "LIMITS cellar\n");
        read_line(fd, line, sizeof(line));
        assert_string_equal(line, "LIMIT cellar high low=- high=20.000 crit=-");
        close(fd);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_failing_sensor_gives_503_once_logged_and_recovers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_get_while_failing_is_503, setup, teardown),
                cmocka_unit_test_setup_teardown(test_list_sensors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failure_is_said_at_start_with_a_sandbox_hint, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing_sensor_is_a_usage_error, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reload_rescans_and_keeps_every_client, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_found_sensor_never_takes_a_given_name, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sighup_during_discovery_is_no_end, setup, teardown),
                cmocka_unit_test_setup_teardown(test_limits_from_the_hardware_and_the_admin, setup, teardown),
                cmocka_unit_test_setup_teardown(test_calibration_for_any_sensor, setup, teardown),
        };
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, harness_kill_all);
}
