/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sensor.h"
#include "thermometer.h"

#define INTERVAL_USEC (10 * 1000)

typedef struct Recorder {
        ThermometerObserver observer;
        Thermometer *thermometer;
        unsigned calls;
        uint64_t seqs[16];
        const Reading *readings[16];
        Reading last;
        size_t n;
        unsigned answers;       /* requests answered */
        const Reading *answer;  /* with these readings */
        ThermometerRequest *cancel_on_answer; /* a request to cancel from inside an answer */
        ThermometerObserver *remove_on_call; /* someone to drop from inside the tick */
        ThermometerObserver *add_on_call;    /* someone to add (and activate) from inside the tick */
} Recorder;

static void record(ThermometerObserver *o, const Reading *readings, size_t n) {
        Recorder *r = container_of(o, Recorder, observer);

        if (r->calls < 16) {
                r->seqs[r->calls] = readings[0].seq;
                r->readings[r->calls] = readings;
        }
        r->calls++;
        r->last = readings[0];
        r->n = n;
        if (r->remove_on_call) {
                thermometer_remove_observer(r->thermometer, r->remove_on_call);
                r->remove_on_call = NULL;
        }
        if (r->add_on_call) {
                thermometer_add_observer(r->thermometer, r->add_on_call);
                thermometer_set_active(r->thermometer, r->add_on_call, true);
                r->add_on_call = NULL;
        }
}

static void answered(ThermometerObserver *o, ThermometerRequest *q, const Reading *readings, size_t n) {
        Recorder *r = container_of(o, Recorder, observer);

        assert_false(q->waiting);
        r->answers++;
        r->answer = readings;
        if (r->cancel_on_answer) {
                thermometer_request_cancel(o, r->cancel_on_answer);
                r->cancel_on_answer = NULL;
        }
}

static void set_sensor(Thermometer *t, Sensor *sensor) {
        Sensor **sensors = calloc(1, sizeof(Sensor *));

        assert_non_null(sensors);
        sensors[0] = sensor;
        assert_int_equal(thermometer_set_sensors(t, sensors, 1), 0);
}

static Thermometer *new_thermometer(const char *spec) {
        Thermometer *t = NULL;
        char error[SENSOR_ERROR_MAX];
        Sensor *sensor;

        assert_int_equal(thermometer_default(&t), 0);
        assert_int_equal(sensor_new(spec, &sensor, error), 0);
        set_sensor(t, sensor);
        thermometer_set_interval(t, INTERVAL_USEC);
        return t;
}

static void watch(Recorder *r, Thermometer *t, bool active) {
        r->observer.tick = record;
        r->observer.answer = answered;
        r->thermometer = t;
        thermometer_add_observer(t, &r->observer);
        thermometer_set_active(t, &r->observer, active);
}

/* Runs the loop until r has had n ticks; bounded, so that a broken thermometer fails, not hangs. */
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
        assert_null(thermometer_peek_readings(c));
        thermometer_unref(c);
}

static void test_ticks_only_while_an_observer_is_active(void **state) {
        Thermometer *t = new_thermometer("simulated:seed=1");
        Recorder r = {}, passive = {};

        watch(&passive, t, false);
        assert_false(thermometer_is_ticking(t));
        watch(&r, t, true);
        assert_true(thermometer_is_ticking(t));
        run_until(&r, 3);
        /* A passive observer sees every tick, without keeping the thermometer awake. */
        assert_int_equal(passive.calls, r.calls);
        thermometer_set_active(t, &r.observer, false);
        assert_false(thermometer_is_ticking(t));
        thermometer_remove_observer(t, &r.observer);
        thermometer_remove_observer(t, &passive.observer);
        thermometer_unref(t);
}

static void test_readings_are_data_numbered_from_one(void **state) {
        Thermometer *t = new_thermometer("simulated:seed=1");
        Recorder r = {};

        watch(&r, t, true);
        run_until(&r, 3);
        assert_int_equal(r.seqs[0], 1);
        assert_int_equal(r.seqs[1], 2);
        assert_int_equal(r.seqs[2], 3);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.last.error, 0);
        assert_true(r.last.time_ms > UINT64_C(1600000000000));
        /* The simulated walk starts at 21 degrees and moves at most a quarter of a degree a step. */
        assert_true(r.last.millicelsius > 20000 && r.last.millicelsius < 22000);
        assert_int_equal(thermometer_peek_readings(t)[0].seq, r.calls);
        thermometer_remove_observer(t, &r.observer);
        thermometer_unref(t);
}

static void test_every_observer_gets_the_same_readings(void **state) {
        Thermometer *t = new_thermometer("simulated:seed=2");
        Recorder a = {}, b = {};

        watch(&a, t, true);
        watch(&b, t, true);
        run_until(&a, 2);
        assert_int_equal(a.calls, b.calls);
        /* Read once: the very same readings, not two copies. */
        assert_ptr_equal(a.readings[0], b.readings[0]);
        assert_int_equal(a.last.millicelsius, b.last.millicelsius);
        thermometer_remove_observer(t, &a.observer);
        thermometer_remove_observer(t, &b.observer);
        thermometer_unref(t);
}

static void test_remove_another_during_a_tick(void **state) {
        Thermometer *t = new_thermometer("simulated:seed=3");
        Recorder victim = {}, killer = {};

        /* Observers are called newest first: the killer runs before its victim and drops it. */
        watch(&victim, t, true);
        watch(&killer, t, true);
        killer.remove_on_call = &victim.observer;
        run_until(&killer, 3);
        assert_int_equal(victim.calls, 0);
        thermometer_remove_observer(t, &killer.observer);
        assert_false(thermometer_is_ticking(t));
        thermometer_unref(t);
}

static void test_remove_self_during_a_tick(void **state) {
        Thermometer *t = new_thermometer("simulated:seed=3");
        Recorder once = {}, other = {};

        watch(&other, t, true);
        watch(&once, t, true);
        once.remove_on_call = &once.observer;
        run_until(&other, 3);
        assert_int_equal(once.calls, 1);
        assert_true(other.calls >= 3);
        thermometer_remove_observer(t, &other.observer);
        thermometer_unref(t);
}

static void test_added_during_a_tick_starts_with_the_next(void **state) {
        Thermometer *t = new_thermometer("simulated:seed=4");
        Recorder late = { .observer.tick = record }, first = {};

        late.thermometer = t;
        watch(&first, t, true);
        first.add_on_call = &late.observer;
        run_until(&first, 3);
        assert_int_equal(late.seqs[0], first.seqs[1]);
        assert_int_equal(late.calls, first.calls - 1);
        thermometer_remove_observer(t, &first.observer);
        thermometer_remove_observer(t, &late.observer);
        thermometer_unref(t);
}

static void test_readings_taken_on_demand(void **state) {
        Thermometer *t = new_thermometer("simulated:seed=5");
        ThermometerRequest q = { .sensor = 0 };
        Recorder passive = {};
        const Reading *r;

        watch(&passive, t, false);
        assert_null(thermometer_peek_readings(t));
        r = thermometer_request(t, &passive.observer, &q);
        assert_non_null(r);
        assert_int_equal(r[0].seq, 1);
        assert_int_equal(passive.calls, 1);
        /* Within one interval, the newest is fresh enough: no new tick. */
        r = thermometer_request(t, &passive.observer, &q);
        assert_int_equal(r[0].seq, 1);
        assert_int_equal(passive.calls, 1);
        assert_false(thermometer_is_ticking(t));
        /* Older than that, and nobody ticking: a new one. */
        usleep(2 * INTERVAL_USEC);
        {
                sd_event *e = NULL;
                assert_int_equal(sd_event_default(&e), 0);
                (void) sd_event_run(e, 0); /* sd_event_now() moves on with the loop */
                sd_event_unref(e);
        }
        r = thermometer_request(t, &passive.observer, &q);
        assert_int_equal(r[0].seq, 2);
        assert_false(q.waiting);
        assert_int_equal(passive.answers, 0);
        thermometer_remove_observer(t, &passive.observer);
        thermometer_unref(t);
}

/* Sensors from "[NAME=]SPEC"s, as a rescan finds them (the array thermometer_update_sensors() takes). */
static Sensor **sensors_of(const char *const *specs, size_t n) {
        Sensor **sensors = calloc(n, sizeof(Sensor *));
        char error[SENSOR_ERROR_MAX];

        assert_non_null(sensors);
        for (size_t i = 0; i < n; i++) {
                const char *eq = strchr(specs[i], '=');
                char name[32] = "";

                if (eq && eq < strchr(specs[i], ':'))
                        snprintf(name, sizeof(name), "%.*s", (int) (eq - specs[i]), specs[i]);
                assert_int_equal(sensor_new(name[0] ? eq + 1 : specs[i], &sensors[i], error), 0);
                if (name[0])
                        assert_int_equal(sensor_set_name(sensors[i], name), 0);
        }
        return sensors;
}

static void test_rescan_keeps_places_appends_new_and_marks_gone(void **state) {
        Thermometer *t = new_thermometer("simulated:seed=1");
        ThermometerUpdate u;
        Recorder r = {};

        watch(&r, t, true);
        run_until(&r, 1);
        assert_int_equal(r.n, 1);

        /* The one there is, found again, and a new one: after it. */
        assert_int_equal(thermometer_update_sensors(t, sensors_of((const char *[]) { "b=simulated:seed=2",
                                                                   "simulated:seed=1" }, 2), 2, &u), 0);
        assert_int_equal(u.added, 1);
        assert_int_equal(u.gone + u.back + u.changed, 0);
        assert_int_equal(thermometer_get_n_sensors(t), 2);
        assert_string_equal(thermometer_get_sensor(t, 0)->name, "simulated");
        assert_string_equal(thermometer_get_sensor(t, 1)->name, "b");
        run_until(&r, r.calls + 1);
        assert_int_equal(r.n, 2);
        assert_int_equal(thermometer_peek_readings(t)[1].error, 0);

        /* The first not found: it keeps its place, unavailable; the next tick has it so. */
        assert_int_equal(thermometer_update_sensors(t, sensors_of((const char *[]) { "b=simulated:seed=2" }, 1), 1, &u), 0);
        assert_int_equal(u.gone, 1);
        assert_int_equal(u.added, 0);
        run_until(&r, r.calls + 1);
        assert_int_equal(r.n, 2);
        assert_int_equal(r.last.error, -ENODEV);
        assert_string_equal(r.last.sensor, "simulated");
        assert_int_equal(thermometer_find_sensor(t, "simulated", strlen("simulated")), 0);

        /* Found again: back, in its place. */
        assert_int_equal(thermometer_update_sensors(t, sensors_of((const char *[]) { "simulated:seed=9",
                                                                   "b=simulated:seed=3" }, 2), 2, &u), 0);
        assert_int_equal(u.back, 1);
        assert_int_equal(u.added + u.gone + u.changed, 0);
        assert_int_equal(thermometer_get_n_sensors(t), 2);
        /* Until the next tick, the newest readings name it by the new sensor's string (the old one is
         * freed: ASan would see it read). */
        assert_string_equal(thermometer_peek_readings(t)[0].sensor, "simulated");
        assert_int_equal(thermometer_peek_readings(t)[0].error, -EINPROGRESS);
        run_until(&r, r.calls + 1);
        assert_int_equal(r.last.error, 0);

        thermometer_remove_observer(t, &r.observer);
        thermometer_unref(t);
}

/* A request for a slow sensor waits for the tick that has its reading, and is answered once; one for every
 * sensor waits as well, and a cancelled one is never answered, even from inside another's answer. */
static void test_request_for_a_slow_sensor_waits_for_its_reading(void **state) {
        Thermometer *t = new_thermometer("simulated:seed=5,delay=20ms");
        ThermometerRequest one = { .sensor = 0 }, all = { .sensor = THERMOMETER_ALL_SENSORS },
                           cancelled = { .sensor = 0 };
        Recorder r = {};
        sd_event *e = NULL;

        watch(&r, t, false);
        assert_null(thermometer_request(t, &r.observer, &one));
        assert_true(one.waiting);
        assert_null(thermometer_request(t, &r.observer, &all));
        assert_null(thermometer_request(t, &r.observer, &cancelled));
        assert_true(cancelled.waiting);
        thermometer_request_cancel(&r.observer, &cancelled);
        assert_false(cancelled.waiting);

        assert_int_equal(sd_event_default(&e), 0);
        for (int i = 0; i < 1000 && r.answers < 2; i++)
                assert_true(sd_event_run(e, 100 * 1000) >= 0);
        assert_int_equal(r.answers, 2);
        assert_false(one.waiting);
        assert_false(all.waiting);
        assert_int_equal(r.answer[0].error, 0);
        assert_int_equal(r.answer[0].seq, 1);

        /* Fresh now: answered at once, without waiting. */
        assert_non_null(thermometer_request(t, &r.observer, &one));
        assert_false(one.waiting);

        /* Two wait; the first answered cancels the second, which is then never answered. */
        for (int i = 0; i < 10; i++) {
                (void) sd_event_run(e, 0);
                usleep(5 * INTERVAL_USEC / 2);
        }
        assert_null(thermometer_request(t, &r.observer, &one));
        assert_null(thermometer_request(t, &r.observer, &all));
        r.answers = 0;
        /* The newest waits first: "all" is answered, and cancels "one". */
        r.cancel_on_answer = &one;
        for (int i = 0; i < 1000 && (one.waiting || all.waiting); i++)
                assert_true(sd_event_run(e, 100 * 1000) >= 0);
        assert_int_equal(r.answers, 1);
        assert_false(one.waiting);
        sd_event_unref(e);

        thermometer_remove_observer(t, &r.observer);
        thermometer_unref(t);
}

/* A rescan that gives one name twice, or a name there is already among new ones, takes it once: a name is
 * one sensor's, and the arrays grow where they are appended to (a second "foo" overflowed them). */
static void test_rescan_takes_each_name_once(void **state) {
        Thermometer *t = new_thermometer("simulated:seed=1");
        ThermometerUpdate u;

        assert_int_equal(sensor_set_name((Sensor *) thermometer_get_sensor(t, 0), "foo"), 0);
        assert_int_equal(thermometer_update_sensors(t, sensors_of((const char *[]) { "foo=simulated:seed=1",
                                                                   "foo=simulated:seed=2", "bar=simulated:seed=3",
                                                                   "bar=simulated:seed=4" }, 4), 4, &u), 0);
        assert_int_equal(u.added, 1);
        assert_int_equal(u.gone + u.back + u.changed, 0);
        assert_int_equal(thermometer_get_n_sensors(t), 2);
        assert_string_equal(thermometer_get_sensor(t, 0)->name, "foo");
        assert_string_equal(thermometer_get_sensor(t, 1)->name, "bar");
        thermometer_unref(t);
}

static void slow_record(ThermometerObserver *o, const Reading *readings, size_t n) {
        record(o, readings, n);
        usleep(2500); /* more work than an interval of 1ms leaves room for */
}

/* Readings that come steadily slower than the interval are said once a window of 1000 ticks, with the
 * rate they come at; not at every tick. */
static void test_steadily_late_ticks_are_said(void **state) {
        Thermometer *t = new_thermometer("simulated:seed=3");
        char log[4096] = "", *p;
        int saved = dup(STDERR_FILENO), warnings = 0;
        FILE *f = tmpfile();
        Recorder r = {};

        assert_non_null(f);
        assert_int_equal(dup2(fileno(f), STDERR_FILENO), STDERR_FILENO);
        thermometer_set_interval(t, 1000);
        r.observer.tick = slow_record;
        r.thermometer = t;
        thermometer_add_observer(t, &r.observer);
        thermometer_set_active(t, &r.observer, true);
        {
                sd_event *e = NULL;

                assert_int_equal(sd_event_default(&e), 0);
                for (int i = 0; i < 10000 && r.calls < 1001; i++)
                        assert_true(sd_event_run(e, 100 * 1000) >= 0);
                sd_event_unref(e);
        }
        assert_true(r.calls >= 1001);
        thermometer_remove_observer(t, &r.observer);
        thermometer_unref(t);
        assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
        close(saved);

        rewind(f);
        log[fread(log, 1, sizeof(log) - 1, f)] = '\0';
        fclose(f);
        for (p = log; (p = strstr(p, "Readings fell behind at ")); p++)
                warnings++;
        assert_int_equal(warnings, 1);
        assert_non_null(strstr(log, "of the last 1000 ticks: one every "));
        assert_non_null(strstr(log, "for an interval of 1ms"));
}

static int failing_read(Sensor *s, int64_t *ret) {
        return -EIO;
}

static void failing_free(Sensor *s) {
        free(s);
}

static const SensorOps failing_ops = { .read = failing_read, .free = failing_free };

static void test_failed_reading_carries_the_error_and_no_number(void **state) {
        Thermometer *t = NULL;
        Recorder r = {};
        Sensor *s = calloc(1, sizeof(*s));

        assert_non_null(s);
        s->ops = &failing_ops;
        s->name = strdup("failing");
        s->source = strdup("failing");
        assert_int_equal(thermometer_default(&t), 0);
        set_sensor(t, s);
        thermometer_set_interval(t, INTERVAL_USEC);

        watch(&r, t, true);
        run_until(&r, 2);
        assert_int_equal(r.last.error, -EIO);
        assert_int_equal(r.seqs[0], 0);
        assert_int_equal(r.seqs[1], 0);
        thermometer_remove_observer(t, &r.observer);
        thermometer_unref(t);
}

static void test_seeded_simulation_is_reproducible(void **state) {
        Sensor *a, *b, *c;
        char error[SENSOR_ERROR_MAX];
        int64_t x, y, z;
        bool differs = false;

        assert_int_equal(sensor_new("simulated:seed=42", &a, error), 0);
        assert_int_equal(sensor_new("simulated:seed=42", &b, error), 0);
        assert_int_equal(sensor_new("simulated:seed=43", &c, error), 0);
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
        sensor_unref(a);
        sensor_unref(b);
        sensor_unref(c);
}

static void test_bad_sensor_specs(void **state) {
        char error[SENSOR_ERROR_MAX];
        Sensor *s = NULL;

        assert_int_equal(sensor_new("thermocouple", &s, error), -EINVAL);
        assert_non_null(strstr(error, "unknown sensor type"));
        assert_int_equal(sensor_new("simulated:seed=x", &s, error), -EINVAL);
        assert_int_equal(sensor_new("simulated:speed=1", &s, error), -EINVAL);
        assert_null(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_default_is_a_singleton),
                cmocka_unit_test(test_ticks_only_while_an_observer_is_active),
                cmocka_unit_test(test_readings_are_data_numbered_from_one),
                cmocka_unit_test(test_every_observer_gets_the_same_readings),
                cmocka_unit_test(test_remove_another_during_a_tick),
                cmocka_unit_test(test_remove_self_during_a_tick),
                cmocka_unit_test(test_added_during_a_tick_starts_with_the_next),
                cmocka_unit_test(test_readings_taken_on_demand),
                cmocka_unit_test(test_request_for_a_slow_sensor_waits_for_its_reading),
                cmocka_unit_test(test_steadily_late_ticks_are_said),
                cmocka_unit_test(test_rescan_keeps_places_appends_new_and_marks_gone),
                cmocka_unit_test(test_rescan_takes_each_name_once),
                cmocka_unit_test(test_failed_reading_carries_the_error_and_no_number),
                cmocka_unit_test(test_seeded_simulation_is_reproducible),
                cmocka_unit_test(test_bad_sensor_specs),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
