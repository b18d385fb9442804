/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "signals.h"

#define RUN_TIMEOUT_MS 20000

/* The processes tests started and have not reaped yet. */
static pid_t children[64];

void harness_track(pid_t pid) {
        for (size_t i = 0; i < sizeof(children) / sizeof(children[0]); i++)
                if (children[i] == 0) {
                        children[i] = pid;
                        return;
                }
        fail_msg("too many processes at once");
}

static void untrack(pid_t pid) {
        for (size_t i = 0; i < sizeof(children) / sizeof(children[0]); i++)
                if (children[i] == pid)
                        children[i] = 0;
}

static int64_t now_ms(void);

int harness_wait_pid(pid_t pid, int timeout_ms) {
        int64_t deadline = now_ms() + timeout_ms;
        int status;

        for (;;) {
                pid_t r = waitpid(pid, &status, WNOHANG);

                assert_true(r >= 0);
                if (r == pid) {
                        untrack(pid);
                        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                }
                if (now_ms() >= deadline)
                        return -ETIMEDOUT;
                usleep(10 * 1000);
        }
}

int harness_kill_all(void **state) {
        for (size_t i = 0; i < sizeof(children) / sizeof(children[0]); i++)
                if (children[i] > 0) {
                        /* Still ours: tracked pids are untracked the moment they are reaped. */
                        kill(children[i], SIGKILL);
                        (void) waitpid(children[i], NULL, 0);
                        children[i] = 0;
                }
        return 0;
}

static int64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *harness_server(void) {
        const char *s = getenv("THERMO_SERVER");
        assert_non_null(s);
        return s;
}

const char *harness_client(void) {
        const char *s = getenv("THERMO_CLIENT");
        assert_non_null(s);
        return s;
}

const char *harness_server_name(void) {
        const char *s = getenv("THERMO_SERVER_NAME");
        assert_non_null(s);
        return s;
}

static void clear_store(ServerProcess *p) {
        for (size_t i = 0; i < p->n_stored; i++)
                close(p->stored[i]);
        free(p->stored);
        free(p->stored_names);
        p->stored = NULL;
        p->stored_names = NULL;
        p->n_stored = 0;
}

static void server_process_reset(ServerProcess *p) {
        *p = (ServerProcess) { .listen_fd = -1, .metrics_fd = -1, .notify_fd = -1, .stderr_fd = -1 };
}

/* Also resets everything else in p. */
static void open_notify_socket(ServerProcess *p) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        server_process_reset(p);
        snprintf(p->dir, sizeof(p->dir), "/tmp/thermo-test-XXXXXX");
        assert_non_null(mkdtemp(p->dir));
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", p->dir);
        p->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(p->notify_fd >= 0);
        assert_int_equal(bind(p->notify_fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
}

static int listen_on_free_port(int *ret_port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t n = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

        assert_true(fd >= 0);
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(fd, SOMAXCONN), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &n), 0);
        *ret_port = ntohs(sa.sin_port);
        return fd;
}

/* argv: $THERMO_SERVER_WRAPPER's words (valgrind and its options, say), the server, then extra (from the
 * caller), then args. */
static void spawn(ServerProcess *p, const char *const *extra, const char *const *args, bool activated) {
        static char wrapper[512];
        const char *argv[64];
        size_t n = 0;

        snprintf(wrapper, sizeof(wrapper), "%s", getenv("THERMO_SERVER_WRAPPER") ?: "");
        for (char *save = NULL, *word = strtok_r(wrapper, " ", &save); word && n < 16; word = strtok_r(NULL, " ", &save))
                argv[n++] = word;
        argv[n++] = harness_server();
        for (; extra && *extra; extra++)
                argv[n++] = *extra;
        for (; args && *args && n < 63; args++)
                argv[n++] = *args;
        argv[n] = NULL;

        p->pid = fork();
        assert_true(p->pid >= 0);
        if (p->pid > 0)
                harness_track(p->pid);
        if (p->pid == 0) {
                char path[128], pid[32];

                snprintf(path, sizeof(path), "%s/notify", p->dir);
                setenv("NOTIFY_SOCKET", path, 1);
                unsetenv("JOURNAL_STREAM");
                if (p->stderr_fd >= 0 && dup2(p->stderr_fd, STDERR_FILENO) < 0)
                        _exit(126);
                if (p->journal_stream) {
                        struct stat st;
                        char stream[64];

                        if (fstat(STDERR_FILENO, &st) < 0)
                                _exit(126);
                        snprintf(stream, sizeof(stream), "%lu:%lu", (unsigned long) st.st_dev,
                                        (unsigned long) st.st_ino);
                        setenv("JOURNAL_STREAM", stream, 1);
                }
                unsetenv("LISTEN_FDS");
                if (activated) {
                        int base = p->metrics_fd >= 0 ? 5 : 4;
                        char count[32], *names;
                        size_t size = 0;
                        FILE *f = open_memstream(&names, &size);

                        /* Exactly what systemd does: the sockets from fd 3 on, then what the store kept, the
                         * environment naming our pid. All our copies are above them (see
                         * harness_start_activated_with() and harness_restart_handing_over()). */
                        if (!f || dup2(p->listen_fd, 3) < 0 || (p->metrics_fd >= 0 && dup2(p->metrics_fd, 4) < 0))
                                _exit(126);
                        fputs(p->metrics_fd >= 0 ? "thermo:metrics" : "thermo", f);
                        for (size_t i = 0; i < p->n_stored; i++) {
                                if (dup2(p->stored[i], base + (int) i) < 0)
                                        _exit(126);
                                fprintf(f, ":%s", p->stored_names[i]);
                        }
                        if (fclose(f) != 0)
                                _exit(126);
                        snprintf(pid, sizeof(pid), "%i", (int) getpid());
                        snprintf(count, sizeof(count), "%zu", (size_t) (base - 3) + p->n_stored);
                        setenv("LISTEN_PID", pid, 1);
                        setenv("LISTEN_FDS", count, 1);
                        setenv("LISTEN_FDNAMES", names, 1);
                }
                execvp(argv[0], (char *const *) argv);
                _exit(127);
        }
        assert_true(harness_wait_notify(p, "READY=1", HARNESS_TIMEOUT_MS));
}

/* Moves fd above 4, where dup2() onto 3 and 4 in the child cannot clobber it. */
static int above_passed_fds(int fd) {
        int moved;

        if (fd > 4)
                return fd;
        moved = fcntl(fd, F_DUPFD_CLOEXEC, 5);
        assert_true(moved > 4);
        close(fd);
        return moved;
}

void harness_start_activated_with(ServerProcess *p, const char *const *args, const HarnessOptions *o) {
        open_notify_socket(p);
        p->listen_fd = above_passed_fds(listen_on_free_port(&p->port));
        if (o && o->metrics)
                p->metrics_fd = above_passed_fds(listen_on_free_port(&p->metrics_port));
        if (o && o->sndbuf > 0)
                assert_int_equal(setsockopt(p->listen_fd, SOL_SOCKET, SO_SNDBUF, &o->sndbuf, sizeof(o->sndbuf)), 0);
        if (o && o->stderr_fd > 0) {
                p->stderr_fd = o->stderr_fd;
                p->journal_stream = o->journal_stream;
        }
        spawn(p, NULL, args, true);
}

void harness_start_activated(ServerProcess *p, const char *const *args) {
        harness_start_activated_with(p, args, NULL);
}

void harness_restart_activated(ServerProcess *p, const char *const *args) {
        spawn(p, NULL, args, true);
}

/* The fds of one notify message, in fds (room for max): their count. */
static size_t receive_notify(ServerProcess *p, char *buf, size_t size, int *fds, size_t max) {
        union {
                struct cmsghdr header;
                char space[CMSG_SPACE(sizeof(int) * 253)];
        } control;
        struct iovec iov = { .iov_base = buf, .iov_len = size - 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control) };
        size_t n = 0;
        ssize_t k;

        buf[0] = '\0';
        k = recvmsg(p->notify_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (k < 0)
                return 0;
        buf[k] = '\0';
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                        for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                                int fd;

                                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                                if (n < max)
                                        fds[n++] = fd;
                                else
                                        close(fd);
                        }
        return n;
}

/* Whether the message has the assignment line (as "FDSTORE=1"); with value, what follows "KEY=" of key. */
static bool notify_has(const char *msg, const char *line) {
        for (const char *at = msg; at; at = strchr(at, '\n') ? strchr(at, '\n') + 1 : NULL)
                if (strncmp(at, line, strlen(line)) == 0 && (at[strlen(line)] == '\n' || at[strlen(line)] == '\0'))
                        return true;
        return false;
}

static void notify_value(const char *msg, const char *key, char *value, size_t size) {
        for (const char *at = msg; at; at = strchr(at, '\n') ? strchr(at, '\n') + 1 : NULL)
                if (strncmp(at, key, strlen(key)) == 0) {
                        snprintf(value, size, "%.*s", (int) strcspn(at + strlen(key), "\n"), at + strlen(key));
                        return;
                }
        snprintf(value, size, "stored");
}

/* One message, as systemd's store takes it: FDSTORE=1 keeps the fds, FDSTOREREMOVE=1 drops those of the
 * name, BARRIER=1's fd is closed (that answers it). */
static void store_message(ServerProcess *p, const char *msg, int *fds, size_t n) {
        char name[32];

        notify_value(msg, "FDNAME=", name, sizeof(name));
        if (notify_has(msg, "FDSTORE=1") && n > 0) {
                p->stored = realloc(p->stored, (p->n_stored + n) * sizeof(int));
                p->stored_names = realloc(p->stored_names, (p->n_stored + n) * sizeof(*p->stored_names));
                assert_non_null(p->stored);
                assert_non_null(p->stored_names);
                for (size_t i = 0; i < n; i++) {
                        p->stored[p->n_stored] = fds[i];
                        snprintf(p->stored_names[p->n_stored++], sizeof(*p->stored_names), "%s", name);
                }
                return;
        }
        for (size_t i = 0; notify_has(msg, "FDSTOREREMOVE=1") && i < p->n_stored;) {
                if (strcmp(p->stored_names[i], name) != 0) {
                        i++;
                        continue;
                }
                close(p->stored[i]);
                p->stored[i] = p->stored[--p->n_stored];
                memcpy(p->stored_names[i], p->stored_names[p->n_stored], sizeof(*p->stored_names));
        }
        for (size_t i = 0; i < n; i++)
                close(fds[i]);
}

int harness_restart_handing_over(ServerProcess *p, const char *const *args, const char *drop) {
        return harness_restart_handing_over_with(p, args, drop, NULL, NULL);
}

int harness_restart_handing_over_with(ServerProcess *p, const char *const *args, const char *drop,
                void (*between)(void *userdata), void *userdata) {
        int64_t deadline = now_ms() + HARNESS_TIMEOUT_MS;
        int status = -ETIMEDOUT, base = p->metrics_fd >= 0 ? 5 : 4;

        assert_true(p->pid > 0);
        /* As thermo-handover sends it: queued, with its value. */
        assert_int_equal(sigqueue(p->pid, SIGUSR2, (union sigval) { .sival_int = SIGNALS_RESTART_VALUE }), 0);
        kill(p->pid, SIGTERM);
        for (;;) {
                struct pollfd pfd = { .fd = p->notify_fd, .events = POLLIN };
                char buf[4096];
                int fds[253];
                size_t n;

                if (poll(&pfd, 1, 10) > 0) {
                        n = receive_notify(p, buf, sizeof(buf), fds, 253);
                        store_message(p, buf, fds, n);
                        continue;
                }
                /* Exited, and every message it sent before read. */
                if (status != -ETIMEDOUT)
                        break;
                status = harness_wait_pid(p->pid, 0);
                assert_true(now_ms() < deadline);
        }
        for (size_t i = 0; i < p->n_stored; i++) {
                struct pollfd hup = { .fd = p->stored[i] };

                /* systemd drops a stored fd that hangs up or fails, as it watches each. */
                if ((drop && strcmp(p->stored_names[i], drop) == 0) ||
                                (poll(&hup, 1, 0) > 0 && (hup.revents & (POLLHUP | POLLERR)))) {
                        close(p->stored[i]);
                        p->stored[i] = -1;
                }
                /* Above every fd the child passes on: dup2() onto them cannot clobber one not passed yet. */
                if (p->stored[i] >= 0 && p->stored[i] < base + (int) p->n_stored + 1) {
                        int moved = fcntl(p->stored[i], F_DUPFD_CLOEXEC, base + (int) p->n_stored + 1);

                        assert_true(moved >= 0);
                        close(p->stored[i]);
                        p->stored[i] = moved;
                }
        }
        for (size_t i = 0; i < p->n_stored;)
                if (p->stored[i] < 0) {
                        p->stored[i] = p->stored[--p->n_stored];
                        memcpy(p->stored_names[i], p->stored_names[p->n_stored], sizeof(*p->stored_names));
                } else
                        i++;
        p->pid = 0;
        if (between)
                between(userdata);
        spawn(p, NULL, args, true);
        clear_store(p);
        return status;
}

int harness_free_port(void) {
        int port;

        close(listen_on_free_port(&port));
        return port;
}

void harness_start_listening(ServerProcess *p, const char *const *args) {
        char address[64];

        open_notify_socket(p);
        p->port = harness_free_port();
        snprintf(address, sizeof(address), "127.0.0.1:%i", p->port);
        spawn(p, (const char *const[]) { "--listen", address, NULL }, args, false);
}

int harness_wait_exit(ServerProcess *p, int timeout_ms) {
        int r = harness_wait_pid(p->pid, timeout_ms);

        if (r != -ETIMEDOUT)
                p->pid = 0;
        return r;
}

int harness_stop(ServerProcess *p, int sig) {
        int r;

        if (p->pid <= 0)
                return -ESRCH;
        kill(p->pid, sig);
        r = harness_wait_exit(p, HARNESS_TIMEOUT_MS);
        if (r == -ETIMEDOUT) {
                kill(p->pid, SIGKILL);
                (void) harness_wait_exit(p, HARNESS_TIMEOUT_MS);
        }
        return r;
}

bool harness_wait_notify(ServerProcess *p, const char *prefix, int timeout_ms) {
        int64_t deadline = now_ms() + timeout_ms;
        char buf[4096];

        for (;;) {
                int left = (int) (deadline - now_ms());
                struct pollfd pfd = { .fd = p->notify_fd, .events = POLLIN };
                ssize_t n;

                if (left <= 0 || poll(&pfd, 1, left) <= 0)
                        return false;
                n = recv(p->notify_fd, buf, sizeof(buf) - 1, 0);
                if (n <= 0)
                        return false;
                buf[n] = '\0';
                /* A message may hold several assignments, one per line. */
                for (char *line = buf; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                        if (strncmp(line, prefix, strlen(prefix)) == 0)
                                return true;
        }
}

void harness_drain_notify(ServerProcess *p) {
        char buf[4096];

        while (recv(p->notify_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
                ;
}

void harness_cleanup(ServerProcess *p) {
        char path[128];

        if (p->pid > 0)
                (void) harness_stop(p, SIGKILL);
        if (p->listen_fd >= 0)
                close(p->listen_fd);
        if (p->metrics_fd >= 0)
                close(p->metrics_fd);
        if (p->notify_fd >= 0)
                close(p->notify_fd);
        clear_store(p);
        snprintf(path, sizeof(path), "%s/notify", p->dir);
        (void) unlink(path);
        (void) rmdir(p->dir);
        server_process_reset(p);
}

int harness_connect(int port, int rcvbuf) {
        struct sockaddr_in sa = {
                .sin_family = AF_INET,
                .sin_port = htons((uint16_t) port),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
        };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        if (rcvbuf > 0)
                assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
        assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        return fd;
}

int harness_connect_greeted(int port, int rcvbuf) {
        char line[600];
        int fd = harness_connect(port, rcvbuf);

        assert_true(harness_read_line(fd, line, sizeof(line), HARNESS_TIMEOUT_MS) > 0);
        if (strncmp(line, "HELLO thermo/1 ", 15) != 0)
                fail_msg("no HELLO: '%s'", line);
        return fd;
}

void harness_expect_line(int fd, const char *expected) {
        char line[600];

        assert_true(harness_read_line(fd, line, sizeof(line), HARNESS_TIMEOUT_MS) >= 0);
        assert_string_equal(line, expected);
}

int harness_connect_unix(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int64_t deadline = now_ms() + HARNESS_TIMEOUT_MS;

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        for (;;) {
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

                assert_true(fd >= 0);
                if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0)
                        return fd;
                close(fd);
                if (now_ms() > deadline)
                        fail_msg("cannot connect to %s: %s", path, strerror(errno));
                usleep(20 * 1000);
        }
}

void harness_send(int fd, const char *data, size_t n) {
        while (n > 0) {
                ssize_t k = send(fd, data, n, MSG_NOSIGNAL);
                assert_true(k > 0);
                data += k;
                n -= (size_t) k;
        }
}

int harness_read_line(int fd, char *buf, size_t size, int timeout_ms) {
        int64_t deadline = now_ms() + timeout_ms;
        size_t n = 0;

        /* A byte at a time: slow, but it never reads past the line, so the next call sees the rest. */
        while (n + 1 < size) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                int left = (int) (deadline - now_ms());
                ssize_t k;
                char c;

                if (left <= 0 || poll(&pfd, 1, left) <= 0)
                        return -ETIMEDOUT;
                k = recv(fd, &c, 1, 0);
                if (k <= 0)
                        return -EPIPE;
                if (c == '\n') {
                        buf[n] = '\0';
                        return (int) n;
                }
                buf[n++] = c;
        }
        buf[n] = '\0';
        return (int) n;
}

int harness_read_reply(int fd, char *buf, size_t size, int timeout_ms) {
        for (int i = 0; i < 10000; i++) {
                int r = harness_read_line(fd, buf, size, timeout_ms);
                if (r < 0 || strncmp(buf, "TEMP ", 5) != 0)
                        return r;
        }
        return -ETIMEDOUT;
}

bool harness_wait_readable(int fd, int timeout_ms) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };

        return poll(&pfd, 1, timeout_ms) > 0;
}

bool harness_wait_eof(int fd, int timeout_ms) {
        char c;

        if (!harness_wait_readable(fd, timeout_ms))
                return false;
        return recv(fd, &c, 1, 0) <= 0;
}

uint64_t harness_assert_temp(const char *line) {
        unsigned long long seq, when;
        char value[32], tail;
        const char *dot;
        size_t i;

        if (sscanf(line, "TEMP %llu %llu %31s%c", &seq, &when, value, &tail) != 3)
                fail_msg("not a TEMP line: '%s'", line);
        /* Milliseconds since the epoch: this century, give or take. */
        assert_true(when > UINT64_C(1600000000000) && when < UINT64_C(4102444800000));
        /* -?digits.ddd: exactly three decimals */
        i = value[0] == '-';
        dot = strchr(value, '.');
        if (!dot || dot == value + i || strlen(dot + 1) != 3)
                fail_msg("not three decimals: '%s'", value);
        for (; value + i < dot; i++)
                assert_true(value[i] >= '0' && value[i] <= '9');
        for (i = 1; i <= 3; i++)
                assert_true(dot[i] >= '0' && dot[i] <= '9');
        assert_true(seq >= 1);
        return seq;
}

static void drain(int fd, char *buf, size_t size, size_t *len) {
        ssize_t k;

        if (size == 0) {
                char discard[512];
                while (read(fd, discard, sizeof(discard)) > 0)
                        ;
                return;
        }
        while (*len + 1 < size && (k = read(fd, buf + *len, size - 1 - *len)) > 0)
                *len += (size_t) k;
        buf[*len] = '\0';
}

int harness_run(const char *const *args, char *out, size_t out_size, char *err, size_t err_size) {
        return harness_run_for(args, RUN_TIMEOUT_MS, out, out_size, err, err_size);
}

int harness_run_for(const char *const *args, int timeout_ms, char *out, size_t out_size, char *err, size_t err_size) {
        int out_pipe[2], err_pipe[2], status = 0;
        size_t out_len = 0, err_len = 0;
        int64_t deadline = now_ms() + timeout_ms;
        pid_t pid;

        assert_int_equal(pipe2(out_pipe, O_CLOEXEC | O_NONBLOCK), 0);
        assert_int_equal(pipe2(err_pipe, O_CLOEXEC | O_NONBLOCK), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid > 0)
                harness_track(pid);
        if (pid == 0) {
                dup2(out_pipe[1], 1);
                dup2(err_pipe[1], 2);
                execv(args[0], (char *const *) args);
                _exit(127);
        }
        close(out_pipe[1]);
        close(err_pipe[1]);

        for (;;) {
                status = harness_wait_pid(pid, 5);
                drain(out_pipe[0], out, out_size, &out_len);
                drain(err_pipe[0], err, err_size, &err_len);
                if (status != -ETIMEDOUT)
                        break;
                if (now_ms() > deadline) {
                        harness_kill_all(NULL);
                        fail_msg("%s did not finish in %ims", args[0], timeout_ms);
                }
        }
        drain(out_pipe[0], out, out_size, &out_len);
        drain(err_pipe[0], err, err_size, &err_len);
        close(out_pipe[0]);
        close(err_pipe[0]);
        return status;
}

void harness_add_thermal_zone(const char *sysfs, int zone, const char *type, const char *millidegrees) {
        char dir[256], file[300];

        snprintf(dir, sizeof(dir), "%s/class", sysfs);
        assert_true(mkdir(dir, 0755) == 0 || errno == EEXIST);
        snprintf(dir, sizeof(dir), "%s/class/thermal", sysfs);
        assert_true(mkdir(dir, 0755) == 0 || errno == EEXIST);
        snprintf(dir, sizeof(dir), "%s/class/thermal/thermal_zone%i", sysfs, zone);
        assert_int_equal(mkdir(dir, 0755), 0);
        snprintf(file, sizeof(file), "%s/type", dir);
        harness_write_file(file, type);
        snprintf(file, sizeof(file), "%s/temp", dir);
        harness_write_file(file, millidegrees);
}

void harness_reload(ServerProcess *p) {
        assert_int_equal(kill(p->pid, SIGHUP), 0);
        assert_true(harness_wait_notify(p, "RELOADING=1", HARNESS_TIMEOUT_MS));
        assert_true(harness_wait_notify(p, "READY=1", HARNESS_TIMEOUT_MS));
}

void harness_write_file(const char *path, const char *content) {
        char tmp[512];
        FILE *f;

        snprintf(tmp, sizeof(tmp), "%s.new", path);
        f = fopen(tmp, "we");
        assert_non_null(f);
        fputs(content, f);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(rename(tmp, path), 0);
}

void harness_remove_tree(const char *dir) {
        char out[256], err[256];

        assert_int_equal(harness_run((const char *const[]) { "/bin/rm", "-rf", "--", dir, NULL }, out, sizeof(out), err,
                                         sizeof(err)),
                        0);
}

const char *harness_host(void) {
        static char host[65];
        struct utsname u;

        assert_int_equal(uname(&u), 0);
        snprintf(host, sizeof(host), "%s", u.nodename);
        for (char *p = host; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p))
                        *p = '-';
        return host;
}

pid_t harness_cutting_proxy(int server_port, int cut, int *ret_port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t n = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        pid_t pid;

        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(fd, 4), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &n), 0);
        *ret_port = ntohs(sa.sin_port);
        pid = fork();
        assert_true(pid >= 0);
        if (pid > 0) {
                close(fd);
                harness_track(pid);
                return pid;
        }
        alarm(30); /* never outlive the test */
        for (int k = 0; k < 4; k++) {
                int down = accept(fd, NULL, NULL), up, lines = 0;

                if (down < 0)
                        _exit(1);
                up = harness_connect(server_port, 0);
                for (bool open = true; open;) {
                        struct pollfd p[2] = { { .fd = down, .events = POLLIN }, { .fd = up, .events = POLLIN } };
                        char buf[4096];

                        if (poll(p, 2, 10000) <= 0)
                                break;
                        for (int i = 0; i < 2 && open; i++) {
                                ssize_t r;

                                if (!(p[i].revents & (POLLIN | POLLHUP)))
                                        continue;
                                r = read(p[i].fd, buf, sizeof(buf));
                                if (r <= 0 || write(p[1 - i].fd, buf, (size_t) r) != r)
                                        open = false;
                                for (ssize_t b = 0; i == 1 && b < r; b++)
                                        lines += buf[b] == '\n';
                                if (k == 0 && lines >= cut)
                                        open = false;
                        }
                }
                close(down);
                close(up);
        }
        _exit(0);
}

int harness_enter_network_namespace(void) {
        struct ifreq ifr = { .ifr_name = "lo" };
        int fd, r = 0;

        if (geteuid() != 0)
                return -EPERM;
        if (unshare(CLONE_NEWNET) < 0)
                return -errno;
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                r = -errno;
        ifr.ifr_flags |= IFF_UP;
        if (r == 0 && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                r = -errno;
        close(fd);
        return r;
}
