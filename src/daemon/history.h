/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "reading.h"
#include "state.h"

/* The ticks of the last --history span (thermo-protocol(7), "History and resume"): each sensor's reading or
 * its failure, as the tick sent it live, for a client that comes back (STREAM after=) and for HISTORY.
 *
 * A ring of rows, oldest first: a tick's seq and times, then 8 bytes per sensor (its millidegrees, or that
 * it had none, or that it was not there yet; and its line's time, from the tick's). The ring is allocated for the span at the interval at start
 * and again when a rescan adds sensors, never per tick: a tick past its room takes the oldest one's. No
 * I/O here. */
typedef struct History History;

/* Holds span_usec of ticks that come every interval_usec (more often on demand: then fewer of them, for
 * the room is the span's at the interval) of n_sensors. span_usec 0: nothing is ever held. */
int history_new(uint64_t span_usec, uint64_t interval_usec, size_t n_sensors, History **ret);
History *history_free(History *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(History *, history_free);

/* Room for n_sensors (a rescan added some): the ticks held keep theirs, without the new ones. */
int history_resize(History *h, size_t n_sensors);

/* Keeps a tick of n readings, taken at CLOCK_MONOTONIC now_usec; what is older than the span goes. */
void history_add(History *h, uint64_t now_usec, const Reading *readings, size_t n);

/* Lets go of what is older than the span at now_usec: a history that nothing was added to for long
 * holds nothing of then. */
void history_expire(History *h, uint64_t now_usec);

/* The first and the last seq held, both 0 when none is. */
void history_bounds(const History *h, uint64_t *ret_oldest, uint64_t *ret_newest);

/* The oldest held tick with a seq greater than after: false when there is none. Its readings come with
 * history_reading(). */
bool history_find_after(const History *h, uint64_t after, uint64_t *ret_seq);

/* The reading of sensor at the held tick seq, as it went out (its error -ENODATA for a failure): -ENOENT
 * when the tick is no longer held, -ENXIO when the sensor was not there then. */
int history_reading(const History *h, uint64_t seq, size_t sensor, Reading *ret);

/* The ticks held, as a STATE_HISTORY record, for the server after a restart. */
void history_serialize(const History *h, StateWriter *w);
/* The ticks of a STATE_HISTORY record, each sensor's where map puts it (a sensor the map has not, dropped),
 * into h, new and empty: as many of the newest as it has room for, and the span keeps at now_usec. None
 * is past newest, the thermometer's seq. A record that is not one is r's error (and h holds the ticks
 * before the first bad one). */
void history_deserialize(History *h, StateReader *r, const SensorMap *map, uint64_t newest, uint64_t now_usec);

/* Bytes the history holds for its ticks: what the benchmark measures. */
size_t history_memory(const History *h);
