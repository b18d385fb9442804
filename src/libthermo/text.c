/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>

#include "text.h"

size_t text_utf8_char(const char *str, uint32_t *ret) {
        const unsigned char *s = (const unsigned char *) str;
        uint32_t c;
        size_t n;

        assert(s);
        assert(ret);

        if (s[0] < 0x80) {
                *ret = s[0];
                return 1;
        }
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                n = 2, c = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                n = 3, c = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                n = 4, c = s[0] & 0x07;
        else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (s[i] & 0x3f);
        }
        if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *ret = c;
        return n;
}

/* The length of the printable UTF-8 character at s, or 0 when it is none: a control character (C0, DEL,
 * C1), or no character at all. */
static size_t printable_length(const unsigned char *s) {
        uint32_t c;
        size_t n = text_utf8_char((const char *) s, &c);

        if (n == 0 || c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f))
                return 0;
        return n;
}

bool text_is_printable(const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        assert(s);

        /* Most of what comes is printable ASCII: no decoding for it. */
        while (*p >= 0x20 && *p < 0x7f)
                p++;
        while (*p) {
                size_t n = printable_length(p);

                if (n == 0)
                        return false;
                p += n;
        }
        return true;
}

const char *text_escape(const char *s, char *buf, size_t size) {
        const unsigned char *p = (const unsigned char *) s;
        size_t at = 0;

        assert(s);
        assert(buf);
        assert(size > 0);

        while (*p) {
                size_t n = printable_length(p);
                char escaped[5];
                const char *add = escaped;
                size_t len;

                if (n > 0 && *p != '\\') {
                        add = (const char *) p;
                        len = n;
                } else if (*p == '\\')
                        len = (size_t) snprintf(escaped, sizeof(escaped), "\\\\");
                else
                        len = (size_t) snprintf(escaped, sizeof(escaped), "\\x%02x", *p);
                if (at + len >= size)
                        break;
                for (size_t i = 0; i < len; i++)
                        buf[at++] = add[i];
                p += n > 0 ? n : 1;
        }
        buf[at] = '\0';
        return buf;
}
