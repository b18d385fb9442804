/* SPDX-License-Identifier: MIT */
/* The sensor backends against a fake /sys that the test builds (THERMO_SYSFS_ROOT). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "sensor.h"

static char root[64];

static void put(const char *relative, const char *content) {
        char path[512], dir[512];

        snprintf(path, sizeof(path), "%s/%s", root, relative);
        snprintf(dir, sizeof(dir), "%s", path);
        for (char *p = dir + strlen(root) + 1; (p = strchr(p, '/')); p++) {
                *p = '\0';
                (void) mkdir(dir, 0755);
                *p = '/';
        }
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static void remove_tree(void) {
        char command[128];

        snprintf(command, sizeof(command), "rm -rf '%s'", root);
        assert_int_equal(system(command), 0);
}

/* A PC's worth: two thermal zones (one broken), a CPU chip with labels, a disk without. */
static int setup(void **state) {
        snprintf(root, sizeof(root), "/tmp/thermo-sysfs-XXXXXX");
        assert_non_null(mkdtemp(root));
        setenv("THERMO_SYSFS_ROOT", root, 1);
        put("class/thermal/thermal_zone0/type", "acpitz\n");
        put("class/thermal/thermal_zone0/temp", "not a number\n");
        put("class/thermal/thermal_zone2/type", "x86_pkg_temp\n");
        put("class/thermal/thermal_zone2/temp", "45000\n");
        put("class/thermal/thermal_zone10/type", "iwlwifi_1\n");
        put("class/thermal/thermal_zone10/temp", "39000\n");
        put("class/hwmon/hwmon0/name", "coretemp\n");
        put("class/hwmon/hwmon0/temp1_input", "46000\n");
        put("class/hwmon/hwmon0/temp1_label", "Package id 0\n");
        put("class/hwmon/hwmon0/temp1_crit", "100000\n");
        put("class/hwmon/hwmon0/temp2_input", "44000\n");
        put("class/hwmon/hwmon0/temp2_label", "Core 0\n");
        put("class/hwmon/hwmon1/name", "nvme\n");
        put("class/hwmon/hwmon1/temp1_input", "-5250\n");
        log_set_max_level(LOG_ERR);
        return 0;
}

static int teardown(void **state) {
        remove_tree();
        unsetenv("THERMO_SYSFS_ROOT");
        return 0;
}

static void assert_sensor(const char *spec, const char *description, const char *label, int64_t value) {
        const char *error = NULL;
        Sensor *s = NULL;
        int64_t v;

        if (sensor_new(spec, &s, &error) < 0)
                fail_msg("%s: %s", spec, error);
        assert_string_equal(s->description, description);
        if (label)
                assert_string_equal(s->label, label);
        assert_int_equal(sensor_read(s, &v), 0);
        assert_int_equal(v, value);
        sensor_free(s);
}

static void test_thermal_by_number_and_by_type(void **state) {
        assert_sensor("thermal:2", "thermal:2", "x86_pkg_temp", 45000);
        assert_sensor("thermal:x86_pkg_temp", "thermal:2", "x86_pkg_temp", 45000);
        assert_sensor("thermal:10", "thermal:10", "iwlwifi_1", 39000);
}

static void test_hwmon_by_chip_label_and_input(void **state) {
        assert_sensor("hwmon:coretemp", "hwmon:coretemp/temp1", "Package id 0", 46000);
        assert_sensor("hwmon:coretemp/Core 0", "hwmon:coretemp/temp2", "Core 0", 44000);
        assert_sensor("hwmon:coretemp/temp2", "hwmon:coretemp/temp2", "Core 0", 44000);
        /* Without a label, the chip and input name it; below zero is fine. */
        assert_sensor("hwmon:nvme", "hwmon:nvme/temp1", "nvme temp1", -5250);
}

static void test_file(void **state) {
        char spec[128], description[128];

        put("w1/28-000005e2fdc3", "21375\n");
        snprintf(spec, sizeof(spec), "file:%s/w1/28-000005e2fdc3", root);
        snprintf(description, sizeof(description), "file:%s/w1/28-000005e2fdc3", root);
        assert_sensor(spec, description, NULL, 21375);
}

static void test_bad_specs(void **state) {
        const char *error = NULL;
        Sensor *s = NULL;

        assert_int_equal(sensor_new("thermal:3", &s, &error), -ENOENT);
        assert_string_equal(error, "no such sensor (see --list-sensors)");
        assert_int_equal(sensor_new("thermal:", &s, &error), -EINVAL);
        assert_int_equal(sensor_new("hwmon:k10temp", &s, &error), -ENOENT);
        assert_int_equal(sensor_new("hwmon:coretemp/Core 7", &s, &error), -ENOENT);
        assert_int_equal(sensor_new("file:relative/path", &s, &error), -EINVAL);
        assert_int_equal(sensor_new("file:/with blank", &s, &error), -EINVAL);
        assert_int_equal(sensor_new("auto:x", &s, &error), -EINVAL);
        assert_null(s);
}

static void test_auto_takes_the_first_usable_thermal_zone(void **state) {
        /* thermal_zone0 gives no number: the next one, in number order (2 before 10), is taken. */
        assert_sensor("auto", "thermal:2", "x86_pkg_temp", 45000);
}

static void test_auto_falls_back_to_hwmon_then_to_simulated(void **state) {
        char thermal[256], hwmon[256], away_thermal[256], away_hwmon[256];
        const char *error;
        Sensor *s;

        snprintf(thermal, sizeof(thermal), "%s/class/thermal", root);
        snprintf(hwmon, sizeof(hwmon), "%s/class/hwmon", root);
        snprintf(away_thermal, sizeof(away_thermal), "%s/away-thermal", root);
        snprintf(away_hwmon, sizeof(away_hwmon), "%s/away-hwmon", root);

        assert_int_equal(rename(thermal, away_thermal), 0);
        assert_sensor("auto", "hwmon:coretemp/temp1", "Package id 0", 46000);

        assert_int_equal(rename(hwmon, away_hwmon), 0);
        assert_int_equal(sensor_new("auto", &s, &error), 0);
        assert_string_equal(s->description, "simulated");
        sensor_free(s);

        assert_int_equal(rename(away_thermal, thermal), 0);
        assert_int_equal(rename(away_hwmon, hwmon), 0);
}

static void test_read_errors_and_recovery(void **state) {
        char path[256];
        int64_t v;

        snprintf(path, sizeof(path), "%s/flaky", root);
        put("flaky", "20000\n");
        assert_int_equal(sensor_read_millidegrees(path, &v), 0);
        assert_int_equal(v, 20000);
        put("flaky", "");
        assert_int_equal(sensor_read_millidegrees(path, &v), -ENODATA);
        put("flaky", "20.5\n");
        assert_int_equal(sensor_read_millidegrees(path, &v), -EBADMSG);
        put("flaky", "hot\n");
        assert_int_equal(sensor_read_millidegrees(path, &v), -EBADMSG);
        put("flaky", "-273150\n");
        assert_int_equal(sensor_read_millidegrees(path, &v), -ERANGE);
        put("flaky", "99999999999999999999\n");
        assert_int_equal(sensor_read_millidegrees(path, &v), -EBADMSG);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(sensor_read_millidegrees(path, &v), -ENOENT);
        put("flaky", "21000");
        assert_int_equal(sensor_read_millidegrees(path, &v), 0);
        assert_int_equal(v, 21000);
}

static void test_list_shows_every_sensor(void **state) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        assert_int_equal(sensor_list(f), 0);
        fclose(f);
        assert_string_equal(text,
                        "SPEC                             LABEL                    VALUE\n"
                        "thermal:0                        acpitz                   - (Bad message)\n"
                        "thermal:2                        x86_pkg_temp             45.000 °C\n"
                        "thermal:10                       iwlwifi_1                39.000 °C\n"
                        "hwmon:coretemp/temp1             Package id 0             46.000 °C\n"
                        "hwmon:coretemp/temp2             Core 0                   44.000 °C\n"
                        "hwmon:nvme/temp1                 nvme temp1               -5.250 °C\n");
        free(text);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_thermal_by_number_and_by_type),
                cmocka_unit_test(test_hwmon_by_chip_label_and_input),
                cmocka_unit_test(test_file),
                cmocka_unit_test(test_bad_specs),
                cmocka_unit_test(test_auto_takes_the_first_usable_thermal_zone),
                cmocka_unit_test(test_auto_falls_back_to_hwmon_then_to_simulated),
                cmocka_unit_test(test_read_errors_and_recovery),
                cmocka_unit_test(test_list_shows_every_sensor),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
