/* SPDX-License-Identifier: MIT */
/* The load generator of the benchmarks: CLIENTS clients on loopback connect to a server and stream from it
 * for SECONDS, and it tells what they got: readings, readings skipped (gaps in seq), and how long a reading
 * took from being taken (its time in the TEMP line) to reaching a client, p50 and p99. With the server's
 * PID, also the server's CPU time and resident memory over the same window. The window opens once every
 * client is connected and what reached them meanwhile has been read and dropped (a settling of 2 s), so
 * that it measures the steady stream, not the connecting. The clients come from 127.0.1.0/24, as a crowd
 * of hosts would: the server's per-address limit is not what is measured. errors= counts the clients that
 * ended early (refused, cut off), settling included: a run with any is no measure of the server. Loopback
 * only, at most 20000 clients and 300 seconds.
 *
 * With --events, each client is a browser's EventSource instead: GET /api/v1/events of the HTTP socket at
 * PORT (in HTTP/1.0, so that the body is the events as they are, to the end of the connection), and a
 * reading is a tick's event, its seq its id, its time the first time_ms in its data.
 *
 *   thermo-load [--events] PORT CLIENTS SECONDS [PID] */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "parse.h"
#include "protocol.h"

#define CLIENTS_MAX 20000
#define SECONDS_MAX 300
#define BUCKET_US 100           /* latency histogram: 100µs buckets up to 10s */
#define BUCKETS 100000
#define SETTLE_US (2 * 1000000)

typedef struct Stats {
        uint64_t readings, skipped, errors;     /* errors: clients ended */
        uint32_t histogram[BUCKETS];
} Stats;

typedef struct Client {
        int fd;
        char buf[1024];
        size_t len;
        uint64_t last_seq;
        uint64_t event_seq;     /* the id of the event whose data comes next, 0 for none */
} Client;

/* A reading delivered: its tick's seq, and when it was taken. */
typedef struct Delivery {
        uint64_t seq, time_ms;
} Delivery;

/* A thermo/1 line: a TEMP is a reading. */
static bool delivered_line(Client *c, char *line, Delivery *ret) {
        Reply reply;

        (void) c;
        if (protocol_parse_reply(line, &reply) < 0 || reply.type != REPLY_TEMP)
                return false;
        *ret = (Delivery) { .seq = reply.reading.seq, .time_ms = reply.reading.time_ms };
        return true;
}

/* An event stream's line: a tick's "id: SEQ", then its "data: {...}", is a reading. The headers, the
 * blank lines and an alarm's event (it has no id) are none. */
static bool delivered_event(Client *c, char *line, Delivery *ret) {
        const char *t;
        uint64_t seq;

        if (sscanf(line, "id: %" SCNu64, &seq) == 1) {
                c->event_seq = seq;
                return false;
        }
        if (c->event_seq == 0 || strncmp(line, "data: ", 6) != 0)
                return false;
        t = strstr(line, "\"time_ms\":");
        if (!t)
                return false;
        *ret = (Delivery) { .seq = c->event_seq, .time_ms = strtoull(t + strlen("\"time_ms\":"), NULL, 10) };
        c->event_seq = 0;
        return true;
}

typedef bool (*delivered_t)(Client *c, char *line, Delivery *ret);

static uint64_t now_us(clockid_t clock) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* CPU time (user and system, in ms) and resident memory (KiB) of a process. */
static void process_usage(long pid, uint64_t *ret_cpu_ms, uint64_t *ret_rss_kb) {
        unsigned long utime = 0, stime = 0;
        char path[64], line[256];
        FILE *f;

        *ret_cpu_ms = *ret_rss_kb = 0;
        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        f = fopen(path, "re");
        if (!f)
                return;
        /* pid (comm) state, then 10 fields, then utime and stime. */
        if (fscanf(f, "%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) == 2)
                *ret_cpu_ms = (utime + stime) * 1000 / (uint64_t) sysconf(_SC_CLK_TCK);
        fclose(f);
        snprintf(path, sizeof(path), "/proc/%ld/status", pid);
        f = fopen(path, "re");
        if (!f)
                return;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %" SCNu64, ret_rss_kb) == 1)
                        break;
        fclose(f);
}

static uint64_t percentile(const uint32_t *histogram, uint64_t total, unsigned p) {
        uint64_t want = (total * p + 99) / 100, seen = 0;

        for (size_t i = 0; i < BUCKETS; i++) {
                seen += histogram[i];
                if (seen >= want && want > 0)
                        return (uint64_t) i * BUCKET_US + BUCKET_US / 2;
        }
        return 0;
}

/* Reads what the clients get until the deadline (0: only what is there now), counting into stats. */
static void receive(int ep, uint64_t deadline, delivered_t delivered, Stats *stats) {
        do {
                struct epoll_event events[256];
                uint64_t now = now_us(CLOCK_MONOTONIC);
                int k = epoll_wait(ep, events, 256, deadline > now ? (int) ((deadline - now) / 1000) + 1 : 0);

                for (int e = 0; e < k; e++) {
                        Client *c = events[e].data.ptr;
                        ssize_t got = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len - 1, MSG_DONTWAIT);
                        uint64_t arrived = now_us(CLOCK_REALTIME);
                        char *line = c->buf, *nl;

                        if (got <= 0) {
                                stats->errors++;
                                (void) epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                                continue;
                        }
                        c->len += (size_t) got;
                        c->buf[c->len] = '\0';
                        while ((nl = strchr(line, '\n'))) {
                                Delivery d;

                                *nl = '\0';
                                if (delivered(c, line, &d)) {
                                        uint64_t taken = d.time_ms * 1000;
                                        uint64_t bucket = arrived > taken ? (arrived - taken) / BUCKET_US : 0;

                                        if (c->last_seq > 0 && d.seq > c->last_seq + 1)
                                                stats->skipped += d.seq - c->last_seq - 1;
                                        c->last_seq = d.seq;
                                        stats->histogram[bucket < BUCKETS ? bucket : BUCKETS - 1]++;
                                        stats->readings++;
                                }
                                line = nl + 1;
                        }
                        c->len = strlen(line);
                        memmove(c->buf, line, c->len);
                }
        } while (now_us(CLOCK_MONOTONIC) < deadline);
}

int main(int argc, char *argv[]) {
        static const char EVENTS_REQUEST[] = "GET /api/v1/events HTTP/1.0\r\nAccept: text/event-stream\r\n\r\n";
        uint64_t port, n, seconds, pid = 0, cpu0, cpu1, rss, rss0, ended;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        bool events = argc > 1 && strcmp(argv[1], "--events") == 0;
        const char *request = events ? EVENTS_REQUEST : "STREAM\n";
        delivered_t delivered = events ? delivered_event : delivered_line;
        static Stats stats_storage;
        Stats *stats = &stats_storage;
        struct rlimit rl;
        Client *clients;
        int ep;

        if (events) {
                argv[1] = argv[0];
                argv++;
                argc--;
        }
        if ((argc != 4 && argc != 5) || parse_uint64(argv[1], 1, 65535, &port) < 0 ||
                        parse_uint64(argv[2], 1, CLIENTS_MAX, &n) < 0 || parse_uint64(argv[3], 1, SECONDS_MAX, &seconds) < 0 ||
                        (argc == 5 && parse_uint64(argv[4], 1, INT32_MAX, &pid) < 0)) {
                fprintf(stderr, "usage: %s [--events] PORT CLIENTS(1-%d) SECONDS(1-%d) [PID]\n", argv[0], CLIENTS_MAX,
                        SECONDS_MAX);
                return 64;
        }
        sa.sin_port = htons((uint16_t) port);

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }

        clients = calloc(n, sizeof(Client));
        ep = epoll_create1(EPOLL_CLOEXEC);
        if (!clients || ep < 0)
                return 71;

        for (uint64_t i = 0; i < n; i++) {
                Client *c = &clients[i];
                struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
                struct sockaddr_in from = { .sin_family = AF_INET,
                                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK + 0x100 + 1 + i % 250) };

                c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (c->fd < 0 || bind(c->fd, (struct sockaddr *) &from, sizeof(from)) < 0 ||
                                connect(c->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
                                send(c->fd, request, strlen(request), MSG_NOSIGNAL) != (ssize_t) strlen(request) ||
                                epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
                        fprintf(stderr, "client %" PRIu64 ": %s\n", i, strerror(errno));
                        return 69;
                }
                /* Keep up with what the first clients get while the others connect. */
                if (i % 100 == 99)
                        receive(ep, 0, delivered, stats);
        }

        /* Settle: what reached the clients while they connected is read and dropped. */
        receive(ep, now_us(CLOCK_MONOTONIC) + SETTLE_US, delivered, stats);
        ended = stats->errors;
        memset(stats, 0, sizeof(*stats));
        stats->errors = ended;

        process_usage((long) pid, &cpu0, &rss0);
        receive(ep, now_us(CLOCK_MONOTONIC) + seconds * 1000000, delivered, stats);
        process_usage((long) pid, &cpu1, &rss);

        printf("clients=%" PRIu64 " seconds=%" PRIu64 " readings=%" PRIu64 " per_second=%" PRIu64 " skipped=%" PRIu64
               " errors=%" PRIu64 " p50_us=%" PRIu64 " p99_us=%" PRIu64 " cpu_ms=%" PRIu64 " rss_kb=%" PRIu64 "\n",
               n, seconds, stats->readings, stats->readings / seconds, stats->skipped, stats->errors,
               percentile(stats->histogram, stats->readings, 50), percentile(stats->histogram, stats->readings, 99),
               cpu1 - cpu0, rss);
        for (uint64_t i = 0; i < n; i++)
                close(clients[i].fd);
        free(clients);
        return 0;
}
