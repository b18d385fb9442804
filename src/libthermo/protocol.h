/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "line.h"
#include "reading.h"

/* The wire format of thermo-protocol(7), and nothing else: no I/O here. */

#define PROTOCOL_LINE_MAX LINE_MAX_BYTES /* a request line, terminator included */
#define PROTOCOL_REPLY_MAX 256    /* the longest line a server sends */
#define PROTOCOL_COUNT_MAX UINT32_MAX

typedef enum RequestType {
        REQUEST_EMPTY,
        REQUEST_GET,
        REQUEST_STREAM,
        REQUEST_STOP,
        REQUEST_PING,
        REQUEST_INFO,
        REQUEST_QUIT,
} RequestType;

typedef struct Request {
        RequestType type;
        uint32_t count; /* STREAM: readings before END, 0 for no end */
} Request;

typedef enum ReplyType {
        REPLY_HELLO,
        REPLY_TEMP,
        REPLY_OK_STREAM,
        REPLY_OK_STOP,
        REPLY_END,
        REPLY_PONG,
        REPLY_INFO,
        REPLY_BYE,
        REPLY_ERR,
} ReplyType;

typedef struct Reply {
        ReplyType type;
        Reading reading;       /* TEMP */
        uint64_t interval_ms;  /* HELLO, 0 if it did not say */
        unsigned error;        /* ERR */
        const char *text;      /* ERR: the text; HELLO, INFO: what follows the first word */
} Reply;

typedef struct ServerInfo {
        const char *server;
        const char *version;
        const char *sensor;
        uint64_t interval_ms;
        uint64_t clients;
        uint64_t uptime_s;
} ServerInfo;

/* Parses a request line (without its terminator). On -EBADMSG, *ret_error says why, for ERR 400. */
int protocol_parse_request(const char *line, size_t n, Request *ret, const char **ret_error);

/* Parses a line (without its terminator, NUL-terminated) that a server sent. */
int protocol_parse_reply(const char *line, Reply *ret);

/* Each formats a whole line, "\n" included, and returns its length (truncated to fit size). */
/* "TEMP <seq> <time> <celsius>", or "ERR 503 sensor unavailable" when the reading has an error. */
size_t protocol_format_reading(char *buf, size_t size, const Reading *r);
size_t protocol_format_hello(char *buf, size_t size, const ServerInfo *info);
size_t protocol_format_info(char *buf, size_t size, const ServerInfo *info);
size_t protocol_format_error(char *buf, size_t size, unsigned code, const char *text);
