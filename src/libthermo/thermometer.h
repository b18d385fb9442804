/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "protocol.h"
#include "sensor.h"

/* The process's one thermometer: a time source on sd_event_default() that takes a reading every interval
 * while anyone subscribes, formats it once, and hands the same bytes to every subscriber. */
typedef struct Thermometer Thermometer;
typedef struct Subscriber Subscriber;

/* line is a whole "TEMP ...\n" line, or "ERR 503 ...\n" when the sensor failed (then reading is NULL). */
typedef void (*subscriber_handler_t)(Subscriber *s, const char *line, size_t length, const Reading *reading);

struct Subscriber {
        subscriber_handler_t handler;
        bool subscribed;
        LIST_FIELDS(Subscriber, subscribers);
};

#define THERMOMETER_INTERVAL_DEFAULT (1000 * UINT64_C(1000))

/* Returns a new reference to the process's thermometer, creating it on the first call. */
int thermometer_default(Thermometer **ret);
Thermometer *thermometer_ref(Thermometer *t);
Thermometer *thermometer_unref(Thermometer *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Thermometer *, thermometer_unref);

/* Takes ownership of the sensor. */
void thermometer_set_sensor(Thermometer *t, Sensor *sensor);
void thermometer_set_interval(Thermometer *t, uint64_t usec);
uint64_t thermometer_get_interval(Thermometer *t);
const char *thermometer_get_sensor_description(Thermometer *t);
size_t thermometer_get_subscribers(Thermometer *t);
bool thermometer_is_ticking(Thermometer *t);

/* Called after every reading, before the subscribers get it; unlike a subscriber, it does not keep the
 * thermometer ticking. The server uses it for its sd_notify STATUS=. */
typedef void (*thermometer_observer_t)(Thermometer *t, void *userdata);
void thermometer_set_observer(Thermometer *t, thermometer_observer_t observer, void *userdata);

/* A subscriber gets every reading taken from now on; subscribing twice is a no-op. Either call is safe
 * from inside a subscriber's handler. */
int thermometer_subscribe(Thermometer *t, Subscriber *s);
void thermometer_unsubscribe(Thermometer *t, Subscriber *s);

/* The newest reading as a whole line; a reading is taken on demand when there is none yet or when the
 * newest is older than one interval (the thermometer sleeps while nobody subscribes). */
int thermometer_get_line(Thermometer *t, const char **ret_line, size_t *ret_length);

/* The newest successful reading, or NULL. */
const Reading *thermometer_get_reading(Thermometer *t);
