/* SPDX-License-Identifier: MIT */
/* The HTTP /metrics front end, for Prometheus. libmicrohttpd parses HTTP, on our event loop and without a
 * thread of its own: its epoll instance is one io source, its timeouts one timer. The connections are the
 * manager's: it accepts them, counts them as clients (for --max-clients, exit on idle, STATUS= and
 * shutdown) and hands them to libmicrohttpd here. */
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-id128.h>

#include "api.h"
#include "event-stream.h"
#include "front-end-metrics.h"
#include "history.h"
#include "log.h"
#include "metrics.h"
#include "page.h"
#include "parse.h"
#include "protocol.h"

#define HTTP_TIMEOUT_SECONDS 10         /* a client that sends slowly, or never finishes, or idles */
#define HTTP_MEMORY_LIMIT (16 * 1024)   /* a request, headers and all: anything larger is refused */
/* From a connection, or the end of its last response, to the whole of its next request (headers and any
 * body), and from the response to its last byte taken: past either, closed. libmicrohttpd's own timeout
 * (the same length) starts anew with every byte, so that a byte every few seconds (a slowloris, a body
 * trickled in, a response read a byte at a time) would hold a slot for ever. What the server itself waits
 * for (a slow sensor's reading) does not count. */
#define HTTP_REQUEST_TIMEOUT_USEC (HTTP_TIMEOUT_SECONDS * USEC_PER_SEC)
/* HTTP connections take this share of --max-clients at most (a quarter), so that they never take the
 * slots of thermo/1's streams. */
#define HTTP_SHARE_DIVISOR 4

typedef struct MetricsFrontEnd MetricsFrontEnd;
typedef struct Scrape Scrape;

/* One HTTP connection, as the manager counts it. */
struct Scrape {
        Peer peer;
        MetricsFrontEnd *front_end;
        struct MHD_Connection *connection;  /* NULL once libmicrohttpd has closed it */
        void **context;                     /* libmicrohttpd's pointer to us, cleared when we go first */
        ThermometerRequest request;         /* suspended until the tick that has its readings */
        EventStream stream;                 /* /api/v1/events: its response, till the connection's end */
        Deadline deadline;                  /* for its request, or its response (HTTP_REQUEST_TIMEOUT_USEC) */
        LIST_FIELDS(Scrape, awaited);       /* on its front end's list while its headers are awaited, newest
                                             * first: what front_end_admit() may cut */
        bool awaited;
        bool cut;                           /* closed by us, and no client any more */
};

struct MetricsFrontEnd {
        FrontEnd front_end;
        const char *server_name;
        struct MHD_Daemon *daemon;
        sd_event_source *io;
        sd_event_source *timer;
        ThermometerObserver observer;
        EventHub events;
        Scrape *awaited;        /* connections whose next request's headers have not come yet */
        size_t n_scrapes;       /* connections, but those cut: what the share counts */
        bool run_asked;         /* by run_soon(), since libmicrohttpd last ran */
        bool stopping;
};

static MetricsFrontEnd *metrics_of(FrontEnd *fe) {
        return container_of(fe, MetricsFrontEnd, front_end);
}

/* After every call into libmicrohttpd: when it wants to run next, at the latest; at once where that was
 * asked for since it last ran (its timeout does not count the connections resumed meanwhile). */
static void update_timer(MetricsFrontEnd *m) {
        MHD_UNSIGNED_LONG_LONG ms;

        /* Gone with the front end, whose stop of libmicrohttpd may still tell of connections it closes. */
        if (!m->timer)
                return;
        if (m->run_asked)
                ms = 0;
        else if (MHD_get_timeout(m->daemon, &ms) != MHD_YES) {
                (void) sd_event_source_set_enabled(m->timer, SD_EVENT_OFF);
                return;
        }
        (void) sd_event_source_set_time_relative(m->timer, (uint64_t) ms * 1000);
        (void) sd_event_source_set_enabled(m->timer, SD_EVENT_ONESHOT);
}

static void run(MetricsFrontEnd *m) {
        m->run_asked = false;
        if (MHD_run(m->daemon) != MHD_YES)
                log_debug("libmicrohttpd could not process its connections.");
        update_timer(m);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        run(userdata);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        run(userdata);
        return 0;
}

static Scrape *scrape_of(Peer *p) {
        return container_of(p, Scrape, peer);
}

static void stop_waiting(Scrape *s) {
        thermometer_request_cancel(&s->front_end->observer, &s->request);
}

/* Libmicrohttpd runs from the loop, soon: what it has to do now is not done inside its own callbacks. */
static void run_soon(MetricsFrontEnd *m) {
        m->run_asked = true;
        update_timer(m);
}

static void wake(void *userdata) {
        run_soon(userdata);
}

/* The headers are in: the request may still have a body to come, on the same deadline. */
static void headers_came(Scrape *s) {
        if (!s->awaited)
                return;
        LIST_REMOVE(awaited, s->front_end->awaited, s);
        s->awaited = false;
}

static void deadline_start(Scrape *s) {
        deadline_set(s->front_end->front_end.manager->deadlines, &s->deadline, HTTP_REQUEST_TIMEOUT_USEC);
}

static void deadline_stop(Scrape *s) {
        deadline_cancel(s->front_end->front_end.manager->deadlines, &s->deadline);
}

/* A connection, or the end of a response on one kept alive: the next request is awaited. */
static void await_request(Scrape *s) {
        if (s->cut)
                return;
        if (!s->awaited) {
                LIST_PREPEND(awaited, s->front_end->awaited, s);
                s->awaited = true;
        }
        deadline_start(s);
}

/* A connection whose request is not coming (in time) is closed, as libmicrohttpd closes one that times
 * out: shut down, which it sees at its next run. It is no client from now on, for the share and for the
 * manager, which frees it soon (libmicrohttpd is told to forget it then). */
static void cut(Scrape *s, const char *why) {
        const union MHD_ConnectionInfo *info;

        if (s->cut || !s->connection)
                return;
        headers_came(s);
        deadline_stop(s);
        stop_waiting(s);
        s->cut = true;
        s->front_end->n_scrapes--;
        info = MHD_get_connection_info(s->connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (info)
                (void) shutdown(info->connect_fd, SHUT_RDWR);
        run_soon(s->front_end);
        s->peer.reason = why;
        manager_remove_peer(s->front_end->front_end.manager, &s->peer);
}

static void on_deadline(Deadline *d) {
        cut(container_of(d, Scrape, deadline), "HTTP request or response too slow");
}

static void scrape_shutdown(Peer *p) {
        Scrape *s = scrape_of(p);

        /* The goodbye of HTTP: no further request on this connection. A scrape under way is answered
         * (with "Connection: close"); an idle connection is closed within a second. */
        s->front_end->stopping = true;
        event_stream_end(&s->stream);
        if (s->connection)
                (void) MHD_set_connection_option(s->connection, MHD_CONNECTION_OPTION_TIMEOUT, 1);
        update_timer(s->front_end);
}

static void scrape_free(Peer *p) {
        Scrape *s = scrape_of(p);

        event_stream_stop(&s->stream);
        /* Suspended for a tick that will not come now: libmicrohttpd must not be stopped with it so. */
        if (s->request.waiting && s->connection)
                MHD_resume_connection(s->connection);
        stop_waiting(s);
        headers_came(s);
        deadline_stop(s);
        /* Freed at the end while libmicrohttpd still holds the connection: it must not call us about it. */
        if (s->context)
                *s->context = NULL;
        free(s);
}

static const PeerOps scrape_ops = {
        .shutdown = scrape_shutdown,
        .free = scrape_free,
};

static void on_connection(void *userdata, struct MHD_Connection *connection, void **context,
                enum MHD_ConnectionNotificationCode code) {
        MetricsFrontEnd *m = userdata;
        const union MHD_ConnectionInfo *info;
        PeerAddress address;
        Scrape *s;

        if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
                s = *context;
                if (!s)
                        return;
                event_stream_stop(&s->stream);
                stop_waiting(s);
                headers_came(s);
                deadline_stop(s);
                s->connection = NULL;
                s->context = NULL;
                *context = NULL;
                if (s->cut)
                        return; /* counted out already */
                m->n_scrapes--;
                s->peer.reason = "HTTP connection closed";
                manager_remove_peer(m->front_end.manager, &s->peer);
                return;
        }

        s = calloc(1, sizeof(*s));
        if (!s) {
                log_oom();
                return;
        }
        s->front_end = m;
        s->connection = connection;
        s->context = context;
        s->deadline.handler = on_deadline;
        info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        (void) peer_address_from_socket(info ? info->connect_fd : -EBADF, &address);
        manager_add_peer(m->front_end.manager, &s->peer, &scrape_ops, &address);
        m->n_scrapes++;
        await_request(s);
        *context = s;
}

/* A request is over: on a connection kept alive, the next one's headers are awaited as the first's were. */
static void on_completed(void *userdata, struct MHD_Connection *connection, void **request,
                enum MHD_RequestTerminationCode code) {
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        Scrape *s = info ? info->socket_context : NULL;

        if (!s)
                return;
        deadline_stop(s);
        if (code == MHD_REQUEST_TERMINATED_COMPLETED_OK)
                await_request(s);
}

/* What an answer says beyond its body. */
typedef enum RespondFlags {
        RESPOND_ALLOW = 1 << 0, /* the methods there are: for a 405 */
        RESPOND_API = 1 << 1,   /* of the API: readable by the pages of --http-cors-origin */
} RespondFlags;

static void add_headers(MetricsFrontEnd *m, struct MHD_Response *r, RespondFlags flags) {
        const char *origin = m->front_end.manager->options->http_cors_origin;

        if (flags & RESPOND_ALLOW)
                (void) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        if ((flags & RESPOND_API) && origin)
                (void) MHD_add_response_header(r, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if (m->stopping)
                (void) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
}

/* r, which is ours no more, goes out; it has the same time to be taken as the request had to come. */
static enum MHD_Result queue_response(struct MHD_Connection *connection, unsigned status, struct MHD_Response *r) {
        const union MHD_ConnectionInfo *info;
        enum MHD_Result ret;

        ret = MHD_queue_response(connection, status, r);
        MHD_destroy_response(r);
        info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        if (ret == MHD_YES && info && info->socket_context)
                deadline_start(info->socket_context);
        return ret;
}

static enum MHD_Result respond(MetricsFrontEnd *m, struct MHD_Connection *connection, unsigned status,
                const char *type, char *body, size_t size, RespondFlags flags) {
        struct MHD_Response *r;

        r = MHD_create_response_from_buffer(size, body, MHD_RESPMEM_MUST_FREE);
        if (!r) {
                free(body);
                return MHD_NO;
        }
        if (type)
                (void) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        add_headers(m, r, flags);
        return queue_response(connection, status, r);
}

/* A file of the page: "304 Not Modified" where the browser has it already (If-None-Match), else the
 * file. A browser asks again each time (no-cache), and the ETag makes that cheap. */
static enum MHD_Result respond_asset(MetricsFrontEnd *m, struct MHD_Connection *connection, const PageAsset *a) {
        const char *match = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
        bool fresh = match && (strcmp(match, "*") == 0 || strstr(match, a->etag));
        struct MHD_Response *r;

        r = MHD_create_response_from_buffer(fresh ? 0 : a->size, fresh ? NULL : (void *) a->data, MHD_RESPMEM_PERSISTENT);
        if (!r)
                return MHD_NO;
        if (!fresh)
                (void) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
        (void) MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, a->etag);
        (void) MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
        (void) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_SECURITY_POLICY, PAGE_CONTENT_SECURITY_POLICY);
        (void) MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        (void) MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
        add_headers(m, r, 0);
        return queue_response(connection, fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, r);
}

static enum MHD_Result respond_text(MetricsFrontEnd *m, struct MHD_Connection *connection, unsigned status,
                const char *text, RespondFlags flags) {
        char *body = strdup(text);

        if (!body)
                return MHD_NO;
        return respond(m, connection, status, "text/plain; charset=utf-8", body, strlen(body), flags);
}

/* The boot's id, a dash, the first start's time in hex: at most 32 + 1 + 16 characters. */
#define RUN_MAX 50

/* The name of this run, for a page to tell a server that took its clients over (the same run, its seqs
 * go on) from one that started afresh (they start again at 1): the first start's CLOCK_MONOTONIC time,
 * which restarts that hand over keep, with the boot's id, which makes that time unique. */
static void format_run(const Manager *m, char run[static RUN_MAX]) {
        sd_id128_t boot;

        if (sd_id128_get_boot(&boot) < 0)
                boot = SD_ID128_NULL;
        snprintf(run, RUN_MAX, SD_ID128_FORMAT_STR "-%" PRIx64, SD_ID128_FORMAT_VAL(boot), m->started);
}

/* The sensors as the API shows them, in sensor order. */
static ApiSensor *api_sensors(Thermometer *t) {
        size_t n = thermometer_get_n_sensors(t);
        ApiSensor *sensors = calloc(MAX(n, (size_t) 1), sizeof(ApiSensor));

        for (size_t i = 0; sensors && i < n; i++) {
                const Sensor *s = thermometer_get_sensor(t, i);

                sensors[i] = (ApiSensor) { .name = s->name, .label = s->label, .source = s->source, .limits = &s->limits };
        }
        return sensors;
}

/* A JSON answer: what write() puts, or its error in place of it. */
typedef int (*json_writer_t)(FILE *f, void *userdata);

static enum MHD_Result respond_json(MetricsFrontEnd *m, struct MHD_Connection *connection, unsigned status,
                json_writer_t write, void *userdata) {
        char *body = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&body, &size);
        int r;

        if (!f)
                return MHD_NO;
        r = write(f, userdata);
        if (fclose(f) != 0 || r < 0) {
                free(body);
                return MHD_NO;
        }
        return respond(m, connection, status, API_JSON_TYPE, body, size, RESPOND_API);
}

static int write_error(FILE *f, void *userdata) {
        return api_write_error(f, userdata);
}

static enum MHD_Result respond_json_error(MetricsFrontEnd *m, struct MHD_Connection *connection, unsigned status,
                const char *text) {
        return respond_json(m, connection, status, write_error, (void *) text);
}

typedef struct HistoryQuery {
        Thermometer *thermometer;
        ApiSensor *sensors;
        int sensor;
        uint64_t after;
} HistoryQuery;

static int write_history(FILE *f, void *userdata) {
        HistoryQuery *q = userdata;

        return api_write_history(f, thermometer_get_history(q->thermometer), q->sensors,
                        thermometer_get_n_sensors(q->thermometer), q->sensor, q->after);
}

/* /api/v1/history?sensor=NAME&after=SEQ: what the history holds, now; no reading is taken for it. */
static enum MHD_Result respond_history(MetricsFrontEnd *m, struct MHD_Connection *connection) {
        Thermometer *t = m->front_end.manager->thermometer;
        const char *sensor = MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, "sensor"),
                   *after = MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, "after");
        _cleanup_free_ ApiSensor *sensors = NULL;
        HistoryQuery q = { .thermometer = t, .sensor = -1 };

        if (after && parse_uint64(after, 0, UINT64_MAX, &q.after) < 0)
                return respond_json_error(m, connection, MHD_HTTP_BAD_REQUEST, "after= is not a reading's number");
        if (sensor) {
                q.sensor = thermometer_find_sensor(t, sensor, strlen(sensor));
                if (q.sensor < 0)
                        return respond_json_error(m, connection, MHD_HTTP_NOT_FOUND, "no such sensor");
        }
        sensors = api_sensors(t);
        if (!sensors)
                return MHD_NO;
        q.sensors = sensors;
        return respond_json(m, connection, MHD_HTTP_OK, write_history, &q);
}

typedef struct SensorsQuery {
        const ApiServer *server;
        ApiSensor *sensors;
        size_t n;
        const Reading *readings;
} SensorsQuery;

static int write_sensors(FILE *f, void *userdata) {
        SensorsQuery *q = userdata;

        return api_write_sensors(f, q->server, q->sensors, q->n, q->readings);
}

#define EVENT_STREAM_TYPE "text/event-stream"

/* /api/v1/events: Server-Sent Events from the tick after Last-Event-ID (an EventSource's reconnect) or
 * after=, the held ones first, as STREAM after= has them; from the next tick without either. */
static enum MHD_Result respond_events(MetricsFrontEnd *m, Scrape *s, struct MHD_Connection *connection, bool head) {
        const char *last = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Last-Event-ID"),
                   *after = MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, "after");
        const char *from = last ?: after;
        const union MHD_ConnectionInfo *info;
        struct MHD_Response *r;
        enum MHD_Result ret;
        uint64_t seq = 0;

        if (from && parse_uint64(from, 0, UINT64_MAX, &seq) < 0)
                return respond_json_error(m, connection, MHD_HTTP_BAD_REQUEST,
                                last ? "Last-Event-ID is not a reading's number" : "after= is not a reading's number");
        if (head)
                return respond(m, connection, MHD_HTTP_OK, EVENT_STREAM_TYPE, NULL, 0, RESPOND_API);
        /* A keep-alive connection whose next request comes as the server stops: no stream to begin. */
        if (m->stopping)
                return respond_json_error(m, connection, MHD_HTTP_SERVICE_UNAVAILABLE, "the server is stopping");
        info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!info)
                return MHD_NO;
        r = event_stream_start(&m->events, &s->stream, &s->peer, connection, info->connect_fd, from != NULL, seq);
        if (!r)
                return MHD_NO;
        (void) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, EVENT_STREAM_TYPE);
        (void) MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        /* A proxy in front (nginx) passes each event on as it comes. */
        (void) MHD_add_response_header(r, "X-Accel-Buffering", "no");
        add_headers(m, r, RESPOND_API);
        /* A stream has no end in time: neither libmicrohttpd's timeout nor ours applies to it. One that
         * does not read holds its queue and no more (event-stream.h). */
        deadline_stop(s);
        (void) MHD_set_connection_option(connection, MHD_CONNECTION_OPTION_TIMEOUT, 0);
        ret = MHD_queue_response(connection, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return ret;
}

/* A browser asks first whether a page of another origin may read the API, where --http-cors-origin is
 * given: it may, with GET and HEAD, and Last-Event-ID (an EventSource's reconnect). */
static enum MHD_Result respond_preflight(MetricsFrontEnd *m, struct MHD_Connection *connection) {
        struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);

        if (!r)
                return MHD_NO;
        add_headers(m, r, RESPOND_API);
        (void) MHD_add_response_header(r, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD");
        (void) MHD_add_response_header(r, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_HEADERS, "Last-Event-ID");
        (void) MHD_add_response_header(r, MHD_HTTP_HEADER_ACCESS_CONTROL_MAX_AGE, "86400");
        return queue_response(connection, MHD_HTTP_NO_CONTENT, r);
}

static enum MHD_Result on_request(void *userdata, struct MHD_Connection *connection, const char *url,
                const char *method, const char *version, const char *upload_data, size_t *upload_data_size,
                void **request) {
        MetricsFrontEnd *m = userdata;
        Thermometer *t = m->front_end.manager->thermometer;
        const union MHD_ConnectionInfo *info;
        const PageAsset *asset;
        const Reading *readings;
        _cleanup_free_ MetricsSensor *sensors = NULL;
        MetricsFormat format;
        bool api;
        char *body = NULL;
        size_t size = 0;
        Scrape *s;
        FILE *f;

        /* A connection we could not count (out of memory in on_connection()) is not served. */
        info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        s = info ? info->socket_context : NULL;
        /* Cut (its headers came too late, in the same run that cut it): nothing more for it. */
        if (!s || s->cut)
                return MHD_NO;
        /* Called first with the whole of the headers. */
        headers_came(s);

        /* Refused at the first call, which comes with the headers, before any body: the answer closes the
         * connection, the body unread. */
        if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0 && m->front_end.manager->options->http_cors_origin &&
                        startswith(url, "/api/v1/"))
                return respond_preflight(m, connection);
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
                return respond_text(m, connection, MHD_HTTP_METHOD_NOT_ALLOWED, "Method not allowed: GET or HEAD.\n",
                                RESPOND_ALLOW | (startswith(url, "/api/") ? RESPOND_API : 0));
        /* Anything else is answered at the last call, with the whole request in: answered at the first,
         * the connection could not be kept for a next request. */
        if (!*request) {
                *request = connection;
                return MHD_YES;
        }
        if (*upload_data_size > 0) {
                /* A GET with a body: ignored, as HTTP allows; the answer comes once it is all in. */
                *upload_data_size = 0;
                return MHD_YES;
        }
        asset = page_find(url);
        if (asset)
                return respond_asset(m, connection, asset);
        if (strcmp(url, "/api/v1/history") == 0)
                return respond_history(m, connection);
        if (strcmp(url, "/api/v1/events") == 0)
                return respond_events(m, s, connection, strcmp(method, MHD_HTTP_METHOD_HEAD) == 0);
        api = strcmp(url, "/api/v1/sensors") == 0;
        /* An API path that is none: said in JSON, as the API's other errors are. */
        if (!api && startswith(url, "/api/"))
                return respond_json_error(m, connection, MHD_HTTP_NOT_FOUND,
                                "no such path: the API has /api/v1/sensors, /api/v1/history and /api/v1/events");
        if (!api && strcmp(url, "/metrics") != 0)
                return respond_text(m, connection, MHD_HTTP_NOT_FOUND,
                                "Not found: the page is at /, the metrics at /metrics, the API at "
                                "/api/v1/sensors, /api/v1/history and /api/v1/events.\n", 0);

        /* A fresh reading on demand when nothing streams, as GET does: at most one of each sensor for any
         * number of scrapes. A slow sensor answers at the next tick: wait for it. */
        s->request.sensor = THERMOMETER_ALL_SENSORS;
        readings = thermometer_request(t, &m->observer, &s->request);
        if (!readings) {
                /* Our wait, not the client's: no deadline while it lasts. */
                deadline_stop(s);
                MHD_suspend_connection(connection);
                return MHD_YES;
        }

        /* The newest reading of each sensor, fresh as a scrape's. */
        if (api) {
                _cleanup_free_ ApiSensor *api_list = api_sensors(t);
                char host[PROTOCOL_HOST_MAX + 1], run[RUN_MAX];

                if (!api_list)
                        return MHD_NO;
                protocol_host(host);
                format_run(m->front_end.manager, run);
                return respond_json(m, connection, MHD_HTTP_OK, write_sensors,
                                &(SensorsQuery) {
                                        .server = &(ApiServer) {
                                                .host = host,
                                                .server = m->server_name,
                                                .version = PROJECT_VERSION,
                                                .run = run,
                                                .interval_ms = thermometer_get_interval(t) / USEC_PER_MSEC,
                                                .history_ms = m->front_end.manager->options->history / USEC_PER_MSEC,
                                        },
                                        .sensors = api_list,
                                        .n = thermometer_get_n_sensors(t),
                                        .readings = readings,
                                });
        }
        format = metrics_format_from_accept(MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));
        sensors = calloc(thermometer_get_n_sensors(t), sizeof(MetricsSensor));
        if (!sensors)
                return MHD_NO;
        for (size_t i = 0; i < thermometer_get_n_sensors(t); i++) {
                const Sensor *sensor = thermometer_get_sensor(t, i);

                sensors[i] = (MetricsSensor) { .chip = sensor->chip, .label = sensor->label, .source = sensor->source,
                                               .limits = &sensor->limits,
                                               .level_changes = thermometer_get_level_changes(t, i) };
        }
        f = open_memstream(&body, &size);
        if (!f)
                return MHD_NO;
        if (metrics_write(f, format, &(MetricsInfo) {
                                .version = PROJECT_VERSION,
                                .server = m->server_name,
                                .readings = readings,
                                .sensors = sensors,
                                .n_readings = thermometer_get_n_sensors(t),
                                .readings_total = thermometer_get_readings_total(t),
                                .skipped_total = m->front_end.manager->skipped,
                                .clients = m->front_end.manager->n_peers,
                        }) < 0) {
                fclose(f);
                free(body);
                return MHD_NO;
        }
        if (fclose(f) != 0) {
                free(body);
                return MHD_NO;
        }
        return respond(m, connection, MHD_HTTP_OK, format == METRICS_OPENMETRICS ? METRICS_OPENMETRICS_TYPE : METRICS_TEXT_TYPE,
                        body, size, 0);
}

static void on_tick(ThermometerObserver *o, const Reading *readings, size_t n) {
        event_hub_tick(&container_of(o, MetricsFrontEnd, observer)->events, readings, n);
}

/* The tick a scrape waited for: it is taken up again. */
static void on_answer(ThermometerObserver *o, ThermometerRequest *q, const Reading *readings, size_t n) {
        MetricsFrontEnd *m = container_of(o, MetricsFrontEnd, observer);

        MHD_resume_connection(container_of(q, Scrape, request)->connection);
        /* Without a thread of its own, libmicrohttpd takes resumed connections up at its next run, and its
         * timeout does not count them: run it from the loop, not from here (a tick taken on demand runs
         * inside its request callback). */
        run_soon(m);
}

_printf_(2, 0) static void on_log(void *userdata, const char *format, va_list ap) {
        char message[512];

        vsnprintf(message, sizeof(message), format, ap);
        message[strcspn(message, "\n")] = '\0';
        log_debug("HTTP: %s", message);
}

static int front_end_open(FrontEnd *fe, int fd, const PeerAddress *address) {
        MetricsFrontEnd *m = metrics_of(fe);
        struct sockaddr_storage sa;
        socklen_t n = sizeof(sa);
        int r;

        if (getpeername(fd, (struct sockaddr *) &sa, &n) < 0) {
                r = -errno;
                safe_close(fd);
                return r;
        }
        /* The client is counted when libmicrohttpd takes it (on_connection()); it closes fd on failure. */
        if (MHD_add_connection(m->daemon, fd, (struct sockaddr *) &sa, n) != MHD_YES)
                return errno > 0 ? -errno : -ENOMEM;
        /* Its request read now, where it has come with the connection (a scrape's does): from then on it
         * awaits nothing, and is not the one cut to make room for the next (front_end_admit()). */
        run(m);
        return 0;
}

/* The HTTP share is full: room is made by cutting the connection that has waited longest for its
 * request's headers (a slowloris, or a connection kept alive and idle). A scrape that sends its request
 * with its connection is read at once (front_end_open()), so it waits for nothing and is served whatever
 * slow ones hold; with none waiting, the newcomer is refused. */
static bool front_end_admit(FrontEnd *fe, bool full) {
        MetricsFrontEnd *m = metrics_of(fe);
        size_t share = MAX(fe->manager->options->max_clients / HTTP_SHARE_DIVISOR, UINT64_C(1));
        Scrape *oldest = m->awaited;

        if (!full && m->n_scrapes < share)
                return true;
        while (oldest && oldest->awaited_next)
                oldest = oldest->awaited_next;
        if (!oldest)
                return false;
        cut(oldest, "HTTP request headers too slow, with the slots full");
        return true;
}

static void front_end_refuse(FrontEnd *fe, int fd) {
        static const char response[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                       "Content-Type: text/plain; charset=utf-8\r\n"
                                       "Content-Length: 17\r\n"
                                       "Retry-After: 1\r\n"
                                       "Connection: close\r\n"
                                       "\r\n"
                                       "Too many clients\n";

        /* A new socket's send buffer is empty: the whole answer fits without waiting. */
        (void) send(fd, response, strlen(response), MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void front_end_free(FrontEnd *fe) {
        MetricsFrontEnd *m = metrics_of(fe);

        thermometer_remove_observer(fe->manager->thermometer, &m->observer);
        m->io = sd_event_source_disable_unref(m->io);
        m->timer = sd_event_source_disable_unref(m->timer);
        if (m->daemon)
                MHD_stop_daemon(m->daemon);
        free(m);
}

static const FrontEndOps metrics_front_end_ops = {
        .admit = front_end_admit,
        .open = front_end_open,
        .refuse = front_end_refuse,
        .free = front_end_free,
};

int metrics_front_end_new(Manager *m, const char *server_name, FrontEnd **ret) {
        _cleanup_(front_end_freep) FrontEnd *fe = NULL;
        const union MHD_DaemonInfo *info;
        MetricsFrontEnd *mf;
        sd_event *e;
        int r;

        assert(m);
        assert(server_name);
        assert(ret);

        mf = calloc(1, sizeof(*mf));
        if (!mf)
                return -ENOMEM;
        mf->front_end = (FrontEnd) { .ops = &metrics_front_end_ops, .name = "metrics", .manager = m };
        mf->server_name = server_name;
        mf->observer.answer = on_answer;
        mf->observer.tick = on_tick;
        thermometer_add_observer(m->thermometer, &mf->observer);
        fe = &mf->front_end;

        mf->daemon = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
                        0, NULL, NULL, on_request, mf,
                        MHD_OPTION_EXTERNAL_LOGGER, on_log, mf,
                        MHD_OPTION_NOTIFY_CONNECTION, on_connection, mf,
                        MHD_OPTION_NOTIFY_COMPLETED, on_completed, mf,
                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) HTTP_TIMEOUT_SECONDS,
                        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) HTTP_MEMORY_LIMIT,
                        /* The manager counts clients (--max-clients); libmicrohttpd's own limit, 1020 by
                         * default, must not refuse those it lets in. */
                        MHD_OPTION_CONNECTION_LIMIT, (unsigned) MIN(m->options->max_clients, (uint64_t) UINT_MAX),
                        MHD_OPTION_END);
        if (!mf->daemon)
                return -ENOMEM;

        info = MHD_get_daemon_info(mf->daemon, MHD_DAEMON_INFO_EPOLL_FD);
        if (!info)
                return -EINVAL;
        e = m->event;
        r = sd_event_add_io(e, &mf->io, info->epoll_fd, EPOLLIN, on_io, mf);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(mf->io, "http");
        /* An accuracy of 1ms, not sd-event's default 250ms: "run again now" is a timeout of 0 here, and
         * libmicrohttpd may want many runs in a row (a large request is read a little at a time). */
        r = sd_event_add_time_relative(e, &mf->timer, CLOCK_MONOTONIC, 0, USEC_PER_MSEC, on_timer, mf);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(mf->timer, SD_EVENT_OFF);
        (void) sd_event_source_set_description(mf->timer, "http-timeout");
        event_hub_init(&mf->events, m, &mf->observer, wake, mf);

        *ret = TAKE_PTR(fe);
        return 0;
}
