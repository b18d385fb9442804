/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sys/socket.h>

#include "linger.h"

/* Reads of one lingering peer per wakeup. */
#define LINGER_READS 8

struct Linger {
        PollerWatch watch;
        Deadline deadline;
        Lingers *owner;
        LIST_FIELDS(Linger, lingers);
        int fd;
};

void linger_begin(int fd) {
        (void) shutdown(fd, SHUT_WR);
}

bool linger_drain(int fd) {
        char discard[4096];

        for (unsigned i = 0; i < LINGER_READS; i++) {
                ssize_t n = recv(fd, discard, sizeof(discard), MSG_DONTWAIT);

                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return false;
                if (n <= 0)
                        return true; /* end of file, or an error: the peer is done */
        }
        return false;
}

/* Safe from its own callbacks: the poller reports an fd once per wakeup, and the deadline has run. */
static void linger_free(Linger *l) {
        Lingers *owner = l->owner;

        poller_remove(owner->poller, l->fd);
        deadline_cancel(owner->deadlines, &l->deadline);
        safe_close(l->fd);
        LIST_REMOVE(lingers, owner->list, l);
        free(l);
        if (--owner->n == 0 && owner->drained)
                owner->drained(owner);
}

static void on_io(PollerWatch *w, uint32_t revents) {
        Linger *l = container_of(w, Linger, watch);

        if ((revents & EPOLLERR) || linger_drain(l->fd))
                linger_free(l);
}

static void on_deadline(Deadline *d) {
        linger_free(container_of(d, Linger, deadline));
}

int lingers_add(Lingers *owner, int fd) {
        Linger *l;
        int r;

        assert(owner);
        assert(owner->poller && owner->deadlines);
        assert(fd >= 0);

        linger_begin(fd);
        l = calloc(1, sizeof(*l));
        if (!l) {
                safe_close(fd);
                return -ENOMEM;
        }
        *l = (Linger) {
                .watch.handler = on_io,
                .deadline.handler = on_deadline,
                .owner = owner,
                .fd = fd,
        };
        r = poller_add(owner->poller, fd, EPOLLIN, &l->watch);
        if (r < 0) {
                safe_close(fd);
                free(l);
                return r;
        }
        deadline_set(owner->deadlines, &l->deadline, LINGER_TIMEOUT_USEC);
        LIST_PREPEND(lingers, owner->list, l);
        owner->n++;
        return 0;
}

void lingers_done(Lingers *owner) {
        assert(owner);

        /* No drained() from here: the owner is ending. */
        owner->drained = NULL;
        while (owner->list)
                linger_free(owner->list);
}
