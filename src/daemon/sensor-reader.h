/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "sensor.h"

/* A slow sensor's reads, off the event loop: a thread of its own reads when asked, and wakes the loop
 * through an eventfd when it has a result. Nothing on the loop ever waits for it. */
typedef struct SensorReader SensorReader;

typedef struct SensorResult {
        int64_t millicelsius;
        int error;              /* 0, or why there is no value */
        uint64_t time_ms;       /* CLOCK_REALTIME when the read ended */
        uint64_t when;          /* CLOCK_MONOTONIC, usec, the same */
} SensorResult;

/* done runs on the loop when a result has come. */
typedef void (*sensor_reader_done_t)(SensorReader *r, const SensorResult *result, void *userdata);

int sensor_reader_new(sd_event *e, Sensor *sensor, sensor_reader_done_t done, void *userdata, SensorReader **ret);
/* Never waits for the thread: a read under way goes on, and the thread frees the reader (and drops its
 * reference to the sensor) when it returns. */
SensorReader *sensor_reader_free(SensorReader *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(SensorReader *, sensor_reader_free);

/* Starts a read unless one is under way: true when it did. */
bool sensor_reader_request(SensorReader *r);
