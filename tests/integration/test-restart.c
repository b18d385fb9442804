/* SPDX-License-Identifier: MIT */
/* Restarts that keep every client (thermo-protocol(7), "Restarts"), for the server under test, with the
 * harness as systemd's file descriptor store: no BYE and no second HELLO, each subscription and count and
 * ALARMS go on, a begun request line is answered, the seq goes on +1, the history and the levels are kept,
 * INFO counts the restarts; a client whose state is lost is closed at once; a stop is still a stop. */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
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

static char dir[64], room[128], cellar[128], room_spec[160], cellar_spec[160];
static const char *interval = "50ms";
/* A third sensor for a test that wants one (a slow one), and the sensors of a restart that changes them. */
static const char *extra_spec;
static bool cellar_gone;
static char attic_spec[160];

static const char *const *server_args(void) {
        static const char *args[16];

        args[0] = "--interval";
        args[1] = interval;
        args[2] = "--sensor";
        args[3] = room_spec;
        args[4] = "--sensor";
        args[5] = cellar_gone ? attic_spec : cellar_spec;
        args[6] = "--limit";
        args[7] = cellar_gone ? "attic:high=80" : "cellar:high=80,crit=95";
        args[8] = "--history";
        args[9] = "1min";
        args[10] = extra_spec ? "--sensor" : NULL;
        args[11] = extra_spec;
        args[12] = NULL;
        return args;
}

/* The server under test, started as systemd does; with sndbuf, small kernel buffers for its clients. */
static int start(void **state, int sndbuf) {
        ServerProcess *p = calloc(1, sizeof(*p));
        HarnessOptions o = { .sndbuf = sndbuf };

        snprintf(dir, sizeof(dir), "/tmp/thermo-restart-XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(room, sizeof(room), "%s/room", dir);
        snprintf(cellar, sizeof(cellar), "%s/cellar", dir);
        snprintf(room_spec, sizeof(room_spec), "room=file:%s", room);
        snprintf(cellar_spec, sizeof(cellar_spec), "cellar=file:%s", cellar);
        snprintf(attic_spec, sizeof(attic_spec), "attic=file:%s", cellar);
        harness_write_file(room, "21000\n");
        harness_write_file(cellar, "12000\n");
        harness_start_activated_with(p, server_args(), &o);
        *state = p;
        return 0;
}

static int setup(void **state) {
        interval = "50ms";
        extra_spec = NULL;
        cellar_gone = false;
        return start(state, 0);
}

/* With a third sensor, slow to read: a GET of it waits. */
static int setup_slow(void **state) {
        interval = "50ms";
        extra_spec = "slow=simulated:seed=3,delay=700ms";
        cellar_gone = false;
        return start(state, 0);
}

/* Ticks every 10ms to clients with a kernel buffer of 2K each way: a client that does not read has lines
 * queued in the server within a second. */
static int setup_fast(void **state) {
        interval = "10ms";
        extra_spec = NULL;
        cellar_gone = false;
        return start(state, 2048);
}

static int teardown(void **state) {
        harness_cleanup(*state);
        free(*state);
        harness_remove_tree(dir);
        return harness_kill_all(state);
}

static uint64_t seq_of(const char *line) {
        unsigned long long seq;

        if (sscanf(line, "TEMP %llu ", &seq) != 1)
                fail_msg("not a TEMP line: %s", line);
        return seq;
}

/* Whether a line is a sensor's at a tick where it had no reading: the files are read off the loop, and
 * under valgrind a 10ms tick may come before a read is done. */
static bool unavailable(const char *line) {
        return strncmp(line, "ERR 503 sensor unavailable ", strlen("ERR 503 sensor unavailable ")) == 0;
}

/* A stream of two sensors a tick (STREAM *), read until seq until: each tick after *last, +1, in two
 * lines, each a TEMP of its seq or an unavailable sensor's ERR 503 (a tick of none has no seq); nothing
 * else among them (no BYE, no HELLO). */
static void read_ticks(int fd, uint64_t *last, uint64_t until) {
        char line[600];

        while (*last < until) {
                uint64_t seq = 0;

                for (unsigned i = 0; i < 2; i++) {
                        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
                        if (unavailable(line))
                                continue;
                        if (seq > 0 && seq_of(line) != seq)
                                fail_msg("tick #%" PRIu64 " has %s", seq, line);
                        seq = seq_of(line);
                }
                if (seq == 0)
                        continue;
                if (*last > 0 && seq != *last + 1)
                        fail_msg("tick #%" PRIu64 " after #%" PRIu64 ": %s", seq, *last, line);
                *last = seq;
        }
}

static char *info(int fd) {
        static char line[600];

        harness_send_str(fd, "INFO\n");
        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        assert_true(strncmp(line, "INFO ", 5) == 0);
        return line;
}

static uint64_t info_field(int fd, const char *field) {
        char want[64];
        const char *line = info(fd), *at;

        snprintf(want, sizeof(want), " %s=", field);
        at = strstr(line, want);
        if (!at)
                fail_msg("no %s in %s", field, line);
        return strtoull(at + strlen(want), NULL, 10);
}

/* The counted stream's lines until END: each of the room, one a tick, +1 (or +2 after a tick it had no
 * reading at, which has no seq on this line); how many. */
static unsigned read_counted(int fd, uint64_t *last) {
        char line[600];
        unsigned n = 0;
        bool missed = false;

        for (;;) {
                uint64_t seq;

                assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
                if (strcmp(line, "END") == 0)
                        return n;
                n++;
                if (unavailable(line)) {
                        missed = true;
                        continue;
                }
                seq = seq_of(line);
                assert_non_null(strstr(line, " room"));
                if (*last > 0 && seq != *last + 1 && !(missed && seq == *last + 2))
                        fail_msg("counted stream: tick #%" PRIu64 " after #%" PRIu64, seq, *last);
                *last = seq;
                missed = false;
        }
}

static void test_clients_kept_across_restarts(void **state) {
        ServerProcess *p = *state;
        int all = harness_connect_greeted(p->port, 0), counted = harness_connect_greeted(p->port, 0),
            alarms = harness_connect_greeted(p->port, 0), half = harness_connect_greeted(p->port, 0),
            idle = harness_connect_greeted(p->port, 0);
        uint64_t last = 0, counted_last = 0, uptime;
        unsigned counted_n = 0;
        char line[600];

        harness_send_str(all, "STREAM *\n");
        harness_expect_line(all, "OK STREAM");
        harness_send_str(counted, "STREAM 60 room\n");
        harness_expect_line(counted, "OK STREAM");
        harness_send_str(alarms, "ALARMS\n");
        harness_expect_line(alarms, "OK ALARMS");
        harness_send_str(half, "STREAM cel");
        uptime = info_field(idle, "uptime_s");
        assert_int_equal(info_field(idle, "restarts"), 0);
        read_ticks(all, &last, 3);

        for (int restart = 1; restart <= 3; restart++) {
                uint64_t before = last;

                assert_int_equal(harness_restart_handing_over(p, server_args(), NULL), 0);
                /* The next tick is the one after the last before the restart, at every client. */
                read_ticks(all, &last, before + 3);
                if (restart == 1) {
                        harness_send_str(half, "lar\n");
                        harness_expect_line(half, "OK STREAM");
                        assert_true(harness_read_line(half, line, sizeof(line), T) > 0);
                        assert_non_null(strstr(line, " cellar"));
                }
                if (restart == 2) {
                        harness_write_file(cellar, "85000\n");
                        assert_true(harness_read_line(alarms, line, sizeof(line), T) > 0);
                        assert_true(strncmp(line, "ALARM ", 6) == 0);
                        assert_non_null(strstr(line, " cellar high 85.000"));
                }
                assert_int_equal(info_field(idle, "restarts"), restart);
        }
        assert_true(info_field(idle, "uptime_s") >= uptime);

        /* The count, across three restarts: every reading once, in order. */
        counted_n = read_counted(counted, &counted_last);
        assert_int_equal(counted_n, 60);
        harness_send_str(counted, "PING\n");
        harness_expect_line(counted, "PONG");

        /* A stop is a stop: BYE to each. */
        assert_int_equal(harness_stop(p, SIGTERM), 0);
        for (int i = 0; i < 10000; i++) {
                assert_true(harness_read_line(all, line, sizeof(line), T) > 0);
                if (strcmp(line, "BYE") == 0)
                        break;
                if (!unavailable(line))
                        seq_of(line);
        }
        assert_true(harness_wait_eof(all, T));
        harness_expect_line(idle, "BYE");
        assert_true(harness_wait_eof(idle, T));
        harness_expect_line(alarms, "BYE");
        close(all);
        close(counted);
        close(alarms);
        close(half);
        close(idle);
}

static void test_history_and_levels_go_across(void **state) {
        ServerProcess *p = *state;
        int fd = harness_connect_greeted(p->port, 0), late;
        uint64_t last = 0, first = 0, resumed = 0;
        char line[600], request[64];

        harness_write_file(cellar, "90000\n");
        harness_send_str(fd, "STREAM *\n");
        harness_expect_line(fd, "OK STREAM");
        for (int i = 0; i < 200; i++) {
                assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
                if (strstr(line, " 90.000 cellar"))
                        break;
        }
        last = seq_of(line);
        close(fd);
        assert_int_equal(harness_restart_handing_over(p, server_args(), NULL), 0);

        /* Its level, as it was: no ALARM for a change that did not happen. */
        late = harness_connect_greeted(p->port, 0);
        harness_send_str(late, "LIMITS cellar\n");
        harness_expect_line(late, "LIMIT cellar high low=- high=80.000 crit=95.000");
        harness_expect_line(late, "END");
        harness_send_str(late, "ALARMS\n");
        harness_expect_line(late, "OK ALARMS");
        assert_true(harness_read_line(late, line, sizeof(line), T) > 0);
        assert_true(strncmp(line, "ALARM ", 6) == 0);
        assert_non_null(strstr(line, " cellar high 90.000"));

        /* The ticks held before the restart, then on. */
        first = last > 10 ? last - 10 : 0;
        snprintf(request, sizeof(request), "STREAM after=%" PRIu64 " *\n", first);
        harness_send_str(late, request);
        harness_expect_line(late, "OK STREAM");
        resumed = first;
        read_ticks(late, &resumed, last + 5);
        close(late);
}

static void test_a_client_without_state_is_closed_at_once(void **state) {
        ServerProcess *p = *state;
        int fd = harness_connect_greeted(p->port, 0), other;
        uint64_t last = 0;

        harness_send_str(fd, "STREAM *\n");
        harness_expect_line(fd, "OK STREAM");
        read_ticks(fd, &last, 2);
        /* As after a crash between the clients and the state: the clients came back alone. */
        assert_int_equal(harness_restart_handing_over(p, server_args(), "state"), 0);
        for (int i = 0; i < 10000 && !harness_wait_eof(fd, T); i++)
                ;
        /* And the server is up, for a client that connects again. */
        other = harness_connect_greeted(p->port, 0);
        harness_send_str(other, "PING\n");
        harness_expect_line(other, "PONG");
        close(other);
        close(fd);
}

/* A client that does not read has output queued in the server: the next server sends it, and the client
 * sees whole lines only, though the kernel had taken part of one. */
static void test_unsent_output_goes_across_in_whole_lines(void **state) {
        ServerProcess *p = *state;
        int fd = harness_connect_greeted(p->port, 2048), probe;
        char line[600];
        unsigned lines = 0;

        harness_send_str(fd, "STREAM *\n");
        usleep(1500 * 1000);
        assert_int_equal(harness_restart_handing_over(p, server_args(), NULL), 0);
        probe = harness_connect_greeted(p->port, 0);
        close(probe);
        harness_expect_line(fd, "OK STREAM");
        for (lines = 0; lines < 200; lines++) {
                unsigned long long seq, when;
                char value[32], name[40], tail;

                assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
                /* Whole too: a sensor with no reading at that tick (under valgrind, its read not done). */
                if (unavailable(line) && (strcmp(line + strlen("ERR 503 sensor unavailable "), "room") == 0 ||
                                          strcmp(line + strlen("ERR 503 sensor unavailable "), "cellar") == 0))
                        continue;
                if (sscanf(line, "TEMP %llu %llu %31s %39s%c", &seq, &when, value, name, &tail) != 4 ||
                                (strcmp(name, "room") != 0 && strcmp(name, "cellar") != 0) ||
                                strlen(value) < 5 || value[strlen(value) - 4] != '.')
                        fail_msg("not a whole line: '%s'", line);
        }
        close(fd);
}

/* A GET of a slow sensor waits for its reading across the restart, and the request after it waits too. */
static void test_a_waiting_get_is_answered_after(void **state) {
        ServerProcess *p = *state;
        int fd = harness_connect_greeted(p->port, 0);
        char line[600];

        harness_send_str(fd, "GET slow\nPING\n");
        assert_int_equal(harness_restart_handing_over(p, server_args(), NULL), 0);
        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        if (strncmp(line, "TEMP ", 5) != 0 || !strstr(line, " slow"))
                fail_msg("not slow's reading: %s", line);
        harness_expect_line(fd, "PONG");
        close(fd);
}

/* A HISTORY larger than the client's buffers is under way at the restart: it goes on, END, then the
 * request after it. */
static void test_a_history_under_way_goes_on(void **state) {
        ServerProcess *p = *state;
        int fd, streaming = harness_connect_greeted(p->port, 0);
        uint64_t last = 0, seq = 0;
        char line[600];
        unsigned n = 0;

        /* Ticks held, for a while, by a stream that keeps the thermometer going. */
        harness_send_str(streaming, "STREAM *\n");
        harness_expect_line(streaming, "OK STREAM");
        read_ticks(streaming, &last, 200);
        fd = harness_connect_greeted(p->port, 2048);
        harness_send_str(fd, "HISTORY *\nPING\n");
        usleep(200 * 1000);
        assert_int_equal(harness_restart_handing_over(p, server_args(), NULL), 0);
        for (;;) {
                assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
                if (strcmp(line, "END") == 0)
                        break;
                if (unavailable(line))
                        continue;
                if (seq_of(line) != seq) {
                        if (seq > 0 && seq_of(line) != seq + 1)
                                fail_msg("HISTORY: #%llu after #%" PRIu64, (unsigned long long) seq_of(line), seq);
                        seq = seq_of(line);
                        n++;
                }
        }
        assert_true(n >= 200);
        harness_expect_line(fd, "PONG");
        close(fd);
        close(streaming);
}

/* While no server runs, a client sends a GET, another streams: the new server takes the GET only once
 * every client is back, so that a tick it takes is the stream's too. */
static void send_get(void *userdata) {
        /* Later than an interval after the last tick: the GET needs a fresh one. */
        usleep(200 * 1000);
        harness_send_str(*(int *) userdata, "GET\n");
}

static void test_requests_sent_meanwhile_cost_no_tick(void **state) {
        ServerProcess *p = *state;
        int poller, all;
        uint64_t last = 0, before;
        char line[600];

        /* The poller connects first: its state comes before the stream's. */
        poller = harness_connect_greeted(p->port, 0);
        all = harness_connect_greeted(p->port, 0);
        harness_send_str(all, "STREAM *\n");
        harness_expect_line(all, "OK STREAM");
        read_ticks(all, &last, 3);
        before = last;
        assert_int_equal(harness_restart_handing_over_with(p, server_args(), NULL, send_get, &poller), 0);
        assert_true(harness_read_line(poller, line, sizeof(line), T) > 0);
        assert_true(strncmp(line, "TEMP ", 5) == 0);
        read_ticks(all, &last, before + 3);
        close(poller);
        close(all);
}

/* The restart changes the sensors: cellar is gone, attic is new. A stream of cellar alone ends with ERR
 * 404; STREAM * goes on, with attic from the next tick on. */
static void test_a_restart_that_changes_the_sensors(void **state) {
        ServerProcess *p = *state;
        int all = harness_connect_greeted(p->port, 0), named = harness_connect_greeted(p->port, 0);
        uint64_t last = 0;
        char line[600];
        bool attic = false;

        harness_send_str(all, "STREAM *\n");
        harness_expect_line(all, "OK STREAM");
        harness_send_str(named, "STREAM cellar\n");
        harness_expect_line(named, "OK STREAM");
        read_ticks(all, &last, 2);
        cellar_gone = true;
        assert_int_equal(harness_restart_handing_over(p, server_args(), NULL), 0);
        for (int i = 0; i < 100 && !attic; i++) {
                assert_true(harness_read_line(all, line, sizeof(line), T) > 0);
                if (unavailable(line))
                        continue;
                if (seq_of(line) > last + 1 && last > 0)
                        fail_msg("#%llu after #%" PRIu64, (unsigned long long) seq_of(line), last);
                last = seq_of(line);
                attic = strstr(line, " attic") != NULL;
        }
        assert_true(attic);
        for (int i = 0; i < 100; i++) {
                assert_true(harness_read_line(named, line, sizeof(line), T) > 0);
                if (strncmp(line, "TEMP ", 5) != 0)
                        break;
        }
        assert_string_equal(line, "ERR 404 no such sensor");
        harness_send_str(named, "PING\n");
        harness_expect_line(named, "PONG");
        close(all);
        close(named);
}

/* SIGUSR2 that thermo-handover did not queue is no restart: the stop after it says BYE. */
static void test_a_stray_sigusr2_is_no_restart(void **state) {
        ServerProcess *p = *state;
        int fd = harness_connect_greeted(p->port, 0);

        kill(p->pid, SIGUSR2);
        harness_send_str(fd, "PING\n");
        harness_expect_line(fd, "PONG");
        assert_int_equal(harness_stop(p, SIGTERM), 0);
        harness_expect_line(fd, "BYE");
        close(fd);
}

int main(int argc, char *argv[]) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_clients_kept_across_restarts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_history_and_levels_go_across, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_client_without_state_is_closed_at_once, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unsent_output_goes_across_in_whole_lines, setup_fast, teardown),
                cmocka_unit_test_setup_teardown(test_a_waiting_get_is_answered_after, setup_slow, teardown),
                cmocka_unit_test_setup_teardown(test_a_history_under_way_goes_on, setup_fast, teardown),
                cmocka_unit_test_setup_teardown(test_requests_sent_meanwhile_cost_no_tick, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_restart_that_changes_the_sensors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_stray_sigusr2_is_no_restart, setup, teardown),
        };

        (void) argc;
        (void) argv;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
