/* SPDX-License-Identifier: MIT */
/* A call off the event loop (offload.c): its end taken up on the loop, its data freed once, whether it was
 * cancelled before it ended, after, or not at all. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "offload.h"

typedef struct Call {
        unsigned sleep_ms;      /* how long work() takes */
        int result;             /* what it wrote */
        unsigned *freed;        /* free_data() calls, the test's: it outlives the data */
} Call;

static void work(void *data) {
        Call *c = data;

        usleep(c->sleep_ms * 1000);
        c->result = 42;
}

/* What done() saw: it is the loop's word on the call, and the data goes after it. */
typedef struct Seen {
        unsigned calls;
        int result;
} Seen;

static void done(void *data, void *userdata) {
        Call *c = data;
        Seen *seen = userdata;

        seen->calls++;
        seen->result = c->result;
}

static void free_call(void *data) {
        Call *c = data;

        __atomic_add_fetch(c->freed, 1, __ATOMIC_SEQ_CST);
        free(c);
}

static const OffloadOps ops = { .work = work, .done = done, .free_data = free_call };

static Call *call_new(unsigned sleep_ms, unsigned *freed) {
        Call *c = calloc(1, sizeof(*c));

        assert_non_null(c);
        *c = (Call) { .sleep_ms = sleep_ms, .freed = freed };
        return c;
}

/* Waits, running the loop, until *counter is want: at most 5 s. */
static void wait_for(sd_event *e, unsigned *counter, unsigned want) {
        for (int i = 0; i < 500 && __atomic_load_n(counter, __ATOMIC_SEQ_CST) != want; i++)
                assert_true(sd_event_run(e, 10 * 1000) >= 0);
        assert_int_equal(__atomic_load_n(counter, __ATOMIC_SEQ_CST), want);
}

/* Not cancelled: done() on the loop with what work() wrote, then the data freed. */
static void test_done_on_the_loop(void **state) {
        sd_event *e = NULL;
        unsigned freed = 0;
        Seen seen = {};
        Offload *o = NULL;

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(offload_start(e, &ops, call_new(20, &freed), &seen, &o), 0);
        assert_non_null(o);
        for (int i = 0; i < 500 && seen.calls == 0; i++)
                assert_true(sd_event_run(e, 10 * 1000) >= 0);
        assert_int_equal(seen.calls, 1);
        assert_int_equal(seen.result, 42);
        /* The thread may let go of it a moment after the loop. */
        wait_for(e, &freed, 1);
        sd_event_unref(e);
}

/* Cancelled while work() runs: no done(), and the thread frees the data when it ends. */
static void test_cancelled_while_it_runs(void **state) {
        sd_event *e = NULL;
        unsigned freed = 0;
        Seen seen = {};
        Offload *o = NULL;

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(offload_start(e, &ops, call_new(200, &freed), &seen, &o), 0);
        assert_null(offload_cancel(o));
        assert_int_equal(freed, 0);
        for (int i = 0; i < 50; i++)
                assert_true(sd_event_run(e, 10 * 1000) >= 0);
        wait_for(e, &freed, 1);
        assert_int_equal(seen.calls, 0);
        sd_event_unref(e);
}

/* Cancelled once work() has ended, its word not read yet: no done(), and the data freed once. */
static void test_cancelled_after_it_ended(void **state) {
        sd_event *e = NULL;
        unsigned freed = 0;
        Seen seen = {};
        Offload *o = NULL;

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(offload_start(e, &ops, call_new(0, &freed), &seen, &o), 0);
        usleep(100 * 1000);
        assert_null(offload_cancel(o));
        wait_for(e, &freed, 1);
        for (int i = 0; i < 10; i++)
                assert_true(sd_event_run(e, 10 * 1000) >= 0);
        assert_int_equal(seen.calls, 0);
        assert_int_equal(freed, 1);
        sd_event_unref(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_done_on_the_loop),
                cmocka_unit_test(test_cancelled_while_it_runs),
                cmocka_unit_test(test_cancelled_after_it_ended),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
