/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "reading.h"
#include "sensor.h"
#include "state.h"

/* The process's one thermometer: a time source on sd_event_default() that reads every sensor at each tick
 * while any observer wants ticks, and hands its observers the readings as data. A slow sensor is read by a
 * thread of its own (sensor-reader.c); a tick reports its newest result when that is fresh, and the sensor
 * as unavailable when it is not: never an old value as a new one, and never a wait for it. */
typedef struct Thermometer Thermometer;
typedef struct ThermometerObserver ThermometerObserver;
typedef struct History History;
typedef struct ThermometerRequest ThermometerRequest;

/* One tick: a reading per sensor, in sensor order (the default sensor first). */
typedef void (*thermometer_tick_t)(ThermometerObserver *o, const Reading *readings, size_t n);
/* A request of the observer's has its fresh readings (thermometer_request()). */
typedef void (*thermometer_answer_t)(ThermometerObserver *o, ThermometerRequest *q, const Reading *readings,
                size_t n);

/* What a front end is to the thermometer: one per front end. */
struct ThermometerObserver {
        thermometer_tick_t tick;        /* for front ends that stream; may be NULL */
        thermometer_answer_t answer;    /* for front ends that make requests */
        bool active;            /* wants ticks: the thermometer runs while any observer does */
        LIST_FIELDS(ThermometerObserver, observers);
        ThermometerRequest *requests;   /* its requests that wait for a tick */
        ThermometerRequest *answering;  /* those a tick has still to look at, while it answers */
};

/* A fresh reading, maybe at the next tick: what a GET or a scrape asks for. A front end embeds one in its
 * client, zeroed, as it embeds an observer in itself; it waits on the observer's list, without an
 * allocation. */
#define THERMOMETER_ALL_SENSORS (-1)
struct ThermometerRequest {
        ThermometerRequest *next;
        int32_t sensor;         /* the sensor asked for, or THERMOMETER_ALL_SENSORS */
        bool waiting;
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
/* Keeps the ticks of the last span_usec (0: none) from now on, for sensors and the interval as they are:
 * after thermometer_set_interval() and the first thermometer_update_sensors(). */
int thermometer_set_history(Thermometer *t, uint64_t span_usec);
/* The ticks held, or NULL before thermometer_set_history(). */
History *thermometer_get_history(Thermometer *t);
uint64_t thermometer_get_interval(Thermometer *t);
size_t thermometer_get_n_sensors(Thermometer *t);
const Sensor *thermometer_get_sensor(Thermometer *t, size_t i);
/* How many times the sensor went into each level (indexed by Level) since the start: every change once. */
const uint64_t *thermometer_get_level_changes(Thermometer *t, size_t i);
/* The index of the sensor with that name (n bytes), or -ENOENT. */
int thermometer_find_sensor(Thermometer *t, const char *name, size_t n);
bool thermometer_is_ticking(Thermometer *t);
/* Readings the sensors have given since the start, all told. */
uint64_t thermometer_get_readings_total(Thermometer *t);
/* The number of the newest tick that had a reading, 0 before any. */
uint64_t thermometer_get_seq(Thermometer *t);

/* Reads every sensor once, to say at start which gives no reading (slow ones say so when they have read). */
void thermometer_check(Thermometer *t);

/* An observer gets every tick from now on, and those taken on demand. Both calls are safe from inside an
 * observer's tick. */
void thermometer_add_observer(Thermometer *t, ThermometerObserver *o);
void thermometer_remove_observer(Thermometer *t, ThermometerObserver *o);
/* An observer wants ticks, or no longer does. */
void thermometer_set_active(Thermometer *t, ThermometerObserver *o, bool active);

/* The newest readings, one per sensor, for q (with q->sensor set), when they are fresh: taken within one
 * interval, or on demand now. Where q asks for a slow sensor that has no fresh reading, the sensor is
 * asked for one, NULL is returned, and q waits: o->answer() gets the readings with the next tick at which
 * the sensors q asks for have read, or the wait for them is over (then those that did not answer are
 * unavailable). */
const Reading *thermometer_request(Thermometer *t, ThermometerObserver *o, ThermometerRequest *q);
/* q waits no more (its client is going); safe whether it waits or not. */
void thermometer_request_cancel(ThermometerObserver *o, ThermometerRequest *q);
/* The reading that put sensor i at its level (thermometer_peek_readings()[i].level): seq 0 while it is at
 * ok since the start. */
const Reading *thermometer_get_level_reading(Thermometer *t, size_t i);

/* What goes on across a restart (handover.c): the seq and the newest tick, and each sensor by name with its
 * level and its counts, as a STATE_THERMOMETER record; then the history's. */
void thermometer_serialize(Thermometer *t, StateWriter *w);
/* A STATE_THERMOMETER record, once the sensors and the history are set and before any tick: the seq goes
 * on from it, each sensor of the same name takes its level back, and *ret_map says where each old sensor
 * went (for the history's record and the clients'). 0, or -EBADMSG for a record that is not one, or
 * -ENOMEM. */
int thermometer_deserialize(Thermometer *t, StateReader *r, SensorMap *ret_map);
/* A STATE_HISTORY record, after thermometer_deserialize(). */
void thermometer_deserialize_history(Thermometer *t, StateReader *r, const SensorMap *map);

/* The newest readings without taking any: NULL before the first tick. */
const Reading *thermometer_peek_readings(Thermometer *t);
