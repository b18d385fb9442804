/* SPDX-License-Identifier: MIT */
#pragma once

#include <netinet/in.h>
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

/* The reverse: what REMOTE_ADDR= and log lines show. A Unix socket without a name shows as "unix". */
void socket_address_format(const SocketAddress *a, char *buf, size_t size);

/* The address of the peer of a connected socket, formatted; for a Unix socket, with its pid. */
void socket_peer_format(int fd, char *buf, size_t size);
