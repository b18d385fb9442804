/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "front-end-thermo.h"
#include "history.h"
#include "session.h"

#define LINE(s) s, strlen(s)

static void session_close(Session *s, const char *why);

/* Replies to the request being handled: they may take the queue past --buffer-size by one request's worth
 * (the flow-control rule takes no further request until the client has read them). One that still does
 * not fit would leave the client out of step with its requests (a BYE, an END, an ERR 408 missing): the
 * connection ends instead, once what is queued is sent. */
static void reply(Session *s, const char *data, size_t n) {
        if (connection_write(&s->connection, data, n, thermo_front_end_get_reply_max(s->front_end)) == -ENOBUFS)
                session_close(s, "replies not read, and no room for more");
}

static void reply_error(Session *s, unsigned code, const char *text) {
        char line[PROTOCOL_REPLY_MAX];
        size_t k;

        k = protocol_format_error(line, sizeof(line), code, text);
        reply(s, line, k);
}

static Thermometer *thermometer(Session *s) {
        return s->front_end->front_end.manager->thermometer;
}

static void start_replay(Session *s, uint64_t after, uint64_t until, const uint64_t *subset, bool all, bool end);

/* No more held ticks for it. A stream's go on live. HISTORY's END comes, and requests again; a stream it
 * paused takes up where it was, from the history. */
static void end_replay(Session *s) {
        bool end = s->replay && s->replay->end;

        if (s->replay)
                sd_event_source_disable_unref(s->replay->defer);
        s->replay = mfree(s->replay);
        if (!end)
                return;
        reply(s, LINE("END\n"));
        connection_set_streaming(&s->connection, s->subscribed);
        connection_release(&s->connection);
        if (s->stream && !s->connection.finished && !s->connection.closing)
                start_replay(s, s->stream_seq, UINT64_MAX, s->subset, s->all, false);
}

/* The stream is over (its count, a STOP, the end): the session stays subscribed while it has ALARMS. */
static void end_stream(Session *s) {
        if (!s->replay || !s->replay->end)
                end_replay(s);
        s->stream = false;
        s->subset = mfree(s->subset);
        s->all = false;
        if (!s->alarms)
                thermo_front_end_unsubscribe(s->front_end, s);
}

/* STOP ends both. */
static void unsubscribe(Session *s) {
        s->alarms = false;
        end_stream(s);
}

/* A session that still streams here lost its connection: QUIT, STOP and the server's own end unsubscribe
 * first. */
static void session_close(Session *s, const char *why) {
        if (s->subscribed)
                manager_keep_ticking(s->front_end->front_end.manager);
        unsubscribe(s);
        connection_close(&s->connection, why);
}

/* A session of fe, zeroed, with no connection yet: what session_free() frees as it is. */
static Session *session_alloc(ThermoFrontEnd *fe) {
        Session *s = calloc(1, sizeof(*s));

        if (!s)
                return NULL;
        s->front_end = fe;
        s->connection.fd = -EBADF;
        return s;
}

int session_new(ThermoFrontEnd *fe, int fd, const PeerAddress *address, const ConnectionOps *ops, Session **ret) {
        _cleanup_(session_freep) Session *s = NULL;
        char hello[PROTOCOL_HELLO_MAX], host[PROTOCOL_HOST_MAX + 1];
        ServerInfo info;
        size_t n;
        int r;

        assert(fe);
        assert(address);
        assert(ops);
        assert(ret);

        s = session_alloc(fe);
        if (!s) {
                safe_close(fd);
                return -ENOMEM;
        }

        r = connection_start(&s->connection, fe->front_end.manager, fd, address, ops);
        if (r < 0)
                return r;

        thermo_front_end_get_info(fe, host, &info);
        n = protocol_format_hello(hello, sizeof(hello), &info);
        reply(s, hello, n);

        /* Counted by the manager now, which frees it (PeerOps.free) when it is over. */
        *ret = TAKE_PTR(s);
        return 0;
}

Session *session_free(Session *s) {
        if (!s)
                return NULL;
        /* Still streaming: its connection broke (a reset, an error). */
        if (s->subscribed)
                manager_keep_ticking(s->front_end->front_end.manager);
        unsubscribe(s);
        thermometer_request_cancel(&s->front_end->observer, &s->get);
        if (s->replay)
                sd_event_source_disable_unref(s->replay->defer);
        free(s->replay);
        connection_done(&s->connection);
        free(s);
        return NULL;
}

/* A tick sent to a stream, held or live: with readings among its lines, it counts toward the end. */
static void count_tick(Session *s, size_t readings) {
        if (readings == 0 || s->remaining == 0)
                return;
        if (--s->remaining == 0) {
                end_stream(s);
                reply(s, LINE("END\n"));
                if (s->eof && !s->subscribed)
                        session_close(s, "closed by peer");
        }
}

/* The held ticks after the replay's after, oldest first, as fast as the client takes them: never more queued
 * than its buffer holds, so that a replay of the whole history waits in the history, not in our memory.
 * A tick that leaves the history before its turn is missing, as for a slow client. */
/* The held ticks one turn of the loop sends at most: a client that takes all as fast as it comes still lets
 * the thermometer and the others have theirs. */
#define REPLAY_TICKS_PER_TURN 256

static void replay(Session *s);

static int on_replay_turn(sd_event_source *source, void *userdata) {
        replay(userdata);
        return 0;
}

/* The rest in a turn of the loop of its own, where the socket has room still and nothing will say so. */
static void replay_next_turn(Session *s) {
        sd_event *e = s->front_end->front_end.manager->event;

        if (!s->replay->defer && sd_event_add_defer(e, &s->replay->defer, on_replay_turn, s) < 0) {
                connection_abort(&s->connection, -ENOMEM);
                return;
        }
        (void) sd_event_source_set_enabled(s->replay->defer, SD_EVENT_ONESHOT);
}

static void replay(Session *s) {
        Thermometer *t = thermometer(s);

        for (unsigned turn = 0; s->replay && !s->connection.finished && !s->connection.closing; turn++) {
                Replay *p = s->replay;
                History *h = thermometer_get_history(t);
                size_t n, readings;
                const char *lines;
                uint64_t seq;

                if (!h || !history_find_after(h, p->after, &seq) || seq > p->until) {
                        end_replay(s);
                        return;
                }
                if (turn >= REPLAY_TICKS_PER_TURN) {
                        replay_next_turn(s);
                        return;
                }
                n = thermo_front_end_format_held(s->front_end, p->has_subset ? p->subset : NULL, p->n_subset, p->all,
                                seq, &lines, &readings);
                if (n > 0 && !connection_has_room(&s->connection, n)) {
                        connection_notify_drained(&s->connection);
                        return;
                }
                if (n > 0 && connection_write(&s->connection, lines, n, 0) < 0)
                        return;
                p->after = seq;
                if (!p->end) {
                        s->stream_seq = seq;
                        count_tick(s, readings);
                }
        }
}

void session_drained(Session *s) {
        assert(s);
        replay(s);
}

void session_deliver(Session *s, uint64_t seq, const struct iovec *iov, size_t n_iov, size_t n, size_t readings,
                const char *alarms, size_t n_alarms) {
        /* While held ticks go out (the stream's, or a HISTORY's), a live one waits its turn in the history. */
        bool live = s->stream && !s->replay, delivered = false;

        assert(s);
        assert(iov || n_iov == 0);
        assert(alarms || n_alarms == 0);

        /* The thermometer never waits: a tick that does not fit in this client's buffer is skipped for this
         * client alone, all its lines together, and it sees a gap in the sequence numbers. */
        if (live)
                s->stream_seq = seq;
        if (live && !connection_has_room(&s->connection, n)) {
                s->front_end->front_end.manager->skipped += readings;
                if (!s->skipping_said)
                        manager_note_skipping(s->front_end->front_end.manager, &s->connection.peer);
                s->skipping_said = true;
        } else if (live)
                delivered = connection_writev(&s->connection, iov, n_iov, 0) >= 0;

        /* A change of level is never skipped: past the high-water mark by the room of a request's replies.
         * A client that does not take even those is closed. */
        if (s->alarms && n_alarms > 0 &&
                        connection_write(&s->connection, alarms, n_alarms, thermo_front_end_get_reply_max(s->front_end)) ==
                                        -ENOBUFS) {
                session_close(s, "alarms not read, and no room for more");
                return;
        }

        if (delivered)
                count_tick(s, readings);
}

/* The readings a GET asked for, from the default sensor's alone (unnamed, as thermo/1 always had it) to
 * every sensor's, then END. */
static void reply_readings(Session *s, const Reading *readings) {
        char line[PROTOCOL_REPLY_MAX];
        size_t n;

        if (s->get.sensor != THERMOMETER_ALL_SENSORS) {
                n = protocol_format_reading(line, sizeof(line), &readings[s->get.sensor], s->get_named);
                reply(s, line, n);
                return;
        }
        for (size_t i = 0; i < thermometer_get_n_sensors(thermometer(s)); i++) {
                n = protocol_format_reading(line, sizeof(line), &readings[i], true);
                reply(s, line, n);
        }
        reply(s, LINE("END\n"));
}

/* GET, GET <name> (index >= 0) or GET * (all). */
static void handle_get(Session *s, bool all, int index) {
        const Reading *readings;

        s->get.sensor = all ? THERMOMETER_ALL_SENSORS : MAX(index, 0);
        s->get_named = !all && index >= 0;
        readings = thermometer_request(thermometer(s), &s->front_end->observer, &s->get);
        if (readings) {
                reply_readings(s, readings);
                return;
        }
        /* A slow sensor is reading: answer at the tick that has it, and take no request before. */
        connection_hold(&s->connection);
}

void session_answer_get(Session *s, const Reading *readings) {
        assert(s);
        assert(readings);

        reply_readings(s, readings);
        connection_release(&s->connection);
}

/* The sensors a request names, as indexes: -ENOENT (and ERR 404 said) when the server has no such one. */
static int find_sensors(Session *s, const char *line, const Request *req, int *indexes) {
        for (size_t i = 0; i < req->n_names; i++) {
                indexes[i] = thermometer_find_sensor(thermometer(s), line + req->names[i].at, req->names[i].length);
                if (indexes[i] < 0) {
                        reply_error(s, 404, "no such sensor");
                        return -ENOENT;
                }
        }
        return 0;
}

/* The sensors a request names, as a bit set of every sensor there is now (*ret NULL for none named): 0, or
 * -ENOENT (ERR 404 said), or -ENOMEM (the connection aborted). */
static int subset_of(Session *s, const char *line, const Request *req, uint64_t **ret) {
        size_t n = thermometer_get_n_sensors(thermometer(s));
        int indexes[PROTOCOL_NAMES_MAX];
        uint64_t *subset;

        if (find_sensors(s, line, req, indexes) < 0)
                return -ENOENT;
        *ret = NULL;
        if (req->n_names == 0)
                return 0;
        subset = calloc((n + 63) / 64, sizeof(uint64_t));
        if (!subset) {
                connection_abort(&s->connection, -ENOMEM);
                return -ENOMEM;
        }
        for (size_t i = 0; i < req->n_names; i++)
                subset[indexes[i] / 64] |= UINT64_C(1) << (indexes[i] % 64);
        *ret = subset;
        return 0;
}

/* The seq of the newest tick held, 0 when none is. */
static uint64_t newest_held(Session *s) {
        History *h = thermometer_get_history(thermometer(s));
        uint64_t oldest = 0, newest = 0;

        if (h)
                history_bounds(h, &oldest, &newest);
        return newest;
}

/* Held ticks after after= go out first, for the sensors of subset (a copy of its own: a STREAM's goes with
 * a STOP), or of all; HISTORY's (end) with END after them, taking no request until then. */
static void start_replay(Session *s, uint64_t after, uint64_t until, const uint64_t *subset, bool all, bool end) {
        size_t n = thermometer_get_n_sensors(thermometer(s)), words = subset ? (n + 63) / 64 : 0;
        Replay *p;

        end_replay(s);
        p = calloc(1, sizeof(Replay) + words * sizeof(uint64_t));
        if (!p) {
                connection_abort(&s->connection, -ENOMEM);
                return;
        }
        if (subset)
                memcpy(p->subset, subset, words * sizeof(uint64_t));
        p->has_subset = subset;
        p->n_subset = (uint32_t) n;
        p->all = all;
        p->after = after;
        p->until = until;
        p->end = end;
        s->replay = p;
        replay(s);
        /* Not all of it fit: the requests after HISTORY wait for its END, and the client has no idle time
         * while it takes what it asked for. */
        if (s->replay && end) {
                connection_hold(&s->connection);
                connection_set_streaming(&s->connection, true);
        }
}

static void handle_stream(Session *s, const char *line, const Request *req) {
        size_t n = thermometer_get_n_sensors(thermometer(s));
        uint64_t *subset;

        if (subset_of(s, line, req, &subset) < 0)
                return;

        /* A second STREAM replaces the first: the sensors, the count and the held ticks. */
        end_replay(s);
        free(s->subset);
        s->subset = subset;
        s->n_subset = (uint32_t) n;
        s->all = req->all;
        s->remaining = req->count;
        s->stream = true;
        reply(s, LINE("OK STREAM\n"));
        thermo_front_end_subscribe(s->front_end, s);
        /* A stream is what makes a client worth a line in the journal; a GET or a ping is not. */
        manager_announce_peer(s->front_end->front_end.manager, &s->connection.peer);
        s->stream_seq = newest_held(s);
        if (req->has_after) {
                s->stream_seq = req->after;
                start_replay(s, req->after, UINT64_MAX, subset, req->all, false);
        }
}

/* HISTORY: the held ticks (after after=) up to the newest now, oldest first, then END. A stream of the
 * session's waits meanwhile, and then takes up where it was: no tick twice, none left out. */
static void handle_history(Session *s, const char *line, const Request *req) {
        _cleanup_free_ uint64_t *subset = NULL;

        if (subset_of(s, line, req, &subset) < 0)
                return;
        if (s->replay)
                s->stream_seq = s->replay->after;
        start_replay(s, req->has_after ? req->after : 0, newest_held(s), subset, req->all, true);
}

/* LIMITS: each sensor asked for (every one, where none is), in SENSORS order, then END. */
static void handle_limits(Session *s, const char *line, const Request *req) {
        const Reading *readings = thermometer_peek_readings(thermometer(s));
        int indexes[PROTOCOL_NAMES_MAX];
        Thermometer *t = thermometer(s);
        char text[PROTOCOL_REPLY_MAX];
        size_t n;

        if (find_sensors(s, line, req, indexes) < 0)
                return;
        for (size_t i = 0; i < thermometer_get_n_sensors(t); i++) {
                bool asked = req->n_names == 0;

                for (size_t k = 0; !asked && k < req->n_names; k++)
                        asked = indexes[k] == (int) i;
                if (!asked)
                        continue;
                n = protocol_format_limit(text, sizeof(text), thermometer_get_sensor(t, i)->name,
                                readings ? readings[i].level : LEVEL_OK, &thermometer_get_sensor(t, i)->limits);
                reply(s, text, n);
        }
        reply(s, LINE("END\n"));
}

/* ALARMS: OK ALARMS, where each sensor not at ok is now (the reading that put it there), then each change
 * as it comes, with the ticks. */
static void handle_alarms(Session *s) {
        const Reading *readings = thermometer_peek_readings(thermometer(s));
        Thermometer *t = thermometer(s);
        char text[PROTOCOL_REPLY_MAX];
        size_t n;

        reply(s, LINE("OK ALARMS\n"));
        for (size_t i = 0; readings && i < thermometer_get_n_sensors(t); i++) {
                if (readings[i].level == LEVEL_OK)
                        continue;
                n = protocol_format_alarm(text, sizeof(text), thermometer_get_level_reading(t, i));
                reply(s, text, n);
        }
        s->alarms = true;
        thermo_front_end_subscribe(s->front_end, s);
        manager_announce_peer(s->front_end->front_end.manager, &s->connection.peer);
}

static void handle_sensors(Session *s) {
        Thermometer *t = thermometer(s);
        char line[PROTOCOL_REPLY_MAX];
        size_t n;

        for (size_t i = 0; i < thermometer_get_n_sensors(t); i++) {
                const Sensor *sensor = thermometer_get_sensor(t, i);

                n = protocol_format_sensor(line, sizeof(line), sensor->name, sensor->source);
                reply(s, line, n);
        }
        reply(s, LINE("END\n"));
}

void session_handle_line(Session *s, const char *line, size_t n) {
        char text[PROTOCOL_HELLO_MAX], host[PROTOCOL_HOST_MAX + 1];
        const char *error;
        ServerInfo info;
        Request req;
        int index;
        size_t k;

        assert(s);
        assert(line || n == 0);

        if (protocol_parse_request(line, n, &req, &error) < 0) {
                reply_error(s, 400, error);
                return;
        }

        switch (req.type) {
        case REQUEST_EMPTY:
                break;
        case REQUEST_GET:
                if (find_sensors(s, line, &req, &index) < 0)
                        break;
                handle_get(s, req.all, req.n_names > 0 ? index : -1);
                break;
        case REQUEST_STREAM:
                handle_stream(s, line, &req);
                break;
        case REQUEST_STOP:
                unsubscribe(s);
                reply(s, LINE("OK STOP\n"));
                break;
        case REQUEST_SENSORS:
                handle_sensors(s);
                break;
        case REQUEST_LIMITS:
                handle_limits(s, line, &req);
                break;
        case REQUEST_ALARMS:
                handle_alarms(s);
                break;
        case REQUEST_HISTORY:
                handle_history(s, line, &req);
                break;
        case REQUEST_PING:
                reply(s, LINE("PONG\n"));
                break;
        case REQUEST_INFO:
                thermo_front_end_get_info(s->front_end, host, &info);
                k = protocol_format_info(text, sizeof(text), &info);
                reply(s, text, k);
                break;
        case REQUEST_QUIT:
                unsubscribe(s);
                reply(s, LINE("BYE\n"));
                session_close(s, "QUIT");
                break;
        }
}

void session_handle_line_too_long(Session *s) {
        assert(s);

        reply_error(s, 413, "request line too long");
        session_close(s, "request line too long");
}

void session_expire(Session *s, ConnectionExpiry why) {
        static const char *const text[] = {
                [CONNECTION_IDLE] = "idle too long",
                [CONNECTION_PARTIAL] = "request line too slow",
                [CONNECTION_UNREAD] = "replies not read",
        };

        assert(s);
        assert((size_t) why < ELEMENTSOF(text));

        reply_error(s, 408, text[why]);
        session_close(s, text[why]);
}

void session_handle_eof(Session *s) {
        assert(s);

        /* The peer half-closed: a streaming session goes on until it ends, a GET waiting is answered, an
         * idle one closes. */
        s->eof = true;
        if (!s->subscribed && !s->get.waiting)
                session_close(s, "closed by peer");
}

void session_shutdown(Session *s) {
        assert(s);

        unsubscribe(s);
        reply(s, LINE("BYE\n"));
        session_close(s, "server stopping");
}

/* A bit set of n sensors, as the indexes of its bits (it may be NULL: none named). */
static void put_subset(StateWriter *w, const uint64_t *subset, size_t n) {
        uint32_t count = 0;

        state_put_u8(w, !!subset);
        for (size_t i = 0; i < n; i++)
                count += subset_has(subset, n, i);
        state_put_u32(w, count);
        for (size_t i = 0; i < n; i++)
                if (subset_has(subset, n, i))
                        state_put_u32(w, (uint32_t) i);
}

void session_serialize(Session *s, StateWriter *w) {
        size_t record;

        assert(s);
        assert(w);

        record = state_begin_record(w, STATE_SESSION);
        state_put_u8(w, s->stream);
        state_put_u8(w, s->alarms);
        state_put_u8(w, s->all);
        state_put_u8(w, s->eof);
        state_put_u8(w, s->skipping_said);
        put_subset(w, s->subset, s->n_subset);
        state_put_u32(w, s->remaining);
        state_put_u64(w, s->stream_seq);
        state_put_u8(w, s->get.waiting);
        state_put_u32(w, (uint32_t) s->get.sensor);
        state_put_u8(w, s->get_named);
        state_put_u8(w, !!s->replay);
        if (s->replay) {
                const Replay *p = s->replay;

                state_put_u64(w, p->after);
                state_put_u64(w, p->until);
                state_put_u8(w, p->all);
                state_put_u8(w, p->end);
                put_subset(w, p->has_subset ? p->subset : NULL, p->n_subset);
        }
        state_end_record(w, record);
        connection_serialize(&s->connection, w);
}

/* A subset put_subset() wrote, of the old server's sensors, as bits of the n there are now, into subset
 * ((n + 63) / 64 words, zeroed); a sensor gone is left out. Whether there was one. */
static bool get_subset(StateReader *r, const SensorMap *map, uint64_t *subset, size_t n) {
        bool has = state_get_bool(r);
        uint32_t count = state_get_u32(r);

        if (count > (r->size - r->at) / sizeof(uint32_t) || (!has && count > 0)) {
                state_reader_fail(r, -EBADMSG);
                return false;
        }
        for (uint32_t k = 0; k < count; k++) {
                int32_t i = sensor_map_get(map, state_get_u32(r));

                if (i >= 0 && (size_t) i < n)
                        subset[i / 64] |= UINT64_C(1) << (i % 64);
        }
        return has;
}

/* Whether a subset has any sensor. */
static bool subset_any(const uint64_t *subset, size_t n) {
        for (size_t i = 0; i < (n + 63) / 64; i++)
                if (subset[i] != 0)
                        return true;
        return false;
}

/* The STATE_SESSION record's fields, into s: nothing done with them yet. */
static int get_session(Session *s, StateReader *r, const SensorMap *map, size_t n, bool *ret_waiting,
                int32_t *ret_get) {
        size_t words = (n + 63) / 64;

        s->subset = calloc(words, sizeof(uint64_t));
        if (!s->subset)
                return -ENOMEM;
        s->stream = state_get_bool(r);
        s->alarms = state_get_bool(r);
        s->all = state_get_bool(r);
        s->eof = state_get_bool(r);
        s->skipping_said = state_get_bool(r);
        if (!get_subset(r, map, s->subset, n))
                s->subset = mfree(s->subset);
        s->n_subset = (uint32_t) n;
        s->remaining = state_get_u32(r);
        s->stream_seq = state_get_u64(r);
        *ret_waiting = state_get_bool(r);
        *ret_get = (int32_t) state_get_u32(r);
        s->get_named = state_get_bool(r);
        if (state_get_bool(r)) {
                s->replay = calloc(1, sizeof(Replay) + words * sizeof(uint64_t));
                if (!s->replay)
                        return -ENOMEM;
                s->replay->after = state_get_u64(r);
                s->replay->until = state_get_u64(r);
                s->replay->all = state_get_bool(r);
                s->replay->end = state_get_bool(r);
                s->replay->has_subset = get_subset(r, map, s->replay->subset, n);
                s->replay->n_subset = (uint32_t) n;
        }
        return r->error;
}

int session_restore(ThermoFrontEnd *fe, int fd, const ConnectionOps *ops, StateReader *r, const SensorMap *map,
                Session **ret) {
        _cleanup_(session_freep) Session *s = NULL;
        StateReader fields, connection;
        uint16_t type = 0;
        bool waiting = false;
        int32_t get = 0;
        Session *t;
        size_t n;
        int k;

        assert(fe);
        assert(ops);
        assert(r);
        assert(map);
        assert(ret);

        n = thermometer_get_n_sensors(fe->front_end.manager->thermometer);
        s = session_alloc(fe);
        if (!s) {
                safe_close(fd);
                return -ENOMEM;
        }

        /* The session's record, then its connection's: a later version may add records after them. */
        k = state_next_record(r, &type, &fields) && type == STATE_SESSION ?
                get_session(s, &fields, map, n, &waiting, &get) : -EBADMSG;
        if (k >= 0 && !(state_next_record(r, &type, &connection) && type == STATE_CONNECTION))
                k = -EBADMSG;
        if (k < 0) {
                if (k != -ENOMEM)
                        state_reader_fail(r, k);
                safe_close(fd);
                return k;
        }
        k = connection_restore(&s->connection, fe->front_end.manager, fd, ops, &connection);
        if (k < 0) {
                state_reader_fail(r, connection.error);
                return k;
        }
        /* Counted by the manager now, which frees it (PeerOps.free) when it is over. */
        t = *ret = TAKE_PTR(s);
        if (t->connection.resume_closing)
                return 0;

        /* Named sensors the new server has none of: as for a STREAM of them now. */
        if (t->stream && t->subset && !subset_any(t->subset, n)) {
                reply_error(t, 404, "no such sensor");
                end_stream(t);
        }
        if (t->stream || t->alarms)
                thermo_front_end_subscribe(fe, t);
        if (waiting) {
                /* An unnamed GET is the default sensor's, whichever that is now. */
                int32_t i = get == THERMOMETER_ALL_SENSORS ? get :
                            !t->get_named ? 0 : sensor_map_get(map, (uint32_t) get);

                if (i == -1 && get != THERMOMETER_ALL_SENSORS)
                        reply_error(t, 404, "no such sensor");
                else {
                        t->get.sensor = i;
                        t->resume_get = true;
                }
        }
        return 0;
}

void session_resume(Session *s) {
        const Reading *readings;
        bool held;

        assert(s);

        if (s->connection.resume_closing) {
                connection_resume(&s->connection, false);
                return;
        }
        /* What held requests back holds them still: a HISTORY's held ticks, or a GET's reading. */
        held = s->resume_get || (s->replay && s->replay->end);
        connection_resume(&s->connection, held);
        if (s->replay && s->replay->end)
                connection_set_streaming(&s->connection, true);
        if (s->replay)
                replay(s);
        if (s->resume_get && !s->connection.finished) {
                s->resume_get = false;
                readings = thermometer_request(thermometer(s), &s->front_end->observer, &s->get);
                if (readings)
                        session_answer_get(s, readings);
        }
}
