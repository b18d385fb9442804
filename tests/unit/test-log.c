/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"

/* Runs f with stderr sent to a file, and returns what it wrote. */
static char *capture_stderr(void (*f)(void)) {
        static char buf[1024];
        FILE *tmp = tmpfile();
        int saved = dup(STDERR_FILENO);
        size_t n;

        assert_non_null(tmp);
        fflush(stderr);
        dup2(fileno(tmp), STDERR_FILENO);
        f();
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        rewind(tmp);
        n = fread(buf, 1, sizeof(buf) - 1, tmp);
        buf[n] = '\0';
        fclose(tmp);
        return buf;
}

static int returned;

static void log_some(void) {
        log_info("Connection from %s.", "127.0.0.1:5000");
        log_debug("Not shown at the default level.");
        returned = log_error_errno(-ECONNRESET, "Failed to read: %m");
}

static void log_structured(void) {
        log_struct(LOG_WARNING, 0, THERMO_MESSAGE_REJECTED, LOG_FIELDS("REMOTE_ADDR=[::1]:1"), "Refused %i.", 1);
}

static void test_plain_lines_have_level_prefix(void **state) {
        unsetenv("JOURNAL_STREAM");
        log_set_max_level(LOG_INFO);
        assert_string_equal(capture_stderr(log_some),
                        "info: Connection from 127.0.0.1:5000.\nerr: Failed to read: Connection reset by peer\n");
        assert_int_equal(returned, -ECONNRESET);
}

static void test_positive_errno_is_returned_negative(void **state) {
        assert_int_equal(log_warning_errno(EIO, "x"), -EIO);
        assert_int_equal(log_info("y"), 0);
}

static void test_journal_stream_of_another_file_means_plain_stderr(void **state) {
        /* stderr is not the stream JOURNAL_STREAM names: fields are dropped, the message stays. */
        setenv("JOURNAL_STREAM", "1:1", 1);
        assert_string_equal(capture_stderr(log_structured), "warning: Refused 1.\n");
        unsetenv("JOURNAL_STREAM");
}

static void test_prefix_for_commands(void **state) {
        log_set_prefix("thermo-client");
        assert_string_equal(capture_stderr(log_structured), "thermo-client: Refused 1.\n");
        log_set_prefix(NULL);
}

static void test_level_names(void **state) {
        assert_int_equal(log_level_from_string("debug"), LOG_DEBUG);
        assert_int_equal(log_level_from_string("err"), LOG_ERR);
        assert_int_equal(log_level_from_string("4"), LOG_WARNING);
        assert_int_equal(log_level_from_string("8"), -EINVAL);
        assert_int_equal(log_level_from_string("verbose"), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_plain_lines_have_level_prefix),
                cmocka_unit_test(test_positive_errno_is_returned_negative),
                cmocka_unit_test(test_journal_stream_of_another_file_means_plain_stderr),
                cmocka_unit_test(test_prefix_for_commands),
                cmocka_unit_test(test_level_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
