/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "level.h"
#include "macro.h"

static const char *const names[_LEVEL_MAX] = {
        [LEVEL_OK] = "ok",
        [LEVEL_LOW] = "low",
        [LEVEL_HIGH] = "high",
        [LEVEL_CRIT] = "crit",
};

/* The level of a reading by the rules alone, as if the sensor were at ok. */
static Level level_of(int64_t v, const Limits *l) {
        if (l->has_crit && v >= l->crit)
                return LEVEL_CRIT;
        if (l->has_high && v >= l->high)
                return LEVEL_HIGH;
        if (l->has_low && v <= l->low)
                return LEVEL_LOW;
        return LEVEL_OK;
}

Level level_next(Level level, int64_t v, const Limits *l) {
        Level rules;

        assert(l);

        rules = level_of(v, l);
        switch (level) {
        case LEVEL_CRIT:
                /* Nothing is past crit: it holds until the reading is below it by its hysteresis. */
                if (l->has_crit && v >= l->crit - l->crit_hysteresis)
                        return LEVEL_CRIT;
                return rules;
        case LEVEL_HIGH:
                /* Up to crit at once; down only below high by its hysteresis. */
                if (rules == LEVEL_CRIT || !l->has_high || v < l->high - l->high_hysteresis)
                        return rules;
                return LEVEL_HIGH;
        case LEVEL_LOW:
                /* Up to high or crit at once; back only above low by its hysteresis. */
                if (rules == LEVEL_HIGH || rules == LEVEL_CRIT || !l->has_low || v > l->low + l->low_hysteresis)
                        return rules;
                return LEVEL_LOW;
        default:
                return rules;
        }
}

const char *level_to_string(Level level) {
        assert(level >= 0 && level < _LEVEL_MAX);
        return names[level];
}

int level_from_string(const char *s, Level *ret) {
        assert(s);
        assert(ret);

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcmp(s, names[i]) == 0) {
                        *ret = (Level) i;
                        return 0;
                }
        return -EINVAL;
}
