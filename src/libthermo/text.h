/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Text from the network, before it reaches a terminal: a server's line may hold anything, and an escape
 * sequence (OSC, CSI) on a terminal can set its title, write the clipboard or move the cursor. */

/* The UTF-8 character at s (NUL-terminated): its length, and its code point in *ret; 0 for a byte that
 * starts no character, an overlong form, a surrogate, or past U+10FFFF. */
size_t text_utf8_char(const char *s, uint32_t *ret);

/* Whether s is valid UTF-8 without control characters: none of C0 (tab included), DEL or C1, which
 * terminals read in their UTF-8 form too. */
bool text_is_printable(const char *s);

/* s with every byte that is not printable text (as above) written as \xNN, and backslashes as \\; cut
 * to fit size. Returns buf. */
const char *text_escape(const char *s, char *buf, size_t size);
