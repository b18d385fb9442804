/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* libFuzzer's entry point; fuzz-main.c calls it once per corpus file where libFuzzer is not used. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
