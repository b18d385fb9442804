/* SPDX-License-Identifier: MIT */
/* thermo-server: the streams style of asyncio. Each client is handled by a loop that reads a request line,
 * handles it, and lets the writer drain before it reads the next:
 *
 *     async def handle_client(reader, writer):
 *         while line := await reader.readline():
 *             handle(line)
 *             await writer.drain()
 *
 * In C on one event loop, each await is a return: the connection calls the handler again when there is
 * more to read, and not before the writer has drained (connection_read_line() holds requests back while
 * the replies to earlier ones wait). */
#include <errno.h>

#include "server-main.h"

static void handle_client(Session *s, Pump *reader) {
        const char *line;
        size_t n;
        int r;

        while ((r = connection_read_line(&s->connection, reader, &line, &n)) > 0)
                session_handle_line(s, line, n);
        if (r == -EMSGSIZE)
                session_handle_line_too_long(s);
        else if (r == -EPIPE)
                session_handle_eof(s);
}

int main(int argc, char *argv[]) {
        return server_main(argc, argv, "thermo-server", "127.0.0.1:8888", handle_client);
}
