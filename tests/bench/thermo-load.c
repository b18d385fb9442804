/* SPDX-License-Identifier: MIT */
/* A load generator for the benchmarks: N clients on loopback stream from one server for a bounded time,
 * and it tells what they got. Loopback only, at most 20000 clients and 300 seconds.
 *
 *   thermo-load PORT CLIENTS SECONDS
 *
 * Prints one line: clients, seconds, readings, readings/s, readings skipped (gaps in seq), errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
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

typedef struct Client {
        int fd;
        char buf[4096];
        size_t len;
        uint64_t last_seq;
} Client;

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

int main(int argc, char *argv[]) {
        uint64_t port, n, seconds, readings = 0, skipped = 0, errors = 0, start, end;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        struct rlimit rl;
        Client *clients;
        int ep;

        if (argc != 4 || parse_uint64(argv[1], 1, 65535, &port) < 0 || parse_uint64(argv[2], 1, CLIENTS_MAX, &n) < 0 ||
                        parse_uint64(argv[3], 1, SECONDS_MAX, &seconds) < 0) {
                fprintf(stderr, "usage: %s PORT CLIENTS(1-%d) SECONDS(1-%d)\n", argv[0], CLIENTS_MAX, SECONDS_MAX);
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

                c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (c->fd < 0 || connect(c->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
                                send(c->fd, "STREAM\n", 7, MSG_NOSIGNAL) != 7 ||
                                epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
                        fprintf(stderr, "client %" PRIu64 ": %s\n", i, strerror(errno));
                        return 69;
                }
        }

        start = now_ms();
        end = start + seconds * 1000;
        while (now_ms() < end) {
                struct epoll_event events[256];
                int k = epoll_wait(ep, events, 256, (int) (end - now_ms()));

                for (int e = 0; e < k; e++) {
                        Client *c = events[e].data.ptr;
                        ssize_t got = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len - 1, MSG_DONTWAIT);
                        char *line = c->buf, *nl;

                        if (got <= 0) {
                                errors++;
                                (void) epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                                continue;
                        }
                        c->len += (size_t) got;
                        c->buf[c->len] = '\0';
                        while ((nl = strchr(line, '\n'))) {
                                Reply reply;

                                *nl = '\0';
                                if (protocol_parse_reply(line, &reply) == 0 && reply.type == REPLY_TEMP) {
                                        if (c->last_seq > 0 && reply.reading.seq > c->last_seq + 1)
                                                skipped += reply.reading.seq - c->last_seq - 1;
                                        c->last_seq = reply.reading.seq;
                                        readings++;
                                }
                                line = nl + 1;
                        }
                        c->len = strlen(line);
                        memmove(c->buf, line, c->len);
                }
        }

        printf("clients=%" PRIu64 " seconds=%" PRIu64 " readings=%" PRIu64 " per_second=%" PRIu64
               " skipped=%" PRIu64 " errors=%" PRIu64 "\n",
               n, seconds, readings, readings / seconds, skipped, errors);
        for (uint64_t i = 0; i < n; i++)
                close(clients[i].fd);
        free(clients);
        return 0;
}
