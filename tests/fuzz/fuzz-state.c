/* SPDX-License-Identifier: MIT */
/* What a server takes over at a restart (handover.c): the state the server before left, as bytes, with a
 * client's socket beside it. The bytes are the previous process's, but a bug of its, a version's, or a
 * truncated memfd must cost clients their connections at worst, never the server. One client's socket
 * waits beside it, as the first of the state's, so that its session is restored and served; then the peer
 * goes, and the client must be counted out. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "fuzz-server.h"
#include "handover.h"
#include "manager.h"
#include "peer-script.h"

#define HISTORY_SPAN (60 * UINT64_C(1000000))

static ServerOptions options = {
        .buffer_size = 1024,
        .max_clients = 4,
        .max_clients_per_address = 4,
        .idle_timeout = 60 * UINT64_C(1000000),
        .interval = 250,
        .history = HISTORY_SPAN,
};

/* A manager with thermo/1 and two sensors, "simulated" and "second", made once. */
static Manager *server(void) {
        static Manager *m;
        FrontEnd *thermo;

        if (!m)
                m = fuzz_thermo_server_new(&options, &thermo);
        return m;
}

static bool no_client(void *userdata) {
        return ((Manager *) userdata)->n_peers == 0;
}

/* The socket the clients' sockets wait in, as handover_store() leaves it: sock, in one message. */
static int carrier(int sock) {
        union {
                struct cmsghdr header;
                char space[CMSG_SPACE(sizeof(int))];
        } control = {};
        uint32_t first = 0;
        struct iovec iov = { .iov_base = &first, .iov_len = sizeof(first) };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                              .msg_controllen = sizeof(control) };
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        int pair[2];

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                abort();
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &sock, sizeof(int));
        if (sendmsg(pair[0], &msg, MSG_NOSIGNAL) < 0)
                abort();
        close(pair[0]);
        close(sock);
        return pair[1];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        StateWriter bytes = { .data = (uint8_t *) data, .size = size };
        char *const names[] = { (char *) "state", (char *) "clients" };
        Manager *m = server();
        int sv[2], fds[2];

        /* No state at all is no memfd: handover_take() sees an empty one as any other bad one. */
        if (size == 0)
                return 0;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0 ||
                        state_writer_to_memfd(&bytes, "fuzz-state", &fds[0]) < 0)
                abort();
        fds[1] = carrier(sv[0]);

        /* A fresh history each time: one server takes one state over. */
        if (thermometer_set_history(m->thermometer, HISTORY_SPAN) < 0)
                abort();
        handover_take(m, fds, names, 2);
        peer_script_run((const uint8_t *) "\1\1\1\1", 4, sv[1], m->event, NULL, NULL);
        close(sv[1]);
        if (!peer_script_wait(m->event, no_client, m))
                abort();
        return 0;
}
