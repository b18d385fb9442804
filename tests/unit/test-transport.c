/* SPDX-License-Identifier: MIT */
/* The transport calls its protocol at the moments asyncio would: checked on a socketpair, with the test
 * as the peer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "transport.h"

typedef struct Recorder {
        char calls[512];  /* the callbacks, in order: "made data(5) eof lost(0)" */
        char data[8192];
        size_t n_data;
        bool keep_open;   /* what eof_received returns */
        bool lost;
        Transport *transport;
} Recorder;

static void note(Recorder *r, const char *call) {
        strncat(r->calls, call, sizeof(r->calls) - strlen(r->calls) - 1);
}

static void made(Transport *t, void *u) {
        Recorder *r = u;
        r->transport = t;
        note(r, "made ");
}

static void data(Transport *t, const char *d, size_t n, void *u) {
        Recorder *r = u;
        char call[32];

        memcpy(r->data + r->n_data, d, n);
        r->n_data += n;
        snprintf(call, sizeof(call), "data(%zu) ", n);
        note(r, call);
}

static bool eof(Transport *t, void *u) {
        Recorder *r = u;
        note(r, "eof ");
        return r->keep_open;
}

static void lost(Transport *t, int error, void *u) {
        Recorder *r = u;
        char call[32];

        snprintf(call, sizeof(call), "lost(%d)", error);
        note(r, call);
        r->lost = true;
}

static void pause_w(Transport *t, void *u) {
        note(u, "pause ");
}

static void resume_w(Transport *t, void *u) {
        note(u, "resume ");
}

static const TransportProtocol recorder_protocol = {
        .connection_made = made,
        .data_received = data,
        .eof_received = eof,
        .connection_lost = lost,
        .pause_writing = pause_w,
        .resume_writing = resume_w,
};

static sd_event *event;

static int setup(void **state) {
        assert_true(sd_event_default(&event) >= 0);
        return 0;
}

static int teardown(void **state) {
        event = sd_event_unref(event);
        return 0;
}

/* Runs the loop until cond holds; bounded, so that a broken transport fails, not hangs. */
#define RUN_UNTIL(cond)                                                         \
        do {                                                                    \
                for (int _i = 0; _i < 200 && !(cond); _i++)                     \
                        assert_true(sd_event_run(event, 10 * 1000) >= 0);       \
                assert_true(cond);                                              \
        } while (0)

static Transport *new_transport(Recorder *r, int *ret_peer, size_t capacity, size_t high, size_t low) {
        Transport *t = NULL;
        int sv[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(transport_new(event, sv[0], capacity, high, low, &recorder_protocol, r, &t), 0);
        assert_ptr_equal(r->transport, t);
        *ret_peer = sv[1];
        return t;
}

static void test_made_data_eof_then_close_on_false(void **state) {
        Recorder r = {};
        Transport *t;
        int peer;

        t = new_transport(&r, &peer, 1024, 512, 128);
        assert_string_equal(r.calls, "made ");
        assert_int_equal(write(peer, "hello", 5), 5);
        RUN_UNTIL(r.n_data == 5);
        assert_memory_equal(r.data, "hello", 5);
        assert_int_equal(shutdown(peer, SHUT_WR), 0);
        /* eof_received returns false: the transport closes, and says so from an event of its own. */
        RUN_UNTIL(r.lost);
        assert_string_equal(r.calls, "made data(5) eof lost(0)");
        transport_free(t);
        close(peer);
}

static void test_eof_true_keeps_writing_possible(void **state) {
        Recorder r = { .keep_open = true };
        char buf[16] = {};
        Transport *t;
        int peer;

        t = new_transport(&r, &peer, 1024, 512, 128);
        assert_int_equal(shutdown(peer, SHUT_WR), 0);
        RUN_UNTIL(strstr(r.calls, "eof"));
        assert_int_equal(transport_write(t, "BYE\n", 4), 0);
        transport_close(t);
        RUN_UNTIL(r.lost);
        assert_int_equal(read(peer, buf, sizeof(buf)), 4);
        assert_string_equal(buf, "BYE\n");
        assert_string_equal(r.calls, "made eof lost(0)");
        transport_free(t);
        close(peer);
}

static void test_pause_above_high_water_resume_at_low_water(void **state) {
        char chunk[1000], sink[65536];
        Recorder r = {};
        Transport *t;
        int peer, sndbuf = 4096;
        size_t queued;

        memset(chunk, 'x', sizeof(chunk));
        t = new_transport(&r, &peer, 1 << 20, 64 * 1024, 16 * 1024);
        (void) setsockopt(peer, SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof(sndbuf));

        /* The peer does not read: the kernel's buffers fill, then ours, past the high-water mark. */
        for (int i = 0; i < 2000 && !strstr(r.calls, "pause"); i++)
                assert_int_equal(transport_write(t, chunk, sizeof(chunk)), 0);
        assert_non_null(strstr(r.calls, "pause "));
        assert_true(transport_is_writing_paused(t));
        queued = transport_get_write_buffer_size(t);
        assert_true(queued > 64 * 1024);

        /* The peer reads: the buffer drains down to the low-water mark and writing resumes. */
        for (int i = 0; i < 1000 && !strstr(r.calls, "resume"); i++) {
                (void) read(peer, sink, sizeof(sink));
                assert_true(sd_event_run(event, 10 * 1000) >= 0);
        }
        assert_non_null(strstr(r.calls, "made pause resume"));
        assert_false(transport_is_writing_paused(t));
        assert_true(transport_get_write_buffer_size(t) <= 16 * 1024);
        transport_abort(t);
        RUN_UNTIL(r.lost);
        transport_free(t);
        close(peer);
}

static void test_write_beyond_capacity_ends_the_connection(void **state) {
        char chunk[4096], expected[32];
        Recorder r = {};
        Transport *t;
        int peer, k = 0, ret = 0;

        memset(chunk, 'x', sizeof(chunk));
        t = new_transport(&r, &peer, 8192, 4096, 1024);
        for (; k < 1000 && ret == 0; k++)
                ret = transport_write(t, chunk, sizeof(chunk));
        assert_int_equal(ret, -ENOBUFS);
        assert_int_equal(transport_write(t, "x", 1), -EPIPE);
        RUN_UNTIL(r.lost);
        snprintf(expected, sizeof(expected), "lost(%d)", -ENOBUFS);
        assert_non_null(strstr(r.calls, expected));
        transport_free(t);
        close(peer);
}

static void test_abort_drops_the_queue(void **state) {
        char expected[32];
        Recorder r = {};
        Transport *t;
        int peer;

        t = new_transport(&r, &peer, 1024, 512, 128);
        transport_abort(t);
        /* Lost is never called from inside a call of ours. */
        assert_false(r.lost);
        RUN_UNTIL(r.lost);
        snprintf(expected, sizeof(expected), "made lost(%d)", -ECONNABORTED);
        assert_string_equal(r.calls, expected);
        transport_free(t);
        close(peer);
}

static void test_peer_gone_is_an_error(void **state) {
        Recorder r = {};
        Transport *t;
        int peer;

        t = new_transport(&r, &peer, 1024, 512, 128);
        close(peer);
        (void) transport_write(t, "TEMP\n", 5);
        RUN_UNTIL(r.lost);
        assert_null(strstr(r.calls, "lost(0)"));
        transport_free(t);
}

static void test_paused_reading_reads_nothing(void **state) {
        Recorder r = {};
        Transport *t;
        int peer;

        t = new_transport(&r, &peer, 1024, 512, 128);
        transport_pause_reading(t);
        assert_int_equal(write(peer, "PING\n", 5), 5);
        for (int i = 0; i < 5; i++)
                assert_true(sd_event_run(event, 10 * 1000) >= 0);
        assert_int_equal(r.n_data, 0);
        transport_resume_reading(t);
        RUN_UNTIL(r.n_data == 5);
        transport_abort(t);
        RUN_UNTIL(r.lost);
        transport_free(t);
        close(peer);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_made_data_eof_then_close_on_false),
                cmocka_unit_test(test_eof_true_keeps_writing_possible),
                cmocka_unit_test(test_pause_above_high_water_resume_at_low_water),
                cmocka_unit_test(test_write_beyond_capacity_ends_the_connection),
                cmocka_unit_test(test_abort_drops_the_queue),
                cmocka_unit_test(test_peer_gone_is_an_error),
                cmocka_unit_test(test_paused_reading_reads_nothing),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
