/* SPDX-License-Identifier: MIT */
#pragma once

#include "connection.h"

/* A connection seen the way asyncio's transports see it: the transport reads the socket and calls its
 * protocol's callbacks when something has come; the protocol answers through the transport
 * (connection_write(), connection_close()). thermo's protocol speaks lines, so a line is what it receives. */
typedef struct TransportProtocol {
        void (*line_received)(Connection *transport, const char *line, size_t n);
        /* A line longer than LINE_MAX_BYTES came: nothing follows it. */
        void (*line_too_long)(Connection *transport);
        /* The peer will send nothing more. */
        void (*eof_received)(Connection *transport);
} TransportProtocol;

/* Calls the protocol for what has come, as long as the connection takes requests. */
void transport_dispatch(Connection *transport, Pump *p, const TransportProtocol *protocol);
