/* SPDX-License-Identifier: MIT */
/* What the server tells the journal. In a private mount namespace, a datagram socket at
 * /run/systemd/journal/socket receives exactly what journald would: the native protocol's
 * KEY=value lines. Needs root for the namespace; skipped (77) otherwise. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

#define T HARNESS_TIMEOUT_MS
#define MESSAGE_STARTED "72214724076f4f48a4e77cce31fd4dd3"
#define MESSAGE_STOPPED "cd91b2bc4aa14d4ebe57ec0b682c04ae"
#define MESSAGE_CONNECTED "caa6a5b986af4e949c810cff0e0a76a7"
#define MESSAGE_DISCONNECTED "55c68309aadf41c9ba76928ac7c21bd2"
#define MESSAGE_REJECTED "81be728ab9684781ac2ad5aab0809aa6"
#define MESSAGE_SHORT_CONNECTIONS "edce26d4d43c47c98f5935d6e4568486"
#define MESSAGE_SIMULATED "1f04546240b6457f94d0df1f0258ae36"
#define MESSAGE_LEVEL_HIGH "979a0a968f4048bfb71ee5ab93dca5a3"
#define MESSAGE_LEVEL_CRIT "bf10ced02ba740aeb6521ae04aa5ce8f"
#define MESSAGE_LEVEL_LOW "b42a1cf13d5a46c9b8282bcb4b27ffed"
#define MESSAGE_LEVEL_OK "d767fe26d12c46cdb963027e4ccaad0e"

typedef struct Journal {
        int socket;
        int stream[2]; /* the server's stderr: must stay empty, everything goes to the socket */
        ServerProcess server;
} Journal;

static int setup(void **state) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/run/systemd/journal/socket" };
        Journal *j = calloc(1, sizeof(*j));

        j->socket = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(j->socket >= 0);
        (void) unlink(sa.sun_path);
        assert_int_equal(bind(j->socket, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(pipe2(j->stream, O_CLOEXEC | O_NONBLOCK), 0);
        *state = j;
        return 0;
}

static int teardown(void **state) {
        Journal *j = *state;

        harness_cleanup(&j->server);
        close(j->socket);
        close(j->stream[0]);
        close(j->stream[1]);
        free(j);
        return harness_kill_all(state);
}

static void start(Journal *j, const char *const *args) {
        harness_start_activated_with(&j->server, args,
                        &(HarnessOptions) { .stderr_fd = j->stream[1], .journal_stream = true });
}

/* The next entry (KEY=value lines) within timeout_ms, or NULL. */
static const char *receive_entry(Journal *j, int timeout_ms) {
        static char entry[8192];
        struct pollfd pfd = { .fd = j->socket, .events = POLLIN };
        ssize_t n;

        if (poll(&pfd, 1, timeout_ms) <= 0)
                return NULL;
        n = recv(j->socket, entry, sizeof(entry) - 1, 0);
        assert_true(n > 0);
        entry[n] = '\0';
        return entry;
}

/* Waits for the next entry with this MESSAGE_ID (any, for NULL) and returns it (KEY=value lines), skipping
 * others. */
static const char *next_entry(Journal *j, const char *message_id) {
        char want[64];
        const char *e;

        snprintf(want, sizeof(want), "MESSAGE_ID=%s\n", message_id ?: "");
        for (int i = 0; i < 100 && (e = receive_entry(j, T)); i++)
                if (!message_id || strstr(e, want))
                        return e;
        fail_msg("no journal entry with MESSAGE_ID=%s", message_id ?: "(any)");
        return NULL;
}

static void assert_field(const char *entry, const char *field) {
        char line[512];

        snprintf(line, sizeof(line), "%s\n", field);
        if (!strstr(entry, line))
                fail_msg("no '%s' in the entry:\n%s", field, entry);
}

static void assert_stderr_empty(Journal *j) {
        char buf[256];

        assert_int_equal(read(j->stream[0], buf, sizeof(buf)), -1);
        assert_int_equal(errno, EAGAIN);
}

static void test_start_connect_disconnect_stop_have_their_fields(void **state) {
        Journal *j = *state;
        char line[256], field[64];
        const char *e;
        struct sockaddr_in me;
        socklen_t n = sizeof(me);
        int fd;

        start(j, (const char *const[]) { "--interval", "20ms", NULL });
        e = next_entry(j, MESSAGE_STARTED);
        assert_field(e, "PRIORITY=6");
        assert_field(e, "SENSOR=simulated");

        /* A client that streams is logged, once it does. */
        fd = harness_connect(j->server.port, 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &me, &n), 0);
        snprintf(field, sizeof(field), "REMOTE_ADDR=127.0.0.1:%u", ntohs(me.sin_port));
        harness_send_str(fd, "STREAM 20\n");
        e = next_entry(j, MESSAGE_CONNECTED);
        assert_field(e, "PRIORITY=6");
        assert_field(e, field);
        assert_field(e, "CLIENTS=1");

        /* Twenty readings, and not one journal entry for them. */
        for (int i = 0; i < 23; i++) /* HELLO, OK STREAM, 20 TEMP, END */
                assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        assert_string_equal(line, "END");
        harness_send_str(fd, "QUIT\n");
        e = next_entry(j, MESSAGE_DISCONNECTED);
        assert_field(e, field);
        assert_field(e, "CLIENTS=0");
        assert_field(e, "REASON=QUIT");
        close(fd);

        assert_int_equal(harness_stop(&j->server, SIGTERM), 0);
        e = next_entry(j, MESSAGE_STOPPED);
        assert_field(e, "PRIORITY=6");
        assert_stderr_empty(j);
}

static void test_nothing_but_events_is_logged_per_reading(void **state) {
        Journal *j = *state;
        char line[256];
        int fd, entries = 0;

        start(j, (const char *const[]) { "--interval", "10ms", NULL });
        fd = harness_connect(j->server.port, 0);
        harness_send_str(fd, "STREAM 50\n");
        (void) next_entry(j, MESSAGE_CONNECTED);
        for (int i = 0; i < 53; i++)
                assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        assert_string_equal(line, "END");
        for (;;) {
                struct pollfd pfd = { .fd = j->socket, .events = POLLIN };
                char buf[4096];

                if (poll(&pfd, 1, 100) <= 0)
                        break;
                assert_true(recv(j->socket, buf, sizeof(buf), 0) > 0);
                entries++;
        }
        assert_int_equal(entries, 0);
        close(fd);
}

static void test_refusal_is_a_warning_with_the_address(void **state) {
        Journal *j = *state;
        char line[256];
        const char *e;
        int a, b;

        start(j, (const char *const[]) { "--max-clients", "1", NULL });
        a = harness_connect(j->server.port, 0);
        assert_true(harness_read_line(a, line, sizeof(line), T) > 0);
        b = harness_connect(j->server.port, 0);
        e = next_entry(j, MESSAGE_REJECTED);
        assert_field(e, "PRIORITY=4");
        assert_non_null(strstr(e, "REMOTE_ADDR=127.0.0.1:"));
        close(a);
        close(b);
}

/* A poll (a GET, a ping) is no line in the journal of its own: they are counted, and summed up. */
static void test_short_connections_are_summed_up(void **state) {
        Journal *j = *state;
        char line[256];
        const char *e;

        start(j, (const char *const[]) { "--interval", "20ms", NULL });
        (void) next_entry(j, MESSAGE_STARTED);
        for (int i = 0; i < 3; i++) {
                int fd = harness_connect(j->server.port, 0);

                harness_send_str(fd, "GET\nQUIT\n");
                for (int k = 0; k < 3; k++) /* HELLO, TEMP, BYE */
                        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
                assert_string_equal(line, "BYE");
                close(fd);
        }
        assert_int_equal(harness_stop(&j->server, SIGTERM), 0);
        /* Nothing for them one by one, then the sum, then the stop. */
        for (;;) {
                e = next_entry(j, NULL);
                if (strstr(e, "MESSAGE_ID=" MESSAGE_CONNECTED "\n") || strstr(e, "MESSAGE_ID=" MESSAGE_DISCONNECTED "\n"))
                        fail_msg("a short connection has an entry of its own:\n%s", e);
                if (strstr(e, "MESSAGE_ID=" MESSAGE_SHORT_CONNECTIONS "\n"))
                        break;
        }
        assert_field(e, "CONNECTIONS=3");
        assert_field(e, "PRIORITY=6");
        assert_non_null(strstr(e, "MESSAGE=3 connections (requests, scrapes; streams past 10 a second) in the last "));
        (void) next_entry(j, MESSAGE_STOPPED);
}

static void count_connections(const char *entry, int *connected, int *disconnected) {
        *connected += strstr(entry, "MESSAGE_ID=" MESSAGE_CONNECTED "\n") != NULL;
        *disconnected += strstr(entry, "MESSAGE_ID=" MESSAGE_DISCONNECTED "\n") != NULL;
}

/* Counts the entries that came meanwhile, without waiting: the socket's queue is short (net.unix.
 * max_dgram_qlen, 10 by default), and a server whose log is not read waits for it. */
static void count_pending(Journal *j, int *connected, int *disconnected) {
        char entry[8192];
        ssize_t n;

        while ((n = recv(j->socket, entry, sizeof(entry) - 1, MSG_DONTWAIT)) > 0) {
                entry[n] = '\0';
                count_connections(entry, connected, disconnected);
        }
}

/* A churn of streaming clients is 10 lines a second at most each way: the rest are counted in the sum. */
static void test_a_churn_of_streams_is_summed_up_past_10_a_second(void **state) {
        Journal *j = *state;
        char line[256], field[64];
        int fds[30], connected = 0, disconnected = 0;
        const char *e;

        start(j, (const char *const[]) { "--interval", "20ms", NULL });
        (void) next_entry(j, MESSAGE_STARTED);
        for (int i = 0; i < 30; i++) {
                fds[i] = harness_connect(j->server.port, 0);
                harness_send_str(fds[i], "STREAM\n");
                for (int k = 0; k < 2; k++) /* HELLO, OK STREAM */
                        assert_true(harness_read_line(fds[i], line, sizeof(line), T) > 0);
                assert_string_equal(line, "OK STREAM");
                count_pending(j, &connected, &disconnected);
        }
        for (int i = 0; i < 30; i++) {
                close(fds[i]);
                usleep(10 * 1000);
                count_pending(j, &connected, &disconnected);
        }
        kill(j->server.pid, SIGTERM);
        for (;;) {
                e = next_entry(j, NULL);
                if (strstr(e, "MESSAGE_ID=" MESSAGE_SHORT_CONNECTIONS "\n"))
                        break;
                count_connections(e, &connected, &disconnected);
        }
        /* The first 10 of a second, each way; the others in the sum. */
        assert_in_range(connected, 10, 29);
        assert_int_equal(disconnected, connected);
        snprintf(field, sizeof(field), "CONNECTIONS=%d", 30 - connected);
        assert_field(e, field);
        (void) next_entry(j, MESSAGE_STOPPED);
        assert_int_equal(harness_wait_exit(&j->server, T), 0);
}

/* A flood of refusals is one line a second at most, the next one counting those not logged: journald's
 * rate limit never drops the lines that matter. */
static void test_refusals_are_logged_once_a_second(void **state) {
        Journal *j = *state;
        char line[256];
        const char *e;
        int a, refused[20], last;

        start(j, (const char *const[]) { "--max-clients", "1", NULL });
        a = harness_connect(j->server.port, 0);
        assert_true(harness_read_line(a, line, sizeof(line), T) > 0);
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
                refused[i] = harness_connect(j->server.port, 0);
                assert_true(harness_read_line(refused[i], line, sizeof(line), T) > 0);
                assert_string_equal(line, "ERR 503 too many clients");
        }
        e = next_entry(j, MESSAGE_REJECTED);
        assert_null(strstr(e, "more refused"));

        /* A second on, the next refusal is logged, with the count of the 19 that were not. */
        usleep(1100 * 1000);
        last = harness_connect(j->server.port, 0);
        assert_true(harness_read_line(last, line, sizeof(line), T) > 0);
        e = next_entry(j, MESSAGE_REJECTED);
        assert_non_null(strstr(e, "(and 19 more refused since the last such line)"));
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
                close(refused[i]);
        close(last);
        close(a);
}

/* No sensor at all (a VM, a container): the simulated one that stands in is said at notice level, where a
 * newcomer who runs the quick start sees it, with its own MESSAGE_ID and the place looked in. */
static void test_simulated_sensor_is_a_notice(void **state) {
        Journal *j = *state;
        const char *e;

        assert_true(mkdir("/run/thermo-no-sensors", 0755) == 0 || errno == EEXIST);
        assert_int_equal(setenv("THERMO_SYSFS_ROOT", "/run/thermo-no-sensors", 1), 0);
        start(j, (const char *const[]) { NULL });
        assert_int_equal(unsetenv("THERMO_SYSFS_ROOT"), 0);
        e = next_entry(j, MESSAGE_SIMULATED);
        assert_field(e, "PRIORITY=5");
        assert_field(e, "SYSFS=/run/thermo-no-sensors");
        assert_non_null(strstr(e, "MESSAGE=No temperature sensor under /run/thermo-no-sensors: serving a simulated one"));
        e = next_entry(j, MESSAGE_STARTED);
        assert_field(e, "SENSOR=simulated");
        assert_stderr_empty(j);
}

/* The next entry of a change of level (one with LEVEL=), which must be message_id's; for NULL, none may come
 * within ms. Other entries are passed over. */
static const char *next_level_entry(Journal *j, const char *message_id, int ms) {
        char want[64];
        const char *e;

        snprintf(want, sizeof(want), "MESSAGE_ID=%s\n", message_id ?: "");
        for (int i = 0; i < 100 && (e = receive_entry(j, message_id ? T : ms)); i++) {
                if (!strstr(e, "\nLEVEL="))
                        continue;
                if (!message_id || !strstr(e, want))
                        fail_msg("a change of level that is not %s:\n%s", message_id ?: "due", e);
                return e;
        }
        if (message_id)
                fail_msg("no journal entry with MESSAGE_ID=%s", message_id);
        return NULL;
}

/* Each change of level, once, with its own MESSAGE_ID, the sensor, the reading and the level; a reading
 * within the hysteresis, none. */
static void test_levels_have_their_entries(void **state) {
        static const struct {
                const char *millidegrees, *id, *priority, *celsius, *level;
        } walk[] = {
                { "31000\n", MESSAGE_LEVEL_HIGH, "PRIORITY=4", "CELSIUS=31.000", "LEVEL=high" },
                { "41000\n", MESSAGE_LEVEL_CRIT, "PRIORITY=2", "CELSIUS=41.000", "LEVEL=crit" },
                { "38000\n", NULL, NULL, NULL, NULL }, /* crit until below 38 */
                { "37999\n", MESSAGE_LEVEL_HIGH, "PRIORITY=4", "CELSIUS=37.999", "LEVEL=high" },
                { "20000\n", MESSAGE_LEVEL_OK, "PRIORITY=5", "CELSIUS=20.000", "LEVEL=ok" },
                { "-1000\n", MESSAGE_LEVEL_LOW, "PRIORITY=4", "CELSIUS=-1.000", "LEVEL=low" },
                { "2000\n", NULL, NULL, NULL, NULL },  /* low until above 2 */
                { "2001\n", MESSAGE_LEVEL_OK, "PRIORITY=5", "CELSIUS=2.001", "LEVEL=ok" },
        };
        Journal *j = *state;
        char file[64], spec[96];
        const char *e;
        int fd;

        snprintf(file, sizeof(file), "/run/thermo-journal-cellar");
        snprintf(spec, sizeof(spec), "cellar=file:%s", file);
        harness_write_file(file, "20000\n");
        start(j, (const char *const[]) { "--interval", "20ms", "--sensor", spec, "--limit",
                                         "cellar:low=0,high=30,crit=40", NULL });
        fd = harness_connect(j->server.port, 0);
        harness_send_str(fd, "STREAM\n");
        for (size_t i = 0; i < sizeof(walk) / sizeof(walk[0]); i++) {
                harness_write_file(file, walk[i].millidegrees);
                /* Ten ticks and more: no entry for a reading that changes nothing, nor a second one. */
                e = next_level_entry(j, walk[i].id, 300);
                if (!walk[i].id)
                        continue;
                assert_field(e, walk[i].priority);
                assert_field(e, "SENSOR=cellar");
                assert_field(e, walk[i].celsius);
                assert_field(e, walk[i].level);
                assert_null(next_level_entry(j, NULL, 300));
        }
        close(fd);
        assert_stderr_empty(j);
        (void) unlink(file);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_simulated_sensor_is_a_notice, setup, teardown),
                cmocka_unit_test_setup_teardown(test_levels_have_their_entries, setup, teardown),
                cmocka_unit_test_setup_teardown(test_start_connect_disconnect_stop_have_their_fields, setup, teardown),
                cmocka_unit_test_setup_teardown(test_nothing_but_events_is_logged_per_reading, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refusal_is_a_warning_with_the_address, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refusals_are_logged_once_a_second, setup, teardown),
                cmocka_unit_test_setup_teardown(test_short_connections_are_summed_up, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_churn_of_streams_is_summed_up_past_10_a_second, setup, teardown),
        };

        /* Our own /run, seen by us and the servers we start, and nobody else. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                        mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) {
                fprintf(stderr, "Cannot make a private /run (%s): skipping, this test needs root.\n",
                                strerror(errno));
                return 77;
        }
        if (mkdir("/run/systemd", 0755) < 0 || mkdir("/run/systemd/journal", 0755) < 0) {
                perror("mkdir /run/systemd/journal");
                return 1;
        }
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, harness_kill_all);
}
