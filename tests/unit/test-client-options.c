/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "argv.h"
#include "macro.h"
#include "options.h"
#include "server-link.h"

#define PARSE(o, ...)                                                                   \
        ({                                                                              \
                char *_argv[] = { (char *) "thermo-client", __VA_ARGS__, NULL };        \
                client_options_parse(argv_count(_argv), _argv, o);            \
        })

static void assert_destination(const char *s, const char *host, const char *port) {
        _cleanup_free_ char *h = NULL, *p = NULL;

        assert_int_equal(server_destination_parse(s, &h, &p), 0);
        assert_string_equal(h, host);
        assert_string_equal(p, port);
}

static void test_destinations(void **state) {
        char *h = NULL, *p = NULL;

        assert_destination("localhost", "localhost", "8888");
        assert_destination("example.org:9000", "example.org", "9000");
        assert_destination("127.0.0.1:8889", "127.0.0.1", "8889");
        assert_destination("[::1]:8888", "::1", "8888");
        assert_destination("[::1]", "::1", "8888");
        assert_destination("::1", "::1", "8888");
        assert_destination("fe80::1%eth0", "fe80::1%eth0", "8888");

        assert_int_equal(server_destination_parse("host:", &h, &p), -EINVAL);
        assert_int_equal(server_destination_parse("host:0", &h, &p), -EINVAL);
        assert_int_equal(server_destination_parse("host:99999", &h, &p), -EINVAL);
        assert_int_equal(server_destination_parse("[::1", &h, &p), -EINVAL);
        assert_int_equal(server_destination_parse("[]:1", &h, &p), -EINVAL);
        assert_int_equal(server_destination_parse(":8888", &h, &p), -EINVAL);
}

static void test_defaults(void **state) {
        ClientOptions o = {};

        assert_int_equal(PARSE(&o, NULL), 1);
        assert_string_equal(o.host, "localhost");
        assert_string_equal(o.port, "8888");
        assert_int_equal(o.count, 0);
        assert_false(o.once);
        assert_int_equal(o.format, OUTPUT_TEXT);
        assert_int_equal(o.unit, UNIT_CELSIUS);
        assert_int_equal(o.timeout, 10 * 1000 * 1000);
        assert_false(o.retry);
        client_options_done(&o);
}

static void test_every_option(void **state) {
        ClientOptions o = {};

        assert_int_equal(PARSE(&o, "-n", "5", "-o", "json", "--units", "kelvin", "-t", "2.5", "-r", "[::1]:8889"),
                        1);
        assert_int_equal(o.count, 5);
        assert_int_equal(o.format, OUTPUT_JSON);
        assert_int_equal(o.unit, UNIT_KELVIN);
        assert_int_equal(o.timeout, 2500 * 1000);
        assert_true(o.retry);
        assert_string_equal(o.host, "::1");
        assert_string_equal(o.port, "8889");
        client_options_done(&o);

        assert_int_equal(PARSE(&o, "--unix", "/run/thermo.sock", "--once", "--output=csv"), 1);
        assert_string_equal(o.unix_path, "/run/thermo.sock");
        assert_null(o.host);
        assert_true(o.once);
        assert_int_equal(o.format, OUTPUT_CSV);
        client_options_done(&o);
}

static void test_usage_errors(void **state) {
        ClientOptions o = {};

        assert_int_equal(PARSE(&o, "-n", "0"), -EINVAL);
        assert_int_equal(PARSE(&o, "-n", "4294967296"), -EINVAL);
        assert_int_equal(PARSE(&o, "-o", "xml"), -EINVAL);
        assert_int_equal(PARSE(&o, "--units", "rankine"), -EINVAL);
        assert_int_equal(PARSE(&o, "-t", "0"), -EINVAL);
        assert_int_equal(PARSE(&o, "-1", "-n", "3"), -EINVAL);
        assert_int_equal(PARSE(&o, "-U", "/x", "localhost"), -EINVAL);
        assert_int_equal(PARSE(&o, "a", "b"), -EINVAL);
        assert_int_equal(PARSE(&o, "host:port"), -EINVAL);
        assert_int_equal(PARSE(&o, "--bogus"), -EINVAL);
        assert_int_equal(PARSE(&o, "--sensor", "cpu", "-s", "cpu"), -EINVAL);
        assert_int_equal(PARSE(&o, "--since", "0"), -EINVAL);
        assert_int_equal(PARSE(&o, "--since", "8d"), -EINVAL);
        assert_int_equal(PARSE(&o, "--since", "10min", "--alarms"), -EINVAL);
        assert_int_equal(PARSE(&o, "--since", "10min", "--list"), -EINVAL);
        assert_null(o.host);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_destinations),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_every_option),
                cmocka_unit_test(test_usage_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
