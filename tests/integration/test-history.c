/* SPDX-License-Identifier: MIT */
/* History and resume on the wire (thermo-protocol(7), "History and resume"), for the server under test:
 * HISTORY and STREAM after= give the held ticks as they went out live; a client that lost its connection
 * and comes back within the span gets every tick once, in order, the server having taken them meanwhile;
 * a replay larger than any buffer goes out as the client takes it; --history=0 holds nothing; exit on idle
 * waits out the span. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

#define T HARNESS_TIMEOUT_MS

static char dir[64], gone_spec[160];

static int setup(void **state) {
        snprintf(dir, sizeof(dir), "/tmp/thermo-history-XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(gone_spec, sizeof(gone_spec), "gone=file:%s/gone", dir);
        return 0;
}

static int teardown(void **state) {
        harness_remove_tree(dir);
        return harness_kill_all(state);
}

static int connect_greeted(ServerProcess *p, int rcvbuf) {
        char line[600];
        int fd = harness_connect(p->port, rcvbuf);

        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        assert_true(strncmp(line, "HELLO thermo/1 ", 15) == 0);
        return fd;
}

static void expect_line(int fd, const char *expected) {
        char line[600];

        assert_true(harness_read_line(fd, line, sizeof(line), T) >= 0);
        assert_string_equal(line, expected);
}

/* The lines up to END (not kept), joined with "\n": what a stream or HISTORY sent. */
static char *read_until_end(int fd) {
        char *all = NULL, line[600];
        size_t size = 0;
        FILE *f = open_memstream(&all, &size);

        assert_non_null(f);
        for (int i = 0; i < 100000; i++) {
                assert_true(harness_read_line(fd, line, sizeof(line), T) >= 0);
                if (strcmp(line, "END") == 0)
                        break;
                fprintf(f, "%s\n", line);
        }
        fclose(f);
        return all;
}

static uint64_t info_field(ServerProcess *p, const char *field) {
        char line[600], want[64];
        const char *at;
        int fd = connect_greeted(p, 0);

        harness_send_str(fd, "INFO\n");
        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        close(fd);
        snprintf(want, sizeof(want), " %s=", field);
        at = strstr(line, want);
        if (!at)
                fail_msg("no %s in %s", field, line);
        return strtoull(at + strlen(want), NULL, 10);
}

/* A TEMP line's seq, named or not. */
static uint64_t seq_of(const char *line) {
        unsigned long long seq;

        if (sscanf(line, "TEMP %llu ", &seq) != 1)
                fail_msg("not a TEMP line: %s", line);
        return seq;
}

/* A greeted connection that sent request (a STREAM), read up to the tick seq: *ret_last is the last one read. */
static int stream_until(ServerProcess *p, const char *request, uint64_t seq, uint64_t *ret_last) {
        char line[600];
        uint64_t last = 0;
        int fd = connect_greeted(p, 0);

        harness_send_str(fd, request);
        expect_line(fd, "OK STREAM");
        while (last < seq) {
                assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
                last = seq_of(line);
        }
        *ret_last = last;
        return fd;
}

static uint64_t now_ms(void) {
        struct timeval tv;

        gettimeofday(&tv, NULL);
        return (uint64_t) tv.tv_sec * 1000 + (uint64_t) tv.tv_usec / 1000;
}

static void test_held_ticks_as_they_went_out(void **state) {
        char *live, *held, *unnamed, *after, line[600];
        ServerProcess p;
        int fd;

        harness_start_activated(&p, (const char *const[]) { "--interval", "20ms", "--sensor", "cpu=simulated:seed=1",
                                                           "--sensor", gone_spec, NULL });
        fd = connect_greeted(&p, 0);
        harness_send_str(fd, "STREAM 5 *\n");
        expect_line(fd, "OK STREAM");
        live = read_until_end(fd);
        /* Each tick: the reading, and the sensor that has none. */
        assert_non_null(strstr(live, "ERR 503 sensor unavailable gone\n"));

        harness_send_str(fd, "HISTORY *\n");
        held = read_until_end(fd);
        assert_string_equal(held, live);
        assert_int_equal(info_field(&p, "oldest_seq"), 1);
        assert_int_equal(info_field(&p, "newest_seq"), 5);

        /* The default sensor's, unnamed, as a plain STREAM has them; after a seq; a name. */
        harness_send_str(fd, "HISTORY\n");
        unnamed = read_until_end(fd);
        assert_int_equal(strncmp(unnamed, "TEMP 1 ", 7), 0);
        assert_null(strstr(unnamed, "cpu"));
        assert_null(strstr(unnamed, "ERR"));
        harness_send_str(fd, "history after=3 gone\n");
        after = read_until_end(fd);
        assert_string_equal(after, "ERR 503 sensor unavailable gone\nERR 503 sensor unavailable gone\n");
        harness_send_str(fd, "HISTORY nope\n");
        expect_line(fd, "ERR 404 no such sensor");
        harness_send_str(fd, "HISTORY 5\n");
        expect_line(fd, "ERR 400 unexpected argument");

        /* after= at or past the newest: the next tick comes first. */
        harness_send_str(fd, "STREAM 1 after=18446744073709551615 cpu\n");
        expect_line(fd, "OK STREAM");
        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        assert_int_equal(seq_of(line), 6);
        expect_line(fd, "END");
        close(fd);
        free(live);
        free(held);
        free(unnamed);
        free(after);
        harness_cleanup(&p);
}

/* Lost (closed without STOP or QUIT) and back within the span: every tick once, in order, those taken while
 * it was away among them. */
static void test_a_client_that_comes_back_misses_nothing(void **state) {
        uint64_t last = 0, away, back, seq;
        ServerProcess p;
        char line[600];
        bool taken_away = false;
        int fd;

        harness_start_activated(&p, (const char *const[]) { "--interval", "20ms", "--sensor", "cpu=simulated", NULL });
        fd = stream_until(&p, "STREAM cpu\n", 5, &last);
        close(fd);
        away = now_ms();
        usleep(300 * 1000);

        fd = connect_greeted(&p, 0);
        back = now_ms();
        snprintf(line, sizeof(line), "STREAM 30 after=%" PRIu64 " cpu\n", last);
        harness_send_str(fd, line);
        expect_line(fd, "OK STREAM");
        for (int i = 0; i < 30; i++) {
                unsigned long long t;

                assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
                seq = seq_of(line);
                assert_int_equal(seq, last + 1);
                last = seq;
                assert_int_equal(sscanf(line, "TEMP %*u %llu", &t), 1);
                taken_away |= t > away && t < back;
        }
        expect_line(fd, "END");
        assert_true(taken_away);
        close(fd);
        harness_cleanup(&p);
}

/* Held ticks far beyond every buffer (the server's, the kernel's both ways): they go out as the client
 * takes them, all of them, in order; a request after HISTORY is answered after its END. */
static void test_a_replay_larger_than_the_buffers(void **state) {
        ServerProcess p;
        char line[600];
        uint64_t seq = 0;
        int fd;

        harness_start_activated_with(&p,
                        (const char *const[]) { "--interval", "5ms", "--buffer-size", "1K", "--sensor",
                                                "a-long-name-for-sensor-number-1=simulated:seed=1", "--sensor",
                                                "a-long-name-for-sensor-number-2=simulated:seed=2", NULL },
                        &(HarnessOptions) { .sndbuf = 4096 });
        fd = connect_greeted(&p, 4096);
        harness_send_str(fd, "STREAM 400 *\n");
        expect_line(fd, "OK STREAM");
        free(read_until_end(fd));

        harness_send_str(fd, "HISTORY *\nPING\n");
        /* Nothing read for a while: the replay waits for us, not in memory. */
        usleep(200 * 1000);
        for (int i = 0; i < 100000; i++) {
                assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
                if (strcmp(line, "END") == 0)
                        break;
                /* Each tick its two lines, the first sensor's first: every tick, in order. */
                if (strstr(line, "number-1")) {
                        assert_int_equal(seq_of(line), seq + 1);
                        seq++;
                }
        }
        assert_true(seq >= 400);
        expect_line(fd, "PONG");
        close(fd);
        harness_cleanup(&p);
}

/* HISTORY on a connection that streams: its held ticks, END, and the stream takes up where it was, each
 * tick once. */
static void test_history_while_streaming(void **state) {
        uint64_t last = 0, seq, newest = 0, first_after_end = 0;
        ServerProcess p;
        char line[600];
        bool in_history = false;
        int fd;

        harness_start_activated(&p, (const char *const[]) { "--interval", "10ms", "--sensor", "cpu=simulated", NULL });
        fd = stream_until(&p, "STREAM cpu\n", 20, &last);
        harness_send_str(fd, "HISTORY cpu\n");
        for (int i = 0; i < 10000 && first_after_end == 0; i++) {
                assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
                if (strcmp(line, "END") == 0) {
                        assert_true(in_history);
                        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
                        first_after_end = seq_of(line);
                        break;
                }
                seq = seq_of(line);
                if (!in_history && seq == 1)
                        in_history = true;
                else if (!in_history) {
                        /* The stream's, already on their way. */
                        assert_int_equal(seq, last + 1);
                        last = seq;
                } else {
                        assert_int_equal(seq, newest + 1);
                }
                if (in_history)
                        newest = seq;
        }
        /* Every held tick up to the newest when it was asked, then the stream from where it was. */
        assert_true(newest >= last);
        assert_int_equal(first_after_end, last + 1);
        close(fd);
        harness_cleanup(&p);
}

static void test_no_history(void **state) {
        ServerProcess p;
        char line[600];
        int fd;

        harness_start_activated(&p, (const char *const[]) { "--interval", "20ms", "--history", "0", "--sensor",
                                                           "cpu=simulated", NULL });
        fd = connect_greeted(&p, 0);
        harness_send_str(fd, "STREAM 3\n");
        expect_line(fd, "OK STREAM");
        free(read_until_end(fd));
        harness_send_str(fd, "HISTORY\n");
        expect_line(fd, "END");
        assert_int_equal(info_field(&p, "oldest_seq"), 0);
        assert_int_equal(info_field(&p, "newest_seq"), 0);
        harness_send_str(fd, "STREAM 1 after=0\n");
        expect_line(fd, "OK STREAM");
        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        assert_int_equal(seq_of(line), 4);
        expect_line(fd, "END");
        close(fd);
        harness_cleanup(&p);
}

/* Exit on idle after a streaming client lost its connection: the span first (readings taken for it, so
 * that it can come back), then the idle time, and no longer. */
static void test_exit_on_idle_waits_out_the_span(void **state) {
        ServerProcess p;
        uint64_t last = 0;
        int fd;

        harness_start_activated(&p, (const char *const[]) { "--interval", "20ms", "--exit-idle", "100ms", "--history",
                                                           "1s", "--sensor", "cpu=simulated", NULL });
        fd = stream_until(&p, "STREAM\n", 3, &last);
        close(fd);
        /* Well past the idle time, within the span: there still, with what it took meanwhile. */
        usleep(500 * 1000);
        assert_int_equal(harness_wait_exit(&p, 0), -ETIMEDOUT);
        assert_true(info_field(&p, "newest_seq") > last + 5);

        /* Then the span ends, the idle time passes, and the server exits. */
        assert_int_equal(harness_wait_exit(&p, T), 0);
        harness_cleanup(&p);
}

int main(int argc, char *argv[]) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_held_ticks_as_they_went_out, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_client_that_comes_back_misses_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_replay_larger_than_the_buffers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_history_while_streaming, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_history, setup, teardown),
                cmocka_unit_test_setup_teardown(test_exit_on_idle_waits_out_the_span, setup, teardown),
        };

        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, harness_kill_all);
}
