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
 * while any observer wants ticks, and hands its observers the readings as data. */
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
void thermometer_set_interval(Thermometer *t, uint64_t usec);
uint64_t thermometer_get_interval(Thermometer *t);
size_t thermometer_get_n_sensors(Thermometer *t);
const Sensor *thermometer_get_sensor(Thermometer *t, size_t i);
bool thermometer_is_ticking(Thermometer *t);

/* An observer gets every tick from now on, and those taken on demand. Both calls are safe from inside an
 * observer's tick. */
void thermometer_add_observer(Thermometer *t, ThermometerObserver *o);
void thermometer_remove_observer(Thermometer *t, ThermometerObserver *o);
/* An observer wants ticks, or no longer does. */
void thermometer_set_active(Thermometer *t, ThermometerObserver *o, bool active);

/* The newest readings, one per sensor; a tick is taken on demand when there is none yet, or when the
 * newest is older than one interval (the thermometer sleeps while nobody wants ticks). */
const Reading *thermometer_get_readings(Thermometer *t);
/* The newest readings without taking any: NULL before the first tick. */
const Reading *thermometer_peek_readings(Thermometer *t);
