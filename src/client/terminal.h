/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/* Whether to use colour and cursor movement on fd, as systemd's tools decide: only on a terminal that is
 * not "dumb", and never with NO_COLOR set (https://no-color.org). */
bool terminal_colors(int fd);

/* The terminal's size on fd; false when fd is no terminal. */
bool terminal_size(int fd, unsigned *ret_columns, unsigned *ret_lines);
