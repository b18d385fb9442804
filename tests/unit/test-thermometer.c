/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "sensor.h"
#include "thermometer.h"

#define INTERVAL_USEC (10 * 1000)

typedef struct Recorder {
        Subscriber subscriber;
        Thermometer *thermometer;
        unsigned calls;
        uint64_t seqs[16];
        const char *lines[16];
        char last[PROTOCOL_REPLY_MAX];
        Subscriber *unsubscribe_on_call; /* someone to drop from inside the handler */
        Subscriber *subscribe_on_call;   /* someone to add from inside the handler */
} Recorder;

static void record(Subscriber *s, const char *line, size_t length, const Reading *reading) {
        Recorder *r = (Recorder *) s;

        if (r->calls < 16) {
                r->seqs[r->calls] = reading ? reading->seq : 0;
                r->lines[r->calls] = line;
        }
        r->calls++;
        memcpy(r->last, line, length);
        r->last[length] = '\0';
        if (r->unsubscribe_on_call)
                thermometer_unsubscribe(r->thermometer, r->unsubscribe_on_call);
        if (r->subscribe_on_call)
                thermometer_subscribe(r->thermometer, r->subscribe_on_call);
}

static Thermometer *new_thermometer(const char *spec) {
        Thermometer *t = NULL;
        const char *error;
        Sensor *sensor;

        assert_int_equal(thermometer_default(&t), 0);
        assert_int_equal(sensor_new(spec, &sensor, &error), 0);
        thermometer_set_sensor(t, sensor);
        thermometer_set_interval(t, INTERVAL_USEC);
        return t;
}

/* Runs the loop until r has had n readings; bounded, so that a broken thermometer fails, not hangs. */
static void run_until(Recorder *r, unsigned n) {
        sd_event *e = NULL;

        assert_int_equal(sd_event_default(&e), 0);
        for (int i = 0; i < 1000 && r->calls < n; i++)
                assert_true(sd_event_run(e, 100 * 1000) >= 0);
        sd_event_unref(e);
        assert_true(r->calls >= n);
}

static void test_default_is_a_singleton(void **state) {
        Thermometer *a = NULL, *b = NULL, *c = NULL;

        assert_int_equal(thermometer_default(&a), 0);
        assert_int_equal(thermometer_default(&b), 0);
        assert_ptr_equal(a, b);
        thermometer_unref(b);
        thermometer_unref(a);

        /* Once the last reference is gone, the next call makes a fresh one. */
        assert_int_equal(thermometer_default(&c), 0);
        assert_null(thermometer_get_reading(c));
        thermometer_unref(c);
}

static void test_ticks_only_while_subscribed(void **state) {
        Thermometer *t = new_thermometer("simulated:seed=1");
        Recorder r = { .subscriber.handler = record, .thermometer = t };

        assert_false(thermometer_is_ticking(t));
        thermometer_subscribe(t, &r.subscriber);
        assert_true(thermometer_is_ticking(t));
        assert_int_equal(thermometer_get_subscribers(t), 1);
        run_until(&r, 3);
        thermometer_unsubscribe(t, &r.subscriber);
        assert_false(thermometer_is_ticking(t));
        assert_int_equal(thermometer_get_subscribers(t), 0);
        thermometer_unref(t);
}

static void test_readings_are_numbered_from_one(void **state) {
        Thermometer *t = new_thermometer("simulated:seed=1");
        Recorder r = { .subscriber.handler = record, .thermometer = t };

        thermometer_subscribe(t, &r.subscriber);
        run_until(&r, 3);
        assert_int_equal(r.seqs[0], 1);
        assert_int_equal(r.seqs[1], 2);
        assert_int_equal(r.seqs[2], 3);
        assert_int_equal(strncmp(r.last, "TEMP 3 ", 7), 0);
        assert_int_equal(thermometer_get_reading(t)->seq, r.calls);
        thermometer_unsubscribe(t, &r.subscriber);
        thermometer_unref(t);
}

static void test_every_subscriber_gets_the_same_bytes(void **state) {
        Thermometer *t = new_thermometer("simulated:seed=2");
        Recorder a = { .subscriber.handler = record, .thermometer = t };
        Recorder b = { .subscriber.handler = record, .thermometer = t };

        thermometer_subscribe(t, &a.subscriber);
        thermometer_subscribe(t, &b.subscriber);
        run_until(&a, 2);
        assert_int_equal(a.calls, b.calls);
        /* Formatted once: the very same buffer, not two copies. */
        assert_ptr_equal(a.lines[0], b.lines[0]);
        assert_string_equal(a.last, b.last);
        thermometer_unsubscribe(t, &a.subscriber);
        thermometer_unsubscribe(t, &b.subscriber);
        thermometer_unref(t);
}

static void test_unsubscribe_another_during_a_tick(void **state) {
        Thermometer *t = new_thermometer("simulated:seed=3");
        Recorder victim = { .subscriber.handler = record, .thermometer = t };
        Recorder killer = { .subscriber.handler = record, .thermometer = t };

        /* Subscribers are called newest first: the killer runs before its victim and drops it. */
        thermometer_subscribe(t, &victim.subscriber);
        thermometer_subscribe(t, &killer.subscriber);
        killer.unsubscribe_on_call = &victim.subscriber;
        run_until(&killer, 2);
        assert_int_equal(victim.calls, 0);
        assert_int_equal(thermometer_get_subscribers(t), 1);
        thermometer_unsubscribe(t, &killer.subscriber);
        thermometer_unref(t);
}

static void test_unsubscribe_self_during_a_tick(void **state) {
        Thermometer *t = new_thermometer("simulated:seed=3");
        Recorder once = { .subscriber.handler = record, .thermometer = t };
        Recorder other = { .subscriber.handler = record, .thermometer = t };

        thermometer_subscribe(t, &other.subscriber);
        thermometer_subscribe(t, &once.subscriber);
        once.unsubscribe_on_call = &once.subscriber;
        run_until(&other, 3);
        assert_int_equal(once.calls, 1);
        assert_true(other.calls >= 3);
        thermometer_unsubscribe(t, &other.subscriber);
        thermometer_unref(t);
}

static void test_subscribe_during_a_tick_starts_with_the_next(void **state) {
        Thermometer *t = new_thermometer("simulated:seed=4");
        Recorder late = { .subscriber.handler = record, .thermometer = t };
        Recorder first = { .subscriber.handler = record, .thermometer = t };

        thermometer_subscribe(t, &first.subscriber);
        first.subscribe_on_call = &late.subscriber;
        run_until(&first, 3);
        assert_int_equal(late.seqs[0], first.seqs[1]);
        assert_int_equal(late.calls, first.calls - 1);
        thermometer_unsubscribe(t, &first.subscriber);
        thermometer_unsubscribe(t, &late.subscriber);
        thermometer_unref(t);
}

static void test_get_line_takes_a_reading_on_demand(void **state) {
        Thermometer *t = new_thermometer("simulated:seed=5");
        const char *line, *again;
        size_t n, m;

        assert_null(thermometer_get_reading(t));
        assert_int_equal(thermometer_get_line(t, &line, &n), 0);
        assert_int_equal(strncmp(line, "TEMP 1 ", 7), 0);
        assert_int_equal(line[n - 1], '\n');
        /* Within one interval, the newest is fresh enough: no new reading. */
        assert_int_equal(thermometer_get_line(t, &again, &m), 0);
        assert_int_equal(strncmp(again, "TEMP 1 ", 7), 0);
        assert_false(thermometer_is_ticking(t));
        thermometer_unref(t);
}

static int failing_read(Sensor *s, int64_t *ret) {
        return -EIO;
}

static void failing_free(Sensor *s) {
        free(s);
}

static const SensorOps failing_ops = { .read = failing_read, .free = failing_free };

static void test_failed_reading_is_err_503_and_not_numbered(void **state) {
        Thermometer *t = NULL;
        Recorder r = { .subscriber.handler = record };
        Sensor *s = calloc(1, sizeof(*s));

        assert_non_null(s);
        s->ops = &failing_ops;
        s->description = strdup("failing");
        assert_int_equal(thermometer_default(&t), 0);
        thermometer_set_sensor(t, s);
        thermometer_set_interval(t, INTERVAL_USEC);
        r.thermometer = t;

        thermometer_subscribe(t, &r.subscriber);
        run_until(&r, 2);
        assert_string_equal(r.last, "ERR 503 sensor unavailable\n");
        assert_int_equal(r.seqs[0], 0); /* the handler got no Reading */
        assert_null(thermometer_get_reading(t));
        thermometer_unsubscribe(t, &r.subscriber);
        thermometer_unref(t);
}

static void test_seeded_simulation_is_reproducible(void **state) {
        Sensor *a, *b, *c;
        const char *error;
        int64_t x, y, z;
        bool differs = false;

        assert_int_equal(sensor_new("simulated:seed=42", &a, &error), 0);
        assert_int_equal(sensor_new("simulated:seed=42", &b, &error), 0);
        assert_int_equal(sensor_new("simulated:seed=43", &c, &error), 0);
        for (int i = 0; i < 100; i++) {
                assert_int_equal(sensor_read(a, &x), 0);
                assert_int_equal(sensor_read(b, &y), 0);
                assert_int_equal(sensor_read(c, &z), 0);
                assert_int_equal(x, y);
                differs = differs || x != z;
                /* A random walk that stays around room temperature. */
                assert_true(x > 0 && x < 45000);
        }
        assert_true(differs);
        sensor_free(a);
        sensor_free(b);
        sensor_free(c);
}

static void test_bad_sensor_specs(void **state) {
        const char *error = NULL;
        Sensor *s = NULL;

        assert_int_equal(sensor_new("thermocouple", &s, &error), -EINVAL);
        assert_string_equal(error, "unknown sensor type");
        assert_int_equal(sensor_new("simulated:seed=x", &s, &error), -EINVAL);
        assert_int_equal(sensor_new("simulated:speed=1", &s, &error), -EINVAL);
        assert_null(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_default_is_a_singleton),
                cmocka_unit_test(test_ticks_only_while_subscribed),
                cmocka_unit_test(test_readings_are_numbered_from_one),
                cmocka_unit_test(test_every_subscriber_gets_the_same_bytes),
                cmocka_unit_test(test_unsubscribe_another_during_a_tick),
                cmocka_unit_test(test_unsubscribe_self_during_a_tick),
                cmocka_unit_test(test_subscribe_during_a_tick_starts_with_the_next),
                cmocka_unit_test(test_get_line_takes_a_reading_on_demand),
                cmocka_unit_test(test_failed_reading_is_err_503_and_not_numbered),
                cmocka_unit_test(test_seeded_simulation_is_reproducible),
                cmocka_unit_test(test_bad_sensor_specs),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
