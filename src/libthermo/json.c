/* SPDX-License-Identifier: MIT */
#include "json.h"
#include "macro.h"
#include "text.h"

void json_write_string(FILE *f, const char *s) {
        assert(f);
        assert(s);

        fputc('"', f);
        while (*s) {
                uint32_t c;
                size_t n = text_utf8_char(s, &c);

                if (n == 0) {
                        /* JSON is UTF-8: a byte that is no character of it is the replacement character. */
                        fputs("\\ufffd", f);
                        s++;
                        continue;
                }
                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", (char) c);
                else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f))
                        fprintf(f, "\\u%04x", (unsigned) c);
                else
                        fwrite(s, 1, n, f);
                s += n;
        }
        fputc('"', f);
}
