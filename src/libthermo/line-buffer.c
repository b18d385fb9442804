/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "line-buffer.h"

int line_buffer_append(LineBuffer *b, const char *data, size_t n) {
        if (n > line_buffer_room(b))
                return -ENOBUFS;
        if (b->end + n > LINE_BUFFER_SIZE) {
                memmove(b->data, b->data + b->start, b->end - b->start);
                b->end -= b->start;
                b->start = 0;
        }
        memcpy(b->data + b->end, data, n);
        b->end += n;
        return 0;
}

int line_buffer_next(LineBuffer *b, bool eof, const char **ret_line, size_t *ret_length) {
        const char *start = b->data + b->start;
        size_t available = b->end - b->start, length;
        int r;

        r = protocol_next_line(start, available, &length);
        if (r < 0)
                return r;
        if (r == 0 && !eof)
                return 0;
        if (r == 0) {
                if (available == 0)
                        return -EPIPE;
                r = (int) available;
                length = available - (start[available - 1] == '\r');
        }

        b->start += (size_t) r;
        if (b->start == b->end)
                b->start = b->end = 0; /* the line stays where it is until the next append */
        *ret_line = start;
        *ret_length = length;
        return 1;
}
