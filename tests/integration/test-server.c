/* SPDX-License-Identifier: MIT */
/* The server's behaviour on the wire, checked byte for byte against protocol.md. The server under test is
 * $THERMO_SERVER; it is started as systemd starts it (socket activation) unless a test says otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
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
        char line[600], expected[300];
        int fd = harness_connect(p->port, 0);

        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        snprintf(expected, sizeof(expected), "HELLO thermo/1 %s %s interval_ms=50 sensor=simulated sensors=1 host=%s",
                        harness_server_name(), PROJECT_VERSION, harness_host());
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

/* A connection that is refused: ERR 503 in place of the greeting, then the end. */
static void expect_refused(ServerProcess *p) {
        int fd = harness_connect(p->port, 0);

        expect_line(fd, "ERR 503 too many clients");
        assert_true(harness_wait_eof(fd, T));
        close(fd);
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
        assert_non_null(strstr(line, " sensors=1"));
        snprintf(prefix, sizeof(prefix), " host=%s", harness_host());
        assert_non_null(strstr(line, prefix));

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
        harness_send_str(fd, "STREAM 5x\n");
        expect_line(fd, "ERR 400 invalid count");
        /* A word that is not a count names a sensor; this server has no such one. */
        harness_send_str(fd, "STREAM many\n");
        expect_line(fd, "ERR 404 no such sensor");
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
        int a, b, c;

        harness_start_activated(&p, (const char *const[]) { DEFAULT_ARGS, "--max-clients", "2", NULL });
        a = connect_greeted(&p);
        b = connect_greeted(&p);
        expect_refused(&p);

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

/* A TCP connection to 127.0.0.1:port from another loopback address: another host, to the server. */
static int connect_from(const char *source, int port) {
        struct sockaddr_in from = { .sin_family = AF_INET }, to = { .sin_family = AF_INET, .sin_port = htons(port) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(inet_pton(AF_INET, source, &from.sin_addr), 1);
        assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &to.sin_addr), 1);
        assert_int_equal(bind(fd, (struct sockaddr *) &from, sizeof(from)), 0);
        assert_int_equal(connect(fd, (struct sockaddr *) &to, sizeof(to)), 0);
        return fd;
}

/* One address that holds its share of slots is refused more; another still gets in. */
static void test_max_clients_per_address_leaves_room_for_others(void **state) {
        ServerProcess p;
        char line[200];
        int a, b, d;

        harness_start_activated(&p, (const char *const[]) { DEFAULT_ARGS, "--max-clients", "8",
                                                "--max-clients-per-address", "2", NULL });
        a = connect_greeted(&p);
        b = connect_greeted(&p);
        expect_refused(&p);

        d = connect_from("127.0.0.2", p.port);
        assert_true(harness_read_line(d, line, sizeof(line), T) > 0);
        assert_true(strncmp(line, "HELLO thermo/1 ", 15) == 0);
        harness_send_str(d, "GET\n");
        (void) expect_temp(d);
        close(d);
        close(a);
        close(b);
        harness_cleanup(&p);
}

/* A client that asks nothing is closed after --idle-timeout, one that holds half a line too, and one that
 * streams never. */
static void test_idle_and_slow_lines_are_closed_streams_are_not(void **state) {
        ServerProcess p;
        int idle, partial, streaming;

        harness_start_activated(&p, (const char *const[]) { DEFAULT_ARGS, "--idle-timeout", "400ms", NULL });
        idle = connect_greeted(&p);
        partial = connect_greeted(&p);
        streaming = connect_greeted(&p);
        harness_send_str(partial, "GE");
        harness_send_str(streaming, "STREAM\n");
        expect_line(streaming, "OK STREAM");

        expect_line(partial, "ERR 408 request line too slow");
        assert_true(harness_wait_eof(partial, T));
        expect_line(idle, "ERR 408 idle too long");
        assert_true(harness_wait_eof(idle, T));
        /* Readings every 50ms, well past the idle time. */
        for (int i = 0; i < 20; i++)
                (void) expect_temp(streaming);

        /* A request now and then keeps a client. */
        idle = connect_greeted(&p);
        for (int i = 0; i < 4; i++) {
                usleep(200 * 1000);
                harness_send_str(idle, "PING\n");
                expect_line(idle, "PONG");
        }
        close(idle);
        close(partial);
        close(streaming);
        harness_cleanup(&p);
}

/* An empty line is no request: one a tenth of a second does not keep an idle client's slot. */
static void test_empty_lines_do_not_keep_an_idle_client(void **state) {
        ServerProcess p;
        char line[256];
        int fd, r = -1;

        harness_start_activated(&p, (const char *const[]) { DEFAULT_ARGS, "--idle-timeout", "400ms", NULL });
        fd = connect_greeted(&p);
        /* An empty line every 100ms, until the server says something: then the whole line. */
        for (int i = 0; i < 30 && r <= 0; i++) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };

                harness_send_str(fd, i % 2 ? "\n" : " \t\r\n");
                r = poll(&pfd, 1, 100);
        }
        assert_true(r > 0);
        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        assert_string_equal(line, "ERR 408 idle too long");
        assert_true(harness_wait_eof(fd, T));
        close(fd);
        harness_cleanup(&p);
}

/* A client whose GET waits for a slow sensor, and that hangs up meanwhile, is gone at once: its hang-up
 * is not left ready for the loop to spin on until the sensor has read. */
static void test_a_hang_up_while_a_get_waits_is_taken_at_once(void **state) {
        char path[128], address[160], line[600];
        ServerProcess p;
        int fd, control;

        snprintf(path, sizeof(path), "/tmp/thermo-hangup-%i.sock", (int) getpid());
        snprintf(address, sizeof(address), "--listen=%s", path);
        harness_start_listening(&p, (const char *const[]) { "--sensor", "simulated:delay=5s", address, NULL });
        fd = harness_connect_unix(path);
        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        harness_send_str(fd, "GET\n");
        usleep(100 * 1000);
        close(fd);

        /* Well before the sensor has read, or the wait for it is over (2s), the server counts one client:
         * the one asking. */
        control = harness_connect_unix(path);
        assert_true(harness_read_line(control, line, sizeof(line), T) > 0);
        for (int i = 0; i < 8; i++) {
                harness_send_str(control, "INFO\n");
                assert_true(harness_read_line(control, line, sizeof(line), T) > 0);
                if (strstr(line, " clients=1 "))
                        break;
                usleep(100 * 1000);
        }
        assert_non_null(strstr(line, " clients=1 "));
        close(control);
        harness_cleanup(&p);
        (void) unlink(path);
}

/* With few fds (a hard limit of 100, as prlimit sets it) and a flood of connections far past them, the
 * sensor still opens its file at every tick: the streaming client misses no reading and sees no 503. */
static void test_a_connection_flood_never_costs_a_reading(void **state) {
        char dir[64] = "/tmp/thermo-fds-XXXXXX", path[128], sensor[160], wrapper[600];
        const char *outer = getenv("THERMO_SERVER_WRAPPER");
        int stream, flood[300];
        uint64_t seq, next;
        ServerProcess p;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/temp", dir);
        harness_write_file(path, "21000\n");
        snprintf(sensor, sizeof(sensor), "--sensor=room=file:%s", path);
        snprintf(wrapper, sizeof(wrapper), "prlimit --nofile=100:100 %s", outer ?: "");
        setenv("THERMO_SERVER_WRAPPER", wrapper, 1);
        harness_start_activated(&p, (const char *const[]) { "--interval", "100ms", sensor, NULL });
        if (outer)
                setenv("THERMO_SERVER_WRAPPER", outer, 1);
        else
                unsetenv("THERMO_SERVER_WRAPPER");

        stream = harness_connect(p.port, 0);
        assert_true(harness_read_line(stream, path, sizeof(path), T) > 0);
        assert_true(strncmp(path, "HELLO thermo/1 ", 15) == 0);
        harness_send_str(stream, "STREAM\n");
        expect_line(stream, "OK STREAM");
        seq = expect_temp(stream);

        /* Three times the fds there are, held open. */
        for (size_t i = 0; i < sizeof(flood) / sizeof(flood[0]); i++)
                flood[i] = harness_connect(p.port, 0);
        for (int i = 0; i < 20; i++) {
                next = expect_temp(stream);
                assert_int_equal(next, seq + 1);
                seq = next;
        }
        for (size_t i = 0; i < sizeof(flood) / sizeof(flood[0]); i++)
                close(flood[i]);
        close(stream);
        assert_int_equal(harness_stop(&p, SIGTERM), 0);
        harness_cleanup(&p);
        harness_remove_tree(dir);
}

/* A client that pipelines requests and never reads its replies: what the server's side of its socket holds
 * in the kernel stays small (autotuning would let it pin 4 MiB), and our own queue is bounded anyway. */
static void test_a_client_that_never_reads_pins_little_kernel_memory(void **state) {
        char command[256], out[4096], err[512];
        static char requests[64 * 1024];
        ServerProcess p;
        const char *w;
        long queued = -1;
        int fd;

        harness_start_activated(&p, (const char *const[]) { DEFAULT_ARGS, NULL });
        fd = harness_connect(p.port, 0);
        for (size_t i = 0; i + 4 <= sizeof(requests); i += 4)
                memcpy(requests + i, "GET\n", 4);
        /* As much as the server takes, for a second at most. */
        for (int i = 0; i < 100; i++) {
                if (send(fd, requests, sizeof(requests), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                        usleep(10 * 1000);
        }
        snprintf(command, sizeof(command), "ss -tmnH state established '( sport = :%i )'", p.port);
        assert_int_equal(harness_run((const char *const[]) { "/bin/sh", "-c", command, NULL }, out, sizeof(out), err,
                                 sizeof(err)),
                        0);
        /* skmem:(r…,rb…,t…,tb…,f…,w<queued to send>,…) */
        w = strstr(out, ",w");
        assert_non_null(w);
        assert_int_equal(sscanf(w, ",w%ld", &queued), 1);
        assert_true(queued > 0);
        assert_true(queued <= 256 * 1024);
        close(fd);
        harness_cleanup(&p);
}

/* A second server on the Unix socket of a live one is refused, and leaves the first one's socket alone. */
static void test_a_live_unix_socket_is_not_taken_over(void **state) {
        char path[128], address[160], out[512], err[512];
        ServerProcess first;
        int fd;

        snprintf(path, sizeof(path), "/tmp/thermo-live-%i.sock", (int) getpid());
        snprintf(address, sizeof(address), "--listen=%s", path);
        harness_start_listening(&first, (const char *const[]) { DEFAULT_ARGS, address, NULL });
        assert_int_equal(harness_run((const char *const[]) { harness_server(), address, NULL }, out, sizeof(out), err,
                                 sizeof(err)),
                        1);
        assert_non_null(strstr(err, "Address already in use"));
        fd = harness_connect_unix(path);
        assert_true(harness_read_line(fd, out, sizeof(out), T) > 0);
        assert_true(strncmp(out, "HELLO thermo/1 ", 15) == 0);
        close(fd);
        harness_cleanup(&first);
}

/* SIGPIPE, sent by hand or otherwise, kills no server: it goes on serving, and stops with BYE on SIGTERM. */
static void test_sigpipe_is_ignored(void **state) {
        ServerProcess *p = *state;
        int fd = connect_greeted(p);

        assert_int_equal(kill(p->pid, SIGPIPE), 0);
        harness_send_str(fd, "PING\n");
        expect_line(fd, "PONG");
        assert_int_equal(kill(p->pid, SIGTERM), 0);
        expect_line(fd, "BYE");
        close(fd);
        assert_int_equal(harness_wait_exit(p, T), 0);
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

/* A refused client that has not closed yet is not cut off at exit: the server reads what it still sends
 * until it closes (its linger time at most), so that closing never turns into a reset that could cost the
 * client its ERR line. */
static void test_exit_waits_for_a_refused_client_to_close(void **state) {
        ServerProcess p;
        int a, b;

        harness_start_activated(&p, (const char *const[]) { DEFAULT_ARGS, "--max-clients", "1", NULL });
        a = connect_greeted(&p);
        b = harness_connect(p.port, 0);
        expect_line(b, "ERR 503 too many clients");
        assert_true(harness_wait_eof(b, T));

        kill(p.pid, SIGTERM);
        expect_line(a, "BYE");
        assert_true(harness_wait_eof(a, T));
        close(a);
        /* Every client is gone, but b still lingers (2 s from its refusal). */
        assert_int_equal(harness_wait_exit(&p, 300), -ETIMEDOUT);
        harness_send_str(b, "PING\n");
        close(b);
        assert_int_equal(harness_wait_exit(&p, T), 0);
        harness_cleanup(&p);
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
        /* Under a wrapper (valgrind), the process's memory is the wrapper's. */
        if (!getenv("THERMO_SERVER_WRAPPER"))
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
        char out[256], err[512], hint[128];
        const char *args[] = { harness_server(), "--interval", "0", NULL };
        const char *nl;

        /* One line that says what is wrong, and one that says where to read more. */
        assert_int_equal(harness_run(args, out, sizeof(out), err, sizeof(err)), 2);
        assert_string_equal(out, "");
        assert_non_null(strstr(err, "Invalid value '0' for --interval"));
        nl = strchr(err, '\n');
        assert_non_null(nl);
        snprintf(hint, sizeof(hint), "See '%s --help'.\n", harness_server_name());
        assert_string_equal(nl + 1, hint);
}

/* The section "Several sensors": a server with three, the default first. */
static char sensor_dir[64], room_path[128];

static int setup_several(void **state) {
        ServerProcess *p = calloc(1, sizeof(*p));
        char room[160];

        snprintf(sensor_dir, sizeof(sensor_dir), "/tmp/thermo-several-XXXXXX");
        assert_non_null(mkdtemp(sensor_dir));
        snprintf(room_path, sizeof(room_path), "%s/room", sensor_dir);
        harness_write_file(room_path, "23125\n");
        snprintf(room, sizeof(room), "room=file:%s", room_path);
        harness_start_activated(p, (const char *const[]) { "--interval", "50ms", "--sensor", "simulated:seed=1", "--sensor",
                                                   "b=simulated:seed=2", "--sensor", room, NULL });
        *state = p;
        return 0;
}

static int teardown_several(void **state) {
        teardown(state);
        harness_remove_tree(sensor_dir);
        return 0;
}

static int connect_several(ServerProcess *p) {
        char line[600];
        int fd = harness_connect(p->port, 0);

        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        assert_int_equal(strncmp(line, "HELLO thermo/1 ", 15), 0);
        /* sensor= is the default sensor's source, then the count and the host. */
        assert_non_null(strstr(line, " sensor=simulated sensors=3 host="));
        return fd;
}

typedef struct Line {
        uint64_t seq;
        char name[40];          /* "" for an unnamed line */
        bool unavailable;       /* ERR 503 */
        uint64_t time_ms;
        char value[32];
} Line;

/* A reading line, named or not: "TEMP <seq> <time> <celsius> [<name>]" or "ERR 503 sensor unavailable [<name>]". */
static Line read_reading(int fd) {
        char line[600], tail;
        Line l = {};
        unsigned long long seq, when;
        int n;

        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        if (strncmp(line, "ERR 503 sensor unavailable", 26) == 0) {
                l.unavailable = true;
                if (line[26] == ' ') {
                        assert_true(strlen(line + 27) < sizeof(l.name));
                        memcpy(l.name, line + 27, strlen(line + 27) + 1);
                } else
                        assert_int_equal(line[26], '\0');
                return l;
        }
        n = sscanf(line, "TEMP %llu %llu %31s %39s%c", &seq, &when, l.value, l.name, &tail);
        if (n != 3 && n != 4)
                fail_msg("not a reading line: '%s'", line);
        /* The first four words are a thermo/1 TEMP line, checked strictly. */
        {
                char head[600];
                snprintf(head, sizeof(head), "TEMP %llu %llu %s", seq, when, l.value);
                (void) harness_assert_temp(head);
        }
        l.seq = seq;
        l.time_ms = when;
        return l;
}

static void test_several_greeting_sensors_and_info(void **state) {
        ServerProcess *p = *state;
        char line[600], expected[200];
        int fd = connect_several(p);

        harness_send_str(fd, "SENSORS\n");
        expect_line(fd, "SENSOR simulated simulated");
        expect_line(fd, "SENSOR b simulated");
        snprintf(expected, sizeof(expected), "SENSOR room file:%s", room_path);
        expect_line(fd, expected);
        expect_line(fd, "END");

        harness_send_str(fd, "info\n");
        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        assert_int_equal(strncmp(line, "INFO ", 5), 0);
        assert_non_null(strstr(line, " sensors=3"));
        close(fd);
}

static void test_several_get_by_name_and_star(void **state) {
        int fd = connect_several(*state);
        Line l, all[3];

        harness_send_str(fd, "GET b\n");
        l = read_reading(fd);
        assert_string_equal(l.name, "b");

        harness_send_str(fd, "GET room\n");
        l = read_reading(fd);
        assert_string_equal(l.name, "room");
        assert_string_equal(l.value, "23.125");

        /* GET *: one line per sensor, in SENSORS order, all of one tick, then END. */
        harness_send_str(fd, "GET *\n");
        for (int i = 0; i < 3; i++)
                all[i] = read_reading(fd);
        expect_line(fd, "END");
        assert_string_equal(all[0].name, "simulated");
        assert_string_equal(all[1].name, "b");
        assert_string_equal(all[2].name, "room");
        assert_int_equal(all[0].seq, all[1].seq);
        assert_int_equal(all[1].seq, all[2].seq);

        /* Naming no sensor: thermo/1 as ever, the default sensor's line without a name. */
        harness_send_str(fd, "GET\n");
        l = read_reading(fd);
        assert_string_equal(l.name, "");

        harness_send_str(fd, "GET nope\nGET Room\nPING\n");
        expect_line(fd, "ERR 404 no such sensor");
        expect_line(fd, "ERR 400 invalid sensor name");
        expect_line(fd, "PONG");
        close(fd);
}

static void test_several_stream_names_in_sensors_order(void **state) {
        int fd = connect_several(*state);

        /* Named in another order: the lines come in SENSORS order, a pair per tick, one seq per tick. */
        harness_send_str(fd, "STREAM 2 room b\n");
        expect_line(fd, "OK STREAM");
        for (int tick = 0; tick < 2; tick++) {
                Line first = read_reading(fd), second = read_reading(fd);

                assert_string_equal(first.name, "b");
                assert_string_equal(second.name, "room");
                assert_int_equal(first.seq, second.seq);
        }
        expect_line(fd, "END");
        harness_send_str(fd, "PING\n");
        expect_line(fd, "PONG");
        close(fd);
}

static void test_several_stream_star(void **state) {
        int fd = connect_several(*state);
        uint64_t seq = 0;

        harness_send_str(fd, "STREAM 2 *\n");
        expect_line(fd, "OK STREAM");
        for (int tick = 0; tick < 2; tick++) {
                const char *names[] = { "simulated", "b", "room" };

                for (int i = 0; i < 3; i++) {
                        Line l = read_reading(fd);

                        assert_string_equal(l.name, names[i]);
                        if (i == 0) {
                                assert_true(l.seq > seq);
                                seq = l.seq;
                        } else
                                assert_int_equal(l.seq, seq);
                }
        }
        expect_line(fd, "END");
        close(fd);
}

static void test_several_unknown_name_changes_nothing(void **state) {
        int fd = connect_several(*state);
        Line l;

        harness_send_str(fd, "STREAM b\n");
        expect_line(fd, "OK STREAM");
        l = read_reading(fd);
        assert_string_equal(l.name, "b");

        /* 404, and the stream goes on as it was: b, and b alone. */
        harness_send_str(fd, "STREAM b nope\n");
        for (int i = 0; i < 20; i++) {
                char line[600];

                assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
                if (strcmp(line, "ERR 404 no such sensor") == 0)
                        break;
                assert_non_null(strstr(line, " b"));
                assert_true(i < 19);
        }
        for (int i = 0; i < 3; i++) {
                l = read_reading(fd);
                assert_string_equal(l.name, "b");
        }
        harness_send_str(fd, "STOP\n");
        expect_reply(fd, "OK STOP");
        close(fd);
}

static void test_several_second_stream_replaces_set_and_count(void **state) {
        int fd = connect_several(*state);

        harness_send_str(fd, "STREAM b\n");
        expect_line(fd, "OK STREAM");
        (void) read_reading(fd);
        harness_send_str(fd, "STREAM 1 room\n");
        /* Up to the OK, b; after it, room alone, once, then END. */
        for (int i = 0; i < 20; i++) {
                char line[600];

                assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
                if (strcmp(line, "OK STREAM") == 0)
                        break;
                assert_true(i < 19);
        }
        assert_string_equal(read_reading(fd).name, "room");
        expect_line(fd, "END");
        harness_send_str(fd, "PING\n");
        expect_line(fd, "PONG");
        close(fd);
}

static void test_several_failing_sensor_is_503_in_its_place(void **state) {
        int fd = connect_several(*state);
        bool failed = false, back = false;

        harness_send_str(fd, "STREAM room b\n");
        expect_line(fd, "OK STREAM");
        harness_write_file(room_path, "garbage\n");
        for (int tick = 0; tick < 100 && !back; tick++) {
                Line b = read_reading(fd), room = read_reading(fd);

                /* In SENSORS order: b, then room's line, a reading or its 503, named. */
                assert_string_equal(b.name, "b");
                assert_false(b.unavailable);
                assert_string_equal(room.name, "room");
                if (room.unavailable && !failed) {
                        failed = true;
                        harness_write_file(room_path, "24000\n");
                } else if (failed && !room.unavailable) {
                        assert_int_equal(room.seq, b.seq);
                        assert_string_equal(room.value, "24.000");
                        back = true;
                }
        }
        assert_true(failed && back);
        harness_write_file(room_path, "23125\n");
        close(fd);
}

static void test_several_default_client_sees_thermo1(void **state) {
        int fd = connect_several(*state);
        uint64_t first;
        Line l;

        harness_send_str(fd, "STREAM 2\n");
        expect_line(fd, "OK STREAM");
        l = read_reading(fd);
        assert_string_equal(l.name, "");
        first = l.seq;
        l = read_reading(fd);
        assert_string_equal(l.name, "");
        assert_int_equal(l.seq, first + 1);
        expect_line(fd, "END");
        close(fd);
}

/* A client that does not read: what it misses, it misses a whole tick at a time. */
static void test_several_slow_client_skips_whole_ticks(void **state) {
        ServerProcess p;
        uint64_t seq = 0, gaps = 0;
        char line[200];
        int slow;

        harness_start_activated_with(&p, (const char *const[]) { "--interval", "1ms", "--buffer-size", "1K", "--sensor",
                                                 "simulated:seed=1", "--sensor", "b=simulated:seed=2", NULL },
                        &(HarnessOptions) { .sndbuf = 4096 });
        slow = harness_connect(p.port, 1024);
        assert_true(harness_read_line(slow, line, sizeof(line), T) > 0);
        harness_send_str(slow, "STREAM *\n");
        usleep(1500 * 1000);

        expect_line(slow, "OK STREAM");
        for (int i = 0; i < 3000 && gaps == 0; i++) {
                Line first = read_reading(slow), second = read_reading(slow);

                assert_string_equal(first.name, "simulated");
                assert_string_equal(second.name, "b");
                assert_int_equal(first.seq, second.seq);
                if (seq > 0 && first.seq != seq + 1) {
                        assert_true(first.seq > seq + 1);
                        gaps++;
                }
                seq = first.seq;
        }
        assert_true(gaps > 0);
        close(slow);
        harness_cleanup(&p);
}

/* A tick larger than a client's whole buffer (STREAM * of a thousand sensors and the default 64K; here a
 * dozen sensors and 256 bytes) still goes to it, whole, into its empty buffer: never silence. */
static void test_a_tick_larger_than_the_buffer_is_sent(void **state) {
        const char *args[2 * 12 + 8] = { "--interval", "50ms", "--buffer-size", "256" };
        char specs[12][64], line[200];
        size_t n = 4;
        ServerProcess p;
        uint64_t seq = 0;
        int fd;

        for (int i = 0; i < 12; i++) {
                snprintf(specs[i], sizeof(specs[i]), "sensor%02i=simulated:seed=%i", i, i);
                args[n++] = "--sensor";
                args[n++] = specs[i];
        }
        args[n] = NULL;
        harness_start_activated(&p, args);
        fd = harness_connect(p.port, 0);
        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
        harness_send_str(fd, "STREAM 3 *\n");
        expect_line(fd, "OK STREAM");
        for (int tick = 0; tick < 3; tick++)
                for (int i = 0; i < 12; i++) {
                        Line l = read_reading(fd);
                        char name[16];

                        snprintf(name, sizeof(name), "sensor%02i", i);
                        assert_string_equal(l.name, name);
                        if (i == 0) {
                                assert_true(l.seq > seq);
                                seq = l.seq;
                        } else
                                assert_int_equal(l.seq, seq);
                }
        expect_line(fd, "END");
        close(fd);
        harness_cleanup(&p);
}

/* A slow sensor (simulated:delay=) is read off the loop: the other sensor gets every tick, the slow one is
 * unavailable for a tick where it is not ready, and never shows an old value as a new one. */
static void test_slow_sensor_never_delays_the_others(void **state) {
        ServerProcess p;
        uint64_t seq = 0, slow_time = 0;
        int fd, slow_readings = 0, slow_unavailable = 0;
        char line[200];
        Line l;

        harness_start_activated(&p, (const char *const[]) { "--interval", "50ms", "--sensor", "fast=simulated:seed=1",
                                                 "--sensor", "slow=simulated:seed=2,delay=120ms", NULL });
        fd = harness_connect(p.port, 0);
        assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);

        /* GET of the slow one waits for its reading: a value, not a 503. */
        harness_send_str(fd, "GET slow\nPING\n");
        l = read_reading(fd);
        assert_string_equal(l.name, "slow");
        assert_false(l.unavailable);
        expect_line(fd, "PONG");

        harness_send_str(fd, "STREAM 30 *\n");
        expect_line(fd, "OK STREAM");
        for (int tick = 0; tick < 30; tick++) {
                Line fast = read_reading(fd), slow = read_reading(fd);

                assert_string_equal(fast.name, "fast");
                assert_false(fast.unavailable);
                /* Every tick, numbered on without a gap: the slow sensor holds no one up. */
                if (seq > 0)
                        assert_int_equal(fast.seq, seq + 1);
                seq = fast.seq;

                assert_string_equal(slow.name, "slow");
                if (slow.unavailable) {
                        slow_unavailable++;
                        continue;
                }
                assert_int_equal(slow.seq, fast.seq);
                /* A reading of its own, taken after the one before: never the last value again. */
                assert_true(slow.time_ms > slow_time);
                assert_true(slow.time_ms <= fast.time_ms);
                slow_time = slow.time_ms;
                slow_readings++;
        }
        /* 120ms to read, a tick each 50ms: a reading every third tick or so, the others unavailable. */
        assert_true(slow_readings >= 5);
        assert_true(slow_unavailable >= 10);
        expect_line(fd, "END");
        close(fd);
        harness_cleanup(&p);
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
                cmocka_unit_test_teardown(test_max_clients_per_address_leaves_room_for_others, harness_kill_all),
                cmocka_unit_test_teardown(test_idle_and_slow_lines_are_closed_streams_are_not, harness_kill_all),
                cmocka_unit_test_teardown(test_a_live_unix_socket_is_not_taken_over, harness_kill_all),
                cmocka_unit_test_teardown(test_a_connection_flood_never_costs_a_reading, harness_kill_all),
                cmocka_unit_test_teardown(test_a_client_that_never_reads_pins_little_kernel_memory, harness_kill_all),
                cmocka_unit_test_setup_teardown(test_sigpipe_is_ignored, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sigterm_says_bye_to_every_client, setup, teardown),
                cmocka_unit_test_teardown(test_exit_waits_for_a_refused_client_to_close, harness_kill_all),
                cmocka_unit_test_setup_teardown(test_sigint_stops_too, setup, teardown),
                cmocka_unit_test_teardown(test_exit_on_idle_loses_no_connection, harness_kill_all),
                cmocka_unit_test_teardown(test_exit_idle_zero_never_exits, harness_kill_all),
                cmocka_unit_test_teardown(test_started_by_hand_never_exits_on_idle, harness_kill_all),
                cmocka_unit_test_setup_teardown(test_status_is_sent_to_systemd, setup, teardown),
                cmocka_unit_test_teardown(test_slow_client_skips_readings_others_get_every_one, harness_kill_all),
                cmocka_unit_test_teardown(test_activation_with_several_sockets, harness_kill_all),
                cmocka_unit_test_teardown(test_bad_option_is_exit_2_with_one_line, harness_kill_all),
                cmocka_unit_test_setup_teardown(test_several_greeting_sensors_and_info, setup_several, teardown_several),
                cmocka_unit_test_setup_teardown(test_several_get_by_name_and_star, setup_several, teardown_several),
                cmocka_unit_test_setup_teardown(test_several_stream_names_in_sensors_order, setup_several, teardown_several),
                cmocka_unit_test_setup_teardown(test_several_stream_star, setup_several, teardown_several),
                cmocka_unit_test_setup_teardown(test_several_unknown_name_changes_nothing, setup_several, teardown_several),
                cmocka_unit_test_setup_teardown(test_several_second_stream_replaces_set_and_count, setup_several,
                                teardown_several),
                cmocka_unit_test_setup_teardown(test_several_failing_sensor_is_503_in_its_place, setup_several,
                                teardown_several),
                cmocka_unit_test_setup_teardown(test_several_default_client_sees_thermo1, setup_several, teardown_several),
                cmocka_unit_test_teardown(test_several_slow_client_skips_whole_ticks, harness_kill_all),
                cmocka_unit_test_teardown(test_slow_sensor_never_delays_the_others, harness_kill_all),
                cmocka_unit_test_teardown(test_a_tick_larger_than_the_buffer_is_sent, harness_kill_all),
                cmocka_unit_test_teardown(test_empty_lines_do_not_keep_an_idle_client, harness_kill_all),
                cmocka_unit_test_teardown(test_a_hang_up_while_a_get_waits_is_taken_at_once, harness_kill_all),
        };
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, harness_kill_all);
}
