/* SPDX-License-Identifier: MIT */
/* The connection core every line front end shares, on a socketpair with the test as the peer: the line
 * pump, what it keeps between reads, the flow-control rule, graceful close, and freeing by the manager's
 * reaper, never inside a connection's own callback, even when memory runs out in one. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "connection.h"
#include "log.h"

/* Failure injection, through the linker's --wrap (see meson.build): only calls from our own code. */
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);
int __real_sd_event_source_set_enabled(sd_event_source *s, int enabled);
int __wrap_sd_event_source_set_enabled(sd_event_source *s, int enabled);
int __real_malloc_trim(size_t pad);
int __wrap_malloc_trim(size_t pad);
static bool fail_realloc, fail_oneshot;
static unsigned trims;

/* Counted: when the manager gives memory back. */
int __wrap_malloc_trim(size_t pad) {
        trims++;
        return __real_malloc_trim(pad);
}

void *__wrap_realloc(void *p, size_t n) {
        return fail_realloc ? NULL : __real_realloc(p, n);
}

int __wrap_sd_event_source_set_enabled(sd_event_source *s, int enabled) {
        /* SD_EVENT_ONESHOT is what the reaper is enabled with. */
        return fail_oneshot && enabled == SD_EVENT_ONESHOT ? -ENOMEM : __real_sd_event_source_set_enabled(s, enabled);
}

typedef struct TestClient {
        Connection connection;
        char lines[8][LINE_MAX_BYTES + 1];
        unsigned n_lines;
        unsigned eof, too_long;
        size_t reply_size;      /* bytes written per line */
        bool abort_on_line, close_on_line;
        bool in_callback;
        bool *freed;
        int expired;            /* 1 + why (ConnectionExpiry): 1 idle, 2 a partial line, 3 replies unread */
} TestClient;

#define IDLE_TIMEOUT_USEC (10 * UINT64_C(1000000))
static ServerOptions options = { .buffer_size = 4096, .max_clients = 100, .max_clients_per_address = 100,
                                 .idle_timeout = IDLE_TIMEOUT_USEC };
static Manager *manager;

static void client_readable(Connection *c, Pump *p) {
        TestClient *t = container_of(c, TestClient, connection);
        char reply[8192];
        const char *line;
        size_t n;
        int r;

        t->in_callback = true;
        memset(reply, 'r', sizeof(reply));
        while ((r = connection_read_line(c, p, &line, &n)) > 0) {
                if (t->n_lines < 8)
                        memcpy(t->lines[t->n_lines], line, n), t->lines[t->n_lines][n] = '\0';
                t->n_lines++;
                if (t->reply_size > 0)
                        (void) connection_write(c, reply, t->reply_size, t->reply_size);
                if (t->abort_on_line)
                        connection_abort(c, -ECONNABORTED);
                if (t->close_on_line) {
                        (void) connection_write(c, "BYE\n", 4, 64);
                        connection_close(c, "QUIT");
                }
                /* Whatever ended it, the object is still ours until we return. */
                assert_false(*t->freed);
        }
        if (r == -EPIPE)
                t->eof++;
        if (r == -EMSGSIZE)
                t->too_long++;
        t->in_callback = false;
}

static void client_shutdown(Peer *p) {
        connection_close(container_of(p, Connection, peer), "server stopping");
}

static void client_free(Peer *p) {
        TestClient *t = container_of(p, TestClient, connection.peer);

        /* The reaper runs from an event of its own, never inside the client's callbacks. */
        assert_false(t->in_callback);
        *t->freed = true;
        connection_done(&t->connection);
        free(t);
}

static void client_expired(Connection *c, ConnectionExpiry why) {
        TestClient *t = container_of(c, TestClient, connection);

        t->expired = 1 + (int) why;
        connection_close(c, "expired");
}

static const ConnectionOps client_ops = {
        .peer = { .shutdown = client_shutdown, .free = client_free },
        .readable = client_readable,
        .expired = client_expired,
};

static int setup(void **state) {
        log_set_max_level(LOG_WARNING);
        assert_int_equal(manager_new(&options, &manager), 0);
        return 0;
}

static int teardown(void **state) {
        manager = manager_free(manager);
        fail_realloc = fail_oneshot = false;
        options.idle_timeout = IDLE_TIMEOUT_USEC;
        return 0;
}

/* Runs the loop until cond holds; bounded, so that a broken connection fails, not hangs. */
#define RUN_UNTIL(cond)                                                                         \
        do {                                                                                    \
                for (int _i = 0; _i < 500 && !(cond); _i++)                                     \
                        assert_true(sd_event_run(manager->event, 10 * 1000) >= 0);  \
                assert_true(cond);                                                              \
        } while (0)

static void run_a_little(void) {
        for (int i = 0; i < 5; i++)
                assert_true(sd_event_run(manager->event, 10 * 1000) >= 0);
}

static TestClient *new_client(int *ret_peer, bool *freed) {
        PeerAddress address = { .family = AF_UNIX };
        TestClient *t = calloc(1, sizeof(*t));
        size_t clients;
        int sv[2];

        assert_non_null(t);
        *freed = false;
        t->freed = freed;
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
        clients = manager->n_peers;
        assert_int_equal(connection_start(&t->connection, manager, sv[0], &address, &client_ops), 0);
        assert_int_equal(manager->n_peers, clients + 1);
        *ret_peer = sv[1];
        return t;
}

static void test_lines_come_whole_and_only_a_partial_line_is_kept(void **state) {
        bool freed;
        int peer;
        TestClient *t = new_client(&peer, &freed);

        assert_int_equal(write(peer, "PING\nGET\r\nST", 12), 12);
        RUN_UNTIL(t->n_lines == 2);
        assert_string_equal(t->lines[0], "PING");
        assert_string_equal(t->lines[1], "GET");
        /* Between reads, the partial line and nothing else. */
        assert_int_equal(t->connection.n_input, 2);
        assert_memory_equal(t->connection.input, "ST", 2);

        assert_int_equal(write(peer, "REAM\n", 5), 5);
        RUN_UNTIL(t->n_lines == 3);
        assert_string_equal(t->lines[2], "STREAM");
        /* A client with no partial line holds no input buffer, and no output one once all is sent. */
        assert_null(t->connection.input);
        assert_null(t->connection.output);

        close(peer);
        RUN_UNTIL(freed);
        assert_int_equal(manager->n_peers, 0);
}

/* A client that asks nothing, or holds half a line, loses its slot; a streaming one does not, and a whole
 * request starts the idle time again. */
static void test_idle_and_partial_line_deadlines(void **state) {
        bool freed_idle, freed_partial, freed_streaming;
        int idle_peer, partial_peer, streaming_peer;
        TestClient *idle, *partial, *streaming;

        options.idle_timeout = 300 * 1000;
        idle = new_client(&idle_peer, &freed_idle);
        partial = new_client(&partial_peer, &freed_partial);
        streaming = new_client(&streaming_peer, &freed_streaming);
        connection_set_streaming(&streaming->connection, true);

        assert_int_equal(write(partial_peer, "PI", 2), 2);
        assert_int_equal(write(idle_peer, "PING\n", 5), 5);
        /* A streaming client may hold half a line as long as it streams. */
        assert_int_equal(write(streaming_peer, "ST", 2), 2);
        RUN_UNTIL(idle->n_lines == 1);
        RUN_UNTIL(partial->expired && idle->expired);
        assert_int_equal(partial->expired, 2);
        assert_int_equal(idle->expired, 1);
        assert_int_equal(streaming->expired, 0);
        /* Closed gracefully, and counted out. */
        close(idle_peer);
        close(partial_peer);
        RUN_UNTIL(freed_idle && freed_partial);
        assert_int_equal(manager->n_peers, 1);

        /* No longer streaming: its half line's deadline runs from now. */
        connection_set_streaming(&streaming->connection, false);
        RUN_UNTIL(streaming->expired);
        assert_int_equal(streaming->expired, 2);
        close(streaming_peer);
        RUN_UNTIL(freed_streaming);
}

/* A client that keeps sending ends many a read in the middle of a line: each such line has its own
 * deadline, so that one that keeps its lines coming is never "too slow", and one that stops is. */
static void test_a_new_partial_line_has_a_deadline_of_its_own(void **state) {
        bool freed;
        TestClient *t;
        int peer;

        options.idle_timeout = 300 * 1000;
        t = new_client(&peer, &freed);
        assert_int_equal(write(peer, "PI", 2), 2);
        for (int i = 0; i < 8; i++) {
                /* 160 ms a line: well within its 300 ms, though the last began 160 ms ago. */
                for (int k = 0; k < 16; k++)
                        assert_true(sd_event_run(manager->event, 10 * 1000) >= 0);
                assert_int_equal(write(peer, "NG\nPI", 5), 5);
                RUN_UNTIL(t->n_lines == (unsigned) i + 1);
                assert_int_equal(t->expired, 0);
        }
        RUN_UNTIL(t->expired);
        assert_int_equal(t->expired, 1 + CONNECTION_PARTIAL);
        close(peer);
        RUN_UNTIL(freed);
}

/* Memory goes back to the system when a crowd is down to a quarter of its peak, though a few stay; then
 * again from that count, once it is a crowd again. Clients that come one at a time are no crowd: no
 * trim at each of their ends. */
static void test_memory_goes_back_when_a_crowd_is_down_to_a_quarter(void **state) {
        bool freed[32];
        int peer[32];

        for (int i = 0; i < 32; i++)
                (void) new_client(&peer[i], &freed[i]);
        trims = 0;
        for (int i = 0; i < 23; i++) {
                close(peer[i]);
                RUN_UNTIL(freed[i]);
        }
        assert_int_equal(manager->n_peers, 9);
        assert_int_equal(trims, 0);
        close(peer[23]);
        RUN_UNTIL(freed[23]);
        assert_int_equal(trims, 1);
        for (int i = 24; i < 32; i++) {
                close(peer[i]);
                RUN_UNTIL(freed[i]);
        }
        assert_int_equal(trims, 1);
        assert_int_equal(manager->n_peers, 0);

        for (int i = 0; i < 20; i++) {
                (void) new_client(&peer[0], &freed[0]);
                close(peer[0]);
                RUN_UNTIL(freed[0]);
        }
        assert_int_equal(trims, 1);
}

static void test_512_byte_line_is_served_512_without_newline_is_too_long(void **state) {
        char line[LINE_MAX_BYTES + 1];
        bool freed;
        int peer;
        TestClient *t = new_client(&peer, &freed);

        memset(line, 'x', sizeof(line));
        line[LINE_MAX_BYTES - 1] = '\n';
        assert_int_equal(write(peer, line, LINE_MAX_BYTES), LINE_MAX_BYTES);
        RUN_UNTIL(t->n_lines == 1);
        assert_int_equal(strlen(t->lines[0]), LINE_MAX_BYTES - 1);
        assert_int_equal(t->too_long, 0);

        /* In pieces, so that the buffer fills across reads. */
        line[LINE_MAX_BYTES - 1] = 'x';
        assert_int_equal(write(peer, line, 300), 300);
        run_a_little();
        assert_int_equal(t->connection.n_input, 300);
        assert_int_equal(write(peer, line, 300), 300);
        RUN_UNTIL(t->too_long == 1);
        assert_int_equal(t->n_lines, 1);

        connection_abort(&t->connection, -ECONNABORTED);
        RUN_UNTIL(freed);
        close(peer);
}

static void test_last_line_without_newline_then_eof(void **state) {
        bool freed;
        int peer;
        TestClient *t = new_client(&peer, &freed);

        assert_int_equal(write(peer, "PING\r", 5), 5);
        assert_int_equal(shutdown(peer, SHUT_WR), 0);
        RUN_UNTIL(t->eof == 1);
        assert_int_equal(t->n_lines, 1);
        assert_string_equal(t->lines[0], "PING");
        /* The end of input does not end the connection: writing goes on. */
        assert_false(freed);
        assert_int_equal(connection_write(&t->connection, "PONG\n", 5, 64), 0);
        connection_close(&t->connection, "done");
        RUN_UNTIL(freed);
        close(peer);
}

/* 200 requests at once, each answered with 1000 bytes, and small kernel buffers both ways: replies pile up
 * in the connection's queue unless the peer reads them. */
static void pipeline(TestClient *t, int peer) {
        int small = 4096;
        char request[200 * 5 + 1] = "";

        t->reply_size = 1000;
        assert_int_equal(setsockopt(peer, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
        assert_int_equal(setsockopt(t->connection.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
        for (int i = 0; i < 200; i++)
                strcat(request, "PING\n");
        assert_int_equal(write(peer, request, strlen(request)), (ssize_t) strlen(request));
}

static void test_requests_wait_while_replies_do(void **state) {
        char sink[65536];
        bool freed;
        int peer;
        TestClient *t = new_client(&peer, &freed);
        unsigned handled;

        pipeline(t, peer);

        /* The peer reads nothing: the kernel's buffers fill, then ours past --buffer-size (4096), and then
         * no more requests are taken; what was read of them is kept, a line's worth at most. */
        run_a_little();
        handled = t->n_lines;
        assert_true(handled > 0 && handled < 200);
        assert_true(t->connection.paused);
        assert_true(send_queue_size(t->connection.output) > options.buffer_size);
        assert_true(send_queue_size(t->connection.output) <= options.buffer_size + 1000);
        assert_true(t->connection.n_input <= LINE_MAX_BYTES);
        run_a_little();
        assert_int_equal(t->n_lines, handled);

        /* The peer reads: replies drain, and requests are taken again, every one of them. */
        for (int i = 0; i < 2000 && t->n_lines < 200; i++) {
                if (read(peer, sink, sizeof(sink)) < 0)
                        assert_int_equal(errno, EAGAIN);
                assert_true(sd_event_run(manager->event, 1000) >= 0);
        }
        assert_int_equal(t->n_lines, 200);
        while (read(peer, sink, sizeof(sink)) > 0 || t->connection.output)
                assert_true(sd_event_run(manager->event, 1000) >= 0);
        /* Drained: the queue is gone. */
        assert_null(t->connection.output);

        close(peer);
        RUN_UNTIL(freed);
}

/* A client that sends requests and reads no reply has lines waiting, not half a line: it is closed after
 * the idle time, as one that does not read. */
static void test_a_client_that_reads_no_reply_expires_as_such(void **state) {
        bool freed;
        TestClient *t;
        int peer;

        options.idle_timeout = 300 * 1000;
        t = new_client(&peer, &freed);
        pipeline(t, peer);
        RUN_UNTIL(t->connection.paused);
        assert_false(t->connection.partial);
        RUN_UNTIL(t->expired);
        assert_int_equal(t->expired, 1 + CONNECTION_UNREAD);
        close(peer);
        RUN_UNTIL(freed);
}

static void test_close_sends_the_last_line_and_waits_for_the_peer(void **state) {
        char got[64] = {};
        bool freed;
        int peer;
        TestClient *t = new_client(&peer, &freed);

        t->close_on_line = true;
        assert_int_equal(write(peer, "QUIT\nPING\n", 10), 10);
        RUN_UNTIL(t->n_lines >= 1);
        run_a_little();
        /* Nothing after the close is taken; the last line arrives, then our end of file. */
        assert_int_equal(t->n_lines, 1);
        assert_int_equal(read(peer, got, sizeof(got)), 4);
        assert_string_equal(got, "BYE\n");
        assert_int_equal(read(peer, got, sizeof(got)), 0);
        /* We wait for the peer to close too, and count it until then. */
        assert_false(freed);
        assert_int_equal(manager->n_peers, 1);
        close(peer);
        RUN_UNTIL(freed);
        assert_int_equal(manager->n_peers, 0);
}

static void test_abort_inside_the_callback_frees_later(void **state) {
        bool freed;
        int peer;
        TestClient *t = new_client(&peer, &freed);

        t->abort_on_line = true;
        assert_int_equal(write(peer, "GET\nGET\n", 8), 8);
        RUN_UNTIL(freed);
        assert_int_equal(manager->n_peers, 0);
        close(peer);
}

static void test_out_of_memory_inside_the_callback_frees_later(void **state) {
        int small = 4096, peer;
        bool freed;
        TestClient *t = new_client(&peer, &freed);

        /* The reply does not fit in the kernel's buffer, and the queue for the rest cannot be had. */
        assert_int_equal(setsockopt(t->connection.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
        t->reply_size = 8000;
        fail_realloc = true;
        assert_int_equal(write(peer, "GET\nGET\n", 8), 8);
        RUN_UNTIL(freed);
        fail_realloc = false;
        close(peer);
}

static void test_reaper_that_cannot_be_scheduled_frees_at_the_end(void **state) {
        bool freed;
        int peer;

        (void) new_client(&peer, &freed);
        fail_oneshot = true;
        close(peer);
        run_a_little();
        /* Gone from the count, not freed: it waits on the manager's list... */
        assert_int_equal(manager->n_peers, 0);
        assert_false(freed);
        fail_oneshot = false;
        /* ...for the end (or the next client to go). */
        manager = manager_free(manager);
        assert_true(freed);
        assert_int_equal(manager_new(&options, &manager), 0);
}

static void test_writing_to_a_vanished_peer_ends_the_connection(void **state) {
        bool freed;
        int peer;
        TestClient *t = new_client(&peer, &freed);

        /* A peer that vanished: writing to it ends the connection with an error. */
        close(peer);
        assert_int_equal(connection_write(&t->connection, "TEMP\n", 5, 0), -EPIPE);
        assert_int_equal(connection_write(&t->connection, "TEMP\n", 5, 0), -EPIPE);
        RUN_UNTIL(freed);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_lines_come_whole_and_only_a_partial_line_is_kept, setup, teardown),
                cmocka_unit_test_setup_teardown(test_idle_and_partial_line_deadlines, setup, teardown),
                cmocka_unit_test_setup_teardown(test_512_byte_line_is_served_512_without_newline_is_too_long, setup,
                                teardown),
                cmocka_unit_test_setup_teardown(test_last_line_without_newline_then_eof, setup, teardown),
                cmocka_unit_test_setup_teardown(test_requests_wait_while_replies_do, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_client_that_reads_no_reply_expires_as_such, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_new_partial_line_has_a_deadline_of_its_own, setup, teardown),
                cmocka_unit_test_setup_teardown(test_memory_goes_back_when_a_crowd_is_down_to_a_quarter, setup, teardown),
                cmocka_unit_test_setup_teardown(test_close_sends_the_last_line_and_waits_for_the_peer, setup, teardown),
                cmocka_unit_test_setup_teardown(test_abort_inside_the_callback_frees_later, setup, teardown),
                cmocka_unit_test_setup_teardown(test_out_of_memory_inside_the_callback_frees_later, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reaper_that_cannot_be_scheduled_frees_at_the_end, setup, teardown),
                cmocka_unit_test_setup_teardown(test_writing_to_a_vanished_peer_ends_the_connection, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
