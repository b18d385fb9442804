/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

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
                        /* Exactly what systemd does: the sockets from fd 3 on, the environment naming our
                         * pid. Both our copies are above 4 (see harness_start_activated_with()). */
                        if (dup2(p->listen_fd, 3) < 0 || (p->metrics_fd >= 0 && dup2(p->metrics_fd, 4) < 0))
                                _exit(126);
                        snprintf(pid, sizeof(pid), "%i", (int) getpid());
                        setenv("LISTEN_PID", pid, 1);
                        setenv("LISTEN_FDS", p->metrics_fd >= 0 ? "2" : "1", 1);
                        setenv("LISTEN_FDNAMES", p->metrics_fd >= 0 ? "thermo:metrics" : "thermo", 1);
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
