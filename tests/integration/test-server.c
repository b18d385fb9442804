/* SPDX-License-Identifier: MIT */
/* The server's behaviour on the wire, checked byte for byte against protocol.md. The server under test is
 * $THERMO_SERVER; it is started as systemd starts it (socket activation) unless a test says otherwise. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

#define T HARNESS_TIMEOUT_MS
#define DEFAULT_ARGS "--interval", "50ms", "--sensor", "simulated:seed=1"

static int setup(void **state) {
        ServerProcess *p = calloc(1, sizeof(*p));

        harness_start_activated(p, (const char *const[]) { DEFAULT_ARGS, NULL });
        *state = p;
        return 0;
}

static int teardown(void **state) {
        harness_cleanup(*state);
        free(*state);
        return harness_kill_all(state);
}

static int connect_greeted(ServerProcess *p) {
        char line[600], expected[200];
        int fd = harness_connect(p->port, 0);

        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        snprintf(expected, sizeof(expected), "HELLO thermo/1 %s %s interval_ms=50 sensor=simulated",
                        harness_server_name(), PROJECT_VERSION);
        assert_string_equal(line, expected);
        return fd;
}

static void expect_line(int fd, const char *expected) {
        char line[600];

        assert_true(harness_read_line(fd, line, sizeof(line), T) >= 0);
        assert_string_equal(line, expected);
}

static void expect_reply(int fd, const char *expected) {
        char line[600];

        assert_true(harness_read_reply(fd, line, sizeof(line), T) >= 0);
        assert_string_equal(line, expected);
}

static uint64_t expect_temp(int fd) {
        char line[600];

        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        return harness_assert_temp(line);
}

static void test_greeting_comes_first(void **state) {
        close(connect_greeted(*state));
}

static void test_get_returns_one_reading(void **state) {
        int fd = connect_greeted(*state);

        harness_send_str(fd, "GET\n");
        assert_int_equal(expect_temp(fd), 1);
        harness_send_str(fd, "PING\n");
        expect_line(fd, "PONG");
        close(fd);
}

static void test_ping_info_quit(void **state) {
        char line[600], prefix[200];
        int fd = connect_greeted(*state);

        harness_send_str(fd, "PING\n");
        expect_line(fd, "PONG");

        harness_send_str(fd, "INFO\n");
        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        snprintf(prefix, sizeof(prefix), "INFO server=%s version=%s sensor=simulated interval_ms=50 clients=1 uptime_s=",
                        harness_server_name(), PROJECT_VERSION);
        assert_int_equal(strncmp(line, prefix, strlen(prefix)), 0);

        harness_send_str(fd, "QUIT\n");
        expect_line(fd, "BYE");
        assert_true(harness_wait_eof(fd, T));
        close(fd);
}

static void test_commands_are_case_insensitive_and_crlf_is_fine(void **state) {
        int fd = connect_greeted(*state);

        harness_send_str(fd, "ping\r\nPiNg\n\tping \r\n");
        expect_line(fd, "PONG");
        expect_line(fd, "PONG");
        expect_line(fd, "PONG");
        close(fd);
}

static void test_empty_lines_are_ignored(void **state) {
        int fd = connect_greeted(*state);

        harness_send_str(fd, "\n\r\n   \n\t\nPING\n");
        expect_line(fd, "PONG");
        close(fd);
}

static void test_stream_count_ends_with_end(void **state) {
        int fd = connect_greeted(*state);
        uint64_t first;

        harness_send_str(fd, "STREAM 3\n");
        expect_line(fd, "OK STREAM");
        first = expect_temp(fd);
        assert_int_equal(expect_temp(fd), first + 1);
        assert_int_equal(expect_temp(fd), first + 2);
        expect_line(fd, "END");
        /* The connection stays open, and no more readings come. */
        usleep(200 * 1000);
        harness_send_str(fd, "PING\n");
        expect_line(fd, "PONG");
        close(fd);
}

static void test_second_stream_replaces_the_first(void **state) {
        int fd = connect_greeted(*state);

        harness_send_str(fd, "STREAM 100\nSTREAM 1\n");
        expect_line(fd, "OK STREAM");
        expect_line(fd, "OK STREAM");
        (void) expect_temp(fd);
        expect_line(fd, "END");
        close(fd);
}

static void test_stop_ends_the_stream(void **state) {
        int fd = connect_greeted(*state);

        harness_send_str(fd, "STREAM\n");
        expect_line(fd, "OK STREAM");
        (void) expect_temp(fd);
        harness_send_str(fd, "STOP\n");
        expect_reply(fd, "OK STOP");
        /* Three intervals later, the next line is the reply to PING: no reading came in between. */
        usleep(150 * 1000);
        harness_send_str(fd, "PING\n");
        expect_line(fd, "PONG");
        close(fd);
}

static void test_bad_requests_get_err_400_and_the_connection_stays(void **state) {
        int fd = connect_greeted(*state);

        harness_send_str(fd, "FROB\n");
        expect_line(fd, "ERR 400 unknown command");
        harness_send_str(fd, "STREAM 0\n");
        expect_line(fd, "ERR 400 invalid count");
        harness_send_str(fd, "STREAM -1\n");
        expect_line(fd, "ERR 400 invalid count");
        harness_send_str(fd, "STREAM 4294967296\n");
        expect_line(fd, "ERR 400 invalid count");
        harness_send_str(fd, "STREAM many\n");
        expect_line(fd, "ERR 400 invalid count");
        harness_send_str(fd, "GET 1\n");
        expect_line(fd, "ERR 400 unexpected argument");
        harness_send_str(fd, "P\xc3\xafNG\n");
        expect_line(fd, "ERR 400 invalid byte in request");
        harness_send(fd, "PI\0NG\n", 6);
        expect_line(fd, "ERR 400 invalid byte in request");
        harness_send_str(fd, "PING\n");
        expect_line(fd, "PONG");
        close(fd);
}

static void test_512_byte_line_is_served(void **state) {
        char request[512];
        int fd = connect_greeted(*state);

        /* "PING", 507 blanks and "\n": 512 bytes with the terminator. */
        memset(request, ' ', sizeof(request));
        memcpy(request, "PING", 4);
        request[511] = '\n';
        harness_send(fd, request, sizeof(request));
        expect_line(fd, "PONG");
        close(fd);
}

static void test_513_byte_line_gets_413_and_close(void **state) {
        char request[513];
        int fd = connect_greeted(*state);

        memset(request, ' ', sizeof(request));
        memcpy(request, "PING", 4);
        request[512] = '\n';
        harness_send(fd, request, sizeof(request));
        expect_line(fd, "ERR 413 request line too long");
        assert_true(harness_wait_eof(fd, T));
        close(fd);
}

static void test_endless_line_gets_413_without_newline(void **state) {
        char junk[4096];
        int fd = connect_greeted(*state);

        memset(junk, 'x', sizeof(junk));
        harness_send(fd, junk, sizeof(junk));
        expect_line(fd, "ERR 413 request line too long");
        assert_true(harness_wait_eof(fd, T));
        close(fd);
}

static void test_one_byte_writes_make_one_request(void **state) {
        int fd = connect_greeted(*state);

        for (const char *p = "PING\r\n"; *p; p++) {
                harness_send(fd, p, 1);
                usleep(5 * 1000);
        }
        expect_line(fd, "PONG");
        close(fd);
}

static void test_pipelined_requests_are_answered_in_order(void **state) {
        char request[64 * 5 + 1] = "";
        int fd = connect_greeted(*state);

        for (int i = 0; i < 64; i++)
                strcat(request, "PING\n");
        harness_send_str(fd, request);
        for (int i = 0; i < 64; i++)
                expect_line(fd, "PONG");
        harness_send_str(fd, "PING\nGET\nPING\n");
        expect_line(fd, "PONG");
        (void) expect_temp(fd);
        expect_line(fd, "PONG");
        close(fd);
}

static void test_clients_see_the_same_bytes_for_the_same_reading(void **state) {
        int a = connect_greeted(*state), b = connect_greeted(*state);
        char la[200], lb[200];
        uint64_t sa = 0, sb;

        harness_send_str(a, "STREAM\n");
        expect_line(a, "OK STREAM");
        harness_send_str(b, "STREAM\n");
        expect_line(b, "OK STREAM");

        /* b joined later: find b's first reading in a's stream, and compare the bytes. */
        assert_true(harness_read_line(b, lb, sizeof(lb), T) > 0);
        sb = harness_assert_temp(lb);
        for (int i = 0; i < 20 && sa < sb; i++) {
                assert_true(harness_read_line(a, la, sizeof(la), T) > 0);
                sa = harness_assert_temp(la);
        }
        assert_int_equal(sa, sb);
        assert_string_equal(la, lb);
        close(a);
        close(b);
}

static void test_reset_mid_stream_leaves_the_server_serving(void **state) {
        ServerProcess *p = *state;
        struct linger lg = { .l_onoff = 1, .l_linger = 0 };
        int fd = connect_greeted(p), other;

        harness_send_str(fd, "STREAM\n");
        expect_line(fd, "OK STREAM");
        (void) expect_temp(fd);
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
        close(fd); /* a reset, not a close */

        usleep(150 * 1000);
        other = connect_greeted(p);
        harness_send_str(other, "INFO\n");
        {
                char line[600];
                assert_true(harness_read_line(other, line, sizeof(line), T) > 0);
                assert_non_null(strstr(line, " clients=1 "));
        }
        close(other);
}

static void test_half_closed_peer_gets_its_answers(void **state) {
        ServerProcess *p = *state;
        int fd = connect_greeted(p);

        /* Like 'echo GET | nc -N': the request, then end of input. The answer comes, then the close. */
        harness_send_str(fd, "GET\n");
        assert_int_equal(shutdown(fd, SHUT_WR), 0);
        (void) expect_temp(fd);
        assert_true(harness_wait_eof(fd, T));
        close(fd);

        /* A counted stream goes on to its END after the peer stopped sending. */
        fd = connect_greeted(p);
        harness_send_str(fd, "STREAM 2\n");
        assert_int_equal(shutdown(fd, SHUT_WR), 0);
        expect_line(fd, "OK STREAM");
        (void) expect_temp(fd);
        (void) expect_temp(fd);
        expect_line(fd, "END");
        assert_true(harness_wait_eof(fd, T));
        close(fd);
}

static void test_last_line_without_newline_is_served_at_eof(void **state) {
        int fd = connect_greeted(*state);

        harness_send_str(fd, "PING");
        assert_int_equal(shutdown(fd, SHUT_WR), 0);
        expect_line(fd, "PONG");
        assert_true(harness_wait_eof(fd, T));
        close(fd);
}

static void test_max_clients_gets_503(void **state) {
        ServerProcess p;
        char line[200];
        int a, b, c;

        harness_start_activated(&p, (const char *const[]) { DEFAULT_ARGS, "--max-clients", "2", NULL });
        a = connect_greeted(&p);
        b = connect_greeted(&p);
        c = harness_connect(p.port, 0);
        assert_true(harness_read_line(c, line, sizeof(line), T) > 0);
        assert_string_equal(line, "ERR 503 too many clients");
        assert_true(harness_wait_eof(c, T));
        close(c);

        /* Once a client leaves, there is room again. */
        harness_send_str(a, "QUIT\n");
        expect_line(a, "BYE");
        assert_true(harness_wait_eof(a, T));
        close(a);
        usleep(100 * 1000);
        c = connect_greeted(&p);
        close(c);
        close(b);
        harness_cleanup(&p);
}

static void test_sigterm_says_bye_to_every_client(void **state) {
        ServerProcess *p = *state;
        char line[200];
        int fds[3];

        for (int i = 0; i < 3; i++)
                fds[i] = connect_greeted(p);
        harness_send_str(fds[0], "STREAM\n");
        expect_line(fds[0], "OK STREAM");
        (void) expect_temp(fds[0]);

        kill(p->pid, SIGTERM);
        for (int i = 0; i < 3; i++) {
                assert_true(harness_read_reply(fds[i], line, sizeof(line), T) >= 0);
                assert_string_equal(line, "BYE");
                assert_true(harness_wait_eof(fds[i], T));
                close(fds[i]);
        }
        assert_true(harness_wait_notify(p, "STOPPING=1", T));
        assert_int_equal(harness_wait_exit(p, T), 0);
}

static void test_sigint_stops_too(void **state) {
        ServerProcess *p = *state;
        int fd = connect_greeted(p);

        kill(p->pid, SIGINT);
        expect_line(fd, "BYE");
        assert_int_equal(harness_wait_exit(p, T), 0);
        close(fd);
}

static void test_exit_on_idle_loses_no_connection(void **state) {
        ServerProcess p;
        int fd;

        harness_start_activated(&p, (const char *const[]) { DEFAULT_ARGS, "--exit-idle", "300ms", NULL });
        fd = connect_greeted(&p);
        close(fd);
        assert_int_equal(harness_wait_exit(&p, T), 0);

        /* The socket is still ours (systemd's): a client that connects now waits in its backlog... */
        fd = harness_connect(p.port, 0);
        harness_send_str(fd, "PING\n");
        /* ...until the next server, started on the same socket, greets and answers it. */
        harness_restart_activated(&p, (const char *const[]) { DEFAULT_ARGS, "--exit-idle", "300ms", NULL });
        {
                char line[600];
                assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
                assert_int_equal(strncmp(line, "HELLO thermo/1 ", 15), 0);
        }
        expect_line(fd, "PONG");
        close(fd);
        harness_cleanup(&p);
}

static void test_exit_idle_zero_never_exits(void **state) {
        ServerProcess p;

        harness_start_activated(&p, (const char *const[]) { DEFAULT_ARGS, "--exit-idle", "0", NULL });
        assert_int_equal(harness_wait_exit(&p, 800), -ETIMEDOUT);
        assert_int_equal(harness_stop(&p, SIGTERM), 0);
        harness_cleanup(&p);
}

static void test_started_by_hand_never_exits_on_idle(void **state) {
        ServerProcess p;
        int fd;

        harness_start_listening(&p, (const char *const[]) { DEFAULT_ARGS, "--exit-idle", "200ms", NULL });
        assert_int_equal(harness_wait_exit(&p, 800), -ETIMEDOUT);
        fd = connect_greeted(&p);
        close(fd);
        assert_int_equal(harness_stop(&p, SIGTERM), 0);
        harness_cleanup(&p);
}

static void test_status_is_sent_to_systemd(void **state) {
        ServerProcess *p = *state;
        int fd = connect_greeted(p);

        assert_true(harness_wait_notify(p, "STATUS=1 client,", T));
        close(fd);
}

/* A client that never reads must not slow the thermometer or other clients, nor grow the server. */
static void test_slow_client_skips_readings_others_get_every_one(void **state) {
        ServerProcess p;
        uint64_t prev = 0, seq, gaps = 0;
        char line[200], path[64], status[4096];
        long rss_kb = -1;
        int slow, fast;
        FILE *f;

        harness_start_activated_with(&p, (const char *const[]) { "--interval", "1ms", "--buffer-size", "1K", NULL },
                        &(HarnessOptions) { .sndbuf = 4096 });
        slow = harness_connect(p.port, 1024);
        fast = harness_connect(p.port, 0);
        assert_true(harness_read_line(slow, line, sizeof(line), T) > 0);
        assert_true(harness_read_line(fast, line, sizeof(line), T) > 0);
        harness_send_str(slow, "STREAM\n");
        harness_send_str(fast, "STREAM\n");
        expect_line(fast, "OK STREAM");

        /* 1500 readings fill the slow client's kernel buffers (some 10K) and its 1K on the server. */
        for (int i = 0; i < 1500; i++) {
                assert_true(harness_read_line(fast, line, sizeof(line), T) > 0);
                seq = harness_assert_temp(line);
                if (prev > 0)
                        assert_int_equal(seq, prev + 1);
                prev = seq;
        }

        snprintf(path, sizeof(path), "/proc/%i/status", (int) p.pid);
        f = fopen(path, "re");
        assert_non_null(f);
        status[fread(status, 1, sizeof(status) - 1, f)] = '\0';
        fclose(f);
        assert_int_equal(sscanf(strstr(status, "VmRSS:"), "VmRSS: %ld", &rss_kb), 1);
        assert_true(rss_kb > 0 && rss_kb < 32 * 1024);

        /* Now read the slow one: somewhere in what it got, readings were skipped. */
        expect_line(slow, "OK STREAM");
        prev = 0;
        for (int i = 0; i < 5000 && gaps == 0; i++) {
                assert_true(harness_read_line(slow, line, sizeof(line), T) > 0);
                seq = harness_assert_temp(line);
                if (prev > 0 && seq != prev + 1) {
                        assert_true(seq > prev + 1);
                        gaps++;
                }
                prev = seq;
        }
        assert_true(gaps > 0);
        close(slow);
        close(fast);
        harness_cleanup(&p);
}

static void test_activation_with_several_sockets(void **state) {
        const char *activate = "/usr/bin/systemd-socket-activate";
        char tcp[64], path[128], line[600];
        ServerProcess probe;
        int port, a, b;
        pid_t pid;

        if (access(activate, X_OK) < 0)
                skip();

        /* A free port: a server that had it is gone. */
        harness_start_listening(&probe, (const char *const[]) { NULL });
        port = probe.port;
        harness_cleanup(&probe);
        snprintf(tcp, sizeof(tcp), "127.0.0.1:%i", port);
        snprintf(path, sizeof(path), "/tmp/thermo-activate-%i.sock", (int) getpid());
        (void) unlink(path);

        /* systemd's own tool passes both sockets, named, and execs the server on the first connection. */
        pid = fork();
        assert_true(pid >= 0);
        if (pid > 0)
                harness_track(pid);
        if (pid == 0) {
                execl(activate, activate, "-l", tcp, "-l", path, "--fdname=thermo-tcp:thermo-unix", harness_server(),
                                DEFAULT_ARGS, NULL);
                _exit(127);
        }
        b = harness_connect_unix(path);
        a = harness_connect(port, 0);
        assert_true(harness_read_line(b, line, sizeof(line), T) > 0);
        assert_int_equal(strncmp(line, "HELLO thermo/1 ", 15), 0);
        assert_true(harness_read_line(a, line, sizeof(line), T) > 0);
        assert_int_equal(strncmp(line, "HELLO thermo/1 ", 15), 0);
        harness_send_str(b, "INFO\n");
        assert_true(harness_read_line(b, line, sizeof(line), T) > 0);
        assert_non_null(strstr(line, " clients=2 "));

        kill(pid, SIGTERM);
        expect_line(a, "BYE");
        expect_line(b, "BYE");
        assert_int_equal(harness_wait_pid(pid, T), 0);
        close(a);
        close(b);
        (void) unlink(path);
}

static void test_bad_option_is_exit_2_with_one_line(void **state) {
        char out[256], err[512];
        const char *args[] = { harness_server(), "--interval", "0", NULL };

        assert_int_equal(harness_run(args, out, sizeof(out), err, sizeof(err)), 2);
        assert_string_equal(out, "");
        assert_non_null(strstr(err, "Invalid value '0' for --interval"));
        assert_int_equal(strchr(err, '\n') - err + 1, (long) strlen(err));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_greeting_comes_first, setup, teardown),
                cmocka_unit_test_setup_teardown(test_get_returns_one_reading, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ping_info_quit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_commands_are_case_insensitive_and_crlf_is_fine, setup, teardown),
                cmocka_unit_test_setup_teardown(test_empty_lines_are_ignored, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stream_count_ends_with_end, setup, teardown),
                cmocka_unit_test_setup_teardown(test_second_stream_replaces_the_first, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stop_ends_the_stream, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_requests_get_err_400_and_the_connection_stays, setup, teardown),
                cmocka_unit_test_setup_teardown(test_512_byte_line_is_served, setup, teardown),
                cmocka_unit_test_setup_teardown(test_513_byte_line_gets_413_and_close, setup, teardown),
                cmocka_unit_test_setup_teardown(test_endless_line_gets_413_without_newline, setup, teardown),
                cmocka_unit_test_setup_teardown(test_one_byte_writes_make_one_request, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pipelined_requests_are_answered_in_order, setup, teardown),
                cmocka_unit_test_setup_teardown(test_clients_see_the_same_bytes_for_the_same_reading, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reset_mid_stream_leaves_the_server_serving, setup, teardown),
                cmocka_unit_test_setup_teardown(test_half_closed_peer_gets_its_answers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_last_line_without_newline_is_served_at_eof, setup, teardown),
                cmocka_unit_test_teardown(test_max_clients_gets_503, harness_kill_all),
                cmocka_unit_test_setup_teardown(test_sigterm_says_bye_to_every_client, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sigint_stops_too, setup, teardown),
                cmocka_unit_test_teardown(test_exit_on_idle_loses_no_connection, harness_kill_all),
                cmocka_unit_test_teardown(test_exit_idle_zero_never_exits, harness_kill_all),
                cmocka_unit_test_teardown(test_started_by_hand_never_exits_on_idle, harness_kill_all),
                cmocka_unit_test_setup_teardown(test_status_is_sent_to_systemd, setup, teardown),
                cmocka_unit_test_teardown(test_slow_client_skips_readings_others_get_every_one, harness_kill_all),
                cmocka_unit_test_teardown(test_activation_with_several_sockets, harness_kill_all),
                cmocka_unit_test_teardown(test_bad_option_is_exit_2_with_one_line, harness_kill_all),
        };
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, harness_kill_all);
}
