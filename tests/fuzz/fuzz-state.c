/* SPDX-License-Identifier: MIT */
/* What a server takes over at a restart (handover.c): the state the server before left, as bytes, with a
 * client's socket beside it. The bytes are the previous process's, but a bug of its, a version's, or a
 * truncated memfd must cost clients their connections at worst, never the server. Each client record is
 * given the socket's inode, as the store would, so that its session is restored and served; then the peer
 * goes, and the client must be counted out. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "front-end-thermo.h"
#include "fuzz.h"
#include "handover.h"
#include "log.h"
#include "manager.h"
#include "peer-script.h"
#include "session.h"

#define HISTORY_SPAN (60 * UINT64_C(1000000))

static ServerOptions options = {
        .buffer_size = 1024,
        .max_clients = 4,
        .max_clients_per_address = 4,
        .idle_timeout = 60 * UINT64_C(1000000),
        .interval = 250,
        .history = HISTORY_SPAN,
};

static void handle_client(Session *s, Pump *reader) {
        const char *line;
        size_t n;

        while (connection_read_line(&s->connection, reader, &line, &n) > 0)
                session_handle_line(s, line, n);
}

/* A manager with thermo/1 and two sensors, "simulated" and "second", made once. */
static Manager *server(void) {
        static Manager *m;
        char error[SENSOR_ERROR_MAX];
        FrontEnd *fe = NULL;
        Sensor **sensors;

        if (m)
                return m;
        log_set_max_level(LOG_CRIT);
        sensors = calloc(2, sizeof(Sensor *));
        if (!sensors || manager_new(&options, &m) < 0 || sensor_simulated_new("seed=1", &sensors[0], error) < 0 ||
                        sensor_simulated_new("seed=2", &sensors[1], error) < 0 ||
                        sensor_set_name(sensors[1], "second") < 0 ||
                        thermometer_set_sensors(m->thermometer, sensors, 2) < 0)
                abort();
        thermometer_set_interval(m->thermometer, options.interval);
        if (thermo_front_end_new(m, "fuzz", handle_client, &fe) < 0 || manager_add_front_end(m, fe) < 0)
                abort();
        return m;
}

static bool no_client(void *userdata) {
        return ((Manager *) userdata)->n_peers == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(state_writer_done) StateWriter w = {};
        char *const names[] = { (char *) "state", (char *) "client" };
        Manager *m = server();
        StateReader r, payload;
        struct stat st;
        uint16_t type;
        int sv[2], fds[2];

        /* No state at all is no memfd: handover_take() sees an empty one as any other bad one. */
        if (size == 0)
                return 0;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0 ||
                        fstat(sv[0], &st) < 0)
                abort();
        /* A copy, each client record given the socket's inode (its last 8 bytes). */
        state_put_bytes(&w, data, size);
        if (w.error < 0)
                abort();
        r = (StateReader) { .data = w.data + 4, .size = size };
        while (state_next_record(&r, &type, &payload))
                if (type == STATE_PEER && payload.size >= sizeof(uint64_t)) {
                        uint64_t inode = (uint64_t) st.st_ino;

                        memcpy(w.data + (payload.data - w.data) + payload.size - sizeof(inode), &inode, sizeof(inode));
                }
        {
                StateWriter bytes = { .data = w.data + 4, .size = size };

                if (state_writer_to_memfd(&bytes, "fuzz-state", &fds[0]) < 0)
                        abort();
        }
        fds[1] = sv[0];

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
