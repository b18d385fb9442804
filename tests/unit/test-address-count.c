/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "address-count.h"

static PeerAddress ipv4(uint32_t host) {
        PeerAddress a = { .family = AF_INET, .port = 40000 };

        a.in6.s6_addr[10] = a.in6.s6_addr[11] = 0xff;
        a.in6.s6_addr[12] = 127;
        a.in6.s6_addr[13] = (uint8_t) (host >> 16);
        a.in6.s6_addr[14] = (uint8_t) (host >> 8);
        a.in6.s6_addr[15] = (uint8_t) host;
        return a;
}

static void test_counts_per_address(void **state) {
        AddressCount *t = NULL;
        PeerAddress a = ipv4(1), b = ipv4(2), local = { .family = AF_UNIX, .pid = 42 };

        assert_int_equal(address_count_new(&t), 0);
        assert_int_equal(address_count_get(t, &a), 0);
        assert_int_equal(address_count_add(t, &a), 0);
        assert_int_equal(address_count_add(t, &a), 0);
        assert_int_equal(address_count_add(t, &b), 0);
        assert_int_equal(address_count_get(t, &a), 2);
        assert_int_equal(address_count_get(t, &b), 1);
        /* The port is no part of it: another connection from the same host. */
        a.port = 1;
        assert_int_equal(address_count_get(t, &a), 2);
        address_count_remove(t, &a);
        assert_int_equal(address_count_get(t, &a), 1);
        address_count_remove(t, &b);
        assert_int_equal(address_count_get(t, &b), 0);

        /* Local users over a Unix socket are not counted. */
        assert_int_equal(address_count_add(t, &local), 0);
        assert_int_equal(address_count_get(t, &local), 0);
        address_count_remove(t, &local);
        address_count_free(t);
}

static PeerAddress ipv6(const char *text) {
        PeerAddress a = { .family = AF_INET6, .port = 40000 };

        assert_int_equal(inet_pton(AF_INET6, text, &a.in6), 1);
        return a;
}

/* A host picks its IPv6 addresses from a whole /64: the /64 is what counts. A mapped IPv4 address (a
 * dual-stack socket's IPv4 peer) is not a /64 of IPv6: it counts on its own. */
static void test_ipv6_counts_by_64_mapped_ipv4_by_address(void **state) {
        AddressCount *t = NULL;
        PeerAddress a = ipv6("2001:db8:1:2::1"), b = ipv6("2001:db8:1:2:ffff:1234:5678:9abc"),
                    other = ipv6("2001:db8:1:3::1"), v4 = ipv6("::ffff:192.0.2.1"), v4_too = ipv6("::ffff:192.0.2.2");

        assert_int_equal(address_count_new(&t), 0);
        assert_true(address_count_by_network(&a));
        assert_false(address_count_by_network(&v4));
        assert_int_equal(address_count_add(t, &a), 0);
        assert_int_equal(address_count_add(t, &b), 0);
        assert_int_equal(address_count_get(t, &a), 2);
        assert_int_equal(address_count_get(t, &b), 2);
        assert_int_equal(address_count_get(t, &other), 0);
        assert_int_equal(address_count_add(t, &v4), 0);
        assert_int_equal(address_count_get(t, &v4), 1);
        assert_int_equal(address_count_get(t, &v4_too), 0);
        address_count_remove(t, &a);
        assert_int_equal(address_count_get(t, &b), 1);
        address_count_remove(t, &b);
        assert_int_equal(address_count_get(t, &a), 0);
        address_count_free(t);
}

/* Against a plain array, through many adds and removes, growing on the way: what growth and deletion move
 * must still be found. */
static void test_matches_a_reference_under_churn(void **state) {
        enum { MAX = 300, HOSTS = 500 };
        static size_t reference[HOSTS];
        AddressCount *t = NULL;
        size_t total = 0;

        srand(7);
        assert_int_equal(address_count_new(&t), 0);
        for (int i = 0; i < 200000; i++) {
                uint32_t host = (uint32_t) rand() % HOSTS;
                PeerAddress a = ipv4(host);

                if (total < MAX && (rand() % 2 || reference[host] == 0)) {
                        assert_int_equal(address_count_add(t, &a), 0);
                        reference[host]++;
                        total++;
                } else if (reference[host] > 0) {
                        address_count_remove(t, &a);
                        reference[host]--;
                        total--;
                }
                if (i % 1000 == 0)
                        for (uint32_t h = 0; h < HOSTS; h++) {
                                PeerAddress b = ipv4(h);
                                assert_int_equal(address_count_get(t, &b), reference[h]);
                        }
        }
        address_count_free(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_counts_per_address),
                cmocka_unit_test(test_ipv6_counts_by_64_mapped_ipv4_by_address),
                cmocka_unit_test(test_matches_a_reference_under_churn),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
