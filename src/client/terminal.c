/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "terminal.h"

bool terminal_colors(int fd) {
        const char *term = getenv("TERM");

        if (getenv("NO_COLOR"))
                return false;
        if (!term || strcmp(term, "dumb") == 0)
                return false;
        return isatty(fd);
}

bool terminal_size(int fd, unsigned *ret_columns, unsigned *ret_lines) {
        struct winsize ws;

        assert(ret_columns);
        assert(ret_lines);

        if (ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0 || ws.ws_row == 0)
                return false;
        *ret_columns = ws.ws_col;
        *ret_lines = ws.ws_row;
        return true;
}

void terminal_write_safe(FILE *f, const char *s) {
        assert(f);
        assert(s);

        for (; *s; s++)
                fputc((unsigned char) *s < 0x20 || *s == 0x7f ? '?' : *s, f);
}
