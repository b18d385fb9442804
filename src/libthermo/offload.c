/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "macro.h"
#include "offload.h"

/* Shared by the loop and the thread, freed by whichever lets go last. */
struct Offload {
        unsigned refs;          /* atomic */
        const OffloadOps *ops;
        void *data;
        void *userdata;
        int fd;                 /* an eventfd: the thread's end, told to the loop */
        sd_event_source *source;
        bool finished;          /* atomic: work() is done, and what it wrote to data is the loop's to read */
};

static void unref(Offload *o) {
        if (__atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL) > 0)
                return;
        if (o->ops->free_data)
                o->ops->free_data(o->data);
        safe_close(o->fd);
        free(o);
}

static void *run(void *userdata) {
        Offload *o = userdata;

        o->ops->work(o->data);
        __atomic_store_n(&o->finished, true, __ATOMIC_RELEASE);
        /* The loop reads it, or has let go (offload_cancel()): either way the count is what matters. */
        (void) eventfd_write(o->fd, 1);
        unref(o);
        return NULL;
}

static int on_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Offload *o = userdata;
        eventfd_t v;

        (void) eventfd_read(fd, &v);
        if (!__atomic_load_n(&o->finished, __ATOMIC_ACQUIRE))
                return 0;
        o->source = sd_event_source_disable_unref(o->source);
        /* work() is done with data; the thread may not have let go of o yet, and frees it if it is last. */
        o->ops->done(o->data, o->userdata);
        unref(o);
        return 0;
}

int offload_start(sd_event *e, const OffloadOps *ops, void *data, void *userdata, Offload **ret) {
        pthread_attr_t attr;
        pthread_t thread;
        Offload *o;
        int r;

        assert(e);
        assert(ops && ops->work && ops->done);
        assert(ret);

        o = calloc(1, sizeof(*o));
        if (!o)
                return -ENOMEM;
        *o = (Offload) { .refs = 2, .ops = ops, .data = data, .userdata = userdata };
        o->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (o->fd < 0) {
                r = -errno;
                free(o);
                return r;
        }
        r = sd_event_add_io(e, &o->source, o->fd, EPOLLIN, on_done, o);
        if (r < 0) {
                safe_close(o->fd);
                free(o);
                return r;
        }
        (void) sd_event_source_set_description(o->source, "offload");

        r = -pthread_attr_init(&attr);
        if (r == 0) {
                r = -pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                /* getaddrinfo() and a TLS library want more than a tiny stack, not the default 8 MiB. */
                if (r == 0)
                        r = -pthread_attr_setstacksize(&attr, 256 * 1024);
                if (r == 0)
                        r = -pthread_create(&thread, &attr, run, o);
                pthread_attr_destroy(&attr);
        }
        if (r < 0) {
                sd_event_source_disable_unref(o->source);
                safe_close(o->fd);
                free(o);
                return r;
        }
        *ret = o;
        return 0;
}

Offload *offload_cancel(Offload *o) {
        if (!o)
                return NULL;
        if (o->source) {
                /* Still running, or done with its word unread: the thread, or this, frees it last. */
                o->source = sd_event_source_disable_unref(o->source);
                unref(o);
        }
        return NULL;
}
