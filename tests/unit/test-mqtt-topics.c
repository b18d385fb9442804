/* SPDX-License-Identifier: MIT */
/* What thermo-mqtt publishes, byte for byte: topics, payloads, and Home Assistant's discovery config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "topics.h"

static void test_prefix_and_host_names(void **state) {
        assert_true(topic_prefix_is_valid("thermo"));
        assert_true(topic_prefix_is_valid("home/temps"));
        assert_true(topic_prefix_is_valid("a.b_c-D/9"));
        assert_false(topic_prefix_is_valid(""));
        assert_false(topic_prefix_is_valid("/thermo"));
        assert_false(topic_prefix_is_valid("thermo/"));
        assert_false(topic_prefix_is_valid("a//b"));
        assert_false(topic_prefix_is_valid("a/+/b"));
        assert_false(topic_prefix_is_valid("a/#"));
        assert_false(topic_prefix_is_valid("with space"));
        assert_false(topic_prefix_is_valid("quote\""));
        assert_false(topic_prefix_is_valid(
                "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
                "0123456789012345678901234567890"));

        assert_true(topic_host_is_valid("pi.example.net"));
        assert_true(topic_host_is_valid("s1"));
        assert_false(topic_host_is_valid(""));
        assert_false(topic_host_is_valid("a/b"));
        assert_false(topic_host_is_valid("a+b"));
        assert_false(topic_host_is_valid("01234567890123456789012345678901234567890123456789012345678901234"));
}

static void test_topics(void **state) {
        char buf[TOPIC_MAX];

        topic_reading(buf, "thermo", "pi", "cpu-thermal");
        assert_string_equal(buf, "thermo/pi/cpu-thermal");
        topic_status(buf, "home/temps", "pi", NULL);
        assert_string_equal(buf, "home/temps/pi/status");
        topic_status(buf, "thermo", "pi", "cpu-thermal");
        assert_string_equal(buf, "thermo/pi/cpu-thermal/status");
        topic_level(buf, "thermo", "pi", "cpu-thermal");
        assert_string_equal(buf, "thermo/pi/cpu-thermal/level");
}

static void test_payloads(void **state) {
        Reading r = { .sensor = "room", .seq = 42, .time_ms = 1795731139415, .millicelsius = -500 };
        char buf[160];

        assert_int_equal(payload_reading(buf, sizeof(buf), PAYLOAD_VALUE, &r), 6);
        assert_string_equal(buf, "-0.500");
        payload_reading(buf, sizeof(buf), PAYLOAD_JSON, &r);
        assert_string_equal(buf, "{\"seq\":42,\"time\":1795731139415,\"sensor\":\"room\",\"celsius\":-0.500}");
        r.sensor = NULL;
        r.millicelsius = 21375;
        payload_reading(buf, sizeof(buf), PAYLOAD_JSON, &r);
        assert_string_equal(buf, "{\"seq\":42,\"time\":1795731139415,\"celsius\":21.375}");
}

static void test_discovery(void **state) {
        Discovery d = {
                .discovery_prefix = "homeassistant",
                .prefix = "thermo",
                .host = "pi.lan",
                .sensor = "nvme-pci-0100.composite",
                .server = "thermo-server",
                .version = "0.1.0",
                .format = PAYLOAD_VALUE,
        };
        char topic[TOPIC_MAX], *json = NULL;
        size_t size = 0;
        FILE *f;

        /* Home Assistant's ids take no '.'. */
        discovery_topic(topic, &d);
        assert_string_equal(topic, "homeassistant/sensor/thermo_pi_lan/nvme-pci-0100_composite/config");

        f = open_memstream(&json, &size);
        assert_non_null(f);
        assert_int_equal(discovery_config(f, &d), 0);
        assert_int_equal(fclose(f), 0);
        assert_string_equal(json,
                "{\"name\":\"nvme-pci-0100.composite\","
                "\"unique_id\":\"thermo_pi_lan_nvme-pci-0100_composite\","
                "\"object_id\":\"thermo_pi_lan_nvme-pci-0100_composite\","
                "\"state_topic\":\"thermo/pi.lan/nvme-pci-0100.composite\","
                "\"device_class\":\"temperature\",\"unit_of_measurement\":\"°C\",\"state_class\":\"measurement\","
                "\"suggested_display_precision\":1,"
                "\"availability\":[{\"topic\":\"thermo/pi.lan/status\"},"
                "{\"topic\":\"thermo/pi.lan/nvme-pci-0100.composite/status\"}],\"availability_mode\":\"all\","
                "\"device\":{\"identifiers\":[\"thermo_pi_lan\"],\"name\":\"pi.lan\",\"manufacturer\":\"thermo\","
                "\"model\":\"thermo-server\",\"sw_version\":\"0.1.0\"}}");
        free(json);

        /* JSON payloads: Home Assistant takes the value out; a server's words are escaped. */
        d.format = PAYLOAD_JSON;
        d.server = "odd\"server";
        json = NULL;
        f = open_memstream(&json, &size);
        assert_non_null(f);
        assert_int_equal(discovery_config(f, &d), 0);
        assert_int_equal(fclose(f), 0);
        assert_non_null(strstr(json, ",\"value_template\":\"{{ value_json.celsius }}\","));
        assert_non_null(strstr(json, "\"model\":\"odd\\\"server\""));
        free(json);

        /* Its heat: a binary sensor of the level topic, on at high and crit. */
        d.kind = DISCOVERY_HEAT;
        d.server = "thermo-server";
        discovery_topic(topic, &d);
        assert_string_equal(topic, "homeassistant/binary_sensor/thermo_pi_lan/nvme-pci-0100_composite/config");
        json = NULL;
        f = open_memstream(&json, &size);
        assert_non_null(f);
        assert_int_equal(discovery_config(f, &d), 0);
        assert_int_equal(fclose(f), 0);
        assert_string_equal(json,
                "{\"name\":\"nvme-pci-0100.composite heat\","
                "\"unique_id\":\"thermo_pi_lan_nvme-pci-0100_composite_heat\","
                "\"object_id\":\"thermo_pi_lan_nvme-pci-0100_composite_heat\","
                "\"state_topic\":\"thermo/pi.lan/nvme-pci-0100.composite/level\","
                "\"value_template\":\"{{ 'ON' if value in ('high', 'crit') else 'OFF' }}\",\"device_class\":\"heat\","
                "\"availability\":[{\"topic\":\"thermo/pi.lan/status\"},"
                "{\"topic\":\"thermo/pi.lan/nvme-pci-0100.composite/status\"}],\"availability_mode\":\"all\","
                "\"device\":{\"identifiers\":[\"thermo_pi_lan\"],\"name\":\"pi.lan\",\"manufacturer\":\"thermo\","
                "\"model\":\"thermo-server\",\"sw_version\":\"0.1.0\"}}");
        free(json);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_prefix_and_host_names),
                cmocka_unit_test(test_topics),
                cmocka_unit_test(test_payloads),
                cmocka_unit_test(test_discovery),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
