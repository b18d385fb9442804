/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "send-queue.h"

static void test_no_queue_until_something_is_queued(void **state) {
        SendQueue *q = NULL;

        assert_int_equal(send_queue_size(q), 0);
        assert_int_equal(send_queue_append(&q, "hello", 5, 10), 0);
        assert_non_null(q);
        assert_int_equal(send_queue_append(&q, "world", 5, 10), 0);
        assert_int_equal(send_queue_size(q), 10);
        q = send_queue_free(q);
        assert_null(q);
}

static void test_append_that_does_not_fit_queues_nothing(void **state) {
        SendQueue *q = NULL;

        assert_int_equal(send_queue_append(&q, "12345", 5, 8), 0);
        assert_int_equal(send_queue_append(&q, "6789", 4, 8), -ENOBUFS);
        assert_int_equal(send_queue_size(q), 5);
        assert_int_equal(send_queue_append(&q, "678", 3, 8), 0);
        assert_int_equal(send_queue_size(q), 8);
        send_queue_free(q);
}

static void test_appendv_queues_every_piece_in_order_or_none(void **state) {
        const struct iovec three[] = {
                { .iov_base = (void *) "1F", .iov_len = 2 },
                { .iov_base = NULL, .iov_len = 0 },
                { .iov_base = (void *) "topic{}", .iov_len = 7 },
        };
        SendQueue *q = NULL;

        assert_int_equal(send_queue_append(&q, "x", 1, 12), 0);
        assert_int_equal(send_queue_appendv(&q, three, 3, 12), 0);
        assert_int_equal(send_queue_size(q), 10);
        assert_memory_equal(send_queue_data(q), "x1Ftopic{}", 10);
        /* Nine more would take it past 12: none of them is queued, not even the first piece that fits. */
        assert_int_equal(send_queue_appendv(&q, three, 3, 12), -ENOBUFS);
        assert_int_equal(send_queue_size(q), 10);
        assert_int_equal(send_queue_appendv(&q, three, 1, 12), 0);
        assert_memory_equal(send_queue_data(q), "x1Ftopic{}1F", 12);
        send_queue_free(q);
}

static void test_memory_stays_within_capacity(void **state) {
        char chunk[100];
        SendQueue *q = NULL;

        memset(chunk, 'x', sizeof(chunk));
        for (int i = 0; i < 10000; i++)
                (void) send_queue_append(&q, chunk, sizeof(chunk), 64 * 1024);
        assert_int_equal(send_queue_size(q), 64 * 1024 / 100 * 100);
        /* The queue and its few bytes of bookkeeping, no more. */
        assert_true(malloc_usable_size(q) <= 64 * 1024 + 64);
        send_queue_free(q);
}

static void test_flush_sends_in_order_and_frees_when_drained(void **state) {
        char got[16] = {};
        SendQueue *q = NULL;
        int sv[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(send_queue_append(&q, "TEMP 1\nTEMP 2\n", 14, 64), 0);
        assert_int_equal(send_queue_flush(&q, sv[0]), 0);
        /* Drained: a client that lagged once does not keep its buffer. */
        assert_null(q);
        assert_int_equal(read(sv[1], got, sizeof(got)), 14);
        assert_string_equal(got, "TEMP 1\nTEMP 2\n");

        close(sv[1]);
        assert_int_equal(send_queue_append(&q, "x", 1, 64), 0);
        assert_int_equal(send_queue_flush(&q, sv[0]), -EPIPE);
        assert_int_equal(send_queue_size(q), 1);
        close(sv[0]);
        send_queue_free(q);
}

static void test_flush_keeps_what_the_socket_does_not_take(void **state) {
        int sv[2], small = 4096;
        char chunk[1000], got[1000];
        SendQueue *q = NULL;
        size_t queued, total = 0;
        int left;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
        assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
        for (int i = 0; i < 200; i++) {
                memset(chunk, 'a' + i % 26, sizeof(chunk));
                assert_int_equal(send_queue_append(&q, chunk, sizeof(chunk), 1 << 20), 0);
        }
        left = send_queue_flush(&q, sv[0]);
        assert_true(left > 0);
        queued = (size_t) left;
        assert_int_equal(send_queue_size(q), queued);

        /* Read it all back, flushing as room appears: every byte once, in order. */
        while (total < 200 * sizeof(chunk)) {
                ssize_t n = read(sv[1], got, sizeof(got));

                if (n < 0) {
                        assert_int_equal(errno, EAGAIN);
                        assert_true(send_queue_flush(&q, sv[0]) >= 0);
                        continue;
                }
                for (ssize_t k = 0; k < n; k++)
                        assert_int_equal(got[k], 'a' + (int) ((total + (size_t) k) / sizeof(chunk)) % 26);
                total += (size_t) n;
        }
        assert_null(q);
        close(sv[0]);
        close(sv[1]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_no_queue_until_something_is_queued),
                cmocka_unit_test(test_append_that_does_not_fit_queues_nothing),
                cmocka_unit_test(test_appendv_queues_every_piece_in_order_or_none),
                cmocka_unit_test(test_memory_stays_within_capacity),
                cmocka_unit_test(test_flush_sends_in_order_and_frees_when_drained),
                cmocka_unit_test(test_flush_keeps_what_the_socket_does_not_take),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
