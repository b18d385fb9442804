/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "reading.h"

size_t format_millidegrees(char *buf, size_t size, int64_t milli) {
        /* Negate as unsigned, so that INT64_MIN does not overflow. */
        uint64_t a = milli < 0 ? -(uint64_t) milli : (uint64_t) milli;
        char digits[32], *p = digits + sizeof(digits);
        size_t n;

        assert(buf);
        assert(size > 0);

        /* By hand, right to left, not snprintf(): every reading a program sends is formatted here. */
        for (int k = 0; k < 3; k++, a /= 10)
                *--p = (char) ('0' + a % 10);
        *--p = '.';
        do
                *--p = (char) ('0' + a % 10);
        while ((a /= 10) > 0);
        if (milli < 0)
                *--p = '-';
        n = MIN((size_t) (digits + sizeof(digits) - p), size - 1);
        memcpy(buf, p, n);
        buf[n] = '\0';
        return n;
}

const char *format_limit(char buf[static 32], bool has, int64_t milli, const char *none) {
        assert(buf);
        assert(none);

        if (!has)
                return strcpy(buf, none);
        format_millidegrees(buf, 32, milli);
        return buf;
}
