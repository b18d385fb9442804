/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* What a client sends is lines: each ends with "\n", a "\r" just before it is ignored, and none is longer
 * than this, its terminator included. */
#define LINE_MAX_BYTES 512

/* Finds the first line in buf. Returns the bytes it takes, terminator included, with its length without
 * "\n" or "\r\n" in *ret_length; 0 when no line is complete yet; -EMSGSIZE when LINE_MAX_BYTES have come
 * without a "\n". */
int line_next(const char *buf, size_t n, size_t *ret_length);

/* Whether a line (n bytes, without its terminator) holds nothing but spaces and tabs: no request, and so
 * no sign of life from the client either. */
bool line_is_blank(const char *line, size_t n);
