/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Whether s (n bytes) is one JSON value and nothing else (RFC 8259): what a harness checks a payload by. */
bool json_check(const char *s, size_t n);
