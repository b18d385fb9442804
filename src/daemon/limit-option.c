/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "limit-option.h"
#include "macro.h"
#include "parse.h"
#include "sensor-option.h"

int limit_override_parse(const char *s, LimitOverride *ret, const char **ret_error) {
        LimitOverride o = {};
        char copy[SENSOR_OPTION_WORDS_MAX + 1];
        int r;

        assert(s);
        assert(ret);
        assert(ret_error);

        r = sensor_option_split(s, "expected NAME:low=C,high=C,crit=C,hysteresis=C, NAME a sensor's name",
                        "expected low=C, high=C, crit=C or hysteresis=C after the name", o.name, copy, ret_error);
        if (r < 0)
                return r;
        for (char *rest = copy, *word; (word = strsep(&rest, ","));) {
                char *eq = strchr(word, '=');
                int64_t v;

                if (!eq || parse_celsius(eq + 1, &v) < 0) {
                        *ret_error = "expected low=C, high=C, crit=C or hysteresis=C, C in degrees Celsius (80, -5, "
                                     "7.5)";
                        return -EINVAL;
                }
                *eq = '\0';
                if (strcmp(word, "low") == 0) {
                        o.limits.low = v;
                        o.limits.has_low = true;
                } else if (strcmp(word, "high") == 0) {
                        o.limits.high = v;
                        o.limits.has_high = true;
                } else if (strcmp(word, "crit") == 0) {
                        o.limits.crit = v;
                        o.limits.has_crit = true;
                } else if (strcmp(word, "hysteresis") == 0) {
                        if (v < 0) {
                                *ret_error = "a hysteresis is not below 0";
                                return -EINVAL;
                        }
                        o.limits.low_hysteresis = o.limits.high_hysteresis = o.limits.crit_hysteresis = v;
                        o.has_hysteresis = true;
                } else {
                        *ret_error = "expected low=, high=, crit= or hysteresis=";
                        return -EINVAL;
                }
        }
        if ((o.limits.has_low && o.limits.has_high && o.limits.low >= o.limits.high) ||
                        (o.limits.has_high && o.limits.has_crit && o.limits.high > o.limits.crit) ||
                        (o.limits.has_low && o.limits.has_crit && o.limits.low >= o.limits.crit)) {
                *ret_error = "the limits must rise: low below high, high at crit or below";
                return -EINVAL;
        }
        *ret = o;
        return 0;
}

void limits_override(Limits *l, const LimitOverride *o) {
        assert(l);
        assert(o);

        if (o->limits.has_low) {
                l->low = o->limits.low;
                l->has_low = true;
        }
        if (o->limits.has_high) {
                l->high = o->limits.high;
                l->has_high = true;
        }
        if (o->limits.has_crit) {
                l->crit = o->limits.crit;
                l->has_crit = true;
        }
        if (o->has_hysteresis) {
                l->low_hysteresis = o->limits.low_hysteresis;
                l->high_hysteresis = o->limits.high_hysteresis;
                l->crit_hysteresis = o->limits.crit_hysteresis;
        }
}
