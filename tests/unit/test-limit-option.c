/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "limit-option.h"

static void test_parse_any_subset(void **state) {
        const char *error = NULL;
        LimitOverride o;

        assert_int_equal(limit_override_parse("cellar:low=5,high=18.5", &o, &error), 0);
        assert_string_equal(o.name, "cellar");
        assert_true(o.limits.has_low && o.limits.has_high && !o.limits.has_crit && !o.has_hysteresis);
        assert_int_equal(o.limits.low, 5000);
        assert_int_equal(o.limits.high, 18500);
        assert_int_equal(limit_override_parse("cpu:crit=95,hysteresis=0.5", &o, &error), 0);
        assert_true(o.limits.has_crit && o.has_hysteresis);
        assert_int_equal(o.limits.crit_hysteresis, 500);
        assert_int_equal(o.limits.high_hysteresis, 500);
}

static void test_bad_ones_say_why(void **state) {
        static const char *const bad[] = {
                "cpu", "cpu:", "Cpu:high=80", ":high=80", "cpu:hot=80", "cpu:high=eighty", "cpu:high=80,,crit=90",
                "cpu:high=90,crit=80", "cpu:low=20,high=10", "cpu:hysteresis=-1", "cpu:high",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                const char *error = NULL;
                LimitOverride o;

                if (limit_override_parse(bad[i], &o, &error) != -EINVAL || !error)
                        fail_msg("'%s' was taken", bad[i]);
        }
}

/* Each limit given replaces the hardware's, the others stay; a hysteresis given is every limit's. */
static void test_override(void **state) {
        Limits l = LIMITS_NONE;
        const char *error;
        LimitOverride o;

        l.high = 80000;
        l.crit = 100000;
        l.has_high = l.has_crit = true;
        l.crit_hysteresis = 5000;
        assert_int_equal(limit_override_parse("x:high=70,low=-10", &o, &error), 0);
        limits_override(&l, &o);
        assert_true(l.has_low && l.has_high && l.has_crit);
        assert_int_equal(l.low, -10000);
        assert_int_equal(l.high, 70000);
        assert_int_equal(l.crit, 100000);
        assert_int_equal(l.crit_hysteresis, 5000);
        assert_int_equal(l.high_hysteresis, LEVEL_HYSTERESIS_DEFAULT);
        assert_int_equal(limit_override_parse("x:hysteresis=1", &o, &error), 0);
        limits_override(&l, &o);
        assert_int_equal(l.crit_hysteresis, 1000);
        assert_int_equal(l.low_hysteresis, 1000);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_any_subset),
                cmocka_unit_test(test_bad_ones_say_why),
                cmocka_unit_test(test_override),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
