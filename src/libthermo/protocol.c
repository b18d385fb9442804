/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "parse.h"
#include "protocol.h"

#define PROTOCOL_NAME "thermo/1"

static int is_blank(char c) {
        return c == ' ' || c == '\t';
}

static const struct {
        const char *word;
        RequestType type;
} commands[] = {
        { "GET", REQUEST_GET },   { "STREAM", REQUEST_STREAM }, { "STOP", REQUEST_STOP },
        { "PING", REQUEST_PING }, { "INFO", REQUEST_INFO },     { "QUIT", REQUEST_QUIT },
};

int protocol_parse_request(const char *line, size_t n, Request *ret, const char **ret_error) {
        char words[2][PROTOCOL_LINE_MAX];
        size_t n_words = 0, i = 0;
        Request req = {};

        assert(line || n == 0);
        assert(ret);
        assert(ret_error);

        for (size_t k = 0; k < n; k++)
                if (((unsigned char) line[k] < 0x20 || (unsigned char) line[k] > 0x7e) && line[k] != '\t') {
                        *ret_error = "invalid byte in request";
                        return -EBADMSG;
                }

        for (;;) {
                size_t start, len;

                while (i < n && is_blank(line[i]))
                        i++;
                if (i >= n)
                        break;
                if (n_words >= ELEMENTSOF(words)) {
                        *ret_error = "too many arguments";
                        return -EBADMSG;
                }
                for (start = i; i < n && !is_blank(line[i]); i++)
                        ;
                len = i - start;
                memcpy(words[n_words], line + start, len);
                words[n_words++][len] = '\0';
        }

        if (n_words == 0) {
                *ret = (Request) { .type = REQUEST_EMPTY };
                return 0;
        }

        for (i = 0; i < ELEMENTSOF(commands); i++)
                if (strcasecmp(words[0], commands[i].word) == 0)
                        break;
        if (i >= ELEMENTSOF(commands)) {
                *ret_error = "unknown command";
                return -EBADMSG;
        }
        req.type = commands[i].type;

        if (n_words > 1) {
                uint64_t count;

                if (req.type != REQUEST_STREAM) {
                        *ret_error = "unexpected argument";
                        return -EBADMSG;
                }
                if (parse_uint64(words[1], 1, PROTOCOL_COUNT_MAX, &count) < 0) {
                        *ret_error = "invalid count";
                        return -EBADMSG;
                }
                req.count = (uint32_t) count;
        }

        *ret = req;
        return 0;
}

size_t protocol_format_reading(char *buf, size_t size, const Reading *r) {
        char value[32];
        int k;

        assert(buf);
        assert(r);

        assert(buf);
        assert(r);

        if (r->error < 0)
                return protocol_format_error(buf, size, 503, "sensor unavailable");
        format_millidegrees(value, sizeof(value), r->millicelsius);
        k = snprintf(buf, size, "TEMP %" PRIu64 " %" PRIu64 " %s\n", r->seq, r->time_ms, value);
        return MIN((size_t) k, size - 1);
}

size_t protocol_format_hello(char *buf, size_t size, const ServerInfo *info) {
        int k;

        assert(buf);
        assert(info);

        k = snprintf(buf, size, "HELLO " PROTOCOL_NAME " %s %s interval_ms=%" PRIu64 " sensor=%s\n", info->server,
                        info->version, info->interval_ms, info->sensor);
        return MIN((size_t) k, size - 1);
}

size_t protocol_format_info(char *buf, size_t size, const ServerInfo *info) {
        int k;

        assert(buf);
        assert(info);

        k = snprintf(buf, size,
                        "INFO server=%s version=%s sensor=%s interval_ms=%" PRIu64 " clients=%" PRIu64
                        " uptime_s=%" PRIu64 "\n",
                        info->server, info->version, info->sensor, info->interval_ms, info->clients,
                        info->uptime_s);
        return MIN((size_t) k, size - 1);
}

size_t protocol_format_error(char *buf, size_t size, unsigned code, const char *text) {
        int k;

        assert(buf);
        assert(text);

        k = snprintf(buf, size, "ERR %u %s\n", code, text);
        return MIN((size_t) k, size - 1);
}

/* "21.375", "-4", "-0.5": millidegrees, up to three decimals. */
static int parse_milli(const char *s, int64_t *ret) {
        int negative = *s == '-';
        uint64_t whole, frac = 0;
        const char *p = s + negative, *dot = strchr(p, '.');
        char digits[24];
        int r;

        if (dot) {
                size_t k = (size_t) (dot - p), nfrac = strlen(dot + 1);
                if (k == 0 || k >= sizeof(digits) || nfrac == 0 || nfrac > 3)
                        return -EINVAL;
                memcpy(digits, p, k);
                digits[k] = '\0';
                r = parse_uint64(dot + 1, 0, 999, &frac);
                if (r < 0)
                        return r;
                for (; nfrac < 3; nfrac++)
                        frac *= 10;
                p = digits;
        }
        r = parse_uint64(p, 0, INT64_MAX / 1000 - 1, &whole);
        if (r < 0)
                return r;
        *ret = (int64_t) (whole * 1000 + frac) * (negative ? -1 : 1);
        return 0;
}

static int parse_reading(const char *s, Reading *ret) {
        char seq[24], time[24], value[32];
        Reading r = {};

        if (sscanf(s, "%23s %23s %31s", seq, time, value) != 3)
                return -EBADMSG;
        if (parse_uint64(seq, 0, UINT64_MAX, &r.seq) < 0 || parse_uint64(time, 0, UINT64_MAX, &r.time_ms) < 0 ||
                        parse_milli(value, &r.millicelsius) < 0)
                return -EBADMSG;
        *ret = r;
        return 0;
}

int protocol_parse_reply(const char *line, Reply *ret) {
        static const struct {
                const char *line;
                ReplyType type;
        } fixed[] = {
                { "OK STREAM", REPLY_OK_STREAM }, { "OK STOP", REPLY_OK_STOP }, { "END", REPLY_END },
                { "PONG", REPLY_PONG },           { "BYE", REPLY_BYE },
        };
        Reply reply = {};

        assert(line);
        assert(ret);

        for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
                if (strcmp(line, fixed[i].line) == 0) {
                        *ret = (Reply) { .type = fixed[i].type };
                        return 0;
                }

        if (strncmp(line, "TEMP ", 5) == 0) {
                reply.type = REPLY_TEMP;
                if (parse_reading(line + 5, &reply.reading) < 0)
                        return -EBADMSG;
        } else if (strncmp(line, "HELLO ", 6) == 0) {
                const char *p = line + 6, *interval;

                if (strncmp(p, PROTOCOL_NAME, strlen(PROTOCOL_NAME)) != 0 ||
                                (p[strlen(PROTOCOL_NAME)] != ' ' && p[strlen(PROTOCOL_NAME)] != '\0'))
                        return -EPROTONOSUPPORT;
                reply.type = REPLY_HELLO;
                reply.text = p;
                interval = strstr(p, " interval_ms=");
                if (interval && sscanf(interval, " interval_ms=%" SCNu64, &reply.interval_ms) != 1)
                        reply.interval_ms = 0;
        } else if (strncmp(line, "INFO ", 5) == 0) {
                reply.type = REPLY_INFO;
                reply.text = line + 5;
        } else if (strncmp(line, "ERR ", 4) == 0) {
                int consumed = 0;

                reply.type = REPLY_ERR;
                if (sscanf(line + 4, "%3u %n", &reply.error, &consumed) != 1 || consumed == 0)
                        return -EBADMSG;
                reply.text = line + 4 + consumed;
        } else
                return -EBADMSG;

        *ret = reply;
        return 0;
}
