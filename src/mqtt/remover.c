/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parse.h"
#include "protocol.h"
#include "publisher.h"
#include "remover.h"
#include "server-link.h"
#include "topics.h"

/* What is subscribed to: the host's topics, its device config, 0.2.0's two kinds of config, and a topic
 * of the remover's own. A message it sends itself there comes after every retained one the broker queued
 * for it when it subscribed: then it has them all, whatever order the broker answers SUBSCRIBEs in. */
enum {
        PATTERN_HOST,
        PATTERN_DEVICE,
        PATTERN_LEGACY,
        PATTERN_LEGACY_HEAT,
        PATTERN_PROBE,
        _PATTERN_MAX,
};

struct Remover {
        const MqttOptions *options;
        const ServerSpec *spec;
        sd_event *event;
        void (*done)(Remover *r, int result, void *userdata);
        void *userdata;
        char bridge_host[PROTOCOL_HOST_MAX + 1];
        char name[PROTOCOL_HOST_MAX + 1];
        char client_id[160];
        ServerLink *link;               /* to learn the name, where NAME= does not give it */
        Publisher *publisher;
        sd_event_source *deadline;      /* the whole of it, given --timeout once connected to the broker */
        char patterns[_PATTERN_MAX][TOPIC_MAX];
        const char *subscriptions[_PATTERN_MAX + 1];
        char **topics;                  /* retained, not empty: to clear */
        size_t n_topics, cleared;
        bool connected, settled, finished;     /* settled: the probe came back */
        int result;
};

static void finish(Remover *r, int result) {
        if (r->finished)
                return;
        r->finished = true;
        /* The first error is the one said. */
        if (r->result == 0)
                r->result = result;
        (void) sd_event_source_set_enabled(r->deadline, SD_EVENT_OFF);
        server_link_close(r->link);
        /* A clean disconnect, with no will and no "offline": nothing is left behind. */
        if (r->publisher)
                publisher_stop(r->publisher);
        else
                r->done(r, result, r->userdata);
}

/* An empty retained payload to each topic taken, as many as the broker has room for; stopped once all
 * are, the settling is over, and the broker has them (publisher_stop() waits). */
static void clear(Remover *r) {
        if (!r->connected || r->finished)
                return;
        for (; r->cleared < r->n_topics && publisher_has_room(r->publisher); r->cleared++) {
                int k = publisher_publish(r->publisher, r->topics[r->cleared], "", 0, 1, true);

                log_debug("Clearing %s.", r->topics[r->cleared]);

                if (k == -EAGAIN)
                        return;
                if (k < 0) {
                        log_error_errno(k, "Failed to clear %s: %m", r->topics[r->cleared]);
                        r->result = r->result ?: k;
                }
        }
        if (r->cleared < r->n_topics || !r->settled)
                return;
        log_info("Cleared %zu retained topic%s of %s at the broker.", r->n_topics, r->n_topics == 1 ? "" : "s",
                        r->name);
        finish(r, 0);
}

static void on_connected(Publisher *p) {
        Remover *r = publisher_get_userdata(p);
        int k;

        r->connected = true;
        /* The probe: it comes back after the retained ones (on_message()). */
        k = publisher_publish(p, r->patterns[PATTERN_PROBE], "probe", strlen("probe"), 0, false);
        if (k < 0)
                log_warning_errno(k, "Failed to publish to %s: %m", r->patterns[PATTERN_PROBE]);
        clear(r);
}

static void on_room(Publisher *p) {
        clear(publisher_get_userdata(p));
}

static void on_lost(Publisher *p, uint64_t dropped) {
        Remover *r = publisher_get_userdata(p);

        /* Connected again, it subscribes again, what is still retained comes again, and it settles again;
         * within --timeout, as the first time. */
        r->connected = r->settled = false;
        (void) sd_event_source_set_time_relative(r->deadline, r->options->timeout);
        (void) sd_event_source_set_enabled(r->deadline, SD_EVENT_ONESHOT);
}

static void on_closed(Publisher *p) {
        Remover *r = publisher_get_userdata(p);

        /* The broker did not take every clear in time: not all of them are done. */
        if (r->result == 0 && !publisher_stopped_cleanly(p)) {
                log_error("The broker did not take every clear of %s in time.", r->name);
                r->result = -ETIMEDOUT;
        }
        r->done(r, r->result, r->userdata);
}

static void on_message(Publisher *p, const char *topic, const void *payload, size_t n) {
        Remover *r = publisher_get_userdata(p);
        char **topics, *copy;

        if (strcmp(topic, r->patterns[PATTERN_PROBE]) == 0) {
                r->settled = true;
                clear(r);
                return;
        }
        /* Cleared already: ours, coming back. */
        if (n == 0)
                return;
        for (size_t i = 0; i < r->n_topics; i++)
                if (strcmp(r->topics[i], topic) == 0)
                        return;
        copy = strdup(topic);
        topics = copy ? reallocarray(r->topics, r->n_topics + 1, sizeof(char *)) : NULL;
        if (!topics) {
                free(copy);
                log_error("No memory for the topics of %s: not all of them are cleared.", r->name);
                r->result = -ENOMEM;
                return;
        }
        r->topics = topics;
        r->topics[r->n_topics++] = copy;
        clear(r);
}

static const PublisherOps publisher_ops = {
        .connected = on_connected,
        .room = on_room,
        .lost = on_lost,
        .closed = on_closed,
        .message = on_message,
};

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        Remover *r = userdata;
        char span[64];

        log_error("Could not clear the topics of %s: %s in %s.", r->name[0] ? r->name : r->spec->text,
                        r->connected ? "the broker did not answer" : "no connection to the broker",
                        format_timespan(span, sizeof(span), r->options->timeout));
        finish(r, -ETIMEDOUT);
        return 0;
}

static void start_publisher(Remover *r) {
        int k;

        snprintf(r->patterns[PATTERN_HOST], TOPIC_MAX, "%s/%s/#", r->options->topic_prefix, r->name);
        device_topic(r->patterns[PATTERN_DEVICE], r->options->discovery_prefix, r->name);
        legacy_discovery_pattern(r->patterns[PATTERN_LEGACY], r->options->discovery_prefix, r->name, false);
        legacy_discovery_pattern(r->patterns[PATTERN_LEGACY_HEAT], r->options->discovery_prefix, r->name, true);
        /* Not the bridge's own id: a running bridge is not thrown off the broker; nor another remover's, of
         * a server of the same name. */
        snprintf(r->client_id, sizeof(r->client_id), "thermo-mqtt-remove-%s-%s-%p", r->bridge_host, r->name,
                        (void *) r);
        snprintf(r->patterns[PATTERN_PROBE], TOPIC_MAX, "thermo-mqtt/%s/probe", r->client_id);
        for (size_t i = 0; i < _PATTERN_MAX; i++)
                r->subscriptions[i] = r->patterns[i];
        k = publisher_new(r->event,
                        &(PublisherConfig) {
                                .broker = &r->options->broker,
                                .password = r->options->password,
                                .cafile = r->options->cafile,
                                .client_id = r->client_id,
                                .label = r->name,
                                .timeout = r->options->timeout,
                                .keepalive = r->options->keepalive,
                                .subscriptions = r->subscriptions,
                        },
                        &publisher_ops, r, &r->publisher);
        if (k < 0) {
                log_error_errno(k, "Failed to set up the broker connection for %s: %m", r->name);
                finish(r, k);
                return;
        }
        (void) sd_event_source_set_time_relative(r->deadline, r->options->timeout);
        (void) sd_event_source_set_enabled(r->deadline, SD_EVENT_ONESHOT);
        publisher_start(r->publisher);
}

/* The name as the bridge would have published under it: the server's host=, where it is a topic level. */
static void on_greeted(ServerLink *l, const Reply *hello) {
        Remover *r = server_link_get_userdata(l);

        if (!hello->host[0] || !topic_host_is_valid(hello->host)) {
                log_error("%s gives no name that is a topic level: give it one, NAME=%s.", r->spec->text, r->spec->text);
                finish(r, -EINVAL);
                return;
        }
        snprintf(r->name, sizeof(r->name), "%s", hello->host);
        server_link_close(l);
        start_publisher(r);
}

static void on_line(ServerLink *l, int k, const Reply *reply, const char *line) {
        /* None is asked for: the greeting is all it takes. */
}

/* A local server that is not there (thermo removed with us, say) named itself as this machine does. */
static void on_failed(ServerLink *l, int status, const char *message) {
        Remover *r = server_link_get_userdata(l);
        const char *host = r->spec->host;

        if (r->spec->unix_path || (host && (strcmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0 ||
                                           strcmp(host, "::1") == 0))) {
                protocol_host(r->name);
                if (topic_host_is_valid(r->name)) {
                        log_info("%s; clearing the topics of this machine, %s.", message, r->name);
                        start_publisher(r);
                        return;
                }
        }
        log_error("%s: its name is not known; give it one, NAME=%s.", message, r->spec->text);
        finish(r, -EHOSTUNREACH);
}

static const ServerLinkOps link_ops = {
        .greeted = on_greeted,
        .line = on_line,
        .failed = on_failed,
};

void remover_start(Remover *r) {
        assert(r);

        if (r->spec->name) {
                snprintf(r->name, sizeof(r->name), "%s", r->spec->name);
                start_publisher(r);
                return;
        }
        server_link_start(r->link);
}

int remover_new(sd_event *e, const MqttOptions *options, const ServerSpec *spec, const char *bridge_host,
                void (*done)(Remover *r, int result, void *userdata), void *userdata, Remover **ret) {
        _cleanup_(remover_freep) Remover *r = NULL;
        int k;

        assert(e);
        assert(options);
        assert(spec);
        assert(bridge_host);
        assert(done);
        assert(ret);

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        *r = (Remover) { .options = options, .spec = spec, .event = sd_event_ref(e), .done = done, .userdata = userdata };
        snprintf(r->bridge_host, sizeof(r->bridge_host), "%s", bridge_host);
        k = sd_event_add_time_relative(e, &r->deadline, CLOCK_MONOTONIC, options->timeout, 0, on_deadline, r);
        if (k < 0)
                return k;
        (void) sd_event_source_set_enabled(r->deadline, SD_EVENT_OFF);
        k = server_link_new(e,
                        &(ServerLinkConfig) {
                                .host = spec->host,
                                .port = spec->port,
                                .unix_path = spec->unix_path,
                                .timeout = options->timeout,
                        },
                        &link_ops, r, &r->link);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(r);
        return 0;
}

Remover *remover_free(Remover *r) {
        if (!r)
                return NULL;
        server_link_free(r->link);
        publisher_free(r->publisher);
        sd_event_source_disable_unref(r->deadline);
        for (size_t i = 0; i < r->n_topics; i++)
                free(r->topics[i]);
        free(r->topics);
        sd_event_unref(r->event);
        free(r);
        return NULL;
}
