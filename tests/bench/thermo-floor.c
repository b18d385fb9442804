/* SPDX-License-Identifier: MIT */
/* The floor the benchmark measures the servers against: no event loop and no protocol, one preformatted
 * line written to every socket per tick. It takes its CLIENTS first, then streams for SECONDS; it greets
 * nobody and reads nothing. Loopback only, at most 20000 clients and 300 seconds.
 *
 *   thermo-floor PORT CLIENTS INTERVAL_MS SECONDS */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "parse.h"

#define CLIENTS_MAX 20000
#define SECONDS_MAX 300

static uint64_t now_ns(clockid_t clock) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000000 + (uint64_t) ts.tv_nsec;
}

int main(int argc, char *argv[]) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        uint64_t port, n, interval_ms, seconds, seq = 0, end;
        static int clients[CLIENTS_MAX];
        struct rlimit rl;
        int fd, one = 1;

        if (argc != 5 || parse_uint64(argv[1], 1, 65535, &port) < 0 || parse_uint64(argv[2], 1, CLIENTS_MAX, &n) < 0 ||
                        parse_uint64(argv[3], 1, 60000, &interval_ms) < 0 ||
                        parse_uint64(argv[4], 1, SECONDS_MAX, &seconds) < 0) {
                fprintf(stderr, "usage: %s PORT CLIENTS(1-%d) INTERVAL_MS SECONDS(1-%d)\n", argv[0], CLIENTS_MAX,
                                SECONDS_MAX);
                return 64;
        }
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }

        sa.sin_port = htons((uint16_t) port);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
                        bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, SOMAXCONN) < 0) {
                perror("listen");
                return 71;
        }

        for (uint64_t i = 0; i < n; i++) {
                clients[i] = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (clients[i] < 0) {
                        perror("accept");
                        return 71;
                }
        }

        end = now_ns(CLOCK_MONOTONIC) + seconds * 1000000000;
        for (uint64_t tick = now_ns(CLOCK_MONOTONIC); tick < end; tick += interval_ms * 1000000) {
                struct timespec at = { .tv_sec = (time_t) (tick / 1000000000), .tv_nsec = (long) (tick % 1000000000) };
                char line[64];
                int len;

                while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
                        ;

                len = snprintf(line, sizeof(line), "TEMP %" PRIu64 " %" PRIu64 " 21.375\n", ++seq,
                                now_ns(CLOCK_REALTIME) / 1000000);
                for (uint64_t i = 0; i < n; i++)
                        (void) send(clients[i], line, (size_t) len, MSG_DONTWAIT | MSG_NOSIGNAL);
        }
        return 0;
}
