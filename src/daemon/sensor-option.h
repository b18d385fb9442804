/* SPDX-License-Identifier: MIT */
#pragma once

#include "protocol.h"

/* What --limit and --calibrate share: "NAME:WORDS", NAME a sensor's name (thermo-protocol(7)), WORDS what
 * follows the colon, at most 255 bytes, copied out for strsep(). -EINVAL where there is no NAME (with
 * no_name in *ret_error), or nothing follows it, or too much (no_words). */
#define SENSOR_OPTION_WORDS_MAX 255
int sensor_option_split(const char *s, const char *no_name, const char *no_words,
                        char name[static PROTOCOL_NAME_MAX + 1], char words[static SENSOR_OPTION_WORDS_MAX + 1],
                        const char **ret_error);
