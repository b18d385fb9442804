/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
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
        assert_bad_request("STREAM 5x", 9, "invalid count");
}

/* The section "Several sensors": names, "*", and where a count may stand. */
static void assert_names(const char *line, RequestType type, uint32_t count, bool all, const char *names) {
        char got[PROTOCOL_LINE_MAX] = "";
        const char *error = NULL;
        Request req;

        assert_int_equal(parse(line, &req, &error), 0);
        assert_int_equal(req.type, type);
        assert_int_equal(req.count, count);
        assert_int_equal(req.all, all);
        for (size_t i = 0; i < req.n_names; i++)
                snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%.*s", i > 0 ? "," : "",
                                (int) req.names[i].length, line + req.names[i].at);
        assert_string_equal(got, names);
}

static void test_sensor_names_and_star(void **state) {
        assert_names("SENSORS", REQUEST_SENSORS, 0, false, "");
        assert_names("sensors", REQUEST_SENSORS, 0, false, "");
        assert_names("GET cpu", REQUEST_GET, 0, false, "cpu");
        assert_names("GET *", REQUEST_GET, 0, true, "");
        assert_names("STREAM *", REQUEST_STREAM, 0, true, "");
        assert_names("STREAM 5 *", REQUEST_STREAM, 5, true, "");
        assert_names("stream 3 cpu nvme-pci-0100-composite\tw1.28-0000", REQUEST_STREAM, 3, false,
                        "cpu,nvme-pci-0100-composite,w1.28-0000");
        /* A word that is not a count is a name: "five" may be a sensor's. */
        assert_names("STREAM five", REQUEST_STREAM, 0, false, "five");
        assert_names("GET now", REQUEST_GET, 0, false, "now");
        assert_names("STREAM abcdefghijklmnopqrstuvwxyz012345", REQUEST_STREAM, 0, false,
                        "abcdefghijklmnopqrstuvwxyz012345");

        assert_bad_request("STREAM abcdefghijklmnopqrstuvwxyz0123456", strlen("STREAM abcdefghijklmnopqrstuvwxyz0123456"), "invalid sensor name");
        assert_bad_request("STREAM Cpu", strlen("STREAM Cpu"), "invalid sensor name");
        assert_bad_request("GET cpu/0", strlen("GET cpu/0"), "invalid sensor name");
        assert_bad_request("STREAM * cpu", strlen("STREAM * cpu"), "unexpected argument");
        assert_bad_request("STREAM cpu *", strlen("STREAM cpu *"), "unexpected argument");
        assert_bad_request("STREAM cpu 5", strlen("STREAM cpu 5"), "unexpected argument");
        assert_bad_request("STREAM _cpu", strlen("STREAM _cpu"), "unexpected argument");
        assert_bad_request("GET cpu gpu", strlen("GET cpu gpu"), "unexpected argument");
        assert_bad_request("SENSORS cpu", strlen("SENSORS cpu"), "unexpected argument");
}

static void test_a_line_of_names_to_its_end(void **state) {
        char line[PROTOCOL_LINE_MAX];
        const char *error;
        Request req;
        size_t n;

        /* 511 bytes: "STREAM" and 252 one-letter names. */
        n = (size_t) snprintf(line, sizeof(line), "STREAM");
        while (n + 2 < PROTOCOL_LINE_MAX)
                n += (size_t) snprintf(line + n, sizeof(line) - n, " a");
        assert_int_equal(protocol_parse_request(line, n, &req, &error), 0);
        assert_int_equal(req.n_names, (n - 6) / 2);
}

static void test_bad_requests(void **state) {
        assert_bad_request("HELLO", 5, "unknown command");
        assert_bad_request("GETS", 4, "unknown command");
        assert_bad_request("GET 1", 5, "unexpected argument");
        assert_bad_request("PING 1", 6, "unexpected argument");
        assert_bad_request("PING now", 8, "unexpected argument");
        assert_bad_request("STREAM 1 2", 10, "unexpected argument");
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

static void test_format_limit_or_none(void **state) {
        char buf[32];

        assert_string_equal(format_limit(buf, true, 80000, "-"), "80.000");
        assert_string_equal(format_limit(buf, true, -5500, "null"), "-5.500");
        assert_string_equal(format_limit(buf, false, 80000, "-"), "-");
        assert_string_equal(format_limit(buf, false, 0, "null"), "null");
}

static void test_format_reading(void **state) {
        Reading r = { .sensor = "cpu", .seq = 17, .time_ms = UINT64_C(1732492130123), .millicelsius = 21375 };
        char buf[PROTOCOL_REPLY_MAX];

        /* Unnamed, as thermo/1 always had it; named, for a request that named sensors. */
        assert_int_equal(protocol_format_reading(buf, sizeof(buf), &r, false), strlen("TEMP 17 1732492130123 21.375\n"));
        assert_string_equal(buf, "TEMP 17 1732492130123 21.375\n");
        protocol_format_reading(buf, sizeof(buf), &r, true);
        assert_string_equal(buf, "TEMP 17 1732492130123 21.375 cpu\n");

        /* A reading with an error is the sensor's 503, in place of the TEMP line. */
        r.error = -EIO;
        assert_int_equal(protocol_format_reading(buf, sizeof(buf), &r, false), strlen("ERR 503 sensor unavailable\n"));
        assert_string_equal(buf, "ERR 503 sensor unavailable\n");
        protocol_format_reading(buf, sizeof(buf), &r, true);
        assert_string_equal(buf, "ERR 503 sensor unavailable cpu\n");

        protocol_format_sensor(buf, sizeof(buf), "cpu", "hwmon:coretemp-isa-0000/temp1");
        assert_string_equal(buf, "SENSOR cpu hwmon:coretemp-isa-0000/temp1\n");
}

static void test_host_is_one_safe_word(void **state) {
        char host[PROTOCOL_HOST_MAX + 1];

        protocol_host(host);
        assert_true(strlen(host) > 0);
        assert_true(strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == strlen(host));
}

static void test_format_hello_info_error(void **state) {
        ServerInfo info = {
                .server = "thermo-server", .version = "0.1.0", .sensor = "simulated",
                .interval_ms = 1000, .clients = 3, .uptime_s = 42, .sensors = 1, .host = "pi.example.net",
                .oldest_seq = 17, .newest_seq = 616, .restarts = 2,
        };
        char buf[PROTOCOL_HELLO_MAX];

        protocol_format_hello(buf, sizeof(buf), &info);
        assert_string_equal(buf, "HELLO thermo/1 thermo-server 0.1.0 interval_ms=1000 sensor=simulated sensors=1 "
                                 "host=pi.example.net\n");
        protocol_format_info(buf, sizeof(buf), &info);
        assert_string_equal(buf, "INFO server=thermo-server version=0.1.0 sensor=simulated interval_ms=1000 "
                                 "clients=3 uptime_s=42 sensors=1 host=pi.example.net oldest_seq=17 newest_seq=616 "
                                 "restarts=2\n");
        protocol_format_error(buf, sizeof(buf), 400, "unknown command");
        assert_string_equal(buf, "ERR 400 unknown command\n");
}

/* The parser splits words in place: a copy of the literal. */
static int parse_reply(const char *line, Reply *ret) {
        static char copy[PROTOCOL_REPLY_MAX * 2];

        snprintf(copy, sizeof(copy), "%s", line);
        return protocol_parse_reply(copy, ret);
}
#define protocol_parse_reply parse_reply

static void test_limits_and_alarms_requests(void **state) {
        const char *error = NULL;
        Request req;

        assert_request("LIMITS", REQUEST_LIMITS, 0);
        assert_request("alarms", REQUEST_ALARMS, 0);
        assert_int_equal(parse("LIMITS cpu room", &req, &error), 0);
        assert_int_equal(req.n_names, 2);
        assert_int_equal(parse("LIMITS *", &req, &error), 0);
        assert_true(req.all);
        assert_bad_request("ALARMS cpu", 10, "unexpected argument");
        assert_bad_request("LIMITS 5", 8, "unexpected argument");
        assert_bad_request("LIMITS * cpu", 12, "unexpected argument");
}

static void test_history_and_after_requests(void **state) {
        const char *error = NULL;
        Request req;

        assert_int_equal(parse("STREAM 10 after=42 cpu room", &req, &error), 0);
        assert_int_equal(req.type, REQUEST_STREAM);
        assert_int_equal(req.count, 10);
        assert_true(req.has_after);
        assert_int_equal(req.after, 42);
        assert_int_equal(req.n_names, 2);
        assert_int_equal(parse("stream AFTER=18446744073709551615 *", &req, &error), 0);
        assert_int_equal(req.after, UINT64_MAX);
        assert_true(req.all);
        assert_int_equal(parse("STREAM after=0", &req, &error), 0);
        assert_true(req.has_after);
        assert_int_equal(req.after, 0);
        assert_int_equal(parse("STREAM 3", &req, &error), 0);
        assert_false(req.has_after);

        assert_int_equal(parse("HISTORY", &req, &error), 0);
        assert_int_equal(req.type, REQUEST_HISTORY);
        assert_false(req.has_after);
        assert_int_equal(parse("history after=7 *", &req, &error), 0);
        assert_true(req.has_after);
        assert_int_equal(req.after, 7);
        assert_true(req.all);

        assert_bad_request("STREAM after=18446744073709551616", 33, "invalid after");
        assert_bad_request("STREAM after=", 13, "invalid after");
        assert_bad_request("STREAM after=-1", 15, "invalid after");
        assert_bad_request("STREAM after=x", 14, "invalid after");
        assert_bad_request("STREAM cpu after=5", 18, "unexpected argument");
        assert_bad_request("STREAM after=5 after=6", 22, "unexpected argument");
        assert_bad_request("STREAM after=5 10", 17, "unexpected argument");
        assert_bad_request("HISTORY 10", 10, "unexpected argument");
        assert_bad_request("GET after=5", 11, "unexpected argument");
}

static void test_format_and_parse_limit_and_alarm(void **state) {
        const Limits limits = { .low = -5250, .high = 80000, .has_low = true, .has_high = true };
        const Reading r = { .sensor = "cpu", .seq = 42, .time_ms = 1732492130123, .millicelsius = 95125,
                            .level = LEVEL_CRIT };
        char line[256];
        Reply reply;

        protocol_format_limit(line, sizeof(line), "cpu", LEVEL_HIGH, &limits);
        assert_string_equal(line, "LIMIT cpu high low=-5.250 high=80.000 crit=-\n");
        line[strlen(line) - 1] = '\0';
        assert_int_equal(protocol_parse_reply(line, &reply), 0);
        assert_int_equal(reply.type, REPLY_LIMIT);
        assert_string_equal(reply.reading.sensor, "cpu");
        assert_int_equal(reply.reading.level, LEVEL_HIGH);
        assert_true(reply.limits.has_low && reply.limits.has_high && !reply.limits.has_crit);
        assert_int_equal(reply.limits.low, -5250);
        assert_int_equal(reply.limits.high, 80000);

        protocol_format_alarm(line, sizeof(line), &r);
        assert_string_equal(line, "ALARM 42 1732492130123 cpu crit 95.125\n");
        line[strlen(line) - 1] = '\0';
        assert_int_equal(protocol_parse_reply(line, &reply), 0);
        assert_int_equal(reply.type, REPLY_ALARM);
        assert_int_equal(reply.reading.seq, 42);
        assert_string_equal(reply.reading.sensor, "cpu");
        assert_int_equal(reply.reading.level, LEVEL_CRIT);
        assert_int_equal(reply.reading.millicelsius, 95125);

        assert_int_equal(protocol_parse_reply("OK ALARMS", &reply), 0);
        assert_int_equal(reply.type, REPLY_OK_ALARMS);
        strcpy(line, "ALARM 1 2 cpu hot 1.000");
        assert_int_equal(protocol_parse_reply(line, &reply), -EBADMSG);
        strcpy(line, "ALARM 1 2 cpu high 1.000 extra");
        assert_int_equal(protocol_parse_reply(line, &reply), -EBADMSG);
        strcpy(line, "LIMIT cpu ok low=- high=x crit=-");
        assert_int_equal(protocol_parse_reply(line, &reply), -EBADMSG);
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

        assert_int_equal(protocol_parse_reply("TEMP 5 1732492130123 21.375 nvme-pci-0100-composite", &reply), 0);
        assert_string_equal(reply.reading.sensor, "nvme-pci-0100-composite");
        assert_int_equal(reply.reading.millicelsius, 21375);
        assert_int_equal(protocol_parse_reply("ERR 503 sensor unavailable cpu", &reply), 0);
        assert_string_equal(reply.reading.sensor, "cpu");
        assert_int_equal(protocol_parse_reply("ERR 503 sensor unavailable", &reply), 0);
        assert_null(reply.reading.sensor);
        assert_int_equal(protocol_parse_reply("SENSOR cpu hwmon:coretemp/Package id 0", &reply), 0);
        assert_int_equal(reply.type, REPLY_SENSOR);
        assert_string_equal(reply.reading.sensor, "cpu");
        assert_string_equal(reply.text, "hwmon:coretemp/Package id 0");
        assert_int_equal(protocol_parse_reply("HELLO thermo/1 x 1 interval_ms=250 sensor=s sensors=7", &reply), 0);
        assert_int_equal(reply.sensors, 7);
        assert_string_equal(reply.host, "");
        assert_int_equal(protocol_parse_reply("HELLO thermo/1 x 1 interval_ms=250 sensor=s sensors=7 host=pi-1.lan", &reply), 0);
        assert_string_equal(reply.host, "pi-1.lan");
        /* Later versions may add words after it. */
        assert_int_equal(protocol_parse_reply("HELLO thermo/1 x 1 interval_ms=250 sensor=s host=pi later=1", &reply), 0);
        assert_string_equal(reply.host, "pi");
        assert_int_equal(protocol_parse_reply("HELLO thermo/1 x 1 host=" "0123456789012345678901234567890123456789"
                                              "01234567890123456789012345", &reply), 0);
        assert_string_equal(reply.host, "");

        assert_int_equal(protocol_parse_reply("TEMP 1 2 3.000 Cpu", &reply), -EBADMSG);
        assert_int_equal(protocol_parse_reply("TEMP 1 2 3.000 cpu gpu", &reply), -EBADMSG);
        assert_int_equal(protocol_parse_reply("SENSOR cpu", &reply), -EBADMSG);
        assert_int_equal(protocol_parse_reply("TEMP 1 2", &reply), -EBADMSG);
        assert_int_equal(protocol_parse_reply("TEMP 1 2 21.3754", &reply), -EBADMSG);
        assert_int_equal(protocol_parse_reply("WHAT", &reply), -EBADMSG);

        /* Past a billion degrees no thermometer goes: refused, so that no client's arithmetic overflows. */
        assert_int_equal(protocol_parse_reply("TEMP 1 2 999999999.999", &reply), 0);
        assert_int_equal(reply.reading.millicelsius, INT64_C(999999999999));
        assert_int_equal(protocol_parse_reply("TEMP 1 2 -999999999.999", &reply), 0);
        assert_int_equal(protocol_parse_reply("TEMP 1 2 1000000000.000", &reply), -EBADMSG);
        assert_int_equal(protocol_parse_reply("TEMP 1 2 9223372036854774.999", &reply), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_command_parses),
                cmocka_unit_test(test_commands_are_case_insensitive),
                cmocka_unit_test(test_spaces_and_tabs_separate_words),
                cmocka_unit_test(test_empty_and_blank_lines_are_ignored),
                cmocka_unit_test(test_count_limits),
                cmocka_unit_test(test_bad_requests),
                cmocka_unit_test(test_sensor_names_and_star),
                cmocka_unit_test(test_a_line_of_names_to_its_end),
                cmocka_unit_test(test_non_printable_bytes_are_rejected),
                cmocka_unit_test(test_format_milli_has_three_decimals),
                cmocka_unit_test(test_format_limit_or_none),
                cmocka_unit_test(test_format_reading),
                cmocka_unit_test(test_host_is_one_safe_word),
                cmocka_unit_test(test_format_hello_info_error),
                cmocka_unit_test(test_parse_replies),
                cmocka_unit_test(test_limits_and_alarms_requests),
                cmocka_unit_test(test_history_and_after_requests),
                cmocka_unit_test(test_format_and_parse_limit_and_alarm),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
