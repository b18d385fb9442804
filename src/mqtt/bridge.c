/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "bridge.h"
#include "host.h"
#include "log.h"
#include "parse.h"
#include "protocol.h"
#include "remover.h"
#include "signals.h"

struct Bridge {
        const MqttOptions *options;
        sd_event *event;
        char broker[300];
        char machine[PROTOCOL_HOST_MAX + 1];
        Host **hosts;
        size_t n_hosts;
        size_t n_stopped;
        Remover **removers;     /* --remove: instead of hosts */
        size_t n_removers, n_removed;
        bool remove_failed;
        bool stopping;
        sd_event_source *status_timer;
        char status[512];       /* the last STATUS= sent */
};

static bool name_taken(Host *h, const char *name, void *userdata) {
        Bridge *b = userdata;

        for (size_t i = 0; i < b->n_hosts; i++)
                if (b->hosts[i] != h && host_get_name(b->hosts[i]) && strcmp(host_get_name(b->hosts[i]), name) == 0)
                        return true;
        return false;
}

static void host_stopped(Host *h, void *userdata) {
        Bridge *b = userdata;

        if (++b->n_stopped == b->n_hosts)
                (void) sd_event_exit(b->event, 0);
}

/* STATUS=, when it says something new: checked once a second. */
static int on_status(sd_event_source *s, uint64_t usec, void *userdata) {
        Bridge *b = userdata;
        size_t up = 0, sensors = 0, brokers = 0;
        uint64_t published = 0, dropped = 0;
        char text[sizeof(b->status)];

        for (size_t i = 0; i < b->n_hosts; i++) {
                HostStats st;

                host_get_stats(b->hosts[i], &st);
                up += st.server_up;
                brokers += st.broker_up;
                sensors += st.server_up ? st.sensors : 0;
                published += st.published;
                dropped += st.dropped;
        }
        snprintf(text, sizeof(text),
                        "%zu of %zu server%s up (%zu sensor%s), %zu connected to %s; %" PRIu64 " readings sent, %" PRIu64
                        " dropped.",
                        up, b->n_hosts, b->n_hosts == 1 ? "" : "s", sensors, sensors == 1 ? "" : "s", brokers, b->broker,
                        published, dropped);
        if (strcmp(text, b->status) != 0) {
                (void) sd_notifyf(false, "STATUS=%s", text);
                memcpy(b->status, text, sizeof(text));
        }
        (void) sd_event_source_set_time_relative(s, USEC_PER_SEC);
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Bridge *b = userdata;

        if (b->stopping)
                return 0;
        b->stopping = true;
        if (b->n_removers > 0) {
                log_error("Received %s: not every topic is cleared.", strsignal((int) si->ssi_signo));
                return sd_event_exit(b->event, -ECANCELED);
        }
        log_info("Received %s, marking %zu host%s offline.", strsignal((int) si->ssi_signo), b->n_hosts,
                        b->n_hosts == 1 ? "" : "s");
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Marking every host offline.");
        for (size_t i = 0; i < b->n_hosts; i++)
                host_stop(b->hosts[i]);
        return 0;
}

/* systemctl reload: the broker's password read anew (a rotated one), and every broker connection made
 * again with it; readings wait in the servers' histories meanwhile, and QoS 1 ones on their way are sent
 * again. */
static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Bridge *b = userdata;
        char *password = NULL;
        int r;

        if (b->stopping)
                return 0;
        (void) sd_notify(false, "RELOADING=1\nSTATUS=Reloading: reading the broker's password again.");
        r = mqtt_password_read(b->options, &password);
        if (r < 0) {
                /* Said why, but out of memory. */
                if (r == -ENOMEM)
                        log_error_errno(r, "Failed to read the broker's password again: %m");
                log_error("The reload failed: the connections to the broker go on as they were.");
        } else {
                log_info("Reloading: connecting to the broker %s again for %zu host%s%s.", b->broker, b->n_hosts,
                                b->n_hosts == 1 ? "" : "s", password ? ", with the password read anew" : "");
                for (size_t i = 0; i < b->n_hosts; i++) {
                        r = host_reconnect_broker(b->hosts[i], password);
                        if (r < 0)
                                log_error_errno(r, "Failed to connect to the broker again for %s: %m",
                                                host_get_name(b->hosts[i]) ?: "a host");
                }
        }
        if (password)
                explicit_bzero(password, strlen(password));
        free(password);
        b->status[0] = '\0';   /* said again at the next check */
        (void) sd_notify(false, "READY=1");
        return 0;
}

static void removed(Remover *r, int result, void *userdata) {
        Bridge *b = userdata;

        b->remove_failed |= result < 0;
        if (++b->n_removed == b->n_removers)
                (void) sd_event_exit(b->event, b->remove_failed ? -EIO : 0);
}

int bridge_new(const MqttOptions *options, Bridge **ret) {
        _cleanup_(bridge_freep) Bridge *b = NULL;
        const HostOwner owner = { .name_taken = name_taken, .stopped = host_stopped };
        int r;

        assert(options);
        assert(ret);

        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->options = options;
        broker_address_format(&options->broker, b->broker, sizeof(b->broker));
        protocol_host(b->machine);

        r = sd_event_default(&b->event);
        if (r < 0)
                return r;
        r = signals_add_stop(b->event, on_signal, b);
        if (r < 0)
                return r;
        r = signals_add_reload(b->event, on_reload, b);
        if (r < 0)
                return r;
        r = sd_event_add_time_relative(b->event, &b->status_timer, CLOCK_MONOTONIC, USEC_PER_SEC, USEC_PER_SEC / 4,
                        on_status, b);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(b->status_timer, SD_EVENT_ON);

        if (options->remove) {
                b->removers = calloc(options->n_servers, sizeof(Remover *));
                if (!b->removers)
                        return -ENOMEM;
                for (size_t i = 0; i < options->n_servers; i++) {
                        r = remover_new(b->event, options, &options->servers[i], b->machine, removed, b,
                                        &b->removers[b->n_removers]);
                        if (r < 0)
                                return r;
                        b->n_removers++;
                }
                *ret = TAKE_PTR(b);
                return 0;
        }
        b->hosts = calloc(options->n_servers, sizeof(Host *));
        if (!b->hosts)
                return -ENOMEM;
        for (size_t i = 0; i < options->n_servers; i++) {
                HostOwner o = owner;

                o.userdata = b;
                r = host_new(b->event, options, &options->servers[i], b->machine, &o, &b->hosts[b->n_hosts]);
                if (r < 0)
                        return r;
                b->n_hosts++;
        }

        *ret = TAKE_PTR(b);
        return 0;
}

Bridge *bridge_free(Bridge *b) {
        if (!b)
                return NULL;
        for (size_t i = 0; i < b->n_hosts; i++)
                host_free(b->hosts[i]);
        free(b->hosts);
        for (size_t i = 0; i < b->n_removers; i++)
                remover_free(b->removers[i]);
        free(b->removers);
        sd_event_source_disable_unref(b->status_timer);
        sd_event_unref(b->event);
        free(b);
        return NULL;
}

int bridge_run(Bridge *b) {
        int r;

        assert(b);

        if (b->n_removers > 0) {
                for (size_t i = 0; i < b->n_removers; i++)
                        remover_start(b->removers[i]);
                r = sd_event_loop(b->event);
                return r < 0 ? r : 0;
        }
        r = sd_event_set_watchdog(b->event, true);
        if (r < 0)
                return log_error_errno(r, "Failed to enable the watchdog: %m");
        log_info("thermo-mqtt %s started: %zu server%s to %s.", PROJECT_VERSION, b->n_hosts, b->n_hosts == 1 ? "" : "s",
                        b->broker);
        for (size_t i = 0; i < b->n_hosts; i++)
                host_start(b->hosts[i]);
        (void) sd_notify(false, "READY=1");
        r = sd_event_loop(b->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        log_info("thermo-mqtt stopped.");
        return 0;
}
