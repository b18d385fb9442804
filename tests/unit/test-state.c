/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "state.h"

/* Two records and what they hold, as the handover writes them; then read back. */
static void test_records_read_back_as_written(void **state) {
        _cleanup_(state_writer_done) StateWriter w = {};
        StateReader r, p;
        uint16_t type;
        char name[16];
        const char *bytes;
        size_t n, header, peer, inner;

        header = state_begin_record(&w, STATE_HEADER);
        state_put_string(&w, "thermo-state");
        state_put_u32(&w, 7);
        state_end_record(&w, header);
        peer = state_begin_record(&w, STATE_PEER);
        inner = state_begin_record(&w, STATE_SESSION);
        state_put_u8(&w, 9);
        state_end_record(&w, inner);
        state_put_u8(&w, 1);
        state_put_u64(&w, UINT64_C(0x0123456789abcdef));
        state_put_bytes(&w, "ab\0c", 4);
        state_put_bytes(&w, NULL, 0);
        state_end_record(&w, peer);
        assert_int_equal(w.error, 0);

        r = (StateReader) { .data = w.data, .size = w.size };
        assert_true(state_next_record(&r, &type, &p));
        assert_int_equal(type, STATE_HEADER);
        state_get_name(&p, name, sizeof(name) - 1);
        assert_string_equal(name, "thermo-state");
        assert_int_equal(state_get_u32(&p), 7);
        assert_int_equal(p.at, p.size);

        assert_true(state_next_record(&r, &type, &p));
        assert_int_equal(type, STATE_PEER);
        /* A record within, of the state's version. */
        p.version = 3;
        {
                StateReader q;

                assert_true(state_next_record(&p, &type, &q));
                assert_int_equal(type, STATE_SESSION);
                assert_int_equal(q.version, 3);
                assert_int_equal(state_get_u8(&q), 9);
        }
        assert_true(state_get_bool(&p));
        assert_int_equal(state_get_u64(&p), UINT64_C(0x0123456789abcdef));
        bytes = state_get_bytes(&p, 16, &n);
        assert_int_equal(n, 4);
        assert_memory_equal(bytes, "ab\0c", 4);
        (void) state_get_bytes(&p, 16, &n);
        assert_int_equal(n, 0);
        assert_int_equal(p.error, 0);
        assert_int_equal(p.at, p.size);

        assert_false(state_next_record(&r, &type, &p));
        assert_int_equal(r.error, 0);
}

/* Bytes that end early, or say what cannot be: the first error stays, and reads give 0 from then on. */
static void test_bad_bytes_are_an_error_not_a_read_past(void **state) {
        _cleanup_(state_writer_done) StateWriter w = {};
        StateReader r, p;
        uint16_t type;
        char name[4];
        size_t n, record;

        record = state_begin_record(&w, STATE_MANAGER);
        state_put_u64(&w, 42);
        state_end_record(&w, record);

        /* A record cut short: no record at all. */
        r = (StateReader) { .data = w.data, .size = w.size - 1 };
        assert_false(state_next_record(&r, &type, &p));
        assert_int_equal(r.error, -EBADMSG);

        /* Read past its end: 0, and the error. */
        r = (StateReader) { .data = w.data, .size = w.size };
        assert_true(state_next_record(&r, &type, &p));
        assert_int_equal(state_get_u64(&p), 42);
        assert_int_equal(state_get_u32(&p), 0);
        assert_int_equal(p.error, -EBADMSG);
        assert_int_equal(state_get_u8(&p), 0);

        /* A length beyond what is there, or beyond the most allowed. */
        {
                static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0x7f, 'x' };

                p = (StateReader) { .data = huge, .size = sizeof(huge) };
                assert_null(state_get_bytes(&p, SIZE_MAX, &n));
                assert_int_equal(p.error, -EBADMSG);
        }
        {
                static const uint8_t four[] = { 4, 0, 0, 0, 'a', 'b', 'c', 'd' };

                p = (StateReader) { .data = four, .size = sizeof(four) };
                assert_null(state_get_bytes(&p, 3, &n));
                assert_int_equal(p.error, -EBADMSG);
                /* A name of 4 bytes into room for 3. */
                p = (StateReader) { .data = four, .size = sizeof(four) };
                state_get_name(&p, name, sizeof(name) - 1);
                assert_string_equal(name, "");
                assert_int_equal(p.error, -EBADMSG);
        }
        {
                static const uint8_t nul[] = { 2, 0, 0, 0, 'a', '\0' }, empty[] = { 0, 0, 0, 0 }, two[] = { 2 };

                p = (StateReader) { .data = nul, .size = sizeof(nul) };
                state_get_name(&p, name, sizeof(name) - 1);
                assert_int_equal(p.error, -EBADMSG);
                p = (StateReader) { .data = empty, .size = sizeof(empty) };
                state_get_name(&p, name, sizeof(name) - 1);
                assert_int_equal(p.error, -EBADMSG);
                /* A boolean is 0 or 1. */
                p = (StateReader) { .data = two, .size = sizeof(two) };
                (void) state_get_bool(&p);
                assert_int_equal(p.error, -EBADMSG);
        }
}

/* The memfd holds the bytes from its start, sealed: nothing can change them under the next server. */
static void test_memfd_is_sealed_and_at_its_start(void **state) {
        _cleanup_(state_writer_done) StateWriter w = {};
        _cleanup_close_ int fd = -EBADF;
        char buf[16];

        state_put_string(&w, "hello");
        assert_int_equal(state_writer_to_memfd(&w, "test-state", &fd), 0);
        assert_int_equal(read(fd, buf, sizeof(buf)), 9);
        assert_memory_equal(buf, "\5\0\0\0hello", 9);
        assert_int_equal(fcntl(fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
        assert_int_equal(write(fd, "x", 1), -1);
        assert_int_equal(ftruncate(fd, 0), -1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_records_read_back_as_written),
                cmocka_unit_test(test_bad_bytes_are_an_error_not_a_read_past),
                cmocka_unit_test(test_memfd_is_sealed_and_at_its_start),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
