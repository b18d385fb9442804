/* SPDX-License-Identifier: MIT */
/* What thermo-mqtt publishes, byte for byte: topics, payloads, and Home Assistant's device config. */
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

static char *config_of(const Device *d) {
        char *json = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&json, &size);

        assert_non_null(f);
        assert_int_equal(device_config(f, d), 0);
        assert_int_equal(fclose(f), 0);
        return json;
}

/* One config for the host, a component per sensor and per heat; ids as thermo-mqtt 0.2.0 gave them, keys as
 * the object ids of its topics. */
static void test_device(void **state) {
        static const DeviceSensor sensors[] = {
                { .name = "nvme-pci-0100.composite", .heat = true },
                { .name = "Room" },
        };
        Device d = {
                .discovery_prefix = "homeassistant",
                .prefix = "thermo",
                .host = "pi.lan",
                .server = "thermo-server",
                .version = "0.1.0",
                .url = "https://thermo.example",
                .format = PAYLOAD_VALUE,
                .sensors = sensors,
                .n_sensors = 2,
        };
        char topic[TOPIC_MAX], *json;

        /* Home Assistant's ids take no '.'. */
        device_topic(topic, d.discovery_prefix, d.host);
        assert_string_equal(topic, "homeassistant/device/thermo_pi_lan/config");
        legacy_discovery_pattern(topic, "ha", d.host, false);
        assert_string_equal(topic, "ha/sensor/thermo_pi_lan/+/config");
        legacy_discovery_pattern(topic, "ha", d.host, true);
        assert_string_equal(topic, "ha/binary_sensor/thermo_pi_lan/+/config");
        discovery_status_topic(topic, "ha");
        assert_string_equal(topic, "ha/status");

        json = config_of(&d);
        assert_string_equal(json,
                "{\"dev\":{\"identifiers\":[\"thermo_pi_lan\"],\"name\":\"pi.lan\",\"manufacturer\":\"thermo\","
                "\"model\":\"thermo-server\",\"sw_version\":\"0.1.0\"},"
                "\"o\":{\"name\":\"thermo-mqtt\",\"sw\":\"" PROJECT_VERSION "\",\"url\":\"https://thermo.example\"},"
                "\"cmps\":{"
                "\"nvme-pci-0100_composite\":{\"p\":\"sensor\","
                "\"unique_id\":\"thermo_pi_lan_nvme-pci-0100_composite\","
                "\"default_entity_id\":\"sensor.thermo_pi_lan_nvme_pci_0100_composite\","
                "\"name\":\"nvme-pci-0100.composite\","
                "\"state_topic\":\"thermo/pi.lan/nvme-pci-0100.composite\","
                "\"device_class\":\"temperature\",\"unit_of_measurement\":\"°C\",\"state_class\":\"measurement\","
                "\"suggested_display_precision\":1,"
                "\"availability\":[{\"topic\":\"thermo/pi.lan/status\"},"
                "{\"topic\":\"thermo/pi.lan/nvme-pci-0100.composite/status\"}],\"availability_mode\":\"all\"},"
                "\"nvme-pci-0100_composite_heat\":{\"p\":\"binary_sensor\","
                "\"unique_id\":\"thermo_pi_lan_nvme-pci-0100_composite_heat\","
                "\"default_entity_id\":\"binary_sensor.thermo_pi_lan_nvme_pci_0100_composite_heat\","
                "\"name\":\"nvme-pci-0100.composite heat\","
                "\"state_topic\":\"thermo/pi.lan/nvme-pci-0100.composite/level\","
                "\"value_template\":\"{{ 'ON' if value in ('high', 'crit') else 'OFF' }}\",\"device_class\":\"heat\","
                "\"availability\":[{\"topic\":\"thermo/pi.lan/status\"},"
                "{\"topic\":\"thermo/pi.lan/nvme-pci-0100.composite/status\"}],\"availability_mode\":\"all\"},"
                "\"Room\":{\"p\":\"sensor\",\"unique_id\":\"thermo_pi_lan_Room\","
                "\"default_entity_id\":\"sensor.thermo_pi_lan_room\",\"name\":\"Room\","
                "\"state_topic\":\"thermo/pi.lan/Room\","
                "\"device_class\":\"temperature\",\"unit_of_measurement\":\"°C\",\"state_class\":\"measurement\","
                "\"suggested_display_precision\":1,"
                "\"availability\":[{\"topic\":\"thermo/pi.lan/status\"},{\"topic\":\"thermo/pi.lan/Room/status\"}],"
                "\"availability_mode\":\"all\"}}}");
        assert_null(strstr(json, "object_id"));
        free(json);

        /* JSON payloads: Home Assistant takes the value out; a server's words are escaped; no url, no origin
         * url; what is to be removed, by its platform alone. */
        d.format = PAYLOAD_JSON;
        d.server = "odd\"server";
        d.url = NULL;
        d.n_sensors = 1;
        d.removals = (const DeviceRemoval[]) { { .name = "attic" }, { .name = "Room", .heat = true } };
        d.n_removals = 2;
        d.expire_after_s = 90;
        json = config_of(&d);
        assert_non_null(strstr(json, ",\"suggested_display_precision\":1,\"expire_after\":90,\"availability\":"));
        assert_non_null(strstr(json, ",\"value_template\":\"{{ value_json.celsius }}\","));
        assert_non_null(strstr(json, "\"model\":\"odd\\\"server\""));
        assert_non_null(strstr(json, "\"o\":{\"name\":\"thermo-mqtt\",\"sw\":\"" PROJECT_VERSION "\"},"));
        assert_non_null(strstr(json, "\"availability_mode\":\"all\"},\"attic\":{\"p\":\"sensor\"},"
                                     "\"Room_heat\":{\"p\":\"binary_sensor\"}}}"));
        free(json);

        /* Nothing but removals: the last config before the device is empty. */
        d.n_sensors = 0;
        json = config_of(&d);
        assert_non_null(strstr(json, "\"cmps\":{\"attic\":{\"p\":\"sensor\"},\"Room_heat\":{\"p\":\"binary_sensor\"}}}"));
        free(json);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_prefix_and_host_names),
                cmocka_unit_test(test_topics),
                cmocka_unit_test(test_payloads),
                cmocka_unit_test(test_device),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
