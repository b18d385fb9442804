/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "macro.h"
#include "parse.h"

static int parse_port(const char *s, uint16_t *ret) {
        uint64_t port;
        int r;

        r = parse_uint64(s, 1, 65535, &port);
        if (r < 0)
                return r;
        *ret = htons((uint16_t) port);
        return 0;
}

int socket_address_parse(const char *s, SocketAddress *ret) {
        SocketAddress a = {};
        char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
        const char *colon;
        size_t n;

        assert(s);
        assert(ret);

        if (s[0] == '/' || s[0] == '@') {
                /* A leading '@' is Linux's abstract namespace: a NUL byte at the start of the path. */
                n = strlen(s);
                if (n >= sizeof(a.un.sun_path))
                        return -ENAMETOOLONG;
                a.un.sun_family = AF_UNIX;
                memcpy(a.un.sun_path, s, n);
                if (s[0] == '@') {
                        a.un.sun_path[0] = '\0';
                        a.size = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n);
                } else
                        a.size = (socklen_t) sizeof(a.un);
                *ret = a;
                return 0;
        }

        if (s[0] == '[') {
                const char *close = strchr(s, ']'), *percent;

                if (!close || close[1] != ':')
                        return -EINVAL;
                n = (size_t) (close - s - 1);
                if (n >= sizeof(host))
                        return -EINVAL;
                memcpy(host, s + 1, n);
                host[n] = '\0';

                percent = strchr(host, '%');
                if (percent) {
                        a.in6.sin6_scope_id = if_nametoindex(percent + 1);
                        if (a.in6.sin6_scope_id == 0)
                                return -ENODEV;
                        host[percent - host] = '\0';
                }
                if (inet_pton(AF_INET6, host, &a.in6.sin6_addr) != 1)
                        return -EINVAL;
                if (parse_port(close + 2, &a.in6.sin6_port) < 0)
                        return -EINVAL;
                a.in6.sin6_family = AF_INET6;
                a.size = sizeof(a.in6);
                *ret = a;
                return 0;
        }

        colon = strrchr(s, ':');
        if (!colon)
                return -EINVAL;
        n = (size_t) (colon - s);
        if (n >= sizeof(host))
                return -EINVAL;
        memcpy(host, s, n);
        host[n] = '\0';
        if (inet_pton(AF_INET, host, &a.in.sin_addr) != 1)
                return -EINVAL;
        if (parse_port(colon + 1, &a.in.sin_port) < 0)
                return -EINVAL;
        a.in.sin_family = AF_INET;
        a.size = sizeof(a.in);
        *ret = a;
        return 0;
}

int socket_address_resolve(const char *s, SocketAddress **ret, size_t *ret_n, const char **ret_error) {
        struct addrinfo hints = {
                .ai_socktype = SOCK_STREAM,
                .ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV,
        }, *result = NULL;
        _cleanup_free_ SocketAddress *list = NULL;
        char host[NI_MAXHOST];
        const char *colon;
        uint16_t port;
        size_t n = 0;
        int r;

        assert(s);
        assert(ret);
        assert(ret_n);
        assert(ret_error);

        *ret_error = NULL;
        list = calloc(1, sizeof(SocketAddress));
        if (!list)
                return -ENOMEM;
        r = socket_address_parse(s, &list[0]);
        if (r >= 0) {
                *ret = TAKE_PTR(list);
                *ret_n = 1;
                return 0;
        }

        /* A name: no brackets, one colon, a port after it. */
        colon = strrchr(s, ':');
        if (s[0] == '[' || s[0] == '/' || s[0] == '@' || !colon || colon == s || strchr(s, ':') != colon ||
                        (size_t) (colon - s) >= sizeof(host) || parse_port(colon + 1, &port) < 0)
                return -EINVAL;
        memcpy(host, s, (size_t) (colon - s));
        host[colon - s] = '\0';

        r = getaddrinfo(host, colon + 1, &hints, &result);
        if (r != 0) {
                *ret_error = r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r);
                return -EADDRNOTAVAIL;
        }
        for (struct addrinfo *ai = result; ai; ai = ai->ai_next) {
                SocketAddress a = { .size = ai->ai_addrlen }, *p;
                bool seen = false;

                if (!IN_SET(ai->ai_family, AF_INET, AF_INET6) || ai->ai_addrlen > sizeof(a.storage))
                        continue;
                memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
                for (size_t i = 0; i < n && !seen; i++)
                        seen = list[i].size == a.size && memcmp(&list[i].storage, &a.storage, a.size) == 0;
                if (seen)
                        continue;
                p = reallocarray(list, n + 1, sizeof(SocketAddress));
                if (!p) {
                        freeaddrinfo(result);
                        return -ENOMEM;
                }
                list = p;
                list[n++] = a;
        }
        freeaddrinfo(result);
        if (n == 0) {
                *ret_error = "the name has no address";
                return -EADDRNOTAVAIL;
        }
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

void socket_address_format(const SocketAddress *a, char *buf, size_t size) {
        char host[INET6_ADDRSTRLEN];
        size_t path;

        assert(a);
        assert(buf);

        switch (a->sa.sa_family) {
        case AF_INET:
                inet_ntop(AF_INET, &a->in.sin_addr, host, sizeof(host));
                snprintf(buf, size, "%s:%u", host, ntohs(a->in.sin_port));
                break;
        case AF_INET6:
                inet_ntop(AF_INET6, &a->in6.sin6_addr, host, sizeof(host));
                snprintf(buf, size, "[%s]:%u", host, ntohs(a->in6.sin6_port));
                break;
        case AF_UNIX:
                path = a->size > offsetof(struct sockaddr_un, sun_path) ?
                                a->size - offsetof(struct sockaddr_un, sun_path) : 0;
                if (path == 0 || (a->un.sun_path[0] == '\0' && path == 1))
                        snprintf(buf, size, "unix");
                else if (a->un.sun_path[0] == '\0')
                        snprintf(buf, size, "@%.*s", (int) (path - 1), a->un.sun_path + 1);
                else
                        snprintf(buf, size, "%.*s", (int) sizeof(a->un.sun_path), a->un.sun_path);
                break;
        default:
                snprintf(buf, size, "unknown");
        }
}

int peer_address_from_socket(int fd, PeerAddress *ret) {
        SocketAddress a = { .size = sizeof(a.storage) };
        struct ucred cred;
        socklen_t n = sizeof(cred);

        assert(ret);

        *ret = (PeerAddress) { .family = AF_UNSPEC };
        if (getpeername(fd, &a.sa, &a.size) < 0)
                return errno == ENOTCONN ? -ENOTCONN : 0;
        switch (a.sa.sa_family) {
        case AF_INET:
                /* ::ffff:a.b.c.d */
                ret->in6.s6_addr[10] = ret->in6.s6_addr[11] = 0xff;
                memcpy(&ret->in6.s6_addr[12], &a.in.sin_addr, 4);
                ret->port = ntohs(a.in.sin_port);
                ret->family = AF_INET;
                break;
        case AF_INET6:
                ret->in6 = a.in6.sin6_addr;
                ret->port = ntohs(a.in6.sin6_port);
                ret->family = AF_INET6;
                break;
        case AF_UNIX:
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &n) == 0)
                        ret->pid = (uint32_t) cred.pid;
                ret->family = AF_UNIX;
                break;
        }
        return 0;
}

void peer_address_format(const PeerAddress *a, char *buf, size_t size) {
        char host[INET6_ADDRSTRLEN];

        assert(a);
        assert(buf);

        switch (a->family) {
        case AF_INET:
                inet_ntop(AF_INET, &a->in6.s6_addr[12], host, sizeof(host));
                snprintf(buf, size, "%s:%u", host, a->port);
                break;
        case AF_INET6:
                inet_ntop(AF_INET6, &a->in6, host, sizeof(host));
                snprintf(buf, size, "[%s]:%u", host, a->port);
                break;
        case AF_UNIX:
                snprintf(buf, size, "unix:pid=%" PRIu32, a->pid);
                break;
        default:
                snprintf(buf, size, "unknown");
        }
}
