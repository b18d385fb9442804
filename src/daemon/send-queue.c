/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "macro.h"
#include "send-queue.h"

#define SEND_QUEUE_MIN 512

struct SendQueue {
        uint32_t start;         /* first unsent byte */
        uint32_t end;           /* one past the last queued byte */
        uint32_t allocated;
        char data[];
};

size_t send_queue_size(const SendQueue *q) {
        return q ? q->end - q->start : 0;
}

const void *send_queue_data(const SendQueue *q) {
        return q && q->end > q->start ? q->data + q->start : NULL;
}

int send_queue_append(SendQueue **q, const void *data, size_t n, size_t capacity) {
        SendQueue *p;
        size_t queued;

        assert(q);
        assert(data || n == 0);
        assert(capacity <= UINT32_MAX);

        p = *q;
        queued = send_queue_size(p);

        if (n > capacity - MIN(queued, capacity))
                return -ENOBUFS;

        if (!p || p->end + n > p->allocated) {
                /* Move what is queued to the front before asking for more memory. */
                if (p && p->start > 0) {
                        memmove(p->data, p->data + p->start, queued);
                        p->start = 0;
                        p->end = (uint32_t) queued;
                }
                if (!p || queued + n > p->allocated) {
                        size_t want = MAX(MAX(p ? (size_t) p->allocated * 2 : 0, (size_t) SEND_QUEUE_MIN), queued + n);

                        want = MIN(want, capacity);
                        p = realloc(p, sizeof(SendQueue) + want);
                        if (!p)
                                return -ENOMEM;
                        if (!*q)
                                p->start = p->end = 0;
                        p->allocated = (uint32_t) want;
                        *q = p;
                }
        }

        memcpy(p->data + p->end, data, n);
        p->end += (uint32_t) n;
        return 0;
}

int send_queue_flush(SendQueue **q, int fd) {
        SendQueue *p;

        assert(q);

        p = *q;
        while (send_queue_size(p) > 0) {
                ssize_t k = send(fd, p->data + p->start, send_queue_size(p), MSG_DONTWAIT | MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return (int) send_queue_size(p);
                        return -errno;
                }
                p->start += (uint32_t) k;
        }
        /* Drained: a client that lagged once does not keep its buffer. */
        *q = mfree(p);
        return 0;
}

SendQueue *send_queue_free(SendQueue *q) {
        free(q);
        return NULL;
}
