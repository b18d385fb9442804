/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "transport.h"

void transport_dispatch(Connection *transport, Pump *p, const TransportProtocol *protocol) {
        const char *line;
        size_t n;

        assert(transport);
        assert(protocol);

        for (;;)
                switch (connection_read_line(transport, p, &line, &n)) {
                case 1:
                        protocol->line_received(transport, line, n);
                        break;
                case -EMSGSIZE:
                        protocol->line_too_long(transport);
                        return;
                case -EPIPE:
                        protocol->eof_received(transport);
                        return;
                default:
                        /* Nothing more for now: the connection calls us again when there is. */
                        return;
                }
}
