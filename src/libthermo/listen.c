/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "listen.h"
#include "macro.h"

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
                /* Left behind by an earlier run that did not clean up: nobody can be listening there. */
                if (a->un.sun_path[0] != '\0' && stat(a->un.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
                        (void) unlink(a->un.sun_path);
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
        if (!fds)
                goto fail_errno;
        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i;

                if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
                        errno = ENOTSOCK;
                        goto fail_errno;
                }
                if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
                        goto fail_errno;
                fds[i] = fd;
        }
        *ret_fds = fds;
        *ret_names = names;
        return n;

fail_errno:
        n = -errno;
        free(fds);
        for (char **p = names; p && *p; p++)
                free(*p);
        free(names);
        return n;
}
