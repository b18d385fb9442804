/* SPDX-License-Identifier: MIT */
/* A fake /sys, laid out as the kernel lays out its own: devices under devices/, class/ entries as links to
 * them, each device's subsystem a link to its bus or class, a class device's device link to its parent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake-sysfs.h"

/* The root the helpers below build under: fake_sysfs_build()'s. */
static const char *root;

static void make_parents(const char *path) {
        char dir[512];

        snprintf(dir, sizeof(dir), "%s", path);
        for (char *p = dir + strlen(root) + 1; (p = strchr(p, '/')); p++) {
                *p = '\0';
                (void) mkdir(dir, 0755);
                *p = '/';
        }
}

void fake_sysfs_put(const char *relative, const char *content) {
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
        fake_sysfs_put(path, target);
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
        fake_sysfs_put(path, content);
        snprintf(path, sizeof(path), "%s/temp", zone);
        fake_sysfs_put(path, temp);
        snprintf(path, sizeof(path), "%s/subsystem", zone);
        link_to(path, "class/thermal");
        if (device) {
                snprintf(path, sizeof(path), "%s/device", zone);
                link_to(path, device);
        }
        snprintf(path, sizeof(path), "class/thermal/thermal_zone%u", number);
        link_to(path, zone);
}

const char *const fake_sysfs_names[FAKE_SYSFS_N_NAMES] = {
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

void fake_sysfs_build(const char *at) {
        root = at;
        fake_sysfs_put("bus/pci/.keep", "");
        fake_sysfs_put("bus/platform/.keep", "");
        fake_sysfs_put("bus/acpi/.keep", "");
        fake_sysfs_put("bus/scsi/.keep", "");
        fake_sysfs_put("class/nvme/.keep", "");

        /* Two ACPI zones of one type, told apart by their device; one gives no number. */
        link_to("devices/LNXSYSTM:00/LNXTHERM:00/subsystem", "bus/acpi");
        link_to("devices/LNXSYSTM:00/LNXTHERM:01/subsystem", "bus/acpi");
        thermal_zone(ZONE(0), 0, "acpitz", "not a number\n", "devices/LNXSYSTM:00/LNXTHERM:00");
        thermal_zone(ZONE(1), 1, "acpitz", "27800\n", "devices/LNXSYSTM:00/LNXTHERM:01");
        thermal_zone(ZONE(2), 2, "x86_pkg_temp", "45000\n", NULL);
        /* Zone 0 shows as an hwmon chip too: the zone's, served once. */
        fake_sysfs_put(ZONE(0) "/hwmon2/name", "acpitz\n");
        fake_sysfs_put(ZONE(0) "/hwmon2/temp1_input", "27800\n");
        link_to(ZONE(0) "/hwmon2/device", ZONE(0));
        link_to("class/hwmon/hwmon2", ZONE(0) "/hwmon2");

        /* A CPU on the platform bus. */
        hwmon_on("devices/platform/coretemp.0", "bus/platform", "hwmon0", "coretemp");
        fake_sysfs_put("devices/platform/coretemp.0/hwmon/hwmon0/temp1_input", "46000\n");
        fake_sysfs_put("devices/platform/coretemp.0/hwmon/hwmon0/temp1_label", "Package id 0\n");
        fake_sysfs_put("devices/platform/coretemp.0/hwmon/hwmon0/temp1_crit", "100000\n");
        fake_sysfs_put("devices/platform/coretemp.0/hwmon/hwmon0/temp2_input", "44000\n");
        fake_sysfs_put("devices/platform/coretemp.0/hwmon/hwmon0/temp2_label", "Core 0\n");

        /* Two identical drives: the chip sits on the nvme class device, which sits on its PCI device. */
        link_to(NVME0 "/subsystem", "bus/pci");
        hwmon_on(NVME0 "/nvme/nvme0", "class/nvme", "hwmon1", "nvme");
        link_to(NVME0 "/nvme/nvme0/device", NVME0);
        fake_sysfs_put(NVME0 "/nvme/nvme0/hwmon/hwmon1/temp1_input", "38850\n");
        fake_sysfs_put(NVME0 "/nvme/nvme0/hwmon/hwmon1/temp1_label", "Composite\n");
        fake_sysfs_put(NVME0 "/nvme/nvme0/hwmon/hwmon1/temp2_input", "-5250\n");
        fake_sysfs_put(NVME0 "/nvme/nvme0/hwmon/hwmon1/temp2_label", "Sensor 1\n");
        link_to(NVME1 "/subsystem", "bus/pci");
        hwmon_on(NVME1 "/nvme/nvme1", "class/nvme", "hwmon3", "nvme");
        link_to(NVME1 "/nvme/nvme1/device", NVME1);
        fake_sysfs_put(NVME1 "/nvme/nvme1/hwmon/hwmon3/temp1_input", "41000\n");
        fake_sysfs_put(NVME1 "/nvme/nvme1/hwmon/hwmon3/temp1_label", "Composite\n");

        /* Chips with no device at all, and a disk through the SCSI layer. */
        fake_sysfs_put("class/hwmon/hwmon4/name", "acme\n");
        fake_sysfs_put("class/hwmon/hwmon4/temp1_input", "30000\n");
        fake_sysfs_put("class/hwmon/hwmon5/name", "acme\n");
        fake_sysfs_put("class/hwmon/hwmon5/temp1_input", "31000\n");
        hwmon_on("devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0", "bus/scsi", "hwmon6", "drivetemp");
        fake_sysfs_put("devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/hwmon/hwmon6/temp1_input", "33000\n");

}
