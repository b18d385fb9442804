/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "backoff.h"
#include "log.h"
#include "offload.h"
#include "parse.h"
#include "publisher.h"
#include "send-queue.h"

#define SYSTEM_CERTIFICATES "/etc/ssl/certs"
/* MQTT's largest remaining length: four bytes of seven bits. */
#define MQTT_REMAINING_MAX 268435455U

typedef enum PublisherState {
        PUBLISHER_IDLE,
        PUBLISHER_RESOLVING,    /* libmosquitto's connect, in a thread: it resolves the broker's name first */
        PUBLISHER_CONNECTING,   /* until CONNACK */
        PUBLISHER_CONNECTED,
        PUBLISHER_BACKING_OFF,
        PUBLISHER_STOPPING,     /* the last messages on their way, then DISCONNECT */
        PUBLISHER_CLOSED,
} PublisherState;

struct Publisher {
        PublisherConfig config;
        const PublisherOps *ops;
        void *userdata;
        sd_event *event;
        struct mosquitto *mosq;
        char broker[300];       /* mqtt://host:port, for messages */

        PublisherState state;
        bool started;           /* connect once, reconnect after */
        Offload *connecting;    /* while PUBLISHER_RESOLVING */
        struct Connecting *connecting_data;
        sd_event_source *io;
        int fd;                 /* the socket io watches, or -1 */
        sd_event_source *timer; /* a connection attempt, a backoff, a goodbye */
        sd_event_source *misc;  /* libmosquitto's keepalive, once a second */
        sd_event_source *room_event; /* there is room again: tell the owner */
        sd_event_source *turn_end;   /* at the end of the loop's turn, what it published goes out together */
        bool corked;
        uint64_t backoff;
        char refused[128];      /* why the broker refused us, from CONNACK */
        char error[256];        /* libmosquitto's last error message: what TLS has to say */

        /* Messages the broker has not taken yet: QoS 1 until PUBACK (libmosquitto resends them after a
         * reconnect), QoS 0 until written (lost with the connection). QoS 0 ones complete in the order they
         * were published, so their ids in a ring tell them apart. */
        size_t in_flight_qos1;
        uint16_t qos0[PUBLISHER_WINDOW];
        size_t qos0_head, n_qos0;
        /* libmosquitto writes at once what it can: a QoS 0 message may be done before its publish returns. */
        bool publishing, written_at_once;
        /* The window filled: there is room again once half of it is taken, not at each message the broker
         * takes (an owner that has much to send sends it in long runs, not one by one). */
        bool full;
        /* Connected, and its subscriptions on their way: connected once the last is granted. */
        bool subscribing;
        int last_subscription;
        /* A reload: the password to connect with (ours, once one came), and a reconnection asked for. */
        char *password;
        bool reconnect;
        bool stop_timed_out;    /* the broker had not taken every message by the goodbye's end */
        bool say_offline;       /* stopping: "offline" to the will's topic, once what direct holds is out */

        /* QoS 0 on a plain connection, written by us: libmosquitto writes each message with a write() of its
         * own, and a wake-up byte to a socket pair with another, which was most of the bridge's time in the
         * kernel. A turn of the loop's messages go out in one send() at its end (on_turn_end()), when
         * libmosquitto has nothing half-written; nothing of libmosquitto's goes on the socket while direct
         * holds part of a message (direct_flush() before each call that may write). direct_ends says where
         * each message ends, counted from the first byte since direct was last empty. */
        SendQueue *direct;
        size_t direct_ends[PUBLISHER_WINDOW];
        size_t n_direct, direct_done, direct_appended;
        bool blocked;           /* the socket took part of direct: it watches for room to write the rest */
        bool owe_room;          /* a publish refused while direct waited: the owner is told once it is out */
        bool read_first;        /* blocked since libmosquitto last read: what came meanwhile (a PINGRESP) is
                                 * read before it checks its keepalive */
        bool in_libmosquitto;   /* in its read or write: direct waits until it returns (on_io()) */
        bool leaving;           /* our DISCONNECT in direct or written: our end closes after it (goodbye()) */
        uint64_t blocked_since;
};

static void set_timer(Publisher *p, uint64_t usec) {
        (void) sd_event_source_set_time_relative(p->timer, usec);
        (void) sd_event_source_set_enabled(p->timer, SD_EVENT_ONESHOT);
}

/* QoS 0 messages not written yet, libmosquitto's and direct's: what a lost connection takes with it. */
static size_t qos0_unsent(Publisher *p) {
        return p->n_qos0 + p->n_direct - p->direct_done;
}

static size_t in_flight(Publisher *p) {
        return p->in_flight_qos1 + qos0_unsent(p);
}

static void direct_clear(Publisher *p) {
        p->direct = send_queue_free(p->direct);
        p->n_direct = p->direct_done = p->direct_appended = 0;
        p->blocked = p->owe_room = false;
}

/* Whether the stream is between two messages of direct's (so libmosquitto may write). */
static bool direct_at_boundary(Publisher *p) {
        size_t sent = p->direct_appended - send_queue_size(p->direct);

        return sent == 0 || (p->direct_done > 0 && p->direct_ends[p->direct_done - 1] == sent);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);

/* Why a connection failed or ended: the broker's refusal, what TLS said, or what libmosquitto says of rc
 * without its full stop (our messages go on after it). errno is read for MOSQ_ERR_ERRNO: call this first. */
static void describe(Publisher *p, int rc, char *buf, size_t size) {
        size_t n;

        if (p->refused[0])
                snprintf(buf, size, "%s", p->refused);
        else if (rc == MOSQ_ERR_TLS)
                snprintf(buf, size, "TLS handshake failed%s%.200s", p->error[0] ? ": " : "", p->error);
        else if (rc == MOSQ_ERR_ERRNO)
                snprintf(buf, size, "%s", errno != 0 ? strerror(errno) : "the connection failed");
        else if (rc == MOSQ_ERR_SUCCESS)
                /* An end no call of ours asked for: the broker's. */
                snprintf(buf, size, "the broker closed the connection");
        else if (startswith(mosquitto_strerror(rc), "Unknown error"))
                snprintf(buf, size, "the connection failed (libmosquitto's error %i)", rc);
        else
                snprintf(buf, size, "%s", mosquitto_strerror(rc));
        n = strlen(buf);
        if (n > 0 && buf[n - 1] == '.')
                buf[n - 1] = '\0';
}

/* After every call into libmosquitto: watch its socket, for writing too while it has something to send.
 * The socket changes with each connection, and is closed by libmosquitto when one ends. */
static void watch(Publisher *p) {
        int fd = p->mosq ? mosquitto_socket(p->mosq) : -1;
        uint32_t events;

        if (fd != p->fd) {
                p->io = sd_event_source_disable_unref(p->io);
                p->fd = -1;
                if (fd < 0)
                        return;
                if (sd_event_add_io(p->event, &p->io, fd, EPOLLIN, on_io, p) < 0) {
                        log_warning("Failed to watch the connection to %s; retrying.", p->broker);
                        return;
                }
                (void) sd_event_source_set_description(p->io, "mqtt");
                p->fd = fd;
        }
        if (!p->io)
                return;
        /* Part of a message of direct's written, the socket is written to alone: what comes in waits (what
         * libmosquitto reads, it may answer). */
        if (p->blocked)
                events = EPOLLOUT;
        else
                events = EPOLLIN | (mosquitto_want_write(p->mosq) ? EPOLLOUT : 0);
        (void) sd_event_source_set_io_events(p->io, events);
}

static void stop_when_done(Publisher *p);

/* Messages were taken: the goodbye goes on, or the owner is told there is room again (once, when there is,
 * not at each message: an owner that has much to send sends it in long runs). */
static void taken(Publisher *p, bool unblocked) {
        if (p->state == PUBLISHER_STOPPING) {
                stop_when_done(p);
                return;
        }
        if (p->full && in_flight(p) <= PUBLISHER_WINDOW / 2) {
                p->full = false;
                unblocked = true;
        }
        /* From the loop, not from inside libmosquitto: the owner publishes again then. */
        if (unblocked && publisher_has_room(p))
                (void) sd_event_source_set_enabled(p->room_event, SD_EVENT_ONESHOT);
}

static void goodbye(Publisher *p);

/* Writes what direct holds when libmosquitto has nothing half-written. A connection that failed is left
 * for libmosquitto to find: it reads the socket's end, and says so (on_disconnect()). */
static void direct_flush(Publisher *p) {
        bool wake = p->blocked || p->owe_room;
        int r;

        if (!p->direct || p->fd < 0 || p->in_libmosquitto || mosquitto_want_write(p->mosq))
                return;
        r = send_queue_flush(&p->direct, p->fd);
        if (r < 0) {
                (void) shutdown(p->fd, SHUT_RDWR);
                r = (int) send_queue_size(p->direct);
        }
        while (p->direct_done < p->n_direct &&
                        p->direct_ends[p->direct_done] <= p->direct_appended - send_queue_size(p->direct))
                p->direct_done++;
        if (r > 0) {
                if (!p->blocked)
                        (void) sd_event_now(p->event, CLOCK_MONOTONIC, &p->blocked_since);
                p->blocked = p->read_first = true;
                return;
        }
        direct_clear(p);
        if (p->leaving) {
                /* Our DISCONNECT is out: the broker closes its end once it has read it (on_disconnect()). */
                (void) shutdown(p->fd, SHUT_WR);
                return;
        }
        taken(p, wake);
        /* A reload waited for it (publisher_reconnect()). */
        if (p->reconnect && p->state == PUBLISHER_CONNECTING)
                goodbye(p);
}

/* Now, with what the broker has not taken lost: libmosquitto's DISCONNECT, which goes after whole messages
 * only (with part of one of direct's written, the stream can carry no other, and the connection is cut
 * instead: the broker says the will then). */
static void disconnect(Publisher *p) {
        direct_flush(p);
        if (p->fd >= 0 && !direct_at_boundary(p))
                (void) shutdown(p->fd, SHUT_RDWR);
        (void) mosquitto_disconnect(p->mosq);
}

/* The end of a connection that loses nothing: DISCONNECT after what was written, then our end closed, and
 * the socket read until the broker closes its end too. libmosquitto's closes the socket at once, and a
 * socket closed with input unread is reset, with what the kernel still held for the broker (readings
 * among it). Over TLS, libmosquitto's. */
static void goodbye(Publisher *p) {
        static const uint8_t packet[] = { 0xe0, 0x00 };

        assert(!p->direct);

        if (p->config.broker->tls || p->fd < 0 || p->leaving) {
                if (!p->leaving)
                        (void) mosquitto_disconnect(p->mosq);
                return;
        }
        if (send_queue_append(&p->direct, packet, sizeof(packet), UINT32_MAX) < 0) {
                (void) mosquitto_disconnect(p->mosq);
                return;
        }
        /* No message of direct's: the stream is at a message's end until the DISCONNECT is part written. */
        p->direct_appended = sizeof(packet);
        p->leaving = true;
        direct_flush(p);
        watch(p);
}

/* A connection given up on outside on_disconnect(): the QoS 0 messages not sent went with it, counted (the
 * QoS 1 ones are sent again). */
static void drop_unsent(Publisher *p) {
        uint64_t dropped = qos0_unsent(p);

        p->n_qos0 = p->qos0_head = 0;
        direct_clear(p);
        if (dropped > 0)
                p->ops->lost(p, dropped);
}

static void attempt(Publisher *p);

static void retry(Publisher *p, const char *why) {
        /* An attempt of before a reload failed: the reload's goes at once, with no backoff behind it. */
        if (p->reconnect)
                p->backoff = 0;
        p->backoff = backoff_next(p->backoff);
        log_notice("No connection to the broker %s for %s: %s; retrying in %" PRIu64 ".%us.", p->broker, p->config.label,
                        why, p->backoff / USEC_PER_SEC, (unsigned) (p->backoff % USEC_PER_SEC / 100000));
        p->state = PUBLISHER_BACKING_OFF;
        set_timer(p, p->backoff);
}

static void on_log(struct mosquitto *mosq, void *userdata, int level, const char *message);

/* libmosquitto's connect resolves the broker's name (getaddrinfo()) before it starts connecting: that
 * goes off the loop, which leaves mosq alone meanwhile. */
typedef struct Connecting {
        struct mosquitto *mosq;
        char *host;
        int port, keepalive;
        bool first;
        int rc, system_error;
        char error[256];        /* what libmosquitto said meanwhile at level error: a CA file it cannot load */
        bool orphan;            /* the publisher went meanwhile: mosq is ours to destroy */
} Connecting;

/* libmosquitto's messages while the thread connects: to the thread's Connecting (mosq's userdata then). */
static void on_connecting_log(struct mosquitto *mosq, void *userdata, int level, const char *message) {
        Connecting *c = userdata;

        if (level & MOSQ_LOG_ERR)
                snprintf(c->error, sizeof(c->error), "%s", message);
}

static void connect_work(void *data) {
        Connecting *c = data;

        c->rc = c->first ? mosquitto_connect_async(c->mosq, c->host, c->port, c->keepalive) :
                           mosquitto_reconnect_async(c->mosq);
        c->system_error = errno;
}

static void connecting_free(void *data) {
        Connecting *c = data;

        if (c->orphan)
                mosquitto_destroy(c->mosq);
        free(c->host);
        free(c);
}

static void connect_done(void *data, void *userdata) {
        Publisher *p = userdata;
        Connecting *c = data;

        p->connecting = NULL;
        p->connecting_data = NULL;
        mosquitto_user_data_set(p->mosq, p);
        mosquitto_log_callback_set(p->mosq, on_log);
        if (c->error[0])
                on_log(p->mosq, p, MOSQ_LOG_ERR, c->error);
        if (c->rc != MOSQ_ERR_SUCCESS) {
                char why[256];

                errno = c->system_error;
                describe(p, c->rc, why, sizeof(why));
                retry(p, why);
                return;
        }
        p->state = PUBLISHER_CONNECTING;
        set_timer(p, p->config.timeout);
        watch(p);
}

static const OffloadOps connecting_ops = {
        .work = connect_work,
        .done = connect_done,
        .free_data = connecting_free,
};

/* The publisher goes while its thread connects: mosq goes with the thread, destroyed when it is done. */
static void orphan(Publisher *p) {
        if (!p->connecting)
                return;
        p->connecting_data->orphan = true;
        p->connecting = offload_cancel(p->connecting);
        p->connecting_data = NULL;
        p->mosq = NULL;
}

static void attempt(Publisher *p) {
        Connecting *c;
        int r;

        /* libmosquitto closes the old socket and opens a new one: stop watching the old one first. */
        p->io = sd_event_source_disable_unref(p->io);
        p->fd = -1;
        p->refused[0] = p->error[0] = '\0';
        p->subscribing = p->leaving = p->read_first = false;
        c = calloc(1, sizeof(*c));
        if (!c || !(c->host = strdup(p->config.broker->host))) {
                free(c);
                retry(p, "out of memory");
                return;
        }
        /* Between connections, mosq is ours alone: a new password goes in now. */
        if (p->reconnect && p->config.broker->user &&
                        mosquitto_username_pw_set(p->mosq, p->config.broker->user, p->password) != MOSQ_ERR_SUCCESS) {
                free(c->host);
                free(c);
                retry(p, "out of memory");
                return;
        }
        p->reconnect = false;
        c->mosq = p->mosq;
        c->port = p->config.broker->port;
        c->keepalive = (int) p->config.keepalive;
        c->first = !p->started;
        p->started = true;
        /* Its callbacks would come from the thread, to a publisher that may be gone by then: to c meanwhile,
         * its log alone (libmosquitto's connect calls no other). */
        mosquitto_user_data_set(p->mosq, c);
        mosquitto_log_callback_set(p->mosq, on_connecting_log);
        r = offload_start(p->event, &connecting_ops, c, p, &p->connecting);
        if (r < 0) {
                mosquitto_user_data_set(p->mosq, p);
                mosquitto_log_callback_set(p->mosq, on_log);
                connecting_free(c);
                retry(p, strerror(-r));
                return;
        }
        p->connecting_data = c;
        /* The resolver has timeouts of its own, and the loop does not wait for it; one that takes longer than
         * a connection may (an NSS module that hangs) is said, once each time. */
        p->state = PUBLISHER_RESOLVING;
        set_timer(p, p->config.timeout);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Publisher *p = userdata;

        switch (p->state) {
        case PUBLISHER_BACKING_OFF:
                attempt(p);
                break;
        case PUBLISHER_RESOLVING: {
                char span[64];

                log_warning("The name of the broker %s for %s is not resolved after %s: still waiting for the "
                            "resolver.", p->broker, p->config.label, format_timespan(span, sizeof(span), p->config.timeout));
                break;
        }
        case PUBLISHER_CONNECTING:
                /* No CONNACK in time: a broker that accepts and says nothing, or a TLS handshake that hangs.
                 * Or a reload's broker that neither read what was written to it nor closed after our
                 * DISCONNECT (publisher_reconnect()): cut, what it did not take dropped. */
                if (p->fd >= 0 && (p->direct || p->leaving))
                        (void) shutdown(p->fd, SHUT_RDWR);
                p->io = sd_event_source_disable_unref(p->io);
                p->fd = -1;
                (void) mosquitto_disconnect(p->mosq);
                drop_unsent(p);
                retry(p, "no answer in time");
                break;
        case PUBLISHER_STOPPING:
                log_warning("The broker %s did not take the last messages for %s in time.", p->broker,
                                p->config.label);
                p->stop_timed_out = true;
                /* "offline" not said yet (it waits behind direct): the broker says it, as the will, when the
                 * connection is cut rather than closed. */
                if (p->say_offline && p->fd >= 0)
                        (void) shutdown(p->fd, SHUT_RDWR);
                disconnect(p);
                /* Closed already when libmosquitto's DISCONNECT went out at once (on_disconnect()). */
                if (p->state != PUBLISHER_STOPPING)
                        break;
                p->io = sd_event_source_disable_unref(p->io);
                p->fd = -1;
                p->state = PUBLISHER_CLOSED;
                p->ops->closed(p);
                break;
        default:
                break;
        }
        return 0;
}

static int on_misc(sd_event_source *s, uint64_t usec, void *userdata) {
        Publisher *p = userdata;
        uint64_t now;

        if (p->fd >= 0) {
                direct_flush(p);
                /* usec is when the timer was due: the loop's now may be past it, and past blocked_since. */
                (void) sd_event_now(p->event, CLOCK_MONOTONIC, &now);
                if (p->blocked) {
                        /* A broker that takes nothing for as long as libmosquitto waits for an answer to its
                         * PINGREQ: gone, as libmosquitto would find (it reads the end, on_disconnect()). */
                        if (now - p->blocked_since >= p->config.keepalive * USEC_PER_SEC)
                                (void) shutdown(p->fd, SHUT_RDWR);
                } else if (p->read_first)
                        p->read_first = false; /* the next second's, once on_io() has read */
                else if (!p->leaving)
                        (void) mosquitto_loop_misc(p->mosq);
                watch(p);
        }
        (void) sd_event_source_set_time_relative(s, USEC_PER_SEC);
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Publisher *p = userdata;
        int r = MOSQ_ERR_SUCCESS;

        /* Part of direct written: the rest, before anything else (watch()); but after a packet of
         * libmosquitto's that it began at a message's end (a DISCONNECT), which is written first. */
        if (p->blocked && !(revents & (EPOLLERR | EPOLLHUP))) {
                if (mosquitto_want_write(p->mosq)) {
                        p->in_libmosquitto = true;
                        r = mosquitto_loop_write(p->mosq, 1);
                        p->in_libmosquitto = false;
                }
                if (r == MOSQ_ERR_SUCCESS && p->fd == fd)
                        direct_flush(p);
                watch(p);
                return 0;
        }
        /* Each may end the connection: libmosquitto then closes the socket and calls on_disconnect(). What
         * its callbacks publish meanwhile waits in direct. */
        p->in_libmosquitto = true;
        if (revents & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                r = mosquitto_loop_read(p->mosq, 1);
                p->read_first = false;
        }
        if (r == MOSQ_ERR_SUCCESS && p->fd == fd && mosquitto_socket(p->mosq) == fd && (revents & EPOLLOUT))
                r = mosquitto_loop_write(p->mosq, 1);
        p->in_libmosquitto = false;
        /* What waited for libmosquitto's writes to be done. */
        if (r == MOSQ_ERR_SUCCESS && p->fd == fd)
                direct_flush(p);
        /* All but a failed TLS handshake: that one ends without on_disconnect(). */
        if (r != MOSQ_ERR_SUCCESS && p->state == PUBLISHER_CONNECTING && mosquitto_socket(p->mosq) < 0) {
                char why[256];

                describe(p, r, why, sizeof(why));
                p->io = sd_event_source_disable_unref(p->io);
                p->fd = -1;
                retry(p, why);
                return 0;
        }
        watch(p);
        return 0;
}

/* The goodbye: "offline" after what direct holds, then DISCONNECT once the broker has every message. */
static void stop_when_done(Publisher *p) {
        if (p->state != PUBLISHER_STOPPING || p->direct)
                return;
        if (p->say_offline) {
                p->say_offline = false;
                (void) publisher_publish(p, p->config.will_topic, "offline", strlen("offline"), 1, true);
        }
        if (in_flight(p) > 0)
                return;
        goodbye(p);
}

static void connected(Publisher *p) {
        char field[sizeof(p->broker) + 16], host[128];

        /* A reload came while this connection was being made, with the password before it: again (nothing of
         * direct's yet). */
        if (p->reconnect) {
                (void) mosquitto_disconnect(p->mosq);
                return;
        }
        p->backoff = 0;
        p->state = PUBLISHER_CONNECTED;
        /* libmosquitto formats a line for every packet when it has a log callback, whatever its level: a
         * third of the bridge's CPU, at tens of thousands of messages a second. Connected, the callback is
         * ours only for --log-level=debug; what it says of errors matters while connecting (a TLS
         * handshake's), and it is set again for the next attempt (connect_done()). */
        if (log_get_max_level() < LOG_DEBUG)
                mosquitto_log_callback_set(p->mosq, NULL);
        /* The QoS 1 messages of the last connection are sent again; the QoS 0 ones went with it. */
        p->full = in_flight(p) > PUBLISHER_WINDOW / 2;
        (void) sd_event_source_set_enabled(p->timer, SD_EVENT_OFF);
        snprintf(field, sizeof(field), "BROKER=%s", p->broker);
        snprintf(host, sizeof(host), "HOST=%s", p->config.label);
        log_struct(LOG_INFO, 0, THERMO_MESSAGE_BROKER_CONNECTED, LOG_FIELDS(field, host),
                        "Connected to the broker %s for %s.", p->broker, p->config.label);
        p->ops->connected(p);
}

static void on_connect(struct mosquitto *mosq, void *userdata, int rc) {
        Publisher *p = userdata;

        if (rc != 0) {
                /* The connection ends next (on_disconnect()), which retries. */
                snprintf(p->refused, sizeof(p->refused), "%s", mosquitto_connack_string(rc));
                return;
        }
        /* A clean session: what it subscribed to went with the last connection. */
        for (const char *const *s = p->config.subscriptions; s && *s; s++) {
                if (mosquitto_subscribe(p->mosq, &p->last_subscription, *s, 0) != MOSQ_ERR_SUCCESS) {
                        snprintf(p->refused, sizeof(p->refused), "could not subscribe to %s", *s);
                        (void) mosquitto_disconnect(p->mosq);
                        return;
                }
                p->subscribing = true;
        }
        if (!p->subscribing)
                connected(p);
}

/* The last subscription is answered: connected. The retained messages of the subscriptions may come after
 * it (mosquitto queues them with the messages, and answers SUBSCRIBEs at once): an owner that must know
 * them all sends itself a message, which comes after them. */
static void on_subscribe(struct mosquitto *mosq, void *userdata, int mid, int qos_count, const int *granted_qos) {
        Publisher *p = userdata;

        for (int i = 0; i < qos_count; i++)
                if (granted_qos[i] == 0x80)
                        log_warning("The broker %s refused a subscription for %s: its user needs to read what "
                                    "thermo-mqtt(8) names in TOPICS.", p->broker, p->config.label);
        if (!p->subscribing || mid != p->last_subscription)
                return;
        p->subscribing = false;
        connected(p);
}

static void on_disconnect(struct mosquitto *mosq, void *userdata, int rc) {
        Publisher *p = userdata;
        char why[256], field[sizeof(p->broker) + 16], host[128], reason[300];
        PublisherState was = p->state;
        uint64_t dropped = qos0_unsent(p);
        bool unsent = in_flight(p) > 0;

        describe(p, rc, why, sizeof(why));
        /* libmosquitto closed the socket already. */
        p->io = sd_event_source_disable_unref(p->io);
        p->fd = -1;
        p->n_qos0 = p->qos0_head = 0;
        direct_clear(p);
        p->leaving = false;
        p->subscribing = false;

        if (was == PUBLISHER_STOPPING || was == PUBLISHER_CLOSED) {
                /* Gone with messages still on their way. */
                if (was == PUBLISHER_STOPPING && unsent)
                        p->stop_timed_out = true;
                if (was == PUBLISHER_STOPPING) {
                        p->state = PUBLISHER_CLOSED;
                        (void) sd_event_source_set_enabled(p->timer, SD_EVENT_OFF);
                        p->ops->closed(p);
                }
                return;
        }
        if (p->reconnect) {
                /* Ended for a reload: again at once, from the loop (libmosquitto, which called us, is not done
                 * with mosq yet, and the thread that connects takes it). */
                if (dropped > 0)
                        p->ops->lost(p, dropped);
                p->state = PUBLISHER_BACKING_OFF;
                set_timer(p, 0);
                return;
        }
        if (was == PUBLISHER_CONNECTED) {
                snprintf(field, sizeof(field), "BROKER=%s", p->broker);
                snprintf(host, sizeof(host), "HOST=%s", p->config.label);
                snprintf(reason, sizeof(reason), "REASON=%s", why);
                log_struct(LOG_WARNING, 0, THERMO_MESSAGE_BROKER_LOST, LOG_FIELDS(field, host, reason),
                                "Lost the broker %s for %s: %s.", p->broker, p->config.label, why);
                p->ops->lost(p, dropped);
        }
        retry(p, why);
}

static void on_publish(struct mosquitto *mosq, void *userdata, int mid) {
        Publisher *p = userdata;

        if (p->n_qos0 > 0 && p->qos0[p->qos0_head] == (uint16_t) mid) {
                p->qos0_head = (p->qos0_head + 1) % PUBLISHER_WINDOW;
                p->n_qos0--;
        } else if (p->publishing) {
                /* The message being published (a PUBACK is only read in mosquitto_loop_read()). */
                p->written_at_once = true;
                return;
        } else if (p->in_flight_qos1 > 0)
                p->in_flight_qos1--;
        taken(p, false);
}

static int on_turn_end(sd_event_source *s, void *userdata) {
        Publisher *p = userdata;

        direct_flush(p);
        if (p->corked && p->fd >= 0)
                (void) setsockopt(p->fd, IPPROTO_TCP, TCP_CORK, &(int) { 0 }, sizeof(int));
        p->corked = false;
        watch(p);
        return 0;
}

static int on_room(sd_event_source *s, void *userdata) {
        Publisher *p = userdata;

        if (publisher_has_room(p))
                p->ops->room(p);
        return 0;
}

static void on_message(struct mosquitto *mosq, void *userdata, const struct mosquitto_message *m) {
        Publisher *p = userdata;

        if (m->payloadlen >= 0)
                p->ops->message(p, m->topic, m->payload, (size_t) m->payloadlen);
}

static void on_log(struct mosquitto *mosq, void *userdata, int level, const char *message) {
        Publisher *p = userdata;

        /* "OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed": the reason at the end is
         * what a person needs to read. */
        if (level & MOSQ_LOG_ERR) {
                const char *reason = strrchr(message, ':');

                snprintf(p->error, sizeof(p->error), "%s", startswith(message, "OpenSSL Error") && reason && reason[1] ?
                                                                   reason + 1 : message);
        }
        log_debug("MQTT: %s", message);
}

void *publisher_get_userdata(Publisher *p) {
        assert(p);
        return p->userdata;
}

bool publisher_is_connected(Publisher *p) {
        assert(p);
        return p->state == PUBLISHER_CONNECTED;
}

bool publisher_stopped_cleanly(Publisher *p) {
        assert(p);
        return p->state == PUBLISHER_CLOSED && !p->stop_timed_out;
}

bool publisher_has_room(Publisher *p) {
        assert(p);
        return p->state == PUBLISHER_CONNECTED && !p->full && !p->blocked;
}

/* A QoS 0 message into direct, as mosquitto_publish() would have it: a PUBLISH packet, checked the same. */
static int direct_publish(Publisher *p, const char *topic, const void *payload, size_t n, bool retain) {
        size_t topic_len = strlen(topic), left;
        uint8_t header[1 + 4 + 2], *h = header;
        int r;

        if (topic_len == 0 || topic_len > UINT16_MAX ||
                        mosquitto_validate_utf8(topic, (int) topic_len) != MOSQ_ERR_SUCCESS ||
                        mosquitto_pub_topic_check2(topic, topic_len) != MOSQ_ERR_SUCCESS)
                return -EINVAL;
        if (n > MQTT_REMAINING_MAX - 2 - topic_len)
                return -EMSGSIZE;
        /* Stopping, an owner may publish without room. */
        if (p->n_direct == PUBLISHER_WINDOW)
                return -EAGAIN;

        *h++ = 0x30 | (retain ? 0x01 : 0x00);
        left = 2 + topic_len + n;
        do {
                *h = left & 0x7f;
                left >>= 7;
                *h++ |= left > 0 ? 0x80 : 0x00;
        } while (left > 0);
        *h++ = (uint8_t) (topic_len >> 8);
        *h++ = (uint8_t) topic_len;

        r = send_queue_appendv(&p->direct, (const struct iovec[]) {
                        { .iov_base = header, .iov_len = (size_t) (h - header) },
                        { .iov_base = (void *) topic, .iov_len = topic_len },
                        { .iov_base = (void *) payload, .iov_len = n },
                }, 3, UINT32_MAX);
        if (r < 0)
                return r;
        p->direct_appended += (size_t) (h - header) + topic_len + n;
        p->direct_ends[p->n_direct++] = p->direct_appended;
        if (in_flight(p) >= PUBLISHER_WINDOW)
                p->full = true;
        (void) sd_event_source_set_enabled(p->turn_end, SD_EVENT_ONESHOT);
        return 0;
}

int publisher_publish(Publisher *p, const char *topic, const void *payload, size_t n, int qos, bool retain) {
        int mid = 0, r;

        assert(p);
        assert(topic);
        assert(payload || n == 0);
        assert(IN_SET(qos, 0, 1));

        if (!publisher_has_room(p) && p->state != PUBLISHER_STOPPING)
                return -EAGAIN;
        if (qos == 0 && !p->config.broker->tls && p->fd >= 0)
                return direct_publish(p, topic, payload, n, retain);
        /* After what direct holds, in order. */
        direct_flush(p);
        if (p->direct) {
                p->owe_room = true;
                return -EAGAIN;
        }
        p->publishing = true;
        p->written_at_once = false;
        /* A turn of the loop publishes a tick's readings, and more: in as few segments as fit, not one each
         * (half the bridge's time in the kernel went to sending them one by one). */
        if (!p->corked && p->fd >= 0 && setsockopt(p->fd, IPPROTO_TCP, TCP_CORK, &(int) { 1 }, sizeof(int)) == 0) {
                p->corked = true;
                (void) sd_event_source_set_enabled(p->turn_end, SD_EVENT_ONESHOT);
        }
        r = mosquitto_publish(p->mosq, &mid, topic, (int) n, payload, qos, retain);
        p->publishing = false;
        /* At QoS 1, libmosquitto queued it before it failed to write: it sends it again after the reconnection
         * that follows (on_io() sees the loss), and its PUBACK will come. */
        if (qos == 1 && (r == MOSQ_ERR_CONN_LOST || r == MOSQ_ERR_ERRNO))
                r = MOSQ_ERR_SUCCESS;
        if (r == MOSQ_ERR_PAYLOAD_SIZE || r == MOSQ_ERR_OVERSIZE_PACKET)
                return -EMSGSIZE; /* the same message would be refused again */
        if (r == MOSQ_ERR_INVAL || r == MOSQ_ERR_MALFORMED_UTF8)
                return -EINVAL;
        if (r != MOSQ_ERR_SUCCESS)
                return r == MOSQ_ERR_ERRNO ? -errno : r == MOSQ_ERR_NOMEM ? -ENOMEM : -EIO;
        if (!p->written_at_once && qos == 0) {
                p->qos0[(p->qos0_head + p->n_qos0) % PUBLISHER_WINDOW] = (uint16_t) mid;
                p->n_qos0++;
        } else if (!p->written_at_once)
                p->in_flight_qos1++;
        if (in_flight(p) >= PUBLISHER_WINDOW)
                p->full = true;
        watch(p);
        return 0;
}

int publisher_reconnect(Publisher *p, const char *password) {
        char *copy = NULL;

        assert(p);

        if (password && !(copy = strdup(password)))
                return -ENOMEM;
        if (p->password)
                explicit_bzero(p->password, strlen(p->password));
        free(p->password);
        p->password = copy;
        p->reconnect = true;
        switch (p->state) {
        case PUBLISHER_CONNECTED:
                /* Its end (on_disconnect()) makes it again; nothing more is published on it meanwhile. What
                 * direct holds is written first (direct_flush() ends it then), for --timeout at most. */
                p->state = PUBLISHER_CONNECTING;
                set_timer(p, p->config.timeout);
                direct_flush(p);
                if (p->state == PUBLISHER_CONNECTING && !p->direct)
                        goodbye(p);
                watch(p);
                break;
        case PUBLISHER_BACKING_OFF:
                (void) sd_event_source_set_enabled(p->timer, SD_EVENT_OFF);
                attempt(p);
                break;
        default:
                /* Being made with the old password: made again once it is (connected()) or has failed
                 * (on_disconnect()). Not started, stopping or closed: nothing to make again. */
                break;
        }
        return 0;
}

void publisher_start(Publisher *p) {
        assert(p);
        attempt(p);
}

void publisher_stop(Publisher *p) {
        bool reloading;

        assert(p);

        /* A reload's connection still writing what it held, or waiting for the broker's end after our
         * DISCONNECT (publisher_reconnect()): stopped as a connected one, which it still is. */
        reloading = p->state == PUBLISHER_CONNECTING && p->reconnect && p->fd >= 0 && (p->direct || p->leaving);
        if (p->state != PUBLISHER_CONNECTED && !reloading) {
                /* What is still on its way (QoS 1, from before a loss) goes with it. */
                p->stop_timed_out = in_flight(p) > 0;
                (void) sd_event_source_set_enabled(p->timer, SD_EVENT_OFF);
                p->io = sd_event_source_disable_unref(p->io);
                p->fd = -1;
                orphan(p);
                if (p->started && p->mosq)
                        (void) mosquitto_disconnect(p->mosq);
                p->state = PUBLISHER_CLOSED;
                p->ops->closed(p);
                return;
        }
        /* A clean disconnect does not fire the will: say "offline" ourselves (not after our DISCONNECT). */
        p->state = PUBLISHER_STOPPING;
        p->say_offline = p->config.will_topic && !p->leaving;
        set_timer(p, p->config.timeout);
        direct_flush(p);
        stop_when_done(p);
        watch(p);
}

int publisher_new(sd_event *e, const PublisherConfig *config, const PublisherOps *ops, void *userdata,
                Publisher **ret) {
        _cleanup_(publisher_freep) Publisher *p = NULL;
        int r;

        assert(e);
        assert(config && config->broker && config->client_id && config->label);
        assert(ops && ops->connected && ops->room && ops->lost && ops->closed);
        assert(!config->subscriptions || ops->message);
        assert(ret);

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->config = *config;
        p->ops = ops;
        p->userdata = userdata;
        p->event = sd_event_ref(e);
        p->fd = -1;
        broker_address_format(config->broker, p->broker, sizeof(p->broker));

        p->mosq = mosquitto_new(config->client_id, true, p);
        if (!p->mosq)
                return errno > 0 ? -errno : -ENOMEM;
        mosquitto_connect_callback_set(p->mosq, on_connect);
        mosquitto_disconnect_callback_set(p->mosq, on_disconnect);
        mosquitto_publish_callback_set(p->mosq, on_publish);
        mosquitto_log_callback_set(p->mosq, on_log);
        if (config->subscriptions) {
                mosquitto_message_callback_set(p->mosq, on_message);
                mosquitto_subscribe_callback_set(p->mosq, on_subscribe);
        }
        (void) mosquitto_int_option(p->mosq, MOSQ_OPT_SEND_MAXIMUM, PUBLISHER_WINDOW);
        if (config->will_topic &&
                        mosquitto_will_set(p->mosq, config->will_topic, (int) strlen("offline"), "offline", 1, true) !=
                                MOSQ_ERR_SUCCESS)
                return -EINVAL;
        if (config->broker->user &&
                        mosquitto_username_pw_set(p->mosq, config->broker->user, config->password) != MOSQ_ERR_SUCCESS)
                return -EINVAL;
        if (config->broker->tls) {
                /* The system's certificates as a directory, not MOSQ_OPT_TLS_USE_OS_CERTS: with that, libmosquitto
                 * 2.0.11 refuses every reconnection after the first attempt. */
                r = mosquitto_tls_set(p->mosq, config->cafile, config->cafile ? NULL : SYSTEM_CERTIFICATES, NULL, NULL,
                                NULL);
                if (r != MOSQ_ERR_SUCCESS)
                        return r == MOSQ_ERR_ERRNO ? -errno : -EINVAL;
        }

        r = sd_event_add_time_relative(e, &p->timer, CLOCK_MONOTONIC, config->timeout, 0, on_timer, p);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(p->timer, SD_EVENT_OFF);
        r = sd_event_add_defer(e, &p->room_event, on_room, p);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(p->room_event, SD_EVENT_OFF);
        r = sd_event_add_post(e, &p->turn_end, on_turn_end, p);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(p->turn_end, SD_EVENT_OFF);
        r = sd_event_add_time_relative(e, &p->misc, CLOCK_MONOTONIC, USEC_PER_SEC, USEC_PER_SEC / 4, on_misc, p);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(p->misc, SD_EVENT_ON);

        *ret = TAKE_PTR(p);
        return 0;
}

Publisher *publisher_free(Publisher *p) {
        if (!p)
                return NULL;
        sd_event_source_disable_unref(p->io);
        sd_event_source_disable_unref(p->timer);
        sd_event_source_disable_unref(p->misc);
        sd_event_source_disable_unref(p->room_event);
        sd_event_source_disable_unref(p->turn_end);
        send_queue_free(p->direct);
        orphan(p);
        if (p->mosq)
                mosquitto_destroy(p->mosq);
        if (p->password)
                explicit_bzero(p->password, strlen(p->password));
        free(p->password);
        sd_event_unref(p->event);
        free(p);
        return NULL;
}
