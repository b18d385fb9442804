/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "api.h"
#include "event-stream.h"
#include "history.h"
#include "log.h"

/* What a stream's first bytes say: reconnect after a second (an EventSource waits 3 by default). They go
 * out at once, so that the client sees the stream open before the first tick. */
#define EVENT_STREAM_PRELUDE "retry: 1000\n\n"

/* What is queued for a stream, at most: ticks to the size of thermo/1's buffer (--buffer-size), the alarms
 * beyond it to twice that. */
static size_t ticks_capacity(EventHub *h) {
        return h->manager->options->buffer_size;
}

void event_hub_init(EventHub *h, Manager *m, ThermometerObserver *observer, void (*wake)(void *userdata),
                void *userdata) {
        assert(h);
        assert(m);
        assert(observer);
        assert(wake);

        *h = (EventHub) { .manager = m, .observer = observer, .wake = wake, .userdata = userdata };
}

/* Libmicrohttpd takes a resumed connection up at its next run, from the loop (wake()). */
static void resume(EventStream *s) {
        if (!s->suspended)
                return;
        s->suspended = false;
        MHD_resume_connection(s->connection);
        s->hub->wake(s->hub->userdata);
}

/* Bytes written by write() into a chunk of their own: NULL when out of memory or when it wrote none. */
static EventChunk *format_chunk(int (*write)(FILE *f, const void *userdata), const void *userdata) {
        char *data = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&data, &size);
        int r;

        if (!f)
                return NULL;
        r = write(f, userdata);
        if (fclose(f) != 0 || r < 0 || size == 0) {
                free(data);
                return NULL;
        }
        return event_chunk_new(data, size);
}

typedef struct Tick {
        const Reading *readings;
        size_t n;
} Tick;

static int write_tick(FILE *f, const void *userdata) {
        const Tick *t = userdata;

        return api_write_tick_event(f, t->readings[0].seq, t->readings, t->n);
}

static int write_alarms(FILE *f, const void *userdata) {
        const Tick *t = userdata;

        return api_write_alarm_events(f, t->readings, t->n);
}

typedef struct Held {
        const History *history;
        uint64_t seq;
        const ApiSensor *sensors;
        size_t n;
} Held;

static int write_held(FILE *f, const void *userdata) {
        const Held *h = userdata;

        return api_write_held_tick_event(f, h->history, h->seq, h->sensors, h->n);
}

/* The held ticks after s->after, as many as the queue takes; live from the newest on. */
static void replay(EventStream *s) {
        Thermometer *t = s->hub->manager->thermometer;
        History *h = thermometer_get_history(t);
        size_t n = thermometer_get_n_sensors(t);
        _cleanup_free_ ApiSensor *sensors = NULL;
        uint64_t seq;

        while (s->queue.n < EVENT_QUEUE_TICKS) {
                _cleanup_(event_chunk_unrefp) EventChunk *c = NULL;

                if (!h || !history_find_after(h, s->after, &seq)) {
                        s->replaying = false;
                        return;
                }
                if (!sensors) {
                        sensors = calloc(n, sizeof(ApiSensor));
                        if (!sensors)
                                return;
                        for (size_t i = 0; i < n; i++)
                                sensors[i] = (ApiSensor) { .name = thermometer_get_sensor(t, i)->name };
                }
                c = format_chunk(write_held, &(Held) { .history = h, .seq = seq, .sensors = sensors, .n = n });
                if (!c || event_queue_push(&s->queue, c, EVENT_QUEUE_TICKS, ticks_capacity(s->hub)) < 0)
                        return;
                s->after = seq;
        }
}

/* Libmicrohttpd asks for the body: what is queued, or nothing for now (then the connection waits,
 * suspended, for a tick), or the end. */
static ssize_t read_events(void *cls, uint64_t pos, char *buf, size_t max) {
        EventStream *s = cls;
        size_t n;

        if (s->broken)
                return MHD_CONTENT_READER_END_WITH_ERROR;
        if (s->replaying && event_queue_is_empty(&s->queue)) {
                replay(s);
                /* Still nothing, and no tick will wake it: out of memory. */
                if (s->replaying && event_queue_is_empty(&s->queue)) {
                        s->peer->error = -ENOMEM;
                        return MHD_CONTENT_READER_END_WITH_ERROR;
                }
        }
        n = event_queue_take(&s->queue, buf, max);
        if (n > 0)
                return (ssize_t) n;
        if (s->ending)
                return MHD_CONTENT_READER_END_OF_STREAM;
        s->suspended = true;
        MHD_suspend_connection(s->connection);
        return 0;
}

/* The peer closed, or the socket failed: libmicrohttpd closes the connection at its next read. A peer's
 * half-close (its sending side shut once its request is sent) ends it too, as libmicrohttpd ends any
 * HTTP connection at the end of its input. */
static int on_hangup(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        EventStream *s = userdata;

        (void) sd_event_source_set_enabled(source, SD_EVENT_OFF);
        s->broken = true;
        resume(s);
        return 0;
}

static void deliver(EventStream *s, EventChunk *tick, EventChunk *alarms, size_t readings) {
        Manager *m = s->hub->manager;

        if (s->broken || s->ending)
                return;
        if (!s->replaying && tick && event_queue_push(&s->queue, tick, EVENT_QUEUE_TICKS, ticks_capacity(s->hub)) < 0) {
                m->skipped += readings;
                if (!s->skipping_said)
                        manager_note_skipping(m, s->peer);
                s->skipping_said = true;
        }
        if (alarms && event_queue_push(&s->queue, alarms, EVENT_QUEUE_SLOTS, 2 * ticks_capacity(s->hub)) < 0) {
                s->broken = true;
                s->peer->reason = "alarm events not read, and no room for more";
        }
        if (s->broken || !event_queue_is_empty(&s->queue))
                resume(s);
}

void event_hub_tick(EventHub *h, const Reading *readings, size_t n) {
        _cleanup_(event_chunk_unrefp) EventChunk *tick = NULL, *alarms = NULL;
        size_t available = 0;
        bool any_alarm = false;
        EventStream *s, *next;

        assert(h);
        assert(readings || n == 0);

        if (!h->streams || n == 0)
                return;
        for (size_t i = 0; i < n; i++) {
                available += readings[i].error == 0;
                any_alarm = any_alarm || readings[i].alarm;
        }
        /* Out of memory, a tick is skipped for every stream; an alarm ends them (they would miss it). */
        tick = format_chunk(write_tick, &(Tick) { readings, n });
        if (any_alarm)
                alarms = format_chunk(write_alarms, &(Tick) { readings, n });
        LIST_FOREACH_SAFE(streams, s, next, h->streams) {
                if (any_alarm && !alarms) {
                        s->broken = true;
                        s->peer->error = -ENOMEM;
                        resume(s);
                        continue;
                }
                deliver(s, tick, alarms, available);
        }
}

struct MHD_Response *event_stream_start(EventHub *h, EventStream *s, Peer *p, struct MHD_Connection *connection,
                int fd, bool replay, uint64_t after) {
        _cleanup_(event_chunk_unrefp) EventChunk *prelude = NULL;
        struct MHD_Response *response;
        char *text;

        assert(h);
        assert(s);
        assert(!s->started);
        assert(p);
        assert(connection);

        text = strdup(EVENT_STREAM_PRELUDE);
        prelude = text ? event_chunk_new(text, strlen(text)) : NULL;
        if (!prelude)
                return NULL;
        /* Our own watch on the socket, for the peer's end only (no EPOLLIN: the socket's input is
         * libmicrohttpd's), which we stop watching once it has come. */
        if (sd_event_add_io(h->manager->event, &s->hangup, fd, EPOLLRDHUP, on_hangup, s) < 0)
                return NULL;
        (void) sd_event_source_set_description(s->hangup, "event-stream-hangup");
        /* Unknown in size: chunked in HTTP/1.1, to the connection's close in HTTP/1.0. */
        response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, read_events, s, NULL);
        if (!response) {
                s->hangup = sd_event_source_disable_unref(s->hangup);
                return NULL;
        }
        s->hub = h;
        s->peer = p;
        s->connection = connection;
        s->started = true;
        s->replaying = replay;
        s->after = after;
        (void) event_queue_push(&s->queue, prelude, EVENT_QUEUE_SLOTS, SIZE_MAX);
        LIST_PREPEND(streams, h->streams, s);
        thermometer_set_active(h->manager->thermometer, h->observer, true);
        manager_announce_peer(h->manager, p);
        return response;
}

void event_stream_end(EventStream *s) {
        assert(s);

        if (!s->started)
                return;
        s->ending = true;
        resume(s);
}

void event_stream_stop(EventStream *s) {
        EventHub *h;

        assert(s);

        if (!s->started)
                return;
        h = s->hub;
        /* Lost, not ended by us: readings go on for the span of the history, for its return (as for a
         * thermo/1 stream, manager_keep_ticking()). */
        if (!s->ending)
                manager_keep_ticking(h->manager);
        /* Libmicrohttpd must not be stopped with a connection suspended. */
        resume(s);
        s->hangup = sd_event_source_disable_unref(s->hangup);
        event_queue_clear(&s->queue);
        LIST_REMOVE(streams, h->streams, s);
        s->started = false;
        if (!h->streams)
                thermometer_set_active(h->manager->thermometer, h->observer, false);
}
