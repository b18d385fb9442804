/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "handover.h"
#include "log.h"
#include "parse.h"

#define STATE_MAGIC "thermo-state"
/* The format's version: a server reads every version up to its own, and none after. */
#define STATE_VERSION 1
#define FD_NAME_CLIENT "client"
#define FD_NAME_STATE "state"
/* The fds one message may carry: SCM_MAX_FD is 253. */
#define FDS_PER_MESSAGE 250
/* How long systemd may take to have read all we sent, before we exit (sd_notify_barrier()). */
#define BARRIER_TIMEOUT_USEC (5 * USEC_PER_SEC)
/* A state larger than this is not ours: a megabyte holds the history of thousands of ticks, and a client
 * takes a few hundred bytes beyond its queued output. */
#define STATE_MAX (UINT64_C(1) << 32)

bool handover_is_fd_name(const char *name) {
        return name && (strcmp(name, FD_NAME_CLIENT) == 0 || strcmp(name, FD_NAME_STATE) == 0);
}

static void serialize_manager(Manager *m, StateWriter *w) {
        state_begin_record(w, STATE_HEADER);
        state_put_string(w, STATE_MAGIC);
        state_put_u32(w, STATE_VERSION);
        state_put_string(w, PROJECT_VERSION);
        state_end_record(w);

        state_begin_record(w, STATE_MANAGER);
        state_put_u64(w, m->started);
        state_put_u64(w, m->restarts + 1);
        state_end_record(w);

        thermometer_serialize(m->thermometer, w);
}

/* Each client that can go across: its record, and its socket in fds. */
static size_t serialize_peers(Manager *m, StateWriter *w, int *fds) {
        size_t n = 0;

        for (Peer *p = m->peers; p; p = p->peers_next) {
                struct stat st;
                int fd;

                if (!p->ops->serialize)
                        continue;
                state_begin_record(w, STATE_PEER);
                state_put_string(w, p->ops->front_end);
                state_put_u8(w, p->announced);
                fd = p->ops->serialize(p, w);
                /* The next server finds its socket by the inode: the store passes fds in an order of its own. */
                if (fstat(fd, &st) < 0) {
                        w->error = w->error ?: -errno;
                        break;
                }
                state_put_u64(w, (uint64_t) st.st_ino);
                state_end_record(w);
                fds[n++] = fd;
        }
        return n;
}

int handover_store(Manager *m) {
        _cleanup_(state_writer_done) StateWriter w = {};
        _cleanup_close_ int state = -EBADF;
        _cleanup_free_ int *fds = NULL;
        size_t n;
        int r;

        assert(m);

        fds = calloc(MAX(m->n_peers, (size_t) 1), sizeof(int));
        if (!fds)
                return -ENOMEM;
        serialize_manager(m, &w);
        n = serialize_peers(m, &w, fds);
        r = state_writer_to_memfd(&w, "thermo-state", &state);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n; i += FDS_PER_MESSAGE) {
                r = sd_pid_notify_with_fds(0, false, "FDSTORE=1\nFDNAME=" FD_NAME_CLIENT, fds + i,
                                (unsigned) MIN(n - i, (size_t) FDS_PER_MESSAGE));
                if (r <= 0)
                        goto fail;
        }
        r = sd_pid_notify_with_fds(0, false, "FDSTORE=1\nFDNAME=" FD_NAME_STATE, &state, 1);
        if (r <= 0)
                goto fail;
        /* systemd reads our messages in order: once it has read this one, it has every fd, before it sees
         * us exit. */
        r = sd_notify_barrier(0, BARRIER_TIMEOUT_USEC);
        if (r < 0)
                log_warning_errno(r, "Failed to wait for systemd to take the clients, exiting anyway: %m");
        return 0;

fail:
        /* No NOTIFY_SOCKET (r == 0): not under systemd, nothing stored. Else what went takes nothing with it. */
        (void) sd_notify(false, "FDSTOREREMOVE=1\nFDNAME=" FD_NAME_CLIENT);
        return r < 0 ? r : -ENOTCONN;
}

typedef struct ClientFd {
        uint64_t inode;
        int fd;
} ClientFd;

static int compare_inode(const void *a, const void *b) {
        const ClientFd *x = a, *y = b;

        return x->inode < y->inode ? -1 : x->inode > y->inode;
}

static FrontEnd *find_restorer(Manager *m, const char *name) {
        for (size_t i = 0; i < m->n_front_ends; i++)
                if (m->front_ends[i]->ops->restore && strcmp(m->front_ends[i]->name, name) == 0)
                        return m->front_ends[i];
        return NULL;
}

/* A client's record: its front end takes it over, with its socket; 1 when it is served on. */
static int take_peer(Manager *m, StateReader *r, ClientFd *clients, size_t n, const SensorMap *map) {
        char name[64];
        ClientFd key, *c;
        FrontEnd *fe;
        uint64_t inode;
        bool announced;
        Peer *p;
        int fd;

        state_get_name(r, name, sizeof(name) - 1);
        announced = state_get_bool(r);
        /* The inode comes last, after the front end's part: the record's last 8 bytes. */
        if (r->error < 0 || r->size - r->at < sizeof(uint64_t))
                return -EBADMSG;
        memcpy(&inode, r->data + r->size - sizeof(uint64_t), sizeof(inode));
        r->size -= sizeof(uint64_t);

        key.inode = inode;
        c = bsearch(&key, clients, n, sizeof(ClientFd), compare_inode);
        if (!c || c->fd < 0)
                return 0; /* its socket did not come back: the store was full, or it had closed */
        fd = TAKE_FD(c->fd);
        fe = find_restorer(m, name);
        if (!fe) {
                safe_close(fd);
                return -EBADMSG;
        }
        if (fe->ops->restore(fe, fd, r, map, &p) < 0)
                return -EBADMSG;
        /* Logged when it began to stream: its end will be too. */
        p->announced = announced;
        return 1;
}

/* The state's records, in order; clients come back as they are read. How many did. */
static int take_state(Manager *m, StateReader *all, ClientFd *clients, size_t n, size_t *ret_taken) {
        _cleanup_free_ int32_t *owned = NULL;
        SensorMap map = {};
        StateReader r;
        uint16_t type;
        bool header = false;
        size_t taken = 0;
        int k;

        while (state_next_record(all, &type, &r)) {
                char magic[32];

                if (!header && type != STATE_HEADER)
                        return -EBADMSG;
                switch (type) {
                case STATE_HEADER:
                        state_get_name(&r, magic, sizeof(magic) - 1);
                        if (r.error < 0 || strcmp(magic, STATE_MAGIC) != 0 || state_get_u32(&r) > STATE_VERSION)
                                return -EPROTONOSUPPORT;
                        header = true;
                        break;
                case STATE_MANAGER: {
                        uint64_t started = state_get_u64(&r), restarts = state_get_u64(&r);

                        if (r.error < 0 || started > m->started)
                                return -EBADMSG;
                        m->started = started;
                        m->restarts = restarts;
                        break;
                }
                case STATE_THERMOMETER:
                        k = thermometer_deserialize(m->thermometer, &r, &map);
                        if (k < 0)
                                return k;
                        owned = map.map;
                        break;
                case STATE_HISTORY:
                        thermometer_deserialize_history(m->thermometer, &r, &map);
                        if (r.error < 0)
                                return r.error;
                        break;
                case STATE_PEER:
                        /* One client's state that is not one costs that client alone. */
                        k = take_peer(m, &r, clients, n, &map);
                        if (k > 0)
                                taken++;
                        else if (k < 0)
                                log_debug("A client's state is not one, closing it.");
                        break;
                default:
                        /* A record of a later version's, in a state it says we read: not ours to know. */
                        break;
                }
        }
        *ret_taken = taken;
        return all->error < 0 ? all->error : header ? 0 : -EBADMSG;
}

/* The state fd's bytes, mapped. */
static int map_state(int fd, void **ret, size_t *ret_size) {
        struct stat st;
        void *p;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t) st.st_size > STATE_MAX)
                return -EBADMSG;
        p = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED)
                return -errno;
        *ret = p;
        *ret_size = (size_t) st.st_size;
        return 0;
}

void handover_take(Manager *m, const int *fds, char *const *names, size_t n) {
        _cleanup_free_ ClientFd *clients = NULL;
        size_t n_clients = 0, taken = 0, closed = 0;
        char field[64], span[64], lost[64] = "";
        int state = -EBADF, r;
        void *data = NULL;
        size_t size = 0;

        assert(m);
        assert(fds || n == 0);

        if (n == 0)
                return;
        /* Out of the store at once: whatever happens now, they are ours alone, and a crash closes them. */
        (void) sd_notify(false, "FDSTOREREMOVE=1\nFDNAME=" FD_NAME_CLIENT);
        (void) sd_notify(false, "FDSTOREREMOVE=1\nFDNAME=" FD_NAME_STATE);

        clients = calloc(n, sizeof(ClientFd));
        for (size_t i = 0; i < n; i++) {
                struct stat st;

                if (strcmp(names[i], FD_NAME_STATE) == 0 && state < 0) {
                        state = fds[i];
                        continue;
                }
                if (!clients || strcmp(names[i], FD_NAME_CLIENT) != 0 || fstat(fds[i], &st) < 0) {
                        safe_close(fds[i]);
                        closed += strcmp(names[i], FD_NAME_CLIENT) == 0;
                        continue;
                }
                clients[n_clients++] = (ClientFd) { .inode = (uint64_t) st.st_ino, .fd = fds[i] };
        }
        if (clients)
                qsort(clients, n_clients, sizeof(ClientFd), compare_inode);

        r = state < 0 ? -ENOENT : map_state(state, &data, &size);
        if (r >= 0) {
                StateReader all = { .data = data, .size = size };

                r = take_state(m, &all, clients, n_clients, &taken);
        }
        if (r < 0)
                log_warning_errno(r, "Failed to read the state the server before the restart left%s: %m",
                                n_clients > 0 ? "; its clients are closed, to connect again" : "");
        for (size_t i = 0; i < n_clients; i++)
                if (clients[i].fd >= 0) {
                        clients[i].fd = safe_close(clients[i].fd);
                        closed++;
                }
        if (data)
                (void) munmap(data, size);
        safe_close(state);

        if (closed > 0)
                snprintf(lost, sizeof(lost), "; closed %zu whose state was lost", closed);
        snprintf(field, sizeof(field), "RESTARTS=%" PRIu64, m->restarts);
        log_struct(LOG_INFO, 0, THERMO_MESSAGE_TAKEN_OVER, LOG_FIELDS(field),
                        "Took over %zu client%s from the server before the restart (restart %" PRIu64 ", up for %s, "
                        "the last tick #%" PRIu64 ")%s.",
                        taken, taken == 1 ? "" : "s", m->restarts,
                        format_timespan_ms(span, sizeof(span), manager_get_uptime_usec(m)),
                        thermometer_get_seq(m->thermometer), lost);
}
