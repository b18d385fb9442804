/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "history.h"
#include "log.h"
#include "parse.h"
#include "protocol.h"
#include "sensor-reader.h"
#include "thermometer.h"

#define TICK_ACCURACY_USEC 1000
/* Ticks are counted in windows of this many: when a tenth of a window's came late (more clients than an
 * interval can serve), the log says so, with the rate the readings came at. */
#define TICK_WINDOW 1000
/* The longest a tick waits for slow sensors: a DS18B20 converts for 750ms. */
#define SLOW_WAIT_USEC (2 * UINT64_C(1000000))

/* One sensor, as the thermometer keeps it. */
typedef struct Slot {
        Sensor *sensor;
        SensorReader *reader;   /* slow sensors only */
        SensorResult result;    /* slow: the newest result */
        bool fresh;             /* slow: that result came while readings were wanted, and no tick has
                                 * reported it yet */
        int logged;             /* what the log said last: 0 (fine) or the error */
        bool gone;              /* not found by the last rescan: unavailable, never read */
        Level level;            /* against its limits, after the newest reading */
        Reading level_reading;  /* the reading that put it there (its seq 0 before any) */
        uint64_t level_changes[_LEVEL_MAX]; /* into each level, since the start */
} Slot;

struct Thermometer {
        unsigned n_ref;
        sd_event *event;
        sd_event_source *timer;
        sd_event_source *wait_timer;
        uint64_t interval;

        Slot *slots;            /* the default sensor first */
        Reading *readings;      /* the newest tick: one per sensor */
        size_t n_sensors;
        size_t n_slow;
        uint64_t seq;           /* the number of the newest tick that had a reading */
        uint64_t readings_total; /* readings the sensors gave, all told */
        uint64_t taken;         /* CLOCK_MONOTONIC of the newest tick, 0 before the first */
        uint64_t window_start;  /* the ticks of a window of TICK_WINDOW, and how many of them came late */
        unsigned window_ticks, window_late;
        bool waiting;           /* a tick waits for slow sensors to answer */
        History *history;       /* the ticks of the last --history span, NULL until it is set */

        ThermometerObserver *observers;
        size_t n_active;
        ThermometerObserver *dispatch_next; /* lets a tick remove anyone while we walk the list */
};

static bool request_is_ready(Thermometer *t, const ThermometerRequest *q);

/* The one thermometer of this process (see thermometer_default()). */
static Thermometer *thermometer_singleton = NULL;

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata);
static int on_wait_over(sd_event_source *s, uint64_t usec, void *userdata);

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
                thermometer_singleton->n_ref++;
                *ret = thermometer_singleton;
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

        r = sd_event_add_time(t->event, &t->wait_timer, CLOCK_MONOTONIC, 0, TICK_ACCURACY_USEC, on_wait_over, t);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(t->wait_timer, SD_EVENT_OFF);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(t->wait_timer, "thermometer-wait");

        thermometer_singleton = t;
        *ret = TAKE_PTR(t);
        return 0;
}

static void free_sensors(Thermometer *t) {
        for (size_t i = 0; i < t->n_sensors; i++) {
                /* The reader first: its thread may still be reading the sensor. */
                sensor_reader_free(t->slots[i].reader);
                sensor_unref(t->slots[i].sensor);
        }
        t->slots = mfree(t->slots);
        t->readings = mfree(t->readings);
        t->n_sensors = t->n_slow = 0;
}

Thermometer *thermometer_unref(Thermometer *t) {
        if (!t || --t->n_ref > 0)
                return NULL;

        if (thermometer_singleton == t)
                thermometer_singleton = NULL;
        free_sensors(t);
        history_free(t->history);
        sd_event_source_disable_unref(t->timer);
        sd_event_source_disable_unref(t->wait_timer);
        sd_event_unref(t->event);
        free(t);
        return NULL;
}

/* Says once that a sensor failed, with a hint where the service's sandbox is the likely cause, and once
 * that it is back; not at every tick. */
static void note_health(Thermometer *t, Slot *slot, int error) {
        const Sensor *s = slot->sensor;
        char field[64]; /* SENSOR= and a name of 32 at most */
        const char *hint = "";

        if (error == slot->logged)
                return;
        snprintf(field, sizeof(field), "SENSOR=%s", s->name);
        if (error == 0) {
                log_struct(LOG_INFO, 0, THERMO_MESSAGE_SENSOR_RECOVERED, LOG_FIELDS(field),
                                "Sensor %s (%s) gives readings again.", s->name, s->source);
                slot->logged = 0;
                return;
        }
        if (slot->logged != 0 && error != 0) {
                /* Failing still, another way: not worth another line. */
                slot->logged = error;
                return;
        }
        /* Under systemd (INVOCATION_ID), a path the sandbox hides shows as missing or forbidden. */
        if (s->path && secure_getenv("INVOCATION_ID") && IN_SET(-error, ENOENT, EACCES, EPERM, EROFS)) {
                if (startswith(s->path, "/tmp/") || startswith(s->path, "/var/tmp/"))
                        hint = " (the service has a /tmp of its own under PrivateTmp=: is the file in the host's?)";
                else if (startswith(s->path, "/home/") || startswith(s->path, "/root/") || startswith(s->path, "/run/user/"))
                        hint = " (the service cannot see home directories under ProtectHome=)";
        }
        log_struct(LOG_WARNING, error, THERMO_MESSAGE_SENSOR_FAILED, LOG_FIELDS(field),
                        "Sensor %s (%s) gives no reading: %m%s", s->name, s->source, hint);
        slot->logged = error;
}

/* A change of level, in the journal: one MESSAGE_ID for each level it comes to, and the reading. */
static void note_level(Slot *slot, const Reading *r, Level was) {
        static const struct {
                const char *id;
                int priority;
        } kinds[_LEVEL_MAX] = {
                [LEVEL_OK] = { THERMO_MESSAGE_LEVEL_OK, LOG_NOTICE },
                [LEVEL_LOW] = { THERMO_MESSAGE_LEVEL_LOW, LOG_WARNING },
                [LEVEL_HIGH] = { THERMO_MESSAGE_LEVEL_HIGH, LOG_WARNING },
                [LEVEL_CRIT] = { THERMO_MESSAGE_LEVEL_CRIT, LOG_CRIT },
        };
        const Sensor *s = slot->sensor;
        const Limits *l = &s->limits;
        char sensor[64], celsius[48], level[32], value[32], limit[32], why[96] = "";

        format_millidegrees(value, sizeof(value), r->millicelsius);
        snprintf(sensor, sizeof(sensor), "SENSOR=%s", s->name);
        snprintf(celsius, sizeof(celsius), "CELSIUS=%s", value);
        snprintf(level, sizeof(level), "LEVEL=%s", level_to_string(slot->level));
        switch (slot->level) {
        case LEVEL_CRIT:
                snprintf(why, sizeof(why), "at or above its critical limit, %s °C",
                                (format_millidegrees(limit, sizeof(limit), l->crit), limit));
                break;
        case LEVEL_HIGH:
                snprintf(why, sizeof(why), "at or above its high limit, %s °C",
                                (format_millidegrees(limit, sizeof(limit), l->high), limit));
                break;
        case LEVEL_LOW:
                snprintf(why, sizeof(why), "at or below its low limit, %s °C",
                                (format_millidegrees(limit, sizeof(limit), l->low), limit));
                break;
        default:
                snprintf(why, sizeof(why), "back within its limits (from %s)", level_to_string(was));
                break;
        }
        log_struct(kinds[slot->level].priority, 0, kinds[slot->level].id, LOG_FIELDS(sensor, celsius, level),
                        "Sensor %s (%s) reads %s °C: %s.", s->name, s->source, value, why);
}

/* Where a reading puts its sensor: the reading says so, and a change is an alarm. A tick without a
 * reading leaves the level as it was; a sensor without limits costs a test of a flag. */
static void take_level(Slot *slot, Reading *r) {
        r->alarm = false;
        if (r->error == 0 && limits_any(&slot->sensor->limits)) {
                Level was = slot->level;

                slot->level = level_next(slot->level, r->millicelsius, &slot->sensor->limits);
                if (slot->level != was) {
                        r->alarm = true;
                        slot->level_changes[slot->level]++;
                        slot->level_reading = *r;
                        slot->level_reading.level = slot->level;
                        note_level(slot, r, was);
                }
        }
        r->level = slot->level;
}

static void schedule_tick(Thermometer *t, uint64_t when) {
        (void) sd_event_source_set_time(t->timer, when);
        (void) sd_event_source_set_enabled(t->timer, SD_EVENT_ON);
}

/* The requests of o that this tick answers: each once its sensors have read, or the wait for them is over.
 * An answer may make requests, or cancel any: the list is taken whole first (cancel finds what is left of
 * it in o->answering), and what this tick does not answer goes back on it. */
static void answer_requests(Thermometer *t, ThermometerObserver *o) {
        o->answering = o->requests;
        o->requests = NULL;
        while (o->answering) {
                ThermometerRequest *q = o->answering;

                o->answering = q->next;
                if (t->waiting && !request_is_ready(t, q)) {
                        q->next = o->requests;
                        o->requests = q;
                        continue;
                }
                q->next = NULL;
                q->waiting = false;
                o->answer(o, q, t->readings, t->n_sensors);
        }
}

/* Reads every sensor, numbers the tick, and hands the readings to every observer. A tick in which no
 * sensor gave a reading takes no number. */
static void take_tick(Thermometer *t) {
        bool any = false;
        uint64_t time_ms = realtime_ms();

        for (size_t i = 0; i < t->n_sensors; i++) {
                Slot *slot = &t->slots[i];
                Reading *r = &t->readings[i];

                if (slot->gone)
                        *r = (Reading) { .sensor = slot->sensor->name, .time_ms = time_ms, .error = -ENODEV };
                else if (!slot->reader) {
                        int64_t millicelsius = 0;
                        int k = sensor_read(slot->sensor, &millicelsius);

                        note_health(t, slot, MIN(k, 0));
                        *r = (Reading) { .sensor = slot->sensor->name, .time_ms = time_ms, .millicelsius = millicelsius,
                                         .error = MIN(k, 0) };
                } else {
                        /* A slow sensor's newest result, with the time it was read at, once; if it is not
                         * ready, unavailable for this tick. It reads again for the next. */
                        if (slot->fresh)
                                *r = (Reading) { .sensor = slot->sensor->name, .time_ms = slot->result.time_ms,
                                                 .millicelsius = slot->result.millicelsius, .error = slot->result.error };
                        else
                                *r = (Reading) { .sensor = slot->sensor->name, .time_ms = time_ms, .error = -EINPROGRESS };
                        slot->fresh = false;
                        (void) sensor_reader_request(slot->reader);
                }
                any = any || r->error == 0;
                t->readings_total += r->error == 0;
        }
        if (any)
                t->seq++;
        for (size_t i = 0; i < t->n_sensors; i++) {
                t->readings[i].seq = t->seq;
                take_level(&t->slots[i], &t->readings[i]);
        }
        t->taken = now_monotonic(t);
        /* Held as it goes out. A tick with no reading at all has no seq of its own (its lines name none):
         * there is nothing to resume after it. */
        if (any && t->history)
                history_add(t->history, t->taken, t->readings, t->n_sensors);

        for (ThermometerObserver *o = t->observers; o; o = t->dispatch_next) {
                t->dispatch_next = o->observers_next;
                if (o->tick)
                        o->tick(o, t->readings, t->n_sensors);
        }
        for (ThermometerObserver *o = t->observers; o; o = t->dispatch_next) {
                t->dispatch_next = o->observers_next;
                answer_requests(t, o);
        }
        t->dispatch_next = NULL;
}

/* Whether every slow sensor has a fresh result. */
static bool slow_all_fresh(Thermometer *t) {
        for (size_t i = 0; i < t->n_sensors; i++)
                if (t->slots[i].reader && !t->slots[i].fresh)
                        return false;
        return true;
}

/* A tick is wanted now, and slow sensors have no fresh reading: ask them, and tick when they have all
 * answered, or the wait is over. */
static void wait_for_slow(Thermometer *t) {
        if (t->waiting)
                return;
        t->waiting = true;
        for (size_t i = 0; i < t->n_sensors; i++)
                if (t->slots[i].reader && !t->slots[i].fresh)
                        (void) sensor_reader_request(t->slots[i].reader);
        (void) sd_event_source_set_time(t->wait_timer, now_monotonic(t) + MAX(t->interval, SLOW_WAIT_USEC));
        (void) sd_event_source_set_enabled(t->wait_timer, SD_EVENT_ONESHOT);
}

static void tick_after_wait(Thermometer *t) {
        t->waiting = false;
        (void) sd_event_source_set_enabled(t->wait_timer, SD_EVENT_OFF);
        take_tick(t);
        if (t->n_active > 0)
                schedule_tick(t, t->taken + t->interval);
}

static int on_wait_over(sd_event_source *s, uint64_t usec, void *userdata) {
        Thermometer *t = userdata;

        /* Those that have not answered are unavailable for this tick. */
        if (t->waiting)
                tick_after_wait(t);
        return 0;
}

static void on_result(SensorReader *reader, const SensorResult *result, void *userdata) {
        Thermometer *t = userdata;

        for (size_t i = 0; i < t->n_sensors; i++) {
                Slot *slot = &t->slots[i];

                if (slot->reader != reader)
                        continue;
                slot->result = *result;
                /* Read while nobody wanted readings (at the start, or after a GET): only the log hears of
                 * it, and no later tick reports it as new. */
                slot->fresh = t->n_active > 0 || t->waiting;
                note_health(t, slot, result->error);
        }
        if (t->waiting && slow_all_fresh(t))
                tick_after_wait(t);
}

int thermometer_set_sensors(Thermometer *t, Sensor **sensors, size_t n) {
        Reading *readings;
        Slot *slots;
        int r;

        assert(t);
        assert(sensors || n == 0);

        readings = calloc(MAX(n, (size_t) 1), sizeof(Reading));
        slots = calloc(MAX(n, (size_t) 1), sizeof(Slot));
        if (!readings || !slots) {
                free(readings);
                free(slots);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                slots[i].sensor = sensors[i];
                if (!sensors[i]->slow)
                        continue;
                r = sensor_reader_new(t->event, sensors[i], on_result, t, &slots[i].reader);
                if (r < 0) {
                        while (i > 0) {
                                i--;
                                sensor_reader_free(slots[i].reader);
                        }
                        free(readings);
                        free(slots);
                        return r;
                }
        }

        free_sensors(t);
        free(sensors);
        t->slots = slots;
        t->readings = readings;
        t->n_sensors = n;
        for (size_t i = 0; i < n; i++)
                t->n_slow += !!slots[i].reader;
        t->taken = 0;
        return 0;
}

static void log_sensor(const Sensor *s, int level, const char *what) {
        char field[64]; /* SENSOR= and a name of 32 at most */

        snprintf(field, sizeof(field), "SENSOR=%s", s->name);
        log_struct(level, 0, NULL, LOG_FIELDS(field), "Sensor %s (%s) %s.", s->name, s->source, what);
}

static Sensor *take_sensor_named(Sensor **sensors, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (sensors[i] && strcmp(sensors[i]->name, name) == 0)
                        return TAKE_PTR(sensors[i]);
        return NULL;
}

/* Puts sensor in slot (of t->slots, with room in t->readings): its reader made first, so that a failure
 * leaves the slot as it was. */
static int slot_install(Thermometer *t, Slot *slot, Sensor *sensor) {
        SensorReader *reader = NULL;
        uint64_t changes[_LEVEL_MAX];
        int r;

        if (sensor->slow) {
                r = sensor_reader_new(t->event, sensor, on_result, t, &reader);
                if (r < 0)
                        return r;
        }
        t->n_slow -= !!slot->reader;
        sensor_reader_free(slot->reader);
        sensor_unref(slot->sensor);
        /* The sensor of that name reads from another source now, or is back: where it was it still is, and
         * what it went through it has still. */
        memcpy(changes, slot->level_changes, sizeof(changes));
        *slot = (Slot) { .sensor = sensor, .reader = reader, .level = slot->level, .level_reading = slot->level_reading };
        memcpy(slot->level_changes, changes, sizeof(changes));
        slot->level_reading.sensor = sensor->name;
        t->n_slow += !!reader;
        /* The newest readings name their sensor by its string: the new one's, and no value until the next
         * tick. */
        t->readings[slot - t->slots] = (Reading) { .sensor = sensor->name, .error = -EINPROGRESS };
        return 0;
}

/* Room for one more sensor, where it is appended. */
static int grow(Thermometer *t) {
        Reading *readings;
        Slot *slots;

        slots = reallocarray(t->slots, t->n_sensors + 1, sizeof(Slot));
        if (!slots)
                return -ENOMEM;
        t->slots = slots;
        readings = reallocarray(t->readings, t->n_sensors + 1, sizeof(Reading));
        if (!readings)
                return -ENOMEM;
        t->readings = readings;
        /* The history's room widens with it: its ticks have no reading of the new one. */
        return t->history ? history_resize(t->history, t->n_sensors + 1) : 0;
}

int thermometer_update_sensors(Thermometer *t, Sensor **sensors, size_t n, ThermometerUpdate *ret) {
        ThermometerUpdate u = {};
        int r = 0;

        assert(t);
        assert(sensors || n == 0);
        assert(ret);

        /* A sensor keeps its place, and so its index in every client's subset: one found again stays as it
         * is, or reads from its new source; one not found is gone. */
        for (size_t i = 0; i < t->n_sensors; i++) {
                Slot *slot = &t->slots[i];
                _cleanup_(sensor_unrefp) Sensor *found = take_sensor_named(sensors, n, slot->sensor->name);
                bool was_gone;

                if (!found) {
                        if (!slot->gone)
                                log_sensor(slot->sensor, LOG_WARNING, "is gone: unavailable until a rescan finds it");
                        /* Its thread, if any, stops: nothing asks a gone sensor for a reading. */
                        u.gone += !slot->gone;
                        t->n_slow -= !!slot->reader;
                        slot->reader = sensor_reader_free(slot->reader);
                        slot->gone = true;
                        continue;
                }
                was_gone = slot->gone;
                if (!was_gone && sensor_same(found, slot->sensor)) {
                        /* The same: its limits and label as they are now (the admin's, sensors.conf's, the
                         * hardware's). Its thread reads neither. */
                        slot->sensor->limits = found->limits;
                        SWAP_PTR(slot->sensor->label, found->label);
                        continue;
                }
                r = slot_install(t, slot, found);
                if (r < 0)
                        break;
                TAKE_PTR(found);
                log_sensor(slot->sensor, LOG_INFO, was_gone ? "is back" : "reads from a new source");
                u.back += was_gone;
                u.changed += !was_gone;
        }
        /* The new ones after the others, each once: a name is one sensor's. */
        for (size_t i = 0; i < n && r >= 0; i++) {
                Slot *slot;

                if (!sensors[i])
                        continue;
                if (thermometer_find_sensor(t, sensors[i]->name, strlen(sensors[i]->name)) >= 0) {
                        log_sensor(sensors[i], LOG_WARNING, "has the name of another sensor: left out");
                        continue;
                }
                r = grow(t);
                if (r < 0)
                        break;
                slot = &t->slots[t->n_sensors];
                *slot = (Slot) {};
                r = slot_install(t, slot, sensors[i]);
                if (r < 0)
                        break;
                sensors[i] = NULL;
                log_sensor(slot->sensor, LOG_INFO, "is new");
                t->n_sensors++;
                u.added++;
        }
        /* Whatever is left is ours to free, on every path. */
        for (size_t i = 0; i < n; i++)
                sensor_unref(sensors[i]);
        free(sensors);
        *ret = u;
        return r;
}

void thermometer_set_interval(Thermometer *t, uint64_t usec) {
        assert(t);
        assert(usec > 0);
        t->interval = usec;
}

int thermometer_set_history(Thermometer *t, uint64_t span_usec) {
        History *h;
        int r;

        assert(t);

        r = history_new(span_usec, t->interval, t->n_sensors, &h);
        if (r < 0)
                return r;
        history_free(t->history);
        t->history = h;
        return 0;
}

History *thermometer_get_history(Thermometer *t) {
        assert(t);

        /* What is older than the span goes also while no tick comes to push it out. */
        if (t->history)
                history_expire(t->history, now_monotonic(t));
        return t->history;
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
        return t->slots[i].sensor;
}

const uint64_t *thermometer_get_level_changes(Thermometer *t, size_t i) {
        assert(t);
        assert(i < t->n_sensors);
        return t->slots[i].level_changes;
}

int thermometer_find_sensor(Thermometer *t, const char *name, size_t n) {
        assert(t);
        assert(name);

        for (size_t i = 0; i < t->n_sensors; i++)
                if (strlen(t->slots[i].sensor->name) == n && memcmp(t->slots[i].sensor->name, name, n) == 0)
                        return (int) i;
        return -ENOENT;
}

uint64_t thermometer_get_readings_total(Thermometer *t) {
        assert(t);
        return t->readings_total;
}

uint64_t thermometer_get_seq(Thermometer *t) {
        assert(t);
        return t->seq;
}

bool thermometer_is_ticking(Thermometer *t) {
        int enabled = SD_EVENT_OFF;

        assert(t);
        (void) sd_event_source_get_enabled(t->timer, &enabled);
        return enabled != SD_EVENT_OFF || t->waiting;
}

void thermometer_check(Thermometer *t) {
        assert(t);

        for (size_t i = 0; i < t->n_sensors; i++) {
                Slot *slot = &t->slots[i];
                int64_t v;

                if (slot->gone)
                        continue;
                if (slot->reader)
                        (void) sensor_reader_request(slot->reader);
                else
                        note_health(t, slot, MIN(sensor_read(slot->sensor, &v), 0));
        }
}

/* A window of ticks is over: if a tenth of them came late, the readings come slower than the interval
 * says, steadily, and the log says so once a window. */
static void count_tick(Thermometer *t, uint64_t now) {
        char every[64], interval[64];

        if (t->window_ticks++ == 0)
                t->window_start = now;
        if (t->window_ticks < TICK_WINDOW)
                return;
        if (t->window_late * 10 >= t->window_ticks)
                log_warning("Readings fell behind at %u of the last %u ticks: one every %s on average, for an "
                            "interval of %s (too many clients for the interval, or too little CPU).",
                                t->window_late, t->window_ticks,
                                format_timespan(every, sizeof(every), (now - t->window_start) / (t->window_ticks - 1)),
                                format_timespan(interval, sizeof(interval), t->interval));
        t->window_ticks = t->window_late = 0;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        Thermometer *t = userdata;
        uint64_t next = usec + t->interval, now;

        take_tick(t);

        /* Keep to the grid of the first tick, unless we fell behind it (a suspend, a stopped process, more
         * clients than one interval can serve): then say so, once in a while. */
        now = now_monotonic(t);
        if (next <= now) {
                char span[64];

                log_full_errno(now > next + 10 * t->interval ? LOG_WARNING : LOG_DEBUG, 0,
                                "Readings fell behind by %s: taking the next in one interval.",
                                format_timespan(span, sizeof(span), (now - next) / 1000 * 1000 + t->interval));
                next = now + t->interval;
                t->window_late++;
        }
        count_tick(t, now);
        if (t->n_active > 0)
                schedule_tick(t, next);
        return 0;
}

void thermometer_add_observer(Thermometer *t, ThermometerObserver *o) {
        assert(t);
        assert(o);
        assert(o->tick || o->answer);
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
                 * newest, whichever is later. Slow sensors read first, so that a stream does not begin
                 * with them unavailable: a tick now waits for them. */
                for (size_t i = 0; i < t->n_sensors; i++)
                        if (t->slots[i].reader && !t->slots[i].fresh)
                                (void) sensor_reader_request(t->slots[i].reader);
                if (t->taken > 0 && now < t->taken + t->interval)
                        schedule_tick(t, t->taken + t->interval);
                else if (!slow_all_fresh(t))
                        wait_for_slow(t);
                else
                        schedule_tick(t, now);
        }
}

/* Whether q asks for a slow sensor. */
static bool request_is_slow(Thermometer *t, const ThermometerRequest *q) {
        return q->sensor == THERMOMETER_ALL_SENSORS ? t->n_slow > 0 : t->slots[q->sensor].reader != NULL;
}

/* Whether the newest readings hold a reading, or an error, for each sensor q asks for: not a slow one's
 * "not ready". */
static bool request_is_ready(Thermometer *t, const ThermometerRequest *q) {
        for (size_t i = 0; i < t->n_sensors; i++)
                if ((q->sensor == THERMOMETER_ALL_SENSORS || i == (size_t) q->sensor) &&
                                t->slots[i].reader && t->readings[i].error == -EINPROGRESS)
                        return false;
        return true;
}

static const Reading *fresh_readings(Thermometer *t, const ThermometerRequest *q) {
        bool slow = request_is_slow(t, q);
        uint64_t now;

        now = now_monotonic(t);
        if (t->taken > 0 && (t->n_active > 0 || now < t->taken + t->interval) && (!slow || request_is_ready(t, q)))
                return t->readings;
        if (t->waiting)
                return NULL;
        if (slow && !slow_all_fresh(t)) {
                wait_for_slow(t);
                return NULL;
        }
        take_tick(t);
        if (t->n_active > 0)
                schedule_tick(t, t->taken + t->interval);
        return t->readings;
}

const Reading *thermometer_request(Thermometer *t, ThermometerObserver *o, ThermometerRequest *q) {
        const Reading *readings;

        assert(t);
        assert(o);
        assert(o->answer);
        assert(q);
        assert(!q->waiting);
        assert(q->sensor == THERMOMETER_ALL_SENSORS || (q->sensor >= 0 && (size_t) q->sensor < t->n_sensors));

        if (t->n_sensors == 0)
                return NULL;
        readings = fresh_readings(t, q);
        if (readings)
                return readings;
        q->next = o->requests;
        o->requests = q;
        q->waiting = true;
        return NULL;
}

void thermometer_request_cancel(ThermometerObserver *o, ThermometerRequest *q) {
        assert(o);
        assert(q);

        if (!q->waiting)
                return;
        for (ThermometerRequest **list = &o->requests; list; list = list == &o->requests ? &o->answering : NULL)
                for (ThermometerRequest **p = list; *p; p = &(*p)->next)
                        if (*p == q) {
                                *p = q->next;
                                list = NULL;
                                break;
                        }
        q->next = NULL;
        q->waiting = false;
}

const Reading *thermometer_peek_readings(Thermometer *t) {
        assert(t);
        return t->taken > 0 ? t->readings : NULL;
}

const Reading *thermometer_get_level_reading(Thermometer *t, size_t i) {
        assert(t);
        assert(i < t->n_sensors);
        return &t->slots[i].level_reading;
}

static void put_reading(StateWriter *w, const Reading *r) {
        state_put_u64(w, r->seq);
        state_put_u64(w, r->time_ms);
        state_put_u64(w, (uint64_t) r->millicelsius);
        state_put_u32(w, (uint32_t) r->error);
        state_put_u8(w, (uint8_t) r->level);
}

void thermometer_serialize(Thermometer *t, StateWriter *w) {
        size_t record;

        assert(t);
        assert(w);

        record = state_begin_record(w, STATE_THERMOMETER);
        state_put_u64(w, t->seq);
        state_put_u64(w, t->readings_total);
        state_put_u64(w, t->taken);
        state_put_u32(w, (uint32_t) t->n_sensors);
        for (size_t i = 0; i < t->n_sensors; i++) {
                const Slot *slot = &t->slots[i];

                state_put_string(w, slot->sensor->name);
                put_reading(w, &t->readings[i]);
                put_reading(w, &slot->level_reading);
                for (size_t k = 0; k < _LEVEL_MAX; k++)
                        state_put_u64(w, slot->level_changes[k]);
        }
        state_end_record(w, record);
        if (t->history)
                history_serialize(t->history, w);
}

static Reading get_reading(StateReader *r) {
        Reading v = {};

        v.seq = state_get_u64(r);
        v.time_ms = state_get_u64(r);
        v.millicelsius = (int64_t) state_get_u64(r);
        v.error = (int) state_get_u32(r);
        v.level = state_get_u8(r);
        if (v.level >= _LEVEL_MAX || v.error > 0 || (v.error == 0 && (v.millicelsius < SENSOR_MILLIDEGREES_MIN ||
                                                                      v.millicelsius > SENSOR_MILLIDEGREES_MAX)))
                state_reader_fail(r, -EBADMSG);
        return v;
}

/* One sensor of the state, read whole before anything of it is taken. */
typedef struct HeldSensor {
        int index;              /* the new server's, or -1 */
        Reading newest, level;
        uint64_t level_changes[_LEVEL_MAX];
} HeldSensor;

int thermometer_deserialize(Thermometer *t, StateReader *r, SensorMap *ret_map) {
        _cleanup_free_ HeldSensor *held = NULL;
        _cleanup_free_ int32_t *map = NULL;
        uint64_t seq, total, taken;
        uint32_t n;

        assert(t);
        assert(r);
        assert(ret_map);

        seq = state_get_u64(r);
        total = state_get_u64(r);
        taken = state_get_u64(r);
        n = state_get_u32(r);
        /* A sensor takes 70 bytes at least: a count the bytes cannot hold is no state. */
        if (r->error < 0 || n > (r->size - r->at) / 70 || taken > now_monotonic(t))
                return -EBADMSG;
        map = calloc(MAX(n, 1u), sizeof(int32_t));
        held = calloc(MAX(n, 1u), sizeof(HeldSensor));
        if (!map || !held)
                return -ENOMEM;
        for (uint32_t i = 0; i < n; i++) {
                char name[PROTOCOL_NAME_MAX + 1];
                HeldSensor *s = &held[i];

                state_get_name(r, name, PROTOCOL_NAME_MAX);
                s->index = r->error < 0 ? -ENOENT : thermometer_find_sensor(t, name, strlen(name));
                s->newest = get_reading(r);
                s->level = get_reading(r);
                for (size_t l = 0; l < _LEVEL_MAX; l++)
                        s->level_changes[l] = state_get_u64(r);
                if (r->error < 0)
                        return r->error;
                /* Two of one name: no state of a server. */
                for (uint32_t k = 0; s->index >= 0 && k < i; k++)
                        if (held[k].index == s->index)
                                return -EBADMSG;
                map[i] = s->index >= 0 ? s->index : -1;
        }

        /* All read: now taken. The newest tick as it was; a sensor the old server had not is unavailable in
         * it. A sensor without limits now (the options changed) is at ok, whatever it was. */
        for (size_t i = 0; i < t->n_sensors; i++)
                t->readings[i] = (Reading) { .sensor = t->slots[i].sensor->name, .seq = seq, .error = -ENODATA };
        for (uint32_t i = 0; i < n; i++) {
                HeldSensor *s = &held[i];
                Slot *slot;

                if (s->index < 0)
                        continue;
                slot = &t->slots[s->index];
                memcpy(slot->level_changes, s->level_changes, sizeof(slot->level_changes));
                if (!limits_any(&slot->sensor->limits))
                        s->newest.level = s->level.level = LEVEL_OK;
                s->newest.sensor = s->level.sensor = slot->sensor->name;
                t->readings[s->index] = s->newest;
                slot->level = s->newest.level;
                slot->level_reading = s->level;
        }
        t->seq = seq;
        t->readings_total = total;
        t->taken = taken;
        *ret_map = (SensorMap) { .map = TAKE_PTR(map), .n = n };
        return 0;
}

void thermometer_deserialize_history(Thermometer *t, StateReader *r, const SensorMap *map) {
        assert(t);
        assert(r);
        assert(map);

        if (t->history)
                history_deserialize(t->history, r, map, t->seq, now_monotonic(t));
}
