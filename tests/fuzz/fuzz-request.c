/* SPDX-License-Identifier: MIT */
/* What a client may send: any bytes, split into lines and parsed as requests, as both servers do. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "line-buffer.h"
#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        LineBuffer b = {};
        bool eof = false;

        for (;;) {
                const char *line, *error = NULL;
                size_t n, chunk = MIN(size, line_buffer_room(&b));
                Request req;
                int r;

                if (chunk > 0 && line_buffer_append(&b, (const char *) data, chunk) < 0)
                        abort();
                data += chunk;
                size -= chunk;
                eof = size == 0;

                r = line_buffer_next(&b, eof, &line, &n);
                if (r == -EMSGSIZE || r == -EPIPE || (r == 0 && eof))
                        return 0;
                if (r == 0)
                        continue;
                if (n >= PROTOCOL_LINE_MAX)
                        abort(); /* a line is never longer than the protocol allows */
                r = protocol_parse_request(line, n, &req, &error);
                if (r < 0 && (r != -EBADMSG || !error))
                        abort(); /* a bad request always says why, for ERR 400 */
                if (r == 0 && req.type == REQUEST_STREAM && req.count > PROTOCOL_COUNT_MAX)
                        abort();
        }
}
