/* SPDX-License-Identifier: MIT */
/* The sensor backends against a fake /sys that the test builds (fake-sysfs.c), where THERMO_SYSFS_ROOT
 * says. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake-sysfs.h"
#include "log.h"
#include "sensor-list.h"
#include "sensor.h"

static char root[64];

static int setup(void **state) {
        snprintf(root, sizeof(root), "/tmp/thermo-sysfs-XXXXXX");
        assert_non_null(mkdtemp(root));
        setenv("THERMO_SYSFS_ROOT", root, 1);
        fake_sysfs_build(root);
        log_set_max_level(LOG_ERR);
        return 0;
}

static int teardown(void **state) {
        char command[128];

        snprintf(command, sizeof(command), "rm -rf '%s'", root);
        assert_int_equal(system(command), 0);
        unsetenv("THERMO_SYSFS_ROOT");
        return 0;
}

static void assert_sensor(const char *spec, const char *name, const char *source, const char *label, int64_t value) {
        char error[SENSOR_ERROR_MAX];
        Sensor *s = NULL;
        int64_t v;

        if (sensor_new(spec, &s, error) < 0)
                fail_msg("%s: %s", spec, error);
        assert_string_equal(s->name, name);
        assert_string_equal(s->source, source);
        if (label)
                assert_string_equal(s->label, label);
        assert_int_equal(sensor_read(s, &v), 0);
        assert_int_equal(v, value);
        sensor_unref(s);
}

static void test_thermal_by_type_name_or_number(void **state) {
        assert_sensor("thermal:x86_pkg_temp", "x86_pkg_temp", "thermal:x86_pkg_temp", "x86_pkg_temp", 45000);
        assert_sensor("thermal:2", "x86_pkg_temp", "thermal:x86_pkg_temp", "x86_pkg_temp", 45000);
        /* Two of a type: by the device each belongs to. */
        assert_sensor("thermal:acpitz-lnxtherm_01", "acpitz-lnxtherm_01", "thermal:acpitz-lnxtherm_01", "acpitz", 27800);
}

static void test_hwmon_named_by_the_device_it_sits_on(void **state) {
        assert_sensor("hwmon:coretemp", "coretemp-isa-0000-package_id_0", "hwmon:coretemp-isa-0000/temp1",
                        "Package id 0", 46000);
        assert_sensor("hwmon:coretemp/Core 0", "coretemp-isa-0000-core_0", "hwmon:coretemp-isa-0000/temp2", "Core 0",
                        44000);
        /* Two identical drives, each by its PCI address, as lm-sensors says it. */
        assert_sensor("hwmon:nvme-pci-0100", "nvme-pci-0100-composite", "hwmon:nvme-pci-0100/temp1", "Composite", 38850);
        assert_sensor("hwmon:nvme-pci-0100/temp2", "nvme-pci-0100-sensor_1", "hwmon:nvme-pci-0100/temp2", "Sensor 1",
                        -5250);
        assert_sensor("hwmon:nvme-pci-0200/Composite", "nvme-pci-0200-composite", "hwmon:nvme-pci-0200/temp1",
                        "Composite", 41000);
        assert_sensor("hwmon:drivetemp", "drivetemp-scsi-0-0-temp1", "hwmon:drivetemp-scsi-0-0/temp1", NULL, 33000);
        /* No device: by their place among those of the driver. */
        assert_sensor("hwmon:acme-virtual-1", "acme-virtual-1-temp1", "hwmon:acme-virtual-1/temp1", NULL, 31000);
}

static void test_ambiguous_and_missing_specs(void **state) {
        char error[SENSOR_ERROR_MAX];
        Sensor *s = NULL;

        assert_int_equal(sensor_new("hwmon:nvme", &s, error), -EINVAL);
        assert_string_equal(error, "more than one sensor matches, such as hwmon:nvme-pci-0100/temp1 and "
                                   "hwmon:nvme-pci-0200/temp1");
        assert_int_equal(sensor_new("thermal:acpitz", &s, error), -EINVAL);
        assert_int_equal(sensor_new("thermal:3", &s, error), -ENOENT);
        assert_string_equal(error, "no such sensor (see --list-sensors)");
        assert_int_equal(sensor_new("thermal:", &s, error), -EINVAL);
        assert_int_equal(sensor_new("hwmon:k10temp", &s, error), -ENOENT);
        assert_int_equal(sensor_new("hwmon:coretemp/Core 7", &s, error), -ENOENT);
        /* The thermal zone's own chip is the zone, not an hwmon sensor. */
        assert_int_equal(sensor_new("hwmon:acpitz", &s, error), -ENOENT);
        assert_int_equal(sensor_new("file:relative/path", &s, error), -EINVAL);
        assert_int_equal(sensor_new("file:/with blank", &s, error), -EINVAL);
        assert_int_equal(sensor_new("file:/with\nnewline", &s, error), -EINVAL);
        assert_int_equal(sensor_new("simulated:seed=x", &s, error), -EINVAL);
        assert_int_equal(sensor_new("simulated:delay=forever", &s, error), -EINVAL);
        assert_int_equal(sensor_new("thermocouple", &s, error), -EINVAL);
        assert_null(s);
}


static void assert_discovered(void) {
        Sensor **sensors;
        int n;

        n = sensor_discover(&sensors);
        assert_int_equal(n, FAKE_SYSFS_N_NAMES);
        for (int i = 0; i < n; i++) {
                assert_string_equal(sensors[i]->name, fake_sysfs_names[i]);
                /* Only the disk goes through a slow bus. */
                assert_int_equal(sensors[i]->slow, strcmp(fake_sysfs_names[i], "drivetemp-scsi-0-0-temp1") == 0);
                sensor_unref(sensors[i]);
        }
        free(sensors);
}

static void test_auto_finds_every_sensor_once(void **state) {
        assert_discovered();
}

static void rename_entry(const char *from, const char *to) {
        char a[512], b[512];

        snprintf(a, sizeof(a), "%s/%s", root, from);
        snprintf(b, sizeof(b), "%s/%s", root, to);
        assert_int_equal(rename(a, b), 0);
}

static void test_names_survive_a_renumbering(void **state) {
        Sensor **sensors;
        bool seen = false;
        int n;

        /* As after a boot that found things in another order: the numbers change, the names do not. */
        rename_entry("class/hwmon/hwmon1", "class/hwmon/hwmon9");
        rename_entry("class/hwmon/hwmon3", "class/hwmon/hwmon1");
        rename_entry("class/thermal/thermal_zone0", "class/thermal/thermal_zone7");

        n = sensor_discover(&sensors);
        assert_int_equal(n, FAKE_SYSFS_N_NAMES);
        for (int i = 0; i < n; i++) {
                /* The first drive, now hwmon9, has its name still. */
                if (strcmp(sensors[i]->name, "nvme-pci-0100-composite") == 0) {
                        assert_non_null(strstr(sensors[i]->path, "/hwmon9/"));
                        seen = true;
                }
                sensor_unref(sensors[i]);
        }
        free(sensors);
        assert_true(seen);

        rename_entry("class/thermal/thermal_zone7", "class/thermal/thermal_zone0");
        rename_entry("class/hwmon/hwmon1", "class/hwmon/hwmon3");
        rename_entry("class/hwmon/hwmon9", "class/hwmon/hwmon1");
        assert_discovered();
}

static void test_file_names_and_refusals(void **state) {
        char spec[512], fifo[256], error[SENSOR_ERROR_MAX];
        Sensor *s = NULL;

        fake_sysfs_put("w1/28-000005e2fdc3/temperature", "21375\n");
        snprintf(spec, sizeof(spec), "file:%s/w1/28-000005e2fdc3/temperature", root);
        assert_int_equal(sensor_new(spec, &s, error), 0);
        assert_string_equal(s->name, "file-28-000005e2fdc3");
        assert_string_equal(s->source, spec);
        assert_true(s->slow);
        s = sensor_unref(s);

        /* A FIFO would block its reader for good: refused at start, and never read. */
        snprintf(fifo, sizeof(fifo), "%s/fifo", root);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        snprintf(spec, sizeof(spec), "file:%s", fifo);
        assert_int_equal(sensor_new(spec, &s, error), -EINVAL);
        assert_non_null(strstr(error, "not a regular file"));
        {
                int64_t v;
                assert_int_equal(sensor_read_millidegrees(fifo, &v), -EBADFD);
        }

        /* A path too long for a HELLO line. */
        memset(spec, 'x', sizeof(spec));
        memcpy(spec, "file:/", 6);
        spec[sizeof(spec) - 1] = '\0';
        assert_int_equal(sensor_new(spec, &s, error), -EINVAL);
        assert_null(s);
}

static void test_read_errors_and_recovery(void **state) {
        char path[256];
        int64_t v;

        snprintf(path, sizeof(path), "%s/flaky", root);
        fake_sysfs_put("flaky", "20000\n");
        assert_int_equal(sensor_read_millidegrees(path, &v), 0);
        assert_int_equal(v, 20000);
        fake_sysfs_put("flaky", "");
        assert_int_equal(sensor_read_millidegrees(path, &v), -ENODATA);
        fake_sysfs_put("flaky", "20.5\n");
        assert_int_equal(sensor_read_millidegrees(path, &v), -EBADMSG);
        fake_sysfs_put("flaky", "hot\n");
        assert_int_equal(sensor_read_millidegrees(path, &v), -EBADMSG);
        fake_sysfs_put("flaky", "-273150\n");
        assert_int_equal(sensor_read_millidegrees(path, &v), -ERANGE);
        fake_sysfs_put("flaky", "99999999999999999999\n");
        assert_int_equal(sensor_read_millidegrees(path, &v), -EBADMSG);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(sensor_read_millidegrees(path, &v), -ENOENT);
        fake_sysfs_put("flaky", "21000");
        assert_int_equal(sensor_read_millidegrees(path, &v), 0);
        assert_int_equal(v, 21000);

        /* A NUL within is not the end of the number, and a file longer than a reading is none. */
        {
                static const char nul[] = "21\0000\n";
                FILE *f = fopen(path, "we");

                assert_non_null(f);
                assert_int_equal(fwrite(nul, 1, sizeof(nul) - 1, f), sizeof(nul) - 1);
                fclose(f);
        }
        assert_int_equal(sensor_read_millidegrees(path, &v), -EBADMSG);
        fake_sysfs_put("flaky", "00000000000000000000000000000021000\n");
        assert_int_equal(sensor_read_millidegrees(path, &v), -EBADMSG);
        fake_sysfs_put("flaky", "21000\n\n");
        assert_int_equal(sensor_read_millidegrees(path, &v), -EBADMSG);
        fake_sysfs_put("flaky", "-5250\n");
        assert_int_equal(sensor_read_millidegrees(path, &v), 0);
        assert_int_equal(v, -5250);
}

static void test_list_build_names_and_duplicates(void **state) {
        SensorList l = {};

        /* A name given, then every other sensor but the one already there. */
        assert_int_equal(sensor_list_build(&l, (const char *[]) { "cpu=hwmon:coretemp", "auto" }, 2, false), 0);
        assert_int_equal(l.n, FAKE_SYSFS_N_NAMES);
        assert_string_equal(l.sensors[0]->name, "cpu");
        assert_string_equal(l.sensors[1]->name, "acpitz-lnxtherm_01");
        sensor_list_done(&l);

        assert_int_equal(sensor_list_build(&l, (const char *[]) { "simulated", "simulated:seed=2" }, 2, false), -EINVAL);
        sensor_list_done(&l);
        assert_int_equal(sensor_list_build(&l, (const char *[]) { "a=simulated", "a=simulated:seed=2" }, 2, false), -EINVAL);
        sensor_list_done(&l);
        assert_int_equal(sensor_list_build(&l, (const char *[]) { "Bad=simulated" }, 1, false), -EINVAL);
        sensor_list_done(&l);
        assert_int_equal(sensor_list_build(&l, (const char *[]) { "x=auto" }, 1, false), -EINVAL);
        sensor_list_done(&l);
        /* "=" after the type's ":" is the spec's own, not a name. */
        assert_int_equal(sensor_list_build(&l, (const char *[]) { "simulated:seed=2,delay=0" }, 1, false), 0);
        assert_string_equal(l.sensors[0]->name, "simulated");
        sensor_list_done(&l);

        /* A sensor that is not there is a usage error at start; a rescan leaves it out. */
        assert_int_equal(sensor_list_build(&l, (const char *[]) { "hwmon:k10temp", "a=simulated" }, 2, false), -EINVAL);
        sensor_list_done(&l);
        assert_int_equal(sensor_list_build(&l, (const char *[]) { "hwmon:k10temp", "a=simulated" }, 2, true), 0);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.sensors[0]->name, "a");
        sensor_list_done(&l);
}

static void test_list_prints_name_source_label_value(void **state) {
        SensorList l = {};
        char *text = NULL;
        size_t size = 0;
        FILE *f;

        assert_int_equal(sensor_list_build(&l, (const char *[]) { "thermal:x86_pkg_temp", "hwmon:nvme-pci-0100/temp2",
                                                                 "broken=thermal:0" }, 3, false), 0);
        f = open_memstream(&text, &size);
        assert_int_equal(sensor_list_print(&l, f, true, false), 0);
        fclose(f);
        assert_string_equal(text,
                        "NAME                   SOURCE                     LABEL        VALUE                LOW     HIGH     CRIT\n"
                        "x86_pkg_temp           thermal:x86_pkg_temp       x86_pkg_temp 45.000 °C              -        -        -\n"
                        "nvme-pci-0100-sensor_1 hwmon:nvme-pci-0100/temp2  Sensor 1     -5.250 °C              -        -        -\n"
                        "broken                 thermal:acpitz-lnxtherm_00 acpitz       - (Bad message)        -        -        -\n");
        free(text);

        f = open_memstream(&text, &size);
        assert_int_equal(sensor_list_print(&l, f, false, true), 0);
        fclose(f);
        assert_string_equal(text,
                        "[{\"name\":\"x86_pkg_temp\",\"source\":\"thermal:x86_pkg_temp\",\"label\":\"x86_pkg_temp\","
                        "\"celsius\":45.000,\"low\":null,\"high\":null,\"crit\":null},{\"name\":\"nvme-pci-0100-sensor_1\","
                        "\"source\":\"hwmon:nvme-pci-0100/temp2\",\"label\":\"Sensor 1\",\"celsius\":-5.250,\"low\":null,"
                        "\"high\":null,\"crit\":null},{\"name\":\"broken\",\"source\":\"thermal:acpitz-lnxtherm_00\","
                        "\"label\":\"acpitz\",\"celsius\":null,\"error\":\"Bad message\",\"low\":null,\"high\":null,"
                        "\"crit\":null}]\n");
        free(text);
        sensor_list_done(&l);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_thermal_by_type_name_or_number),
                cmocka_unit_test(test_hwmon_named_by_the_device_it_sits_on),
                cmocka_unit_test(test_ambiguous_and_missing_specs),
                cmocka_unit_test(test_auto_finds_every_sensor_once),
                cmocka_unit_test(test_names_survive_a_renumbering),
                cmocka_unit_test(test_file_names_and_refusals),
                cmocka_unit_test(test_read_errors_and_recovery),
                cmocka_unit_test(test_list_build_names_and_duplicates),
                cmocka_unit_test(test_list_prints_name_source_label_value),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
