/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "line-buffer.h"

static void expect(LineBuffer *b, bool eof, int r, const char *line) {
        const char *got = NULL;
        size_t n = 0;

        assert_int_equal(line_buffer_next(b, eof, &got, &n), r);
        if (line) {
                assert_int_equal(n, strlen(line));
                assert_memory_equal(got, line, n);
        }
}

static void test_lines_come_out_in_order(void **state) {
        LineBuffer b = {};

        assert_int_equal(line_buffer_append(&b, "PING\r\nGET\nST", 12), 0);
        expect(&b, false, 1, "PING");
        expect(&b, false, 1, "GET");
        expect(&b, false, 0, NULL);
        assert_int_equal(line_buffer_append(&b, "REAM 3\n", 7), 0);
        expect(&b, false, 1, "STREAM 3");
        expect(&b, false, 0, NULL);
}

static void test_last_line_at_eof_without_newline(void **state) {
        LineBuffer b = {};

        assert_int_equal(line_buffer_append(&b, "QUIT\r", 5), 0);
        expect(&b, false, 0, NULL);
        expect(&b, true, 1, "QUIT");
        expect(&b, true, -EPIPE, NULL);
}

static void test_too_long_line(void **state) {
        char junk[PROTOCOL_LINE_MAX];
        LineBuffer b = {};

        memset(junk, 'x', sizeof(junk));
        assert_int_equal(line_buffer_append(&b, junk, sizeof(junk) - 1), 0);
        expect(&b, false, 0, NULL);
        assert_int_equal(line_buffer_append(&b, "x", 1), 0);
        expect(&b, false, -EMSGSIZE, NULL);
}

static void test_room_is_bounded_and_reused(void **state) {
        char chunk[LINE_BUFFER_READ_MAX];
        LineBuffer b = {};

        memset(chunk, '\n', sizeof(chunk));
        assert_int_equal(line_buffer_append(&b, chunk, sizeof(chunk)), 0);
        assert_int_equal(line_buffer_room(&b), PROTOCOL_LINE_MAX);
        assert_int_equal(line_buffer_append(&b, chunk, PROTOCOL_LINE_MAX + 1), -ENOBUFS);
        for (size_t i = 0; i < 100; i++)
                expect(&b, false, 1, "");
        /* Room freed at the front is used again. */
        assert_int_equal(line_buffer_append(&b, chunk, PROTOCOL_LINE_MAX + 100), 0);
        assert_int_equal(line_buffer_room(&b), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lines_come_out_in_order),
                cmocka_unit_test(test_last_line_at_eof_without_newline),
                cmocka_unit_test(test_too_long_line),
                cmocka_unit_test(test_room_is_bounded_and_reused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
