/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "protocol.h"

typedef enum OutputFormat {
        OUTPUT_TEXT,
        OUTPUT_JSON,
        OUTPUT_CSV,
        _OUTPUT_MAX,
} OutputFormat;

typedef enum Unit {
        UNIT_CELSIUS,
        UNIT_FAHRENHEIT,
        UNIT_KELVIN,
        _UNIT_MAX,
} Unit;

int output_format_from_string(const char *s);
int unit_from_string(const char *s);

/* The reading in the chosen unit, in thousandths, rounded to the nearest. */
int64_t unit_convert(Unit unit, int64_t millicelsius);

/* "°C", "°F", "K"; "C" and "F" where the locale is not UTF-8. */
const char *unit_symbol(Unit unit);

/* How readings are printed. */
typedef struct Output {
        FILE *f;
        OutputFormat format;
        Unit unit;
        bool named;             /* readings name their sensor: a CSV column, a JSON field */
        size_t name_width;      /* text: the names' column, 0 for none (one sensor) */
        bool header_done;       /* CSV */
        bool colors;            /* text: a reading at high or crit in colour too */
} Output;

/* Prints one reading as a whole line (CSV: with the header before the first); as text, one at high or
 * crit (its level) is marked so. */
void output_reading(Output *o, const Reading *r);
/* Prints a change of level, the reading that made it (an ALARM line), as a whole line. */
void output_alarm(Output *o, const Reading *r);
