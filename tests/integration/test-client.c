/* SPDX-License-Identifier: MIT */
/* thermo-client against a real server and against scripted fake servers: what it prints, and the exit
 * status of every way a connection can fail. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

#define T HARNESS_TIMEOUT_MS

static int setup(void **state) {
        ServerProcess *p = calloc(1, sizeof(*p));

        harness_start_activated(p, (const char *const[]) { "--interval", "20ms", "--sensor", "simulated:seed=9", NULL });
        *state = p;
        return 0;
}

static int teardown(void **state) {
        harness_cleanup(*state);
        free(*state);
        return harness_kill_all(state);
}

static char out[64 * 1024], err[16 * 1024];

/* Runs thermo-client with args (NULL-terminated, at most 16). */
static int client(const char *const *args) {
        const char *argv[20] = { harness_client() };
        size_t n = 1;

        for (; *args && n < 18; args++)
                argv[n++] = *args;
        argv[n] = NULL;
        out[0] = err[0] = '\0';
        return harness_run(argv, out, sizeof(out), err, sizeof(err));
}
#define CLIENT(...) client((const char *const[]) { __VA_ARGS__, NULL })

static char *destination(int port) {
        static char buf[32];
        snprintf(buf, sizeof(buf), "127.0.0.1:%i", port);
        return buf;
}

static int count_lines(const char *s) {
        int n = 0;
        for (; *s; s++)
                n += *s == '\n';
        return n;
}

static void test_count_prints_that_many_readings(void **state) {
        ServerProcess *p = *state;
        char *line, *save = NULL;
        int year, month, day, hour, min, sec, ms, n = 0;
        char value[32], unit[8];

        assert_int_equal(CLIENT("-n", "3", destination(p->port)), 0);
        assert_string_equal(err, "");
        for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
                assert_int_equal(sscanf(line, "%d-%d-%d %d:%d:%d.%d %31s %7s", &year, &month, &day, &hour, &min,
                                                 &sec, &ms, value, unit),
                                9);
                assert_true(year >= 2024);
                assert_non_null(strchr(value, '.'));
                assert_int_equal(strlen(strchr(value, '.') + 1), 3);
        }
        assert_int_equal(n, 3);
}

/* A stream the client ends (its count, here) ends with QUIT: the server has let go of it when it exits,
 * though it watched the alarms too, which a close alone would not end. */
static void test_an_ended_stream_leaves_no_session(void **state) {
        ServerProcess *p = *state;
        char line[600];
        int fd;

        assert_int_equal(CLIENT("-n", "2", destination(p->port)), 0);
        fd = harness_connect(p->port, 0);
        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        harness_send_str(fd, "INFO\n");
        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        if (!strstr(line, " clients=1 "))
                fail_msg("the client's session is still there: %s", line);
        close(fd);
}

static void test_json_lines_carry_seq_time_and_celsius(void **state) {
        ServerProcess *p = *state;
        unsigned long long seq[2], when;
        int whole, frac;
        char *second;

        assert_int_equal(CLIENT("-n", "2", "-o", "json", destination(p->port)), 0);
        assert_int_equal(count_lines(out), 2);
        assert_int_equal(sscanf(out, "{\"seq\":%llu,\"time\":%llu,\"celsius\":%d.%d}\n", &seq[0], &when, &whole, &frac),
                        4);
        second = strchr(out, '\n') + 1;
        assert_int_equal(sscanf(second, "{\"seq\":%llu,", &seq[1]), 1);
        assert_int_equal(seq[1], seq[0] + 1);
}

static void test_units_convert_and_keep_celsius(void **state) {
        ServerProcess *p = *state;
        int cw, cf, fw, ff;
        long c, f;

        assert_int_equal(CLIENT("-1", "-o", "json", "--units", "fahrenheit", destination(p->port)), 0);
        assert_int_equal(sscanf(strstr(out, "\"celsius\":"), "\"celsius\":%d.%d,\"fahrenheit\":%d.%d}", &cw, &cf, &fw, &ff),
                        4);
        c = cw * 1000L + cf;
        f = fw * 1000L + ff;
        assert_true(labs(f - (c * 9 / 5 + 32000)) <= 1);
}

static void test_csv_has_header_then_rows(void **state) {
        ServerProcess *p = *state;

        assert_int_equal(CLIENT("-n", "2", "--output=csv", "--units=kelvin", destination(p->port)), 0);
        assert_int_equal(strncmp(out, "seq,time,kelvin\n", 16), 0);
        assert_int_equal(count_lines(out), 3);
}

static void test_once_prints_one_reading(void **state) {
        ServerProcess *p = *state;

        assert_int_equal(CLIENT("--once", "-o", "csv", destination(p->port)), 0);
        assert_int_equal(count_lines(out), 2);
}

static void test_unix_socket(void **state) {
        ServerProcess p;
        char path[128];

        snprintf(path, sizeof(path), "/tmp/thermo-client-test-%i.sock", (int) getpid());
        harness_start_listening(&p, (const char *const[]) { "--listen", path, "--interval", "20ms", NULL });
        assert_int_equal(CLIENT("-U", path, "-n", "2"), 0);
        assert_int_equal(count_lines(out), 2);
        assert_int_equal(harness_stop(&p, SIGTERM), 0);
        /* The server removes the socket file it made. */
        assert_int_equal(access(path, F_OK), -1);
        harness_cleanup(&p);
}

static void test_ipv6(void **state) {
        ServerProcess p;
        char address[64];
        int port;

        /* The port of a server on 127.0.0.1, taken again on ::1 by a second server. */
        harness_start_listening(&p, (const char *const[]) { "--interval", "20ms", NULL });
        port = p.port;
        harness_cleanup(&p);
        snprintf(address, sizeof(address), "[::1]:%i", port);
        harness_start_listening(&p, (const char *const[]) { "--listen", address, "--interval", "20ms", NULL });
        assert_int_equal(CLIENT("-1", address), 0);
        assert_int_equal(count_lines(out), 1);
        harness_cleanup(&p);
}

static void test_refused_is_unavailable(void **state) {
        ServerProcess *p = *state;
        int port = p->port;
        char expected[128];

        harness_cleanup(p); /* nobody listens there now */
        assert_int_equal(CLIENT("-1", destination(port)), EX_UNAVAILABLE);
        snprintf(expected, sizeof(expected), "thermo-client: Failed to connect to 127.0.0.1:%i: Connection refused\n",
                        port);
        assert_string_equal(err, expected);
        assert_string_equal(out, "");
}

static void test_missing_unix_socket_is_unavailable(void **state) {
        assert_int_equal(CLIENT("-U", "/nonexistent/thermo.sock", "-1"), EX_UNAVAILABLE);
        assert_non_null(strstr(err, "No such file or directory"));
}

static void test_unknown_host_is_unavailable(void **state) {
        assert_int_equal(CLIENT("-1", "no-such-host.invalid"), EX_UNAVAILABLE);
        assert_non_null(strstr(err, "Failed to resolve 'no-such-host.invalid'"));
}

static void test_unreachable_is_unavailable(void **state) {
        /* In a network namespace of its own, with no route at all: connect() fails at once, and no packet
         * leaves the namespace. 192.0.2.1 is TEST-NET-1, never a real host. */
        const char *args[] = { "/usr/bin/unshare", "--net", harness_client(), "-1", "192.0.2.1:8888", NULL };

        if (geteuid() != 0 || access(args[0], X_OK) < 0)
                skip();
        out[0] = err[0] = '\0';
        assert_int_equal(harness_run(args, out, sizeof(out), err, sizeof(err)), EX_UNAVAILABLE);
        assert_string_equal(err, "thermo-client: Failed to connect to 192.0.2.1:8888: Network is unreachable\n");
}

static void test_usage_errors_exit_64(void **state) {
        assert_int_equal(CLIENT("--count", "0"), EX_USAGE);
        assert_string_equal(err, "thermo-client: Invalid value '0' for --count: expected a number from 1 to 4294967295\n"
                                 "See 'thermo-client --help'.\n");
        assert_int_equal(CLIENT("--no-such-option"), EX_USAGE);
        assert_non_null(strstr(err, "unrecognized option '--no-such-option'\nSee 'thermo-client --help'.\n"));
        assert_int_equal(CLIENT("--output", "yaml"), EX_USAGE);
        assert_int_equal(CLIENT("--units", "rankine"), EX_USAGE);
        assert_int_equal(CLIENT("--timeout", "never"), EX_USAGE);
        assert_int_equal(CLIENT("--frobnicate"), EX_USAGE);
        assert_int_equal(CLIENT("a", "b"), EX_USAGE);
        assert_int_equal(CLIENT("-U", "relative.sock"), EX_USAGE);
        assert_string_equal(out, "");
}

static void test_help_and_version(void **state) {
        assert_int_equal(CLIENT("--help"), 0);
        assert_non_null(strstr(out, "--count=N"));
        assert_int_equal(CLIENT("--version"), 0);
        assert_string_equal(out, "thermo-client " PROJECT_VERSION "\n");
}

/* A fake server: accepts connections one after another; on each, sends greeting, reads one request
 * line (written to requests_fd), then sends body and closes, unless body is NULL (then stays silent).
 * Trickling, it sends the body a byte every trickle_ms. */
typedef struct Fake {
        pid_t pid;
        int port;
        int requests[2];
} Fake;

static void fake_start_trickling(Fake *f, const char *const *scripts, int trickle_ms) {
        int fd;

        /* The port must be listening before the client runs: bind here, serve in the child. */
        {
                struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
                socklen_t n = sizeof(sa);

                fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
                assert_int_equal(listen(fd, 16), 0);
                assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &n), 0);
                f->port = ntohs(sa.sin_port);
        }
        assert_int_equal(pipe2(f->requests, O_CLOEXEC), 0);
        f->pid = fork();
        assert_true(f->pid >= 0);
        if (f->pid > 0)
                harness_track(f->pid);
        if (f->pid == 0) {
                alarm(20); /* never outlive the test */
                for (; scripts[0]; scripts += 2) {
                        int c = accept(fd, NULL, NULL);
                        char request[128];
                        int k;

                        if (c < 0)
                                _exit(1);
                        if (write(c, scripts[0], strlen(scripts[0])) < 0)
                                _exit(1);
                        k = harness_read_line(c, request, sizeof(request), T);
                        if (k >= 0) {
                                request[k] = '\n';
                                if (write(f->requests[1], request, (size_t) k + 1) < 0)
                                        _exit(1);
                        }
                        if (!scripts[1]) {
                                pause();
                                _exit(0);
                        }
                        for (const char *p = scripts[1]; *p; p += trickle_ms > 0 ? 1 : strlen(p)) {
                                if (write(c, p, trickle_ms > 0 ? 1 : strlen(p)) < 0)
                                        _exit(1);
                                if (trickle_ms > 0)
                                        usleep((useconds_t) trickle_ms * 1000);
                        }
                        shutdown(c, SHUT_WR);
                        /* What the client still says (a QUIT, a request we did not read) is read to its
                         * end: a close with it unread would reset, and the client lose our last lines. */
                        for (char rest[512]; harness_wait_readable(c, T) && recv(c, rest, sizeof(rest), 0) > 0;)
                                ;
                        close(c);
                }
                _exit(0);
        }
        close(fd);
        close(f->requests[1]);
}

static void fake_start(Fake *f, const char *const *scripts) {
        fake_start_trickling(f, scripts, 0);
}

static void fake_stop(Fake *f, char *requests, size_t size) {
        ssize_t n;
        size_t len = 0;

        kill(f->pid, SIGKILL);
        (void) harness_wait_pid(f->pid, T);
        while (len + 1 < size && (n = read(f->requests[0], requests + len, size - 1 - len)) > 0)
                len += (size_t) n;
        requests[len] = '\0';
        close(f->requests[0]);
}

#define HELLO "HELLO thermo/1 fake 0 interval_ms=10 sensor=simulated\n"
/* What a server older than limits (0.2.0) says to the LIMITS and ALARMS a text stream asks first. */
#define NO_LEVELS "ERR 400 unknown request\nERR 400 unknown request\n"

static void test_gap_in_seq_is_reported(void **state) {
        char requests[256];
        Fake f;

        fake_start(&f, (const char *const[]) {
                HELLO, "OK STREAM\nTEMP 1 1732492130000 20.000\nTEMP 2 1732492131000 20.500\n"
                       "TEMP 5 1732492134000 21.000\nEND\n",
                NULL });
        assert_int_equal(CLIENT("-n", "3", "-o", "csv", destination(f.port)), 0);
        fake_stop(&f, requests, sizeof(requests));
        assert_string_equal(requests, "STREAM 3\n");
        assert_string_equal(out, "seq,time,celsius\n1,1732492130000,20.000\n2,1732492131000,20.500\n"
                                 "5,1732492134000,21.000\n");
        assert_string_equal(err, "thermo-client: Missed 2 readings (#3 to #4): they were skipped for us.\n");
}

static void test_wrong_protocol_is_a_protocol_error(void **state) {
        char requests[256];
        Fake f;

        fake_start(&f, (const char *const[]) { "220 smtp.example.org ESMTP\n", "", NULL });
        assert_int_equal(CLIENT("-1", destination(f.port)), EX_PROTOCOL);
        fake_stop(&f, requests, sizeof(requests));
        assert_non_null(strstr(err, "did not greet us"));

        fake_start(&f, (const char *const[]) { "HELLO thermo/2 future 9\n", "", NULL });
        assert_int_equal(CLIENT("-1", destination(f.port)), EX_PROTOCOL);
        fake_stop(&f, requests, sizeof(requests));
        assert_non_null(strstr(err, "speaks another protocol"));
}

static void test_garbage_reading_is_a_protocol_error(void **state) {
        char requests[256], expected[128];
        Fake f;

        fake_start(&f, (const char *const[]) { HELLO, NO_LEVELS "OK STREAM\nTEMP one two three\n", NULL });
        assert_int_equal(CLIENT("-n", "2", destination(f.port)), EX_PROTOCOL);
        fake_stop(&f, requests, sizeof(requests));
        snprintf(expected, sizeof(expected), "thermo-client: Unexpected line from 127.0.0.1:%i: TEMP one two three\n",
                        f.port);
        assert_string_equal(err, expected);
}

/* A server's bytes never reach the terminal raw: an escape sequence in an error's text (here one that would
 * set the window title) ends the connection as a protocol error, and the message shows it escaped. */
static void test_control_characters_from_the_server_are_refused(void **state) {
        char requests[256], expected[160];
        Fake f;

        fake_start(&f, (const char *const[]) { HELLO, "ERR 503 \x1b]0;pwned\x07\n", NULL });
        assert_int_equal(CLIENT("-1", destination(f.port)), EX_PROTOCOL);
        fake_stop(&f, requests, sizeof(requests));
        snprintf(expected, sizeof(expected), "thermo-client: 127.0.0.1:%i sent a line that is not text: "
                                             "ERR 503 \\x1b]0;pwned\\x07\n", f.port);
        assert_string_equal(err, expected);
        assert_null(strchr(out, '\x1b'));

        /* C1 in UTF-8 (CSI), which terminals obey as well. */
        fake_start(&f, (const char *const[]) { HELLO, NO_LEVELS "OK STREAM\nTEMP 1 1732492130000 20.000 \xc2\x9b" "2J\n",
                                               NULL });
        assert_int_equal(CLIENT("-n", "1", destination(f.port)), EX_PROTOCOL);
        fake_stop(&f, requests, sizeof(requests));
        assert_non_null(strstr(err, "not text: TEMP 1 1732492130000 20.000 \\xc2\\x9b2J"));
}

static void test_silent_server_times_out(void **state) {
        char requests[256];
        Fake f;

        fake_start(&f, (const char *const[]) { "", NULL, NULL });
        assert_int_equal(CLIENT("-1", "-t", "300ms", destination(f.port)), EX_TEMPFAIL);
        fake_stop(&f, requests, sizeof(requests));
        assert_non_null(strstr(err, "No word from"));
}

/* -t is a bound on the wait for a whole line: a server that trickles bytes gets no more time. */
static void test_timeout_holds_against_a_trickle(void **state) {
        char requests[256];
        Fake f;

        fake_start_trickling(&f, (const char *const[]) { HELLO, "OK STREAM\nTEMP 1 1732492130000 20.000 a long tail\n",
                                             NULL },
                        100);
        assert_int_equal(CLIENT("-n", "1", "-t", "300ms", destination(f.port)), EX_TEMPFAIL);
        fake_stop(&f, requests, sizeof(requests));
        assert_non_null(strstr(err, "No word from"));
}

static void test_client_limit_is_a_temporary_failure(void **state) {
        ServerProcess p;
        int held;

        harness_start_activated(&p, (const char *const[]) { "--max-clients", "1", NULL });
        held = harness_connect(p.port, 0);
        assert_int_equal(CLIENT("-1", destination(p.port)), EX_TEMPFAIL);
        assert_non_null(strstr(err, "refused us: too many clients"));
        close(held);
        harness_cleanup(&p);
}

static void test_closed_mid_stream_is_a_temporary_failure(void **state) {
        char requests[256];
        Fake f;

        fake_start(&f, (const char *const[]) { HELLO, "OK STREAM\nTEMP 1 1732492130000 20.000\nBYE\n", NULL });
        assert_int_equal(CLIENT("-o", "csv", destination(f.port)), EX_TEMPFAIL);
        fake_stop(&f, requests, sizeof(requests));
        assert_int_equal(count_lines(out), 2);
        assert_non_null(strstr(err, "is going away (BYE)"));
}

static void test_retry_resumes_with_what_is_missing(void **state) {
        char requests[256];
        Fake f;

        fake_start(&f, (const char *const[]) {
                HELLO, "OK STREAM\nTEMP 1 1732492130000 20.000\nTEMP 2 1732492131000 20.100\nBYE\n",
                HELLO, "OK STREAM\nTEMP 4 1732492133000 20.300\nEND\n",
                NULL });
        assert_int_equal(CLIENT("--retry", "-n", "3", "-o", "csv", destination(f.port)), 0);
        fake_stop(&f, requests, sizeof(requests));
        /* Back, it asks for what it missed; this server holds none, and the gap is said. */
        assert_string_equal(requests, "STREAM 3\nSTREAM 1 after=2\n");
        assert_string_equal(out, "seq,time,celsius\n1,1732492130000,20.000\n2,1732492131000,20.100\n"
                                 "4,1732492133000,20.300\n");
        assert_non_null(strstr(err, "is going away (BYE); reconnecting in 0.5s."));
        assert_non_null(strstr(err, "Missed 1 reading (#3 to #3): taken while we were away, and held no more."));
}

/* --since: the held readings of the span first, then the stream from the newest of them, none twice; with
 * --once, those alone. A server without a history gives none of them, and the stream. */
static void test_since_shows_the_held_readings_first(void **state) {
        ServerProcess *p = *state;
        char *line, *save = NULL, requests[256];
        uint64_t expected = 1;
        int n = 0;
        Fake f;

        assert_int_equal(CLIENT("-n", "5", "-o", "csv", destination(p->port)), 0);
        assert_int_equal(CLIENT("--since", "10min", "-n", "3", "-o", "csv", "--no-legend", destination(p->port)), 0);
        for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
                unsigned long long seq;

                assert_int_equal(sscanf(line, "%llu,", &seq), 1);
                assert_int_equal(seq, expected);
                expected++;
        }
        /* At least the 5 of the first client's, then 3 live. */
        assert_true(n >= 8);

        assert_int_equal(CLIENT("--since", "10min", "--once", "-o", "csv", "--no-legend", destination(p->port)), 0);
        assert_int_equal(count_lines(out), (int) expected - 1);

        fake_start(&f, (const char *const[]) {
                HELLO, NO_LEVELS "ERR 400 unknown command\nOK STREAM\nTEMP 1 1732492130000 20.000\nEND\n", NULL });
        assert_int_equal(CLIENT("--since", "1h", "-n", "1", destination(f.port)), 0);
        fake_stop(&f, requests, sizeof(requests));
        assert_int_equal(count_lines(out), 1);
        assert_non_null(strstr(err, "keeps no history: nothing from before now."));
}

/* --retry across a connection that dropped: the held ticks after the last one shown come first, and not a
 * reading is missing, nor twice there. */
static void test_retry_across_a_drop_misses_nothing(void **state) {
        ServerProcess *p = *state;
        char *line, *save = NULL;
        uint64_t expected = 0;
        int port, n = 0;

        harness_cutting_proxy(p->port, 6, &port);
        assert_int_equal(CLIENT("--retry", "-n", "40", "-o", "csv", "--no-legend", destination(port)), 0);
        for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
                unsigned long long seq;

                assert_int_equal(sscanf(line, "%llu,", &seq), 1);
                if (expected > 0)
                        assert_int_equal(seq, expected);
                expected = seq + 1;
        }
        assert_int_equal(n, 40);
        assert_non_null(strstr(err, "reconnecting in"));
        assert_non_null(strstr(err, "away, from the server's history."));
        assert_null(strstr(err, "Missed"));
}

/* --retry on a server without a history (0.2.0): after= is refused, and the stream goes on from what comes,
 * the gap said. */
static void test_retry_on_a_server_without_a_history(void **state) {
        char requests[256];
        Fake f;

        fake_start(&f, (const char *const[]) {
                HELLO, NO_LEVELS "OK STREAM\nTEMP 1 1732492130000 20.000\nTEMP 2 1732492131000 20.100\nBYE\n",
                HELLO, NO_LEVELS "ERR 400 unexpected argument\nOK STREAM\nTEMP 4 1732492133000 20.300\nEND\n",
                NULL });
        assert_int_equal(CLIENT("--retry", "-n", "3", destination(f.port)), 0);
        fake_stop(&f, requests, sizeof(requests));
        assert_int_equal(count_lines(out), 3);
        assert_non_null(strstr(err, "keeps no history: resuming with what comes now."));
        assert_non_null(strstr(err, "Missed 1 reading (#3 to #3): taken while we were away, and held no more."));
}

static void test_quiet_hides_notices_but_not_errors(void **state) {
        char requests[256];
        Fake f;

        fake_start(&f, (const char *const[]) {
                HELLO, NO_LEVELS "OK STREAM\nTEMP 1 1732492130000 20.000\nTEMP 3 1732492131000 20.100\nEND\n", NULL });
        assert_int_equal(CLIENT("-q", "-n", "2", destination(f.port)), 0);
        fake_stop(&f, requests, sizeof(requests));
        assert_string_equal(err, "");
        assert_int_equal(count_lines(out), 2);
}

static void test_sigint_ends_cleanly_with_whole_lines(void **state) {
        ServerProcess *p = *state;
        int out_pipe[2], lines = 0;
        char buf[4096];
        size_t len = 0;
        pid_t pid;

        assert_int_equal(pipe2(out_pipe, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid > 0)
                harness_track(pid);
        if (pid == 0) {
                dup2(out_pipe[1], 1);
                execl(harness_client(), harness_client(), destination(p->port), NULL);
                _exit(127);
        }
        close(out_pipe[1]);
        while (lines < 2) {
                struct pollfd pfd = { .fd = out_pipe[0], .events = POLLIN };
                ssize_t n;

                assert_true(poll(&pfd, 1, T) == 1);
                n = read(out_pipe[0], buf + len, sizeof(buf) - 1 - len);
                assert_true(n > 0);
                for (ssize_t i = 0; i < n; i++)
                        lines += buf[len + (size_t) i] == '\n';
                len += (size_t) n;
        }
        kill(pid, SIGINT);
        assert_int_equal(harness_wait_pid(pid, T), 0);
        while (len + 1 < sizeof(buf)) {
                ssize_t n = read(out_pipe[0], buf + len, sizeof(buf) - 1 - len);
                if (n <= 0)
                        break;
                len += (size_t) n;
        }
        close(out_pipe[0]);
        assert_int_equal(buf[len - 1], '\n');
}

static void test_no_legend_leaves_out_the_csv_header(void **state) {
        ServerProcess *p = *state;

        assert_int_equal(CLIENT("-n", "2", "-o", "csv", "--no-legend", destination(p->port)), 0);
        assert_int_equal(count_lines(out), 2);
        assert_null(strstr(out, "seq,"));
}

/* Runs the client on a pseudo-terminal (script(1)), as a person at a terminal would; returns the exit
 * status, what the terminal showed in out. */
static int client_on_terminal(const char *env, const char *args) {
        char command[512];

        snprintf(command, sizeof(command), "env TERM=xterm %s %s %s", env, harness_client(), args);
        out[0] = err[0] = '\0';
        return harness_run((const char *const[]) { "/usr/bin/script", "-qec", command, "/dev/null", NULL }, out,
                        sizeof(out), err, sizeof(err));
}

static void test_errors_are_red_on_a_terminal_unless_no_color(void **state) {
        ServerProcess *p = *state;
        char args[64];
        int port = p->port;

        harness_cleanup(p); /* refused from now on */
        snprintf(args, sizeof(args), "-1 127.0.0.1:%i", port);
        assert_int_equal(client_on_terminal("", args), EX_UNAVAILABLE);
        assert_non_null(strstr(out, "\x1b[0;1;31mFailed to connect"));
        assert_int_equal(client_on_terminal("NO_COLOR=1", args), EX_UNAVAILABLE);
        assert_null(strchr(out, '\x1b'));
        assert_non_null(strstr(out, "Failed to connect"));
        assert_int_equal(client_on_terminal("TERM=dumb", args), EX_UNAVAILABLE);
        assert_null(strchr(out, '\x1b'));

        /* Not a terminal: no colour either. */
        assert_int_equal(CLIENT("-1", destination(port)), EX_UNAVAILABLE);
        assert_null(strchr(err, '\x1b'));
}

/* A sensor going high, crit and back, as the server says it (its LIMIT line, then ALARMs after each
 * tick's readings): a reading at or above a limit is marked at once; one below the limit of its level waits
 * for the tick's ALARM, which says whether it left (ok) or is within the hysteresis (still high or crit). */
#define LEVELS_SCRIPT                                                                    \
        "LIMIT cpu ok low=- high=80.000 crit=95.000\nEND\nOK ALARMS\nOK STREAM\n"           \
        "TEMP 1 1732492130000 70.000\n"                                                  \
        "TEMP 2 1732492131000 81.000\nALARM 2 1732492131000 cpu high 81.000\n"           \
        "TEMP 3 1732492132000 79.000\n"                                                  \
        "TEMP 4 1732492133000 96.000\nALARM 4 1732492133000 cpu crit 96.000\n"           \
        "TEMP 5 1732492134000 94.000\n"                                                  \
        "TEMP 6 1732492135000 70.000\nALARM 6 1732492135000 cpu ok 70.000\nEND\n"

static void test_readings_marked_at_high_and_crit(void **state) {
        static const char *const shown[] = {
                "70.000 °C\n", "81.000 °C high\n", "79.000 °C high\n", "96.000 °C crit\n", "94.000 °C crit\n",
                "70.000 °C\n",
        };
        char requests[256], args[64];
        const char *at;
        Fake f;

        fake_start(&f, (const char *const[]) { HELLO, LEVELS_SCRIPT, NULL });
        assert_int_equal(CLIENT("-n", "6", destination(f.port)), 0);
        fake_stop(&f, requests, sizeof(requests));
        /* The first of what it asked: the levels before the stream. */
        assert_string_equal(requests, "LIMITS\n");
        assert_int_equal(count_lines(out), 6);
        at = out;
        for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
                at = strchr(at, ' ') + 1; /* the date */
                at = strchr(at, ' ') + 1; /* the time */
                if (strncmp(at, shown[i], strlen(shown[i])) != 0)
                        fail_msg("reading %zu: expected '%s' in:\n%s", i + 1, shown[i], out);
                at += strlen(shown[i]);
        }
        /* Not a terminal: the word, no colour. */
        assert_null(strchr(out, '\x1b'));

        /* On a terminal, in colour: high yellow, crit red. */
        fake_start(&f, (const char *const[]) { HELLO, LEVELS_SCRIPT, NULL });
        snprintf(args, sizeof(args), "-n 6 127.0.0.1:%i", f.port);
        assert_int_equal(client_on_terminal("", args), 0);
        fake_stop(&f, requests, sizeof(requests));
        assert_non_null(strstr(out, "\x1b[1;33m81.000 °C high\x1b[0m"));
        assert_non_null(strstr(out, "\x1b[1;31m96.000 °C crit\x1b[0m"));
}

static void test_plot_needs_a_terminal(void **state) {
        assert_int_equal(CLIENT("--plot"), EX_USAGE);
        assert_string_equal(err, "thermo-client: --plot needs a terminal on standard output.\nSee 'thermo-client --help'.\n");
        assert_int_equal(CLIENT("--plot", "-o", "json"), EX_USAGE);
}

/* tmux on a socket of our own, so that no session of anybody else's is touched. */
static int tmux(const char *const *args) {
        static char socket_name[32];
        const char *argv[16] = { "/usr/bin/tmux", "-L", socket_name };
        size_t n = 3;

        snprintf(socket_name, sizeof(socket_name), "thermo-test-%i", (int) getpid());

        for (; *args && n < 15; args++)
                argv[n++] = *args;
        argv[n] = NULL;
        out[0] = err[0] = '\0';
        return harness_run(argv, out, sizeof(out), err, sizeof(err));
}
#define TMUX(...) tmux((const char *const[]) { __VA_ARGS__, NULL })

static bool screen_shows(const char *text) {
        for (int i = 0; i < 50; i++) {
                assert_int_equal(TMUX("capture-pane", "-p", "-t", "plot"), 0);
                if (strstr(out, text))
                        return true;
                usleep(100 * 1000);
        }
        return false;
}

static void assert_screen_fits(unsigned columns, unsigned lines) {
        unsigned n = 0;

        assert_int_equal(TMUX("capture-pane", "-p", "-t", "plot"), 0);
        for (char *line = out, *end; *line; line = end + 1, n++) {
                size_t width = 0;

                end = strchr(line, '\n');
                assert_non_null(end);
                for (char *c = line; c < end; c++)
                        width += ((unsigned char) *c & 0xc0) != 0x80;
                assert_true(width <= columns);
        }
        assert_true(n <= lines);
}

static void test_plot_draws_resizes_and_restores_the_terminal(void **state) {
        ServerProcess p;
        char command[512];

        if (access("/usr/bin/tmux", X_OK) < 0 || access("/usr/bin/script", X_OK) < 0)
                skip();
        harness_start_activated(&p, (const char *const[]) { "--interval", "50ms", "--sensor", "simulated:seed=5", NULL });
        snprintf(command, sizeof(command), "LANG=C.UTF-8 TERM=xterm %s --plot 127.0.0.1:%i; echo EXIT=$?; sleep 60",
                        harness_client(), p.port);
        (void) TMUX("kill-server");
        assert_int_equal(TMUX("new-session", "-d", "-s", "plot", "-x", "80", "-y", "20", command), 0);

        assert_true(screen_shows("readings)"));
        for (int i = 0, n = 0; n < 20; i++) {
                const char *count;

                assert_true(i < 50);
                usleep(100 * 1000);
                assert_int_equal(TMUX("capture-pane", "-p", "-t", "plot"), 0);
                count = strstr(out, "   (");
                assert_non_null(count);
                assert_int_equal(sscanf(count, "   (%d readings)", &n), 1);
        }
        assert_non_null(strstr(out, "thermo-client: 127.0.0.1:"));
        assert_non_null(strstr(out, "now "));
        assert_non_null(strstr(out, "   min "));
        assert_non_null(strstr(out, "   max "));
        assert_non_null(strstr(out, "   avg "));
        assert_non_null(strstr(out, "┤"));
        assert_non_null(strstr(out, "█"));
        assert_non_null(strstr(out, "───"));
        assert_screen_fits(80, 20);

        /* A smaller window: drawn again to fit, the title still on top. */
        assert_int_equal(TMUX("resize-window", "-t", "plot", "-x", "44", "-y", "12"), 0);
        usleep(300 * 1000);
        assert_screen_fits(44, 12);
        assert_int_equal(strncmp(out, "thermo-client: 127.0.0.1:", 25), 0);

        /* Ctrl-C: the terminal is given back, and the exit status is 0. */
        assert_int_equal(TMUX("send-keys", "-t", "plot", "C-c", ""), 0);
        assert_true(screen_shows("EXIT=0"));
        assert_null(strstr(out, "┤"));
        (void) TMUX("kill-server");
        harness_cleanup(&p);
}

/* A sensor's limits on the plot: a dashed line where one falls in the chart, its value on the axis, and
 * each on the top line. */
static void test_plot_draws_the_limits(void **state) {
        char command[512], dir[] = "/tmp/thermo-plot-XXXXXX", file[64], spec[96];
        ServerProcess p;

        if (access("/usr/bin/tmux", X_OK) < 0)
                skip();
        assert_non_null(mkdtemp(dir));
        snprintf(file, sizeof(file), "%s/room", dir);
        snprintf(spec, sizeof(spec), "room=file:%s", file);
        harness_write_file(file, "20000\n");
        harness_start_activated(&p, (const char *const[]) { "--interval", "50ms", "--sensor", spec, "--limit",
                                                           "room:high=27,crit=40", NULL });
        snprintf(command, sizeof(command), "LANG=C.UTF-8 TERM=xterm %s --plot 127.0.0.1:%i; echo EXIT=$?; sleep 60",
                        harness_client(), p.port);
        (void) TMUX("kill-server");
        assert_int_equal(TMUX("new-session", "-d", "-s", "plot", "-x", "120", "-y", "20", command), 0);
        /* 20 °C, then 30: the chart spans both, and high (27) falls in it; crit (40) does not. */
        assert_true(screen_shows("now 20.000"));
        harness_write_file(file, "30000\n");
        assert_true(screen_shows("now 30.000"));
        assert_true(screen_shows("┄"));
        assert_non_null(strstr(out, "   high 27.000   crit 40.000   ("));
        assert_non_null(strstr(out, "27.000 ┤"));
        assert_null(strstr(out, "40.000 ┤"));

        assert_int_equal(TMUX("send-keys", "-t", "plot", "C-c", ""), 0);
        assert_true(screen_shows("EXIT=0"));
        (void) TMUX("kill-server");
        harness_cleanup(&p);
        harness_remove_tree(dir);
}

/* A server with several sensors: what the client lists, asks for and prints. */
static void start_several(ServerProcess *p) {
        harness_start_activated(p, (const char *const[]) { "--interval", "20ms", "--sensor", "cpu=simulated:seed=1",
                                                "--sensor", "nvme-pci-0100-composite=simulated:seed=2", "--sensor",
                                                "cellar=simulated:seed=3", NULL });
}

static void test_list_shows_the_servers_sensors(void **state) {
        ServerProcess p;

        start_several(&p);
        assert_int_equal(CLIENT("--list", destination(p.port)), 0);
        assert_string_equal(out, "NAME                    SOURCE    LEVEL      LOW     HIGH     CRIT\n"
                                 "cpu                     simulated ok           -        -        -\n"
                                 "nvme-pci-0100-composite simulated ok           -        -        -\n"
                                 "cellar                  simulated ok           -        -        -\n");
        assert_int_equal(CLIENT("--list", "--no-legend", destination(p.port)), 0);
        assert_int_equal(count_lines(out), 3);
        assert_int_equal(CLIENT("--list", "-o", "json", destination(p.port)), 0);
        assert_string_equal(out, "[{\"name\":\"cpu\",\"source\":\"simulated\",\"level\":\"ok\",\"low\":null,\"high\":null,"
                                 "\"crit\":null},{\"name\":\"nvme-pci-0100-composite\",\"source\":\"simulated\",\"level\":\"ok\","
                                 "\"low\":null,\"high\":null,\"crit\":null},{\"name\":\"cellar\",\"source\":\"simulated\","
                                 "\"level\":\"ok\",\"low\":null,\"high\":null,\"crit\":null}]\n");
        assert_int_equal(CLIENT("--list", "--once", destination(p.port)), EX_USAGE);
        harness_cleanup(&p);
}

/* --list with limits and levels; --alarms, each change as it comes, -n of them. */
static void test_limits_in_the_list_and_alarms(void **state) {
        char file[64], spec[96], command[512];
        ServerProcess p;
        int year, month, day, hour, min, sec, ms;
        char name[40], level[8], value[16];
        char *second;

        snprintf(file, sizeof(file), "/tmp/thermo-client-cellar-%i", (int) getpid());
        harness_write_file(file, "85000\n");
        snprintf(spec, sizeof(spec), "cellar=file:%s", file);
        harness_start_activated(&p, (const char *const[]) { "--interval", "20ms", "--sensor", spec, "--limit",
                                        "cellar:low=2,high=80", NULL });
        assert_int_equal(CLIENT("--list", "--no-legend", destination(p.port)), 0);
        assert_non_null(strstr(out, " ok       2.000   80.000        -\n"));

        /* Up to high with the first reading, back to ok when the file says so: two lines, then the end. */
        snprintf(command, sizeof(command), "(sleep 1; echo 20000 > %s) & exec %s --alarms -n 2 %s", file,
                        harness_client(), destination(p.port));
        assert_int_equal(harness_run((const char *const[]) { "/bin/sh", "-c", command, NULL }, out, sizeof(out), err,
                                 sizeof(err)),
                        0);
        assert_int_equal(count_lines(out), 2);
        assert_int_equal(sscanf(out, "%d-%d-%d %d:%d:%d.%d %39s %7s %15s", &year, &month, &day, &hour, &min, &sec, &ms,
                                 name, level, value),
                        10);
        assert_string_equal(name, "cellar");
        assert_string_equal(level, "high");
        assert_string_equal(value, "85.000");
        second = strchr(out, '\n') + 1;
        assert_non_null(strstr(second, " cellar ok 20.000 "));

        harness_write_file(file, "1000\n");
        assert_int_equal(CLIENT("--alarms", "-n", "1", "-o", "json", destination(p.port)), 0);
        assert_non_null(strstr(out, ",\"sensor\":\"cellar\",\"level\":\"low\",\"celsius\":1.000}\n"));
        assert_int_equal(CLIENT("--alarms", "--once", destination(p.port)), EX_USAGE);
        harness_cleanup(&p);
        (void) unlink(file);
}

static void test_sensors_by_name_come_in_the_servers_order(void **state) {
        char *line, *save = NULL;
        uint64_t seq[4];
        char name[4][40];
        int n = 0;
        ServerProcess p;

        start_several(&p);
        /* Two readings of two sensors: four lines, the server's order, one seq per reading. */
        assert_int_equal(CLIENT("-s", "cellar", "--sensor", "cpu", "-n", "2", "-o", "csv", destination(p.port)), 0);
        assert_string_equal(err, "");
        line = strtok_r(out, "\n", &save);
        assert_string_equal(line, "seq,time,sensor,celsius");
        for (line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
                assert_true(n < 4);
                assert_int_equal(sscanf(line, "%" SCNu64 ",%*u,%39[^,],", &seq[n], name[n]), 2);
        }
        assert_int_equal(n, 4);
        assert_string_equal(name[0], "cpu");
        assert_string_equal(name[1], "cellar");
        assert_string_equal(name[2], "cpu");
        assert_string_equal(name[3], "cellar");
        assert_int_equal(seq[0], seq[1]);
        assert_int_equal(seq[2], seq[0] + 1);
        assert_int_equal(seq[3], seq[2]);

        /* JSON says the sensor; text names it where there are several, in a column. */
        assert_int_equal(CLIENT("-s", "cpu", "-1", "-o", "json", destination(p.port)), 0);
        assert_non_null(strstr(out, ",\"sensor\":\"cpu\",\"celsius\":"));
        assert_int_equal(CLIENT("-s", "cpu", "-1", destination(p.port)), 0);
        assert_null(strstr(out, "cpu"));
        assert_int_equal(CLIENT("--all", "-1", destination(p.port)), 0);
        assert_int_equal(count_lines(out), 3);
        assert_non_null(strstr(out, " cpu                     "));
        assert_non_null(strstr(out, " nvme-pci-0100-composite "));
        assert_non_null(strstr(out, " cellar                  "));
        harness_cleanup(&p);
}

static void test_no_such_sensor_is_a_usage_error(void **state) {
        ServerProcess p;

        start_several(&p);
        assert_int_equal(CLIENT("-s", "gpu", "-n", "1", destination(p.port)), EX_USAGE);
        assert_non_null(strstr(err, "has no such sensor (thermo-client --list shows them)"));
        assert_int_equal(CLIENT("-s", "Gpu", destination(p.port)), EX_USAGE);
        assert_non_null(strstr(err, "Invalid value 'Gpu' for --sensor"));
        assert_int_equal(CLIENT("--all", "-s", "cpu", destination(p.port)), EX_USAGE);
        harness_cleanup(&p);
}

/* Several sensors, one of them failing: --once gets what there is, says what is missing, and fails. */
static void test_once_with_a_failing_sensor_fails(void **state) {
        char spec[128], path[64];
        ServerProcess p;

        snprintf(path, sizeof(path), "/tmp/thermo-client-gone-%i", (int) getpid());
        snprintf(spec, sizeof(spec), "gone=file:%s", path);
        harness_start_activated(&p, (const char *const[]) { "--sensor", "cpu=simulated:seed=1", "--sensor", spec, NULL });
        assert_int_equal(CLIENT("-s", "cpu", "-s", "gone", "-1", destination(p.port)), EX_TEMPFAIL);
        assert_int_equal(count_lines(out), 1);
        assert_non_null(strstr(err, "'s sensor gone has no reading: sensor unavailable gone"));
        assert_int_equal(CLIENT("-s", "cpu", "-1", destination(p.port)), 0);
        harness_cleanup(&p);
}

/* -t bounds the wait for readings: a sensor that only fails ends a read with an end, and one without. */
static void test_timeout_bounds_a_stream_of_errors(void **state) {
        char spec[128], path[64];
        struct timespec a, b;
        ServerProcess p;

        snprintf(path, sizeof(path), "/tmp/thermo-client-gone-%i", (int) getpid());
        snprintf(spec, sizeof(spec), "gone=file:%s", path);
        harness_start_activated(&p, (const char *const[]) { "--interval", "100ms", "--sensor", spec, NULL });

        clock_gettime(CLOCK_MONOTONIC, &a);
        assert_int_equal(CLIENT("-n", "2", "-t", "1", destination(p.port)), EX_TEMPFAIL);
        clock_gettime(CLOCK_MONOTONIC, &b);
        assert_string_equal(out, "");
        assert_non_null(strstr(err, "has no reading: sensor unavailable"));
        assert_non_null(strstr(err, "No reading from 127.0.0.1:"));
        /* One timeout and an interval, and the next error: well under the harness's bound. */
        assert_true(b.tv_sec - a.tv_sec < 4);
        assert_int_equal(CLIENT("-t", "500ms", destination(p.port)), EX_TEMPFAIL);
        assert_non_null(strstr(err, "No reading from 127.0.0.1:"));
        harness_cleanup(&p);
}

/* Runs the client with args until it has shown a line, sends sig, and returns its exit status and stderr. */
static int interrupt_after_a_line(const char *const *args, int sig, char *errbuf, size_t size) {
        int out_pipe[2], err_pipe[2], status;
        const char *argv[16] = { harness_client() };
        struct pollfd pfd;
        size_t n = 1, len = 0;
        char c;
        pid_t pid;

        for (; *args && n < 15; args++)
                argv[n++] = *args;
        argv[n] = NULL;
        assert_int_equal(pipe2(out_pipe, O_CLOEXEC), 0);
        assert_int_equal(pipe2(err_pipe, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(out_pipe[1], 1);
                dup2(err_pipe[1], 2);
                execv(argv[0], (char *const *) argv);
                _exit(127);
        }
        harness_track(pid);
        close(out_pipe[1]);
        close(err_pipe[1]);
        pfd = (struct pollfd) { .fd = out_pipe[0], .events = POLLIN };
        assert_int_equal(poll(&pfd, 1, T), 1);
        assert_int_equal(read(out_pipe[0], &c, 1), 1);
        kill(pid, sig);
        status = harness_wait_pid(pid, T);
        while (len + 1 < size && read(err_pipe[0], errbuf + len, 1) == 1)
                len++;
        errbuf[len] = '\0';
        close(out_pipe[0]);
        close(err_pipe[0]);
        return status;
}

/* A read with an end, cut short, is no success; a stream watched until Ctrl-C is. */
static void test_interrupted_read_is_no_success(void **state) {
        ServerProcess *p = *state;
        char errbuf[1024];

        assert_int_equal(interrupt_after_a_line((const char *const[]) { "-n", "1000", destination(p->port), NULL }, SIGTERM,
                                 errbuf, sizeof(errbuf)),
                        128 + SIGTERM);
        assert_non_null(strstr(errbuf, "Interrupted by Terminated before every reading came."));
        assert_int_equal(interrupt_after_a_line((const char *const[]) { "-n", "1000", destination(p->port), NULL }, SIGINT,
                                 errbuf, sizeof(errbuf)),
                        128 + SIGINT);
        assert_int_equal(interrupt_after_a_line((const char *const[]) { destination(p->port), NULL }, SIGINT, errbuf,
                                 sizeof(errbuf)),
                        0);
        assert_string_equal(errbuf, "");
}

static void test_plot_draws_several_sensors_with_a_legend(void **state) {
        ServerProcess p;
        char command[512];

        if (access("/usr/bin/tmux", X_OK) < 0)
                skip();
        start_several(&p);
        snprintf(command, sizeof(command), "LANG=C.UTF-8 TERM=xterm %s --plot --all 127.0.0.1:%i; echo EXIT=$?; sleep 60",
                        harness_client(), p.port);
        (void) TMUX("kill-server");
        assert_int_equal(TMUX("new-session", "-d", "-s", "plot", "-x", "100", "-y", "20", command), 0);
        assert_true(screen_shows("● cpu "));
        assert_true(screen_shows("▲ nvme-pci-0100-composite "));
        assert_true(screen_shows("■ cellar "));
        assert_screen_fits(100, 20);
        assert_int_equal(TMUX("send-keys", "-t", "plot", "C-c", ""), 0);
        assert_true(screen_shows("EXIT=0"));
        (void) TMUX("kill-server");
        harness_cleanup(&p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_count_prints_that_many_readings, setup, teardown),
                cmocka_unit_test_setup_teardown(test_an_ended_stream_leaves_no_session, setup, teardown),
                cmocka_unit_test_setup_teardown(test_json_lines_carry_seq_time_and_celsius, setup, teardown),
                cmocka_unit_test_setup_teardown(test_units_convert_and_keep_celsius, setup, teardown),
                cmocka_unit_test_setup_teardown(test_csv_has_header_then_rows, setup, teardown),
                cmocka_unit_test_setup_teardown(test_once_prints_one_reading, setup, teardown),
                cmocka_unit_test_teardown(test_unix_socket, harness_kill_all),
                cmocka_unit_test_teardown(test_ipv6, harness_kill_all),
                cmocka_unit_test_setup_teardown(test_refused_is_unavailable, setup, teardown),
                cmocka_unit_test_teardown(test_missing_unix_socket_is_unavailable, harness_kill_all),
                cmocka_unit_test_teardown(test_unknown_host_is_unavailable, harness_kill_all),
                cmocka_unit_test_teardown(test_unreachable_is_unavailable, harness_kill_all),
                cmocka_unit_test_teardown(test_usage_errors_exit_64, harness_kill_all),
                cmocka_unit_test_teardown(test_help_and_version, harness_kill_all),
                cmocka_unit_test_teardown(test_gap_in_seq_is_reported, harness_kill_all),
                cmocka_unit_test_teardown(test_wrong_protocol_is_a_protocol_error, harness_kill_all),
                cmocka_unit_test_teardown(test_garbage_reading_is_a_protocol_error, harness_kill_all),
                cmocka_unit_test_teardown(test_control_characters_from_the_server_are_refused, harness_kill_all),
                cmocka_unit_test_teardown(test_silent_server_times_out, harness_kill_all),
                cmocka_unit_test_teardown(test_timeout_holds_against_a_trickle, harness_kill_all),
                cmocka_unit_test_teardown(test_client_limit_is_a_temporary_failure, harness_kill_all),
                cmocka_unit_test_teardown(test_closed_mid_stream_is_a_temporary_failure, harness_kill_all),
                cmocka_unit_test_teardown(test_retry_resumes_with_what_is_missing, harness_kill_all),
                cmocka_unit_test_setup_teardown(test_retry_across_a_drop_misses_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_since_shows_the_held_readings_first, setup, teardown),
                cmocka_unit_test_teardown(test_retry_on_a_server_without_a_history, harness_kill_all),
                cmocka_unit_test_teardown(test_quiet_hides_notices_but_not_errors, harness_kill_all),
                cmocka_unit_test_setup_teardown(test_sigint_ends_cleanly_with_whole_lines, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_legend_leaves_out_the_csv_header, setup, teardown),
                cmocka_unit_test_setup_teardown(test_errors_are_red_on_a_terminal_unless_no_color, setup, teardown),
                cmocka_unit_test_teardown(test_readings_marked_at_high_and_crit, harness_kill_all),
                cmocka_unit_test_teardown(test_plot_needs_a_terminal, harness_kill_all),
                cmocka_unit_test_teardown(test_plot_draws_the_limits, harness_kill_all),
                cmocka_unit_test_teardown(test_plot_draws_resizes_and_restores_the_terminal, harness_kill_all),
                cmocka_unit_test_teardown(test_list_shows_the_servers_sensors, harness_kill_all),
                cmocka_unit_test_teardown(test_limits_in_the_list_and_alarms, harness_kill_all),
                cmocka_unit_test_teardown(test_sensors_by_name_come_in_the_servers_order, harness_kill_all),
                cmocka_unit_test_teardown(test_no_such_sensor_is_a_usage_error, harness_kill_all),
                cmocka_unit_test_teardown(test_once_with_a_failing_sensor_fails, harness_kill_all),
                cmocka_unit_test_teardown(test_timeout_bounds_a_stream_of_errors, harness_kill_all),
                cmocka_unit_test_setup_teardown(test_interrupted_read_is_no_success, setup, teardown),
                cmocka_unit_test_teardown(test_plot_draws_several_sensors_with_a_legend, harness_kill_all),
        };
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, harness_kill_all);
}
