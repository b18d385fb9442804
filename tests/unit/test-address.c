/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "address.h"

static void assert_round_trip(const char *s, int family) {
        char buf[SOCKET_ADDRESS_STRING_MAX];
        SocketAddress a;

        assert_int_equal(socket_address_parse(s, &a), 0);
        assert_int_equal(a.sa.sa_family, family);
        socket_address_format(&a, buf, sizeof(buf));
        assert_string_equal(buf, s);
}

static void test_parse_and_format(void **state) {
        assert_round_trip("127.0.0.1:8888", AF_INET);
        assert_round_trip("0.0.0.0:1", AF_INET);
        assert_round_trip("[::1]:8888", AF_INET6);
        assert_round_trip("[::]:65535", AF_INET6);
        assert_round_trip("/run/thermo/thermo.sock", AF_UNIX);
        assert_round_trip("@thermo", AF_UNIX);
}

static void test_parse_rejects(void **state) {
        SocketAddress a;
        char longpath[200];

        memset(longpath, 'a', sizeof(longpath));
        longpath[0] = '/';
        longpath[sizeof(longpath) - 1] = '\0';

        assert_int_equal(socket_address_parse("localhost:8888", &a), -EINVAL);
        assert_int_equal(socket_address_parse("127.0.0.1", &a), -EINVAL);
        assert_int_equal(socket_address_parse("127.0.0.1:", &a), -EINVAL);
        assert_int_equal(socket_address_parse("127.0.0.1:0", &a), -EINVAL);
        assert_int_equal(socket_address_parse("::1:8888", &a), -EINVAL);
        assert_int_equal(socket_address_parse("[::1]8888", &a), -EINVAL);
        assert_int_equal(socket_address_parse("[::1%nosuchif0]:8888", &a), -ENODEV);
        assert_int_equal(socket_address_parse(longpath, &a), -ENAMETOOLONG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_and_format),
                cmocka_unit_test(test_parse_rejects),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
