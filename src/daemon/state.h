/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* What a server hands the next one at a restart (handover.c), as bytes: records of a type and a length,
 * each of fixed-size integers (in the machine's byte order: both ends are this machine), length-prefixed
 * byte strings, and records within. A reader skips a record type it does not know, and what is left of a
 * record after the fields it knows, so that a newer server reads an older one's state: a field is never
 * removed or moved, only appended, and read only where the state's version (STATE_HEADER's, which every
 * reader of the state carries) has it. Each layer (a session, its connection) has a record of its own, so
 * that what one appends does not move another's.
 *
 * Both sides keep the first error and go on as if nothing happened, so that a caller checks once, at the
 * end: the writer's is -ENOMEM or -EMSGSIZE, the reader's -EBADMSG for bytes that end early or say what
 * cannot be. */
typedef struct StateWriter {
        uint8_t *data;
        size_t size, allocated;
        int error;
} StateWriter;

typedef struct StateReader {
        const uint8_t *data;
        size_t size, at;
        uint32_t version;       /* of the state: which fields its records have */
        int error;
} StateReader;

void state_writer_done(StateWriter *w);

void state_put_u8(StateWriter *w, uint8_t v);
void state_put_u32(StateWriter *w, uint32_t v);
void state_put_u64(StateWriter *w, uint64_t v);
void state_put_bytes(StateWriter *w, const void *p, size_t n);
void state_put_string(StateWriter *w, const char *s);

/* A record of type: what is put until state_end_record() of what this returns is its payload, records
 * within it too. */
size_t state_begin_record(StateWriter *w, uint16_t type);
void state_end_record(StateWriter *w, size_t record);

/* The bytes put, in a sealed memfd of that name, read from its start: 0, or the writer's error, or one of
 * the memfd's. */
int state_writer_to_memfd(StateWriter *w, const char *name, int *ret_fd);

uint8_t state_get_u8(StateReader *r);
uint32_t state_get_u32(StateReader *r);
uint64_t state_get_u64(StateReader *r);
/* The next byte string, in place: its length in *ret_n (at most max, else an error). */
const void *state_get_bytes(StateReader *r, size_t max, size_t *ret_n);
/* A byte string as a name: 1 to max bytes, no NUL in it, copied into buf (max + 1 bytes). */
void state_get_name(StateReader *r, char *buf, size_t max);
/* A boolean: a byte 0 or 1, anything else an error. */
bool state_get_bool(StateReader *r);

/* The next record: true with its type and a reader of its payload alone, of r's version; false at the end,
 * or on an error (r->error says which). */
bool state_next_record(StateReader *r, uint16_t *ret_type, StateReader *ret_payload);

/* Marks r as failed with error, unless it failed already. */
static inline void state_reader_fail(StateReader *r, int error) {
        if (r->error == 0)
                r->error = error;
}

/* The records a server's state is made of (handover.c), in the order they come. */
enum {
        STATE_HEADER = 1,       /* what wrote it: a magic string, the format's version */
        STATE_MANAGER,          /* the first start, the restarts since */
        STATE_THERMOMETER,      /* the seq, each sensor by name and its level (thermometer.c) */
        STATE_HISTORY,          /* the ticks held (history.c) */
        STATE_PEER,             /* a client: its socket's place, its front end's name, then the front end's */
        STATE_SESSION,          /* a thermo/1 client's subscription and requests (session.c), in STATE_PEER */
        STATE_CONNECTION,       /* its connection's input and output (connection.c), after STATE_SESSION */
};

/* Where each sensor of the state's went: map[i] is the new index of the old server's sensor i, or -1 where
 * the new server has no sensor of its name. */
typedef struct SensorMap {
        int32_t *map;
        size_t n;
} SensorMap;

static inline int32_t sensor_map_get(const SensorMap *m, uint64_t old) {
        return old < m->n ? m->map[old] : -1;
}
