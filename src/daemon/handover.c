/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "handover.h"
#include "log.h"
#include "parse.h"

#define STATE_MAGIC "thermo-state"
/* The format's version: a server reads every version up to its own, and none after. */
#define STATE_VERSION 1
#define FD_NAME_CLIENTS "clients"
#define FD_NAME_CLIENTS_PEER "clients-peer"
#define FD_NAME_STATE "state"
/* The fds one message carries: SCM_MAX_FD is 253. */
#define FDS_PER_MESSAGE 250
/* How long systemd may take to have read all we sent, before we exit (sd_notify_barrier()). */
#define BARRIER_TIMEOUT_USEC (5 * USEC_PER_SEC)
/* A state larger than this is not ours: the history of a day at a second of a hundred sensors takes 70 MB,
 * and a client a few hundred bytes beyond its queued output (--buffer-size, 64 KiB by default). */
#define STATE_MAX (UINT64_C(4) << 30)

static uint64_t clock_usec(clockid_t id) {
        struct timespec ts;

        clock_gettime(id, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

void handover_clock_start(HandoverClock *c) {
        assert(c);
        *c = (HandoverClock) { .wall = clock_usec(CLOCK_MONOTONIC), .cpu = clock_usec(CLOCK_PROCESS_CPUTIME_ID) };
}

const char *handover_clock_format(const HandoverClock *c, char *buf, size_t size) {
        char wall[64], cpu[64];

        assert(c);
        snprintf(buf, size, "in %s, %s of CPU",
                        format_timespan(wall, sizeof(wall), MAX(clock_usec(CLOCK_MONOTONIC) - c->wall, 1)),
                        format_timespan(cpu, sizeof(cpu), MAX(clock_usec(CLOCK_PROCESS_CPUTIME_ID) - c->cpu, 1)));
        return buf;
}

bool handover_is_fd_name(const char *name) {
        return name && (strcmp(name, FD_NAME_CLIENTS) == 0 || strcmp(name, FD_NAME_CLIENTS_PEER) == 0 ||
                        strcmp(name, FD_NAME_STATE) == 0);
}

/* What is left of the time readings are taken for a client that lost its connection. */
static uint64_t keep_left(Manager *m) {
        uint64_t due = 0, now = 0;

        if (!m->keeping || sd_event_source_get_time(m->keep_timer, &due) < 0 ||
                        sd_event_now(m->event, CLOCK_MONOTONIC, &now) < 0 || due <= now)
                return 0;
        return due - now;
}

static void serialize_manager(Manager *m, StateWriter *w) {
        size_t record;

        record = state_begin_record(w, STATE_HEADER);
        state_put_string(w, STATE_MAGIC);
        state_put_u32(w, STATE_VERSION);
        state_put_string(w, PROJECT_VERSION);
        state_end_record(w, record);

        record = state_begin_record(w, STATE_MANAGER);
        state_put_u64(w, m->started);
        state_put_u64(w, m->restarts + 1);
        state_put_u64(w, m->skipped);
        state_put_u64(w, keep_left(m));
        state_end_record(w, record);

        thermometer_serialize(m->thermometer, w);
}

/* Each client that can go across: its record, and its socket in fds, in the same order. */
static size_t serialize_peers(Manager *m, StateWriter *w, int *fds) {
        size_t n = 0;

        for (Peer *p = m->peers; p; p = p->peers_next) {
                size_t record;

                if (!p->ops->serialize)
                        continue;
                record = state_begin_record(w, STATE_PEER);
                state_put_u32(w, (uint32_t) n);
                state_put_string(w, p->ops->front_end);
                state_put_u8(w, p->announced);
                fds[n++] = p->ops->serialize(p, w);
                state_end_record(w, record);
        }
        return n;
}

/* The sockets, in order, into the queue of one end of a pair: the other end, which holds them (the
 * kernel keeps a socket in flight alive), returned, and the sending end too. Both go to the store: systemd
 * drops a stored fd that hangs up, as the receiving end would once the sending one closed. */
static int pack_clients(const int *fds, size_t n, int *ret, int *ret_peer) {
        _cleanup_close_ int in = -EBADF, out = -EBADF;
        int pair[2];

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;
        out = pair[0];
        in = pair[1];
        for (size_t i = 0; i < n; i += FDS_PER_MESSAGE) {
                size_t k = MIN(n - i, (size_t) FDS_PER_MESSAGE);
                union {
                        struct cmsghdr header;
                        char space[CMSG_SPACE(sizeof(int) * FDS_PER_MESSAGE)];
                } control = {};
                uint32_t first = (uint32_t) i;
                struct iovec iov = { .iov_base = &first, .iov_len = sizeof(first) };
                struct msghdr msg = {
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = &control,
                        .msg_controllen = CMSG_SPACE(sizeof(int) * k),
                };
                struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * k);
                memcpy(CMSG_DATA(c), fds + i, sizeof(int) * k);
                /* Never waits: a queue that is full fails the handover, and the clients get their BYE. */
                if (sendmsg(out, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                        return -errno;
        }
        *ret = TAKE_FD(in);
        *ret_peer = TAKE_FD(out);
        return 0;
}

int handover_store(Manager *m) {
        _cleanup_(state_writer_done) StateWriter w = {};
        _cleanup_close_ int state = -EBADF, clients = -EBADF, peer = -EBADF;
        _cleanup_free_ int *fds = NULL;
        int r;
        size_t n;

        assert(m);

        fds = calloc(MAX(m->n_peers, (size_t) 1), sizeof(int));
        if (!fds)
                return -ENOMEM;
        serialize_manager(m, &w);
        n = serialize_peers(m, &w, fds);
        r = state_writer_to_memfd(&w, "thermo-state", &state);
        if (r < 0)
                return r;
        r = pack_clients(fds, n, &clients, &peer);
        if (r < 0)
                return r;

        /* The clients first: a state without them is none, clients without a state are closed. */
        r = sd_pid_notify_with_fds(0, false, "FDSTORE=1\nFDNAME=" FD_NAME_CLIENTS_PEER, &peer, 1);
        if (r > 0)
                r = sd_pid_notify_with_fds(0, false, "FDSTORE=1\nFDNAME=" FD_NAME_CLIENTS, &clients, 1);
        if (r > 0)
                r = sd_pid_notify_with_fds(0, false, "FDSTORE=1\nFDNAME=" FD_NAME_STATE, &state, 1);
        if (r <= 0) {
                /* No NOTIFY_SOCKET (r == 0): not under systemd, nothing stored. Else what went goes. */
                (void) sd_notify(false, "FDSTOREREMOVE=1\nFDNAME=" FD_NAME_CLIENTS_PEER);
                (void) sd_notify(false, "FDSTOREREMOVE=1\nFDNAME=" FD_NAME_CLIENTS);
                return r < 0 ? r : -ENOTCONN;
        }
        /* systemd reads our messages in order: once it has answered the barrier, it has both fds, before
         * it sees us exit. It blocks the loop, for a moment, at the very end: nothing else runs any more. */
        r = sd_notify_barrier(0, BARRIER_TIMEOUT_USEC);
        if (r < 0)
                log_warning_errno(r, "Failed to wait for systemd to take the clients, exiting anyway: %m");
        return (int) MIN(n, (size_t) INT_MAX);
}

/* The client sockets the queue of fd holds, in order, into *ret (*ret_n of them). */
static int unpack_clients(int fd, int **ret, size_t *ret_n) {
        _cleanup_free_ int *fds = NULL;
        size_t n = 0, allocated = 0;
        int r = 0;

        for (;;) {
                union {
                        struct cmsghdr header;
                        char space[CMSG_SPACE(sizeof(int) * 253)];
                } control;
                uint32_t first = 0;
                struct iovec iov = { .iov_base = &first, .iov_len = sizeof(first) };
                struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                                      .msg_controllen = sizeof(control) };
                ssize_t k = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
                size_t before = n;

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        /* The end of the queue: the sending end is closed, or nothing more waits. */
                        if (k < 0 && errno != EAGAIN)
                                r = -errno;
                        break;
                }
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                        size_t count;

                        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                                continue;
                        count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        if (n + count > allocated) {
                                int *p = reallocarray(fds, MAX(allocated * 2, n + count), sizeof(int));

                                if (!p) {
                                        for (size_t i = 0; i < count; i++) {
                                                int lost;

                                                memcpy(&lost, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                                                safe_close(lost);
                                        }
                                        r = -ENOMEM;
                                        continue;
                                }
                                fds = p;
                                allocated = MAX(allocated * 2, n + count);
                        }
                        memcpy(fds + n, CMSG_DATA(c), count * sizeof(int));
                        n += count;
                }
                /* A message cut short, or not the next: which client has which socket is not known any more. */
                if ((msg.msg_flags & MSG_CTRUNC) || first != before)
                        r = r < 0 ? r : -EBADMSG;
        }
        *ret = TAKE_PTR(fds);
        *ret_n = n;
        return r;
}

/* A takeover under way: the clients' sockets, and what became of them. */
typedef struct Takeover {
        Manager *manager;
        int *fds;               /* the clients' sockets, in the state's order; -EBADF once taken */
        size_t n_fds;
        Peer **restored;        /* taken over, to resume once all are */
        size_t n_restored;
        size_t lost;            /* closed: their state, or their socket, did not come back */
        SensorMap map;
} Takeover;

static void takeover_done(Takeover *t) {
        for (size_t i = 0; i < t->n_fds; i++)
                if (t->fds[i] >= 0) {
                        safe_close(t->fds[i]);
                        t->lost++;
                }
        free(t->fds);
        free(t->restored);
        free(t->map.map);
}

static FrontEnd *find_restorer(Manager *m, const char *name) {
        for (size_t i = 0; i < m->n_front_ends; i++)
                if (m->front_ends[i]->ops->restore && strcmp(m->front_ends[i]->name, name) == 0)
                        return m->front_ends[i];
        return NULL;
}

/* A client's record: its front end takes it over, with its socket. */
static void take_peer(Takeover *t, StateReader *r) {
        uint32_t index = state_get_u32(r);
        char name[64];
        bool announced;
        FrontEnd *fe;
        Peer *p;
        int fd, k;

        state_get_name(r, name, sizeof(name) - 1);
        announced = state_get_bool(r);
        if (r->error < 0 || index >= t->n_fds || t->fds[index] < 0) {
                /* Its socket did not come back, or its record is not one. */
                t->lost++;
                return;
        }
        fd = TAKE_FD(t->fds[index]);
        fe = find_restorer(t->manager, name);
        if (!fe) {
                safe_close(fd);
                t->lost++;
                return;
        }
        k = fe->ops->restore(fe, fd, r, &t->map, &p);
        if (k < 0) {
                log_full_errno(r->error < 0 ? LOG_WARNING : LOG_ERR, k, "Failed to take over a client%s: %m",
                                r->error < 0 ? ", its state is not one" : "");
                t->lost++;
                return;
        }
        /* Logged when it began to stream: its end will be too. */
        p->announced = announced;
        t->restored[t->n_restored++] = p;
}

/* The state's records, in the order handover_store() puts them, each of the first four once: a state
 * otherwise is not one. Clients are taken over as their records are read. */
static int take_state(Takeover *t, StateReader *all) {
        Manager *m = t->manager;
        uint64_t started = 0, restarts = 0, skipped = 0, keep = 0;
        uint16_t type, last = 0;
        StateReader r;
        int k;

        while (state_next_record(all, &type, &r)) {
                char magic[32];

                if (type > STATE_PEER)
                        continue; /* a record of a later version's: not ours to know */
                if (type < last || (type == last && type != STATE_PEER) || (last == 0 && type != STATE_HEADER) ||
                                (type >= STATE_HISTORY && last < STATE_THERMOMETER))
                        return -EBADMSG;
                last = type;
                switch (type) {
                case STATE_HEADER:
                        state_get_name(&r, magic, sizeof(magic) - 1);
                        all->version = state_get_u32(&r);
                        if (r.error < 0)
                                return r.error;
                        if (strcmp(magic, STATE_MAGIC) != 0 || all->version == 0 || all->version > STATE_VERSION)
                                return -EPROTONOSUPPORT;
                        break;
                case STATE_MANAGER:
                        started = state_get_u64(&r);
                        restarts = state_get_u64(&r);
                        skipped = state_get_u64(&r);
                        keep = state_get_u64(&r);
                        if (r.error < 0 || started > m->started)
                                return -EBADMSG;
                        break;
                case STATE_THERMOMETER:
                        k = thermometer_deserialize(m->thermometer, &r, &t->map);
                        if (k < 0)
                                return k;
                        /* The readings go on from here: so do the counts and the uptime. */
                        m->started = started ?: m->started;
                        m->restarts = restarts;
                        m->skipped = skipped;
                        manager_keep_ticking_for(m, MIN(keep, m->options->history));
                        break;
                case STATE_HISTORY:
                        thermometer_deserialize_history(m->thermometer, &r, &t->map);
                        if (r.error < 0)
                                return r.error;
                        break;
                case STATE_PEER:
                        take_peer(t, &r);
                        break;
                }
        }
        return all->error;
}

/* The state fd's bytes, mapped: a sealed memfd, so that nothing can shrink it under us. */
static int map_state(int fd, void **ret, size_t *ret_size) {
        struct stat st;
        void *p;
        int seals;

        if (fstat(fd, &st) < 0)
                return -errno;
        seals = fcntl(fd, F_GET_SEALS);
        if (!S_ISREG(st.st_mode) || seals < 0 || !(seals & F_SEAL_SHRINK) || !(seals & F_SEAL_WRITE) ||
                        st.st_size <= 0 || (uint64_t) st.st_size > STATE_MAX)
                return -EBADMSG;
        p = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED)
                return -errno;
        *ret = p;
        *ret_size = (size_t) st.st_size;
        return 0;
}

static void unmap_state(void *p, size_t size) {
        if (p)
                (void) munmap(p, size);
}

void handover_take(Manager *m, const int *fds, char *const *names, size_t n) {
        _cleanup_(takeover_done) Takeover t = { .manager = m };
        _cleanup_close_ int state = -EBADF, clients = -EBADF, peer = -EBADF;
        char field[64], span[64], lost[96] = "", took[96];
        HandoverClock clock;
        void *data = NULL;
        size_t size = 0;
        int r = 0, k;

        assert(m);
        assert(fds || n == 0);

        if (n == 0)
                return;
        handover_clock_start(&clock);
        /* Out of the store at once: whatever happens now, they are ours alone, and a crash closes them. */
        k = sd_notify(false, "FDSTOREREMOVE=1\nFDNAME=" FD_NAME_CLIENTS);
        if (k >= 0)
                k = sd_notify(false, "FDSTOREREMOVE=1\nFDNAME=" FD_NAME_CLIENTS_PEER);
        if (k >= 0)
                k = sd_notify(false, "FDSTOREREMOVE=1\nFDNAME=" FD_NAME_STATE);
        if (k < 0)
                log_warning_errno(k, "Failed to take the clients out of systemd's store, it keeps them open: %m");

        for (size_t i = 0; i < n; i++) {
                int *into = strcmp(names[i], FD_NAME_STATE) == 0 ? &state :
                            strcmp(names[i], FD_NAME_CLIENTS) == 0 ? &clients : &peer;

                /* One of each, as stored: a second is no handover's. */
                if (*into >= 0)
                        r = -EBADMSG;
                safe_close(*into);
                *into = fds[i];
        }
        if (clients >= 0) {
                k = unpack_clients(clients, &t.fds, &t.n_fds);
                r = r < 0 ? r : k;
        }
        t.restored = calloc(MAX(t.n_fds, (size_t) 1), sizeof(Peer *));
        if (!t.restored)
                r = -ENOMEM;
        if (r >= 0)
                r = state < 0 ? -ENOENT : map_state(state, &data, &size);
        if (r >= 0) {
                StateReader all = { .data = data, .size = size };

                r = take_state(&t, &all);
        }
        /* Every client back: now each goes on, and a GET that takes a tick takes it for all. */
        for (size_t i = 0; i < t.n_restored; i++)
                t.restored[i]->ops->resume(t.restored[i]);
        unmap_state(data, size);
        for (size_t i = 0; i < t.n_fds; i++)
                if (t.fds[i] >= 0) {
                        t.fds[i] = safe_close(t.fds[i]);
                        t.lost++;
                }

        if (r < 0)
                log_warning_errno(r, "Failed to read all of the state the server before the restart left: %m");
        if (t.lost > 0)
                snprintf(lost, sizeof(lost), "; closed %zu whose state or socket was lost, to connect again", t.lost);
        snprintf(field, sizeof(field), "RESTARTS=%" PRIu64, m->restarts);
        log_struct(t.lost > 0 ? LOG_WARNING : LOG_INFO, 0, THERMO_MESSAGE_TAKEN_OVER, LOG_FIELDS(field),
                        "Took over %zu client%s from the server before the restart (restart %" PRIu64 ", up for %s, "
                        "the last tick #%" PRIu64 ", %s)%s.",
                        t.n_restored, t.n_restored == 1 ? "" : "s", m->restarts,
                        format_timespan_ms(span, sizeof(span), manager_get_uptime_usec(m)),
                        thermometer_get_seq(m->thermometer), handover_clock_format(&clock, took, sizeof(took)), lost);
}
