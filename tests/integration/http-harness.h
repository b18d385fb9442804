/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* HTTP for the tests of the HTTP front end (the page, the API, /metrics): a request and its response on a
 * socket, read as a client reads them, and an event stream read event by event. cmocka assertions on
 * anything malformed. */
typedef struct HttpResponse {
        int status;
        char headers[2048];     /* each "Name: value\n", as sent */
        char body[65536];
        size_t length;          /* of the body */
} HttpResponse;

/* Reads one response: status line, headers, and Content-Length bytes of body (none for HEAD). */
void http_read_response(int fd, HttpResponse *r, bool head);
/* Sends text, a whole request, and reads the response. */
void http_request(int fd, const char *text, HttpResponse *r);
/* A GET of path on a connection of its own. */
void http_get(int port, const char *path, const char *extra_headers, HttpResponse *r);
/* Fails unless r has the header line ("Name: value"), as sent. */
void http_assert_header(const HttpResponse *r, const char *header);
/* Whether r has a header of that name, whatever its value. */
bool http_has_header(const HttpResponse *r, const char *name);
/* jq's verdict on what curl gets from path (-e: false and null fail): the exit status of the pipe. */
int http_jq(int port, const char *path, const char *filter);

/* An event stream (text/event-stream), read from its chunked body. */
typedef struct HttpEventStream {
        int fd;
        char pending[65536];    /* of the body, not yet an event */
        size_t n;
        long retry;             /* the newest "retry:" field, -1 before any */
        bool ended;             /* the last chunk came */
} HttpEventStream;

typedef struct HttpEvent {
        char id[32];            /* "" when it has none */
        char event[32];         /* "" for the default, "message" */
        char data[16384];
} HttpEvent;

/* GETs path with extra_headers on a connection of its own; r has the response's headers. The stream is
 * open when r->status is 200 (then chunked, which it asserts). */
void http_events_open(HttpEventStream *s, int port, const char *path, const char *extra_headers, HttpResponse *r);
/* The next event that has data: 1; 0 when the stream ended with its last chunk; -EPIPE when the
 * connection closed without it; -ETIMEDOUT. */
int http_events_next(HttpEventStream *s, HttpEvent *e, int timeout_ms);
void http_events_close(HttpEventStream *s);
