/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"

static char *written(const char *s) {
        static char buf[256];
        FILE *f = fmemopen(buf, sizeof(buf), "w");

        assert_non_null(f);
        json_write_string(f, s);
        fclose(f);
        return buf;
}

static void test_quotes_backslashes_and_controls_are_escaped(void **state) {
        assert_string_equal(written("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_string_equal(written("line\nnext\x7f"), "\"line\\u000anext\\u007f\"");
        assert_string_equal(written("\xc2\x85"), "\"\\u0085\""); /* C1's NEL */
}

/* JSON is UTF-8: what a server's HELLO or a label holds that is none reaches no document as it is. */
static void test_bytes_that_are_not_utf8_are_the_replacement_character(void **state) {
        assert_string_equal(written("caf\xc3\xa9 \xe2\x84\x83"), "\"caf\xc3\xa9 \xe2\x84\x83\"");
        assert_string_equal(written("a\xff" "b"), "\"a\\ufffdb\"");
        assert_string_equal(written("\xc0\xaf"), "\"\\ufffd\\ufffd\"");    /* overlong '/' */
        assert_string_equal(written("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\""); /* a surrogate */
        assert_string_equal(written("\xe2\x84"), "\"\\ufffd\\ufffd\"");    /* cut short */
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_quotes_backslashes_and_controls_are_escaped),
                cmocka_unit_test(test_bytes_that_are_not_utf8_are_the_replacement_character),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
