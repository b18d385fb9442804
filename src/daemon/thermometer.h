/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "reading.h"
#include "sensor.h"

/* The process's one thermometer: a time source on sd_event_default() that reads every sensor at each tick
 * while any observer wants ticks, and hands its observers the readings as data. A slow sensor is read by a
 * thread of its own (sensor-reader.c); a tick reports its newest result when that is fresh, and the sensor
 * as unavailable when it is not: never an old value as a new one, and never a wait for it. */
typedef struct Thermometer Thermometer;
typedef struct ThermometerObserver ThermometerObserver;

/* One tick: a reading per sensor, in sensor order (the default sensor first). */
typedef void (*thermometer_tick_t)(ThermometerObserver *o, const Reading *readings, size_t n);

struct ThermometerObserver {
        thermometer_tick_t tick;
        bool active;            /* wants ticks: the thermometer runs while any observer does */
        LIST_FIELDS(ThermometerObserver, observers);
};

#define THERMOMETER_INTERVAL_DEFAULT (1000 * UINT64_C(1000))

/* Returns a new reference to the process's thermometer, creating it on the first call. */
int thermometer_default(Thermometer **ret);
Thermometer *thermometer_unref(Thermometer *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Thermometer *, thermometer_unref);

/* Takes ownership of the sensors (an array of n, the default sensor first) on success. */
int thermometer_set_sensors(Thermometer *t, Sensor **sensors, size_t n);
/* What a rescan changed. */
typedef struct ThermometerUpdate {
        size_t added;   /* new sensors, after the others */
        size_t gone;    /* sensors not found any more: unavailable from now on */
        size_t back;    /* gone ones found again */
        size_t changed; /* found again under the same name, reading from another source */
} ThermometerUpdate;

/* A rescan's sensors (an array of n, which it takes, whatever it returns): every sensor keeps its index,
 * new ones come after, and one not among them is gone. Observers see the new count with the next tick. On
 * failure, some of the changes may be made, and ret says which. */
int thermometer_update_sensors(Thermometer *t, Sensor **sensors, size_t n, ThermometerUpdate *ret);
void thermometer_set_interval(Thermometer *t, uint64_t usec);
uint64_t thermometer_get_interval(Thermometer *t);
size_t thermometer_get_n_sensors(Thermometer *t);
const Sensor *thermometer_get_sensor(Thermometer *t, size_t i);
/* The index of the sensor with that name (n bytes), or -ENOENT. */
int thermometer_find_sensor(Thermometer *t, const char *name, size_t n);
bool thermometer_is_ticking(Thermometer *t);
/* Readings the sensors have given since the start, all told. */
uint64_t thermometer_get_readings_total(Thermometer *t);
/* Whether a tick waits for slow sensors to answer (thermometer_get_readings()). */
bool thermometer_is_waiting(Thermometer *t);

/* Reads every sensor once, to say at start which gives no reading (slow ones say so when they have read). */
void thermometer_check(Thermometer *t);

/* An observer gets every tick from now on, and those taken on demand. Both calls are safe from inside an
 * observer's tick. */
void thermometer_add_observer(Thermometer *t, ThermometerObserver *o);
void thermometer_remove_observer(Thermometer *t, ThermometerObserver *o);
/* An observer wants ticks, or no longer does. */
void thermometer_set_active(Thermometer *t, ThermometerObserver *o, bool active);

/* The newest readings, one per sensor, when they are fresh: taken within one interval, or on demand now.
 * Where slow is set and a slow sensor has no fresh reading, it is asked for one and NULL is returned: the
 * readings come with the next tick, once it has answered (or a few seconds have passed). */
const Reading *thermometer_get_readings(Thermometer *t, bool slow);
/* The newest readings without taking any: NULL before the first tick. */
const Reading *thermometer_peek_readings(Thermometer *t);
