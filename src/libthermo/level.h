/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Where a reading puts its sensor against its limits (thermo-protocol(7), "Limits and alarms"), and the
 * rules that say so, with their hysteresis. No I/O here: the thermometer applies them at each tick, the
 * client reads them back from LIMIT and ALARM lines. */
typedef enum Level {
        LEVEL_OK,
        LEVEL_LOW,
        LEVEL_HIGH,
        LEVEL_CRIT,
        _LEVEL_MAX,
} Level;

/* Millidegrees Celsius. A limit a sensor does not have is not set; each has the hysteresis a reading must
 * go past it by to leave its level (2 °C where neither the hardware nor the admin says). */
typedef struct Limits {
        int64_t low, high, crit;
        int64_t low_hysteresis, high_hysteresis, crit_hysteresis;
        bool has_low:1, has_high:1, has_crit:1;
} Limits;

#define LEVEL_HYSTERESIS_DEFAULT 2000
/* No limit yet, and the default hysteresis for any that a --limit gives without one. */
#define LIMITS_NONE                                                                     \
        ((Limits) { .low_hysteresis = LEVEL_HYSTERESIS_DEFAULT, .high_hysteresis = LEVEL_HYSTERESIS_DEFAULT, \
                    .crit_hysteresis = LEVEL_HYSTERESIS_DEFAULT })

static inline bool limits_any(const Limits *l) {
        return l->has_low || l->has_high || l->has_crit;
}

/* The level a reading of millicelsius puts a sensor at that was at level: crit at or above crit, else high
 * at or above high, else low at or below low, else ok; but a sensor leaves its level only once the reading
 * is past that level's limit by its hysteresis, for whichever level the rules then give. */
Level level_next(Level level, int64_t millicelsius, const Limits *limits);

/* "ok", "low", "high", "crit", as the protocol writes them. */
const char *level_to_string(Level level);
/* The reverse: -EINVAL for any other word. */
int level_from_string(const char *s, Level *ret);
