/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "level.h"

/* One reading of one sensor, as data: what the thermometer hands its observers, what a front end formats
 * for its clients, and what thermo-client parses back from a TEMP line. */
typedef struct Reading {
        const char *sensor;     /* the sensor's name; NULL where a line names none (the default sensor) */
        uint64_t seq;           /* the tick's number: every reading of one tick has the same */
        uint64_t time_ms;       /* when it was taken: milliseconds since the epoch (CLOCK_REALTIME) */
        int64_t millicelsius;
        int error;              /* 0, or why the sensor gave no value (a negative errno); then only sensor
                                 * and seq mean anything */
        Level level;            /* where this tick leaves the sensor against its limits (level.h) */
        bool alarm;             /* this tick changed its level */
} Reading;

/* 21375 -> "21.375", -4000 -> "-4.000", -500 -> "-0.500": exactly three decimals, without a float.
 * Returns the length written (truncated to fit size). */
size_t format_millidegrees(char *buf, size_t size, int64_t milli);

/* A limit as lists show it: its millidegrees, or none ("-" for a table, "null" for JSON) where there is
 * no such limit. Returns buf. */
const char *format_limit(char buf[static 32], bool has, int64_t milli, const char *none);
