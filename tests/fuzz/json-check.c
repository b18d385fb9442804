/* SPDX-License-Identifier: MIT */
/* A strict JSON reader that only says yes or no, for the harnesses: no allocation, a bounded depth. */
#include <string.h>

#include "json-check.h"

#define DEPTH_MAX 32

typedef struct Cursor {
        const char *p, *end;
} Cursor;

static bool value(Cursor *c, unsigned depth);

static void blanks(Cursor *c) {
        while (c->p < c->end && strchr(" \t\r\n", *c->p) && *c->p)
                c->p++;
}

static bool literal(Cursor *c, const char *word) {
        size_t n = strlen(word);

        if ((size_t) (c->end - c->p) < n || memcmp(c->p, word, n) != 0)
                return false;
        c->p += n;
        return true;
}

static bool string(Cursor *c) {
        if (c->p >= c->end || *c->p != '"')
                return false;
        for (c->p++; c->p < c->end; c->p++) {
                unsigned char ch = (unsigned char) *c->p;

                if (ch == '"') {
                        c->p++;
                        return true;
                }
                if (ch < 0x20)
                        return false;
                if (ch >= 0x80) {
                        /* UTF-8, as JSON is: a lead byte and its continuations, no overlong form. */
                        size_t n = ch >= 0xc2 && ch <= 0xdf ? 2 : ch >= 0xe0 && ch <= 0xef ? 3 : ch >= 0xf0 && ch <= 0xf4 ? 4 : 0;

                        if (n == 0 || (size_t) (c->end - c->p) < n)
                                return false;
                        for (size_t i = 1; i < n; i++)
                                if (((unsigned char) c->p[i] & 0xc0) != 0x80)
                                        return false;
                        if ((ch == 0xe0 && (unsigned char) c->p[1] < 0xa0) || (ch == 0xed && (unsigned char) c->p[1] >= 0xa0) ||
                                        (ch == 0xf0 && (unsigned char) c->p[1] < 0x90) ||
                                        (ch == 0xf4 && (unsigned char) c->p[1] >= 0x90))
                                return false;
                        c->p += n - 1;
                        continue;
                }
                if (ch == '\\') {
                        if (++c->p >= c->end)
                                return false;
                        if (*c->p == 'u') {
                                for (int i = 0; i < 4; i++)
                                        if (++c->p >= c->end || !strchr("0123456789abcdefABCDEF", *c->p) || !*c->p)
                                                return false;
                        } else if (!strchr("\"\\/bfnrt", *c->p) || !*c->p)
                                return false;
                }
        }
        return false;
}

static bool digits(Cursor *c) {
        const char *start = c->p;

        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
                c->p++;
        return c->p > start;
}

static bool number(Cursor *c) {
        if (c->p < c->end && *c->p == '-')
                c->p++;
        if (c->p < c->end && *c->p == '0')
                c->p++;
        else if (!digits(c))
                return false;
        if (c->p < c->end && *c->p == '.') {
                c->p++;
                if (!digits(c))
                        return false;
        }
        if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
                c->p++;
                if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
                        c->p++;
                if (!digits(c))
                        return false;
        }
        return true;
}

static bool members(Cursor *c, unsigned depth, char close, bool keyed) {
        c->p++;
        blanks(c);
        if (c->p < c->end && *c->p == close) {
                c->p++;
                return true;
        }
        for (;;) {
                blanks(c);
                if (keyed) {
                        if (!string(c))
                                return false;
                        blanks(c);
                        if (c->p >= c->end || *c->p != ':')
                                return false;
                        c->p++;
                }
                if (!value(c, depth + 1))
                        return false;
                blanks(c);
                if (c->p >= c->end)
                        return false;
                if (*c->p == close) {
                        c->p++;
                        return true;
                }
                if (*c->p != ',')
                        return false;
                c->p++;
        }
}

static bool value(Cursor *c, unsigned depth) {
        if (depth > DEPTH_MAX)
                return false;
        blanks(c);
        if (c->p >= c->end)
                return false;
        switch (*c->p) {
        case '{':
                return members(c, depth, '}', true);
        case '[':
                return members(c, depth, ']', false);
        case '"':
                return string(c);
        case 't':
                return literal(c, "true");
        case 'f':
                return literal(c, "false");
        case 'n':
                return literal(c, "null");
        default:
                return number(c);
        }
}

bool json_check(const char *s, size_t n) {
        Cursor c = { s, s + n };

        if (!value(&c, 0))
                return false;
        blanks(&c);
        return c.p == c.end;
}
