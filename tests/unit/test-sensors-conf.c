/* SPDX-License-Identifier: MIT */
/* sensors.conf honoured as sensors(1) honours it. libsensors reads /sys and /etc itself: the test takes a
 * mount namespace of its own, puts a tmpfs over /sys/class, /sys/devices and /sys/bus and builds its fake
 * tree there (fake-sysfs.c), and binds its own configuration over /etc/sensors3.conf and /etc/sensors.d.
 * The real sensors(1), run in the same namespace, says what thermo must say. Needs root (CAP_SYS_ADMIN):
 * skipped without. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake-sysfs.h"
#include "log.h"
#include "sensor-libsensors.h"
#include "sensor-list.h"
#include "sensor.h"

#define CONFIG "/etc/sensors3.conf"
#define CONFIG_DIR "/etc/sensors.d"

static const char labels_and_computes[] =
        "# as an admin writes them\n"
        "chip \"coretemp-isa-0000\"\n"
        "    label temp1 \"CPU package\"\n"
        "    compute temp1 @-5, @+5\n"
        "chip \"nvme-pci-0200\"\n"
        "    label temp1 \"Data disk\"\n";
static const char ignores[] =
        "chip \"nvme-*\"\n"
        "    ignore temp2\n";

static void write_file(const char *path, const char *content) {
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        fputs(content, f);
        assert_int_equal(fclose(f), 0);
}

/* sensors3.conf, and sensors.d/ignore.conf where ignore is not NULL; then read, as at a rescan. */
static int configure(const char *conf, const char *ignore) {
        char error[SENSOR_ERROR_MAX];

        write_file(CONFIG, conf);
        if (ignore)
                write_file(CONFIG_DIR "/ignore.conf", ignore);
        else
                (void) unlink(CONFIG_DIR "/ignore.conf");
        return libsensors_load(error);
}

static Sensor *discovered(const char *name) {
        Sensor **sensors, *found = NULL;
        int n = sensor_discover(&sensors);

        assert_true(n > 0);
        for (int i = 0; i < n; i++)
                if (!found && strcmp(sensors[i]->name, name) == 0)
                        found = sensors[i];
                else
                        sensor_unref(sensors[i]);
        free(sensors);
        if (!found)
                fail_msg("no sensor %s", name);
        return found;
}

/* What sensors -u says: its whole output. */
static char *run_sensors(const char *args) {
        char command[256], *out = NULL;
        size_t size = 0, n;
        char buf[4096];
        FILE *p, *m;

        snprintf(command, sizeof(command), "sensors -u %s 2>&1", args);
        p = popen(command, "re");
        assert_non_null(p);
        m = open_memstream(&out, &size);
        while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
                fwrite(buf, 1, n, m);
        fclose(m);
        assert_int_equal(pclose(p), 0);
        return out;
}

static void test_names_do_not_change(void **state) {
        Sensor **sensors;
        int n;

        /* As sensors.conf is on most machines: nothing of these chips. */
        assert_int_equal(configure("", NULL), 0);
        n = sensor_discover(&sensors);
        assert_int_equal(n, FAKE_SYSFS_N_NAMES);
        for (int i = 0; i < n; i++) {
                assert_string_equal(sensors[i]->name, fake_sysfs_names[i]);
                sensor_unref(sensors[i]);
        }
        free(sensors);

        /* Labels, computes and an ignore: the same names, but the one ignored, in the same order. */
        assert_int_equal(configure(labels_and_computes, ignores), 0);
        n = sensor_discover(&sensors);
        assert_int_equal(n, FAKE_SYSFS_N_NAMES - 1);
        for (int i = 0, k = 0; i < n; i++, k++) {
                if (strcmp(fake_sysfs_names[k], "nvme-pci-0100-sensor_1") == 0)
                        k++;
                assert_string_equal(sensors[i]->name, fake_sysfs_names[k]);
                sensor_unref(sensors[i]);
        }
        free(sensors);
}

static void test_label_compute_and_limits(void **state) {
        Sensor *s;
        int64_t v;

        assert_int_equal(configure(labels_and_computes, ignores), 0);

        s = discovered("coretemp-isa-0000-package_id_0");
        assert_string_equal(s->label, "CPU package");
        assert_string_equal(s->source, "hwmon:coretemp-isa-0000/temp1");
        assert_int_equal(sensor_read(s, &v), 0);
        assert_int_equal(v, 41000);
        /* The limit is computed as the reading is, or an alarm would come 5 °C late. */
        assert_true(s->limits.has_crit);
        assert_int_equal(s->limits.crit, 95000);
        /* The reading follows the file; a file gone or garbled says so as a file sensor does. */
        fake_sysfs_put("devices/platform/coretemp.0/hwmon/hwmon0/temp1_input", "50000\n");
        assert_int_equal(sensor_read(s, &v), 0);
        assert_int_equal(v, 45000);
        fake_sysfs_put("devices/platform/coretemp.0/hwmon/hwmon0/temp1_input", "hot\n");
        assert_int_equal(sensor_read(s, &v), -EBADMSG);
        assert_int_equal(unlink("/sys/devices/platform/coretemp.0/hwmon/hwmon0/temp1_input"), 0);
        assert_int_equal(sensor_read(s, &v), -ENOENT);
        fake_sysfs_put("devices/platform/coretemp.0/hwmon/hwmon0/temp1_input", "46000\n");
        assert_int_equal(sensor_read(s, &v), 0);
        assert_int_equal(v, 41000);
        /* --calibrate comes after sensors.conf's compute. */
        s->calibration = (Calibration) { .offset = 1000 };
        assert_int_equal(sensor_read(s, &v), 0);
        assert_int_equal(v, 42000);
        sensor_unref(s);

        s = discovered("nvme-pci-0200-composite");
        assert_string_equal(s->label, "Data disk");
        sensor_unref(s);
        /* No label in sensors.conf: the chip's own; none there either: none. */
        s = discovered("nvme-pci-0100-composite");
        assert_string_equal(s->label, "Composite");
        sensor_unref(s);
        s = discovered("drivetemp-scsi-0-0-temp1");
        assert_null(s->label);
        assert_true(s->slow);
        assert_int_equal(sensor_read(s, &v), 0);
        assert_int_equal(v, 33000);
        sensor_unref(s);
}

/* Chips libsensors names alike (every virtual one is <driver>-virtual-0) are told apart by where they are,
 * and a chip libsensors no longer knows (a reload that found it elsewhere, or failed) is read from its
 * file as it is, until a rescan makes it a sensor of that kind. */
static void test_chips_named_alike_and_chips_gone(void **state) {
        Sensor *s;
        int64_t v;

        assert_int_equal(configure("chip \"acme-*\"\n    compute temp1 @+1, @-1\n" "chip \"coretemp-*\"\n"
                                   "    compute temp1 @-5, @+5\n", NULL), 0);
        s = discovered("acme-virtual-0-temp1");
        assert_int_equal(sensor_read(s, &v), 0);
        assert_int_equal(v, 31000);
        sensor_unref(s);
        s = discovered("acme-virtual-1-temp1");
        assert_int_equal(sensor_read(s, &v), 0);
        assert_int_equal(v, 32000);
        sensor_unref(s);

        s = discovered("coretemp-isa-0000-package_id_0");
        assert_int_equal(sensor_read(s, &v), 0);
        assert_int_equal(v, 41000);
        /* A chip without its name is none to libsensors. */
        assert_int_equal(rename("/sys/class/hwmon/hwmon0/name", "/sys/class/hwmon/hwmon0/name.away"), 0);
        assert_int_equal(configure("chip \"coretemp-*\"\n    compute temp1 @-5, @+5\n", NULL), 0);
        assert_int_equal(sensor_read(s, &v), 0);
        assert_int_equal(v, 46000);
        assert_int_equal(rename("/sys/class/hwmon/hwmon0/name.away", "/sys/class/hwmon/hwmon0/name"), 0);
        assert_int_equal(configure("chip \"coretemp-*\"\n    compute temp1 @-5, @+5\n", NULL), 0);
        assert_int_equal(sensor_read(s, &v), 0);
        assert_int_equal(v, 41000);
        sensor_unref(s);
}

static void test_sensors_says_the_same(void **state) {
        static const char *const chips[] = { "coretemp-isa-0000", "nvme-pci-0100", "nvme-pci-0200", "drivetemp-scsi-0-0" };
        _cleanup_free_ char *all = NULL, *cpu = NULL;
        Sensor *s;

        assert_int_equal(configure(labels_and_computes, ignores), 0);
        /* Our chips are sensors' chips, by the same names. */
        all = run_sensors("");
        for (size_t i = 0; i < ELEMENTSOF(chips); i++) {
                char line[64];

                snprintf(line, sizeof(line), "%s\n", chips[i]);
                if (!strstr(all, line))
                        fail_msg("sensors shows no chip %s:\n%s", chips[i], all);
        }
        s = discovered("nvme-pci-0100-composite");
        assert_string_equal(s->chip, "nvme-pci-0100");
        sensor_unref(s);
        /* The ignored input is not there, for sensors either. */
        assert_null(strstr(all, "Sensor 1:"));

        cpu = run_sensors("coretemp-isa-0000");
        if (!strstr(cpu, "CPU package:\n  temp1_input: 41.000\n  temp1_crit: 95.000\n"))
                fail_msg("sensors says otherwise:\n%s", cpu);
}

static void test_ignored_served_when_asked_for(void **state) {
        char error[SENSOR_ERROR_MAX];
        Sensor *s = NULL;
        int64_t v;

        assert_int_equal(configure(labels_and_computes, ignores), 0);
        /* auto leaves it out; a --sensor that names it is the admin's word too. */
        assert_int_equal(sensor_new("hwmon:nvme-pci-0100/temp2", &s, error), 0);
        assert_string_equal(s->name, "nvme-pci-0100-sensor_1");
        assert_int_equal(sensor_read(s, &v), 0);
        assert_int_equal(v, -5250);
        sensor_unref(s);
}

static void test_rescan_reads_it_again(void **state) {
        SensorList l = {};
        size_t k;

        assert_int_equal(configure(labels_and_computes, NULL), 0);
        write_file(CONFIG, "chip \"coretemp-*\"\n    label temp1 \"Package\"\n");
        /* sensor_list_build() reads it, as a rescan does. */
        assert_int_equal(sensor_list_build(&l, (const char *[]) { "auto" }, 1, true), 0);
        assert_int_equal(l.n, FAKE_SYSFS_N_NAMES);
        for (k = 0; k < l.n && strcmp(l.sensors[k]->name, "coretemp-isa-0000-package_id_0") != 0; k++)
                ;
        assert_true(k < l.n);
        assert_string_equal(l.sensors[k]->label, "Package");
        sensor_list_done(&l);
}

static void test_a_bad_statement_is_skipped(void **state) {
        _cleanup_free_ char *cpu = NULL;
        Sensor *s;
        int64_t v;

        /* A label without its string, and a word that is none: each skipped, the rest honoured, as sensors
         * does. */
        assert_int_equal(configure("chip \"coretemp-isa-0000\"\n    label temp1\n    compute temp1 @-5, @+5\n"
                                   "    frobnicate temp2\n    label temp2 \"Core\"\n", NULL), 2);
        s = discovered("coretemp-isa-0000-core_0");
        assert_string_equal(s->label, "Core");
        sensor_unref(s);
        cpu = run_sensors("coretemp-isa-0000");
        s = discovered("coretemp-isa-0000-package_id_0");
        assert_int_equal(sensor_read(s, &v), 0);
        if (!strstr(cpu, v == 41000 ? "temp1_input: 41.000\n" : "temp1_input: 46.000\n"))
                fail_msg("thermo reads %" PRIi64 ", sensors says otherwise:\n%s", v, cpu);
        sensor_unref(s);
        /* Nothing ignored: it is there again. */
        sensor_unref(discovered("nvme-pci-0100-sensor_1"));
}

static void *read_in_thread(void *userdata) {
        static int64_t v;
        Sensor *s = userdata;

        v = sensor_read(s, &v) < 0 ? INT64_MIN : v;
        return &v;
}

static void test_reload_never_waits_for_a_slow_read(void **state) {
        const char *dir = "devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/hwmon/hwmon6",
                   *input = "/sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/hwmon/hwmon6/temp1_input";
        char error[SENSOR_ERROR_MAX], path[256];
        pthread_t thread;
        int64_t *v;
        Sensor *s;
        int fd = -1;

        assert_int_equal(configure("", NULL), 0);
        s = discovered("drivetemp-scsi-0-0-temp1");
        /* A disk that takes its time: the input a FIFO, which libsensors opens and then waits on until we
         * write. (Its next load would see no input there: none comes before the read is under way.) */
        assert_int_equal(unlink(input), 0);
        assert_int_equal(mkfifo(input, 0600), 0);
        assert_int_equal(pthread_create(&thread, NULL, read_in_thread, s), 0);
        for (int i = 0; i < 500 && fd < 0; i++) {
                fd = open(input, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
                if (fd < 0) {
                        assert_int_equal(errno, ENXIO); /* no reader yet */
                        usleep(10 * 1000);
                }
        }
        assert_true(fd >= 0);
        /* The read is under way: reading sensors.conf again does not wait for it. */
        assert_int_equal(libsensors_load(error), -EBUSY);
        assert_string_equal(error, "a slow sensor is being read");
        assert_int_equal(write(fd, "33000\n", 6), 6);
        close(fd);
        assert_int_equal(pthread_join(thread, (void **) &v), 0);
        assert_int_equal(*v, 33000);
        sensor_unref(s);

        assert_int_equal(unlink(input), 0);
        snprintf(path, sizeof(path), "%s/temp1_input", dir);
        fake_sysfs_put(path, "33000\n");
        assert_int_equal(libsensors_load(error), 0);
}

/* A namespace of our own, /sys's class, devices and bus in it our tree, and our configuration. */
static int setup(void **state) {
        static const char *const tmpfs[] = { "/sys/class", "/sys/devices", "/sys/bus", CONFIG_DIR };
        char conf[] = "/tmp/thermo-sensors-conf-XXXXXX";
        int fd;

        assert_int_equal(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        for (size_t i = 0; i < ELEMENTSOF(tmpfs); i++)
                if (mount("tmpfs", tmpfs[i], "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
                        fail_msg("tmpfs over %s: %s", tmpfs[i], strerror(errno));
        fd = mkostemp(conf, O_CLOEXEC);
        assert_true(fd >= 0);
        close(fd);
        if (mount(conf, CONFIG, NULL, MS_BIND, NULL) < 0)
                fail_msg("bind over " CONFIG " (libsensors-config installs it): %s", strerror(errno));
        /* The bind holds it: the file itself need not stay. */
        assert_int_equal(unlink(conf), 0);
        unsetenv("THERMO_SYSFS_ROOT");
        fake_sysfs_build("/sys");
        log_set_max_level(LOG_ERR);
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names_do_not_change),
                cmocka_unit_test(test_label_compute_and_limits),
                cmocka_unit_test(test_chips_named_alike_and_chips_gone),
                cmocka_unit_test(test_sensors_says_the_same),
                cmocka_unit_test(test_ignored_served_when_asked_for),
                cmocka_unit_test(test_rescan_reads_it_again),
                cmocka_unit_test(test_a_bad_statement_is_skipped),
                cmocka_unit_test(test_reload_never_waits_for_a_slow_read),
        };

        /* Everything mounted is the namespace's, and goes with the process. */
        if (unshare(CLONE_NEWNS) < 0) {
                fprintf(stderr, "No mount namespace of our own (%s): skipped; run as root.\n", strerror(errno));
                return 77;
        }
        return cmocka_run_group_tests(tests, setup, NULL);
}
