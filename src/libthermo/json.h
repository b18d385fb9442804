/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>

/* Writes s as a JSON string, quotes included: what a label or a path holds cannot break the document, and
 * bytes that are not UTF-8 are U+FFFD. */
void json_write_string(FILE *f, const char *s);
