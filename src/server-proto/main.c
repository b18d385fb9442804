/* SPDX-License-Identifier: MIT */
/* thermo-server-proto: the protocol style of asyncio. A transport owns the connection and calls the
 * protocol when a request line has come, or the input has ended; the protocol is the client's thermo/1
 * session, and answers through the transport:
 *
 *     class ThermoProtocol(asyncio.Protocol):
 *         def data_received(self, data): ...handle each line...
 *         def eof_received(self): ...
 */
#include "server-main.h"
#include "transport.h"

static Session *session_of(Connection *transport) {
        return container_of(transport, Session, connection);
}

static void line_received(Connection *transport, const char *line, size_t n) {
        session_handle_line(session_of(transport), line, n);
}

static void line_too_long(Connection *transport) {
        session_handle_line_too_long(session_of(transport));
}

static void eof_received(Connection *transport) {
        session_handle_eof(session_of(transport));
}

static const TransportProtocol thermo_protocol = {
        .line_received = line_received,
        .line_too_long = line_too_long,
        .eof_received = eof_received,
};

static void handle_client(Session *s, Pump *received) {
        transport_dispatch(&s->connection, received, &thermo_protocol);
}

int main(int argc, char *argv[]) {
        return server_main(argc, argv, "thermo-server-proto", "127.0.0.1:8889", handle_client);
}
