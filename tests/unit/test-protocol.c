/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "protocol.h"

static int parse(const char *line, Request *req, const char **error) {
        return protocol_parse_request(line, strlen(line), req, error);
}

static void assert_request(const char *line, RequestType type, uint32_t count) {
        const char *error = NULL;
        Request req;

        assert_int_equal(parse(line, &req, &error), 0);
        assert_int_equal(req.type, type);
        assert_int_equal(req.count, count);
}

static void assert_bad_request(const char *line, size_t n, const char *expected) {
        const char *error = NULL;
        Request req;

        assert_int_equal(protocol_parse_request(line, n, &req, &error), -EBADMSG);
        assert_string_equal(error, expected);
}

static void test_every_command_parses(void **state) {
        assert_request("GET", REQUEST_GET, 0);
        assert_request("STREAM", REQUEST_STREAM, 0);
        assert_request("STREAM 5", REQUEST_STREAM, 5);
        assert_request("STOP", REQUEST_STOP, 0);
        assert_request("PING", REQUEST_PING, 0);
        assert_request("INFO", REQUEST_INFO, 0);
        assert_request("QUIT", REQUEST_QUIT, 0);
}

static void test_commands_are_case_insensitive(void **state) {
        assert_request("get", REQUEST_GET, 0);
        assert_request("Stream 3", REQUEST_STREAM, 3);
        assert_request("pInG", REQUEST_PING, 0);
}

static void test_spaces_and_tabs_separate_words(void **state) {
        assert_request("  STREAM\t\t7  ", REQUEST_STREAM, 7);
        assert_request("\tGET\t", REQUEST_GET, 0);
}

static void test_empty_and_blank_lines_are_ignored(void **state) {
        assert_request("", REQUEST_EMPTY, 0);
        assert_request("   \t ", REQUEST_EMPTY, 0);
}

static void test_count_limits(void **state) {
        assert_request("STREAM 1", REQUEST_STREAM, 1);
        assert_request("STREAM 4294967295", REQUEST_STREAM, 4294967295u);
        assert_request("STREAM 007", REQUEST_STREAM, 7);
        assert_bad_request("STREAM 0", 8, "invalid count");
        assert_bad_request("STREAM -1", 9, "invalid count");
        assert_bad_request("STREAM 4294967296", 17, "invalid count");
        assert_bad_request("STREAM 99999999999999999999999", 29, "invalid count");
        assert_bad_request("STREAM +5", 9, "invalid count");
        assert_bad_request("STREAM five", 11, "invalid count");
        assert_bad_request("STREAM 5x", 9, "invalid count");
}

static void test_bad_requests(void **state) {
        assert_bad_request("HELLO", 5, "unknown command");
        assert_bad_request("GETS", 4, "unknown command");
        assert_bad_request("GET now", 7, "unexpected argument");
        assert_bad_request("PING 1", 6, "unexpected argument");
        assert_bad_request("STREAM 1 2", 10, "too many arguments");
}

static void test_non_printable_bytes_are_rejected(void **state) {
        assert_bad_request("GET\0", 4, "invalid byte in request");
        assert_bad_request("G\xc3\xa9T", 4, "invalid byte in request");
        assert_bad_request("PING\r", 5, "invalid byte in request");
        assert_bad_request("\x7f", 1, "invalid byte in request");
        assert_bad_request("\x1b[A", 3, "invalid byte in request");
}

static void test_format_milli_has_three_decimals(void **state) {
        char buf[32];

        format_millidegrees(buf, sizeof(buf), 21375);
        assert_string_equal(buf, "21.375");
        format_millidegrees(buf, sizeof(buf), -4000);
        assert_string_equal(buf, "-4.000");
        format_millidegrees(buf, sizeof(buf), -500);
        assert_string_equal(buf, "-0.500");
        format_millidegrees(buf, sizeof(buf), 5);
        assert_string_equal(buf, "0.005");
        format_millidegrees(buf, sizeof(buf), 0);
        assert_string_equal(buf, "0.000");
        format_millidegrees(buf, sizeof(buf), INT64_MIN);
        assert_string_equal(buf, "-9223372036854775.808");
}

static void test_format_reading(void **state) {
        Reading r = { .seq = 17, .time_ms = UINT64_C(1732492130123), .millicelsius = 21375 };
        char buf[PROTOCOL_REPLY_MAX];

        assert_int_equal(protocol_format_reading(buf, sizeof(buf), &r), strlen("TEMP 17 1732492130123 21.375\n"));
        assert_string_equal(buf, "TEMP 17 1732492130123 21.375\n");

        /* A reading with an error is the sensor's 503, in place of the TEMP line. */
        r.error = -EIO;
        assert_int_equal(protocol_format_reading(buf, sizeof(buf), &r), strlen("ERR 503 sensor unavailable\n"));
        assert_string_equal(buf, "ERR 503 sensor unavailable\n");
}

static void test_format_hello_info_error(void **state) {
        ServerInfo info = {
                .server = "thermo-server", .version = "0.1.0", .sensor = "simulated",
                .interval_ms = 1000, .clients = 3, .uptime_s = 42,
        };
        char buf[PROTOCOL_REPLY_MAX];

        protocol_format_hello(buf, sizeof(buf), &info);
        assert_string_equal(buf, "HELLO thermo/1 thermo-server 0.1.0 interval_ms=1000 sensor=simulated\n");
        protocol_format_info(buf, sizeof(buf), &info);
        assert_string_equal(buf, "INFO server=thermo-server version=0.1.0 sensor=simulated interval_ms=1000 "
                                 "clients=3 uptime_s=42\n");
        protocol_format_error(buf, sizeof(buf), 400, "unknown command");
        assert_string_equal(buf, "ERR 400 unknown command\n");
}

static void test_parse_replies(void **state) {
        Reply reply;

        assert_int_equal(protocol_parse_reply("TEMP 17 1732492130123 -4.5", &reply), 0);
        assert_int_equal(reply.type, REPLY_TEMP);
        assert_int_equal(reply.reading.seq, 17);
        assert_int_equal(reply.reading.time_ms, UINT64_C(1732492130123));
        assert_int_equal(reply.reading.millicelsius, -4500);

        assert_int_equal(protocol_parse_reply("HELLO thermo/1 x 1 interval_ms=250 sensor=s", &reply), 0);
        assert_int_equal(reply.type, REPLY_HELLO);
        assert_int_equal(reply.interval_ms, 250);
        assert_int_equal(protocol_parse_reply("HELLO thermo/2 x", &reply), -EPROTONOSUPPORT);
        assert_int_equal(protocol_parse_reply("HELLO thermo/10 x", &reply), -EPROTONOSUPPORT);

        assert_int_equal(protocol_parse_reply("ERR 503 too many clients", &reply), 0);
        assert_int_equal(reply.type, REPLY_ERR);
        assert_int_equal(reply.error, 503);
        assert_string_equal(reply.text, "too many clients");

        assert_int_equal(protocol_parse_reply("END", &reply), 0);
        assert_int_equal(reply.type, REPLY_END);
        assert_int_equal(protocol_parse_reply("BYE", &reply), 0);
        assert_int_equal(reply.type, REPLY_BYE);

        assert_int_equal(protocol_parse_reply("TEMP 1 2", &reply), -EBADMSG);
        assert_int_equal(protocol_parse_reply("TEMP 1 2 21.3754", &reply), -EBADMSG);
        assert_int_equal(protocol_parse_reply("WHAT", &reply), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_command_parses),
                cmocka_unit_test(test_commands_are_case_insensitive),
                cmocka_unit_test(test_spaces_and_tabs_separate_words),
                cmocka_unit_test(test_empty_and_blank_lines_are_ignored),
                cmocka_unit_test(test_count_limits),
                cmocka_unit_test(test_bad_requests),
                cmocka_unit_test(test_non_printable_bytes_are_rejected),
                cmocka_unit_test(test_format_milli_has_three_decimals),
                cmocka_unit_test(test_format_reading),
                cmocka_unit_test(test_format_hello_info_error),
                cmocka_unit_test(test_parse_replies),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
