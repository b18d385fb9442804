/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "http-harness.h"

#define T HARNESS_TIMEOUT_MS

static int64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* n bytes, or an error: -ETIMEDOUT past the deadline, -EPIPE at the end of the connection. */
static int read_exact(int fd, char *buf, size_t n, int64_t deadline) {
        for (size_t done = 0; done < n;) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                int left = (int) (deadline - now_ms());
                ssize_t k;

                if (left <= 0 || poll(&pfd, 1, left) <= 0)
                        return -ETIMEDOUT;
                k = recv(fd, buf + done, n - done, 0);
                if (k <= 0)
                        return -EPIPE;
                done += (size_t) k;
        }
        return 0;
}

/* The status line and the headers; the body's length (-1 where none is given). */
static long read_head(int fd, HttpResponse *r) {
        char line[1024];
        long length = -1;
        int n;

        *r = (HttpResponse) {};
        n = harness_read_line(fd, line, sizeof(line), T);
        assert_true(n > 0);
        assert_true(line[n - 1] == '\r');
        assert_int_equal(sscanf(line, "HTTP/1.1 %d ", &r->status), 1);
        for (;;) {
                n = harness_read_line(fd, line, sizeof(line), T);
                assert_true(n > 0);
                assert_true(line[n - 1] == '\r');
                line[n - 1] = '\0';
                if (n == 1)
                        break;
                if (strncasecmp(line, "Content-Length: ", 16) == 0)
                        length = strtol(line + 16, NULL, 10);
                assert_true(strlen(r->headers) + strlen(line) + 2 < sizeof(r->headers));
                strcat(r->headers, line);
                strcat(r->headers, "\n");
        }
        return length;
}

void http_read_response(int fd, HttpResponse *r, bool head) {
        long length = read_head(fd, r);

        /* No content: no length either. */
        if (length < 0 && (r->status == 204 || r->status == 304))
                length = 0;
        assert_true(length >= 0);
        if (head)
                return;
        assert_true((size_t) length < sizeof(r->body));
        assert_int_equal(read_exact(fd, r->body, (size_t) length, now_ms() + T), 0);
        r->length = (size_t) length;
        r->body[length] = '\0';
}

void http_request(int fd, const char *text, HttpResponse *r) {
        harness_send_str(fd, text);
        http_read_response(fd, r, strncmp(text, "HEAD ", 5) == 0);
}

void http_get(int port, const char *path, const char *extra_headers, HttpResponse *r) {
        char text[1024];
        int fd = harness_connect(port, 0);

        snprintf(text, sizeof(text), "GET %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n", path, extra_headers);
        http_request(fd, text, r);
        close(fd);
}

void http_assert_header(const HttpResponse *r, const char *header) {
        char want[256];

        snprintf(want, sizeof(want), "%s\n", header);
        if (!strstr(r->headers, want))
                fail_msg("no '%s' among:\n%s", header, r->headers);
}

bool http_has_header(const HttpResponse *r, const char *name) {
        size_t n = strlen(name);

        for (const char *p = r->headers; *p; p = strchr(p, '\n') + 1)
                if (strncasecmp(p, name, n) == 0 && p[n] == ':')
                        return true;
        return false;
}

int http_jq(int port, const char *path, const char *filter) {
        char command[1024], out[4096], err[1024];
        int r;

        snprintf(command, sizeof(command), "curl -sS --max-time 5 'http://127.0.0.1:%i%s' | jq -e '%s'", port, path,
                        filter);
        r = harness_run((const char *const[]) { "/bin/sh", "-c", command, NULL }, out, sizeof(out), err, sizeof(err));
        if (r != 0)
                print_message("%s: %s%s", command, out, err);
        return r;
}

void http_events_open(HttpEventStream *s, int port, const char *path, const char *extra_headers, HttpResponse *r) {
        char text[1024];
        long length;

        *s = (HttpEventStream) { .fd = harness_connect(port, 0), .retry = -1 };
        snprintf(text, sizeof(text), "GET %s HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n%s\r\n", path,
                        extra_headers);
        harness_send_str(s->fd, text);
        length = read_head(s->fd, r);
        if (r->status == 200) {
                http_assert_header(r, "Transfer-Encoding: chunked");
                return;
        }
        /* Not a stream: its body, as any response's. */
        assert_true(length >= 0 && (size_t) length < sizeof(r->body));
        assert_int_equal(read_exact(s->fd, r->body, (size_t) length, now_ms() + T), 0);
        r->length = (size_t) length;
        r->body[length] = '\0';
}

/* One chunk of the body onto s->pending: 1, 0 at the last chunk, or an error. */
static int read_chunk(HttpEventStream *s, int64_t deadline) {
        char line[64], crlf[2];
        unsigned long size;
        int n, r;

        n = harness_read_line(s->fd, line, sizeof(line), (int) (deadline - now_ms()));
        if (n < 0)
                return n;
        assert_true(n > 1 && line[n - 1] == '\r');
        size = strtoul(line, NULL, 16);
        if (size == 0) {
                /* No trailers: the blank line that ends the body. */
                n = harness_read_line(s->fd, line, sizeof(line), T);
                assert_int_equal(n, 1);
                s->ended = true;
                return 0;
        }
        assert_true(s->n + size < sizeof(s->pending));
        r = read_exact(s->fd, s->pending + s->n, size, deadline);
        if (r < 0)
                return r;
        s->n += size;
        r = read_exact(s->fd, crlf, 2, deadline);
        if (r < 0)
                return r;
        assert_memory_equal(crlf, "\r\n", 2);
        return 1;
}

/* The fields of one event's block (its lines, without the blank one): whether it has data. */
static bool parse_event(HttpEventStream *s, char *block, HttpEvent *e) {
        bool has_data = false;

        *e = (HttpEvent) {};
        for (char *line = strtok(block, "\n"); line; line = strtok(NULL, "\n")) {
                char *value = strchr(line, ':');

                if (value == line)
                        continue; /* a comment */
                assert_non_null(value);
                *value++ = '\0';
                if (*value == ' ')
                        value++;
                if (strcmp(line, "id") == 0)
                        snprintf(e->id, sizeof(e->id), "%s", value);
                else if (strcmp(line, "event") == 0)
                        snprintf(e->event, sizeof(e->event), "%s", value);
                else if (strcmp(line, "retry") == 0)
                        s->retry = strtol(value, NULL, 10);
                else if (strcmp(line, "data") == 0) {
                        /* The server writes each event's data on one line. */
                        assert_false(has_data);
                        snprintf(e->data, sizeof(e->data), "%s", value);
                        has_data = true;
                } else
                        fail_msg("unknown field '%s'", line);
        }
        return has_data;
}

int http_events_next(HttpEventStream *s, HttpEvent *e, int timeout_ms) {
        int64_t deadline = now_ms() + timeout_ms;

        for (;;) {
                char *end = memmem(s->pending, s->n, "\n\n", 2);
                int r;

                if (end) {
                        size_t length = (size_t) (end - s->pending);
                        char block[sizeof(s->pending)];
                        bool has_data;

                        memcpy(block, s->pending, length);
                        block[length] = '\0';
                        memmove(s->pending, end + 2, s->n - length - 2);
                        s->n -= length + 2;
                        has_data = parse_event(s, block, e);
                        if (has_data)
                                return 1;
                        continue;
                }
                if (s->ended)
                        return 0;
                r = read_chunk(s, deadline);
                if (r < 0)
                        return r;
        }
}

void http_events_close(HttpEventStream *s) {
        if (s->fd >= 0)
                close(s->fd);
        s->fd = -1;
}
