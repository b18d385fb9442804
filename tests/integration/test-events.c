/* SPDX-License-Identifier: MIT */
/* /api/v1/events, the Server-Sent Events of the HTTP front end, over real sockets: an event per tick and
 * an alarm at each change of level, as curl and jq read them; Last-Event-ID and after= resume from the
 * history, exactly; a stream that never reads costs its queue and nothing more; each stream is a client
 * of the server's, ended cleanly at its stop, and across a restart it resumes where it was; CORS only
 * where --http-cors-origin says. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "http-harness.h"

#define T HARNESS_TIMEOUT_MS

static char dir[64], room[128], room_spec[160];

static int setup(void **state) {
        snprintf(dir, sizeof(dir), "/tmp/thermo-events-XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(room, sizeof(room), "%s/room", dir);
        snprintf(room_spec, sizeof(room_spec), "room=file:%s", room);
        harness_write_file(room, "-5250\n");
        return 0;
}

static int teardown(void **state) {
        harness_remove_tree(dir);
        return harness_kill_all(state);
}

/* The server's arguments: a file sensor, room, and a simulated one, at 100ms, and more. */
static const char *const *server_args(const char *const *more) {
        static const char *args[24];
        size_t n = 0;

        args[n++] = "--interval";
        args[n++] = "100ms";
        args[n++] = "--sensor";
        args[n++] = room_spec;
        args[n++] = "--sensor";
        args[n++] = "sim=simulated:seed=7";
        for (; more && *more && n < 23; more++)
                args[n++] = *more;
        args[n] = NULL;
        return args;
}

static void start(ServerProcess *s, const char *const *more) {
        harness_start_activated_with(s, server_args(more), &(HarnessOptions) { .metrics = true });
}

/* The next event, which must come. */
static void next_event(HttpEventStream *es, HttpEvent *e) {
        int r = http_events_next(es, e, T);

        if (r != 1)
                fail_msg("no event, but %d", r);
}

/* The next tick's event, past any alarm: its id, which its data's seq must be. */
static uint64_t next_tick(HttpEventStream *es, HttpEvent *e) {
        uint64_t id, seq;
        char want[64];

        /* Past alarms, and past a tick at which the sensors gave no reading at all (a file sensor that
         * has not read within the interval, under load): it has no seq, nor an id. */
        for (;;) {
                next_event(es, e);
                if (strcmp(e->event, "alarm") == 0)
                        continue;
                assert_string_equal(e->event, "");
                if (e->id[0] != '\0')
                        break;
                assert_true(strncmp(e->data, "{\"seq\":null,", strlen("{\"seq\":null,")) == 0);
        }
        assert_int_equal(sscanf(e->id, "%" SCNu64, &id), 1);
        assert_int_equal(sscanf(e->data, "{\"seq\":%" SCNu64 ",", &seq), 1);
        assert_int_equal(seq, id);
        snprintf(want, sizeof(want), "\"sensor\":\"room\",\"seq\":%" PRIu64 ",", seq);
        assert_non_null(strstr(e->data, want));
        return id;
}

/* sh -c command's exit status, with what it wrote shown where it failed. */
static int shell(const char *command) {
        char out[8192], err[2048];
        int r = harness_run_for((const char *const[]) { "/bin/sh", "-c", command, NULL }, 15000, out, sizeof(out), err,
                        sizeof(err));

        if (r != 0)
                print_message("%s: %s%s", command, out, err);
        return r;
}

static void test_an_event_per_tick_read_by_curl(void **state) {
        char command[1024];
        HttpEventStream es;
        HttpResponse r;
        HttpEvent e;
        uint64_t first, id;
        ServerProcess s;

        start(&s, NULL);
        http_events_open(&es, s.metrics_port, "/api/v1/events", "", &r);
        assert_int_equal(r.status, 200);
        http_assert_header(&r, "Content-Type: text/event-stream");
        http_assert_header(&r, "Cache-Control: no-store");
        assert_false(http_has_header(&r, "Access-Control-Allow-Origin"));
        first = next_tick(&es, &e);
        assert_int_equal(es.retry, 1000);
        assert_non_null(strstr(e.data, "\"celsius\":-5.250}"));
        assert_non_null(strstr(e.data, "{\"sensor\":\"sim\","));
        /* One event a tick, none missed, none twice. */
        for (uint64_t i = 1; i <= 5; i++) {
                id = next_tick(&es, &e);
                assert_int_equal(id, first + i);
        }
        http_events_close(&es);

        /* As a program reads it: curl -N, each data a JSON document, in order, every field there. */
        snprintf(command, sizeof(command),
                        "curl -sN --max-time 1 http://127.0.0.1:%d/api/v1/events | sed -n 's/^data: //p' | "
                        "jq -es 'length >= 5 and ([.[].seq] | .[-1] - .[0] == length - 1) and "
                        "all(.[]; . as $t | (.readings | map(.sensor)) == [\"room\", \"sim\"] and "
                        ".readings[0].celsius == -5.25 and (.readings[1].celsius | type) == \"number\" and "
                        "(.readings | all(.seq == $t.seq and .time_ms > 1600000000000)))'",
                        s.metrics_port);
        assert_int_equal(shell(command), 0);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

/* A change of level is an alarm event, after its tick's, with no id of its own: a reconnect goes on from
 * the tick. */
static void test_an_alarm_at_each_change_of_level(void **state) {
        HttpEventStream es;
        HttpResponse r;
        HttpEvent e;
        uint64_t id;
        ServerProcess s;
        char want[160];

        start(&s, (const char *const[]) { "--limit", "room:high=-6", NULL });
        http_events_open(&es, s.metrics_port, "/api/v1/events", "", &r);
        assert_int_equal(r.status, 200);
        id = next_tick(&es, &e);
        /* The first reading of -5.25 puts room at high: said once. */
        next_event(&es, &e);
        assert_string_equal(e.event, "alarm");
        assert_string_equal(e.id, "");
        snprintf(want, sizeof(want), "{\"sensor\":\"room\",\"seq\":%" PRIu64 ",", id);
        assert_true(strncmp(e.data, want, strlen(want)) == 0);
        assert_non_null(strstr(e.data, ",\"celsius\":-5.250,\"level\":\"high\"}"));
        for (int i = 0; i < 3; i++) {
                next_event(&es, &e);
                assert_string_equal(e.event, "");
        }

        /* Back below the limit by more than its hysteresis: ok, once. */
        harness_write_file(room, "-20000\n");
        for (int i = 0; i < 50; i++) {
                next_event(&es, &e);
                if (strcmp(e.event, "alarm") == 0)
                        break;
        }
        assert_string_equal(e.event, "alarm");
        assert_non_null(strstr(e.data, ",\"celsius\":-20.000,\"level\":\"ok\"}"));
        for (int i = 0; i < 5; i++) {
                next_event(&es, &e);
                assert_string_equal(e.event, "");
        }
        http_events_close(&es);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

/* The id of the newest tick read, reading till it is at least least. */
static uint64_t read_till(HttpEventStream *es, uint64_t least) {
        HttpEvent e;
        uint64_t id;

        do
                id = next_tick(es, &e);
        while (id < least);
        return id;
}

/* From the tick after the one asked for, held ones first, then live, with no tick missed or sent twice:
 * from Last-Event-ID (an EventSource's reconnect), which wins over after= in the URL, or from after=. */
static void test_last_event_id_resumes_exactly(void **state) {
        HttpEventStream es;
        HttpResponse r;
        HttpEvent e;
        uint64_t last, id = 0;
        ServerProcess s;
        char header[64], path[64];

        start(&s, NULL);
        http_events_open(&es, s.metrics_port, "/api/v1/events", "", &r);
        last = read_till(&es, 3);
        http_events_close(&es);
        /* Gone a while: ticks go on into the history meanwhile, for its return. */
        usleep(600 * 1000);

        snprintf(header, sizeof(header), "Last-Event-ID: %" PRIu64 "\r\n", last);
        http_events_open(&es, s.metrics_port, "/api/v1/events?after=1", header, &r);
        assert_int_equal(r.status, 200);
        for (uint64_t want = last + 1; want <= last + 12; want++) {
                id = next_tick(&es, &e);
                assert_int_equal(id, want);
        }
        last = id;
        http_events_close(&es);

        snprintf(path, sizeof(path), "/api/v1/events?after=%" PRIu64, last);
        http_events_open(&es, s.metrics_port, path, "", &r);
        assert_int_equal(next_tick(&es, &e), last + 1);
        http_events_close(&es);

        /* Past the newest (a server that restarted since, counting from 1 again): from the next tick. */
        http_events_open(&es, s.metrics_port, "/api/v1/events", "Last-Event-ID: 999999\r\n", &r);
        id = next_tick(&es, &e);
        assert_true(id > last && id < 999999);
        http_events_close(&es);

        /* Not a number: refused, in JSON. */
        http_events_open(&es, s.metrics_port, "/api/v1/events", "Last-Event-ID: x1\r\n", &r);
        assert_int_equal(r.status, 400);
        assert_string_equal(r.body, "{\"error\":\"Last-Event-ID is not a reading's number\"}\n");
        http_events_close(&es);
        http_events_open(&es, s.metrics_port, "/api/v1/events?after=-1", "", &r);
        assert_int_equal(r.status, 400);
        http_events_close(&es);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

/* What /metrics answers to the wrong method or path, the events answer likewise. */
static void test_methods_and_paths(void **state) {
        ServerProcess s;
        HttpResponse r;
        int fd;

        start(&s, NULL);
        fd = harness_connect(s.metrics_port, 0);
        http_request(fd, "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", &r);
        assert_int_equal(r.status, 405);
        http_assert_header(&r, "Allow: GET, HEAD");
        close(fd);
        /* Without --http-cors-origin, no preflight either. */
        fd = harness_connect(s.metrics_port, 0);
        http_request(fd, "OPTIONS /api/v1/events HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\n\r\n", &r);
        assert_int_equal(r.status, 405);
        close(fd);
        fd = harness_connect(s.metrics_port, 0);
        http_request(fd, "HEAD /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n", &r);
        assert_int_equal(r.status, 200);
        http_assert_header(&r, "Content-Type: text/event-stream");
        close(fd);
        /* A path of the API that is none is answered in JSON, as its other errors are. */
        http_get(s.metrics_port, "/api/v1/event", "", &r);
        assert_int_equal(r.status, 404);
        http_assert_header(&r, "Content-Type: application/json");
        assert_string_equal(r.body, "{\"error\":\"no such path: the API has /api/v1/sensors, /api/v1/history and "
                                    "/api/v1/events\"}\n");
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

/* The server's stop ends each stream with the end of its body (the last chunk), at once. */
static void test_the_stop_ends_a_stream_cleanly(void **state) {
        HttpEventStream es;
        HttpResponse r;
        HttpEvent e;
        ServerProcess s;

        start(&s, NULL);
        http_events_open(&es, s.metrics_port, "/api/v1/events", "", &r);
        next_tick(&es, &e);
        kill(s.pid, SIGTERM);
        for (int i = 0; i < 100; i++) {
                int k = http_events_next(&es, &e, T);

                if (k != 1) {
                        assert_int_equal(k, 0);
                        break;
                }
        }
        assert_true(es.ended);
        assert_true(harness_wait_eof(es.fd, T));
        assert_int_equal(harness_wait_exit(&s, T), 0);
        http_events_close(&es);
        harness_cleanup(&s);
}

/* A value of /metrics. */
static double sample(int port, const char *name) {
        HttpResponse r;
        const char *p;

        http_get(port, "/metrics", "", &r);
        assert_int_equal(r.status, 200);
        for (p = r.body; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, name, strlen(name)) == 0 && p[strlen(name)] == ' ')
                        return strtod(p + strlen(name) + 1, NULL);
        fail_msg("no sample %s", name);
        return 0;
}

/* A stream that never reads holds its queue and no more: its ticks are skipped, counted, while another
 * stream goes on. */
static void test_a_stream_that_never_reads_is_bounded(void **state) {
        HttpEventStream es;
        HttpResponse r;
        HttpEvent e;
        uint64_t first;
        ServerProcess s;
        int slow;

        harness_start_activated_with(&s, (const char *const[]) { "--interval", "2ms", "--buffer-size", "1K", "--sensor",
                                                 room_spec, NULL },
                        &(HarnessOptions) { .sndbuf = 4096, .metrics = true });
        slow = harness_connect(s.metrics_port, 1024);
        harness_send_str(slow, "GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n");
        http_events_open(&es, s.metrics_port, "/api/v1/events", "", &r);
        /* The one that reads goes on, whatever the other holds (at this pace, it too may miss some). */
        first = next_tick(&es, &e);
        for (uint64_t i = 1; i <= 1000; i++) {
                uint64_t id = next_tick(&es, &e);

                if (id <= first)
                        fail_msg("tick %" PRIu64 " after %" PRIu64, id, first);
                first = id;
        }
        assert_true(sample(s.metrics_port, "thermo_skipped_readings_total") > 0);
        /* Both streams, and this scrape (the one before may not be counted out yet). */
        assert_true(sample(s.metrics_port, "thermo_clients") >= 3);
        http_events_close(&es);
        close(slow);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

/* Streams are clients: they take HTTP's share of --max-clients (a quarter), and hold off exit on idle. */
static void test_streams_are_clients(void **state) {
        HttpEventStream a, b;
        HttpResponse r;
        HttpEvent e;
        ServerProcess s;

        start(&s, (const char *const[]) { "--max-clients", "4", "--exit-idle", "1s", "--history", "1s", NULL });
        http_events_open(&a, s.metrics_port, "/api/v1/events", "", &r);
        assert_int_equal(r.status, 200);
        next_tick(&a, &e);
        http_events_open(&b, s.metrics_port, "/api/v1/events", "", &r);
        assert_int_equal(r.status, 503);
        http_events_close(&b);
        assert_int_equal(harness_wait_exit(&s, 2500), -ETIMEDOUT);
        next_tick(&a, &e);
        /* Lost: readings go on for the history's span (1s), then the idle second, then the exit. */
        http_events_close(&a);
        assert_int_equal(harness_wait_exit(&s, T), 0);
        harness_cleanup(&s);
}

/* /api/v1/sensors' run, into run. */
static void get_run(int port, char run[static 64]) {
        HttpResponse r;
        const char *p;

        http_get(port, "/api/v1/sensors", "", &r);
        assert_int_equal(r.status, 200);
        p = strstr(r.body, "\"run\":\"");
        assert_non_null(p);
        p += strlen("\"run\":\"");
        assert_true(strcspn(p, "\"") < 64 && p[strcspn(p, "\"")] == '"');
        snprintf(run, 64, "%.*s", (int) strcspn(p, "\""), p);
}

/* A restart that hands over: the stream ends as at a stop, and the next server's resumes it from the
 * history it took over, exactly. It is the same run; a server started afresh is another. */
static void test_a_restart_resumes_the_stream(void **state) {
        char header[64], run[64], after[64];
        HttpEventStream es;
        HttpResponse r;
        HttpEvent e;
        uint64_t last;
        ServerProcess s;
        int k;

        start(&s, NULL);
        get_run(s.metrics_port, run);
        http_events_open(&es, s.metrics_port, "/api/v1/events", "", &r);
        last = read_till(&es, 2);
        /* Read on by another process, as a browser would, while the restart goes on. */
        assert_int_equal(harness_restart_handing_over(&s, server_args(NULL), NULL), 0);
        while ((k = http_events_next(&es, &e, T)) == 1)
                if (strcmp(e.event, "") == 0)
                        assert_int_equal(sscanf(e.id, "%" SCNu64, &last), 1);
        assert_int_equal(k, 0);
        http_events_close(&es);

        snprintf(header, sizeof(header), "Last-Event-ID: %" PRIu64 "\r\n", last);
        http_events_open(&es, s.metrics_port, "/api/v1/events", header, &r);
        assert_int_equal(r.status, 200);
        for (uint64_t want = last + 1; want <= last + 5; want++)
                assert_int_equal(next_tick(&es, &e), want);
        http_events_close(&es);
        get_run(s.metrics_port, after);
        assert_string_equal(after, run);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);

        start(&s, NULL);
        get_run(s.metrics_port, after);
        assert_string_not_equal(after, run);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

/* The API is readable by pages of another origin only where --http-cors-origin says, and only the API. */
static void test_cors_only_when_asked(void **state) {
        char out[1024], err[1024];
        HttpEventStream es;
        ServerProcess s;
        HttpResponse r;
        HttpEvent e;
        int fd;

        start(&s, (const char *const[]) { "--http-cors-origin", "https://dash.example:8443", NULL });
        http_get(s.metrics_port, "/api/v1/sensors", "Origin: https://dash.example:8443\r\n", &r);
        http_assert_header(&r, "Access-Control-Allow-Origin: https://dash.example:8443");
        http_get(s.metrics_port, "/api/v1/history", "", &r);
        http_assert_header(&r, "Access-Control-Allow-Origin: https://dash.example:8443");
        /* Its errors too, so that such a page can read what went wrong. */
        http_get(s.metrics_port, "/api/v1/history?sensor=nope", "", &r);
        assert_int_equal(r.status, 404);
        http_assert_header(&r, "Access-Control-Allow-Origin: https://dash.example:8443");
        http_get(s.metrics_port, "/api/v1/nope", "", &r);
        assert_int_equal(r.status, 404);
        http_assert_header(&r, "Access-Control-Allow-Origin: https://dash.example:8443");
        http_get(s.metrics_port, "/metrics", "", &r);
        assert_false(http_has_header(&r, "Access-Control-Allow-Origin"));
        http_events_open(&es, s.metrics_port, "/api/v1/events", "", &r);
        http_assert_header(&r, "Access-Control-Allow-Origin: https://dash.example:8443");
        next_tick(&es, &e);
        http_events_close(&es);
        fd = harness_connect(s.metrics_port, 0);
        http_request(fd, "OPTIONS /api/v1/events HTTP/1.1\r\nHost: x\r\nOrigin: https://dash.example:8443\r\n"
                         "Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: last-event-id\r\n\r\n",
                        &r);
        assert_int_equal(r.status, 204);
        http_assert_header(&r, "Access-Control-Allow-Origin: https://dash.example:8443");
        http_assert_header(&r, "Access-Control-Allow-Methods: GET, HEAD");
        http_assert_header(&r, "Access-Control-Allow-Headers: Last-Event-ID");
        close(fd);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);

        /* Anything but * or an origin is refused at start. */
        for (const char *const *bad = (const char *const[]) { "https://a.example/", "ftp://a.example", "https://",
                                                               "https://a.example:0", "https://u@a.example", NULL };
                        *bad; bad++) {
                assert_int_equal(harness_run((const char *const[]) { harness_server(), "--http-cors-origin", *bad,
                                                     "--sensor", "simulated", NULL },
                                         out, sizeof(out), err, sizeof(err)),
                                2);
                assert_non_null(strstr(err, "--http-cors-origin"));
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_an_event_per_tick_read_by_curl, setup, teardown),
                cmocka_unit_test_setup_teardown(test_an_alarm_at_each_change_of_level, setup, teardown),
                cmocka_unit_test_setup_teardown(test_last_event_id_resumes_exactly, setup, teardown),
                cmocka_unit_test_setup_teardown(test_methods_and_paths, setup, teardown),
                cmocka_unit_test_setup_teardown(test_the_stop_ends_a_stream_cleanly, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_stream_that_never_reads_is_bounded, setup, teardown),
                cmocka_unit_test_setup_teardown(test_streams_are_clients, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_restart_resumes_the_stream, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cors_only_when_asked, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
