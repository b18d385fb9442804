/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "event-queue.h"

static EventChunk *chunk(const char *text) {
        EventChunk *c = event_chunk_new(strdup(text), strlen(text));

        assert_non_null(c);
        return c;
}

/* One chunk in two queues: the same bytes to each, taken in pieces of any size, freed with the last. */
static void test_shared_and_taken_in_pieces(void **state) {
        EventChunk *a = chunk("id: 1\n\n"), *b = chunk("id: 2\n\n");
        EventQueue q1 = {}, q2 = {};
        char buf[64];

        assert_int_equal(event_queue_push(&q1, a, EVENT_QUEUE_TICKS, 1024), 0);
        assert_int_equal(event_queue_push(&q2, a, EVENT_QUEUE_TICKS, 1024), 0);
        assert_int_equal(event_queue_push(&q1, b, EVENT_QUEUE_TICKS, 1024), 0);
        event_chunk_unref(a);
        event_chunk_unref(b);
        assert_int_equal(q1.bytes, 14);

        assert_int_equal(event_queue_take(&q1, buf, 3), 3);
        assert_memory_equal(buf, "id:", 3);
        assert_int_equal(event_queue_take(&q1, buf, sizeof(buf)), 11);
        assert_memory_equal(buf, " 1\n\nid: 2\n\n", 11);
        assert_true(event_queue_is_empty(&q1));
        assert_int_equal(q1.bytes, 0);
        assert_int_equal(event_queue_take(&q1, buf, sizeof(buf)), 0);

        assert_int_equal(event_queue_take(&q2, buf, sizeof(buf)), 7);
        assert_memory_equal(buf, "id: 1\n\n", 7);
        assert_true(event_queue_is_empty(&q2));
}

/* Full, in bytes or in slots: nothing queued, and -ENOBUFS; what is queued is untouched. */
static void test_bounded(void **state) {
        EventChunk *c = chunk("0123456789");
        EventQueue q = {};
        char buf[512];

        assert_int_equal(event_queue_push(&q, c, EVENT_QUEUE_TICKS, 25), 0);
        assert_int_equal(event_queue_push(&q, c, EVENT_QUEUE_TICKS, 25), 0);
        assert_int_equal(event_queue_push(&q, c, EVENT_QUEUE_TICKS, 25), -ENOBUFS);
        assert_int_equal(q.n, 2);
        assert_int_equal(q.bytes, 20);
        /* Room again once some is taken. */
        assert_int_equal(event_queue_take(&q, buf, 5), 5);
        assert_int_equal(event_queue_push(&q, c, EVENT_QUEUE_TICKS, 25), 0);
        assert_int_equal(event_queue_take(&q, buf, sizeof(buf)), 25);
        assert_memory_equal(buf, "567890123456789012345678", 24);

        for (size_t i = 0; i < EVENT_QUEUE_TICKS; i++)
                assert_int_equal(event_queue_push(&q, c, EVENT_QUEUE_TICKS, SIZE_MAX), 0);
        assert_int_equal(event_queue_push(&q, c, EVENT_QUEUE_TICKS, SIZE_MAX), -ENOBUFS);
        for (size_t i = EVENT_QUEUE_TICKS; i < EVENT_QUEUE_SLOTS; i++)
                assert_int_equal(event_queue_push(&q, c, EVENT_QUEUE_SLOTS, SIZE_MAX), 0);
        assert_int_equal(event_queue_push(&q, c, EVENT_QUEUE_SLOTS, SIZE_MAX), -ENOBUFS);
        /* Around the ring: taken in order. */
        assert_int_equal(event_queue_take(&q, buf, 15), 15);
        assert_int_equal(event_queue_push(&q, c, EVENT_QUEUE_SLOTS, SIZE_MAX), 0);
        assert_int_equal(event_queue_take(&q, buf, sizeof(buf)), EVENT_QUEUE_SLOTS * 10 - 15 + 10);
        assert_memory_equal(buf, "56789", 5);
        assert_true(event_queue_is_empty(&q));
        event_chunk_unref(c);
}

/* An event larger than the capacity still goes, alone. */
static void test_larger_than_capacity(void **state) {
        EventChunk *c = chunk("0123456789");
        EventQueue q = {};
        char buf[16];

        assert_int_equal(event_queue_push(&q, c, EVENT_QUEUE_TICKS, 4), 0);
        assert_int_equal(event_queue_push(&q, c, EVENT_QUEUE_TICKS, 4), -ENOBUFS);
        assert_int_equal(event_queue_take(&q, buf, sizeof(buf)), 10);
        event_chunk_unref(c);
}

/* Cleared with chunks half taken: every reference let go (the sanitizers' leak check says so). */
static void test_clear(void **state) {
        EventChunk *c = chunk("abc");
        EventQueue q = {};
        char buf[2];

        assert_int_equal(event_queue_push(&q, c, EVENT_QUEUE_TICKS, 100), 0);
        assert_int_equal(event_queue_push(&q, c, EVENT_QUEUE_TICKS, 100), 0);
        event_chunk_unref(c);
        assert_int_equal(event_queue_take(&q, buf, 2), 2);
        event_queue_clear(&q);
        assert_true(event_queue_is_empty(&q));
        assert_int_equal(q.bytes, 0);
        assert_int_equal(q.offset, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shared_and_taken_in_pieces),
                cmocka_unit_test(test_bounded),
                cmocka_unit_test(test_larger_than_capacity),
                cmocka_unit_test(test_clear),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
