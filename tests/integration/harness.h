/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Starts servers the way systemd does and talks to them over real sockets. Every wait is bounded: a
 * broken server fails a test, it never hangs the suite. */

#define HARNESS_TIMEOUT_MS 5000

typedef struct ServerProcess {
        pid_t pid;
        int port;          /* TCP port on 127.0.0.1 */
        int listen_fd;     /* socket activation: our copy, as systemd keeps its own */
        int metrics_port;  /* with HarnessOptions.metrics: the HTTP socket's TCP port on 127.0.0.1 */
        int metrics_fd;
        int notify_fd;     /* where the server's sd_notify() messages arrive */
        int stderr_fd;     /* the server's stderr, or -1 to share ours */
        bool journal_stream; /* JOURNAL_STREAM names stderr */
        char dir[64];      /* a private directory for the notify socket */
        /* systemd's file descriptor store, as the harness keeps it: what the server stored (FDSTORE=1),
         * with the names it gave, until the next start passes them. */
        int *stored;
        char (*stored_names)[32];
        size_t n_stored;
} ServerProcess;

typedef struct HarnessOptions {
        /* SO_SNDBUF on the listening socket, as systemd's SendBuffer= sets it: connections inherit it, so
         * that a client that does not read fills the kernel's buffers quickly. */
        int sndbuf;
        /* The server's stderr, when > 0; with journal_stream, JOURNAL_STREAM names it, as systemd does
         * when it connects stderr to journald. */
        int stderr_fd;
        bool journal_stream;
        /* A second socket, on fd 4 and named "metrics", as thermo-metrics.socket passes it. */
        bool metrics;
} HarnessOptions;

/* A server with a listening socket on fd 3 (and with HarnessOptions.metrics, one on fd 4) and LISTEN_FDS,
 * LISTEN_PID, LISTEN_FDNAMES set, as under socket activation. args end with NULL. Waits for READY=1. */
void harness_start_activated(ServerProcess *p, const char *const *args);
void harness_start_activated_with(ServerProcess *p, const char *const *args, const HarnessOptions *o);
/* Starts the same server again on the socket it had (as systemd would on the next connection). */
void harness_restart_activated(ServerProcess *p, const char *const *args);
/* systemctl restart of a unit with thermo-handover as its ExecStop=: SIGUSR2 queued with its value (the stop
 * is a restart), then
 * SIGTERM; what the server stores with FDSTORE=1 is kept, as systemd keeps it, until it has exited, and the
 * same server starts again with its sockets and those (LISTEN_FDNAMES naming each). Without the fd named
 * drop (NULL: none), as if the server before had not stored it. Returns the old server's exit status, once
 * the new one said READY=1; the harness closes its copies then (the server takes them out of the store). */
int harness_restart_handing_over(ServerProcess *p, const char *const *args, const char *drop);
/* The same, calling between(userdata) once the old server has exited and before the new one starts: what
 * clients do while no server runs. */
int harness_restart_handing_over_with(ServerProcess *p, const char *const *args, const char *drop,
                void (*between)(void *userdata), void *userdata);
/* A TCP port on 127.0.0.1 that was free a moment ago, for a server to take. */
int harness_free_port(void);
/* A server started by hand with --listen 127.0.0.1:<free port>. Waits for READY=1. */
void harness_start_listening(ServerProcess *p, const char *const *args);
/* Sends sig and waits for the exit; returns the exit status (or 128+signal). */
int harness_stop(ServerProcess *p, int sig);
/* Waits up to timeout_ms for the process to exit on its own: its exit status, or -ETIMEDOUT. */
int harness_wait_exit(ServerProcess *p, int timeout_ms);
/* Waits for a notify message that starts with prefix (e.g. "STOPPING=1"); true when it came. */
bool harness_wait_notify(ServerProcess *p, const char *prefix, int timeout_ms);
/* Drops the notify messages that came: as systemd does, a test that runs long reads them, else the
 * server's sd_notify() waits once ten are queued (net.unix.max_dgram_qlen). */
void harness_drain_notify(ServerProcess *p);
void harness_cleanup(ServerProcess *p);

/* A blocking TCP connection to 127.0.0.1:port. rcvbuf > 0 shrinks its receive buffer. */
int harness_connect(int port, int rcvbuf);
/* The same, with the server's HELLO read and checked. */
int harness_connect_greeted(int port, int rcvbuf);
/* Reads a line (bounded in time) and checks that it is expected. */
void harness_expect_line(int fd, const char *expected);
/* A blocking connection to a Unix socket, retried until it is there (bounded). */
int harness_connect_unix(const char *path);
void harness_send(int fd, const char *data, size_t n);
#define harness_send_str(fd, s) harness_send(fd, s, strlen(s))
/* Reads one line without its "\n"; returns its length, -EPIPE at end of file, or -ETIMEDOUT. */
int harness_read_line(int fd, char *buf, size_t size, int timeout_ms);
/* Reads lines until one is not a TEMP line, and returns that one (as harness_read_line()). */
int harness_read_reply(int fd, char *buf, size_t size, int timeout_ms);
/* Whether fd has something to read (data, or its end) within timeout_ms. */
bool harness_wait_readable(int fd, int timeout_ms);
/* Returns true when the peer has closed: EOF (or a reset) within timeout_ms, with no more data. */
bool harness_wait_eof(int fd, int timeout_ms);
/* Checks a TEMP line strictly; returns its sequence number. */
uint64_t harness_assert_temp(const char *line);

/* Every process a test starts is tracked, so that none outlives a test that failed half-way: */
void harness_track(pid_t pid);
/* waits up to timeout_ms for a tracked process to exit: its exit status (or 128+signal), or -ETIMEDOUT; */
int harness_wait_pid(pid_t pid, int timeout_ms);
/* kills (SIGKILL, by PID) and reaps every tracked process still running; a cmocka teardown. */
int harness_kill_all(void **state);

/* Runs a program (args end with NULL) with a bounded run time; captures stdout and stderr. Returns the
 * exit status, or 128+signal. */
int harness_run(const char *const *args, char *out, size_t out_size, char *err, size_t err_size);
/* The same, for a program that may take longer: a package build, say. */
int harness_run_for(const char *const *args, int timeout_ms, char *out, size_t out_size, char *err, size_t err_size);

/* The machine's name as HELLO's host= should give it: its host name, any byte but [A-Za-z0-9._-] made '-'. */
const char *harness_host(void);

/* Writes content to path whole or not at all (a new file renamed over it), as sysfs gives a value: a server
 * that reads it meanwhile never sees half of it. */
void harness_write_file(const char *path, const char *content);
/* Removes a directory a test made, with all in it. */
void harness_remove_tree(const char *dir);
/* This process in a network namespace of its own, its loopback up: what a test changes there (a resolver,
 * a sysctl) is the namespace's alone. Root only: 0, or a negative errno. */
int harness_enter_network_namespace(void);
/* A thermal zone in a fake /sys at sysfs (THERMO_SYSFS_ROOT, made already), of that type and temperature:
 * "cpu-thermal\n", "20000\n". */
void harness_add_thermal_zone(const char *sysfs, int zone, const char *type, const char *millidegrees);
/* A proxy on 127.0.0.1 (its port in *ret_port) to the server's port that cuts the first connection through
 * it once it has passed cut lines from the server, as a Wi-Fi that drops; later ones pass whole. A tracked
 * process. */
pid_t harness_cutting_proxy(int server_port, int cut, int *ret_port);
/* SIGHUP, and the server's RELOADING=1 and READY=1 that say it has looked for its sensors again. */
void harness_reload(ServerProcess *p);

/* The programs under test, from the environment meson test sets: the paths, and the name the server
 * gives itself in HELLO and INFO. */
const char *harness_server(void);
const char *harness_client(void);
const char *harness_server_name(void);
