/* SPDX-License-Identifier: MIT */
/* The connection layer and a thermo/1 session, fed arbitrary bytes in arbitrary pieces while the peer
 * reads the replies in arbitrary pieces of its own, half-closes, and the event loop runs in between: the
 * input is a script of those steps (peer-script.h). Whatever it does, the server must not crash, and once the peer has
 * gone, the client must be counted out (no slot held for ever). */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "front-end-thermo.h"
#include "fuzz.h"
#include "fuzz-server.h"
#include "log.h"
#include "manager.h"
#include "peer-script.h"
#include "session.h"

static ServerOptions options = {
        .buffer_size = 1024,            /* small: flow control and skipped readings come into play */
        .max_clients = 4,
        .max_clients_per_address = 4,
        .idle_timeout = 60 * UINT64_C(1000000),
        .interval = 250,                /* a tick every 250us, so that streams stream: faster than --interval
                                         * allows, as the harness sets it */
};

/* As thermo-server takes requests (src/server/main.c). */
static void handle_client(Session *s, Pump *reader) {
        const char *line;
        size_t n;
        int r;

        while ((r = connection_read_line(&s->connection, reader, &line, &n)) > 0)
                session_handle_line(s, line, n);
        if (r == -EMSGSIZE)
                session_handle_line_too_long(s);
        else if (r == -EPIPE)
                session_handle_eof(s);
}

/* The process's server, made once: a manager with thermo/1 as its front end, and two sensors. */
static Manager *server(FrontEnd **ret_thermo) {
        static Manager *m;
        static FrontEnd *thermo;
        FrontEnd *fe = NULL;

        *ret_thermo = thermo;
        if (m)
                return m;
        m = fuzz_manager_new(&options);
        if (thermo_front_end_new(m, "fuzz", handle_client, &fe) < 0 || manager_add_front_end(m, fe) < 0)
                abort();
        *ret_thermo = thermo = fe;
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
