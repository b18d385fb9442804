/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

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

int send_queue_appendv(SendQueue **q, const struct iovec *iov, size_t n_iov, size_t capacity) {
        SendQueue *p;
        size_t queued, n = 0;

        assert(q);
        assert(iov || n_iov == 0);
        assert(capacity <= UINT32_MAX);

        p = *q;
        queued = send_queue_size(p);
        for (size_t i = 0; i < n_iov; i++) {
                assert(iov[i].iov_base || iov[i].iov_len == 0);
                n += iov[i].iov_len;
        }

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

        for (size_t i = 0; i < n_iov; i++) {
                if (iov[i].iov_len > 0)
                        memcpy(p->data + p->end, iov[i].iov_base, iov[i].iov_len);
                p->end += (uint32_t) iov[i].iov_len;
        }
        return 0;
}

int send_queue_append(SendQueue **q, const void *data, size_t n, size_t capacity) {
        struct iovec iov = { .iov_base = (void *) data, .iov_len = n };

        assert(data || n == 0);
        return send_queue_appendv(q, &iov, 1, capacity);
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
