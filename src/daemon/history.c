/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "history.h"
#include "sensor.h"

/* What a sensor's cell holds besides millidegrees, which a reading's bounds keep far from both. */
#define CELL_FAILED INT32_MIN
#define CELL_ABSENT (INT32_MIN + 1)

/* A sensor's line at a tick: its value, and its time as the line said it, from the tick's (a slow sensor's
 * reading is as old as its thread's read). */
typedef struct Cell {
        int32_t millicelsius;
        int32_t time_offset_ms;
} Cell;

typedef struct Row {
        uint64_t seq;
        uint64_t time_ms;       /* CLOCK_REALTIME, as the tick's lines say it */
        uint64_t taken;         /* CLOCK_MONOTONIC, for the span */
        Cell cells[];           /* width of them */
} Row;

struct History {
        uint64_t span;
        uint8_t *rows;          /* capacity rows of row_size bytes, a ring: the oldest at first */
        size_t row_size, width;
        size_t capacity, first, n;
};

static Row *row(const History *h, size_t i) {
        return (Row *) (h->rows + ((h->first + i) % h->capacity) * h->row_size);
}

static int allocate(History *h, size_t width) {
        /* Every row where a Row may be, its seq and times aligned. */
        size_t row_size = (sizeof(Row) + width * sizeof(Cell) + _Alignof(Row) - 1) / _Alignof(Row) * _Alignof(Row);
        uint8_t *rows;

        if (h->capacity == 0)
                return 0;
        rows = calloc(h->capacity, row_size);
        if (!rows)
                return -ENOMEM;
        /* What is held, in order from the first slot, each row widened with the sensors it did not have. */
        for (size_t i = 0; i < h->n; i++) {
                Row *from = row(h, i), *to = (Row *) (rows + i * row_size);

                memcpy(to, from, h->row_size);
                for (size_t k = h->width; k < width; k++)
                        to->cells[k] = (Cell) { .millicelsius = CELL_ABSENT };
        }
        free(h->rows);
        h->rows = rows;
        h->row_size = row_size;
        h->width = width;
        h->first = 0;
        return 0;
}

int history_new(uint64_t span_usec, uint64_t interval_usec, size_t n_sensors, History **ret) {
        _cleanup_(history_freep) History *h = NULL;
        int r;

        assert(interval_usec > 0);
        assert(ret);

        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->span = span_usec;
        /* A tick at each end of the span. */
        h->capacity = span_usec == 0 ? 0 : (size_t) (span_usec / interval_usec) + 1;
        r = allocate(h, n_sensors);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(h);
        return 0;
}

History *history_free(History *h) {
        if (!h)
                return NULL;
        free(h->rows);
        free(h);
        return NULL;
}

int history_resize(History *h, size_t n_sensors) {
        assert(h);

        if (n_sensors <= h->width)
                return 0;
        return allocate(h, n_sensors);
}

void history_expire(History *h, uint64_t now_usec) {
        assert(h);

        while (h->n > 0 && now_usec - row(h, 0)->taken > h->span) {
                h->first = (h->first + 1) % h->capacity;
                h->n--;
        }
}

void history_add(History *h, uint64_t now_usec, const Reading *readings, size_t n) {
        Row *r;

        assert(h);
        assert(readings || n == 0);
        assert(n <= h->width || h->capacity == 0);

        if (h->capacity == 0)
                return;
        history_expire(h, now_usec);
        if (h->n == h->capacity) {
                h->first = (h->first + 1) % h->capacity;
                h->n--;
        }
        r = row(h, h->n++);
        r->seq = readings[0].seq;
        r->time_ms = readings[0].time_ms;
        r->taken = now_usec;
        for (size_t i = 0; i < h->width; i++) {
                Cell *c = &r->cells[i];

                if (i >= n) {
                        *c = (Cell) { .millicelsius = CELL_ABSENT };
                        continue;
                }
                /* A reading is within SENSOR_MILLIDEGREES_MIN and _MAX (sensor.h): it fits; a slow one's time
                 * is seconds from the tick's, at most. */
                c->millicelsius = readings[i].error < 0 ? CELL_FAILED :
                        (int32_t) MAX(MIN(readings[i].millicelsius, (int64_t) SENSOR_MILLIDEGREES_MAX),
                                      (int64_t) SENSOR_MILLIDEGREES_MIN);
                c->time_offset_ms = (int32_t) MAX(MIN((int64_t) readings[i].time_ms - (int64_t) r->time_ms,
                                                      (int64_t) INT32_MAX), (int64_t) INT32_MIN);
        }
}

void history_bounds(const History *h, uint64_t *ret_oldest, uint64_t *ret_newest) {
        assert(h);
        assert(ret_oldest);
        assert(ret_newest);

        *ret_oldest = h->n > 0 ? row(h, 0)->seq : 0;
        *ret_newest = h->n > 0 ? row(h, h->n - 1)->seq : 0;
}

/* The index of the first row with a seq greater than after (h->n where none is): seqs only grow. */
static size_t first_after(const History *h, uint64_t after) {
        size_t lo = 0, hi = h->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (row(h, mid)->seq <= after)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

bool history_find_after(const History *h, uint64_t after, uint64_t *ret_seq) {
        size_t i;

        assert(h);
        assert(ret_seq);

        i = first_after(h, after);
        if (i >= h->n)
                return false;
        *ret_seq = row(h, i)->seq;
        return true;
}

int history_reading(const History *h, uint64_t seq, size_t sensor, Reading *ret) {
        const Row *r;
        size_t i;

        assert(h);
        assert(ret);

        i = seq == 0 ? h->n : first_after(h, seq - 1);
        if (i >= h->n || row(h, i)->seq != seq)
                return -ENOENT;
        r = row(h, i);
        if (sensor >= h->width || r->cells[sensor].millicelsius == CELL_ABSENT)
                return -ENXIO;
        *ret = (Reading) {
                .seq = r->seq,
                .time_ms = r->time_ms + (uint64_t) (int64_t) r->cells[sensor].time_offset_ms,
                .millicelsius = r->cells[sensor].millicelsius == CELL_FAILED ? 0 : r->cells[sensor].millicelsius,
                .error = r->cells[sensor].millicelsius == CELL_FAILED ? -ENODATA : 0,
        };
        return 0;
}

void history_serialize(const History *h, StateWriter *w) {
        size_t record;

        assert(h);
        assert(w);

        record = state_begin_record(w, STATE_HISTORY);
        state_put_u32(w, (uint32_t) h->width);
        state_put_u32(w, (uint32_t) h->n);
        for (size_t i = 0; i < h->n; i++) {
                const Row *r = row(h, i);

                state_put_u64(w, r->seq);
                state_put_u64(w, r->time_ms);
                state_put_u64(w, r->taken);
                for (size_t k = 0; k < h->width; k++) {
                        state_put_u32(w, (uint32_t) r->cells[k].millicelsius);
                        state_put_u32(w, (uint32_t) r->cells[k].time_offset_ms);
                }
        }
        state_end_record(w, record);
}

static bool cell_is_valid(int32_t millicelsius) {
        return IN_SET(millicelsius, CELL_FAILED, CELL_ABSENT) ||
                (millicelsius >= SENSOR_MILLIDEGREES_MIN && millicelsius <= SENSOR_MILLIDEGREES_MAX);
}

void history_deserialize(History *h, StateReader *r, const SensorMap *map, uint64_t newest, uint64_t now_usec) {
        uint64_t last = 0, last_taken = 0;
        uint32_t width, n;

        assert(h);
        assert(r);
        assert(map);
        assert(h->n == 0);

        width = state_get_u32(r);
        n = state_get_u32(r);
        /* Each row takes 24 bytes and 8 a sensor: a count the bytes cannot hold is no history. */
        if ((uint64_t) n * (24 + 8 * (uint64_t) width) > r->size - r->at) {
                state_reader_fail(r, -EBADMSG);
                return;
        }
        for (uint32_t i = 0; i < n && r->error == 0; i++) {
                uint64_t seq = state_get_u64(r), time_ms = state_get_u64(r), taken = state_get_u64(r);
                Row *to = NULL;

                /* Seqs only grow, as history_find_after() relies on, up to the thermometer's, which the next
                 * tick is one after; and each tick was taken after the one before it, as the span expects. */
                if (seq <= last || seq > newest || taken < last_taken || taken > now_usec) {
                        state_reader_fail(r, -EBADMSG);
                        return;
                }
                last = seq;
                last_taken = taken;
                if (h->capacity > 0) {
                        if (h->n == h->capacity) {
                                h->first = (h->first + 1) % h->capacity;
                                h->n--;
                        }
                        to = row(h, h->n++);
                        *to = (Row) { .seq = seq, .time_ms = time_ms, .taken = taken };
                        for (size_t k = 0; k < h->width; k++)
                                to->cells[k] = (Cell) { .millicelsius = CELL_ABSENT };
                }
                for (uint32_t k = 0; k < width; k++) {
                        Cell c = { .millicelsius = (int32_t) state_get_u32(r), .time_offset_ms = (int32_t) state_get_u32(r) };
                        int32_t at = sensor_map_get(map, k);

                        if (!cell_is_valid(c.millicelsius)) {
                                state_reader_fail(r, -EBADMSG);
                                return;
                        }
                        if (to && at >= 0 && (size_t) at < h->width)
                                to->cells[at] = c;
                }
        }
        history_expire(h, now_usec);
}

size_t history_memory(const History *h) {
        assert(h);
        return sizeof(*h) + h->capacity * h->row_size;
}
