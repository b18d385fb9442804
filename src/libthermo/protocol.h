/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "line.h"
#include "reading.h"

/* The wire format of thermo-protocol(7), and nothing else: no I/O here. */

#define PROTOCOL_LINE_MAX LINE_MAX_BYTES /* a request line, terminator included */
#define PROTOCOL_REPLY_MAX 256    /* the longest line a server sends, but HELLO and INFO */
#define PROTOCOL_HOST_MAX 64      /* the host= of HELLO and INFO: a host name, as gethostname() gives it */
#define PROTOCOL_HELLO_MAX 512    /* HELLO and INFO: a source, a host and the rest */
#define PROTOCOL_COUNT_MAX UINT32_MAX
/* The largest |celsius| a reading may have: far past any thermometer, and small enough that a client's
 * arithmetic on it (units, sums, scales) never overflows. */
#define PROTOCOL_CELSIUS_MAX UINT64_C(999999999)
#define PROTOCOL_INTERVAL_MS_MAX (24 * 3600 * UINT64_C(1000)) /* the longest interval_ms a server has */
#define PROTOCOL_NAME_MAX 32      /* a sensor's name: 1 to 32 of a-z 0-9 _ . -, starting with a letter */
#define PROTOCOL_SOURCE_MAX 160   /* a sensor's source, as HELLO and SENSOR lines show it */
#define PROTOCOL_NAMES_MAX (PROTOCOL_LINE_MAX / 2) /* the most names a request line can hold */

typedef enum RequestType {
        REQUEST_EMPTY,
        REQUEST_GET,
        REQUEST_STREAM,
        REQUEST_STOP,
        REQUEST_PING,
        REQUEST_INFO,
        REQUEST_QUIT,
        REQUEST_SENSORS,
        REQUEST_LIMITS,
        REQUEST_ALARMS,
        REQUEST_HISTORY,
} RequestType;

/* A sensor name in a request line: where it starts, and its length. */
typedef struct RequestName {
        uint16_t at;
        uint8_t length;
} RequestName;

typedef struct Request {
        RequestType type;
        uint32_t count;         /* STREAM: readings before END, 0 for no end */
        bool has_after;         /* STREAM, HISTORY: after=<seq>, the held ticks after it first */
        uint64_t after;
        bool all;               /* GET, STREAM, LIMITS, HISTORY: "*", every sensor */
        size_t n_names;         /* GET, STREAM, LIMITS, HISTORY: the sensors named; none is the default
                                 * sensor (for LIMITS, every sensor) */
        RequestName names[PROTOCOL_NAMES_MAX];
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
        REPLY_SENSOR,
        REPLY_OK_ALARMS,
        REPLY_LIMIT,
        REPLY_ALARM,
} ReplyType;

typedef struct Reply {
        ReplyType type;
        Reading reading;       /* TEMP, and ERR 503 for a sensor: reading.sensor names it, or is NULL; ALARM and
                                * LIMIT: its sensor and level too */
        Limits limits;         /* LIMIT */
        uint64_t interval_ms;  /* HELLO, 0 if it did not say */
        uint64_t sensors;      /* HELLO, 0 if it did not say */
        char host[PROTOCOL_HOST_MAX + 1]; /* HELLO, "" if it did not say */
        unsigned error;        /* ERR */
        const char *text;      /* ERR: the text; HELLO, INFO: what follows the first word; SENSOR: the source */
} Reply;

typedef struct ServerInfo {
        const char *server;
        const char *version;
        const char *sensor;     /* the default sensor's source */
        uint64_t sensors;
        uint64_t interval_ms;
        uint64_t clients;
        uint64_t uptime_s;
        const char *host;       /* the machine's name, as protocol_host() makes it */
        uint64_t oldest_seq;    /* INFO: the first and last tick held, 0 when none is */
        uint64_t newest_seq;
        uint64_t restarts;      /* INFO: restarts that kept the clients, since the first start */
} ServerInfo;

/* The machine's name as host= gives it: of its host name, what fits in a word of the protocol and in an
 * MQTT topic level ([A-Za-z0-9._-], any other byte made '-'), "localhost" where it has none. */
void protocol_host(char buf[static PROTOCOL_HOST_MAX + 1]);

/* Whether s (n bytes) is a sensor name the protocol allows. */
bool protocol_name_is_valid(const char *s, size_t n);

/* Parses a request line (without its terminator). On -EBADMSG, *ret_error says why, for ERR 400. */
int protocol_parse_request(const char *line, size_t n, Request *ret, const char **ret_error);

/* Parses a line that a server sent (without its terminator, NUL-terminated); words it returns pointers to
 * are split off with NULs in place. */
int protocol_parse_reply(char *line, Reply *ret);

/* Each formats a whole line, "\n" included, and returns its length (truncated to fit size). */
/* "TEMP <seq> <time> <celsius>", or "ERR 503 sensor unavailable" when the reading has an error; with
 * named, the sensor's name is the last word of either. */
size_t protocol_format_reading(char *buf, size_t size, const Reading *r, bool named);
/* "LIMIT <name> <level> low=<c> high=<c> crit=<c>", "-" for a limit the sensor does not have */
size_t protocol_format_limit(char *buf, size_t size, const char *name, Level level, const Limits *limits);
/* "ALARM <seq> <unix_time_ms> <name> <level> <celsius>": the reading that put its sensor at its level */
size_t protocol_format_alarm(char *buf, size_t size, const Reading *r);
/* "SENSOR <name> <source>" */
size_t protocol_format_sensor(char *buf, size_t size, const char *name, const char *source);
size_t protocol_format_hello(char *buf, size_t size, const ServerInfo *info);
size_t protocol_format_info(char *buf, size_t size, const ServerInfo *info);
size_t protocol_format_error(char *buf, size_t size, unsigned code, const char *text);
