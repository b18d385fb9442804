/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "thermometer.h"

#define SENSOR_ERROR_LINE "ERR 503 sensor unavailable\n"
#define TICK_ACCURACY_USEC 1000

struct Thermometer {
        unsigned n_ref;
        sd_event *event;
        sd_event_source *timer;
        Sensor *sensor;
        uint64_t interval;

        uint64_t seq;
        Reading reading;         /* newest successful reading, valid when seq > 0 */
        int error;               /* result of the newest attempt */
        uint64_t taken;          /* CLOCK_MONOTONIC of the newest attempt, 0 before the first */
        char line[PROTOCOL_REPLY_MAX];
        size_t length;

        thermometer_observer_t observer;
        void *observer_userdata;

        Subscriber *subscribers;
        size_t n_subscribers;
        Subscriber *dispatch_next; /* lets a handler unsubscribe anyone while we walk the list */
};

/* The one thermometer of this process (see thermometer_default()). */
static Thermometer *thermometer_singleton = NULL;

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata);

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

        /* Created disabled: it ticks only while somebody subscribes. An accuracy of 1ms keeps sd-event
         * from coalescing our ticks with its default 250ms slack. */
        r = sd_event_add_time(t->event, &t->timer, CLOCK_MONOTONIC, 0, TICK_ACCURACY_USEC, on_tick, t);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(t->timer, SD_EVENT_OFF);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(t->timer, "thermometer");

        thermometer_singleton = t;
        *ret = TAKE_PTR(t);
        return 0;
}

Thermometer *thermometer_ref(Thermometer *t) {
        if (t)
                t->n_ref++;
        return t;
}

Thermometer *thermometer_unref(Thermometer *t) {
        if (!t || --t->n_ref > 0)
                return NULL;

        if (thermometer_singleton == t)
                thermometer_singleton = NULL;
        sd_event_source_disable_unref(t->timer);
        sd_event_unref(t->event);
        sensor_free(t->sensor);
        free(t);
        return NULL;
}

void thermometer_set_sensor(Thermometer *t, Sensor *sensor) {
        sensor_free(t->sensor);
        t->sensor = sensor;
}

void thermometer_set_interval(Thermometer *t, uint64_t usec) {
        t->interval = usec;
}

void thermometer_set_observer(Thermometer *t, thermometer_observer_t observer, void *userdata) {
        t->observer = observer;
        t->observer_userdata = userdata;
}

uint64_t thermometer_get_interval(Thermometer *t) {
        return t->interval;
}

const char *thermometer_get_sensor_description(Thermometer *t) {
        return t->sensor ? t->sensor->description : "none";
}

size_t thermometer_get_subscribers(Thermometer *t) {
        return t->n_subscribers;
}

bool thermometer_is_ticking(Thermometer *t) {
        int enabled = SD_EVENT_OFF;

        (void) sd_event_source_get_enabled(t->timer, &enabled);
        return enabled != SD_EVENT_OFF;
}

const Reading *thermometer_get_reading(Thermometer *t) {
        return t->seq > 0 ? &t->reading : NULL;
}

static void schedule_tick(Thermometer *t, uint64_t when) {
        (void) sd_event_source_set_time(t->timer, when);
        (void) sd_event_source_set_enabled(t->timer, SD_EVENT_ON);
}

/* Takes one reading, formats it once and hands the same line to every subscriber. */
static void take_reading(Thermometer *t) {
        int64_t millicelsius = 0;
        int r = -ENODEV;

        if (t->sensor)
                r = sensor_read(t->sensor, &millicelsius);
        t->taken = now_monotonic(t);

        if (r < 0) {
                /* Said once when the sensor fails, and once when it is back; not at every tick. */
                if (t->error >= 0)
                        log_warning_errno(r, "Sensor %s gives no reading: %m",
                                        thermometer_get_sensor_description(t));
                memcpy(t->line, SENSOR_ERROR_LINE, strlen(SENSOR_ERROR_LINE));
                t->length = strlen(SENSOR_ERROR_LINE);
        } else {
                if (t->error < 0)
                        log_info("Sensor %s gives readings again.", thermometer_get_sensor_description(t));
                t->reading = (Reading) {
                        .seq = ++t->seq,
                        .time_ms = realtime_ms(),
                        .millicelsius = millicelsius,
                };
                t->length = protocol_format_reading(t->line, sizeof(t->line), &t->reading);
        }
        t->error = r;

        if (t->observer)
                t->observer(t, t->observer_userdata);
        for (Subscriber *s = t->subscribers; s; s = t->dispatch_next) {
                t->dispatch_next = s->subscribers_next;
                s->handler(s, t->line, t->length, r < 0 ? NULL : &t->reading);
        }
        t->dispatch_next = NULL;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        Thermometer *t = userdata;
        uint64_t next = usec + t->interval, now;

        take_reading(t);

        /* Keep to the grid of the first tick, unless we fell behind it (a suspend, a stopped process). */
        now = now_monotonic(t);
        if (next <= now)
                next = now + t->interval;
        if (t->n_subscribers > 0)
                schedule_tick(t, next);
        return 0;
}

int thermometer_subscribe(Thermometer *t, Subscriber *s) {
        if (s->subscribed)
                return 0;

        LIST_PREPEND(subscribers, t->subscribers, s);
        s->subscribed = true;
        if (t->n_subscribers++ == 0) {
                uint64_t now = now_monotonic(t);

                /* The first subscriber wakes the thermometer: a reading now, or one interval after the
                 * newest, whichever is later. */
                schedule_tick(t, t->taken > 0 ? MAX(now, t->taken + t->interval) : now);
        }
        return 0;
}

void thermometer_unsubscribe(Thermometer *t, Subscriber *s) {
        if (!s->subscribed)
                return;

        if (t->dispatch_next == s)
                t->dispatch_next = s->subscribers_next;
        LIST_REMOVE(subscribers, t->subscribers, s);
        s->subscribed = false;
        if (--t->n_subscribers == 0)
                (void) sd_event_source_set_enabled(t->timer, SD_EVENT_OFF);
}

int thermometer_get_line(Thermometer *t, const char **ret_line, size_t *ret_length) {
        if (t->taken == 0 || (t->n_subscribers == 0 && now_monotonic(t) >= t->taken + t->interval)) {
                take_reading(t);
                if (t->n_subscribers > 0)
                        schedule_tick(t, t->taken + t->interval);
        }

        *ret_line = t->line;
        *ret_length = t->length;
        return t->error;
}
