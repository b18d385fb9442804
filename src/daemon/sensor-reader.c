/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <time.h>

#include "sensor-reader.h"

/* The loop's side (io, done, userdata) and what it shares with the thread, under lock. A reader freed
 * while its thread reads is the thread's from then on: the thread frees it when the read returns, however
 * long a sysfs or 1-Wire read takes, and the loop goes on at once. Nothing is cancelled: a read that is cut
 * short would leave its fd open. */
struct SensorReader {
        sensor_reader_done_t done;
        void *userdata;
        sd_event_source *io;
        pthread_t thread;
        bool started;

        pthread_mutex_t lock;
        pthread_cond_t wake;
        Sensor *sensor;         /* a reference of the reader's own */
        int eventfd;            /* the loop's; written under lock, and closed under it too */
        bool requested, busy, stop, have_result;
        SensorResult result;
};

static uint64_t now_usec(clockid_t clock) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static void reader_destroy(SensorReader *r) {
        sensor_unref(r->sensor);
        safe_close(r->eventfd);
        pthread_cond_destroy(&r->wake);
        pthread_mutex_destroy(&r->lock);
        free(r);
}

static void *reader_thread(void *userdata) {
        SensorReader *r = userdata;

        for (;;) {
                SensorResult result = {};
                bool orphaned;

                pthread_mutex_lock(&r->lock);
                while (!r->requested && !r->stop)
                        pthread_cond_wait(&r->wake, &r->lock);
                if (r->stop) {
                        /* Freed while a read was asked for: ours to free. Otherwise the loop joins us. */
                        orphaned = r->busy;
                        pthread_mutex_unlock(&r->lock);
                        if (orphaned)
                                reader_destroy(r);
                        return NULL;
                }
                r->requested = false;
                pthread_mutex_unlock(&r->lock);

                result.error = MIN(sensor_read(r->sensor, &result.millicelsius), 0);
                result.time_ms = now_usec(CLOCK_REALTIME) / 1000;
                result.when = now_usec(CLOCK_MONOTONIC);

                pthread_mutex_lock(&r->lock);
                if (r->stop) {
                        pthread_mutex_unlock(&r->lock);
                        reader_destroy(r);
                        return NULL;
                }
                r->result = result;
                r->have_result = true;
                r->busy = false;
                (void) eventfd_write(r->eventfd, 1);
                pthread_mutex_unlock(&r->lock);
        }
}

static int on_result(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        SensorReader *r = userdata;
        SensorResult result;
        eventfd_t n;
        bool have;

        (void) eventfd_read(fd, &n);
        pthread_mutex_lock(&r->lock);
        have = r->have_result;
        result = r->result;
        r->have_result = false;
        pthread_mutex_unlock(&r->lock);
        if (have)
                r->done(r, &result, r->userdata);
        return 0;
}

int sensor_reader_new(sd_event *e, Sensor *sensor, sensor_reader_done_t done, void *userdata, SensorReader **ret) {
        _cleanup_(sensor_reader_freep) SensorReader *r = NULL;
        sigset_t all, saved;
        int k;

        assert(e);
        assert(sensor);
        assert(done);
        assert(ret);

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->sensor = sensor_ref(sensor);
        r->done = done;
        r->userdata = userdata;
        pthread_mutex_init(&r->lock, NULL);
        pthread_cond_init(&r->wake, NULL);

        r->eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (r->eventfd < 0)
                return -errno;
        k = sd_event_add_io(e, &r->io, r->eventfd, EPOLLIN, on_result, r);
        if (k < 0)
                return k;
        (void) sd_event_source_set_description(r->io, "sensor-reader");

        /* The thread takes no signal: SIGTERM and its kind are the event loop's (signalfd), and a thread that
         * did not block them would take the process's default action instead. */
        sigfillset(&all);
        k = pthread_sigmask(SIG_SETMASK, &all, &saved);
        if (k != 0)
                return -k;
        k = pthread_create(&r->thread, NULL, reader_thread, r);
        (void) pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (k != 0)
                return -k;
        r->started = true;
        *ret = TAKE_PTR(r);
        return 0;
}

SensorReader *sensor_reader_free(SensorReader *r) {
        pthread_t thread;
        bool orphaned;

        if (!r)
                return NULL;
        r->io = sd_event_source_disable_unref(r->io);
        if (!r->started) {
                reader_destroy(r);
                return NULL;
        }

        /* The thread's id is copied while r is ours: once unlocked, an orphaned reader is the thread's, which
         * may free it at once. */
        pthread_mutex_lock(&r->lock);
        r->stop = true;
        orphaned = r->busy;
        thread = r->thread;
        r->eventfd = safe_close(r->eventfd);
        pthread_cond_signal(&r->wake);
        pthread_mutex_unlock(&r->lock);
        if (orphaned) {
                /* Reading still: the thread frees it all when the read returns. */
                (void) pthread_detach(thread);
                return NULL;
        }
        /* Waiting for a request: it sees stop at once. */
        (void) pthread_join(thread, NULL);
        reader_destroy(r);
        return NULL;
}

bool sensor_reader_request(SensorReader *r) {
        bool started = false;

        assert(r);

        pthread_mutex_lock(&r->lock);
        if (!r->busy) {
                r->busy = r->requested = started = true;
                pthread_cond_signal(&r->wake);
        }
        pthread_mutex_unlock(&r->lock);
        return started;
}
