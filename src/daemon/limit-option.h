/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "level.h"
#include "protocol.h"

/* A sensor's limits come from its hardware (an hwmon input's _min, _max, _crit and their _hyst, a thermal
 * zone's trip points: sensor-sysfs.c), and from the admin, whose word takes precedence: one --limit each,
 * "NAME:low=C,high=C,crit=C,hysteresis=C", any subset. */
typedef struct LimitOverride {
        char name[PROTOCOL_NAME_MAX + 1];
        Limits limits;                  /* the limits given: has_* say which */
        bool has_hysteresis;            /* then limits' three hysteresis hold it */
} LimitOverride;

/* -EINVAL for what is no such option, with *ret_error saying why, for the usage message. */
int limit_override_parse(const char *s, LimitOverride *ret, const char **ret_error);

/* The admin's limits over the hardware's: each one given replaces the hardware's, and a hysteresis given
 * is that of every limit. */
void limits_override(Limits *limits, const LimitOverride *o);
