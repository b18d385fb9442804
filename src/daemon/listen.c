/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "listen.h"
#include "macro.h"

/* Whether something accepts connections on the Unix socket at a. */
static bool unix_socket_is_live(const SocketAddress *a) {
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        /* Non-blocking: a live listener with a full backlog says EAGAIN, which is live too. */
        return fd >= 0 && (connect(fd, &a->sa, a->size) == 0 || errno == EAGAIN);
}

/* The kernel's buffers of one client: what it holds beyond our own queue (--buffer-size). Left to
 * autotuning, a client that pipelines requests and never reads pins 4 MiB of replies in the kernel. */
#define KERNEL_BUFFER_MAX (64 * 1024)

/* Lowers a socket buffer to KERNEL_BUFFER_MAX; one set lower already (SendBuffer= of the socket unit)
 * stays. */
static void cap_buffer(int fd, int option) {
        int size = 0, max = KERNEL_BUFFER_MAX;
        socklen_t n = sizeof(size);

        /* The kernel reports twice what was set (its bookkeeping). */
        if (getsockopt(fd, SOL_SOCKET, option, &size, &n) == 0 && size / 2 > max)
                (void) setsockopt(fd, SOL_SOCKET, option, &max, sizeof(max));
}

void listen_tune_connection(int fd) {
        static const int on = 1, idle_s = 60, interval_s = 10, probes = 6;
        static const unsigned user_timeout_ms = 120 * 1000;

        cap_buffer(fd, SO_SNDBUF);
        cap_buffer(fd, SO_RCVBUF);

        /* A peer that vanished without a FIN: found out by keepalive probes when the connection is idle
         * (60s, then 6 probes 10s apart), and by TCP_USER_TIMEOUT when what we send goes unacknowledged
         * for 2 minutes (a stream to a dead peer). */
        if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) < 0)
                return;
        (void) setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof(idle_s));
        (void) setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof(interval_s));
        (void) setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof(probes));
        (void) setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof(user_timeout_ms));
}

int listen_open(const SocketAddress *a, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        int one = 1;

        assert(a);
        assert(ret_fd);

        fd = socket(a->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;

        if (a->sa.sa_family == AF_UNIX) {
                struct stat st;

                /* A socket file left behind by an earlier run is replaced; one that a live server answers
                 * on is that server's, and we are a second one: EADDRINUSE, as for a port. */
                if (a->un.sun_path[0] != '\0' && stat(a->un.sun_path, &st) == 0 && S_ISSOCK(st.st_mode)) {
                        if (unix_socket_is_live(a))
                                return -EADDRINUSE;
                        (void) unlink(a->un.sun_path);
                }
        } else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
                return -errno;
        if (a->sa.sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
                return -errno;

        if (bind(fd, &a->sa, a->size) < 0)
                return -errno;
        if (listen(fd, SOMAXCONN) < 0)
                return -errno;

        *ret_fd = TAKE_FD(fd);
        return 0;
}

int listen_from_systemd(int **ret_fds, char ***ret_names) {
        char **names = NULL;
        int *fds, n;

        assert(ret_fds);
        assert(ret_names);

        n = sd_listen_fds_with_names(1, &names);
        if (n <= 0) {
                *ret_fds = NULL;
                *ret_names = NULL;
                return n;
        }

        fds = calloc((size_t) n, sizeof(int));
        if (!fds) {
                for (int i = 0; i < n; i++) {
                        safe_close(SD_LISTEN_FDS_START + i);
                        free(names[i]);
                }
                free(names);
                return -ENOMEM;
        }
        for (int i = 0; i < n; i++)
                fds[i] = SD_LISTEN_FDS_START + i;
        *ret_fds = fds;
        *ret_names = names;
        return n;
}

int listen_check_passed(int fd) {
        int r;

        /* Its own error where it has one (EBADF...), ENOTSOCK for what is no listening stream. */
        r = sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1);
        if (r <= 0)
                return r < 0 ? r : -ENOTSOCK;
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
                return -errno;
        return 0;
}
