/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "history.h"

#define USEC 1000000ULL

static void add(History *h, uint64_t seq, uint64_t now, const int64_t *values, size_t n) {
        Reading r[8] = {};

        for (size_t i = 0; i < n; i++) {
                r[i] = (Reading) { .seq = seq, .time_ms = 1700000000000 + seq * 1000, .millicelsius = values[i] };
                if (values[i] == INT64_MIN)
                        r[i].error = -EIO;
        }
        history_add(h, now, r, n);
}

static void assert_reading(History *h, uint64_t seq, size_t sensor, int64_t value) {
        Reading r;

        assert_int_equal(history_reading(h, seq, sensor, &r), 0);
        assert_int_equal(r.seq, seq);
        assert_int_equal(r.time_ms, 1700000000000 + seq * 1000);
        if (value == INT64_MIN)
                assert_int_equal(r.error, -ENODATA);
        else {
                assert_int_equal(r.error, 0);
                assert_int_equal(r.millicelsius, value);
        }
}

static void test_ticks_in_order_found_after_a_seq(void **state) {
        History *h = NULL;
        uint64_t oldest, newest, seq;

        assert_int_equal(history_new(10 * USEC, USEC, 2, &h), 0);
        history_bounds(h, &oldest, &newest);
        assert_int_equal(oldest, 0);
        assert_int_equal(newest, 0);
        assert_false(history_find_after(h, 0, &seq));

        add(h, 5, 100 * USEC, (int64_t[]) { 21000, -5250 }, 2);
        add(h, 6, 101 * USEC, (int64_t[]) { 21125, INT64_MIN }, 2);
        add(h, 9, 102 * USEC, (int64_t[]) { -273000, 999999 }, 2); /* seqs skipped by on-demand-free gaps */
        history_bounds(h, &oldest, &newest);
        assert_int_equal(oldest, 5);
        assert_int_equal(newest, 9);

        assert_true(history_find_after(h, 0, &seq));
        assert_int_equal(seq, 5);
        assert_true(history_find_after(h, 5, &seq));
        assert_int_equal(seq, 6);
        assert_true(history_find_after(h, 7, &seq));
        assert_int_equal(seq, 9);
        assert_false(history_find_after(h, 9, &seq));
        assert_false(history_find_after(h, UINT64_MAX, &seq));

        assert_reading(h, 5, 0, 21000);
        assert_reading(h, 5, 1, -5250);
        assert_reading(h, 6, 1, INT64_MIN);
        assert_reading(h, 9, 0, -273000);
        assert_reading(h, 9, 1, 999999);
        {
                Reading r;

                assert_int_equal(history_reading(h, 7, 0, &r), -ENOENT);
                assert_int_equal(history_reading(h, 0, 0, &r), -ENOENT);
                assert_int_equal(history_reading(h, 5, 2, &r), -ENXIO);
        }
        history_free(h);
}

static void test_the_span_and_the_room_bound_it(void **state) {
        History *h = NULL;
        uint64_t oldest, newest;

        /* 10 s at 1 s: 11 ticks. */
        assert_int_equal(history_new(10 * USEC, USEC, 1, &h), 0);
        for (uint64_t seq = 1; seq <= 30; seq++)
                add(h, seq, seq * USEC, (int64_t[]) { (int64_t) seq }, 1);
        history_bounds(h, &oldest, &newest);
        assert_int_equal(oldest, 20);
        assert_int_equal(newest, 30);

        /* Ticks on demand, ten a second: the room, not the span, bounds them. */
        for (uint64_t seq = 31; seq <= 60; seq++)
                add(h, seq, 30 * USEC + (seq - 30) * USEC / 10, (int64_t[]) { (int64_t) seq }, 1);
        history_bounds(h, &oldest, &newest);
        assert_int_equal(oldest, 50);
        assert_int_equal(newest, 60);

        /* Nothing added for long: what is older than the span goes all the same. */
        history_expire(h, 50 * USEC);
        history_bounds(h, &oldest, &newest);
        assert_int_equal(oldest, 0);
        assert_int_equal(newest, 0);
        history_free(h);

        /* Off: nothing held, ever. */
        assert_int_equal(history_new(0, USEC, 3, &h), 0);
        add(h, 1, USEC, (int64_t[]) { 1, 2, 3 }, 3);
        history_bounds(h, &oldest, &newest);
        assert_int_equal(newest, 0);
        assert_int_equal(history_resize(h, 5), 0);
        history_free(h);
}

static void test_a_rescan_widens_what_is_held(void **state) {
        History *h = NULL;
        Reading r;

        assert_int_equal(history_new(100 * USEC, USEC, 1, &h), 0);
        /* Wrapped once, so that the ring's first slot is not its oldest. */
        for (uint64_t seq = 1; seq <= 150; seq++)
                add(h, seq, seq * USEC / 2, (int64_t[]) { (int64_t) seq * 10 }, 1);
        assert_int_equal(history_resize(h, 3), 0);
        assert_reading(h, 50, 0, 500);
        assert_reading(h, 150, 0, 1500);
        assert_int_equal(history_reading(h, 150, 1, &r), -ENXIO);
        add(h, 151, 76 * USEC, (int64_t[]) { 1510, 1, INT64_MIN }, 3);
        assert_reading(h, 151, 1, 1);
        assert_reading(h, 151, 2, INT64_MIN);
        assert_int_equal(history_reading(h, 149, 2, &r), -ENXIO);
        history_free(h);
}

/* A slow sensor's line has the time its thread read it at, not the tick's: held so. */
static void test_each_line_keeps_its_time(void **state) {
        History *h = NULL;
        Reading r[2] = {
                { .seq = 7, .time_ms = 1700000007000, .millicelsius = 21000 },
                { .seq = 7, .time_ms = 1700000006250, .millicelsius = 33000 },
        }, got;

        assert_int_equal(history_new(10 * USEC, USEC, 2, &h), 0);
        history_add(h, USEC, r, 2);
        assert_int_equal(history_reading(h, 7, 0, &got), 0);
        assert_int_equal(got.time_ms, 1700000007000);
        assert_int_equal(history_reading(h, 7, 1, &got), 0);
        assert_int_equal(got.time_ms, 1700000006250);
        assert_int_equal(got.millicelsius, 33000);
        history_free(h);
}

/* 20 sensors, 10 minutes at 100 ms: 120,000 readings, in at most 2 MiB, and at most 16 bytes a reading. */
static void test_a_full_history_is_compact(void **state) {
        History *h = NULL;
        int64_t values[8] = {};

        assert_int_equal(history_new(600 * USEC, USEC / 10, 20, &h), 0);
        for (uint64_t seq = 1; seq <= 7000; seq++)
                add(h, seq, seq * USEC / 10, values, 8);
        assert_true(history_memory(h) <= 2 * 1024 * 1024);
        assert_true(history_memory(h) <= 16 * 20 * 6001);
        history_free(h);
}

/* Across a restart: the ticks as they were, each sensor where the new server has it (one gone, one new),
 * as many of the newest as the new history has room for. */
static void test_held_ticks_go_across_a_restart(void **state) {
        _cleanup_(state_writer_done) StateWriter w = {};
        History *old = NULL, *h = NULL;
        int32_t map[] = { 1, -1, 0 };
        SensorMap m = { .map = map, .n = 3 };
        uint64_t oldest, newest;
        StateReader r, p;
        uint16_t type;
        Reading got;

        assert_int_equal(history_new(10 * USEC, USEC, 3, &old), 0);
        for (uint64_t seq = 1; seq <= 5; seq++)
                add(old, seq, seq * USEC, (const int64_t[]) { 1000 * (int64_t) seq, 2000, seq == 4 ? INT64_MIN : 3000 }, 3);
        history_serialize(old, &w);
        assert_int_equal(w.error, 0);

        /* Room for 3 ticks of 3 sensors: the last three, sensor 0 where the old sensor 2 was. */
        assert_int_equal(history_new(2 * USEC, USEC, 3, &h), 0);
        r = (StateReader) { .data = w.data, .size = w.size };
        assert_true(state_next_record(&r, &type, &p));
        assert_int_equal(type, STATE_HISTORY);
        history_deserialize(h, &p, &m, 5, 5 * USEC);
        assert_int_equal(p.error, 0);
        history_bounds(h, &oldest, &newest);
        assert_int_equal(oldest, 3);
        assert_int_equal(newest, 5);
        assert_reading(h, 5, 1, 5000);
        assert_reading(h, 4, 0, INT64_MIN);
        assert_reading(h, 3, 0, 3000);
        assert_int_equal(history_reading(h, 5, 2, &got), -ENXIO);

        /* Past the thermometer's seq, or cut short: an error, not a read past. */
        history_free(h);
        assert_int_equal(history_new(10 * USEC, USEC, 3, &h), 0);
        p.at = 0;
        history_deserialize(h, &p, &m, 4, 5 * USEC);
        assert_int_equal(p.error, -EBADMSG);
        history_free(h);
        assert_int_equal(history_new(10 * USEC, USEC, 3, &h), 0);
        p.at = 0;
        p.error = 0;
        p.size -= 3;
        history_deserialize(h, &p, &m, 5, 5 * USEC);
        assert_int_equal(p.error, -EBADMSG);
        history_free(h);
        history_free(old);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ticks_in_order_found_after_a_seq),
                cmocka_unit_test(test_the_span_and_the_room_bound_it),
                cmocka_unit_test(test_a_rescan_widens_what_is_held),
                cmocka_unit_test(test_each_line_keeps_its_time),
                cmocka_unit_test(test_a_full_history_is_compact),
                cmocka_unit_test(test_held_ticks_go_across_a_restart),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
