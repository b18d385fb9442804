/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <sys/uio.h>

#include "macro.h"

/* The bytes a connection could not send yet, or has not sent yet (thermo-mqtt gathers a turn's packets in
 * one). A connection holds none while the kernel takes everything (almost always): the queue is allocated
 * when a send() falls short, grows up to a capacity, and is freed as soon as it has drained. */
typedef struct SendQueue SendQueue;

/* Bytes queued; q may be NULL. */
size_t send_queue_size(const SendQueue *q);

/* The bytes queued, in one piece (send_queue_size() of them); NULL when none are. */
const void *send_queue_data(const SendQueue *q);

/* Queues all n bytes or none: -ENOBUFS when they would take the queue over capacity. */
int send_queue_append(SendQueue **q, const void *data, size_t n, size_t capacity);
/* The same for the bytes of iov, in order: all of them or none. */
int send_queue_appendv(SendQueue **q, const struct iovec *iov, size_t n_iov, size_t capacity);

/* Sends what it can to a non-blocking socket, and frees the queue once it is empty. Returns the bytes
 * still queued, or a negative errno from send() other than EAGAIN. */
int send_queue_flush(SendQueue **q, int fd);

SendQueue *send_queue_free(SendQueue *q);
DEFINE_TRIVIAL_CLEANUP_FUNC(SendQueue *, send_queue_free);
