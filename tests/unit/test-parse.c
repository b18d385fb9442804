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

static void assert_timespan(const char *s, uint64_t usec) {
        uint64_t v = 0;

        if (parse_timespan(s, &v) != 0)
                fail_msg("'%s' does not parse", s);
        if (v != usec)
                fail_msg("'%s' is %llu us, not %llu", s, (unsigned long long) v, (unsigned long long) usec);
}

static void test_timespan(void **state) {
        uint64_t v = 0;

        /* As systemd.time(7) reads them: a bare number is seconds. */
        assert_timespan("5", 5 * USEC_PER_SEC);
        assert_timespan("0", 0);
        assert_timespan("1.5", 1500 * USEC_PER_MSEC);
        assert_timespan("250ms", 250 * USEC_PER_MSEC);
        assert_timespan("250 ms", 250 * USEC_PER_MSEC);
        assert_timespan("250msec", 250 * USEC_PER_MSEC);
        assert_timespan("100us", 100);
        assert_timespan("100usec", 100);
        assert_timespan("100\xc2\xb5s", 100);
        assert_timespan("1.5s", 1500 * USEC_PER_MSEC);
        assert_timespan("5sec", 5 * USEC_PER_SEC);
        assert_timespan("5seconds", 5 * USEC_PER_SEC);
        assert_timespan("2min", 120 * USEC_PER_SEC);
        assert_timespan("2m", 120 * USEC_PER_SEC);
        assert_timespan("2minutes", 120 * USEC_PER_SEC);
        assert_timespan("1h", 3600 * USEC_PER_SEC);
        assert_timespan("1hr", 3600 * USEC_PER_SEC);
        assert_timespan("1d", 86400 * USEC_PER_SEC);
        assert_timespan("1w", 7 * 86400 * USEC_PER_SEC);
        assert_timespan("1M", 2629800 * USEC_PER_SEC);
        assert_timespan("1y", 31557600 * USEC_PER_SEC);
        /* Components add up, with or without blanks. */
        assert_timespan("2min 30s", 150 * USEC_PER_SEC);
        assert_timespan("1h30min", 5400 * USEC_PER_SEC);
        assert_timespan(" 1s 500ms ", 1500 * USEC_PER_MSEC);

        assert_int_equal(parse_timespan("", &v), -EINVAL);
        assert_int_equal(parse_timespan("  ", &v), -EINVAL);
        assert_int_equal(parse_timespan("1.", &v), -EINVAL);
        assert_int_equal(parse_timespan(".5s", &v), -EINVAL);
        assert_int_equal(parse_timespan("s", &v), -EINVAL);
        assert_int_equal(parse_timespan("5 10s", &v), -EINVAL);
        assert_int_equal(parse_timespan("1min 30", &v), -EINVAL);
        assert_int_equal(parse_timespan("5 fortnights", &v), -EINVAL);
        assert_int_equal(parse_timespan("5mins", &v), -EINVAL);
        assert_int_equal(parse_timespan("-5s", &v), -EINVAL);
        assert_int_equal(parse_timespan("99999999999999999h", &v), -ERANGE);
        assert_int_equal(parse_timespan("18446744073709551615s", &v), -ERANGE);
        /* Past the end by less than the fraction: an error, never a wrapped value. */
        assert_int_equal(parse_timespan("5124095576.999999h", &v), -ERANGE);
        assert_int_equal(parse_timespan("5124095576h 1h", &v), -ERANGE);
        /* The fraction of a long unit, without overflow on the way. */
        assert_timespan("0.999999y", UINT64_C(31557568442400));
}

static void test_format_timespan(void **state) {
        char buf[64];

        assert_string_equal(format_timespan(buf, sizeof(buf), 0), "0");
        assert_string_equal(format_timespan(buf, sizeof(buf), 1), "1us");
        assert_string_equal(format_timespan(buf, sizeof(buf), 250 * USEC_PER_MSEC), "250ms");
        assert_string_equal(format_timespan(buf, sizeof(buf), USEC_PER_SEC), "1s");
        assert_string_equal(format_timespan(buf, sizeof(buf), 1500 * USEC_PER_MSEC), "1s 500ms");
        assert_string_equal(format_timespan(buf, sizeof(buf), 150 * USEC_PER_SEC), "2min 30s");
        assert_string_equal(format_timespan(buf, sizeof(buf), 3600 * USEC_PER_SEC + 1), "1h 1us");
        assert_string_equal(format_timespan(buf, sizeof(buf), 86400 * USEC_PER_SEC), "24h");
}

static void test_format_timespan_ms(void **state) {
        char buf[64];

        assert_string_equal(format_timespan_ms(buf, sizeof(buf), 999), "0");
        assert_string_equal(format_timespan_ms(buf, sizeof(buf), 250 * USEC_PER_MSEC + 7), "250ms");
        assert_string_equal(format_timespan_ms(buf, sizeof(buf), 24579788), "24.579s");
        assert_string_equal(format_timespan_ms(buf, sizeof(buf), 24 * USEC_PER_SEC), "24s");
        assert_string_equal(format_timespan_ms(buf, sizeof(buf), 84579788), "1min 24.579s");
        assert_string_equal(format_timespan_ms(buf, sizeof(buf), 3600 * USEC_PER_SEC + 5 * USEC_PER_MSEC), "1h 5ms");
        assert_string_equal(format_timespan_ms(buf, sizeof(buf), 150 * USEC_PER_SEC), "2min 30s");
}

static void test_celsius(void **state) {
        int64_t v;

        assert_int_equal(parse_celsius("80", &v), 0);
        assert_int_equal(v, 80000);
        assert_int_equal(parse_celsius("-5", &v), 0);
        assert_int_equal(v, -5000);
        assert_int_equal(parse_celsius("7.5", &v), 0);
        assert_int_equal(v, 7500);
        assert_int_equal(parse_celsius("+92.125", &v), 0);
        assert_int_equal(v, 92125);
        assert_int_equal(parse_celsius("-0.001", &v), 0);
        assert_int_equal(v, -1);
        assert_int_equal(parse_celsius("92.1255", &v), -EINVAL);
        assert_int_equal(parse_celsius("1.", &v), -EINVAL);
        assert_int_equal(parse_celsius(".5", &v), -EINVAL);
        assert_int_equal(parse_celsius("hot", &v), -EINVAL);
        assert_int_equal(parse_celsius("", &v), -EINVAL);
        assert_int_equal(parse_celsius("80 ", &v), -EINVAL);
        assert_int_equal(parse_celsius("1000001", &v), -ERANGE);
        assert_int_equal(parse_celsius("99999999999999999999", &v), -ERANGE);
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

/* What --http-cors-origin takes: *, or an origin as a browser sends it, and nothing else. */
static void test_origin(void **state) {
        for (const char *const *good = (const char *const[]) { "*", "https://example.com", "http://127.0.0.1:8890",
                                                                "https://dash.example:8443", "http://[::1]:8890",
                                                                "http://localhost", "http://a.example:443",
                                                                "https://a.example:80", NULL };
                        *good; good++)
                assert_true(parse_origin_is_valid(*good));
        for (const char *const *bad = (const char *const[]) { "", "**", "null", "example.com", "ftp://example.com",
                                                               "https://", "https://example.com/", "https://example.com/x",
                                                               "https://a.example:0", "https://a.example:65536",
                                                               "https://a.example:", "https://u@a.example",
                                                               "https://.example", "https://example.", "http://[::1",
                                                               "http://[]", "https://exa mple.com", "https://a.example\n",
                                                               "HTTPS://example.com", "https://Example.com",
                                                               "http://[::1]:80", "https://a.example:443",
                                                               "https://a.example:08443", "http://[::A]", NULL };
                        *bad; bad++)
                if (parse_origin_is_valid(*bad))
                        fail_msg("'%s' taken", *bad);
        assert_false(parse_origin_is_valid(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_uint64),
                cmocka_unit_test(test_timespan),
                cmocka_unit_test(test_format_timespan),
                cmocka_unit_test(test_format_timespan_ms),
                cmocka_unit_test(test_size),
                cmocka_unit_test(test_celsius),
                cmocka_unit_test(test_origin),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
