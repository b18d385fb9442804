/* SPDX-License-Identifier: MIT */
#pragma once

#include "protocol.h"

/* What --limit and --calibrate share: "NAME:WORDS", NAME a sensor's name (thermo-protocol(7)), WORDS what
 * follows the colon, at most 255 bytes, copied out for strsep(). -EBADMSG where there is no NAME, -EINVAL
 * where nothing follows it, or too much. */
#define SENSOR_OPTION_WORDS_MAX 255
int sensor_option_split(const char *s, char name[static PROTOCOL_NAME_MAX + 1],
                        char words[static SENSOR_OPTION_WORDS_MAX + 1]);
