/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "buffer.h"

static void test_append_within_capacity(void **state) {
        Buffer b;

        buffer_init(&b, 10);
        assert_int_equal(buffer_append(&b, "hello", 5), 0);
        assert_int_equal(buffer_append(&b, "world", 5), 0);
        assert_int_equal(buffer_size(&b), 10);
        assert_memory_equal(b.data + b.start, "helloworld", 10);
        buffer_done(&b);
}

static void test_append_that_does_not_fit_queues_nothing(void **state) {
        Buffer b;

        buffer_init(&b, 8);
        assert_int_equal(buffer_append(&b, "12345", 5), 0);
        assert_int_equal(buffer_append(&b, "6789", 4), -ENOBUFS);
        assert_int_equal(buffer_size(&b), 5);
        assert_int_equal(buffer_append(&b, "678", 3), 0);
        assert_int_equal(buffer_size(&b), 8);
        buffer_done(&b);
}

static void test_consume_frees_room_for_more(void **state) {
        Buffer b;

        buffer_init(&b, 8);
        assert_int_equal(buffer_append(&b, "abcdefgh", 8), 0);
        buffer_consume(&b, 6);
        assert_int_equal(buffer_size(&b), 2);
        assert_int_equal(buffer_append(&b, "ijklmn", 6), 0);
        assert_memory_equal(b.data + b.start, "ghijklmn", 8);
        assert_int_equal(b.allocated, 8);
        buffer_consume(&b, 100);
        assert_int_equal(buffer_size(&b), 0);
        buffer_done(&b);
}

static void test_memory_never_exceeds_capacity(void **state) {
        char chunk[100];
        Buffer b;

        memset(chunk, 'x', sizeof(chunk));
        buffer_init(&b, 64 * 1024);
        for (int i = 0; i < 10000; i++)
                (void) buffer_append(&b, chunk, sizeof(chunk));
        assert_int_equal(buffer_size(&b), 64 * 1024 / 100 * 100);
        assert_true(b.allocated <= 64 * 1024);
        buffer_done(&b);
}

static void test_flush_sends_in_order_and_keeps_the_rest(void **state) {
        char got[16] = {};
        int sv[2];
        Buffer b;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        buffer_init(&b, 64);
        assert_int_equal(buffer_append(&b, "TEMP 1\nTEMP 2\n", 14), 0);
        assert_int_equal(buffer_flush(&b, sv[0]), 0);
        assert_int_equal(read(sv[1], got, sizeof(got)), 14);
        assert_string_equal(got, "TEMP 1\nTEMP 2\n");

        close(sv[1]);
        assert_int_equal(buffer_append(&b, "x", 1), 0);
        assert_int_equal(buffer_flush(&b, sv[0]), -EPIPE);
        close(sv[0]);
        buffer_done(&b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_append_within_capacity),
                cmocka_unit_test(test_append_that_does_not_fit_queues_nothing),
                cmocka_unit_test(test_consume_frees_room_for_more),
                cmocka_unit_test(test_memory_never_exceeds_capacity),
                cmocka_unit_test(test_flush_sends_in_order_and_keeps_the_rest),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
