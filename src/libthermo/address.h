/* SPDX-License-Identifier: MIT */
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

typedef struct SocketAddress {
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
                struct sockaddr_un un;
                struct sockaddr_storage storage;
        };
        socklen_t size;
} SocketAddress;

/* Longest formatted address: "[" IPv6 "%" scope "]:" port, or a Unix socket path. */
#define SOCKET_ADDRESS_STRING_MAX (sizeof(((struct sockaddr_un *) 0)->sun_path) + 8)

/* "127.0.0.1:8888", "[::1]:8888", "/run/thermo.sock" or "@abstract" (numeric only, no name lookup). */
int socket_address_parse(const char *s, SocketAddress *ret);

/* As socket_address_parse(), and "HOST:PORT" with a host name as well: the name is looked up (at start, where
 * the wait does not matter), and every address it has is returned, each once (a new array, *ret_n of them).
 * -EADDRNOTAVAIL when the name has none; then *ret_error says why. */
int socket_address_resolve(const char *s, SocketAddress **ret, size_t *ret_n, const char **ret_error);

/* The reverse: what REMOTE_ADDR= and log lines show. A Unix socket without a name shows as "unix". */
void socket_address_format(const SocketAddress *a, char *buf, size_t size);

/* Who is at the other end of a connection, in 20 bytes: every client keeps one. IPv4 is kept as an
 * IPv4-mapped IPv6 address; a Unix socket peer by its pid. */
typedef struct PeerAddress {
        union {
                struct in6_addr in6;
                uint32_t pid;
        };
        uint16_t port;          /* host byte order */
        uint8_t family;         /* AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC when unknown */
} PeerAddress;

#define PEER_ADDRESS_STRING_MAX (INET6_ADDRSTRLEN + 8)

/* The peer of a connected socket; AF_UNSPEC when it is not known: -ENOTCONN for a socket whose peer has
 * reset it already (nobody to serve), 0 otherwise. */
int peer_address_from_socket(int fd, PeerAddress *ret);
/* "127.0.0.1:40312", "[::1]:40312", "unix:pid=4242" or "unknown": what REMOTE_ADDR= and log lines show. */
void peer_address_format(const PeerAddress *a, char *buf, size_t size);
