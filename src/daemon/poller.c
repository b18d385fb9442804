/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sys/epoll.h>

#include "poller.h"

/* Ready sockets handled per wakeup: then the loop runs its other sources (the thermometer first). */
#define POLLER_BATCH 64

struct Poller {
        int fd;
        sd_event_source *io;
};

static int on_ready(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct epoll_event events[POLLER_BATCH];
        int n;

        n = epoll_wait(fd, events, POLLER_BATCH, 0);
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        for (int i = 0; i < n; i++) {
                PollerWatch *w = events[i].data.ptr;
                w->handler(w, events[i].events);
        }
        return 0;
}

int poller_new(sd_event *e, int64_t priority, Poller **ret) {
        _cleanup_(poller_freep) Poller *p = NULL;
        int r;

        assert(e);
        assert(ret);

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->fd = epoll_create1(EPOLL_CLOEXEC);
        if (p->fd < 0)
                return -errno;
        r = sd_event_add_io(e, &p->io, p->fd, EPOLLIN, on_ready, p);
        if (r < 0)
                return r;
        r = sd_event_source_set_priority(p->io, priority);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(p->io, "clients");
        *ret = TAKE_PTR(p);
        return 0;
}

Poller *poller_free(Poller *p) {
        if (!p)
                return NULL;
        sd_event_source_disable_unref(p->io);
        safe_close(p->fd);
        free(p);
        return NULL;
}

static int control(Poller *p, int op, int fd, uint32_t events, PollerWatch *w) {
        struct epoll_event ev = { .events = events, .data.ptr = w };

        assert(p);
        assert(w);
        assert(w->handler);

        return epoll_ctl(p->fd, op, fd, &ev) < 0 ? -errno : 0;
}

int poller_add(Poller *p, int fd, uint32_t events, PollerWatch *w) {
        return control(p, EPOLL_CTL_ADD, fd, events, w);
}

int poller_modify(Poller *p, int fd, uint32_t events, PollerWatch *w) {
        return control(p, EPOLL_CTL_MOD, fd, events, w);
}

void poller_remove(Poller *p, int fd) {
        assert(p);
        (void) epoll_ctl(p->fd, EPOLL_CTL_DEL, fd, NULL);
}
