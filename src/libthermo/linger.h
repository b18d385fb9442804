/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

/* Closes a connection gracefully: no more writes, and what the peer still sends is read and dropped until
 * it closes too (or a few seconds pass). Closing with unread input would send a reset instead, and the
 * peer could lose the last line we wrote (an ERR 413, a BYE). Takes ownership of fd on every path. *count
 * is one more while the fd lingers: fds are what the caller counts. */
int linger_close(sd_event *e, int fd, size_t *count);
