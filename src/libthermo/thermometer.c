/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "thermometer.h"

#define TICK_ACCURACY_USEC 1000

struct Thermometer {
        unsigned n_ref;
        sd_event *event;
        sd_event_source *timer;
        uint64_t interval;

        Sensor **sensors;       /* the default sensor first */
        Reading *readings;      /* the newest tick: one per sensor */
        size_t n_sensors;
        uint64_t seq;           /* the number of the newest tick that had a reading */
        uint64_t taken;         /* CLOCK_MONOTONIC of the newest tick, 0 before the first */

        ThermometerObserver *observers;
        size_t n_active;
        ThermometerObserver *dispatch_next; /* lets a tick remove anyone while we walk the list */
};

/* The one thermometer of this process (see thermometer_default()). */
static Thermometer *thermometer_singleton = NULL;

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata);
static Thermometer *thermometer_ref(Thermometer *t);

static uint64_t realtime_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static uint64_t now_monotonic(Thermometer *t) {
        uint64_t now;

        (void) sd_event_now(t->event, CLOCK_MONOTONIC, &now);
        return now;
}

int thermometer_default(Thermometer **ret) {
        _cleanup_(thermometer_unrefp) Thermometer *t = NULL;
        int r;

        assert(ret);

        if (thermometer_singleton) {
                *ret = thermometer_ref(thermometer_singleton);
                return 0;
        }

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->n_ref = 1;
        t->interval = THERMOMETER_INTERVAL_DEFAULT;

        r = sd_event_default(&t->event);
        if (r < 0)
                return r;

        /* Created disabled: it ticks only while an observer wants it to. An accuracy of 1ms keeps sd-event
         * from coalescing our ticks with its default 250ms slack. */
        r = sd_event_add_time(t->event, &t->timer, CLOCK_MONOTONIC, 0, TICK_ACCURACY_USEC, on_tick, t);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(t->timer, SD_EVENT_OFF);
        if (r < 0)
                return r;
        /* Ahead of client I/O: however busy the clients keep us, readings are taken on time. */
        r = sd_event_source_set_priority(t->timer, SD_EVENT_PRIORITY_IMPORTANT);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(t->timer, "thermometer");

        thermometer_singleton = t;
        *ret = TAKE_PTR(t);
        return 0;
}

static Thermometer *thermometer_ref(Thermometer *t) {
        if (t)
                t->n_ref++;
        return t;
}

static void free_sensors(Thermometer *t) {
        for (size_t i = 0; i < t->n_sensors; i++)
                sensor_free(t->sensors[i]);
        t->sensors = mfree(t->sensors);
        t->readings = mfree(t->readings);
        t->n_sensors = 0;
}

Thermometer *thermometer_unref(Thermometer *t) {
        if (!t || --t->n_ref > 0)
                return NULL;

        if (thermometer_singleton == t)
                thermometer_singleton = NULL;
        sd_event_source_disable_unref(t->timer);
        sd_event_unref(t->event);
        free_sensors(t);
        free(t);
        return NULL;
}

int thermometer_set_sensors(Thermometer *t, Sensor **sensors, size_t n) {
        Reading *readings;

        assert(t);
        assert(sensors || n == 0);

        readings = calloc(MAX(n, (size_t) 1), sizeof(Reading));
        if (!readings)
                return -ENOMEM;
        free_sensors(t);
        t->sensors = sensors;
        t->readings = readings;
        t->n_sensors = n;
        t->taken = 0;
        return 0;
}

void thermometer_set_interval(Thermometer *t, uint64_t usec) {
        assert(t);
        assert(usec > 0);
        t->interval = usec;
}

uint64_t thermometer_get_interval(Thermometer *t) {
        assert(t);
        return t->interval;
}

size_t thermometer_get_n_sensors(Thermometer *t) {
        assert(t);
        return t->n_sensors;
}

const Sensor *thermometer_get_sensor(Thermometer *t, size_t i) {
        assert(t);
        assert(i < t->n_sensors);
        return t->sensors[i];
}

bool thermometer_is_ticking(Thermometer *t) {
        int enabled = SD_EVENT_OFF;

        assert(t);
        (void) sd_event_source_get_enabled(t->timer, &enabled);
        return enabled != SD_EVENT_OFF;
}

static void schedule_tick(Thermometer *t, uint64_t when) {
        (void) sd_event_source_set_time(t->timer, when);
        (void) sd_event_source_set_enabled(t->timer, SD_EVENT_ON);
}

static void read_sensor(Thermometer *t, size_t i, uint64_t time_ms) {
        Sensor *s = t->sensors[i];
        Reading *reading = &t->readings[i];
        int64_t millicelsius = 0;
        int r;

        r = sensor_read(s, &millicelsius);
        /* Said once when a sensor fails, and once when it is back; not at every tick. */
        if (r < 0 && reading->error == 0)
                log_warning_errno(r, "Sensor %s gives no reading: %m", s->description);
        else if (r >= 0 && reading->error < 0)
                log_info("Sensor %s gives readings again.", s->description);

        *reading = (Reading) {
                .sensor = s->name,
                .time_ms = time_ms,
                .millicelsius = r < 0 ? 0 : millicelsius,
                .error = MIN(r, 0),
        };
}

/* Reads every sensor, numbers the tick, and hands the readings to every observer. A tick in which no
 * sensor gave a reading takes no number. */
static void take_tick(Thermometer *t) {
        uint64_t time_ms = realtime_ms();
        bool any = false;

        for (size_t i = 0; i < t->n_sensors; i++) {
                read_sensor(t, i, time_ms);
                any = any || t->readings[i].error == 0;
        }
        if (any)
                t->seq++;
        for (size_t i = 0; i < t->n_sensors; i++)
                t->readings[i].seq = t->seq;
        t->taken = now_monotonic(t);

        for (ThermometerObserver *o = t->observers; o; o = t->dispatch_next) {
                t->dispatch_next = o->observers_next;
                o->tick(o, t->readings, t->n_sensors);
        }
        t->dispatch_next = NULL;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        Thermometer *t = userdata;
        uint64_t next = usec + t->interval, now;

        take_tick(t);

        /* Keep to the grid of the first tick, unless we fell behind it (a suspend, a stopped process). */
        now = now_monotonic(t);
        if (next <= now)
                next = now + t->interval;
        if (t->n_active > 0)
                schedule_tick(t, next);
        return 0;
}

void thermometer_add_observer(Thermometer *t, ThermometerObserver *o) {
        assert(t);
        assert(o);
        assert(o->tick);
        assert(!o->active);

        LIST_PREPEND(observers, t->observers, o);
}

void thermometer_remove_observer(Thermometer *t, ThermometerObserver *o) {
        assert(t);
        assert(o);

        thermometer_set_active(t, o, false);
        if (t->dispatch_next == o)
                t->dispatch_next = o->observers_next;
        LIST_REMOVE(observers, t->observers, o);
}

void thermometer_set_active(Thermometer *t, ThermometerObserver *o, bool active) {
        assert(t);
        assert(o);

        if (o->active == active)
                return;
        o->active = active;

        if (!active) {
                if (--t->n_active == 0)
                        (void) sd_event_source_set_enabled(t->timer, SD_EVENT_OFF);
                return;
        }
        if (t->n_active++ == 0) {
                uint64_t now = now_monotonic(t);

                /* The first to want ticks wakes the thermometer: a tick now, or one interval after the
                 * newest, whichever is later. */
                schedule_tick(t, t->taken > 0 ? MAX(now, t->taken + t->interval) : now);
        }
}

const Reading *thermometer_get_readings(Thermometer *t) {
        assert(t);

        if (t->n_sensors == 0)
                return NULL;
        if (t->taken == 0 || (t->n_active == 0 && now_monotonic(t) >= t->taken + t->interval)) {
                take_tick(t);
                if (t->n_active > 0)
                        schedule_tick(t, t->taken + t->interval);
        }
        return t->readings;
}

const Reading *thermometer_peek_readings(Thermometer *t) {
        assert(t);
        return t->taken > 0 ? t->readings : NULL;
}
