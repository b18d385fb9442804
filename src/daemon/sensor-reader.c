/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <time.h>

#include "sensor-reader.h"

struct SensorReader {
        Sensor *sensor;         /* read by the thread alone while busy */
        sensor_reader_done_t done;
        void *userdata;

        int eventfd;
        sd_event_source *io;
        pthread_t thread;
        bool started;

        /* Shared with the thread, under lock. */
        pthread_mutex_t lock;
        pthread_cond_t wake;
        bool requested, busy, stop, have_result;
        SensorResult result;
};

static uint64_t now_usec(clockid_t clock) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static void *reader_thread(void *userdata) {
        SensorReader *r = userdata;

        /* Cancelled only while reading (see sensor_reader_free()), never while it holds the lock. */
        (void) pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
        for (;;) {
                SensorResult result = {};

                pthread_mutex_lock(&r->lock);
                while (!r->requested && !r->stop)
                        pthread_cond_wait(&r->wake, &r->lock);
                if (r->stop) {
                        pthread_mutex_unlock(&r->lock);
                        return NULL;
                }
                r->requested = false;
                pthread_mutex_unlock(&r->lock);

                (void) pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
                result.error = MIN(sensor_read(r->sensor, &result.millicelsius), 0);
                (void) pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
                result.time_ms = now_usec(CLOCK_REALTIME) / 1000;
                result.when = now_usec(CLOCK_MONOTONIC);

                pthread_mutex_lock(&r->lock);
                r->result = result;
                r->have_result = true;
                r->busy = false;
                pthread_mutex_unlock(&r->lock);
                (void) eventfd_write(r->eventfd, 1);
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
        r->sensor = sensor;
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
        if (!r)
                return NULL;
        if (r->started) {
                bool busy;

                pthread_mutex_lock(&r->lock);
                r->stop = true;
                busy = r->busy;
                pthread_cond_signal(&r->wake);
                pthread_mutex_unlock(&r->lock);
                if (busy)
                        (void) pthread_cancel(r->thread);
                (void) pthread_join(r->thread, NULL);
        }
        sd_event_source_disable_unref(r->io);
        safe_close(r->eventfd);
        pthread_cond_destroy(&r->wake);
        pthread_mutex_destroy(&r->lock);
        free(r);
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

bool sensor_reader_is_busy(SensorReader *r) {
        bool busy;

        assert(r);

        pthread_mutex_lock(&r->lock);
        busy = r->busy;
        pthread_mutex_unlock(&r->lock);
        return busy;
}
