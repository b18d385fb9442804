/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "line.h"
#include "macro.h"

int line_next(const char *buf, size_t n, size_t *ret_length) {
        const char *nl;
        size_t length;

        assert(buf || n == 0);
        assert(ret_length);

        nl = n > 0 ? memchr(buf, '\n', MIN(n, (size_t) LINE_MAX_BYTES)) : NULL;
        if (!nl)
                return n >= LINE_MAX_BYTES ? -EMSGSIZE : 0;

        length = (size_t) (nl - buf);
        if (length > 0 && buf[length - 1] == '\r')
                length--;
        *ret_length = length;
        return (int) (nl - buf + 1);
}

bool line_is_blank(const char *line, size_t n) {
        assert(line || n == 0);

        for (size_t i = 0; i < n; i++)
                if (line[i] != ' ' && line[i] != '\t')
                        return false;
        return true;
}
