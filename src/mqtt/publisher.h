/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "broker.h"
#include "macro.h"

/* One connection to the MQTT broker, libmosquitto driven from sd-event: its socket is an io source, its
 * keepalive a timer, and no thread of libmosquitto's runs. It connects, keeps the connection, and
 * reconnects with backoff; it holds at most PUBLISHER_WINDOW messages that the broker has not taken yet,
 * and says when there is room for more. What to publish, and what waits meanwhile, is the owner's. */
typedef struct Publisher Publisher;

#define PUBLISHER_WINDOW 1000

typedef struct PublisherConfig {
        const BrokerAddress *broker;
        const char *password;           /* NULL without */
        const char *cafile;             /* mqtts://: NULL for the system's certificates */
        const char *client_id;
        const char *will_topic;         /* the broker publishes "offline" there, retained, when we vanish; and so
                                         * does publisher_stop(). NULL for none */
        const char *label;              /* for messages: what this connection carries (a host's name) */
        uint64_t timeout;               /* usec to connect, and to say goodbye */
        unsigned keepalive;             /* seconds */
        const char *const *subscriptions; /* topic patterns subscribed to at QoS 0 at each connection, NULL-ended;
                                           * NULL for none */
} PublisherConfig;

typedef struct PublisherOps {
        /* Connected, anew after a loss: publish what the broker should hold. With subscriptions, once the
         * last is granted (their retained messages may still be on their way: a message the owner sends
         * itself comes after them). */
        void (*connected)(Publisher *p);
        /* There is room again for messages that wait. */
        void (*room)(Publisher *p);
        /* The connection is gone (it reconnects by itself); dropped counts the QoS 0 messages that went
         * with it unsent. */
        void (*lost)(Publisher *p, uint64_t dropped);
        /* After publisher_stop(): the goodbye is said (or timed out), and the connection closed. */
        void (*closed)(Publisher *p);
        /* A message on a topic of config->subscriptions (the retained ones first, as they are subscribed
         * to): NULL for a publisher without. */
        void (*message)(Publisher *p, const char *topic, const void *payload, size_t n);
} PublisherOps;

/* config's strings must outlive the publisher. */
int publisher_new(sd_event *e, const PublisherConfig *config, const PublisherOps *ops, void *userdata,
                Publisher **ret);
Publisher *publisher_free(Publisher *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Publisher *, publisher_free);

void *publisher_get_userdata(Publisher *p);
void publisher_start(Publisher *p);
bool publisher_is_connected(Publisher *p);
/* Connected, with fewer than PUBLISHER_WINDOW messages not yet taken by the broker; once it had that many,
 * with at most half as many (ops->room() says when). */
bool publisher_has_room(Publisher *p);
/* Only when publisher_has_room(). -EMSGSIZE and -EINVAL for a message that would be refused again, others
 * for a connection that fails (and is made again). */
int publisher_publish(Publisher *p, const char *topic, const void *payload, size_t n, int qos, bool retain);
/* A password anew (NULL for none; copied): the connection is made again with it at once, without a
 * backoff, what the broker had not taken yet sent again (QoS 1); at QoS 0 once the broker has read what was
 * written to it, for config->timeout at most (what it had not then is counted lost, ops->lost()). */
int publisher_reconnect(Publisher *p, const char *password);
/* After ops->closed(): whether the broker took every message before the end. */
bool publisher_stopped_cleanly(Publisher *p);
/* Publishes "offline" to the will's topic (as the broker would, had we vanished), waits until the broker has
 * taken every message, disconnects, waits for the broker to close its end, and calls ops->closed(); at once
 * when not connected. */
void publisher_stop(Publisher *p);
