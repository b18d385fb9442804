/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sys/socket.h>

#include "linger.h"
#include "log.h"
#include "macro.h"

typedef struct Linger {
        int fd;
        sd_event_source *io;
        sd_event_source *timer;
        Lingers *owner;
} Linger;

static Linger *linger_free(Linger *l) {
        Lingers *owner;

        if (!l)
                return NULL;
        owner = l->owner;
        sd_event_source_disable_unref(l->io);
        sd_event_source_disable_unref(l->timer);
        safe_close(l->fd);
        free(l);
        if (--owner->n == 0 && owner->drained)
                owner->drained(owner);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Linger *, linger_free);

static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        char discard[4096];
        ssize_t n;

        for (;;) {
                n = recv(fd, discard, sizeof(discard), MSG_DONTWAIT);
                if (n > 0)
                        continue;
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                break;
        }
        /* End of file or an error: the peer is done. */
        linger_free(userdata);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        linger_free(userdata);
        return 0;
}

int linger_close(sd_event *e, int fd, Lingers *owner) {
        _cleanup_(linger_freep) Linger *l = NULL;
        int r;

        assert(e);
        assert(owner);

        (void) shutdown(fd, SHUT_WR);

        l = calloc(1, sizeof(*l));
        if (!l) {
                safe_close(fd);
                return -ENOMEM;
        }
        l->fd = fd;
        l->owner = owner;
        owner->n++;

        r = sd_event_add_io(e, &l->io, fd, EPOLLIN, on_readable, l);
        if (r < 0)
                return r;
        r = sd_event_add_time_relative(e, &l->timer, CLOCK_MONOTONIC, LINGER_TIMEOUT_USEC, 0, on_timeout, l);
        if (r < 0)
                return r;

        TAKE_PTR(l);
        return 0;
}
