/* SPDX-License-Identifier: MIT */
#include "json.h"
#include "macro.h"

void json_write_string(FILE *f, const char *s) {
        assert(f);
        assert(s);

        fputc('"', f);
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;

                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c < 0x20 || c == 0x7f)
                        fprintf(f, "\\u%04x", c);
                else
                        fputc(c, f);
        }
        fputc('"', f);
}
