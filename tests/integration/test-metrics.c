/* SPDX-License-Identifier: MIT */
/* The HTTP /metrics front end, over real sockets: the socket systemd names "metrics" (and --listen-metrics)
 * speaks HTTP/1.1 while the other speaks thermo/1; what a scrape shows, in both formats; what HTTP clients
 * get wrong, and slow or idle ones; --max-clients and shutdown. Real sensors are files here, with values
 * the test chooses. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "http-harness.h"

#define T HARNESS_TIMEOUT_MS

static char dir[64], room[128], missing[128];

static int setup(void **state) {
        snprintf(dir, sizeof(dir), "/tmp/thermo-metrics-XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(room, sizeof(room), "%s/room", dir);
        snprintf(missing, sizeof(missing), "%s/missing", dir);
        harness_write_file(room, "-5250\n");
        return 0;
}

static int teardown(void **state) {
        harness_remove_tree(dir);
        return harness_kill_all(state);
}

/* A server with both sockets, serving a file sensor that reads -5.25 °C and one that gives no reading. */
static void start(ServerProcess *s, const char *const *more) {
        char room_spec[160], missing_spec[160];
        const char *args[16] = { "--interval", "100ms", "--sensor", room_spec, "--sensor", missing_spec };
        size_t n = 6;

        snprintf(room_spec, sizeof(room_spec), "room=file:%s", room);
        snprintf(missing_spec, sizeof(missing_spec), "gone=file:%s", missing);
        for (; more && *more && n < 15; more++)
                args[n++] = *more;
        args[n] = NULL;
        harness_start_activated_with(s, args, &(HarnessOptions) { .metrics = true });
}

static void scrape(int port, const char *extra_headers, HttpResponse *r) {
        http_get(port, "/metrics", extra_headers, r);
}

static void assert_line(const char *body, const char *line) {
        char want[256];
        const char *p;

        snprintf(want, sizeof(want), "%s\n", line);
        for (p = strstr(body, want); p && p != body && p[-1] != '\n'; p = strstr(p + 1, want))
                ;
        if (!p)
                fail_msg("no line '%s' in:\n%s", line, body);
}

/* A scrape while every HTTP slot may be taken: false when the server cut it, before any answer, as the
 * oldest exchange of all (thermo-server(8), LIMITS: what a new one takes when none is left). */
static bool scrape_unless_cut(int port, HttpResponse *r) {
        static const char text[] = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n";
        int fd = harness_connect(port, 0);
        char c;

        harness_send_str(fd, text);
        /* No answer at all is no cut: a scrape is answered, or cut, at once. */
        if (!harness_wait_readable(fd, T))
                fail_msg("a scrape had no answer within %d ms", T);
        if (recv(fd, &c, 1, MSG_PEEK) <= 0) {
                close(fd);
                return false;
        }
        http_read_response(fd, r, false);
        close(fd);
        return true;
}

/* The value of the sample that starts a line with prefix. */
static double sample(const char *body, const char *prefix) {
        for (const char *p = body; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, prefix, strlen(prefix)) == 0 && p[strlen(prefix)] == ' ')
                        return strtod(p + strlen(prefix) + 1, NULL);
        fail_msg("no sample %s in:\n%s", prefix, body);
        return 0;
}

static void test_scrape_in_the_text_format(void **state) {
        char line[256], build_info[128];
        ServerProcess s;
        HttpResponse r;
        double stamp;
        int fd;

        start(&s, NULL);

        /* The thermo/1 socket is untouched: it greets. */
        fd = harness_connect(s.port, 0);
        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        assert_true(strncmp(line, "HELLO thermo/1 ", 15) == 0);

        scrape(s.metrics_port, "", &r);
        assert_int_equal(r.status, 200);
        http_assert_header(&r, "Content-Type: text/plain; version=0.0.4; charset=utf-8");
        assert_line(r.body, "# TYPE thermo_temperature_celsius gauge");
        assert_line(r.body, "thermo_temperature_celsius{sensor=\"room\"} -5.250");
        /* A sensor without a reading has no temperature at all, never a stale one. */
        assert_null(strstr(r.body, "thermo_temperature_celsius{sensor=\"gone\"}"));
        assert_line(r.body, "thermo_sensor_up{sensor=\"room\"} 1");
        assert_line(r.body, "thermo_sensor_up{sensor=\"gone\"} 0");
        stamp = sample(r.body, "thermo_reading_timestamp_seconds{sensor=\"room\"}");
        assert_true(stamp > (double) time(NULL) - 10 && stamp < (double) time(NULL) + 10);
        assert_true(sample(r.body, "thermo_readings_total") >= 1);
        assert_line(r.body, "# TYPE thermo_readings_total counter");
        assert_line(r.body, "thermo_skipped_readings_total 0");
        /* The thermo/1 client and this scrape. */
        assert_line(r.body, "thermo_clients 2");
        snprintf(build_info, sizeof(build_info), "thermo_build_info{server=\"%s\",version=\"", harness_server_name());
        assert_non_null(strstr(r.body, build_info));
        assert_null(strstr(r.body, "# EOF"));
        assert_null(strstr(r.body, "# UNIT"));

        close(fd);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

static void test_scrape_in_openmetrics(void **state) {
        ServerProcess s;
        HttpResponse r;

        start(&s, NULL);
        /* What Prometheus sends. */
        scrape(s.metrics_port,
                        "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
                        "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n",
                        &r);
        assert_int_equal(r.status, 200);
        http_assert_header(&r, "Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8");
        assert_line(r.body, "# UNIT thermo_temperature_celsius celsius");
        assert_line(r.body, "thermo_temperature_celsius{sensor=\"room\"} -5.250");
        /* Counter and info families are named without their suffix; samples keep it. */
        assert_line(r.body, "# TYPE thermo_readings counter");
        assert_true(sample(r.body, "thermo_readings_total") >= 1);
        assert_line(r.body, "# TYPE thermo_build info");
        assert_true(r.length > 6);
        assert_string_equal(r.body + r.length - 6, "# EOF\n");

        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

static void test_keep_alive_head_and_errors(void **state) {
        char big[20000];
        ServerProcess s;
        HttpResponse r, get;
        int fd;

        start(&s, NULL);
        fd = harness_connect(s.metrics_port, 0);

        /* One connection, many requests, as Prometheus keeps it between scrapes. */
        http_request(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &get);
        assert_int_equal(get.status, 200);
        assert_null(strstr(get.headers, "Connection: close"));

        http_request(fd, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r);
        assert_int_equal(r.status, 200);
        http_assert_header(&r, "Content-Type: text/plain; version=0.0.4; charset=utf-8");

        http_request(fd, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n", &r);
        assert_int_equal(r.status, 404);
        assert_string_equal(r.body, "Not found: the page is at /, the metrics at /metrics, the API at "
                                    "/api/v1/sensors, /api/v1/history and /api/v1/events.\n");

        http_request(fd, "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", &r);
        assert_int_equal(r.status, 200);

        http_request(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r);
        assert_int_equal(r.status, 200);

        /* Any other method is refused before the body it may bring, and the connection with it. */
        http_request(fd, "DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r);
        assert_int_equal(r.status, 405);
        http_assert_header(&r, "Allow: GET, HEAD");
        http_assert_header(&r, "Connection: close");
        assert_true(harness_wait_eof(fd, T));
        close(fd);

        fd = harness_connect(s.metrics_port, 0);
        http_request(fd, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", &r);
        assert_int_equal(r.status, 405);
        assert_true(harness_wait_eof(fd, T));
        close(fd);

        /* A GET may carry a body: ignored, and the connection kept. */
        fd = harness_connect(s.metrics_port, 0);
        http_request(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", &r);
        assert_int_equal(r.status, 200);
        http_request(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r);
        assert_int_equal(r.status, 200);
        close(fd);

        /* Not HTTP at all: closed (libmicrohttpd answers what it can parse with 400). */
        fd = harness_connect(s.metrics_port, 0);
        harness_send_str(fd, "HELLO\r\n\r\n");
        assert_true(harness_wait_eof(fd, T));
        close(fd);
        fd = harness_connect(s.metrics_port, 0);
        http_request(fd, "GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n", &r);
        assert_int_equal(r.status, 505);
        close(fd);

        /* Headers beyond what a scrape needs: refused, not buffered. */
        fd = harness_connect(s.metrics_port, 0);
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        harness_send_str(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ");
        harness_send_str(fd, big);
        harness_send_str(fd, "\r\n\r\n");
        http_read_response(fd, &r, false);
        assert_true(r.status == 431 || r.status == 413);
        assert_true(harness_wait_eof(fd, T));
        close(fd);

        /* And the server goes on. */
        scrape(s.metrics_port, "", &r);
        assert_int_equal(r.status, 200);

        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

static void test_a_silent_client_is_closed(void **state) {
        ServerProcess s;
        HttpResponse r;
        int fd;

        start(&s, NULL);
        /* Half a request, then nothing: closed after 10s of silence. */
        fd = harness_connect(s.metrics_port, 0);
        harness_send_str(fd, "GET /metrics HTTP/1.1\r\n");
        assert_false(harness_wait_eof(fd, 8000));
        assert_true(harness_wait_eof(fd, 4000));
        close(fd);

        scrape(s.metrics_port, "", &r);
        assert_line(r.body, "thermo_clients 1");

        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

/* The slowloris: 300 connections from 32 loopback addresses, each sending a byte of its request's headers
 * every 5 seconds, for 15 seconds, connecting again when cut or refused (once a second at most). They
 * must take neither a streaming client's slot (HTTP has a quarter of --max-clients at most) nor a
 * scraper's (a request's headers have 10 seconds from the connection on, and the connection that has
 * waited longest for them is cut to make room): both are served throughout. */
#define ATTACKERS 300

static int64_t monotonic_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pid_t slowloris(int port) {
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid > 0) {
                harness_track(pid);
                return pid;
        }
        alarm(30);
        {
                static const char headers[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-a: b\r\n";
                int fds[ATTACKERS];
                int64_t next[ATTACKERS] = {}, start = monotonic_ms();
                size_t sent[ATTACKERS] = {};

                for (int i = 0; i < ATTACKERS; i++)
                        fds[i] = -1;
                for (;;) {
                        int64_t now = monotonic_ms();

                        if (now - start > 15000)
                                _exit(0);
                        for (int i = 0; i < ATTACKERS; i++) {
                                char c;

                                if (fds[i] >= 0 && recv(fds[i], &c, 1, MSG_DONTWAIT) == 0) {
                                        close(fds[i]);
                                        fds[i] = -1;
                                }
                                if (now < next[i])
                                        continue;
                                if (fds[i] < 0) {
                                        struct sockaddr_in from = { .sin_family = AF_INET,
                                                                    .sin_addr.s_addr = htonl(0x7f000200 + 1 + i % 32) },
                                                           to = { .sin_family = AF_INET, .sin_port = htons(port),
                                                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

                                        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                                        if (fds[i] < 0 || bind(fds[i], (struct sockaddr *) &from, sizeof(from)) < 0 ||
                                                        (connect(fds[i], (struct sockaddr *) &to, sizeof(to)) < 0 &&
                                                         errno != EINPROGRESS)) {
                                                if (fds[i] >= 0)
                                                        close(fds[i]);
                                                fds[i] = -1;
                                        }
                                        sent[i] = 0;
                                        next[i] = now + 1000;
                                        continue;
                                }
                                (void) send(fds[i], headers + sent[i] % (sizeof(headers) - 1), 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                                sent[i]++;
                                next[i] = now + 5000;
                        }
                        usleep(20 * 1000);
                }
        }
}

static void test_slow_http_clients_take_no_one_s_slot(void **state) {
        char line[256], stream_buf[8192];
        size_t stream_len = 0;
        ServerProcess s;
        uint64_t seq = 0;
        int stream, scrapes = 0, cut = 0;
        HttpResponse r;
        pid_t attack;

        start(&s, (const char *const[]) { "--max-clients", "128", NULL });
        stream = harness_connect(s.port, 0);
        assert_true(harness_read_line(stream, line, sizeof(line), T) > 0);
        harness_send_str(stream, "STREAM\n");
        assert_true(harness_read_line(stream, line, sizeof(line), T) > 0);
        assert_string_equal(line, "OK STREAM");

        attack = slowloris(s.metrics_port);
        /* A scrape every half second while the attack lasts, each served; every reading streamed (read as
         * it has come, whole lines out of what is there). */
        for (int64_t until = monotonic_ms() + 15000; monotonic_ms() < until; scrapes++) {
                ssize_t k;
                char *nl;

                harness_drain_notify(&s);
                /* One that the attack's new connections made the oldest exchange may be cut, as the rule
                 * says: once in a while, never for long. */
                if (!scrape_unless_cut(s.metrics_port, &r)) {
                        cut++;
                        continue;
                }
                assert_int_equal(r.status, 200);
                while ((k = recv(stream, stream_buf + stream_len, sizeof(stream_buf) - stream_len - 1, MSG_DONTWAIT)) > 0)
                        stream_len += (size_t) k;
                stream_buf[stream_len] = '\0';
                while ((nl = strchr(stream_buf, '\n'))) {
                        uint64_t got;

                        *nl = '\0';
                        /* The room's file is read by a thread: under load (valgrind) it may not be ready at a
                         * tick, which then takes no number. No reading of it is skipped for the stream. */
                        if (strcmp(stream_buf, "ERR 503 sensor unavailable") != 0) {
                                got = harness_assert_temp(stream_buf);
                                if (seq > 0)
                                        assert_int_equal(got, seq + 1);
                                seq = got;
                        }
                        stream_len -= (size_t) (nl + 1 - stream_buf);
                        memmove(stream_buf, nl + 1, stream_len + 1);
                }
                usleep(500 * 1000);
        }
        assert_true(scrapes >= 20);
        assert_true(cut <= scrapes / 10);
        assert_true(seq >= 100);
        assert_int_equal(harness_wait_pid(attack, T), 0);

        close(stream);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

/* Each sensor's limits, its level, and what it is, for alert rules and sum by (chip). */
static void test_limits_levels_and_sensor_info(void **state) {
        char line[512];
        ServerProcess s;
        HttpResponse r;

        start(&s, (const char *const[]) { "--limit", "room:low=-10,high=-6", NULL });
        scrape(s.metrics_port, "", &r);
        assert_int_equal(r.status, 200);
        assert_line(r.body, "thermo_temperature_low_celsius{sensor=\"room\"} -10.000");
        assert_line(r.body, "thermo_temperature_high_celsius{sensor=\"room\"} -6.000");
        assert_null(strstr(r.body, "thermo_temperature_crit_celsius{"));
        assert_null(strstr(r.body, "thermo_temperature_low_celsius{sensor=\"gone\"}"));
        /* -5.25 is at or above high. */
        assert_line(r.body, "thermo_sensor_level{sensor=\"room\"} 1");
        assert_line(r.body, "thermo_sensor_level{sensor=\"gone\"} 0");
        snprintf(line, sizeof(line), "thermo_sensor_info{sensor=\"room\",chip=\"\",label=\"\",source=\"file:%s\"} 1", room);
        assert_line(r.body, line);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

/* A file sensor walked through every level and back: the gauge says where it is at each scrape, and
 * the counter has every change once, however short (the scrapes here come after each). */
static void test_level_gauge_and_every_change_counted_once(void **state) {
        static const struct {
                const char *millidegrees;
                int level;
        } walk[] = {
                { "31000\n", 1 }, { "41000\n", 2 }, { "38000\n", 2 } /* within crit's hysteresis */,
                { "37999\n", 1 }, { "20000\n", 0 }, { "-1000\n", -1 }, { "2000\n", -1 }, { "2001\n", 0 },
        };
        ServerProcess s;
        HttpResponse r;

        harness_write_file(room, "20000\n");
        start(&s, (const char *const[]) { "--limit", "room:low=0,high=30,crit=40", NULL });
        for (size_t i = 0; i < sizeof(walk) / sizeof(walk[0]); i++) {
                char value[32];
                int k;

                harness_write_file(room, walk[i].millidegrees);
                snprintf(value, sizeof(value), "%.3f", strtod(walk[i].millidegrees, NULL) / 1000);
                /* Until a reading of the new value is scraped. */
                for (k = 0; k < 100; k++) {
                        scrape(s.metrics_port, "", &r);
                        if (strtod(value, NULL) == sample(r.body, "thermo_temperature_celsius{sensor=\"room\"}"))
                                break;
                        usleep(50 * 1000);
                }
                assert_true(k < 100);
                assert_int_equal((int) sample(r.body, "thermo_sensor_level{sensor=\"room\"}"), walk[i].level);
        }
        assert_int_equal(sample(r.body, "thermo_sensor_level_changes_total{sensor=\"room\",level=\"high\"}"), 2);
        assert_int_equal(sample(r.body, "thermo_sensor_level_changes_total{sensor=\"room\",level=\"crit\"}"), 1);
        assert_int_equal(sample(r.body, "thermo_sensor_level_changes_total{sensor=\"room\",level=\"low\"}"), 1);
        assert_int_equal(sample(r.body, "thermo_sensor_level_changes_total{sensor=\"room\",level=\"ok\"}"), 2);
        /* A sensor without limits has no changes to count. */
        assert_null(strstr(r.body, "thermo_sensor_level_changes_total{sensor=\"gone\""));
        assert_non_null(strstr(r.body, "# TYPE thermo_sensor_level_changes_total counter\n"));
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

static void test_scrapes_count_as_clients(void **state) {
        ServerProcess s;
        HttpResponse r;
        char buf[512];
        int stream, http;
        ssize_t n;

        start(&s, (const char *const[]) { "--max-clients", "1", NULL });
        stream = harness_connect(s.port, 0);
        assert_true(harness_read_line(stream, buf, sizeof(buf), T) > 0);

        /* No room: told so in HTTP, not in thermo/1. */
        http = harness_connect(s.metrics_port, 0);
        n = recv(http, buf, sizeof(buf) - 1, MSG_WAITALL);
        assert_true(n > 0);
        buf[n] = '\0';
        assert_true(strncmp(buf, "HTTP/1.1 503 Service Unavailable\r\n", 34) == 0);
        assert_non_null(strstr(buf, "\r\nRetry-After: 1\r\n"));
        assert_non_null(strstr(buf, "\r\n\r\nToo many clients\n"));
        close(http);

        /* The room comes back when the stream goes. */
        close(stream);
        for (int i = 0; i < 50; i++) {
                usleep(20 * 1000);
                http = harness_connect(s.metrics_port, 0);
                http_request(http, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r);
                close(http);
                if (r.status == 200)
                        break;
        }
        assert_int_equal(r.status, 200);
        assert_line(r.body, "thermo_clients 1");

        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

static void test_scrapes_cost_one_reading_of_each_sensor(void **state) {
        ServerProcess s;
        HttpResponse r;
        double total;

        /* Nothing streams: the first scrape reads the sensors, those within the interval after it do not. */
        start(&s, (const char *const[]) { "--interval", "1h", NULL });
        scrape(s.metrics_port, "", &r);
        assert_int_equal(r.status, 200);
        assert_line(r.body, "thermo_temperature_celsius{sensor=\"room\"} -5.250");
        total = sample(r.body, "thermo_readings_total");
        for (int i = 0; i < 5; i++) {
                scrape(s.metrics_port, "", &r);
                assert_true(sample(r.body, "thermo_readings_total") == total);
        }
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

static void test_skipped_readings_are_counted(void **state) {
        char line[256];
        ServerProcess s;
        HttpResponse r;
        int slow;

        /* A stream client that never reads fills its buffers, and its readings are skipped. */
        harness_start_activated_with(&s, (const char *const[]) { "--interval", "1ms", "--buffer-size", "1K", "--sensor",
                                                 "simulated:seed=1", NULL },
                        &(HarnessOptions) { .sndbuf = 4096, .metrics = true });
        slow = harness_connect(s.port, 1024);
        assert_true(harness_read_line(slow, line, sizeof(line), T) > 0);
        harness_send_str(slow, "STREAM\n");
        usleep(1500 * 1000);

        scrape(s.metrics_port, "", &r);
        assert_true(sample(r.body, "thermo_skipped_readings_total") > 0);
        assert_true(sample(r.body, "thermo_readings_total") > sample(r.body, "thermo_skipped_readings_total"));
        close(slow);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

static void test_exit_on_idle_waits_for_a_kept_connection(void **state) {
        ServerProcess s;
        HttpResponse r;
        int fd;

        start(&s, (const char *const[]) { "--exit-idle", "1s", NULL });
        fd = harness_connect(s.metrics_port, 0);
        http_request(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r);
        assert_int_equal(r.status, 200);
        /* A connection Prometheus keeps between scrapes is a client: no exit under it. */
        assert_int_equal(harness_wait_exit(&s, 2500), -ETIMEDOUT);
        close(fd);
        assert_int_equal(harness_wait_exit(&s, T), 0);
        harness_cleanup(&s);
}

static void test_shutdown_closes_idle_connections(void **state) {
        ServerProcess s;
        HttpResponse r;
        struct timespec a, b;
        int fd;

        start(&s, NULL);
        fd = harness_connect(s.metrics_port, 0);
        http_request(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r);
        assert_int_equal(r.status, 200);

        /* Kept alive and idle: closed within a second or so, and the server exits cleanly. */
        clock_gettime(CLOCK_MONOTONIC, &a);
        kill(s.pid, SIGTERM);
        assert_true(harness_wait_eof(fd, 2500));
        assert_int_equal(harness_wait_exit(&s, T), 0);
        clock_gettime(CLOCK_MONOTONIC, &b);
        assert_true(b.tv_sec - a.tv_sec < 3);
        close(fd);
        harness_cleanup(&s);
}

static void test_listen_metrics_option(void **state) {
        char address[64], line[256];
        int port = harness_free_port(), fd;
        ServerProcess s;
        HttpResponse r;

        /* Started by hand: --listen-metrics adds HTTP, thermo/1 stays where --listen says. */
        snprintf(address, sizeof(address), "127.0.0.1:%i", port);
        harness_start_listening(&s, (const char *const[]) { "--listen-metrics", address, "--sensor", "simulated:seed=3",
                                            NULL });
        fd = harness_connect(s.port, 0);
        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        assert_true(strncmp(line, "HELLO thermo/1 ", 15) == 0);
        close(fd);
        scrape(port, "", &r);
        assert_int_equal(r.status, 200);
        assert_line(r.body, "thermo_sensor_up{sensor=\"simulated\"} 1");

        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

/* The JSON API, read by curl and checked by jq: each sensor with its reading (null where it has none), its
 * level and limits; the held readings, of one sensor or all, after a seq; errors as JSON, with their
 * status. */
static void test_the_json_api(void **state) {
        ServerProcess s;
        HttpResponse r;
        int fd;

        start(&s, (const char *const[]) { "--limit", "room:low=-10,high=-6", NULL });
        /* Ticks held: a stream runs for a while. */
        fd = harness_connect(s.port, 0);
        harness_send_str(fd, "STREAM 5\n");
        for (char line[512]; harness_read_line(fd, line, sizeof(line), HARNESS_TIMEOUT_MS) > 0 && strcmp(line, "END") != 0;)
                ;
        close(fd);

        assert_int_equal(http_jq(s.metrics_port, "/api/v1/sensors",
                                 ".sensors | length == 2 and .[0].name == \"room\" and .[0].label == null and "
                                 "(.[0].source | startswith(\"file:\")) and .[0].reading.celsius == -5.25 and "
                                 ".[0].reading.seq >= 5 and .[0].reading.time_ms > 1600000000000 and "
                                 ".[0].level == \"high\" and .[0].limits == {\"low\": -10, \"high\": -6, \"crit\": null} and "
                                 ".[1].name == \"gone\" and .[1].reading.celsius == null and .[1].level == \"ok\""),
                        0);
        assert_int_equal(http_jq(s.metrics_port, "/api/v1/history?sensor=room&after=2",
                                 ".oldest_seq == 1 and .newest_seq >= 5 and (.readings | length) == .newest_seq - 2 and "
                                 ".readings[0] == {\"sensor\": \"room\", \"seq\": 3, \"time_ms\": .readings[0].time_ms, "
                                 "\"celsius\": -5.25} and ([.readings[].seq] | . == (. | sort))"),
                        0);
        assert_int_equal(http_jq(s.metrics_port, "/api/v1/history",
                                 "[.readings[] | select(.seq == 1) | .sensor] == [\"room\", \"gone\"] and "
                                 "([.readings[] | select(.sensor == \"gone\") | .celsius] | all(. == null))"),
                        0);

        http_get(s.metrics_port, "/api/v1/history?sensor=nope", "", &r);
        assert_int_equal(r.status, 404);
        assert_string_equal(r.body, "{\"error\":\"no such sensor\"}\n");
        http_get(s.metrics_port, "/api/v1/history?after=-1", "", &r);
        assert_int_equal(r.status, 400);
        http_assert_header(&r, "Content-Type: application/json");
        http_get(s.metrics_port, "/api/v2/sensors", "", &r);
        assert_int_equal(r.status, 404);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_scrape_in_the_text_format, setup, teardown),
                cmocka_unit_test_setup_teardown(test_scrape_in_openmetrics, setup, teardown),
                cmocka_unit_test_setup_teardown(test_keep_alive_head_and_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_silent_client_is_closed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_scrapes_count_as_clients, setup, teardown),
                cmocka_unit_test_setup_teardown(test_limits_levels_and_sensor_info, setup, teardown),
                cmocka_unit_test_setup_teardown(test_level_gauge_and_every_change_counted_once, setup, teardown),
                cmocka_unit_test_setup_teardown(test_slow_http_clients_take_no_one_s_slot, setup, teardown),
                cmocka_unit_test_setup_teardown(test_scrapes_cost_one_reading_of_each_sensor, setup, teardown),
                cmocka_unit_test_setup_teardown(test_skipped_readings_are_counted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_exit_on_idle_waits_for_a_kept_connection, setup, teardown),
                cmocka_unit_test_setup_teardown(test_shutdown_closes_idle_connections, setup, teardown),
                cmocka_unit_test_setup_teardown(test_listen_metrics_option, setup, teardown),
                cmocka_unit_test_setup_teardown(test_the_json_api, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
