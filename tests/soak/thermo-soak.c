/* SPDX-License-Identifier: MIT */
/* The soak: CLIENTS clients on loopback throw at a server, for SECONDS, everything a hostile or careless
 * peer does, while one honest client streams and counts what it gets:
 *
 *   stream    STREAM *, reading every line;
 *   churn     connect, GET, read the reply, close, again;
 *   idle      connect and say nothing (the server's --idle-timeout closes them; they come back);
 *   pipeline  GET after GET without reading, then read a little, then again;
 *   reset     STREAM, then a reset (SO_LINGER 0) a moment later, and again.
 *
 * The clients come from 127.0.1.0/24 (many source addresses, so that churn does not run out of ports),
 * the honest one from 127.0.0.2. At the end everything is closed, and the server is given time to see
 * every connection go: two minutes at most, as a client that closed while its handshake waited in a full
 * accept queue reaches the server only when TCP retries, tens of seconds later. Then its resident memory
 * and its fds are compared with what they were at the start. Exit 0 when the honest client got every
 * reading (no gap in seq, no error), memory is back within 10% of the start and no fd leaked; every
 * figure is printed either way. Loopback only; at most 20000 clients and 3600 seconds.
 *
 *   thermo-soak PORT CLIENTS SECONDS SERVER_PID */
#include <arpa/inet.h>
#include <dirent.h>
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

#define CLIENTS_MAX 20000
#define SECONDS_MAX 3600
#define SETTLE_SECONDS_MAX 120

typedef enum Role { STREAM, CHURN, IDLE, PIPELINE, RESET, _ROLE_MAX } Role;

static const char *const role_names[_ROLE_MAX] = { "stream", "churn", "idle", "pipeline", "reset" };

typedef struct Client {
        int fd;
        Role role;
        uint64_t due;           /* CLOCK_MONOTONIC µs of its next step */
        unsigned steps;
} Client;

typedef struct Counts {
        uint64_t connects, connect_errors, closed_by_server, bytes;
} Counts;

static uint64_t now_us(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static long rss_kb(long pid) {
        char path[64], line[256];
        long kb = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%ld/status", pid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %ld", &kb) == 1)
                        break;
        fclose(f);
        return kb;
}

static long fd_count(long pid) {
        char path[64];
        struct dirent *d;
        long n = 0;
        DIR *dir;

        snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
        dir = opendir(path);
        if (!dir)
                return -1;
        while ((d = readdir(dir)))
                n += d->d_name[0] != '.';
        closedir(dir);
        return n;
}

/* A non-blocking connection to 127.0.0.1:port from source; -1 when it fails. */
static int connect_from(const char *source, int port) {
        struct sockaddr_in from = { .sin_family = AF_INET }, to = { .sin_family = AF_INET, .sin_port = htons(port) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -1;
        inet_pton(AF_INET, source, &from.sin_addr);
        inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
        if (bind(fd, (struct sockaddr *) &from, sizeof(from)) < 0 ||
                        (connect(fd, (struct sockaddr *) &to, sizeof(to)) < 0 && errno != EINPROGRESS)) {
                close(fd);
                return -1;
        }
        return fd;
}

static void send_str(int fd, const char *s) {
        (void) send(fd, s, strlen(s), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Closes c's connection (with a reset for RESET) and opens the next. */
static void reconnect(Client *c, int epfd, int port, size_t index, Counts *counts) {
        char source[32];

        if (c->fd >= 0) {
                if (c->role == RESET) {
                        struct linger l = { .l_onoff = 1, .l_linger = 0 };
                        (void) setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
                }
                close(c->fd);
        }
        snprintf(source, sizeof(source), "127.0.1.%zu", 1 + index % 250);
        c->fd = connect_from(source, port);
        c->steps = 0;
        counts[c->role].connects++;
        if (c->fd < 0) {
                counts[c->role].connect_errors++;
                c->due = now_us() + 1000000;
                return;
        }
        (void) epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd,
                        &(struct epoll_event) { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = index });
        if (c->role == STREAM || c->role == RESET)
                send_str(c->fd, "STREAM *\n");
        c->due = now_us() + (c->role == RESET ? 1000000 + (uint64_t) rand() % 4000000 : 200000 + (uint64_t) rand() % 800000);
}

/* A client's timed step: what its role does next. */
static void step(Client *c, int epfd, int port, size_t index, Counts *counts) {
        c->steps++;
        switch (c->role) {
        case CHURN:
                if (c->steps % 2 == 1) {
                        send_str(c->fd, "GET\n");
                        c->due = now_us() + 100000;
                } else
                        reconnect(c, epfd, port, index, counts);
                return;
        case PIPELINE:
                for (int i = 0; i < 64; i++)
                        send_str(c->fd, "GET\nGET *\nINFO\n");
                c->due = now_us() + 500000;
                return;
        case RESET:
                reconnect(c, epfd, port, index, counts);
                return;
        default:
                c->due = UINT64_MAX;
                return;
        }
}

/* The honest client: every line whole, every reading numbered one after the last. */
typedef struct Honest {
        int fd;
        char buf[8192];
        size_t len;
        uint64_t last_seq, readings, gaps, errors;
        bool ended;
} Honest;

static void honest_read(Honest *h) {
        ssize_t n = recv(h->fd, h->buf + h->len, sizeof(h->buf) - h->len - 1, MSG_DONTWAIT);
        char *line, *nl;

        if (n == 0 || (n < 0 && errno != EAGAIN)) {
                h->ended = true;
                return;
        }
        if (n < 0)
                return;
        h->len += (size_t) n;
        h->buf[h->len] = '\0';
        for (line = h->buf; (nl = strchr(line, '\n')); line = nl + 1) {
                uint64_t seq;

                *nl = '\0';
                if (sscanf(line, "TEMP %" SCNu64, &seq) == 1) {
                        if (h->last_seq > 0 && seq != h->last_seq + 1)
                                h->gaps++;
                        h->last_seq = seq;
                        h->readings++;
                } else if (strncmp(line, "ERR", 3) == 0)
                        h->errors++;
        }
        h->len -= (size_t) (line - h->buf);
        memmove(h->buf, line, h->len);
}

int main(int argc, char *argv[]) {
        static char sink[65536];
        Counts counts[_ROLE_MAX] = {};
        struct rlimit rl;
        Honest honest = {};
        long pid, rss_start, rss_end, fds_start, fds_end;
        uint64_t start, end;
        size_t n_clients;
        Client *clients;
        int port, seconds, epfd, settled;
        bool ok;

        if (argc != 5) {
                fprintf(stderr, "usage: thermo-soak PORT CLIENTS SECONDS SERVER_PID\n");
                return 2;
        }
        port = atoi(argv[1]);
        n_clients = (size_t) atol(argv[2]);
        seconds = atoi(argv[3]);
        pid = atol(argv[4]);
        if (port <= 0 || n_clients == 0 || n_clients > CLIENTS_MAX || seconds <= 0 || seconds > SECONDS_MAX || pid <= 0) {
                fprintf(stderr, "thermo-soak: bad arguments (at most %d clients, %d seconds)\n", CLIENTS_MAX, SECONDS_MAX);
                return 2;
        }
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
        srand(1);

        rss_start = rss_kb(pid);
        fds_start = fd_count(pid);

        epfd = epoll_create1(EPOLL_CLOEXEC);
        clients = calloc(n_clients, sizeof(Client));
        if (epfd < 0 || !clients) {
                perror("thermo-soak");
                return 1;
        }
        honest.fd = connect_from("127.0.0.2", port);
        if (honest.fd < 0) {
                perror("thermo-soak: the honest client");
                return 1;
        }
        send_str(honest.fd, "STREAM *\n");
        (void) epoll_ctl(epfd, EPOLL_CTL_ADD, honest.fd,
                        &(struct epoll_event) { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = UINT64_MAX });
        for (size_t i = 0; i < n_clients; i++) {
                clients[i] = (Client) { .fd = -1, .role = (Role) (i % _ROLE_MAX) };
                reconnect(&clients[i], epfd, port, i, counts);
        }

        start = now_us();
        end = start + (uint64_t) seconds * 1000000;
        while (now_us() < end && !honest.ended) {
                struct epoll_event events[256];
                uint64_t now;
                int k = epoll_wait(epfd, events, 256, 10);

                for (int i = 0; i < k; i++) {
                        Client *c;
                        ssize_t r;

                        if (events[i].data.u64 == UINT64_MAX) {
                                honest_read(&honest);
                                continue;
                        }
                        c = &clients[events[i].data.u64];
                        /* Pipelining clients read only now and then: their replies pile up. */
                        if (c->role == PIPELINE && c->steps % 4 != 0 && !(events[i].events & EPOLLRDHUP))
                                continue;
                        r = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
                        if (r > 0)
                                counts[c->role].bytes += (uint64_t) r;
                        if (r == 0 || (r < 0 && errno != EAGAIN)) {
                                counts[c->role].closed_by_server++;
                                reconnect(c, epfd, port, events[i].data.u64, counts);
                        }
                }
                now = now_us();
                for (size_t i = 0; i < n_clients; i++)
                        if (clients[i].due <= now)
                                step(&clients[i], epfd, port, i, counts);
        }

        for (size_t i = 0; i < n_clients; i++)
                if (clients[i].fd >= 0)
                        close(clients[i].fd);
        close(honest.fd);
        for (settled = 1; settled < SETTLE_SECONDS_MAX && fd_count(pid) > fds_start; settled++)
                sleep(1);
        /* And a moment for the last one to be freed after its socket is closed. */
        sleep(1);
        rss_end = rss_kb(pid);
        fds_end = fd_count(pid);

        printf("soak: %zu clients for %d s\n", n_clients, seconds);
        for (Role r = 0; r < _ROLE_MAX; r++)
                printf("  %-8s connections %" PRIu64 " (failed %" PRIu64 "), closed by the server %" PRIu64
                       ", %" PRIu64 " bytes read\n",
                                role_names[r], counts[r].connects, counts[r].connect_errors, counts[r].closed_by_server,
                                counts[r].bytes);
        printf("honest: %" PRIu64 " readings, %" PRIu64 " gaps, %" PRIu64 " errors%s\n", honest.readings, honest.gaps,
                        honest.errors, honest.ended ? ", cut off" : "");
        printf("server: RSS %ld KiB at the start, %ld KiB at the end; fds %ld at the start, %ld at the end, "
               "%d s after the clients had gone\n",
                        rss_start, rss_end, fds_start, fds_end, settled);
        ok = !honest.ended && honest.readings > 0 && honest.gaps == 0 && honest.errors == 0 && rss_end >= 0 &&
             rss_end * 10 <= rss_start * 11 && fds_end <= fds_start;
        printf("%s\n", ok ? "PASS" : "FAIL");
        return ok ? 0 : 1;
}
