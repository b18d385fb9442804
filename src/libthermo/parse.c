/* SPDX-License-Identifier: MIT */
#include <errno.h>
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

static const struct {
        const char *suffix;
        uint64_t usec;
} time_units[] = {
        { "us", 1 },
        { "ms", USEC_PER_MSEC },
        { "s", USEC_PER_SEC },
        { "sec", USEC_PER_SEC },
        { "m", 60 * USEC_PER_SEC },
        { "min", 60 * USEC_PER_SEC },
        { "h", 3600 * USEC_PER_SEC },
};

int parse_timespan(const char *s, uint64_t default_unit_usec, uint64_t *ret) {
        uint64_t whole, frac = 0, frac_scale = 1, unit = default_unit_usec;
        const char *p;
        int r;

        assert(s);
        assert(ret);

        r = parse_digits(s, &whole, &p);
        if (r < 0)
                return r;
        if (*p == '.') {
                const char *q = p + 1;
                /* Microseconds are the finest unit; digits past that are dropped. */
                for (; *q >= '0' && *q <= '9'; q++)
                        if (frac_scale < 1000000) {
                                frac = frac * 10 + (uint64_t) (*q - '0');
                                frac_scale *= 10;
                        }
                if (q == p + 1)
                        return -EINVAL;
                p = q;
        }
        if (*p != '\0') {
                size_t i;
                for (i = 0; i < ELEMENTSOF(time_units); i++)
                        if (strcmp(p, time_units[i].suffix) == 0)
                                break;
                if (i >= ELEMENTSOF(time_units))
                        return -EINVAL;
                unit = time_units[i].usec;
        }
        if (whole > UINT64_MAX / unit)
                return -ERANGE;
        *ret = whole * unit + frac * unit / frac_scale;
        return 0;
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

        if (parse_timespan(s, USEC_PER_SEC, &v) < 0 || v < USEC_PER_MSEC || v > 24 * 3600 * USEC_PER_SEC)
                return -EINVAL;
        *ret = v;
        return 0;
}
