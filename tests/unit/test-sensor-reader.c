/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sensor-reader.h"

/* A sensor whose read opens a file, as a file sensor's does, says that it has begun, and waits until the
 * test opens its gate: a 1-Wire read, or a sysfs read that does not return. */
typedef struct GatedSensor {
        Sensor sensor;
        int gate[2], begun[2];
        int *freed;
} GatedSensor;

static int gated_read(Sensor *s, int64_t *ret) {
        GatedSensor *g = container_of(s, GatedSensor, sensor);
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        char c = 'b';

        (void) write(g->begun[1], &c, 1);
        (void) read(g->gate[0], &c, 1);
        safe_close(fd);
        *ret = 21000;
        return 0;
}

static void gated_free(Sensor *s) {
        GatedSensor *g = container_of(s, GatedSensor, sensor);

        safe_close(g->gate[0]);
        safe_close(g->gate[1]);
        safe_close(g->begun[0]);
        safe_close(g->begun[1]);
        __atomic_store_n(g->freed, 1, __ATOMIC_RELEASE);
        free(g);
}

static const SensorOps gated_ops = { .read = gated_read, .free = gated_free };

static int open_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        int n = 0;

        assert_non_null(d);
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

static void done(SensorReader *r, const SensorResult *result, void *userdata) {
        (*(int *) userdata)++;
}

/* Freeing a reader whose thread is in a read that does not return never waits for it: the thread finishes
 * its read (closing what it opened), then frees the reader and drops its reference to the sensor, which
 * outlives its owner's until then. */
static void test_free_while_reading_waits_for_nothing_and_leaks_nothing(void **state) {
        int fds = open_fds(), freed = 0, results = 0, gate;
        struct pollfd begun = { .events = POLLIN };
        GatedSensor *g = calloc(1, sizeof(*g));
        SensorReader *r = NULL;
        sd_event *e = NULL;
        char c;

        assert_non_null(g);
        assert_int_equal(pipe2(g->gate, O_CLOEXEC), 0);
        assert_int_equal(pipe2(g->begun, O_CLOEXEC), 0);
        g->sensor.ops = &gated_ops;
        g->freed = &freed;
        gate = g->gate[1];
        begun.fd = g->begun[0];

        assert_true(sd_event_default(&e) >= 0);
        assert_int_equal(sensor_reader_new(e, &g->sensor, done, &results, &r), 0);
        assert_true(sensor_reader_request(r));
        assert_int_equal(poll(&begun, 1, 10 * 1000), 1);
        assert_int_equal(read(begun.fd, &c, 1), 1);

        alarm(10); /* a free that waited for the read would wait for ever */
        r = sensor_reader_free(r);
        alarm(0);
        assert_null(r);
        sensor_unref(&g->sensor);
        assert_int_equal(__atomic_load_n(&freed, __ATOMIC_ACQUIRE), 0);

        /* The read returns: the thread cleans up after itself, and nobody hears of the result. */
        assert_int_equal(write(gate, "x", 1), 1);
        for (int i = 0; i < 1000 && !__atomic_load_n(&freed, __ATOMIC_ACQUIRE); i++)
                usleep(10 * 1000);
        assert_int_equal(__atomic_load_n(&freed, __ATOMIC_ACQUIRE), 1);
        (void) sd_event_run(e, 0);
        assert_int_equal(results, 0);
        assert_int_equal(open_fds(), fds + 1); /* the event loop's own */
        sd_event_unref(e);
}

/* A reader freed while idle joins its thread, and the sensor is its owner's alone again. */
static void test_free_while_idle(void **state) {
        GatedSensor *g = calloc(1, sizeof(*g));
        int freed = 0, results = 0;
        SensorReader *r = NULL;
        sd_event *e = NULL;

        assert_non_null(g);
        assert_int_equal(pipe2(g->gate, O_CLOEXEC), 0);
        assert_int_equal(pipe2(g->begun, O_CLOEXEC), 0);
        g->sensor.ops = &gated_ops;
        g->freed = &freed;
        assert_true(sd_event_default(&e) >= 0);
        assert_int_equal(sensor_reader_new(e, &g->sensor, done, &results, &r), 0);

        /* One read, its result on the loop. */
        assert_int_equal(write(g->gate[1], "x", 1), 1);
        assert_true(sensor_reader_request(r));
        for (int i = 0; i < 1000 && results == 0; i++)
                assert_true(sd_event_run(e, 10 * 1000) >= 0);
        assert_int_equal(results, 1);

        sensor_reader_free(r);
        assert_int_equal(freed, 0);
        sensor_unref(&g->sensor);
        assert_int_equal(freed, 1);
        sd_event_unref(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_free_while_reading_waits_for_nothing_and_leaks_nothing),
                cmocka_unit_test(test_free_while_idle),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
