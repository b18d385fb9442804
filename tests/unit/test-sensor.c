/* SPDX-License-Identifier: MIT */
/* The sensor backends against a fake /sys that the test builds (THERMO_SYSFS_ROOT), laid out as the kernel
 * lays out its own: devices under devices/, class/ entries as links to them, each device's subsystem a
 * link to its bus or class. */
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

#include "log.h"
#include "sensor-list.h"
#include "sensor.h"

static char root[64];

static void make_parents(const char *path) {
        char dir[512];

        snprintf(dir, sizeof(dir), "%s", path);
        for (char *p = dir + strlen(root) + 1; (p = strchr(p, '/')); p++) {
                *p = '\0';
                (void) mkdir(dir, 0755);
                *p = '/';
        }
}

static void put(const char *relative, const char *content) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", root, relative);
        make_parents(path);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

/* relative links to target, both under the root. */
static void link_to(const char *relative, const char *target) {
        char path[512], to[512];

        snprintf(path, sizeof(path), "%s/%s", root, relative);
        snprintf(to, sizeof(to), "%s/%s", root, target);
        make_parents(path);
        (void) unlink(path);
        assert_int_equal(symlink(to, path), 0);
}

/* A device on a bus, and an hwmon chip on it, as class/hwmon/<number> sees it. */
static void hwmon_on(const char *device, const char *subsystem, const char *hwmon, const char *name) {
        char path[512], target[512];

        snprintf(path, sizeof(path), "%s/subsystem", device);
        link_to(path, subsystem);
        snprintf(path, sizeof(path), "%s/hwmon/%s/name", device, hwmon);
        snprintf(target, sizeof(target), "%s\n", name);
        put(path, target);
        snprintf(path, sizeof(path), "%s/hwmon/%s/device", device, hwmon);
        link_to(path, device);
        snprintf(path, sizeof(path), "class/hwmon/%s", hwmon);
        snprintf(target, sizeof(target), "%s/hwmon/%s", device, hwmon);
        link_to(path, target);
}

#define NVME0 "devices/pci0000:00/0000:00:01.0/0000:01:00.0"
#define NVME1 "devices/pci0000:00/0000:00:01.2/0000:02:00.0"
#define ZONE(n) "devices/virtual/thermal/thermal_zone" #n

static void thermal_zone(const char *zone, unsigned number, const char *type, const char *temp, const char *device) {
        char path[512], content[64];

        snprintf(path, sizeof(path), "%s/type", zone);
        snprintf(content, sizeof(content), "%s\n", type);
        put(path, content);
        snprintf(path, sizeof(path), "%s/temp", zone);
        put(path, temp);
        snprintf(path, sizeof(path), "%s/subsystem", zone);
        link_to(path, "class/thermal");
        if (device) {
                snprintf(path, sizeof(path), "%s/device", zone);
                link_to(path, device);
        }
        snprintf(path, sizeof(path), "class/thermal/thermal_zone%u", number);
        link_to(path, zone);
}

/* A PC's worth, and some. */
static int setup(void **state) {
        snprintf(root, sizeof(root), "/tmp/thermo-sysfs-XXXXXX");
        assert_non_null(mkdtemp(root));
        setenv("THERMO_SYSFS_ROOT", root, 1);
        put("bus/pci/.keep", "");
        put("bus/platform/.keep", "");
        put("bus/acpi/.keep", "");
        put("bus/scsi/.keep", "");
        put("class/nvme/.keep", "");

        /* Two ACPI zones of one type, told apart by their device; one gives no number. */
        link_to("devices/LNXSYSTM:00/LNXTHERM:00/subsystem", "bus/acpi");
        link_to("devices/LNXSYSTM:00/LNXTHERM:01/subsystem", "bus/acpi");
        thermal_zone(ZONE(0), 0, "acpitz", "not a number\n", "devices/LNXSYSTM:00/LNXTHERM:00");
        thermal_zone(ZONE(1), 1, "acpitz", "27800\n", "devices/LNXSYSTM:00/LNXTHERM:01");
        thermal_zone(ZONE(2), 2, "x86_pkg_temp", "45000\n", NULL);
        /* Zone 0 shows as an hwmon chip too: the zone's, served once. */
        put(ZONE(0) "/hwmon2/name", "acpitz\n");
        put(ZONE(0) "/hwmon2/temp1_input", "27800\n");
        link_to(ZONE(0) "/hwmon2/device", ZONE(0));
        link_to("class/hwmon/hwmon2", ZONE(0) "/hwmon2");

        /* A CPU on the platform bus. */
        hwmon_on("devices/platform/coretemp.0", "bus/platform", "hwmon0", "coretemp");
        put("devices/platform/coretemp.0/hwmon/hwmon0/temp1_input", "46000\n");
        put("devices/platform/coretemp.0/hwmon/hwmon0/temp1_label", "Package id 0\n");
        put("devices/platform/coretemp.0/hwmon/hwmon0/temp1_crit", "100000\n");
        put("devices/platform/coretemp.0/hwmon/hwmon0/temp2_input", "44000\n");
        put("devices/platform/coretemp.0/hwmon/hwmon0/temp2_label", "Core 0\n");

        /* Two identical drives: the chip sits on the nvme class device, which sits on its PCI device. */
        link_to(NVME0 "/subsystem", "bus/pci");
        hwmon_on(NVME0 "/nvme/nvme0", "class/nvme", "hwmon1", "nvme");
        put(NVME0 "/nvme/nvme0/hwmon/hwmon1/temp1_input", "38850\n");
        put(NVME0 "/nvme/nvme0/hwmon/hwmon1/temp1_label", "Composite\n");
        put(NVME0 "/nvme/nvme0/hwmon/hwmon1/temp2_input", "-5250\n");
        put(NVME0 "/nvme/nvme0/hwmon/hwmon1/temp2_label", "Sensor 1\n");
        link_to(NVME1 "/subsystem", "bus/pci");
        hwmon_on(NVME1 "/nvme/nvme1", "class/nvme", "hwmon3", "nvme");
        put(NVME1 "/nvme/nvme1/hwmon/hwmon3/temp1_input", "41000\n");
        put(NVME1 "/nvme/nvme1/hwmon/hwmon3/temp1_label", "Composite\n");

        /* Chips with no device at all, and a disk through the SCSI layer. */
        put("class/hwmon/hwmon4/name", "acme\n");
        put("class/hwmon/hwmon4/temp1_input", "30000\n");
        put("class/hwmon/hwmon5/name", "acme\n");
        put("class/hwmon/hwmon5/temp1_input", "31000\n");
        hwmon_on("devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0", "bus/scsi", "hwmon6", "drivetemp");
        put("devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/hwmon/hwmon6/temp1_input", "33000\n");

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

static const char *const expected_names[] = {
        "acpitz-lnxtherm_01", /* the default: the first that gives a reading */
        "acpitz-lnxtherm_00",
        "x86_pkg_temp",
        "coretemp-isa-0000-package_id_0",
        "coretemp-isa-0000-core_0",
        "nvme-pci-0100-composite",
        "nvme-pci-0100-sensor_1",
        "nvme-pci-0200-composite",
        "acme-virtual-0-temp1",
        "acme-virtual-1-temp1",
        "drivetemp-scsi-0-0-temp1",
};

static void assert_discovered(void) {
        Sensor **sensors;
        int n;

        n = sensor_discover(&sensors);
        assert_int_equal(n, ELEMENTSOF(expected_names));
        for (int i = 0; i < n; i++) {
                assert_string_equal(sensors[i]->name, expected_names[i]);
                /* Only the disk goes through a slow bus. */
                assert_int_equal(sensors[i]->slow, strcmp(expected_names[i], "drivetemp-scsi-0-0-temp1") == 0);
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
        assert_int_equal(n, ELEMENTSOF(expected_names));
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

        put("w1/28-000005e2fdc3/temperature", "21375\n");
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

        /* A NUL within is not the end of the number, and a file longer than a reading is none. */
        {
                static const char nul[] = "21\0000\n";
                FILE *f = fopen(path, "we");

                assert_non_null(f);
                assert_int_equal(fwrite(nul, 1, sizeof(nul) - 1, f), sizeof(nul) - 1);
                fclose(f);
        }
        assert_int_equal(sensor_read_millidegrees(path, &v), -EBADMSG);
        put("flaky", "00000000000000000000000000000021000\n");
        assert_int_equal(sensor_read_millidegrees(path, &v), -EBADMSG);
        put("flaky", "21000\n\n");
        assert_int_equal(sensor_read_millidegrees(path, &v), -EBADMSG);
        put("flaky", "-5250\n");
        assert_int_equal(sensor_read_millidegrees(path, &v), 0);
        assert_int_equal(v, -5250);
}

static void test_list_build_names_and_duplicates(void **state) {
        SensorList l = {};

        /* A name given, then every other sensor but the one already there. */
        assert_int_equal(sensor_list_build(&l, (const char *[]) { "cpu=hwmon:coretemp", "auto" }, 2, false), 0);
        assert_int_equal(l.n, ELEMENTSOF(expected_names));
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
