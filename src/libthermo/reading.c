/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "reading.h"

size_t format_millidegrees(char *buf, size_t size, int64_t milli) {
        /* Negate as unsigned, so that INT64_MIN does not overflow. */
        uint64_t a = milli < 0 ? -(uint64_t) milli : (uint64_t) milli;
        int k;

        assert(buf);
        assert(size > 0);

        k = snprintf(buf, size, "%s%" PRIu64 ".%03" PRIu64, milli < 0 ? "-" : "", a / 1000, a % 1000);
        return MIN((size_t) k, size - 1);
}

const char *format_limit(char buf[static 32], bool has, int64_t milli, const char *none) {
        assert(buf);
        assert(none);

        if (!has)
                return strcpy(buf, none);
        format_millidegrees(buf, 32, milli);
        return buf;
}
