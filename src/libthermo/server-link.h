/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "protocol.h"

/* A client's link to one thermo server, as thermo-client and thermo-mqtt share it: resolve the name anew
 * at each attempt and try its addresses in turn, wait for HELLO, split what comes into lines, notice a
 * server gone silent, back off and reconnect, and tell a server that restarted from readings that were
 * skipped. What to ask and what to do with the answers is the owner's (ServerLinkOps). */
typedef struct ServerLink ServerLink;

#define THERMO_PORT_DEFAULT "8888"

typedef struct ServerLinkConfig {
        const char *host;       /* with port; or */
        const char *port;
        const char *unix_path;  /* a Unix socket (an absolute path, or @ and an abstract name) */
        uint64_t timeout;       /* usec: to connect, to be greeted, and the silence allowed by default */
} ServerLinkConfig;

typedef struct ServerLinkOps {
        /* Greeted: hello is the server's HELLO. Send the requests now (server_link_send()). */
        void (*greeted)(ServerLink *l, const Reply *hello);
        /* Each line after HELLO: r is protocol_parse_reply()'s result, reply valid where r >= 0. */
        void (*line)(ServerLink *l, int r, const Reply *reply, const char *line);
        /* The connection failed or ended (the link is down now): status is a sysexits.h code, message says
         * what happened. The owner decides: server_link_retry(), or give up. */
        void (*failed)(ServerLink *l, int status, const char *message);
} ServerLinkOps;

/* "host", "host:port", "[v6]", "[v6]:port", or a bare IPv6 address; the port defaults to 8888. */
int server_destination_parse(const char *s, char **ret_host, char **ret_port);

/* config's strings must outlive the link. */
int server_link_new(sd_event *e, const ServerLinkConfig *config, const ServerLinkOps *ops, void *userdata,
                ServerLink **ret);
ServerLink *server_link_free(ServerLink *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(ServerLink *, server_link_free);

void *server_link_get_userdata(ServerLink *l);
/* "host:port", "[v6]:port" or the socket's path, for messages. */
const char *server_link_get_destination(ServerLink *l);
/* How long a streaming server may be silent: timeout, plus the interval its newest HELLO announced. */
uint64_t server_link_stream_silence(ServerLink *l, uint64_t timeout);
/* From the newest HELLO: the server's host= (NULL where it gave none). */
const char *server_link_get_host(ServerLink *l);

/* The first attempt. */
void server_link_start(ServerLink *l);
/* Sends a request of n bytes, whole lines; a few on a fresh connection, which the socket buffer takes. */
int server_link_send(ServerLink *l, const char *request, size_t n);
/* From now on, and again after every line, a silence longer than usec ends the connection ("No word"). */
void server_link_set_silence(ServerLink *l, uint64_t usec);
/* Ends the connection and calls ops->failed(); error is a negative errno for %m. */
_printf_(4, 5) void server_link_fail(ServerLink *l, int status, int error, const char *format, ...);
/* After ops->failed(): reconnects after a backoff that doubles from 0.5s to 30s, and starts again from 0.5s
 * after a connection that lasted 30s. Returns the backoff, in usec, for the owner to say. */
uint64_t server_link_retry(ServerLink *l);
/* Closes the connection for good, without a word to the owner. */
void server_link_close(ServerLink *l);

/* What a reading's tick number tells beyond itself: readings skipped for us (missed_first to missed_last),
 * or a server that restarted (numbers going back, or a new connection not going forward: restarted is the
 * seq it numbers from again). All zero when it tells nothing. */
typedef struct TickNews {
        uint64_t missed_first, missed_last;
        uint64_t restarted;
        bool away;              /* the ticks missed were while we were away: the server held them no more */
} TickNews;

static inline bool tick_news_any(const TickNews *news) {
        return news->missed_first > 0 || news->restarted > 0;
}

/* "Missed 2 readings (#3 to #4): they were skipped for us.", "...while we were away: ...", or "Readings are
 * numbered from #1 again: the server restarted.", for the owner's log. Returns buf. */
const char *tick_news_format(const TickNews *news, char *buf, size_t size);

/* A reading's tick number: whether it starts a new tick, and (ret_news) what it tells, once. */
bool server_link_tick(ServerLink *l, uint64_t seq, TickNews *ret_news);
/* The owner asked for the ticks after after= (STREAM after=): the next one is news against that, a gap
 * before it is of ticks taken while we were away, and held no more. */
void server_link_note_resumed(ServerLink *l, uint64_t after);
/* A sensor gave no reading: the gap in the numbers that may follow is no news. */
void server_link_note_unavailable(ServerLink *l);
