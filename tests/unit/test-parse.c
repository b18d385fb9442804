/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "parse.h"

static void test_uint64(void **state) {
        uint64_t v = 0;

        assert_int_equal(parse_uint64("42", 0, 100, &v), 0);
        assert_int_equal(v, 42);
        assert_int_equal(parse_uint64("18446744073709551615", 0, UINT64_MAX, &v), 0);
        assert_true(v == UINT64_MAX);
        assert_int_equal(parse_uint64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
        assert_int_equal(parse_uint64("101", 0, 100, &v), -ERANGE);
        assert_int_equal(parse_uint64("0", 1, 100, &v), -ERANGE);
        assert_int_equal(parse_uint64("", 0, 100, &v), -EINVAL);
        assert_int_equal(parse_uint64("-1", 0, 100, &v), -EINVAL);
        assert_int_equal(parse_uint64(" 1", 0, 100, &v), -EINVAL);
        assert_int_equal(parse_uint64("1 ", 0, 100, &v), -EINVAL);
}

static void test_timespan(void **state) {
        uint64_t v = 0;

        assert_int_equal(parse_timespan("1000", USEC_PER_MSEC, &v), 0);
        assert_int_equal(v, 1000 * USEC_PER_MSEC);
        assert_int_equal(parse_timespan("60", USEC_PER_SEC, &v), 0);
        assert_int_equal(v, 60 * USEC_PER_SEC);
        assert_int_equal(parse_timespan("250ms", USEC_PER_SEC, &v), 0);
        assert_int_equal(v, 250 * USEC_PER_MSEC);
        assert_int_equal(parse_timespan("1.5s", USEC_PER_MSEC, &v), 0);
        assert_int_equal(v, 1500 * USEC_PER_MSEC);
        assert_int_equal(parse_timespan("2min", USEC_PER_MSEC, &v), 0);
        assert_int_equal(v, 120 * USEC_PER_SEC);
        assert_int_equal(parse_timespan("1h", USEC_PER_MSEC, &v), 0);
        assert_int_equal(v, 3600 * USEC_PER_SEC);
        assert_int_equal(parse_timespan("0", USEC_PER_SEC, &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(parse_timespan("1.", USEC_PER_SEC, &v), -EINVAL);
        assert_int_equal(parse_timespan("5 s", USEC_PER_SEC, &v), -EINVAL);
        assert_int_equal(parse_timespan("5days", USEC_PER_SEC, &v), -EINVAL);
        assert_int_equal(parse_timespan("s", USEC_PER_SEC, &v), -EINVAL);
        assert_int_equal(parse_timespan("99999999999999999h", USEC_PER_SEC, &v), -ERANGE);
}

static void test_size(void **state) {
        uint64_t v = 0;

        assert_int_equal(parse_size("65536", &v), 0);
        assert_int_equal(v, 65536);
        assert_int_equal(parse_size("64K", &v), 0);
        assert_int_equal(v, 65536);
        assert_int_equal(parse_size("2M", &v), 0);
        assert_int_equal(v, 2 * 1024 * 1024);
        assert_int_equal(parse_size("1G", &v), 0);
        assert_int_equal(v, 1024 * 1024 * 1024);
        assert_int_equal(parse_size("64KB", &v), -EINVAL);
        assert_int_equal(parse_size("64k", &v), -EINVAL);
        assert_int_equal(parse_size("K", &v), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_uint64),
                cmocka_unit_test(test_timespan),
                cmocka_unit_test(test_size),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
