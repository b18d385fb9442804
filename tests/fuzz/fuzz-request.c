/* SPDX-License-Identifier: MIT */
/* What a client may send: any bytes, split into lines and parsed as requests, as both servers do: lines
 * framed in a buffer of one line's length (see connection.c), then each parsed. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "protocol.h"

static void parse(const char *line, size_t n) {
        const char *error = NULL;
        Request req;
        int r;

        if (n >= PROTOCOL_LINE_MAX)
                abort(); /* a line is never longer than the protocol allows */
        r = protocol_parse_request(line, n, &req, &error);
        if (r < 0 && (r != -EBADMSG || !error))
                abort(); /* a bad request always says why, for ERR 400 */
        if (r == 0 && req.type == REQUEST_STREAM && req.count > PROTOCOL_COUNT_MAX)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char buf[LINE_MAX_BYTES];
        size_t start = 0, end = 0;

        for (;;) {
                size_t n, chunk;
                int r;

                r = line_next(buf + start, end - start, &n);
                if (r < 0)
                        return 0; /* ERR 413, and the server closes */
                if (r > 0) {
                        parse(buf + start, n);
                        start += (size_t) r;
                        continue;
                }
                memmove(buf, buf + start, end - start);
                end -= start;
                start = 0;
                if (size == 0) {
                        /* At the end of input, what is left is the last line. */
                        if (end > 0)
                                parse(buf, end - (buf[end - 1] == '\r'));
                        return 0;
                }
                chunk = MIN(size, sizeof(buf) - end);
                memcpy(buf + end, data, chunk);
                data += chunk;
                size -= chunk;
                end += chunk;
        }
}
