/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "level.h"

static const Limits limits = {
        .low = 5000, .high = 80000, .crit = 95000,
        .low_hysteresis = 2000, .high_hysteresis = 2000, .crit_hysteresis = 2000,
        .has_low = true, .has_high = true, .has_crit = true,
};

static void test_rules_from_ok(void **state) {
        assert_int_equal(level_next(LEVEL_OK, 21000, &limits), LEVEL_OK);
        assert_int_equal(level_next(LEVEL_OK, 80000, &limits), LEVEL_HIGH);
        assert_int_equal(level_next(LEVEL_OK, 79999, &limits), LEVEL_OK);
        assert_int_equal(level_next(LEVEL_OK, 95000, &limits), LEVEL_CRIT);
        assert_int_equal(level_next(LEVEL_OK, 5000, &limits), LEVEL_LOW);
        assert_int_equal(level_next(LEVEL_OK, 5001, &limits), LEVEL_OK);
}

/* The examples of thermo-protocol(7): back from high below 78.000, from low above 7.000; from crit, 92.9
 * is high and 70 ok; from high, 4 is low. */
static void test_hysteresis_at_its_edges(void **state) {
        assert_int_equal(level_next(LEVEL_HIGH, 78000, &limits), LEVEL_HIGH);
        assert_int_equal(level_next(LEVEL_HIGH, 77999, &limits), LEVEL_OK);
        assert_int_equal(level_next(LEVEL_LOW, 7000, &limits), LEVEL_LOW);
        assert_int_equal(level_next(LEVEL_LOW, 7001, &limits), LEVEL_OK);
        assert_int_equal(level_next(LEVEL_CRIT, 93000, &limits), LEVEL_CRIT);
        assert_int_equal(level_next(LEVEL_CRIT, 92999, &limits), LEVEL_HIGH);
        assert_int_equal(level_next(LEVEL_CRIT, 92900, &limits), LEVEL_HIGH);
        assert_int_equal(level_next(LEVEL_CRIT, 70000, &limits), LEVEL_OK);
        assert_int_equal(level_next(LEVEL_HIGH, 4000, &limits), LEVEL_LOW);
        assert_int_equal(level_next(LEVEL_HIGH, 95000, &limits), LEVEL_CRIT);
        assert_int_equal(level_next(LEVEL_LOW, 85000, &limits), LEVEL_HIGH);
        assert_int_equal(level_next(LEVEL_LOW, -40000, &limits), LEVEL_LOW);
}

static void test_no_limits_no_level(void **state) {
        const Limits none = {}, high_only = { .high = 50000, .high_hysteresis = 0, .has_high = true };

        assert_int_equal(level_next(LEVEL_OK, 1000000, &none), LEVEL_OK);
        assert_int_equal(level_next(LEVEL_OK, -273000, &none), LEVEL_OK);
        /* Limits taken away (a rescan, an admin's edit): the rules alone. */
        assert_int_equal(level_next(LEVEL_CRIT, 99000, &high_only), LEVEL_HIGH);
        assert_int_equal(level_next(LEVEL_LOW, 0, &high_only), LEVEL_OK);
        assert_int_equal(level_next(LEVEL_HIGH, 49999, &high_only), LEVEL_OK);
}

static void test_names(void **state) {
        Level l;

        for (Level i = 0; i < _LEVEL_MAX; i++) {
                assert_int_equal(level_from_string(level_to_string(i), &l), 0);
                assert_int_equal(l, i);
        }
        assert_int_equal(level_from_string("hot", &l), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rules_from_ok),
                cmocka_unit_test(test_hysteresis_at_its_edges),
                cmocka_unit_test(test_no_limits_no_level),
                cmocka_unit_test(test_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
