/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "argv.h"
#include "log.h"
#include "server-options.h"

#define PARSE(o, ...)                                                                           \
        ({                                                                                      \
                char *_argv[] = { (char *) "thermo-server", __VA_ARGS__, NULL };                \
                server_options_parse(argv_count(_argv), _argv, "127.0.0.1:8888", o); \
        })

static void test_defaults(void **state) {
        ServerOptions o = {};

        assert_int_equal(PARSE(&o, NULL), 1);
        assert_int_equal(o.n_listen, 0);
        assert_string_equal(o.default_listen, "127.0.0.1:8888");
        assert_int_equal(o.interval, 1000 * 1000);
        assert_int_equal(o.max_clients, 4096);
        assert_int_equal(o.max_clients_per_address, 3840);
        assert_int_equal(o.buffer_size, 65536);
        assert_int_equal(o.exit_idle, 60 * 1000 * 1000);
        assert_int_equal(o.history, 600 * 1000 * 1000ULL);
        assert_int_equal(o.n_sensors, 0);
        assert_false(o.list_sensors);
        assert_true(o.legend);
        assert_false(o.list_json);
        server_options_done(&o);
}

static void test_every_option(void **state) {
        ServerOptions o = {};

        assert_int_equal(PARSE(&o, "--listen", "127.0.0.1:9000", "-l", "[::1]:9001", "--listen=/run/t.sock",
                                 "--interval", "250ms", "--sensor", "simulated:seed=7", "--max-clients", "10",
                                 "--buffer-size", "4K", "--exit-idle", "5", "--log-level", "debug"),
                        1);
        assert_int_equal(o.n_listen, 3);
        assert_int_equal(o.listen[0].address.sa.sa_family, AF_INET);
        assert_int_equal(o.listen[1].address.sa.sa_family, AF_INET6);
        assert_int_equal(o.listen[2].address.sa.sa_family, AF_UNIX);
        assert_null(o.listen[0].front_end);
        assert_int_equal(o.n_sensors, 1);
        assert_string_equal(o.sensors[0], "simulated:seed=7");
        assert_int_equal(o.interval, 250 * 1000);
        assert_int_equal(o.max_clients, 10);
        /* All but a sixteenth of --max-clients, unless given: below 16, all. */
        assert_int_equal(o.max_clients_per_address, 10);
        assert_int_equal(o.buffer_size, 4096);
        assert_int_equal(o.exit_idle, 5 * 1000 * 1000);
        assert_int_equal(log_get_max_level(), LOG_DEBUG);
        log_set_max_level(LOG_INFO);
        server_options_done(&o);

        assert_int_equal(PARSE(&o, "--max-clients=2", "--max-clients-per-address=2"), 1);
        assert_int_equal(o.max_clients_per_address, 2);
        server_options_done(&o);
        assert_int_equal(PARSE(&o, "--max-clients=256"), 1);
        assert_int_equal(o.max_clients_per_address, 240);
        server_options_done(&o);
        assert_int_equal(PARSE(&o, "--max-clients-per-address=0"), -EINVAL);
}

/* A name is looked up: every address it has is listened on. */
static void test_listen_on_a_name(void **state) {
        ServerOptions o = {};
        bool v4 = false;

        assert_int_equal(PARSE(&o, "--listen", "localhost:8888"), 1);
        assert_true(o.n_listen >= 1);
        for (size_t i = 0; i < o.n_listen; i++) {
                char text[SOCKET_ADDRESS_STRING_MAX];

                socket_address_format(&o.listen[i].address, text, sizeof(text));
                v4 = v4 || strcmp(text, "127.0.0.1:8888") == 0;
                assert_true(strcmp(text, "127.0.0.1:8888") == 0 || strcmp(text, "[::1]:8888") == 0);
        }
        assert_true(v4);
        server_options_done(&o);
}

/* As systemd reads a time span: a bare number is seconds, in every option. */
static void test_time_spans_read_as_systemd_does(void **state) {
        ServerOptions o = {};

        assert_int_equal(PARSE(&o, "--interval", "5", "--exit-idle", "2min 30s"), 1);
        assert_int_equal(o.interval, 5 * 1000 * 1000);
        assert_int_equal(o.exit_idle, 150 * 1000 * 1000);
        server_options_done(&o);
        assert_int_equal(PARSE(&o, "--interval", "1.5", "--exit-idle", "0"), 1);
        assert_int_equal(o.interval, 1500 * 1000);
        assert_int_equal(o.exit_idle, 0);
        server_options_done(&o);
}

static void test_invalid_values_are_usage_errors(void **state) {
        ServerOptions o = {};

        assert_int_equal(PARSE(&o, "--listen", "no-such-host.invalid:8888"), -EINVAL);
        assert_int_equal(PARSE(&o, "--listen", "localhost"), -EINVAL);
        assert_int_equal(PARSE(&o, "--listen", "127.0.0.1:0"), -EINVAL);
        assert_int_equal(PARSE(&o, "--listen", "127.0.0.1:65536"), -EINVAL);
        assert_int_equal(PARSE(&o, "--listen", "[::1]"), -EINVAL);
        assert_int_equal(PARSE(&o, "--interval", "0"), -EINVAL);
        assert_int_equal(PARSE(&o, "--interval", "25h"), -EINVAL);
        assert_int_equal(PARSE(&o, "--interval", "fast"), -EINVAL);
        assert_int_equal(PARSE(&o, "--history", "8d"), -EINVAL);
        assert_int_equal(PARSE(&o, "--history", "long"), -EINVAL);
        /* A million ticks at most: a week at a second is 604,800; at 100ms, six million. */
        assert_int_equal(PARSE(&o, "--history", "7d"), 1);
        server_options_done(&o);
        assert_int_equal(PARSE(&o, "--history", "7d", "--interval", "100ms"), -EINVAL);
        assert_int_equal(PARSE(&o, "--history", "0", "--interval", "1ms"), 1);
        assert_int_equal(o.history, 0);
        server_options_done(&o);
        assert_int_equal(PARSE(&o, "--max-clients", "0"), -EINVAL);
        assert_int_equal(PARSE(&o, "--max-clients", "-3"), -EINVAL);
        assert_int_equal(PARSE(&o, "--buffer-size", "10"), -EINVAL);
        assert_int_equal(PARSE(&o, "--buffer-size", "2G"), -EINVAL);
        assert_int_equal(PARSE(&o, "--buffer-size", "64k"), -EINVAL);
        assert_int_equal(PARSE(&o, "--exit-idle", "soon"), -EINVAL);
        assert_int_equal(PARSE(&o, "--log-level", "loud"), -EINVAL);
        assert_int_equal(PARSE(&o, "--no-such-option"), -EINVAL);
        assert_int_equal(PARSE(&o, "extra"), -EINVAL);
        assert_int_equal(PARSE(&o, "--output", "yaml"), -EINVAL);
        assert_int_equal(o.n_listen, 0);
        assert_null(o.sensors);
}

static void test_list_sensors_only_parses(void **state) {
        ServerOptions o = {};

        /* Listing is done by the program after parsing, not by the parser; --sensor is repeatable. */
        assert_int_equal(PARSE(&o, "--list-sensors", "--sensor", "nope", "-s", "cpu=thermal:0", "-o", "json",
                                 "--no-legend"),
                        1);
        assert_true(o.list_sensors);
        assert_true(o.list_json);
        assert_false(o.legend);
        assert_int_equal(o.n_sensors, 2);
        assert_string_equal(o.sensors[0], "nope");
        assert_string_equal(o.sensors[1], "cpu=thermal:0");
        server_options_done(&o);
}

static void test_help_and_version_exit_early(void **state) {
        ServerOptions o = {};

        assert_int_equal(PARSE(&o, "--help"), 0);
        assert_int_equal(PARSE(&o, "--version"), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_every_option),
                cmocka_unit_test(test_listen_on_a_name),
                cmocka_unit_test(test_time_spans_read_as_systemd_does),
                cmocka_unit_test(test_invalid_values_are_usage_errors),
                cmocka_unit_test(test_list_sensors_only_parses),
                cmocka_unit_test(test_help_and_version_exit_early),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
