/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "line.h"

static void test_next_line_strips_terminators(void **state) {
        size_t length = 99;

        assert_int_equal(line_next("GET\nPING\n", 9, &length), 4);
        assert_int_equal(length, 3);
        assert_int_equal(line_next("GET\r\n", 5, &length), 5);
        assert_int_equal(length, 3);
        assert_int_equal(line_next("\n", 1, &length), 1);
        assert_int_equal(length, 0);
        assert_int_equal(line_next("GE", 2, &length), 0);
}

static void test_line_of_512_bytes_is_accepted_513_is_not(void **state) {
        char buf[600];
        size_t length;

        memset(buf, 'x', sizeof(buf));
        buf[511] = '\n';
        assert_int_equal(line_next(buf, sizeof(buf), &length), 512);
        assert_int_equal(length, 511);

        buf[511] = 'x';
        buf[512] = '\n';
        assert_int_equal(line_next(buf, sizeof(buf), &length), -EMSGSIZE);

        /* 511 bytes without a terminator may still become a valid line. */
        assert_int_equal(line_next(buf, 511, &length), 0);
        /* 512 bytes and no terminator can only be too long. */
        assert_int_equal(line_next(buf, 512, &length), -EMSGSIZE);

        /* CRLF counts: 510 bytes, \r, \n make 512. */
        memset(buf, 'x', sizeof(buf));
        buf[510] = '\r';
        buf[511] = '\n';
        assert_int_equal(line_next(buf, 512, &length), 512);
        assert_int_equal(length, 510);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_next_line_strips_terminators),
                cmocka_unit_test(test_line_of_512_bytes_is_accepted_513_is_not),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
