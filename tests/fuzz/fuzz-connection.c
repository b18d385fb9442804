/* SPDX-License-Identifier: MIT */
/* The connection layer and a thermo/1 session, fed arbitrary bytes in arbitrary pieces while the peer
 * reads the replies in arbitrary pieces of its own, half-closes, and the event loop runs in between: the
 * input is a script of those steps (peer-script.h). Whatever it does, the server must not crash, and once the peer has
 * gone, the client must be counted out (no slot held for ever). */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "fuzz-server.h"
#include "manager.h"
#include "peer-script.h"

static ServerOptions options = {
        .buffer_size = 1024,            /* small: flow control and skipped readings come into play */
        .max_clients = 4,
        .max_clients_per_address = 4,
        .idle_timeout = 60 * UINT64_C(1000000),
        .interval = 250,                /* a tick every 250us, so that streams stream: faster than --interval
                                         * allows, as the harness sets it */
};

/* The process's server, made once: a manager with thermo/1 as its front end, and two sensors. */
static Manager *server(FrontEnd **ret_thermo) {
        static Manager *m;
        static FrontEnd *thermo;

        if (!m)
                m = fuzz_thermo_server_new(&options, &thermo);
        *ret_thermo = thermo;
        return m;
}

static bool no_client(void *userdata) {
        return ((Manager *) userdata)->n_peers == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const PeerAddress address = { .family = AF_UNIX };
        FrontEnd *thermo;
        Manager *m = server(&thermo);
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
                abort();
        /* As the listener hands over what it accepted. */
        if (thermo->ops->open(thermo, sv[0], &address) < 0) {
                close(sv[1]);
                return 0;
        }
        peer_script_run(data, size, sv[1], m->event, NULL, NULL);

        /* The peer goes: the client must be gone within a few seconds of loop time (a close may linger). */
        close(sv[1]);
        if (!peer_script_wait(m->event, no_client, m))
                abort();
        return 0;
}
