/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/* Whether to use colour and cursor movement on fd, as systemd's tools decide: only on a terminal that is
 * not "dumb", and never with NO_COLOR set (https://no-color.org). */
bool terminal_colors(int fd);

/* Writes s as it is but for control characters (an escape could move the cursor, set the window's title
 * or the clipboard): those as "?". For what a server says, on a terminal or in a pipe. */
void terminal_write_safe(FILE *f, const char *s);

/* The terminal's size on fd; false when fd is no terminal. */
bool terminal_size(int fd, unsigned *ret_columns, unsigned *ret_lines);
