/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "parse.h"

/* Reads the leading decimal digits of s; *end points past them. */
static int parse_digits(const char *s, uint64_t *ret, const char **end) {
        uint64_t v = 0;
        const char *p;

        for (p = s; *p >= '0' && *p <= '9'; p++) {
                unsigned d = (unsigned) (*p - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        if (p == s)
                return -EINVAL;
        *ret = v;
        *end = p;
        return 0;
}

int parse_uint64(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        const char *end;
        uint64_t v;
        int r;

        assert(s);
        assert(ret);

        r = parse_digits(s, &v, &end);
        if (r < 0)
                return r;
        if (*end != '\0')
                return -EINVAL;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

/* systemd.time(7)'s units; the longest name that matches is taken, so "ms" is not "m" then "s". */
static const struct {
        const char *name;
        uint64_t usec;
} time_units[] = {
        { "usec", 1 },
        { "us", 1 },
        { "\xc2\xb5s", 1 },                           /* µs, MICRO SIGN */
        { "\xce\xbcs", 1 },                           /* μs, GREEK SMALL LETTER MU */
        { "msec", USEC_PER_MSEC },
        { "ms", USEC_PER_MSEC },
        { "seconds", USEC_PER_SEC },
        { "second", USEC_PER_SEC },
        { "sec", USEC_PER_SEC },
        { "s", USEC_PER_SEC },
        { "minutes", 60 * USEC_PER_SEC },
        { "minute", 60 * USEC_PER_SEC },
        { "min", 60 * USEC_PER_SEC },
        { "m", 60 * USEC_PER_SEC },
        { "hours", 3600 * USEC_PER_SEC },
        { "hour", 3600 * USEC_PER_SEC },
        { "hr", 3600 * USEC_PER_SEC },
        { "h", 3600 * USEC_PER_SEC },
        { "days", 86400 * USEC_PER_SEC },
        { "day", 86400 * USEC_PER_SEC },
        { "d", 86400 * USEC_PER_SEC },
        { "weeks", 7 * 86400 * USEC_PER_SEC },
        { "week", 7 * 86400 * USEC_PER_SEC },
        { "w", 7 * 86400 * USEC_PER_SEC },
        { "months", 2629800 * USEC_PER_SEC },
        { "month", 2629800 * USEC_PER_SEC },
        { "M", 2629800 * USEC_PER_SEC },
        { "years", 31557600 * USEC_PER_SEC },
        { "year", 31557600 * USEC_PER_SEC },
        { "y", 31557600 * USEC_PER_SEC },
};

static bool is_space(char c) {
        return c == ' ' || c == '\t';
}

/* One "<number>[.<fraction>][ ]<unit>" at *p. A number without a unit is seconds, and only as the first
 * component with nothing after it: "5" is 5s, "5 10s" is an error. */
static int parse_time_component(const char **p, bool first, uint64_t *ret) {
        uint64_t whole, frac = 0, frac_scale = 1, unit = USEC_PER_SEC, v;
        unsigned __int128 fraction;
        const char *q;
        size_t best = 0;
        int r;

        r = parse_digits(*p, &whole, &q);
        if (r < 0)
                return r;
        if (*q == '.') {
                const char *f = q + 1;

                /* Microseconds are the finest unit; digits past that are dropped. */
                for (; *f >= '0' && *f <= '9'; f++)
                        if (frac_scale < 1000000) {
                                frac = frac * 10 + (uint64_t) (*f - '0');
                                frac_scale *= 10;
                        }
                if (f == q + 1)
                        return -EINVAL;
                q = f;
        }
        while (is_space(*q))
                q++;
        for (size_t i = 0; i < ELEMENTSOF(time_units); i++) {
                size_t n = strlen(time_units[i].name);

                if (n > best && strncmp(q, time_units[i].name, n) == 0 && !(q[n] >= 'a' && q[n] <= 'z')) {
                        best = n;
                        unit = time_units[i].usec;
                }
        }
        if (best == 0 && (!first || *q != '\0'))
                return -EINVAL;
        q += best;

        /* frac * unit alone outgrows 64 bits for a year: 128 bits, then the range check. */
        fraction = (unsigned __int128) frac * unit / frac_scale;
        if (whole > UINT64_MAX / unit)
                return -ERANGE;
        v = whole * unit;
        if (fraction > UINT64_MAX - v)
                return -ERANGE;
        *ret = v + (uint64_t) fraction;
        *p = q;
        return 0;
}

int parse_timespan(const char *s, uint64_t *ret) {
        uint64_t total = 0;
        bool first = true;
        const char *p;
        int r;

        assert(s);
        assert(ret);

        for (p = s; is_space(*p); p++)
                ;
        if (*p == '\0')
                return -EINVAL;
        /* "2min 30s", "1h30min": components add up. */
        while (*p != '\0') {
                uint64_t v;

                r = parse_time_component(&p, first, &v);
                if (r < 0)
                        return r;
                first = false;
                if (total > UINT64_MAX - v)
                        return -ERANGE;
                total += v;
                while (is_space(*p))
                        p++;
        }
        *ret = total;
        return 0;
}

const char *format_timespan(char *buf, size_t size, uint64_t usec) {
        static const struct {
                const char *name;
                uint64_t usec;
        } units[] = {
                { "h", 3600 * USEC_PER_SEC },
                { "min", 60 * USEC_PER_SEC },
                { "s", USEC_PER_SEC },
                { "ms", USEC_PER_MSEC },
                { "us", 1 },
        };
        size_t n = 0;

        assert(buf);
        assert(size > 0);

        if (usec == 0) {
                snprintf(buf, size, "0");
                return buf;
        }
        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(units) && usec > 0; i++) {
                uint64_t k = usec / units[i].usec;

                if (k == 0)
                        continue;
                usec -= k * units[i].usec;
                n += (size_t) snprintf(buf + MIN(n, size - 1), size - MIN(n, size - 1), "%s%" PRIu64 "%s",
                                n > 0 ? " " : "", k, units[i].name);
        }
        return buf;
}

int parse_size(const char *s, uint64_t *ret) {
        uint64_t v, factor = 1;
        const char *p;
        int r;

        assert(s);
        assert(ret);

        r = parse_digits(s, &v, &p);
        if (r < 0)
                return r;
        switch (*p) {
        case '\0':
                break;
        case 'K':
                factor = UINT64_C(1) << 10;
                break;
        case 'M':
                factor = UINT64_C(1) << 20;
                break;
        case 'G':
                factor = UINT64_C(1) << 30;
                break;
        default:
                return -EINVAL;
        }
        if (*p != '\0' && p[1] != '\0')
                return -EINVAL;
        if (v > UINT64_MAX / factor)
                return -ERANGE;
        *ret = v * factor;
        return 0;
}

int parse_timeout(const char *s, uint64_t *ret) {
        uint64_t v;

        assert(s);
        assert(ret);

        if (parse_timespan(s, &v) < 0 || v < USEC_PER_MSEC || v > 24 * 3600 * USEC_PER_SEC)
                return -EINVAL;
        *ret = v;
        return 0;
}

const char *format_timespan_ms(char *buf, size_t size, uint64_t usec) {
        static const struct {
                const char *name;
                uint64_t usec;
        } units[] = {
                { "h", 3600 * USEC_PER_SEC },
                { "min", 60 * USEC_PER_SEC },
                { "s", USEC_PER_SEC },
                { "ms", USEC_PER_MSEC },
        };
        size_t n = 0;

        assert(buf);
        assert(size > 0);

        if (usec < USEC_PER_MSEC) {
                snprintf(buf, size, "0");
                return buf;
        }
        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(units) && usec >= USEC_PER_MSEC; i++) {
                uint64_t k = usec / units[i].usec, rest = usec % units[i].usec;
                size_t at = MIN(n, size - 1);

                if (k == 0)
                        continue;
                /* Under a minute, seconds with their milliseconds as decimals, as systemd writes them. */
                if (units[i].usec == USEC_PER_SEC && rest >= USEC_PER_MSEC) {
                        snprintf(buf + at, size - at, "%s%" PRIu64 ".%03" PRIu64 "s", n > 0 ? " " : "", k,
                                        rest / USEC_PER_MSEC);
                        break;
                }
                usec = rest;
                n += (size_t) snprintf(buf + at, size - at, "%s%" PRIu64 "%s", n > 0 ? " " : "", k, units[i].name);
        }
        return buf;
}

int parse_celsius(const char *s, int64_t *ret) {
        bool negative = false;
        int64_t v = 0;
        size_t i = 0, decimals = 0;

        assert(s);
        assert(ret);

        if (s[0] == '-' || s[0] == '+')
                negative = s[i++] == '-';
        if (!(s[i] >= '0' && s[i] <= '9'))
                return -EINVAL;
        for (; s[i] >= '0' && s[i] <= '9'; i++) {
                v = v * 10 + (s[i] - '0');
                if (v > CELSIUS_OPTION_MAX / 1000)
                        return -ERANGE;
        }
        v *= 1000;
        if (s[i] == '.') {
                int64_t scale = 100;

                if (!(s[++i] >= '0' && s[i] <= '9'))
                        return -EINVAL;
                for (; s[i] >= '0' && s[i] <= '9'; i++, decimals++) {
                        if (decimals >= 3)
                                return -EINVAL; /* a millidegree is as fine as a reading is */
                        v += (s[i] - '0') * scale;
                        scale /= 10;
                }
        }
        if (s[i] != '\0')
                return -EINVAL;
        if (v > CELSIUS_OPTION_MAX)
                return -ERANGE;
        *ret = negative ? -v : v;
        return 0;
}

bool parse_origin_is_valid(const char *s) {
        const char *host, *end;
        uint64_t port, default_port;

        if (!s)
                return false;
        if (strcmp(s, "*") == 0)
                return true;
        if (startswith(s, "http://")) {
                host = s + strlen("http://");
                default_port = 80;
        } else if (startswith(s, "https://")) {
                host = s + strlen("https://");
                default_port = 443;
        } else
                return false;
        /* Lowercase only, and no default port: a browser's Origin never has them, and the header is compared
         * byte for byte. */
        if (*host == '[') {
                end = host + 1 + strspn(host + 1, "0123456789abcdef:.");
                if (end == host + 1 || *end != ']')
                        return false;
                end++;
        } else {
                end = host + strspn(host, "abcdefghijklmnopqrstuvwxyz0123456789-.");
                if (end == host || *host == '.' || *host == '-' || end[-1] == '.' || end[-1] == '-')
                        return false;
        }
        if (*end == '\0')
                return true;
        return *end == ':' && end[1] != '0' && parse_uint64(end + 1, 1, 65535, &port) >= 0 && port != default_port;
}
