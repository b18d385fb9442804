/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
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

/* A connection on loopback, accepted: its peer's address, and -ENOTCONN once the peer has reset it before
 * the accept (the server then has nobody to serve or refuse). */
static void test_peer_of_a_live_and_of_a_reset_connection(void **state) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        struct linger reset = { .l_onoff = 1, .l_linger = 0 };
        socklen_t n = sizeof(sa);
        char text[PEER_ADDRESS_STRING_MAX], expected[PEER_ADDRESS_STRING_MAX];
        struct sockaddr_in local;
        PeerAddress a;
        int l, c, s;

        l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(l >= 0);
        assert_int_equal(bind(l, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(l, 4), 0);
        assert_int_equal(getsockname(l, (struct sockaddr *) &sa, &n), 0);

        c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(connect(c, (struct sockaddr *) &sa, sizeof(sa)), 0);
        n = sizeof(local);
        assert_int_equal(getsockname(c, (struct sockaddr *) &local, &n), 0);
        s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        assert_int_equal(peer_address_from_socket(s, &a), 0);
        assert_int_equal(a.family, AF_INET);
        peer_address_format(&a, text, sizeof(text));
        snprintf(expected, sizeof(expected), "127.0.0.1:%u", ntohs(local.sin_port));
        assert_string_equal(text, expected);
        close(s);
        close(c);

        c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(connect(c, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(setsockopt(c, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset)), 0);
        close(c);
        s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        assert_true(s >= 0);
        assert_int_equal(peer_address_from_socket(s, &a), -ENOTCONN);
        assert_int_equal(a.family, AF_UNSPEC);
        close(s);
        close(l);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_and_format),
                cmocka_unit_test(test_parse_rejects),
                cmocka_unit_test(test_peer_of_a_live_and_of_a_reset_connection),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
