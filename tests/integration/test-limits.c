/* SPDX-License-Identifier: MIT */
/* Limits and alarms on the wire (thermo-protocol(7), "Limits and alarms"), for the server under test: a
 * file sensor walked through every level and back, each change one ALARM line after its tick's readings;
 * LIMITS; ALARMS joined at a level; a sensor that fails at crit keeps crit; STOP ends both. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
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

#define T HARNESS_TIMEOUT_MS

static char dir[64], cellar[128], spec[160];

static int setup(void **state) {
        ServerProcess *p = calloc(1, sizeof(*p));

        snprintf(dir, sizeof(dir), "/tmp/thermo-limits-XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(cellar, sizeof(cellar), "%s/cellar", dir);
        snprintf(spec, sizeof(spec), "cellar=file:%s", cellar);
        harness_write_file(cellar, "21000\n");
        harness_start_activated(p, (const char *const[]) { "--interval", "50ms", "--sensor", spec, "--limit",
                                        "cellar:low=5,high=80,crit=95", NULL });
        *state = p;
        return 0;
}

static int teardown(void **state) {
        harness_cleanup(*state);
        free(*state);
        harness_remove_tree(dir);
        return harness_kill_all(state);
}

static void expect_line(int fd, const char *expected) {
        char line[600];

        assert_true(harness_read_line(fd, line, sizeof(line), T) >= 0);
        assert_string_equal(line, expected);
}

static int connect_greeted(ServerProcess *p) {
        char line[600];
        int fd = harness_connect(p->port, 0);

        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        assert_true(strncmp(line, "HELLO thermo/1 ", 15) == 0);
        return fd;
}

/* Sets the cellar to value, and reads until its first TEMP line with it: its seq. */
static uint64_t set_and_see(int fd, const char *value) {
        char line[600], file[32], want[64];

        /* The file holds millidegrees: the value without its point. */
        snprintf(file, sizeof(file), "%.*s%s\n", (int) (strchr(value, '.') - value), value, strchr(value, '.') + 1);
        harness_write_file(cellar, file);
        snprintf(want, sizeof(want), " %s cellar", value);
        for (int i = 0; i < 200; i++) {
                size_t n;

                assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
                n = strlen(line);
                if (strncmp(line, "TEMP ", 5) == 0 && n > strlen(want) && strcmp(line + n - strlen(want), want) == 0) {
                        unsigned long long seq;

                        assert_int_equal(sscanf(line, "TEMP %llu ", &seq), 1);
                        return seq;
                }
                /* Lines of the value before: no alarm among them but of a change the test made. */
                assert_true(strncmp(line, "TEMP ", 5) == 0);
        }
        fail_msg("no reading of %s", value);
        return 0;
}

/* The line after that tick's readings: its ALARM, or for no change, the next tick's reading. */
static void expect_alarm(int fd, uint64_t seq, const char *level, const char *value) {
        char line[600], want[128];

        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        if (!level) {
                assert_true(strncmp(line, "TEMP ", 5) == 0);
                return;
        }
        snprintf(want, sizeof(want), "ALARM %" PRIu64 " ", seq);
        assert_true(strncmp(line, want, strlen(want)) == 0);
        snprintf(want, sizeof(want), " cellar %s %s", level, value);
        assert_string_equal(line + strlen(line) - strlen(want), want);
}

static void test_every_level_and_back_one_alarm_each(void **state) {
        static const struct {
                const char *value, *level;
        } walk[] = {
                { "21.000", NULL }, { "85.000", "high" }, { "96.000", "crit" }, { "93.000", NULL },
                { "92.999", "high" }, { "78.000", NULL }, { "70.000", "ok" },  { "4.000", "low" },
                { "7.000", NULL },  { "7.001", "ok" },   { "100.000", "crit" }, { "20.000", "ok" },
        };
        int fd = connect_greeted(*state);

        harness_send_str(fd, "ALARMS\n");
        expect_line(fd, "OK ALARMS");
        harness_send_str(fd, "STREAM *\n");
        expect_line(fd, "OK STREAM");
        for (size_t i = 0; i < sizeof(walk) / sizeof(walk[0]); i++) {
                uint64_t seq = set_and_see(fd, walk[i].value);

                expect_alarm(fd, seq, walk[i].level, walk[i].value);
        }
        close(fd);
}

static void test_limits_and_a_late_alarms_client(void **state) {
        ServerProcess *p = *state;
        int fd = connect_greeted(p), late;
        char line[600];

        harness_send_str(fd, "LIMITS\n");
        expect_line(fd, "LIMIT cellar ok low=5.000 high=80.000 crit=95.000");
        expect_line(fd, "END");
        harness_send_str(fd, "LIMITS nope\n");
        expect_line(fd, "ERR 404 no such sensor");
        harness_send_str(fd, "STREAM\n");
        expect_line(fd, "OK STREAM");
        harness_write_file(cellar, "96000\n");
        for (int i = 0; i < 200; i++) {
                assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
                if (strstr(line, " 96.000"))
                        break;
        }

        /* Asked now: where it is, with the reading that put it there. */
        late = connect_greeted(p);
        harness_send_str(late, "ALARMS\n");
        expect_line(late, "OK ALARMS");
        assert_true(harness_read_line(late, line, sizeof(line), T) > 0);
        assert_true(strncmp(line, "ALARM ", 6) == 0);
        assert_non_null(strstr(line, " cellar crit 96.000"));

        /* Failing at crit: no reading, and the level as it was. */
        assert_int_equal(unlink(cellar), 0);
        for (int i = 0; i < 200; i++) {
                assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
                if (strcmp(line, "ERR 503 sensor unavailable") == 0)
                        break;
        }
        harness_send_str(late, "LIMITS *\n");
        expect_line(late, "LIMIT cellar crit low=5.000 high=80.000 crit=95.000");
        expect_line(late, "END");

        /* STOP ends both: nothing more comes, as it comes back. */
        harness_send_str(late, "STOP\n");
        expect_line(late, "OK STOP");
        harness_write_file(cellar, "20000\n");
        for (int i = 0; i < 200; i++) {
                assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
                if (strstr(line, " 20.000"))
                        break;
        }
        usleep(200 * 1000);
        harness_send_str(late, "PING\n");
        expect_line(late, "PONG");
        close(late);
        close(fd);
}

int main(int argc, char *argv[]) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_every_level_and_back_one_alarm_each, setup, teardown),
                cmocka_unit_test_setup_teardown(test_limits_and_a_late_alarms_client, setup, teardown),
        };

        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, harness_kill_all);
}
