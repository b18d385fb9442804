/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "output.h"

static void assert_output_as(Output o, const Reading *r, const char *expected) {
        char *text = NULL;
        size_t size = 0;

        o.f = open_memstream(&text, &size);
        assert_non_null(o.f);
        output_reading(&o, r);
        fclose(o.f);
        assert_string_equal(text, expected);
        free(text);
}

static void assert_output(OutputFormat format, Unit unit, const Reading *r, const char *expected) {
        assert_output_as((Output) { .format = format, .unit = unit }, r, expected);
}

static void test_unit_conversion_rounds(void **state) {
        assert_int_equal(unit_convert(UNIT_CELSIUS, 21375), 21375);
        assert_int_equal(unit_convert(UNIT_FAHRENHEIT, 0), 32000);
        assert_int_equal(unit_convert(UNIT_FAHRENHEIT, 100000), 212000);
        assert_int_equal(unit_convert(UNIT_FAHRENHEIT, -40000), -40000);
        assert_int_equal(unit_convert(UNIT_FAHRENHEIT, 21375), 70475);
        assert_int_equal(unit_convert(UNIT_FAHRENHEIT, 1), 32002);   /* 1.8 rounds to 2 */
        assert_int_equal(unit_convert(UNIT_FAHRENHEIT, -1), 31998);
        assert_int_equal(unit_convert(UNIT_KELVIN, -273150), 0);
        assert_int_equal(unit_convert(UNIT_KELVIN, 21375), 294525);
}

static void test_json_lines(void **state) {
        Reading r = { .seq = 17, .time_ms = UINT64_C(1732492130123), .millicelsius = -4500 };

        assert_output(OUTPUT_JSON, UNIT_CELSIUS, &r, "{\"seq\":17,\"time\":1732492130123,\"celsius\":-4.500}\n");
        assert_output(OUTPUT_JSON, UNIT_FAHRENHEIT, &r,
                        "{\"seq\":17,\"time\":1732492130123,\"celsius\":-4.500,\"fahrenheit\":23.900}\n");
}

static void test_csv_has_a_header_once(void **state) {
        Reading r = { .seq = 3, .time_ms = 1000, .millicelsius = 20000 };
        char *text = NULL;
        size_t size = 0;
        Output o = { .format = OUTPUT_CSV, .unit = UNIT_KELVIN, .f = open_memstream(&text, &size) };

        output_reading(&o, &r);
        r.seq = 4;
        output_reading(&o, &r);
        fclose(o.f);
        assert_string_equal(text, "seq,time,kelvin\n3,1000,293.150\n4,1000,293.150\n");
        free(text);
}

static void test_named_readings_say_their_sensor(void **state) {
        Reading r = { .sensor = "cpu", .seq = 3, .time_ms = UINT64_C(1732492130123), .millicelsius = 45000 };
        char *text = NULL;
        size_t size = 0;
        Output o = { .format = OUTPUT_CSV, .unit = UNIT_CELSIUS, .named = true, .f = open_memstream(&text, &size) };

        output_reading(&o, &r);
        r.sensor = "nvme-pci-0100-composite";
        output_reading(&o, &r);
        fclose(o.f);
        assert_string_equal(text, "seq,time,sensor,celsius\n3,1732492130123,cpu,45.000\n"
                                  "3,1732492130123,nvme-pci-0100-composite,45.000\n");
        free(text);

        assert_output(OUTPUT_JSON, UNIT_CELSIUS, &r,
                        "{\"seq\":3,\"time\":1732492130123,\"sensor\":\"nvme-pci-0100-composite\",\"celsius\":45.000}\n");

        /* Text names the sensor, in a column as wide as the longest name, where there are several. */
        setenv("TZ", "UTC", 1);
        setlocale(LC_ALL, "C");
        r.sensor = "cpu";
        assert_output_as((Output) { .format = OUTPUT_TEXT, .name_width = 5 }, &r,
                        "2024-11-24 23:48:50.123 cpu   45.000 C\n");
}

static void test_text_shows_local_time_and_value(void **state) {
        Reading r = { .seq = 1, .time_ms = UINT64_C(1732492130123), .millicelsius = 21375 };

        setenv("TZ", "UTC", 1);
        setlocale(LC_ALL, "C");
        assert_output(OUTPUT_TEXT, UNIT_CELSIUS, &r, "2024-11-24 23:48:50.123 21.375 C\n");
        assert_output(OUTPUT_TEXT, UNIT_KELVIN, &r, "2024-11-24 23:48:50.123 294.525 K\n");
}

static void test_names(void **state) {
        assert_int_equal(output_format_from_string("json"), OUTPUT_JSON);
        assert_int_equal(output_format_from_string("JSON"), -EINVAL);
        assert_int_equal(unit_from_string("fahrenheit"), UNIT_FAHRENHEIT);
        assert_int_equal(unit_from_string("F"), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unit_conversion_rounds),
                cmocka_unit_test(test_json_lines),
                cmocka_unit_test(test_csv_has_a_header_once),
                cmocka_unit_test(test_named_readings_say_their_sensor),
                cmocka_unit_test(test_text_shows_local_time_and_value),
                cmocka_unit_test(test_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
