/* SPDX-License-Identifier: MIT */
/* The HTTP front end as a scraper, or anyone, reaches it: arbitrary bytes in arbitrary pieces (requests,
 * Accept headers, keep-alive, half-closes), while the peer reads in pieces of its own and the loop runs
 * in between (peer-script.h). Whatever it sends, what comes back is HTTP, and once the peer has gone the
 * connection is counted out. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "front-end-metrics.h"
#include "fuzz.h"
#include "fuzz-server.h"
#include "log.h"
#include "manager.h"
#include "peer-script.h"

static ServerOptions options = {
        .buffer_size = 1024,
        .max_clients = 4,
        .max_clients_per_address = 4,
        .idle_timeout = 60 * UINT64_C(1000000),
        .interval = 250,                /* a tick every 250us: faster than --interval allows */
};

/* The process's server, made once: a manager with HTTP metrics as its front end, and two sensors. */
static Manager *server(FrontEnd **ret_metrics) {
        static Manager *m;
        static FrontEnd *metrics;

        *ret_metrics = metrics;
        if (m)
                return m;
        m = fuzz_manager_new(&options);
        if (metrics_front_end_new(m, "fuzz", &metrics) < 0 || manager_add_front_end(m, metrics) < 0)
                abort();
        *ret_metrics = metrics;
        return m;
}

typedef struct Seen {
        char start[9];
        size_t n;
} Seen;

/* What the peer reads begins as an HTTP response does. */
static void seen(const char *buf, size_t n, void *userdata) {
        Seen *s = userdata;
        size_t k = MIN(n, sizeof(s->start) - s->n);

        memcpy(s->start + s->n, buf, k);
        s->n += k;
        if (memcmp(s->start, "HTTP/1.1 ", s->n) != 0)
                abort();
}

static bool no_client(void *userdata) {
        return ((Manager *) userdata)->n_peers == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const PeerAddress address = { .family = AF_UNIX };
        FrontEnd *metrics;
        Manager *m = server(&metrics);
        Seen s = {};
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
                abort();
        /* As the listener hands over what it accepted. */
        if (metrics->ops->open(metrics, sv[0], &address) < 0) {
                close(sv[1]);
                return 0;
        }
        peer_script_run(data, size, sv[1], m->event, seen, &s);

        close(sv[1]);
        if (!peer_script_wait(m->event, no_client, m))
                abort();
        return 0;
}
