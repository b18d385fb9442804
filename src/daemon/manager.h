/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "address.h"
#include "address-count.h"
#include "deadline.h"
#include "linger.h"
#include "macro.h"
#include "poller.h"
#include "server-options.h"
#include "state.h"
#include "thermometer.h"

/* One per process, in the shape of systemd-hostnamed's context: the manager owns the event loop, the
 * thermometer, the listening sockets and every front end, and keeps the registry of clients that all front
 * ends share. It knows no protocol: a front end greets, serves, refuses and says goodbye in its own words. */
typedef struct Manager Manager;
typedef struct Peer Peer;
typedef struct FrontEnd FrontEnd;

/* What the manager asks of a client of any front end. */
typedef struct PeerOps {
        /* The server stops: say goodbye, in the front end's words, then close. */
        void (*shutdown)(Peer *p);
        /* Free the object that holds p. The manager's reaper calls it once p is removed and no callback of
         * p's is on the stack any more. */
        void (*free)(Peer *p);
        /* Optional: puts what the client is in w, for the server after a restart (handover.c), which takes
         * it back with the restore() of the front end named front_end; returns its socket, which goes to
         * systemd's store. A client without it does not go across: a restart shuts it down, and waits for
         * it to finish. */
        int (*serialize)(Peer *p, StateWriter *w);
        const char *front_end;
        /* With serialize: the client restored (FrontEndOps.restore) goes on, once every client is back. */
        void (*resume)(Peer *p);
} PeerOps;

/* A client, as the manager counts it (for --max-clients, exit on idle, STATUS= and shutdown). Each front
 * end embeds one in its own client object. */
struct Peer {
        Manager *manager;
        const PeerOps *ops;
        LIST_FIELDS(Peer, peers);
        const char *reason;     /* why it ended, a static string the log shows; set by who closes it */
        int16_t error;          /* or the error that ended it (a negative errno) */
        bool removed;
        bool announced;         /* logged at info level: it streams (manager_announce_peer()) */
        PeerAddress address;
};

typedef struct FrontEndOps {
        /* Optional: whether one more client fits in the front end's share of the slots, which it may make
         * room in; full says there is no slot at all now, and then only room it makes lets one in. A client
         * it does not admit is refused. */
        bool (*admit)(FrontEnd *fe, bool full);
        /* Takes over a connected, non-blocking socket and makes a client of it (manager_add_peer()). On
         * failure, fd is closed. */
        int (*open)(FrontEnd *fe, int fd, const PeerAddress *address);
        /* There is no room for one more client: tell it so on its fresh socket, in a line or two that fit
         * in an empty send buffer. The manager closes the socket after. */
        void (*refuse)(FrontEnd *fe, int fd);
        /* Optional: a rescan will give ticks of n sensors; make room for them now, while it can still
         * fail with nothing changed. */
        int (*reserve)(FrontEnd *fe, size_t n);
        /* Optional: takes over a client of the server before a restart, from what its PeerOps.serialize put
         * in r, its sensors where map says, and returns it, counted but taking and sending nothing until
         * PeerOps.resume. On failure fd is closed, and r's error says whether the bytes were at fault. */
        int (*restore)(FrontEnd *fe, int fd, StateReader *r, const SensorMap *map, Peer **ret);
        void (*free)(FrontEnd *fe);
} FrontEndOps;

/* What speaks to clients: thermo/1, HTTP metrics... Each embeds one. */
struct FrontEnd {
        const FrontEndOps *ops;
        /* The FileDescriptorName= of the sockets it serves under socket activation, and the name --listen
         * options use. */
        const char *name;
        Manager *manager;
};

static inline void front_end_freep(FrontEnd **fe) {
        if (*fe)
                (*fe)->ops->free(*fe);
}

/* The manager's state, which the daemon's modules read directly (as timesyncd's do its Manager's); what
 * changes it goes through the functions below, which keep the counts, the log and STATUS= in step. A
 * listener is the manager's alone. */
typedef struct Listener Listener;

struct Manager {
        const ServerOptions *options;
        sd_event *event;
        Poller *poller;
        Deadlines *deadlines;   /* the clients' */
        Thermometer *thermometer;
        ThermometerObserver observer; /* for STATUS= */

        FrontEnd **front_ends;  /* the default one first */
        size_t n_front_ends;
        Listener **listeners;   /* each on its own: their event sources point at them */
        size_t n_listeners;
        bool activated;         /* every listener came from systemd: we may exit on idle */

        Peer *peers;
        size_t n_peers;
        size_t peers_peak;      /* the most at once since memory last went back */
        AddressCount *per_address;      /* --max-clients-per-address */
        size_t client_cap;              /* clients and lingering sockets the fd limit leaves room for */
        Lingers lingers;                /* refused sockets, until their peers have read why */
        uint64_t refusals_logged;       /* when a refusal was logged last */
        uint64_t refusals_unlogged;     /* refusals since then */
        Peer *removed;          /* gone, waiting for the reaper to free them */
        sd_event_source *reaper;

        sd_event_source *idle_timer;
        sd_event_source *accept_timer;
        sd_event_source *status_timer;
        sd_event_source *shutdown_timer;
        sd_event_source *summary_timer;
        sd_event_source *rescan_timer;  /* a rescan again, for a sensors.conf it could not read */
        sd_event_source *keep_timer;    /* the end of readings taken for a client that lost its connection */
        bool keeping;
        uint64_t short_connections;     /* clients that came and went unannounced, since short_since */
        uint64_t short_since;
        uint64_t announced_since;       /* the second ANNOUNCED_PER_SECOND counts in */
        unsigned n_announced;
        uint64_t started;       /* CLOCK_MONOTONIC of the first start: restarts that hand over keep it */
        uint64_t restarts;      /* such restarts since then */
        uint64_t status_sent;
        uint64_t skipped;       /* readings front ends skipped for clients too slow to take them */
        bool stopping;
        bool restart_asked;     /* the stop that comes is a restart: the clients go across (handover.h) */
        bool handing_over;      /* stopping for it: waiting for the clients that cannot go across to end */
        sd_event_source *handover; /* then hands them over, in a turn of the loop of its own */
        bool handed_over;
};

/* options must outlive the manager; its sensors are built already (see server-main.c). */
int manager_new(const ServerOptions *options, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* The manager owns fe from now on (on failure, the caller still does). The first front end added is the
 * default: it serves every socket that no front end claims by name. */
int manager_add_front_end(Manager *m, FrontEnd *fe);

/* Listens, tells systemd it is ready, and runs until SIGTERM, SIGINT or exit on idle: 0, or a negative
 * errno when it could not start. */
int manager_run(Manager *m);

uint64_t manager_get_uptime_usec(Manager *m);

/* Counts p among the clients, from a front end's open(). */
void manager_add_peer(Manager *m, Peer *p, const PeerOps *ops, const PeerAddress *address);
/* p has started what makes a client worth a line in the journal (a stream): its connection is logged at
 * info level now, and its end will be, 10 clients a second at most. A client that never does (a GET, a
 * ping, a scrape, a poll every minute), or does past those 10, is logged at debug level, and counted in a
 * summary once an hour. */
void manager_announce_peer(Manager *m, Peer *p);
/* A client that streamed lost its connection, without STOP or QUIT: readings go on being taken for the
 * span of the history, so that it can come back and resume (thermo-protocol(7)), and exit on idle waits
 * that out first. Another loss starts the span again. */
void manager_keep_ticking(Manager *m);
/* The same for usec from now: what was left of that span at a restart. */
void manager_keep_ticking_for(Manager *m, uint64_t usec);
/* Readings are skipped for p, too slow to take them: said once per client, at info level for a client
 * logged when it began to stream, at debug level for the others (so no more than 10 a second). */
void manager_note_skipping(Manager *m, Peer *p);
/* p is over (p->reason or p->error say why): the manager logs it, stops counting it, and frees it later
 * from an event of its own. Safe from inside any callback of p's. */
void manager_remove_peer(Manager *m, Peer *p);
