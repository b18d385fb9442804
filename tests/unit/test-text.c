/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "text.h"

static void test_printable(void **state) {
        assert_true(text_is_printable(""));
        assert_true(text_is_printable("TEMP 1 1795739279170 21.375 cpu"));
        assert_true(text_is_printable("SENSOR cellar file:/run/1-wire/28-000005e2fdc3/temperature"));
        assert_true(text_is_printable("21.375 \xc2\xb0" "C, Gr\xc3\xbc\xc3\x9f" "e, \xe2\x82\xac, \xf0\x9f\x8c\xa1"));

        /* C0, DEL and C1 (in UTF-8 as terminals read it): the stuff of escape sequences. */
        assert_false(text_is_printable("ERR 400 \x1b]0;pwned\x07"));
        assert_false(text_is_printable("tab\there"));
        assert_false(text_is_printable("cr\r"));
        assert_false(text_is_printable("del\x7f"));
        assert_false(text_is_printable("csi \xc2\x9b" "2J"));
        assert_false(text_is_printable("osc \xc2\x9d" "52;c;Zm9v\xc2\x9c"));

        /* Not UTF-8: raw C1, a lone continuation byte, a cut sequence, overlong, surrogate, past U+10FFFF. */
        assert_false(text_is_printable("\x9b" "2J"));
        assert_false(text_is_printable("\x80"));
        assert_false(text_is_printable("\xe2\x82"));
        assert_false(text_is_printable("\xc0\xaf"));
        assert_false(text_is_printable("\xe0\x80\xaf"));
        assert_false(text_is_printable("\xed\xa0\x80"));
        assert_false(text_is_printable("\xf4\x90\x80\x80"));
}

static void test_escape(void **state) {
        char buf[64];

        assert_string_equal(text_escape("plain \xc2\xb0" "C", buf, sizeof(buf)), "plain \xc2\xb0" "C");
        assert_string_equal(text_escape("\x1b]0;x\x07", buf, sizeof(buf)), "\\x1b]0;x\\x07");
        assert_string_equal(text_escape("a\\b", buf, sizeof(buf)), "a\\\\b");
        assert_string_equal(text_escape("\xc2\x9b" "2J", buf, sizeof(buf)), "\\xc2\\x9b2J");
        assert_string_equal(text_escape("\xe2\x82", buf, sizeof(buf)), "\\xe2\\x82");
        /* Cut to fit, never in the middle of an escape. */
        assert_string_equal(text_escape("ab\x1b", buf, 6), "ab");
        assert_string_equal(text_escape("abcdef", buf, 4), "abc");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_printable),
                cmocka_unit_test(test_escape),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
