/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "backoff.h"
#include "host.h"
#include "log.h"
#include "parse.h"
#include "protocol.h"
#include "publisher.h"
#include "server-link.h"
#include "text.h"
#include "topics.h"

#define DROPS_QUIET_USEC (10 * USEC_PER_SEC)

/* The replies a connection waits for after SENSORS's: LIMITS's LIMIT lines and END, ALARMS's OK, then
 * STREAM after='s OK. A server older than each says ERR 400 to it: it is streamed without levels, or keeps
 * no history (and is asked for a plain STREAM then). */
typedef enum Answer {
        ANSWER_NONE,
        ANSWER_LIMITS,
        ANSWER_ALARMS,
        ANSWER_STREAM,
} Answer;

/* What a server can make us say at every line (a new sensor's name, a seq that goes back), said once in
 * RATE_USEC at most: the rest counted, and their number said with the next. */
#define RATE_USEC (10 * USEC_PER_SEC)

typedef struct Rate {
        uint64_t said_at;
        uint64_t unsaid;
} Rate;

/* One sensor of the host, and what the broker has of it. */
typedef struct HostSensor {
        char name[PROTOCOL_NAME_MAX + 1];
        Reading latest;         /* the newest reading; its sensor is NULL (name says it): the array moves */
        bool has_reading;
        bool failing;           /* ERR 503 since the last reading */
        Level level;            /* from LIMITS, then from each ALARM */
        bool has_level;         /* the server said it: one without LIMITS says none */
        bool heat;              /* it has a high or a crit limit: a binary sensor in Home Assistant */
        /* Waiting to be published: */
        bool reading_pending;
        bool status_pending;
        bool level_pending;
        bool queued;            /* in the host's queue of sensors with something pending */
        /* The seq of the newest reading the broker has: a tick asked for again, that it took in part, is
         * not published twice. From this run of the server. */
        uint64_t published_seq;
        /* The last reading published, for --min-change and --heartbeat; held: a newer one was held back. */
        int64_t published_mc;
        uint64_t published_ms;
        bool has_published;
        bool held;
} HostSensor;

/* A component Home Assistant is to remove: a sensor the server no longer lists (its availability goes
 * offline too), or a heat whose limits went. In every device config until one with it is published. */
typedef struct Removal {
        char name[PROTOCOL_NAME_MAX + 1];
        bool heat;
        bool offline_pending;   /* the sensor's availability, "offline" */
        bool announced;         /* in a device config the broker has */
} Removal;

/* A single-component config of thermo-mqtt 0.2.0's, retained at the broker: handed over to the device's
 * ({"migrate_discovery":true}) when the device has that component, then cleared, once the device's config
 * is published; one of a component the device no longer has is cleared alone (Home Assistant removes it). */
typedef struct Legacy {
        char topic[TOPIC_MAX];
        bool heat;              /* of a binary_sensor, a heat */
        bool migrated;          /* handed over, or passed over: to be cleared */
} Legacy;

struct Host {
        const MqttOptions *options;
        const ServerSpec *spec;
        HostOwner owner;
        sd_event *event;
        char bridge_host[PROTOCOL_HOST_MAX + 1];
        char name[PROTOCOL_HOST_MAX + 1];       /* "" until known */
        char will_topic[TOPIC_MAX];
        char topic_base[TOPIC_MAX];     /* "<prefix>/<host>/", of every reading's topic */
        size_t topic_base_len;
        char client_id[160];

        ServerLink *link;
        Publisher *publisher;           /* made once the name is known */
        bool listing;                   /* SENSOR lines until END */
        Answer answer;                  /* what comes after the listing, before the stream */
        unsigned limits_asked;          /* LIMITS of sensors a rescan added, not answered yet */
        /* What the broker is owed: every tick after resume_after (the newest one taken may be in part only),
         * asked for with STREAM after= at each connection to the server, and on it when the broker fell
         * behind. */
        uint64_t resume_after;
        bool has_resume;                /* there was a tick */
        /* The server keeps a history (it took after=): a reading the broker cannot take waits there, not
         * here. Without, the newest of each sensor waits here, and the others are dropped. */
        bool history;
        bool behind;                    /* the broker could not take the tick after resume_after: what comes
                                         * is passed over, and asked for again once it has room */
        bool restreaming;               /* a STREAM after= on the way: the old stream's lines until its OK */
        bool behind_said, catch_up_said, gap_said; /* since the quiet timer last ran */
        size_t unavailable_run;         /* ERR 503 lines of this tick so far: a whole tick of them has no seq */
        size_t last_index;              /* the sensor of the last line: a tick's lines come in order */
        bool server_up;
        bool status_pending;            /* the host's availability */
        bool stopping;
        char server[64], version[32];   /* from HELLO, for the device in Home Assistant */

        HostSensor *sensors;
        size_t n_sensors;
        char *password;                 /* the broker's, from the last reload (reloaded), NULL for none */
        bool reloaded;
        bool config_pending;            /* the device's discovery config */
        uint64_t config_at;             /* CLOCK_MONOTONIC of the last one */
        uint64_t connected_at;          /* CLOCK_MONOTONIC of the broker's connection */
        bool probing;                   /* its probe is on its way: 0.2.0's configs may not all be in yet */
        char probe[TOPIC_MAX];
        sd_event_source *config_timer;
        bool config_refused;            /* the last one was refused for its size */
        bool key_clash_said;
        Removal *removals;
        size_t n_removals;
        Legacy *legacy;
        size_t n_legacy;
        /* What the publisher subscribes to, with discovery: 0.2.0's two kinds of config, then Home Assistant's
         * status (last: see publisher.h). */
        char legacy_patterns[2][TOPIC_MAX], discovery_status[TOPIC_MAX];
        const char *subscriptions[5];
        size_t *queue;                  /* a ring of indices into sensors, each at most once: what waits */
        size_t queue_head, queue_len;
        size_t next;                    /* the sensor the next reading is likely of: they come in order */
        HostSensor *listed;             /* the new list, while SENSOR lines come */
        size_t n_listed;

        uint64_t published;
        uint64_t dropped;
        uint64_t dropped_unsaid;        /* since it was last said */
        sd_event_source *quiet_timer;
        bool name_clash_said;
        Rate new_sensor_rate, restart_rate, gap_rate;
        bool bad_name_said;     /* its host= is no topic level: said once */
        bool sensors_max_said;
};

static void flush(Host *h);
static void catch_up(Host *h);

static void arm_quiet(Host *h) {
        (void) sd_event_source_set_time_relative(h->quiet_timer, DROPS_QUIET_USEC);
        (void) sd_event_source_set_enabled(h->quiet_timer, SD_EVENT_ONESHOT);
}

/* Whether to say it now: once in RATE_USEC; else it is counted. *ret_unsaid, those not said before it. */
static bool rate_say(Host *h, Rate *r, uint64_t *ret_unsaid) {
        uint64_t now = 0;

        (void) sd_event_now(h->event, CLOCK_MONOTONIC, &now);
        if (r->said_at > 0 && now < r->said_at + RATE_USEC) {
                r->unsaid++;
                /* Their number is said once all is quiet (on_quiet()), if nothing says it first. */
                arm_quiet(h);
                return false;
        }
        *ret_unsaid = r->unsaid;
        r->said_at = now;
        r->unsaid = 0;
        return true;
}

/* Readings are dropped: said when it starts (without a history), and how many once none has been for a
 * while (on_quiet()). */
static uint64_t add_saturating(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void count_dropped(Host *h, uint64_t n) {
        if (n == 0)
                return;
        if (h->dropped_unsaid == 0 && !h->history)
                log_warning("The broker does not take the readings of %s now: keeping the newest of each sensor until "
                            "it does.", h->name);
        h->dropped = add_saturating(h->dropped, n);
        h->dropped_unsaid = add_saturating(h->dropped_unsaid, n);
        arm_quiet(h);
}

/* With a history, the broker is behind: what comes from the server is passed over, and sent again when
 * asked for (catch_up()); or the old stream's lines come, until a new STREAM's OK. */
static bool passing_over(const Host *h) {
        return h->behind || h->restreaming;
}

/* The broker cannot take the reading of the tick after resume_after: that tick and all after it wait in the
 * server's history, asked for again when it can (catch_up()). Said once, however often it comes and goes. */
static void fall_behind(Host *h) {
        h->behind = true;
        if (!h->behind_said)
                log_warning("The broker does not take the readings of %s now: they wait in the server's history "
                            "from #%" PRIu64 " on, until it does.", h->name, h->resume_after + 1);
        h->behind_said = true;
        arm_quiet(h);
}

/* Nothing dropped, and the broker not behind, for DROPS_QUIET_USEC: say once how many were dropped, rather
 * than at every breath of a broker that keeps up only just. */
static int on_quiet(sd_event_source *s, uint64_t usec, void *userdata) {
        Host *h = userdata;
        char field[64], host[PROTOCOL_HOST_MAX + 8];

        if (passing_over(h)) {
                arm_quiet(h);
                return 0;
        }
        if (h->dropped_unsaid > 0) {
                snprintf(field, sizeof(field), "DROPPED=%" PRIu64, h->dropped_unsaid);
                snprintf(host, sizeof(host), "HOST=%s", h->name);
                log_struct(LOG_NOTICE, 0, THERMO_MESSAGE_READINGS_DROPPED, LOG_FIELDS(field, host),
                                h->history ? "%" PRIu64 " reading%s of %s did not reach the broker: the server held "
                                             "them no more when it could take them, or they went with its connection "
                                             "(QoS 0)." :
                                             "%" PRIu64 " reading%s of %s did not reach the broker while it was away or "
                                             "slow; every sensor's newest did.",
                                h->dropped_unsaid, h->dropped_unsaid == 1 ? "" : "s", h->name);
        } else if (h->behind_said)
                log_info("The readings of %s that waited for the broker have all reached it.", h->name);
        if (h->new_sensor_rate.unsaid > 0)
                log_info("%s had %" PRIu64 " new sensors more, not said one by one.", h->name, h->new_sensor_rate.unsaid);
        if (h->restart_rate.unsaid > 0)
                log_notice("%s: its readings went back (a restart) %" PRIu64 " times more, not said one by one.",
                                h->name, h->restart_rate.unsaid);
        if (h->gap_rate.unsaid > 0)
                log_warning("%s: %" PRIu64 " gaps more in its readings, not said one by one.", h->name,
                                h->gap_rate.unsaid);
        h->new_sensor_rate.unsaid = h->restart_rate.unsaid = h->gap_rate.unsaid = 0;
        h->dropped_unsaid = 0;
        h->behind_said = h->catch_up_said = h->gap_said = false;
        return 0;
}

/* 0 when the broker library took it, 1 when it refused it for what it is (said: sent again, it would be
 * again, and it must not hold up what waits behind it), < 0 when it could not take it now. */
static int publish_retained(Host *h, const char *topic, const char *payload, size_t n, int qos, bool retain) {
        int r = publisher_publish(h->publisher, topic, payload, n, qos, retain);

        if (r < 0 && r != -EAGAIN)
                log_warning_errno(r, "Failed to publish to %s: %m", topic);
        return IN_SET(r, -EMSGSIZE, -EINVAL) ? 1 : r;
}

static int publish(Host *h, const char *topic, const char *payload, size_t n, int qos) {
        return publish_retained(h, topic, payload, n, qos, true);
}

static int publish_status(Host *h, const char *sensor, bool online) {
        char topic[TOPIC_MAX];
        const char *payload = online ? "online" : "offline";

        topic_status(topic, h->options->topic_prefix, h->name, sensor);
        return publish(h, topic, payload, strlen(payload), 1);
}

/* A component's key, and where it comes in the config: sensor by sensor, each one's heat after it. */
typedef struct ComponentKey {
        char key[COMPONENT_KEY_MAX];
        size_t order;
} ComponentKey;

static int compare_keys(const void *a, const void *b) {
        const ComponentKey *x = a, *y = b;
        int k = strcmp(x->key, y->key);

        return k != 0 ? k : x->order < y->order ? -1 : x->order > y->order;
}

/* The keys of the device's components, sorted (for bsearch()), into *ret_keys, and which of them are one
 * that comes before (taken[order]: "a.b" and "a_b" have one id, a sensor "x_heat" the key of x's heat; the
 * first one has it). In n log n: a server may have thousands of sensors. */
static int sort_keys(const Host *h, ComponentKey **ret_keys, size_t *ret_n, bool **ret_taken) {
        _cleanup_free_ ComponentKey *keys = calloc(MAX(2 * h->n_sensors, (size_t) 1), sizeof(ComponentKey));
        _cleanup_free_ bool *taken = calloc(MAX(2 * h->n_sensors, (size_t) 1), sizeof(bool));
        size_t n = 0;

        if (!keys || !taken)
                return -ENOMEM;
        for (size_t i = 0; i < h->n_sensors; i++)
                for (int heat = 0; heat <= h->sensors[i].heat; heat++) {
                        component_key(keys[n].key, h->sensors[i].name, heat);
                        keys[n].order = 2 * i + (size_t) heat;
                        n++;
                }
        qsort(keys, n, sizeof(ComponentKey), compare_keys);
        for (size_t i = 1; i < n; i++)
                taken[keys[i].order] = strcmp(keys[i].key, keys[i - 1].key) == 0;
        *ret_keys = TAKE_PTR(keys);
        *ret_n = n;
        *ret_taken = TAKE_PTR(taken);
        return 0;
}

static int compare_key_only(const void *a, const void *b) {
        return strcmp(((const ComponentKey *) a)->key, ((const ComponentKey *) b)->key);
}

/* The device's config: every sensor, with its heat where it has one, and what is to be removed. 1 when the
 * broker library refused it for what it is (too large). */
static int publish_device_config(Host *h) {
        _cleanup_free_ DeviceSensor *sensors = calloc(MAX(h->n_sensors, (size_t) 1), sizeof(DeviceSensor));
        _cleanup_free_ DeviceRemoval *removals = calloc(MAX(h->n_removals, (size_t) 1), sizeof(DeviceRemoval));
        _cleanup_free_ ComponentKey *keys = NULL;
        _cleanup_free_ bool *taken = NULL;
        char topic[TOPIC_MAX], *json = NULL;
        size_t size = 0, n_sensors = 0, n_removals = 0, n_keys = 0, n_kept;
        FILE *f;
        int r;

        if (!sensors || !removals)
                return -ENOMEM;
        r = sort_keys(h, &keys, &n_keys, &taken);
        if (r < 0)
                return r;
        for (size_t i = 0; i < h->n_sensors; i++) {
                if (taken[2 * i]) {
                        if (!h->key_clash_said)
                                log_warning("%s's sensor %s has the id of another in Home Assistant: it is left out "
                                            "of the device.", h->name, h->sensors[i].name);
                        h->key_clash_said = true;
                        continue;
                }
                sensors[n_sensors++] = (DeviceSensor) { .name = h->sensors[i].name,
                                                        .heat = h->sensors[i].heat && !taken[2 * i + 1] };
        }
        /* Of sensors not there now, or heats not there now: never one of a key the device has, which are the
         * keys kept above (still in order). */
        n_kept = 0;
        for (size_t i = 0; i < n_keys; i++)
                if (!taken[keys[i].order - keys[i].order % 2] && !taken[keys[i].order])
                        keys[n_kept++] = keys[i];
        for (size_t i = 0; i < h->n_removals; i++) {
                ComponentKey key;

                component_key(key.key, h->removals[i].name, h->removals[i].heat);
                if (!bsearch(&key, keys, n_kept, sizeof(ComponentKey), compare_key_only))
                        removals[n_removals++] = (DeviceRemoval) { .name = h->removals[i].name, .heat = h->removals[i].heat };
        }
        device_topic(topic, h->options->discovery_prefix, h->name);
        f = open_memstream(&json, &size);
        if (!f)
                return -ENOMEM;
        r = device_config(f,
                        &(Device) {
                                .discovery_prefix = h->options->discovery_prefix,
                                .prefix = h->options->topic_prefix,
                                .host = h->name,
                                .server = h->server[0] ? h->server : NULL,
                                .version = h->version[0] ? h->version : NULL,
                                .url = PROJECT_URL[0] ? PROJECT_URL : NULL,
                                .format = h->options->payload,
                                .expire_after_s = h->options->expire_after / USEC_PER_SEC,
                                .sensors = sensors,
                                .n_sensors = n_sensors,
                                .removals = removals,
                                .n_removals = n_removals,
                        });
        if (fclose(f) != 0 && r >= 0)
                r = -EIO;
        if (r >= 0)
                r = publish(h, topic, json, size, 1);
        free(json);
        if (r != 0)
                return r;
        for (size_t i = 0; i < h->n_removals; i++)
                h->removals[i].announced = true;
        return 0;
}

/* Whether the device has the component a config of 0.2.0's is of: "<...>/thermo_<host id>/<sensor id>/config",
 * the sensor's, or its heat. */
static bool has_legacy_component(Host *h, const Legacy *l) {
        const char *end = strrchr(l->topic, '/'), *start;

        if (!end || end == l->topic)
                return false;
        for (start = end - 1; start > l->topic && *start != '/'; start--)
                ;
        start++;
        for (size_t i = 0; i < h->n_sensors; i++) {
                char id[COMPONENT_KEY_MAX];

                /* 0.2.0's object id is the sensor's, heat or not: the key of its temperature. */
                component_key(id, h->sensors[i].name, false);
                if ((!l->heat || h->sensors[i].heat) && strlen(id) == (size_t) (end - start) &&
                                memcmp(id, start, (size_t) (end - start)) == 0)
                        return true;
        }
        return false;
}

/* Home Assistant's migration, for each of 0.2.0's configs: {"migrate_discovery":true} on it before the
 * device's config (the entity is kept, not removed), an empty retained one after (the config is gone). */
static int publish_legacy(Host *h, bool migrate) {
        for (size_t i = 0; i < h->n_legacy; i++) {
                Legacy *l = &h->legacy[i];
                int r;

                if (l->migrated != !migrate)
                        continue;
                if (!migrate)
                        r = publish(h, l->topic, "", 0, 1);
                else if (has_legacy_component(h, l))
                        r = publish(h, l->topic, LEGACY_MIGRATE_PAYLOAD, strlen(LEGACY_MIGRATE_PAYLOAD), 1);
                else
                        r = 0;
                if (r < 0)
                        return r;
                l->migrated = true;
        }
        if (!migrate)
                h->n_legacy = 0;
        return 0;
}

/* The availability of the sensors removed, "offline"; those in a config the broker has are done. */
static int publish_removals(Host *h) {
        size_t kept = 0;

        for (size_t i = 0; i < h->n_removals; i++) {
                Removal *m = &h->removals[i];

                if (m->offline_pending) {
                        int r = publish_status(h, m->name, false);

                        if (r < 0)
                                return r;
                        m->offline_pending = false;
                }
        }
        for (size_t i = 0; i < h->n_removals; i++)
                if (!h->removals[i].announced)
                        h->removals[kept++] = h->removals[i];
        h->n_removals = kept;
        return 0;
}

/* A component to remove, unless it is one already; none of a sensor that has come back. */
static int add_removal(Host *h, const char *name, bool heat, bool offline) {
        Removal *p;

        for (size_t i = 0; i < h->n_removals; i++)
                if (strcmp(h->removals[i].name, name) == 0 && h->removals[i].heat == heat) {
                        h->removals[i].offline_pending |= offline;
                        h->removals[i].announced = false;
                        return 0;
                }
        p = reallocarray(h->removals, h->n_removals + 1, sizeof(Removal));
        if (!p)
                return -ENOMEM;
        h->removals = p;
        p = &h->removals[h->n_removals++];
        /* Without discovery, there is no config to remove it from: its availability is all. */
        *p = (Removal) { .heat = heat, .offline_pending = offline, .announced = !h->options->discovery };
        snprintf(p->name, sizeof(p->name), "%s", name);
        h->config_pending = h->options->discovery;
        return 0;
}

static void forget_removal(Host *h, const char *name, bool heat) {
        for (size_t i = 0; i < h->n_removals; i++)
                if (strcmp(h->removals[i].name, name) == 0 && h->removals[i].heat == heat) {
                        h->removals[i] = h->removals[--h->n_removals];
                        return;
                }
}

/* Its level, retained, at QoS 1 at least: a change of level is an alarm, and the newest is what stays. */
static int publish_level(Host *h, HostSensor *s) {
        char topic[TOPIC_MAX];
        const char *level = level_to_string(s->level);

        topic_level(topic, h->options->topic_prefix, h->name, s->name);
        return publish(h, topic, level, strlen(level), MAX(h->options->qos, 1));
}

static int publish_reading(Host *h, HostSensor *s) {
        char topic[TOPIC_MAX], payload[192];
        Reading reading = s->latest;
        size_t n;
        int r;

        reading.sensor = s->name;
        n = payload_reading(payload, sizeof(payload), h->options->payload, &reading);

        /* "<prefix>/<host>/", made once, and the name: as topic_reading() has it, at every reading. */
        static_assert(TOPIC_PREFIX_MAX + 1 + PROTOCOL_HOST_MAX + 1 + PROTOCOL_NAME_MAX < TOPIC_MAX, "a topic fits");
        memcpy(topic, h->topic_base, h->topic_base_len);
        memcpy(topic + h->topic_base_len, s->name, strlen(s->name) + 1);
        /* With expire_after, Home Assistant's docs advise against a retained state: a stale one would come
         * back to life at each restart of Home Assistant. */
        r = publish_retained(h, topic, payload, n, h->options->qos, h->options->expire_after == 0);
        if (r > 0)
                count_dropped(h, 1);
        if (r == 0) {
                h->published++;
                s->published_seq = s->latest.seq;
                s->published_mc = s->latest.millicelsius;
                s->published_ms = s->latest.time_ms;
                s->has_published = true;
                s->held = false;
        }
        return r;
}

static bool has_pending(const HostSensor *s) {
        return s->status_pending || s->reading_pending || s->level_pending;
}

static void enqueue(Host *h, HostSensor *s) {
        if (s->queued)
                return;
        h->queue[(h->queue_head + h->queue_len++) % h->n_sensors] = (size_t) (s - h->sensors);
        s->queued = true;
}

/* The device's config, which holds every sensor, goes once a second at most: a server that names a new
 * sensor at every line would have it sent over and over, each time larger. When it is not due, the timer
 * flushes when it is. */
#define CONFIG_EVERY_USEC USEC_PER_SEC

/* After a connection to the broker, 0.2.0's configs it holds are known once the probe comes back (a message
 * to ourselves comes after the retained ones the broker queued for us), or after PROBE_WAIT_USEC, for a
 * broker that does not let us have it. */
#define PROBE_WAIT_USEC (2 * USEC_PER_SEC)

static bool config_due(Host *h) {
        uint64_t now = 0, due;

        (void) sd_event_now(h->event, CLOCK_MONOTONIC, &now);
        due = MAX(h->config_at > 0 ? h->config_at + CONFIG_EVERY_USEC : 0,
                  h->probing ? h->connected_at + PROBE_WAIT_USEC : 0);
        if (now < due) {
                (void) sd_event_source_set_time(h->config_timer, due);
                (void) sd_event_source_set_enabled(h->config_timer, SD_EVENT_ONESHOT);
                return false;
        }
        h->config_at = now;
        h->probing = false;
        return true;
}

static int on_config_due(sd_event_source *s, uint64_t usec, void *userdata) {
        flush(userdata);
        return 0;
}

/* Publishes what waits while the broker has room (the host's availability first, then the device's config,
 * with 0.2.0's configs handed over before it and cleared after, the availability of sensors gone, then each
 * sensor's availability, newest reading and level, sensor by sensor as they came); the rest when it has
 * again (on_broker_room()). Only sensors with something pending are looked at. */
static void flush(Host *h) {
        if (!h->publisher || !publisher_has_room(h->publisher))
                return;
        catch_up(h);

        /* While the sensors are listed, the host is about to be online: no "offline" in between. */
        if (h->status_pending && !h->listing) {
                if (publish_status(h, NULL, h->server_up) < 0)
                        return;
                h->status_pending = false;
        }
        /* Once the server has listed its sensors (a config of none would remove them all), and said which
         * have limits (or the heats would come a moment later). */
        if (h->config_pending && !h->listing && h->answer != ANSWER_LIMITS && h->limits_asked == 0 &&
                        h->n_sensors > 0 && config_due(h)) {
                int r;

                if (publish_legacy(h, true) < 0)
                        return;
                r = publish_device_config(h);
                if (r < 0)
                        return;
                /* Refused (too large for the broker library): 0.2.0's configs stay, as they are all Home
                 * Assistant has. */
                h->config_refused = r > 0;
                h->config_pending = false;
        }
        if (!h->config_pending && ((!h->config_refused && publish_legacy(h, false) < 0) || publish_removals(h) < 0))
                return;
        while (h->queue_len > 0) {
                HostSensor *s = &h->sensors[h->queue[h->queue_head]];

                if (s->status_pending) {
                        if (publish_status(h, s->name, !s->failing) < 0)
                                return;
                        s->status_pending = false;
                }
                if (s->reading_pending) {
                        if (publish_reading(h, s) < 0)
                                return;
                        s->reading_pending = false;
                }
                if (s->level_pending) {
                        if (publish_level(h, s) < 0)
                                return;
                        s->level_pending = false;
                }
                s->queued = false;
                h->queue_head = (h->queue_head + 1) % h->n_sensors;
                h->queue_len--;
        }
}

/* Far more than a machine has: a server past it is broken, or hostile, and gets no more memory of ours. */
#define HOST_SENSORS_MAX 4096

static HostSensor *find_sensor(HostSensor *sensors, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(sensors[i].name, name) == 0)
                        return &sensors[i];
        return NULL;
}

/* The sensor a reading names: "STREAM *" sends a tick's readings in the sensors' order, so the one after
 * the last is tried first. */
static HostSensor *sensor_of(Host *h, const char *name) {
        HostSensor *s;

        if (!name || h->n_sensors == 0)
                return NULL;
        s = &h->sensors[h->next % h->n_sensors];
        if (strcmp(s->name, name) != 0)
                s = find_sensor(h->sensors, h->n_sensors, name);
        if (s)
                h->next = (size_t) (s - h->sensors) + 1;
        return s;
}

/* After a (re)connection to the broker, which may have lost what it held: all of it again. With a history,
 * a sensor's newest reading only where no newer one waits in the server's (behind): that one comes from there
 * soon, and the broker's subscribers do not get the old one twice. */
static void mark_all_pending(Host *h) {
        h->status_pending = true;
        h->config_pending = h->options->discovery;
        for (size_t i = 0; i < h->n_sensors; i++) {
                h->sensors[i].status_pending = true;
                h->sensors[i].reading_pending = h->sensors[i].has_reading &&
                        (!h->history || (!passing_over(h) && h->sensors[i].published_seq == h->sensors[i].latest.seq));
                h->sensors[i].level_pending = h->sensors[i].has_level;
                enqueue(h, &h->sensors[i]);
        }
}

static void on_broker_connected(Publisher *p) {
        Host *h = publisher_get_userdata(p);

        if (h->options->discovery) {
                (void) sd_event_now(h->event, CLOCK_MONOTONIC, &h->connected_at);
                h->probing = publisher_publish(p, h->probe, "probe", strlen("probe"), 0, false) >= 0;
        }
        mark_all_pending(h);
        flush(h);
}

static void on_broker_room(Publisher *p) {
        flush(publisher_get_userdata(p));
}

static void on_broker_lost(Publisher *p, uint64_t dropped) {
        count_dropped(publisher_get_userdata(p), dropped);
}

static void on_broker_closed(Publisher *p) {
        Host *h = publisher_get_userdata(p);

        h->owner.stopped(h, h->owner.userdata);
}

/* A config of 0.2.0's, retained: to migrate, once. Our own migration and clearing come back here too. */
static void take_legacy(Host *h, const char *topic, const void *payload, size_t n) {
        Legacy *l;

        if (n == 0 || (n == strlen(LEGACY_MIGRATE_PAYLOAD) && memcmp(payload, LEGACY_MIGRATE_PAYLOAD, n) == 0) ||
                        strlen(topic) >= TOPIC_MAX)
                return;
        for (size_t i = 0; i < h->n_legacy; i++)
                if (strcmp(h->legacy[i].topic, topic) == 0)
                        return;
        /* A sensor and a heat each, of as many sensors as a host may have: more are somebody else's doing. */
        if (h->n_legacy >= 2 * HOST_SENSORS_MAX)
                return;
        l = reallocarray(h->legacy, h->n_legacy + 1, sizeof(Legacy));
        if (!l) {
                log_warning("No memory to migrate %s: it stays.", topic);
                return;
        }
        h->legacy = l;
        l = &h->legacy[h->n_legacy++];
        /* The binary sensors' pattern, but its "+/config". */
        *l = (Legacy) {
                .heat = strncmp(topic, h->legacy_patterns[1], strlen(h->legacy_patterns[1]) - strlen("+/config")) == 0,
        };
        snprintf(l->topic, sizeof(l->topic), "%s", topic);
        if (h->n_legacy == 1)
                log_info("Migrating the Home Assistant discovery of %s to one device config, from %s on.", h->name,
                                topic);
        /* Handed over before the device's config, which comes (again) after it. */
        h->config_pending = true;
}

static void on_broker_message(Publisher *p, const char *topic, const void *payload, size_t n) {
        Host *h = publisher_get_userdata(p);

        if (strcmp(topic, h->probe) == 0) {
                /* 0.2.0's configs are all in: the device's can go. */
                h->probing = false;
                (void) sd_event_source_set_enabled(h->config_timer, SD_EVENT_OFF);
        } else if (strcmp(topic, h->discovery_status) == 0) {
                /* Home Assistant (re)started: it may have lost what it knew, and asks for discovery again. */
                if (n == strlen("online") && memcmp(payload, "online", n) == 0) {
                        log_debug("Home Assistant is online: publishing the discovery of %s again.", h->name);
                        h->config_pending = true;
                }
        } else
                take_legacy(h, topic, payload, n);
        flush(h);
}

static const PublisherOps publisher_ops = {
        .connected = on_broker_connected,
        .room = on_broker_room,
        .lost = on_broker_lost,
        .closed = on_broker_closed,
        .message = on_broker_message,
};

/* The name is known at the first greeting: the broker connection can be made, its will naming the host. */
static int make_publisher(Host *h) {
        int r;

        topic_status(h->will_topic, h->options->topic_prefix, h->name, NULL);
        h->topic_base_len = (size_t) snprintf(h->topic_base, sizeof(h->topic_base), "%s/%s/", h->options->topic_prefix,
                                              h->name);
        if (h->options->discovery) {
                legacy_discovery_pattern(h->legacy_patterns[0], h->options->discovery_prefix, h->name, false);
                legacy_discovery_pattern(h->legacy_patterns[1], h->options->discovery_prefix, h->name, true);
                discovery_status_topic(h->discovery_status, h->options->discovery_prefix);
                h->subscriptions[0] = h->legacy_patterns[0];
                h->subscriptions[1] = h->legacy_patterns[1];
                h->subscriptions[2] = h->discovery_status;
                h->subscriptions[3] = h->probe;
        }
        /* One per host and per bridge: the broker takes one connection by each id. */
        snprintf(h->client_id, sizeof(h->client_id), "thermo-mqtt-%s-%s", h->bridge_host, h->name);
        snprintf(h->probe, sizeof(h->probe), "thermo-mqtt/%s/probe", h->client_id);
        r = publisher_new(h->event,
                        &(PublisherConfig) {
                                .broker = &h->options->broker,
                                .password = h->reloaded ? h->password : h->options->password,
                                .cafile = h->options->cafile,
                                .client_id = h->client_id,
                                .will_topic = h->will_topic,
                                .label = h->name,
                                .timeout = h->options->timeout,
                                .keepalive = h->options->keepalive,
                                .subscriptions = h->options->discovery ? h->subscriptions : NULL,
                        },
                        &publisher_ops, h, &h->publisher);
        if (r < 0)
                return r;
        publisher_start(h->publisher);
        return 0;
}

/* The host's name: NAME=, else the server's host=, else the name or address we reach it by. A server's
 * word is a topic level only where it is one: a host= of "victim/cpu" would publish onto another host's
 * topics, one of "+" or "#" onto none. */
static int take_name(Host *h, const char *said) {
        const char *name = h->spec->name ?: said;
        char fallback[PROTOCOL_HOST_MAX + 1];
        int r;

        if (name && !h->spec->name && !topic_host_is_valid(name)) {
                char shown[4 * PROTOCOL_HOST_MAX + 1];

                if (!h->bad_name_said)
                        log_warning("%s calls itself '%s', which is no MQTT topic level (letters, digits, '.', '_' "
                                    "and '-' only): publishing it by its address instead.", h->spec->text,
                                        text_escape(name, shown, sizeof(shown)));
                h->bad_name_said = true;
                name = NULL;
        }
        if (!name) {
                snprintf(fallback, sizeof(fallback), "%s", h->spec->host ?: "localhost");
                for (char *c = fallback; *c; c++)
                        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *c))
                                *c = '-';
                name = fallback;
        }
        if (h->name[0]) {
                /* Topics and ids stay what they were for the life of the process. */
                if (strcmp(h->name, name) != 0)
                        log_warning("%s now calls itself %s; its readings stay under %s.", h->spec->text, name, h->name);
                return 0;
        }
        if (h->owner.name_taken(h, name, h->owner.userdata)) {
                if (!h->name_clash_said)
                        log_error("%s calls itself %s, as another server does: give it a name of its own "
                                  "(NAME=%s).", h->spec->text, name, h->spec->text);
                h->name_clash_said = true;
                return -EADDRINUSE;
        }
        /* Named only with its publisher: one that could not be made is tried again, name and all, at the
         * next greeting. */
        snprintf(h->name, sizeof(h->name), "%s", name);
        r = make_publisher(h);
        if (r < 0)
                h->name[0] = '\0';
        return r;
}

/* STREAM * after what the broker has: the server's history holds what came meanwhile, oldest first, and
 * it is published before the live readings. With no tick yet, after the newest there can be: the same as a
 * plain STREAM *, but it tells a server with a history (OK) from one without (ERR 400). */
static void send_stream(Host *h) {
        const char *destination = server_link_get_destination(h->link);
        char request[64];
        int k, r;

        if (!h->history)
                k = snprintf(request, sizeof(request), "STREAM *\n");
        else if (h->has_resume) {
                k = snprintf(request, sizeof(request), "STREAM after=%" PRIu64 " *\n", h->resume_after);
                server_link_note_resumed(h->link, h->resume_after);
        } else
                k = snprintf(request, sizeof(request), "STREAM after=%" PRIu64 " *\n", UINT64_MAX);
        log_debug("Sent to %s: %.*s", destination, k - 1, request);
        r = server_link_send(h->link, request, (size_t) k);
        if (r < 0)
                server_link_fail(h->link, EX_TEMPFAIL, r, "Failed to send request to %s: %m", destination);
}

/* The broker fell behind, and has room again: on the same connection, a new STREAM after= (it replaces the
 * old one) asks for all it missed, oldest first; the lines of the old stream until its OK are passed over. */
static void catch_up(Host *h) {
        const char *destination;

        if (!h->behind || h->restreaming || !h->server_up || h->listing || h->answer != ANSWER_NONE)
                return;
        destination = server_link_get_destination(h->link);
        h->behind = false;
        h->restreaming = true;
        /* Said once of the broker's falling behind; a restart or a skip of the server's is said already. */
        log_full_errno(h->behind_said && !h->catch_up_said ? LOG_INFO : LOG_DEBUG, 0,
                        "The broker takes the readings of %s again: asking %s for those from #%" PRIu64 " on.", h->name,
                        destination, h->resume_after + 1);
        h->catch_up_said = h->behind_said;
        send_stream(h);
}

static void on_greeted(ServerLink *l, const Reply *hello) {
        Host *h = server_link_get_userdata(l);
        static const char request[] = "SENSORS\nLIMITS\nALARMS\n";
        int r;

        log_info("Connected to %s: %s", server_link_get_destination(l), hello->text);
        /* "thermo/1 <server> <version> ...": the device Home Assistant shows. */
        if (sscanf(hello->text, "%*s %63s %31s", h->server, h->version) != 2)
                h->server[0] = h->version[0] = '\0';

        r = take_name(h, hello->host[0] ? hello->host : NULL);
        if (r == -EADDRINUSE) {
                server_link_fail(l, EX_CONFIG, r, "%s has the name of another server", h->spec->text);
                return;
        }
        if (r < 0) {
                server_link_fail(l, EX_OSERR, r, "Failed to set up the broker connection for %s: %m", h->spec->text);
                return;
        }

        h->listing = true;
        h->n_listed = 0;
        /* Until it says otherwise (ERR 400 to after=); what the broker is behind with, it is asked for now. */
        h->history = true;
        h->behind = h->restreaming = false;
        h->unavailable_run = 0;
        h->last_index = SIZE_MAX;
        /* Streaming: an interval between readings is no silence. */
        server_link_set_silence(l, server_link_stream_silence(l, h->options->timeout));
        log_debug("Sent to %s: SENSORS, LIMITS, ALARMS", server_link_get_destination(l));
        r = server_link_send(l, request, strlen(request));
        if (r < 0)
                server_link_fail(l, EX_TEMPFAIL, r, "Failed to send request to %s: %m", server_link_get_destination(l));
        else
                send_stream(h);
}

static int add_listed(Host *h, const char *name) {
        HostSensor *p, *old;

        if (!protocol_name_is_valid(name, strlen(name)) || find_sensor(h->listed, h->n_listed, name))
                return -EBADMSG;
        if (h->n_listed >= HOST_SENSORS_MAX)
                return -E2BIG;
        p = reallocarray(h->listed, h->n_listed + 1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        h->listed = p;
        p = &h->listed[h->n_listed++];
        /* A sensor we had keeps what it had; a new one is announced. */
        old = find_sensor(h->sensors, h->n_sensors, name);
        if (old)
                *p = *old;
        else {
                *p = (HostSensor) { .status_pending = true };
                snprintf(p->name, sizeof(p->name), "%s", name);
        }
        return 0;
}

/* Whether the listing changes the device's config: a sensor new, or gone (Home Assistant is to remove it,
 * and it goes offline), or back. */
static void compare_listing(Host *h) {
        bool changed = h->n_listed != h->n_sensors;

        for (size_t i = 0; i < h->n_sensors; i++) {
                const HostSensor *s = &h->sensors[i];

                if (find_sensor(h->listed, h->n_listed, s->name))
                        continue;
                changed = true;
                if (add_removal(h, s->name, false, true) < 0 || (s->heat && add_removal(h, s->name, true, false) < 0))
                        log_warning("No memory to remove %s's sensor %s from Home Assistant.", h->name, s->name);
        }
        for (size_t i = 0; i < h->n_listed; i++) {
                changed = changed || !find_sensor(h->sensors, h->n_sensors, h->listed[i].name);
                forget_removal(h, h->listed[i].name, false);
        }
        h->config_pending |= changed && h->options->discovery;
}

/* END of the listing: the new list replaces the old, and readings come. */
static int take_listing(Host *h) {
        size_t *queue = reallocarray(NULL, MAX(h->n_listed, (size_t) 1), sizeof(size_t));

        if (!queue)
                return -ENOMEM;
        compare_listing(h);
        free(h->queue);
        h->queue = queue;
        h->queue_head = h->queue_len = 0;
        free(h->sensors);
        h->sensors = TAKE_PTR(h->listed);
        h->n_sensors = h->n_listed;
        h->n_listed = 0;
        h->next = 0;
        for (size_t i = 0; i < h->n_sensors; i++) {
                HostSensor *s = &h->sensors[i];

                s->queued = false;
                if (has_pending(s))
                        enqueue(h, s);
        }
        h->listing = false;
        h->answer = ANSWER_LIMITS;
        h->server_up = true;
        h->status_pending = true;
        flush(h);
        return 0;
}

/* Its limits and level, for its heat and its level topic: the answer comes among the stream's lines. */
static void ask_limits(Host *h, const char *name) {
        char request[PROTOCOL_NAME_MAX + 16];
        int k = snprintf(request, sizeof(request), "LIMITS %s\n", name);

        if (h->answer == ANSWER_NONE && server_link_send(h->link, request, (size_t) k) >= 0)
                h->limits_asked++;
}

/* A sensor the server did not list when we came: a rescan there (systemctl reload) found it, and "STREAM *"
 * has it from then on. It is taken as a listed one, after the others; NULL when there is no room. */
static HostSensor *add_streamed(Host *h, const char *name) {
        size_t n = h->n_sensors + 1, *queue;
        HostSensor *sensors;
        uint64_t unsaid;

        if (h->n_sensors >= HOST_SENSORS_MAX) {
                if (!h->sensors_max_said)
                        log_warning("%s streams more than %d sensors: the others are left out.", h->name,
                                        HOST_SENSORS_MAX);
                h->sensors_max_said = true;
                return NULL;
        }
        sensors = reallocarray(h->sensors, n, sizeof(*sensors));
        if (!sensors)
                return NULL;
        h->sensors = sensors;
        queue = reallocarray(NULL, n, sizeof(*queue));
        if (!queue)
                return NULL;
        /* The ring of what waits, unrolled into one of the new size. */
        for (size_t i = 0; i < h->queue_len; i++)
                queue[i] = h->queue[(h->queue_head + i) % h->n_sensors];
        free(h->queue);
        h->queue = queue;
        h->queue_head = 0;
        h->sensors[h->n_sensors] = (HostSensor) { .status_pending = true };
        snprintf(h->sensors[h->n_sensors].name, sizeof(h->sensors[h->n_sensors].name), "%s", name);
        h->n_sensors = n;
        forget_removal(h, name, false);
        h->config_pending = h->options->discovery;
        if (rate_say(h, &h->new_sensor_rate, &unsaid)) {
                if (unsaid > 0)
                        log_info("%s has a new sensor, %s, and had %" PRIu64 " more before it, not said one by one.",
                                        h->name, name, unsaid);
                else
                        log_info("%s has a new sensor, %s.", h->name, name);
        }
        ask_limits(h, name);
        return &h->sensors[n - 1];
}

/* A server that restarted numbers its ticks from #1 again: what the broker has of the last run says nothing
 * of this one, and a reading of the last run that waits is published no more. */
static void forget_run(Host *h) {
        for (size_t i = 0; i < h->n_sensors; i++) {
                if (h->sensors[i].reading_pending && !h->history)
                        count_dropped(h, 1);
                h->sensors[i].reading_pending = false;
                h->sensors[i].published_seq = 0;
        }
}

/* What a reading's seq tells (logged), for take_reading(). */
typedef enum TickVerdict {
        TICK_TAKE,
        TICK_RESTARTED,         /* a new run of the server: with a history, what it holds of it is asked for */
        TICK_SKIPPED,           /* ticks skipped for a slow reader, that the history still holds */
} TickVerdict;

/* Without a history, as the link says it. With one, ticks skipped for us are asked for again (from
 * *ret_first on); a gap of ticks the server held no more when asked (the broker, or the server's
 * connection, was away longer) is of readings the broker never gets: those of each sensor that gives
 * readings, after the newest of it the broker has, counted as dropped and said once until all is quiet. */
static TickVerdict take_tick(Host *h, uint64_t seq, uint64_t *ret_first) {
        const char *destination = server_link_get_destination(h->link);
        uint64_t missed = 0, first = UINT64_MAX, unsaid;
        char text[128];
        TickNews news;

        if (!server_link_tick(h->link, seq, &news) || !tick_news_any(&news))
                return TICK_TAKE;
        if (news.restarted) {
                if (rate_say(h, &h->restart_rate, &unsaid)) {
                        if (unsaid > 0)
                                log_notice("%s: %.*s (and %" PRIu64 " times more since this was last said).",
                                                destination, (int) strcspn(tick_news_format(&news, text, sizeof(text)), "."),
                                                text, unsaid);
                        else
                                log_notice("%s: %s", destination, tick_news_format(&news, text, sizeof(text)));
                }
                forget_run(h);
                return TICK_RESTARTED;
        }
        if (!h->history) {
                if (rate_say(h, &h->gap_rate, &unsaid)) {
                        if (unsaid > 0)
                                log_warning("%s: %.*s (and %" PRIu64 " gaps more since this was last said).",
                                                destination, (int) strcspn(tick_news_format(&news, text, sizeof(text)), "."),
                                                text, unsaid);
                        else
                                log_warning("%s: %s", destination, tick_news_format(&news, text, sizeof(text)));
                }
                return TICK_TAKE;
        }
        if (!news.away) {
                *ret_first = news.missed_first;
                return TICK_SKIPPED;
        }
        for (size_t i = 0; i < h->n_sensors; i++) {
                uint64_t from = MAX(news.missed_first, h->sensors[i].published_seq + 1);

                if (h->sensors[i].failing || from > news.missed_last)
                        continue;
                missed = add_saturating(missed, news.missed_last - from + 1);
                first = MIN(first, from);
        }
        if (missed == 0)
                return TICK_TAKE;
        count_dropped(h, missed);
        log_full_errno(h->gap_said ? LOG_DEBUG : LOG_WARNING, 0,
                        "Missed %" PRIu64 " reading%s of %s (#%" PRIu64 " to #%" PRIu64 "): %s held them no more when "
                        "asked.", missed, missed == 1 ? "" : "s", h->name, first, news.missed_last, destination);
        h->gap_said = true;
        return TICK_TAKE;
}

/* The broker is owed every tick after after: asked for now, or once it has room (catch_up()). */
static void owe_from(Host *h, uint64_t after) {
        h->resume_after = after;
        h->has_resume = true;
        h->behind = true;
        flush(h);
}

/* --min-change and --heartbeat: a reading that differs little from the last one published, not long after
 * it, is held back. The first one, and the first after the sensor had none, always go. */
static bool worth_publishing(const Host *h, const HostSensor *s, const Reading *r) {
        const MqttOptions *o = h->options;

        if (o->min_change == 0 || !s->has_published || s->failing || s->reading_pending)
                return true;
        if (r->millicelsius - s->published_mc >= o->min_change || s->published_mc - r->millicelsius >= o->min_change)
                return true;
        return o->heartbeat > 0 && r->time_ms >= s->published_ms + o->heartbeat / USEC_PER_MSEC;
}

static void take_reading(Host *h, const Reading *r) {
        uint64_t first = 0;
        HostSensor *s;

        if (passing_over(h)) {
                /* A room that came without a word of the publisher's (a message refused for what it was). */
                if (h->behind)
                        flush(h);
                return;
        }
        h->unavailable_run = 0;
        s = sensor_of(h, r->sensor);
        if (!s && r->sensor)
                s = add_streamed(h, r->sensor);
        if (!s)
                return;
        h->last_index = (size_t) (s - h->sensors);
        switch (take_tick(h, r->seq, &first)) {
        case TICK_RESTARTED:
                if (!h->history)
                        break;
                log_info("Asking %s for the readings of its new run from #1 on.", server_link_get_destination(h->link));
                owe_from(h, 0);
                return;
        case TICK_SKIPPED:
                owe_from(h, first - 1);
                return;
        case TICK_TAKE:
                break;
        }
        if (h->history && r->seq <= s->published_seq)
                return; /* of a tick the broker took in part, asked for again */
        /* Its tick may not be whole at the broker yet: a connection that ends now asks for it again. */
        h->resume_after = r->seq - 1;
        h->has_resume = true;
        if (!worth_publishing(h, s, r)) {
                /* Taken, as far as a resume goes; the newest, for a level that changes or a broker that
                 * comes back. */
                s->latest = *r;
                s->latest.sensor = NULL;
                s->published_seq = r->seq;
                s->held = true;
                return;
        }
        if (s->reading_pending && !h->history)
                count_dropped(h, 1);
        s->latest = *r;
        s->latest.sensor = NULL;
        s->has_reading = true;
        s->reading_pending = true;
        if (s->failing) {
                log_notice("%s's sensor %s gives readings again.", h->name, s->name);
                s->failing = false;
                s->status_pending = true;
        }
        enqueue(h, s);
        flush(h);
        if (!h->history || !s->reading_pending)
                return;
        /* No room for it, or a connection failing: it is asked for again. */
        s->reading_pending = false;
        fall_behind(h);
}

/* A LIMIT line, or an ALARM: the sensor's level, and from LIMITS whether it has a heat to show. */
static void take_level(Host *h, const Reply *reply) {
        HostSensor *s = sensor_of(h, reply->reading.sensor);

        if (!s && reply->type == REPLY_ALARM)
                s = add_streamed(h, reply->reading.sensor);
        if (!s)
                return;
        if (reply->type == REPLY_LIMIT) {
                bool heat = reply->limits.has_high || reply->limits.has_crit;

                /* In the device's config when it comes, removed from it when it goes. */
                if (heat != s->heat) {
                        h->config_pending = h->options->discovery;
                        if (heat)
                                forget_removal(h, s->name, true);
                        else if (add_removal(h, s->name, true, false) < 0)
                                log_warning("No memory to remove the heat of %s's sensor %s from Home Assistant.",
                                                h->name, s->name);
                }
                s->heat = heat;
        }
        if (!s->has_level || s->level != reply->reading.level) {
                s->level_pending = true;
                /* The reading that crossed the limit goes with its alarm, however little it changed. */
                if (s->held) {
                        s->reading_pending = true;
                        s->held = false;
                }
        }
        s->level = reply->reading.level;
        s->has_level = true;
        enqueue(h, s);
        flush(h);
}

/* What comes between the listing and the stream: LIMITS's reply, then ALARMS's. */
static void take_answer(Host *h, const Reply *reply, const char *line) {
        const char *destination = server_link_get_destination(h->link);
        bool older = reply->type == REPLY_ERR && reply->error == 400;

        if (h->answer == ANSWER_LIMITS && reply->type == REPLY_LIMIT) {
                take_level(h, reply);
                return;
        }
        if (h->answer == ANSWER_LIMITS && (reply->type == REPLY_END || older)) {
                if (older)
                        log_info("%s has no limits (an older server): its levels are not published.", destination);
                h->answer = ANSWER_ALARMS;
                /* The heats are known: the device's config can go. */
                flush(h);
                return;
        }
        if (h->answer == ANSWER_ALARMS && (reply->type == REPLY_OK_ALARMS || older)) {
                h->answer = ANSWER_STREAM;
                return;
        }
        if (h->answer == ANSWER_STREAM && reply->type == REPLY_ALARM) {
                /* ALARMS's lines of the sensors not at ok now come before STREAM is read. */
                take_level(h, reply);
                return;
        }
        if (h->answer == ANSWER_STREAM && reply->type == REPLY_OK_STREAM) {
                h->answer = ANSWER_NONE;
                return;
        }
        if (h->answer == ANSWER_STREAM && older && h->history) {
                /* Readings the broker cannot take wait here, the newest of each sensor. */
                if (h->has_resume)
                        log_notice("%s keeps no history: resuming with what comes now.", destination);
                else
                        log_info("%s keeps no history: readings the broker cannot take now are not kept for it.",
                                        destination);
                h->history = false;
                /* The newest tick taken, whole or in part, does not come again: a gap is counted from after it. */
                if (h->has_resume)
                        server_link_note_resumed(h->link, h->resume_after + 1);
                send_stream(h);
                return;
        }
        server_link_fail(h->link, EX_PROTOCOL, -EBADMSG, "Unexpected line from %s: %s", destination, line);
}

static void take_unavailable(Host *h, const Reply *reply) {
        HostSensor *s;

        /* Of a tick the broker is behind with: it comes again, in its place among the readings. */
        if (passing_over(h))
                return;
        s = sensor_of(h, reply->reading.sensor);
        if (!s && reply->reading.sensor)
                s = add_streamed(h, reply->reading.sensor);

        /* A tick of which no sensor gave a reading has no seq: the gap that follows is no news. One where
         * some did has its seq from them. A tick's lines come in the sensors' order: one that does not go on
         * from the last line starts the next tick. */
        if (s && (size_t) (s - h->sensors) <= h->last_index)
                h->unavailable_run = 0;
        if (s)
                h->last_index = (size_t) (s - h->sensors);
        if (++h->unavailable_run >= h->n_sensors)
                server_link_note_unavailable(h->link);
        if (!s || s->failing)
                return;
        log_warning("%s's sensor %s has no reading: %s", h->name, s->name, reply->text);
        s->failing = true;
        s->status_pending = true;
        enqueue(h, s);
        flush(h);
}

static void on_line(ServerLink *l, int r, const Reply *reply, const char *line) {
        Host *h = server_link_get_userdata(l);
        const char *destination = server_link_get_destination(l);

        log_debug("Received from %s: %s", destination, line);
        if (r < 0) {
                server_link_fail(l, EX_PROTOCOL, r, "Unexpected line from %s: %s", destination, line);
                return;
        }
        if (h->listing) {
                if (reply->type == REPLY_SENSOR) {
                        r = add_listed(h, reply->reading.sensor);
                        if (r < 0)
                                server_link_fail(l, r == -ENOMEM ? EX_OSERR : EX_PROTOCOL, r,
                                                "Failed to take the sensor list of %s: %m", destination);
                } else if (reply->type == REPLY_END) {
                        r = take_listing(h);
                        if (r < 0)
                                server_link_fail(l, EX_OSERR, r, "Failed to take the sensor list of %s: %m", destination);
                }
                else
                        server_link_fail(l, EX_PROTOCOL, -EBADMSG, "Unexpected line from %s: %s", destination, line);
                return;
        }
        if (h->answer != ANSWER_NONE) {
                take_answer(h, reply, line);
                return;
        }

        switch (reply->type) {
        case REPLY_TEMP:
                take_reading(h, &reply->reading);
                break;
        case REPLY_ALARM:
        case REPLY_LIMIT:
                take_level(h, reply);
                break;
        case REPLY_ERR:
                if (reply->error == 503)
                        take_unavailable(h, reply);
                else if (h->limits_asked > 0 && (reply->error == 400 || reply->error == 404)) {
                        /* A new sensor's LIMITS, from a server older than limits, or gone again already. */
                        h->limits_asked--;
                        flush(h);
                }
                else
                        server_link_fail(l, EX_PROTOCOL, -EBADMSG, "%s says: %s", destination, line);
                break;
        case REPLY_BYE:
                server_link_fail(l, EX_TEMPFAIL, -ECONNRESET, "%s is going away (BYE)", destination);
                break;
        case REPLY_END:
                /* A new sensor's LIMITS: its heat is known, the device's config can go. */
                if (h->limits_asked > 0) {
                        h->limits_asked--;
                        flush(h);
                } else
                        server_link_fail(l, EX_PROTOCOL, -EBADMSG, "%s ended the stream", destination);
                break;
        case REPLY_OK_STREAM:
                /* What comes now is what the broker is owed, oldest first. */
                h->restreaming = false;
                break;
        default:
                break;
        }
}

/* The server is away: it is offline for the broker, and we try again and again. */
static void on_failed(ServerLink *l, int status, const char *message) {
        Host *h = server_link_get_userdata(l);
        char backoff[BACKOFF_STRING_MAX];

        h->listing = false;
        h->answer = ANSWER_NONE;
        h->restreaming = false;
        h->limits_asked = 0;
        h->n_listed = 0;
        h->listed = mfree(h->listed);
        if (h->server_up) {
                h->server_up = false;
                h->status_pending = true;
                flush(h);
        }
        if (h->stopping)
                return;
        log_notice("%s; reconnecting in %s.", message, backoff_format(backoff, server_link_retry(l)));
}

static const ServerLinkOps link_ops = {
        .greeted = on_greeted,
        .line = on_line,
        .failed = on_failed,
};

void host_start(Host *h) {
        int r;

        assert(h);

        /* Named, it may meet the broker before its server: a broker that is not there is said at once. */
        if (h->spec->name) {
                r = take_name(h, NULL);
                if (r < 0)
                        log_error_errno(r, "Failed to set up the broker connection for %s: %m", h->spec->text);
        }
        server_link_start(h->link);
}

void host_stop(Host *h) {
        assert(h);

        h->stopping = true;
        /* What was dropped and not said yet is said now, and what the broker has not got. */
        if (passing_over(h)) {
                log_notice("The broker did not get the readings of %s from #%" PRIu64 " on before the stop.", h->name,
                                h->resume_after + 1);
                h->behind = h->restreaming = h->behind_said = false;
        }
        (void) on_quiet(h->quiet_timer, 0, h);
        server_link_close(h->link);
        if (h->publisher)
                publisher_stop(h->publisher);
        else
                h->owner.stopped(h, h->owner.userdata);
}

int host_reconnect_broker(Host *h, const char *password) {
        char *copy = NULL;

        assert(h);

        /* Kept: a connection not made yet (the server has not named the host) takes it when it is. */
        if (password && !(copy = strdup(password)))
                return -ENOMEM;
        if (h->password)
                explicit_bzero(h->password, strlen(h->password));
        free(h->password);
        h->password = copy;
        h->reloaded = true;
        if (!h->publisher)
                return 0;
        return publisher_reconnect(h->publisher, password);
}

const char *host_get_name(Host *h) {
        assert(h);
        return h->name[0] ? h->name : NULL;
}

void host_get_stats(Host *h, HostStats *ret) {
        assert(h);
        assert(ret);

        *ret = (HostStats) {
                .server_up = h->server_up,
                .broker_up = h->publisher && publisher_is_connected(h->publisher),
                .sensors = h->n_sensors,
                .published = h->published,
                .dropped = h->dropped,
        };
}

int host_new(sd_event *e, const MqttOptions *options, const ServerSpec *spec, const char *bridge_host,
                const HostOwner *owner, Host **ret) {
        _cleanup_(host_freep) Host *h = NULL;
        int r;

        assert(e);
        assert(options);
        assert(spec);
        assert(bridge_host);
        assert(owner && owner->name_taken && owner->stopped);
        assert(ret);

        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->options = options;
        h->spec = spec;
        h->owner = *owner;
        h->event = sd_event_ref(e);
        snprintf(h->bridge_host, sizeof(h->bridge_host), "%s", bridge_host);

        r = sd_event_add_time_relative(e, &h->quiet_timer, CLOCK_MONOTONIC, DROPS_QUIET_USEC, USEC_PER_SEC, on_quiet, h);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(h->quiet_timer, SD_EVENT_OFF);
        r = sd_event_add_time(e, &h->config_timer, CLOCK_MONOTONIC, 0, USEC_PER_MSEC * 10, on_config_due, h);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(h->config_timer, SD_EVENT_OFF);

        r = server_link_new(e,
                        &(ServerLinkConfig) {
                                .host = spec->host,
                                .port = spec->port,
                                .unix_path = spec->unix_path,
                                .timeout = options->timeout,
                        },
                        &link_ops, h, &h->link);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(h);
        return 0;
}

Host *host_free(Host *h) {
        if (!h)
                return NULL;
        server_link_free(h->link);
        publisher_free(h->publisher);
        sd_event_source_disable_unref(h->quiet_timer);
        sd_event_source_disable_unref(h->config_timer);
        free(h->sensors);
        free(h->listed);
        free(h->queue);
        free(h->removals);
        free(h->legacy);
        if (h->password)
                explicit_bzero(h->password, strlen(h->password));
        free(h->password);
        sd_event_unref(h->event);
        free(h);
        return NULL;
}
