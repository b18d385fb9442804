/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "calibration.h"

static void test_apply(void **state) {
        const Calibration none = {}, offset = { .offset = -1500 }, scale = { .scale = 1020000 },
                          both = { .offset = 250, .scale = 500000 };
        int64_t v;

        assert_true(calibration_is_none(&none));
        assert_int_equal(calibration_apply(&none, 21375, &v), 0);
        assert_int_equal(v, 21375);
        assert_int_equal(calibration_apply(&offset, 21375, &v), 0);
        assert_int_equal(v, 19875);
        assert_int_equal(calibration_apply(&scale, 21375, &v), 0);
        assert_int_equal(v, 21803); /* 21802.5, rounded away from zero */
        assert_int_equal(calibration_apply(&scale, -21375, &v), 0);
        assert_int_equal(v, -21803);
        assert_int_equal(calibration_apply(&both, 20001, &v), 0);
        assert_int_equal(v, 10251);
        /* Past what a thermometer says: no reading. */
        assert_int_equal(calibration_apply(&(Calibration) { .scale = 1000000000 }, 21000, &v), -ERANGE);
        assert_int_equal(calibration_apply(&(Calibration) { .offset = -300000 }, 0, &v), -ERANGE);
}

static void test_parse(void **state) {
        static const char *const bad[] = {
                "x", "x:", "X:offset=1", "x:offset=", "x:offset=1.2345", "x:scale=0", "x:scale=-1", "x:scale=1.0000001",
                "x:scale=1001", "x:gain=2", "x:offset=1,,scale=2",
        };
        const char *error = NULL;
        CalibrationOption o;

        assert_int_equal(calibration_option_parse("cellar:offset=-0.5,scale=1.02", &o, &error), 0);
        assert_string_equal(o.name, "cellar");
        assert_int_equal(o.calibration.offset, -500);
        assert_int_equal(o.calibration.scale, 1020000);
        assert_int_equal(calibration_option_parse("cpu:scale=0.5", &o, &error), 0);
        assert_int_equal(o.calibration.offset, 0);
        assert_int_equal(o.calibration.scale, 500000);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (calibration_option_parse(bad[i], &o, &error) != -EINVAL)
                        fail_msg("'%s' was taken", bad[i]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_apply),
                cmocka_unit_test(test_parse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
