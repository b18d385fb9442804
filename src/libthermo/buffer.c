/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "buffer.h"
#include "macro.h"

#define BUFFER_MIN_ALLOC 1024

void buffer_init(Buffer *b, size_t capacity) {
        *b = (Buffer) { .capacity = capacity };
}

void buffer_done(Buffer *b) {
        free(b->data);
        buffer_init(b, b->capacity);
}

int buffer_append(Buffer *b, const void *data, size_t n) {
        size_t queued = buffer_size(b);

        if (n > b->capacity - queued)
                return -ENOBUFS;

        if (b->end + n > b->allocated) {
                /* Move the queue to the front before asking for more memory. */
                if (b->start > 0) {
                        memmove(b->data, b->data + b->start, queued);
                        b->start = 0;
                        b->end = queued;
                }
                if (queued + n > b->allocated) {
                        size_t want = MAX(MAX(b->allocated * 2, (size_t) BUFFER_MIN_ALLOC), queued + n);
                        char *p;

                        want = MIN(want, b->capacity);
                        p = realloc(b->data, want);
                        if (!p)
                                return -ENOMEM;
                        b->data = p;
                        b->allocated = want;
                }
        }

        memcpy(b->data + b->end, data, n);
        b->end += n;
        return 0;
}

void buffer_consume(Buffer *b, size_t n) {
        b->start += MIN(n, buffer_size(b));
        if (b->start == b->end)
                b->start = b->end = 0;
}

int buffer_flush(Buffer *b, int fd) {
        while (buffer_size(b) > 0) {
                ssize_t k = send(fd, b->data + b->start, buffer_size(b), MSG_DONTWAIT | MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        return -errno;
                }
                buffer_consume(b, (size_t) k);
        }
        return (int) buffer_size(b);
}
