/* SPDX-License-Identifier: MIT */
/* Many deadlines on one timer, on a real event loop: they fall due in order across lengths, never early,
 * once; setting one again moves it to the back, cancelling takes it out, a handler may set its own again,
 * and a crowd falling due at once is handled a share per wakeup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "deadline.h"

#define MSEC UINT64_C(1000)
#define CROWD 100
#define SHARE 64 /* EXPIRIES_PER_WAKEUP */

typedef struct Probe {
        Deadline deadline;
        uint64_t earliest;      /* when it may fall due at the soonest */
        uint64_t fired_at;
        unsigned fired;
        unsigned reset;         /* how many more times its handler sets it again */
} Probe;

static sd_event *e;
static Deadlines *deadlines;
static Probe *order[CROWD + 8];
static unsigned n_order;

static uint64_t now(void) {
        uint64_t t;

        assert_true(sd_event_now(e, CLOCK_MONOTONIC, &t) >= 0);
        return t;
}

static void on_due(Deadline *d) {
        Probe *p = container_of(d, Probe, deadline);

        assert_int_equal(d->due, 0);
        p->fired++;
        p->fired_at = now();
        order[n_order++] = p;
        if (p->reset > 0) {
                p->reset--;
                p->earliest = now() + 5 * MSEC;
                deadline_set(deadlines, d, 5 * MSEC);
        }
}

static void set(Probe *p, uint64_t length) {
        /* Before: the loop's clock only moves on. */
        p->earliest = now() + length;
        p->deadline.handler = on_due;
        deadline_set(deadlines, &p->deadline, length);
}

/* Runs the loop until n handlers have run, a second at most. */
static void run_until(unsigned n) {
        for (unsigned i = 0; i < 100 && n_order < n; i++)
                assert_true(sd_event_run(e, 10 * MSEC) >= 0);
        assert_int_equal(n_order, n);
}

static int setup(void **state) {
        assert_true(sd_event_new(&e) >= 0);
        assert_int_equal(deadlines_new(e, &deadlines), 0);
        n_order = 0;
        return 0;
}

static int teardown(void **state) {
        deadlines = deadlines_free(deadlines);
        e = sd_event_unref(e);
        return 0;
}

static void test_due_in_order_across_lengths_never_early(void **state) {
        Probe a = {}, b = {}, c = {};

        set(&a, 30 * MSEC);
        set(&b, 10 * MSEC);
        set(&c, 20 * MSEC);
        run_until(3);
        assert_ptr_equal(order[0], &b);
        assert_ptr_equal(order[1], &c);
        assert_ptr_equal(order[2], &a);
        for (unsigned i = 0; i < 3; i++) {
                assert_int_equal(order[i]->fired, 1);
                assert_true(order[i]->fired_at >= order[i]->earliest);
        }
        /* Once each: nothing more comes. */
        assert_int_equal(sd_event_run(e, 50 * MSEC), 0);
        assert_int_equal(n_order, 3);
}

static void test_set_again_moves_to_the_back(void **state) {
        Probe a = {}, b = {};

        set(&a, 10 * MSEC);
        set(&b, 10 * MSEC);
        set(&a, 10 * MSEC);
        run_until(2);
        assert_ptr_equal(order[0], &b);
        assert_ptr_equal(order[1], &a);
        assert_true(a.fired_at >= a.earliest);
        assert_int_equal(a.fired, 1);
}

static void test_set_again_with_another_length(void **state) {
        Probe a = {}, b = {};

        set(&a, 10 * MSEC);
        set(&b, 20 * MSEC);
        set(&a, 40 * MSEC);
        run_until(2);
        assert_ptr_equal(order[0], &b);
        assert_ptr_equal(order[1], &a);
        assert_true(a.fired_at >= a.earliest);
}

static void test_cancelled_never_fall_due(void **state) {
        Probe a = {}, b = {}, never_set = { .deadline.handler = on_due };

        set(&a, 10 * MSEC);
        set(&b, 10 * MSEC);
        deadline_cancel(deadlines, &a.deadline);
        deadline_cancel(deadlines, &a.deadline);
        deadline_cancel(deadlines, &never_set.deadline);
        run_until(1);
        assert_ptr_equal(order[0], &b);
        deadline_cancel(deadlines, &b.deadline); /* after it fell due: nothing to do */
        /* The timer is off now: the loop has nothing to dispatch. */
        assert_int_equal(sd_event_run(e, 30 * MSEC), 0);
        assert_int_equal(a.fired, 0);
        assert_int_equal(never_set.fired, 0);
}

static void test_handler_sets_its_own_again(void **state) {
        Probe a = { .reset = 2 };

        set(&a, 5 * MSEC);
        run_until(3);
        assert_int_equal(a.fired, 3);
        assert_true(a.fired_at >= a.earliest);
        assert_int_equal(sd_event_run(e, 20 * MSEC), 0);
}

static void test_a_crowd_is_handled_a_share_per_wakeup(void **state) {
        static Probe crowd[CROWD];

        for (unsigned i = 0; i < CROWD; i++) {
                crowd[i] = (Probe) {};
                set(&crowd[i], 1 * MSEC);
        }
        /* All due at once: the first wakeup takes a share, the next the rest. */
        while (n_order == 0)
                assert_true(sd_event_run(e, 10 * MSEC) >= 0);
        assert_int_equal(n_order, SHARE);
        assert_int_equal(sd_event_run(e, 10 * MSEC), 1);
        assert_int_equal(n_order, CROWD);
        for (unsigned i = 0; i < CROWD; i++) {
                assert_ptr_equal(order[i], &crowd[i]);
                assert_int_equal(crowd[i].fired, 1);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_due_in_order_across_lengths_never_early, setup, teardown),
                cmocka_unit_test_setup_teardown(test_set_again_moves_to_the_back, setup, teardown),
                cmocka_unit_test_setup_teardown(test_set_again_with_another_length, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cancelled_never_fall_due, setup, teardown),
                cmocka_unit_test_setup_teardown(test_handler_sets_its_own_again, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_crowd_is_handled_a_share_per_wakeup, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
