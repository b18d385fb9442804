/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "protocol.h"

/* Request bytes waiting to be split into lines: one read's worth and a partial line at most, so that a
 * connection's input memory is fixed. */
#define LINE_BUFFER_READ_MAX 4096
#define LINE_BUFFER_SIZE (LINE_BUFFER_READ_MAX + PROTOCOL_LINE_MAX)

typedef struct LineBuffer {
        char data[LINE_BUFFER_SIZE];
        size_t start, end;
} LineBuffer;

static inline size_t line_buffer_room(const LineBuffer *b) {
        return LINE_BUFFER_SIZE - (b->end - b->start);
}

/* Appends all n bytes, or none: -ENOBUFS when they do not fit. */
int line_buffer_append(LineBuffer *b, const char *data, size_t n);

/* Takes the next line (without "\n" or "\r\n"); valid until the next append. Returns 1 with a line,
 * 0 when none is complete, -EMSGSIZE when the line is longer than the protocol allows. At end of input
 * (eof), what is left is the last line, terminator or not, as readline() has it; then -EPIPE. */
int line_buffer_next(LineBuffer *b, bool eof, const char **ret_line, size_t *ret_length);
