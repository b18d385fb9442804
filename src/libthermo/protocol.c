/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

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
        { "GET", REQUEST_GET },   { "STREAM", REQUEST_STREAM }, { "STOP", REQUEST_STOP },       { "PING", REQUEST_PING },
        { "INFO", REQUEST_INFO }, { "QUIT", REQUEST_QUIT },     { "SENSORS", REQUEST_SENSORS },
        { "LIMITS", REQUEST_LIMITS }, { "ALARMS", REQUEST_ALARMS }, { "HISTORY", REQUEST_HISTORY },
};

static bool is_lower(char c) {
        return c >= 'a' && c <= 'z';
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

void protocol_host(char buf[static PROTOCOL_HOST_MAX + 1]) {
        struct utsname u;
        size_t n;

        /* Asked each time: the name may change while we run (hostnamectl). */
        if (uname(&u) < 0 || u.nodename[0] == '\0' || strcmp(u.nodename, "(none)") == 0) {
                strcpy(buf, "localhost");
                return;
        }
        n = MIN(strlen(u.nodename), (size_t) PROTOCOL_HOST_MAX);
        for (size_t i = 0; i < n; i++) {
                char c = u.nodename[i];

                buf[i] = is_lower(c) || is_digit(c) || (c >= 'A' && c <= 'Z') || IN_SET(c, '.', '_', '-') ? c : '-';
        }
        buf[n] = '\0';
}

bool protocol_name_is_valid(const char *s, size_t n) {
        assert(s || n == 0);

        if (n == 0 || n > PROTOCOL_NAME_MAX || !is_lower(s[0]))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!is_lower(s[i]) && !is_digit(s[i]) && !IN_SET(s[i], '_', '.', '-'))
                        return false;
        return true;
}

/* "after=<seq>" (the keyword in any case, as commands are), 0 to 2^64-1: 1, 0 for a word that is none,
 * -EBADMSG for a bad number. */
static int parse_after(const char *w, size_t n, uint64_t *ret) {
        char seq[24];

        if (n < 6 || strncasecmp(w, "after=", 6) != 0)
                return 0;
        if (n - 6 >= sizeof(seq) || n == 6 || !is_digit(w[6]))
                return -EBADMSG;
        memcpy(seq, w + 6, n - 6);
        seq[n - 6] = '\0';
        return parse_uint64(seq, 0, UINT64_MAX, ret) < 0 ? -EBADMSG : 1;
}

/* The arguments of GET, STREAM and HISTORY: "STREAM [count] [after=<seq>] <name>..." or with "*",
 * "HISTORY [after=<seq>] [<name>...|*]", "GET [<name>|*]". A word that starts with a digit or a sign is a
 * count; "after=" the seq to resume after; one that starts with a letter, a name. */
static int parse_arguments(const char *line, RequestName *words, size_t n_words, Request *req, const char **ret_error) {
        size_t i = 0;

        if (req->type == REQUEST_STREAM && n_words > 0 &&
                        (is_digit(line[words[0].at]) || IN_SET(line[words[0].at], '-', '+'))) {
                char count[24];
                uint64_t v;

                if (words[0].length >= sizeof(count)) {
                        *ret_error = "invalid count";
                        return -EBADMSG;
                }
                memcpy(count, line + words[0].at, words[0].length);
                count[words[0].length] = '\0';
                if (parse_uint64(count, 1, PROTOCOL_COUNT_MAX, &v) < 0) {
                        *ret_error = "invalid count";
                        return -EBADMSG;
                }
                req->count = (uint32_t) v;
                i++;
        }
        if (IN_SET((int) req->type, REQUEST_STREAM, REQUEST_HISTORY) && i < n_words) {
                int r = parse_after(line + words[i].at, words[i].length, &req->after);

                if (r < 0) {
                        *ret_error = "invalid after";
                        return -EBADMSG;
                }
                req->has_after = r > 0;
                i += r > 0;
        }
        if (req->type == REQUEST_GET && n_words > 1) {
                *ret_error = "unexpected argument";
                return -EBADMSG;
        }

        for (; i < n_words; i++) {
                const char *w = line + words[i].at;
                uint64_t after;

                if (words[i].length == 1 && w[0] == '*') {
                        req->all = true;
                        continue;
                }
                /* after= comes before the names, once: anywhere else it is out of place. */
                if ((!is_lower(w[0]) && !(w[0] >= 'A' && w[0] <= 'Z')) || parse_after(w, words[i].length, &after) != 0) {
                        *ret_error = "unexpected argument";
                        return -EBADMSG;
                }
                if (!protocol_name_is_valid(w, words[i].length)) {
                        *ret_error = "invalid sensor name";
                        return -EBADMSG;
                }
                req->names[req->n_names++] = words[i];
        }
        if (req->all && req->n_names > 0) {
                *ret_error = "unexpected argument";
                return -EBADMSG;
        }
        return 0;
}

int protocol_parse_request(const char *line, size_t n, Request *ret, const char **ret_error) {
        RequestName words[PROTOCOL_NAMES_MAX + 1];
        size_t n_words = 0, i = 0, k;
        int r;

        assert(line || n == 0);
        assert(ret);
        assert(ret_error);

        for (k = 0; k < n; k++)
                if (((unsigned char) line[k] < 0x20 || (unsigned char) line[k] > 0x7e) && line[k] != '\t') {
                        *ret_error = "invalid byte in request";
                        return -EBADMSG;
                }
        if (n >= PROTOCOL_LINE_MAX) {
                *ret_error = "request line too long";
                return -EBADMSG;
        }

        for (;;) {
                size_t start;

                while (i < n && is_blank(line[i]))
                        i++;
                if (i >= n)
                        break;
                for (start = i; i < n && !is_blank(line[i]); i++)
                        ;
                /* Words are separated, so a line of 511 bytes holds 256 at most. */
                assert(n_words < ELEMENTSOF(words));
                words[n_words++] = (RequestName) { .at = (uint16_t) start, .length = (uint8_t) MIN(i - start, (size_t) UINT8_MAX) };
        }

        *ret = (Request) { .type = REQUEST_EMPTY };
        if (n_words == 0)
                return 0;

        for (k = 0; k < ELEMENTSOF(commands); k++)
                if (strlen(commands[k].word) == words[0].length &&
                                strncasecmp(line + words[0].at, commands[k].word, words[0].length) == 0)
                        break;
        if (k >= ELEMENTSOF(commands)) {
                *ret_error = "unknown command";
                return -EBADMSG;
        }
        ret->type = commands[k].type;

        if (n_words > 1 && !IN_SET((int) ret->type, REQUEST_GET, REQUEST_STREAM, REQUEST_LIMITS, REQUEST_HISTORY)) {
                *ret_error = "unexpected argument";
                return -EBADMSG;
        }
        r = parse_arguments(line, words + 1, n_words - 1, ret, ret_error);
        if (r < 0)
                *ret = (Request) { .type = REQUEST_EMPTY };
        return r;
}

size_t protocol_format_reading(char *buf, size_t size, const Reading *r, bool named) {
        const char *name = named && r->sensor ? r->sensor : NULL;
        char value[32];
        int k;

        assert(buf);
        assert(r);

        if (r->error < 0)
                k = snprintf(buf, size, "ERR 503 sensor unavailable%s%s\n", name ? " " : "", strempty(name));
        else {
                format_millidegrees(value, sizeof(value), r->millicelsius);
                k = snprintf(buf, size, "TEMP %" PRIu64 " %" PRIu64 " %s%s%s\n", r->seq, r->time_ms, value,
                                name ? " " : "", strempty(name));
        }
        return MIN((size_t) k, size - 1);
}

size_t protocol_format_limit(char *buf, size_t size, const char *name, Level level, const Limits *l) {
        char low[32] = "-", high[32] = "-", crit[32] = "-";
        int k;

        assert(buf);
        assert(name);
        assert(l);

        if (l->has_low)
                format_millidegrees(low, sizeof(low), l->low);
        if (l->has_high)
                format_millidegrees(high, sizeof(high), l->high);
        if (l->has_crit)
                format_millidegrees(crit, sizeof(crit), l->crit);
        k = snprintf(buf, size, "LIMIT %s %s low=%s high=%s crit=%s\n", name, level_to_string(level), low, high, crit);
        return MIN((size_t) k, size - 1);
}

size_t protocol_format_alarm(char *buf, size_t size, const Reading *r) {
        char value[32];
        int k;

        assert(buf);
        assert(r);
        assert(r->sensor);

        format_millidegrees(value, sizeof(value), r->millicelsius);
        k = snprintf(buf, size, "ALARM %" PRIu64 " %" PRIu64 " %s %s %s\n", r->seq, r->time_ms, r->sensor,
                        level_to_string(r->level), value);
        return MIN((size_t) k, size - 1);
}

size_t protocol_format_sensor(char *buf, size_t size, const char *name, const char *source) {
        int k;

        assert(buf);
        assert(name);
        assert(source);

        k = snprintf(buf, size, "SENSOR %s %s\n", name, source);
        return MIN((size_t) k, size - 1);
}

size_t protocol_format_hello(char *buf, size_t size, const ServerInfo *info) {
        int k;

        assert(buf);
        assert(info);

        k = snprintf(buf, size, "HELLO " PROTOCOL_NAME " %s %s interval_ms=%" PRIu64 " sensor=%s sensors=%" PRIu64
                        " host=%s\n",
                        info->server, info->version, info->interval_ms, info->sensor, info->sensors, info->host);
        return MIN((size_t) k, size - 1);
}

size_t protocol_format_info(char *buf, size_t size, const ServerInfo *info) {
        int k;

        assert(buf);
        assert(info);

        k = snprintf(buf, size,
                        "INFO server=%s version=%s sensor=%s interval_ms=%" PRIu64 " clients=%" PRIu64
                        " uptime_s=%" PRIu64 " sensors=%" PRIu64 " host=%s oldest_seq=%" PRIu64 " newest_seq=%" PRIu64
                        " restarts=%" PRIu64 "\n",
                        info->server, info->version, info->sensor, info->interval_ms, info->clients,
                        info->uptime_s, info->sensors, info->host, info->oldest_seq, info->newest_seq, info->restarts);
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
        r = parse_uint64(p, 0, PROTOCOL_CELSIUS_MAX, &whole);
        if (r < 0)
                return r;
        *ret = (int64_t) (whole * 1000 + frac) * (negative ? -1 : 1);
        return 0;
}

/* "<seq> <time> <celsius> [<name>]" */
/* Splits s at each space, in place: the count of words, up to n (n when there are more). */
static size_t split_words(char *s, char **words, size_t n) {
        size_t k = 0;

        while (k < n) {
                words[k++] = s;
                s = strchr(s, ' ');
                if (!s)
                        break;
                *s++ = '\0';
        }
        return k;
}

/* The word at *s (after any blanks), into buf, and *s past it: -EBADMSG for none, or one of size or more.
 * By hand, not sscanf(): a client parses a reading a line, tens of thousands a second. */
static int take_word(const char **s, char *buf, size_t size) {
        const char *p = *s;
        size_t n;

        while (isspace((unsigned char) *p))
                p++;
        for (n = 0; p[n] != '\0' && !isspace((unsigned char) p[n]); n++)
                ;
        if (n == 0 || n >= size)
                return -EBADMSG;
        memcpy(buf, p, n);
        buf[n] = '\0';
        *s = p + n;
        return 0;
}

static int parse_reading(const char *s, Reading *ret) {
        char seq[24], time[24], value[32];
        const char *p = s;
        Reading r = {};
        size_t end;

        if (take_word(&p, seq, sizeof(seq)) < 0 || take_word(&p, time, sizeof(time)) < 0 ||
                        take_word(&p, value, sizeof(value)) < 0)
                return -EBADMSG;
        end = (size_t) (p - s);
        if (parse_uint64(seq, 0, UINT64_MAX, &r.seq) < 0 || parse_uint64(time, 0, UINT64_MAX, &r.time_ms) < 0 ||
                        parse_milli(value, &r.millicelsius) < 0)
                return -EBADMSG;
        if (s[end] != '\0') {
                if (s[end] != ' ' || !protocol_name_is_valid(s + end + 1, strlen(s + end + 1)))
                        return -EBADMSG;
                r.sensor = s + end + 1;
        }
        *ret = r;
        return 0;
}

int protocol_parse_reply(char *line, Reply *ret) {
        static const struct {
                const char *line;
                ReplyType type;
        } fixed[] = {
                { "OK STREAM", REPLY_OK_STREAM }, { "OK STOP", REPLY_OK_STOP }, { "END", REPLY_END },
                { "PONG", REPLY_PONG },           { "BYE", REPLY_BYE },         { "OK ALARMS", REPLY_OK_ALARMS },
        };
        Reply reply = {};

        assert(line);
        assert(ret);

        /* No fixed line starts with a T: a stream's readings go straight on. */
        for (size_t i = 0; i < ELEMENTSOF(fixed) && line[0] != 'T'; i++)
                if (strcmp(line, fixed[i].line) == 0) {
                        *ret = (Reply) { .type = fixed[i].type };
                        return 0;
                }

        if (strncmp(line, "TEMP ", 5) == 0) {
                reply.type = REPLY_TEMP;
                if (parse_reading(line + 5, &reply.reading) < 0)
                        return -EBADMSG;
        } else if (strncmp(line, "HELLO ", 6) == 0) {
                const char *p = line + 6, *interval, *sensors, *host;
                size_t n;

                if (strncmp(p, PROTOCOL_NAME, strlen(PROTOCOL_NAME)) != 0 ||
                                (p[strlen(PROTOCOL_NAME)] != ' ' && p[strlen(PROTOCOL_NAME)] != '\0'))
                        return -EPROTONOSUPPORT;
                reply.type = REPLY_HELLO;
                reply.text = p;
                interval = strstr(p, " interval_ms=");
                if (interval && sscanf(interval, " interval_ms=%" SCNu64, &reply.interval_ms) != 1)
                        reply.interval_ms = 0;
                sensors = strstr(p, " sensors=");
                if (sensors && sscanf(sensors, " sensors=%" SCNu64, &reply.sensors) != 1)
                        reply.sensors = 0;
                host = strstr(p, " host=");
                if (host) {
                        host += strlen(" host=");
                        n = strcspn(host, " ");
                        if (n <= PROTOCOL_HOST_MAX)
                                memcpy(reply.host, host, n);
                }
        } else if (strncmp(line, "INFO ", 5) == 0) {
                reply.type = REPLY_INFO;
                reply.text = line + 5;
        } else if (strncmp(line, "ERR ", 4) == 0) {
                int consumed = 0;

                reply.type = REPLY_ERR;
                if (sscanf(line + 4, "%3u %n", &reply.error, &consumed) != 1 || consumed == 0)
                        return -EBADMSG;
                reply.text = line + 4 + consumed;
                /* A sensor's failure names the sensor, where the request named it. */
                if (reply.error == 503 && startswith(reply.text, "sensor unavailable ") &&
                                protocol_name_is_valid(reply.text + 19, strlen(reply.text + 19)))
                        reply.reading.sensor = reply.text + 19;
        } else if (strncmp(line, "ALARM ", 6) == 0) {
                char *w[6];

                /* ALARM <seq> <unix_time_ms> <name> <level> <celsius> */
                reply.type = REPLY_ALARM;
                if (split_words(line + 6, w, ELEMENTSOF(w)) != 5 || parse_uint64(w[0], 0, UINT64_MAX, &reply.reading.seq) < 0 ||
                                parse_uint64(w[1], 0, UINT64_MAX, &reply.reading.time_ms) < 0 ||
                                !protocol_name_is_valid(w[2], strlen(w[2])) ||
                                level_from_string(w[3], &reply.reading.level) < 0 ||
                                parse_milli(w[4], &reply.reading.millicelsius) < 0)
                        return -EBADMSG;
                reply.reading.sensor = w[2];
        } else if (strncmp(line, "LIMIT ", 6) == 0) {
                int64_t *values[] = { &reply.limits.low, &reply.limits.high, &reply.limits.crit };
                static const char *const keys[] = { "low=", "high=", "crit=" };
                char *w[6];

                /* LIMIT <name> <level> low=<c> high=<c> crit=<c> */
                reply.type = REPLY_LIMIT;
                reply.limits = LIMITS_NONE;
                if (split_words(line + 6, w, ELEMENTSOF(w)) != 5 || !protocol_name_is_valid(w[0], strlen(w[0])) ||
                                level_from_string(w[1], &reply.reading.level) < 0)
                        return -EBADMSG;
                for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                        const char *v = w[2 + i] + strlen(keys[i]);

                        if (!startswith(w[2 + i], keys[i]))
                                return -EBADMSG;
                        if (strcmp(v, "-") == 0)
                                continue;
                        if (parse_milli(v, values[i]) < 0)
                                return -EBADMSG;
                }
                reply.limits.has_low = strcmp(w[2], "low=-") != 0;
                reply.limits.has_high = strcmp(w[3], "high=-") != 0;
                reply.limits.has_crit = strcmp(w[4], "crit=-") != 0;
                reply.reading.sensor = w[0];
        } else if (strncmp(line, "SENSOR ", 7) == 0) {
                char *name = line + 7, *blank = strchr(name, ' ');

                if (!blank || !protocol_name_is_valid(name, (size_t) (blank - name)) || blank[1] == '\0')
                        return -EBADMSG;
                *blank = '\0';
                reply.type = REPLY_SENSOR;
                reply.reading.sensor = name;
                reply.text = blank + 1;
        } else
                return -EBADMSG;

        *ret = reply;
        return 0;
}
