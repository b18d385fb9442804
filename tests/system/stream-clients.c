/* SPDX-License-Identifier: MIT */
/* stream-clients PORT N COUNT: N thermo/1 clients of 127.0.0.1:PORT, kept through restarts, for the system
 * test (test-system.c) to run inside a booted box while it restarts and upgrades the service around them.
 * Client 0 has ALARMS, client 1 sends half a request line ("STREAM 5", no newline) and the rest of it at
 * SIGUSR1, every third has "STREAM COUNT", the others "STREAM *". It prints READY once all are streaming;
 * at SIGUSR2 a stop is coming, and each client is to get BYE and the end. Then one line sums it all up,
 * for the test to compare:
 *
 *   clients=N lost=0 early_bye=0 bye=N hello_again=0 gaps=0 errors=0 counted=K/K half=1
 *
 * With a fourth argument, "pauses", a second line says how long the longest wait between two ticks was at
 * each STREAM * client (the restart's pause, when the interval is shorter): the median, the 99th
 * percentile and the most, in milliseconds, for the benchmark (tests/bench/run-restart.sh).
 *
 * Bounded: it gives up 300 s after the start, or 20 s after SIGUSR2, and says what it saw. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct Client {
        int fd;
        char buf[4096];
        size_t n;
        uint64_t last;          /* the last seq seen */
        int64_t last_ms;        /* when it came */
        int64_t longest_ms;     /* the longest wait between two ticks */
        unsigned readings;      /* of a counted stream (or the half one) */
        bool counted, half, alarms, ended, bye, eof;
} Client;

static volatile sig_atomic_t complete_half, stop_coming;

static int64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int compare_ms(const void *a, const void *b) {
        int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;

        return x < y ? -1 : x > y;
}

/* The longest waits of the STREAM * clients: median, 99th percentile, most. */
static void print_pauses(const Client *clients, unsigned n);

static void on_signal(int sig) {
        if (sig == SIGUSR1)
                complete_half = 1;
        else
                stop_coming = 1;
}

static void send_all(int fd, const char *s) {
        size_t n = strlen(s);

        while (n > 0) {
                ssize_t k = send(fd, s, n, MSG_NOSIGNAL);

                if (k <= 0) {
                        perror("send");
                        exit(1);
                }
                s += k;
                n -= (size_t) k;
        }
}

/* One line, blocking: the greeting and the first reply. */
static void read_line_blocking(Client *c, char *line, size_t size) {
        size_t n = 0;

        while (n + 1 < size) {
                char ch;

                if (recv(c->fd, &ch, 1, 0) != 1) {
                        fprintf(stderr, "lost a client while setting up\n");
                        exit(1);
                }
                if (ch == '\n')
                        break;
                line[n++] = ch;
        }
        line[n] = '\0';
}

static struct {
        unsigned lost, early_bye, bye, hello_again, gaps, errors, counted_done, counted_all, half_ok;
} seen;

static void take_line(Client *c, const char *line, unsigned count) {
        unsigned long long seq;

        if (strncmp(line, "TEMP ", 5) == 0 && sscanf(line, "TEMP %llu ", &seq) == 1) {
                /* A tick of several sensors has several lines of one seq; the next is +1. */
                if (c->last > 0 && seq != c->last && seq != c->last + 1) {
                        if (seen.gaps++ < 5)
                                fprintf(stderr, "gap: #%llu after #%" PRIu64 "\n", seq, c->last);
                }
                if (seq != c->last) {
                        int64_t now = now_ms();

                        c->readings += c->counted || c->half;
                        if (c->last_ms > 0 && now - c->last_ms > c->longest_ms)
                                c->longest_ms = now - c->last_ms;
                        c->last_ms = now;
                }
                c->last = seq;
        } else if (strcmp(line, "END") == 0) {
                c->ended = true;
                if (c->counted) {
                        seen.counted_done += c->readings == count;
                        if (c->readings != count)
                                fprintf(stderr, "counted stream: %u readings of %u\n", c->readings, count);
                }
                if (c->half)
                        seen.half_ok += c->readings == 5;
        } else if (strncmp(line, "HELLO ", 6) == 0)
                seen.hello_again++;
        else if (strcmp(line, "BYE") == 0) {
                c->bye = true;
                if (stop_coming)
                        seen.bye++;
                else
                        seen.early_bye++;
        } else if (strncmp(line, "ERR ", 4) == 0) {
                if (seen.errors++ < 5)
                        fprintf(stderr, "error: %s\n", line);
        } else if (strncmp(line, "ALARM ", 6) != 0 && strcmp(line, "OK STREAM") != 0) {
                if (seen.errors++ < 5)
                        fprintf(stderr, "unexpected: %s\n", line);
        }
}

static void take_input(Client *c, unsigned count) {
        ssize_t k = recv(c->fd, c->buf + c->n, sizeof(c->buf) - c->n, MSG_DONTWAIT);
        char *start, *end;

        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (k <= 0) {
                c->eof = true;
                if (!c->bye)
                        seen.lost++;
                close(c->fd);
                c->fd = -1;
                return;
        }
        c->n += (size_t) k;
        start = c->buf;
        while ((end = memchr(start, '\n', c->n - (size_t) (start - c->buf)))) {
                *end = '\0';
                take_line(c, start, count);
                start = end + 1;
        }
        c->n -= (size_t) (start - c->buf);
        memmove(c->buf, start, c->n);
}

int main(int argc, char *argv[]) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int64_t deadline = now_ms() + 300000, stop_deadline = 0;
        struct sigaction act = { .sa_handler = on_signal };
        unsigned n, count, open;
        struct pollfd *pfds;
        Client *clients;
        char line[1024];

        if (argc != 4 && !(argc == 5 && strcmp(argv[4], "pauses") == 0)) {
                fprintf(stderr, "usage: %s PORT N COUNT [pauses]\n", argv[0]);
                return 2;
        }
        sa.sin_port = htons((uint16_t) atoi(argv[1]));
        n = (unsigned) atoi(argv[2]);
        count = (unsigned) atoi(argv[3]);
        clients = calloc(n, sizeof(Client));
        pfds = calloc(n, sizeof(struct pollfd));
        if (n < 3 || !clients || !pfds)
                return 2;
        sigaction(SIGUSR1, &act, NULL);
        sigaction(SIGUSR2, &act, NULL);

        for (unsigned i = 0; i < n; i++) {
                Client *c = &clients[i];
                char request[64];

                c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (c->fd < 0 || connect(c->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                        perror("connect");
                        return 1;
                }
                read_line_blocking(c, line, sizeof(line));
                if (strncmp(line, "HELLO thermo/1 ", 15) != 0) {
                        fprintf(stderr, "no greeting: %s\n", line);
                        return 1;
                }
                c->alarms = i == 0;
                c->half = i == 1;
                c->counted = i > 1 && i % 3 == 0;
                seen.counted_all += c->counted;
                if (c->half) {
                        send_all(c->fd, "STREAM 5");
                        continue;
                }
                snprintf(request, sizeof(request), c->alarms ? "ALARMS\n" : c->counted ? "STREAM %u\n" : "STREAM *\n",
                                count);
                send_all(c->fd, request);
                read_line_blocking(c, line, sizeof(line));
                if (strcmp(line, c->alarms ? "OK ALARMS" : "OK STREAM") != 0) {
                        fprintf(stderr, "no OK: %s\n", line);
                        return 1;
                }
        }
        printf("READY\n");
        fflush(stdout);

        for (;;) {
                int64_t now = now_ms();

                if (complete_half) {
                        complete_half = 0;
                        if (clients[1].fd >= 0)
                                send_all(clients[1].fd, "\n");
                }
                if (stop_coming && stop_deadline == 0)
                        stop_deadline = now + 20000;
                open = 0;
                for (unsigned i = 0; i < n; i++) {
                        pfds[i] = (struct pollfd) { .fd = clients[i].fd, .events = POLLIN };
                        open += clients[i].fd >= 0;
                }
                if (open == 0 || now >= deadline || (stop_deadline > 0 && now >= stop_deadline))
                        break;
                if (poll(pfds, n, 100) < 0 && errno != EINTR)
                        return 1;
                for (unsigned i = 0; i < n; i++)
                        if (clients[i].fd >= 0 && (pfds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                take_input(&clients[i], count);
        }

        printf("clients=%u lost=%u early_bye=%u bye=%u hello_again=%u gaps=%u errors=%u counted=%u/%u half=%u\n", n,
                        seen.lost, seen.early_bye, seen.bye, seen.hello_again, seen.gaps, seen.errors, seen.counted_done,
                        seen.counted_all, seen.half_ok);
        if (argc == 5)
                print_pauses(clients, n);
        return 0;
}

static void print_pauses(const Client *clients, unsigned n) {
        int64_t *ms = calloc(n, sizeof(int64_t));
        unsigned k = 0;

        if (!ms)
                return;
        for (unsigned i = 0; i < n; i++)
                if (!clients[i].alarms && !clients[i].half && !clients[i].counted)
                        ms[k++] = clients[i].longest_ms;
        qsort(ms, k, sizeof(int64_t), compare_ms);
        if (k > 0)
                printf("pause_ms median=%" PRId64 " p99=%" PRId64 " max=%" PRId64 "\n", ms[k / 2], ms[k * 99 / 100],
                                ms[k - 1]);
        free(ms);
}
