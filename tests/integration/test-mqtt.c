/* SPDX-License-Identifier: MIT */
/* thermo-mqtt against the real mosquitto on loopback: topics, payloads, Home Assistant discovery, the last
 * will; a broker killed and started again, and a thermo server restarted, mid-stream; credentials and TLS.
 * Skipped (77) where mosquitto is not installed. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "mqtt-harness.h"

#define T HARNESS_TIMEOUT_MS

static char dir[64], room[128], attic[128], missing[128];

static int setup(void **state) {
        snprintf(dir, sizeof(dir), "/tmp/thermo-mqtt-XXXXXX");
        assert_non_null(mkdtemp(dir));
        /* mosquitto, started as root, reads its password file and certificates here as user mosquitto. */
        assert_int_equal(chmod(dir, 0755), 0);
        snprintf(room, sizeof(room), "%s/room", dir);
        snprintf(attic, sizeof(attic), "%s/attic", dir);
        snprintf(missing, sizeof(missing), "%s/missing", dir);
        harness_write_file(room, "-5250\n");
        harness_write_file(attic, "31125\n");
        return 0;
}

static int teardown(void **state) {
        harness_kill_all(state);
        harness_remove_tree(dir);
        return 0;
}

/* A thermo server on a port of its own, as systemd runs it: room and attic read what the test wrote, gone
 * gives nothing. */
static char room_spec[160], attic_spec[160], missing_spec[160];
#define SERVER_ARGS "--interval", "100ms", "--sensor", room_spec, "--sensor", attic_spec, "--sensor", missing_spec

static void start_server(ServerProcess *s) {
        snprintf(room_spec, sizeof(room_spec), "room=file:%s", room);
        snprintf(attic_spec, sizeof(attic_spec), "attic=file:%s", attic);
        snprintf(missing_spec, sizeof(missing_spec), "gone=file:%s", missing);
        harness_start_activated(s, (const char *const[]) { SERVER_ARGS, NULL });
}

static const char *url(const Broker *b) {
        static char buf[64];

        snprintf(buf, sizeof(buf), "mqtt://127.0.0.1:%i", b->port);
        return buf;
}

static const char *server_arg(const ServerProcess *s, const char *name) {
        static char buf[2][96];
        static int k;

        k = (k + 1) % 2;
        if (name)
                snprintf(buf[k], sizeof(buf[k]), "%s=127.0.0.1:%i", name, s->port);
        else
                snprintf(buf[k], sizeof(buf[k]), "127.0.0.1:%i", s->port);
        return buf[k];
}

static const Message *expect(Subscriber *sub, const char *topic, const char *text) {
        const Message *m = subscriber_wait(sub, topic, text, T);

        if (!m)
                fail_msg("no message on %s%s%s", topic, text ? " saying " : "", text ?: "");
        return m;
}

static void expect_in(const char *haystack, const char *needle) {
        if (!strstr(haystack, needle))
                fail_msg("no '%s' in:\n%s", needle, haystack);
}

/* Whether jq's filter, run on json, is true. */
static bool jq(const char *json, const char *filter) {
        char path[] = "/tmp/thermo-mqtt-json-XXXXXX", out[4096], err[1024];
        int fd = mkstemp(path), r;

        assert_true(fd >= 0);
        assert_int_equal(write(fd, json, strlen(json)), (ssize_t) strlen(json));
        close(fd);
        r = harness_run((const char *const[]) { "/usr/bin/jq", "-e", filter, path, NULL }, out, sizeof(out), err,
                        sizeof(err));
        unlink(path);
        if (r != 0)
                print_message("jq -e '%s': %s%s\n%s\n", filter, out, err, json);
        return r == 0;
}

/* An entity id's object part, as Home Assistant wants it: lowercase, '.' and '-' made '_'. */
static const char *entity_id(const char *name) {
        static char id[128];

        snprintf(id, sizeof(id), "%s", name);
        for (char *c = id; *c; c++)
                *c = (*c == '.' || *c == '-') ? '_' : (*c >= 'A' && *c <= 'Z') ? *c - 'A' + 'a' : *c;
        return id;
}

/* The host's name as Home Assistant's ids have it: '.' made '_'. */
static const char *host_id(void) {
        static char id[128];

        snprintf(id, sizeof(id), "%s", harness_host());
        for (char *c = id; *c; c++)
                if (*c == '.')
                        *c = '_';
        return id;
}

/* The host's device config in Home Assistant, one that holds text (any, for NULL). */
static const Message *expect_device(Subscriber *sub, const char *text) {
        char topic[256];

        snprintf(topic, sizeof(topic), "homeassistant/device/thermo_%s/config", host_id());
        return expect(sub, topic, text);
}

static void expect_log(MqttBridge *m, const char *text) {
        if (!mqtt_bridge_wait_log(m, text, T))
                fail_msg("thermo-mqtt did not say '%s':\n%s", text, m->log);
}

/* What it has said so far: a mark for expect_log_since(). */
static size_t log_mark(MqttBridge *m) {
        mqtt_bridge_read_log(m);
        return strlen(m->log);
}

/* It says text after the mark (the same words said before, at its start, say, do not count). */
static void expect_log_since(MqttBridge *m, size_t mark, const char *text) {
        for (int waited = 0; !strstr(m->log + mark, text); waited += 50) {
                if (waited > T)
                        fail_msg("thermo-mqtt did not say '%s' after:\n%s", text, m->log + mark);
                usleep(50 * 1000);
                mqtt_bridge_read_log(m);
        }
}

static void test_readings_status_and_discovery(void **state) {
        char topic[256], filter[2048];
        const char *host = harness_host();
        Subscriber sub = {}, late = {};
        const Message *m;
        ServerProcess s;
        Broker b;
        MqttBridge bridge;

        broker_start(&b, NULL);
        subscriber_open(&sub, b.port, "#", 1);
        start_server(&s);
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", url(&b), server_arg(&s, NULL), NULL });

        /* The host under its own name, from HELLO; each reading as its value, retained. */
        snprintf(topic, sizeof(topic), "thermo/%s/status", host);
        m = expect(&sub, topic, "online");
        assert_false(m->retain); /* delivered live; retained copies are checked below */
        snprintf(topic, sizeof(topic), "thermo/%s/room", host);
        expect(&sub, topic, "-5.250");
        snprintf(topic, sizeof(topic), "thermo/%s/attic", host);
        expect(&sub, topic, "31.125");
        snprintf(topic, sizeof(topic), "thermo/%s/gone/status", host);
        expect(&sub, topic, "offline");
        snprintf(topic, sizeof(topic), "thermo/%s/room/status", host);
        expect(&sub, topic, "online");

        /* Home Assistant's config of the device, with a component for every sensor, field by field. */
        m = expect_device(&sub, NULL);
        assert_false(m->retain);
        assert_null(strstr(m->payload, "object_id"));
        snprintf(filter, sizeof(filter),
                 "(.dev | keys) == [\"identifiers\", \"manufacturer\", \"model\", \"name\", \"sw_version\"] and "
                 ".dev.identifiers == [\"thermo_%1$s\"] and .dev.name == \"%2$s\" and .dev.model == \"thermo-server\" and "
                 ".o == {\"name\": \"thermo-mqtt\", \"sw\": \"" PROJECT_VERSION "\"} and "
                 "(.cmps | keys) == [\"attic\", \"gone\", \"room\"] and "
                 ".cmps.room == {\"p\": \"sensor\", \"unique_id\": \"thermo_%1$s_room\", "
                 "\"default_entity_id\": \"sensor.thermo_%3$s_room\", \"name\": \"room\", "
                 "\"state_topic\": \"thermo/%2$s/room\", \"device_class\": \"temperature\", "
                 "\"unit_of_measurement\": \"°C\", \"state_class\": \"measurement\", "
                 "\"suggested_display_precision\": 1, \"availability\": [{\"topic\": \"thermo/%2$s/status\"}, "
                 "{\"topic\": \"thermo/%2$s/room/status\"}], \"availability_mode\": \"all\"} and "
                 "([.cmps[] | .p] | unique) == [\"sensor\"]",
                 host_id(), host, entity_id(host));
        assert_true(jq(m->payload, filter));

        /* A client that comes later gets it all from the broker: retained. */
        subscriber_open(&late, b.port, "#", 1);
        snprintf(topic, sizeof(topic), "thermo/%s/attic", host);
        m = expect(&late, topic, "31.125");
        assert_true(m->retain);
        snprintf(topic, sizeof(topic), "thermo/%s/status", host);
        m = expect(&late, topic, "online");
        assert_true(m->retain);

        /* A reading that changes is published as it changes. */
        subscriber_mark(&sub);
        harness_write_file(attic, "32000\n");
        snprintf(topic, sizeof(topic), "thermo/%s/attic", host);
        expect(&sub, topic, "32.000");

        /* The sensor that gave nothing comes: available, with its reading. */
        subscriber_mark(&sub);
        harness_write_file(missing, "1500\n");
        snprintf(topic, sizeof(topic), "thermo/%s/gone/status", host);
        expect(&sub, topic, "online");
        snprintf(topic, sizeof(topic), "thermo/%s/gone", host);
        expect(&sub, topic, "1.500");
        expect_log(&bridge, "'s sensor gone gives readings again.");

        subscriber_close(&late);
        subscriber_close(&sub);
        harness_cleanup(&s);
        broker_cleanup(&b);
}

/* The bridge's connection to the server drops (a proxy cuts it): back, it asks for what came meanwhile,
 * and every reading reaches the broker once, in order, the original seq in each JSON payload. */
static void test_a_dropped_server_connection_loses_nothing(void **state) {
        const char *host = harness_host();
        char topic[256], spec[160];
        Subscriber sub = {};
        uint64_t expected = 0;
        ServerProcess s;
        size_t start, n = 0;
        MqttBridge bridge;
        Broker b;
        int port;

        snprintf(spec, sizeof(spec), "room=file:%s", room);
        broker_start(&b, NULL);
        subscriber_open(&sub, b.port, "#", 1);
        harness_start_activated(&s, (const char *const[]) { "--interval", "50ms", "--sensor", spec, NULL });
        harness_cutting_proxy(s.port, 30, &port);
        snprintf(topic, sizeof(topic), "127.0.0.1:%i", port);
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", url(&b), "--payload=json", topic, NULL });
        expect_log(&bridge, "reconnecting in");
        snprintf(topic, sizeof(topic), "thermo/%s/room", host);
        subscriber_mark(&sub);
        start = sub.mark;
        /* Well past the reconnection: 2 s at 50ms. */
        subscriber_run(&sub, 2000);
        for (size_t i = 0; i < start; i++)
                if (strcmp(sub.messages[i].topic, topic) == 0 && strstr(sub.messages[i].payload, "\"seq\":"))
                        expected = strtoull(strstr(sub.messages[i].payload, "\"seq\":") + 6, NULL, 10) + 1;
        for (size_t i = start; i < sub.n_messages; i++) {
                const char *seq = strstr(sub.messages[i].payload, "\"seq\":");

                if (strcmp(sub.messages[i].topic, topic) != 0 || !seq)
                        continue;
                if (expected > 0 && strtoull(seq + 6, NULL, 10) != expected) {
                        mqtt_bridge_read_log(&bridge);
                        fail_msg("reading #%" PRIu64 " expected, got %s; thermo-mqtt said:\n%s", expected,
                                        sub.messages[i].payload, bridge.log);
                }
                expected = strtoull(seq + 6, NULL, 10) + 1;
                n++;
        }
        assert_true(n >= 20);
        mqtt_bridge_read_log(&bridge);
        assert_null(strstr(bridge.log, "Missed"));

        subscriber_close(&sub);
        harness_cleanup(&s);
        broker_cleanup(&b);
}

/* How many messages on topic saying payload came from the start-th on. */
static size_t count_from(Subscriber *sub, size_t start, const char *topic, const char *payload) {
        size_t n = 0;

        for (size_t i = start; i < sub->n_messages; i++)
                n += strcmp(sub->messages[i].topic, topic) == 0 && strcmp(sub->messages[i].payload, payload) == 0;
        return n;
}

/* The seq of each reading of topic that came, in order, from the JSON payloads. */
static size_t seqs_of(const Subscriber *sub, const char *topic, uint64_t *seqs, size_t max) {
        size_t n = 0;

        for (size_t i = 0; i < sub->n_messages && n < max; i++) {
                const char *seq = strstr(sub->messages[i].payload, "\"seq\":");

                if (strcmp(sub->messages[i].topic, topic) == 0 && seq)
                        seqs[n++] = strtoull(seq + 6, NULL, 10);
        }
        return n;
}

/* Each sensor's readings, from the first that came to the last: every seq once, in order (QoS 1 could
 * deliver one twice where a PUBACK was on its way when a connection ended: the tests cut none such), with
 * at most gaps_allowed gaps; returns how many came of the one with fewest. */
static size_t expect_every_reading(const Subscriber *sub, const char *const *topics, size_t n_topics, size_t gaps_allowed,
                const MqttBridge *bridge) {
        static uint64_t seqs[20000];
        size_t fewest = SIZE_MAX;

        for (size_t t = 0; t < n_topics; t++) {
                size_t n = seqs_of(sub, topics[t], seqs, sizeof(seqs) / sizeof(seqs[0])), gaps = 0;

                for (size_t i = 1; i < n; i++) {
                        if (seqs[i] > seqs[i - 1] + 1 && gaps++ < gaps_allowed)
                                continue;
                        if (seqs[i] != seqs[i - 1] + 1)
                                fail_msg("on %s, #%" PRIu64 " after #%" PRIu64 ":\n%s", topics[t], seqs[i], seqs[i - 1],
                                                bridge->log);
                }
                assert_int_equal(gaps, gaps_allowed);
                fewest = n < fewest ? n : fewest;
        }
        return fewest;
}

/* The broker is away for a while: the readings it could not take wait in the server's history, and come
 * from there, oldest first, when it is back: every reading of each sensor once, in order. With a history of
 * 1 s, shorter than the outage, what it no longer holds is missing: one gap, said once and counted; with
 * none (--history=0), all the outage's readings are. The
 * sensor listed first gives no reading (its ERR 503 comes first in each tick), and attic is above its high
 * limit from the start (an ALARM line before OK STREAM). */
static void broker_outage(const char *history) {
        const char *const topics[] = { "thermo/h1/room", "thermo/h1/attic" };
        bool lossy = strcmp(history, "10min") != 0;
        Subscriber sub = {};
        ServerProcess s;
        MqttBridge bridge;
        char broker[64], option[32];
        const char *missed;
        size_t n, mark;
        pid_t way;
        Broker b;
        int port;

        broker_start(&b, NULL);
        subscriber_open(&sub, b.port, "thermo/h1/#", 1);
        snprintf(room_spec, sizeof(room_spec), "room=file:%s", room);
        snprintf(attic_spec, sizeof(attic_spec), "attic=file:%s", attic);
        snprintf(missing_spec, sizeof(missing_spec), "gone=file:%s", missing);
        snprintf(option, sizeof(option), "--history=%s", history);
        harness_start_activated(&s, (const char *const[]) { "--interval", "50ms", option, "--sensor", missing_spec,
                                        "--sensor", room_spec, "--sensor", attic_spec, "--limit", "attic:high=30",
                                        NULL });
        /* A reading taken before the bridge comes: attic is high when it does. */
        {
                char line[256];
                int fd = harness_connect(s.port, 0);

                assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
                harness_send(fd, "GET attic\n", strlen("GET attic\n"));
                assert_true(harness_read_line(fd, line, sizeof(line), T) > 0);
                expect_in(line, "31.125 attic");
                close(fd);
        }
        way = broker_way_start(&b, 1200, &port);
        snprintf(broker, sizeof(broker), "mqtt://127.0.0.1:%i", port);
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", broker, "--payload=json", server_arg(&s, "h1"),
                                        NULL });
        expect(&sub, "thermo/h1/attic", NULL);
        expect(&sub, "thermo/h1/attic/level", "high");
        subscriber_run(&sub, 500);

        mark = log_mark(&bridge);
        broker_way_cut(way);
        expect_log_since(&bridge, mark, "Lost the broker");
        /* Connected again (what it says of the readings that wait is said once in a while: at the start, a
         * broker not connected yet may have had it said already). */
        expect_log_since(&bridge, mark, "Connected to the broker");
        /* Back after 1.2 s and a backoff: 2 s more, well past what waited. */
        subscriber_run(&sub, 2000);
        assert_int_equal(mqtt_bridge_stop(&bridge, SIGTERM), 0);
        subscriber_run(&sub, 200);

        n = expect_every_reading(&sub, topics, 2, lossy ? 1 : 0, &bridge);
        /* 0.5 + 1.2 + 2 s at 50 ms, less a backoff of up to 2 s (and, lossy, what was held no more). */
        if (n < (lossy ? 30 : 50))
                fail_msg("only %zu readings:\n%s", n, bridge.log);
        /* A sensor without readings is online until its first tick says otherwise, and then only said again
         * to a broker that may have lost it. */
        assert_true(count_from(&sub, 0, "thermo/h1/gone/status", "online") <= 1);
        assert_string_equal(subscriber_last(&sub, "thermo/h1/gone/status")->payload, "offline");
        assert_null(strstr(bridge.log, "restarted"));
        assert_null(strstr(bridge.log, "Unexpected"));
        missed = strstr(bridge.log, "Missed ");
        if (lossy) {
                assert_non_null(missed);
                expect_in(missed, " held them no more when asked.");
                assert_null(strstr(missed + 1, "Missed "));
                expect_in(bridge.log, " readings of h1 did not reach the broker: the server held them no more");
        } else {
                assert_null(missed);
                expect_in(bridge.log, "The readings of h1 that waited for the broker have all reached it.");
        }

        subscriber_close(&sub);
        harness_cleanup(&s);
        broker_cleanup(&b);
}

static void test_a_broker_outage_loses_nothing(void **state) {
        broker_outage("10min");
}

static void test_a_broker_outage_longer_than_the_history(void **state) {
        broker_outage("1s");
}

static void test_a_broker_outage_without_a_history(void **state) {
        broker_outage("0");
}

/* A broker that stops taking messages, its connection up: once 1000 wait for it, the readings wait in the
 * server's history; once it takes half of them, they come from there, every one once and in order. Twenty
 * sensors at 10 ms fill the window in half a second. */
static void test_a_slow_broker_loses_nothing(void **state) {
        static char specs[20][64];
        const char *args[64] = { "--interval", "10ms" }, *topics[20];
        char topic_names[20][64];
        Subscriber sub = {};
        ServerProcess s;
        MqttBridge bridge;
        const Message *last;
        const char *from;
        uint64_t waited;
        size_t k = 2, n;
        Broker b;

        for (size_t i = 0; i < 20; i++) {
                snprintf(specs[i], sizeof(specs[i]), "s%zu=simulated:seed=%zu", i, i);
                snprintf(topic_names[i], sizeof(topic_names[i]), "thermo/h1/s%zu", i);
                topics[i] = topic_names[i];
                args[k++] = "--sensor";
                args[k++] = specs[i];
        }
        args[k] = NULL;
        broker_start(&b, NULL);
        subscriber_open(&sub, b.port, "thermo/h1/#", 1);
        harness_start_activated(&s, args);
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", url(&b), "--payload=json", server_arg(&s, "h1"),
                                        NULL });
        expect(&sub, "thermo/h1/s19", NULL);

        broker_signal(&b, SIGSTOP);
        expect_log(&bridge, "The broker does not take the readings of h1 now: they wait in the server's history");
        usleep(500 * 1000);
        broker_signal(&b, SIGCONT);
        expect_log(&bridge, "The broker takes the readings of h1 again: asking 127.0.0.1:");
        from = strstr(bridge.log, "history from #");
        assert_non_null(from);
        waited = strtoull(from + strlen("history from #"), NULL, 10);
        /* Until readings well past the wait have come: under a sanitizer and a loaded machine, the broker
         * and the subscriber take their time with the thousands that waited (bounded). */
        for (int ms = 0; ms < 3 * T; ms += 100) {
                last = subscriber_last(&sub, "thermo/h1/s19");
                if (last && strtoull(strstr(last->payload, "\"seq\":") + 6, NULL, 10) >= waited + 20)
                        break;
                subscriber_run(&sub, 100);
        }
        subscriber_run(&sub, 500);
        assert_int_equal(mqtt_bridge_stop(&bridge, SIGTERM), 0);
        subscriber_run(&sub, 500);

        /* Each sensor's readings go on well past the tick they waited from, every one once and in order
         * (how many come is not the point). */
        n = expect_every_reading(&sub, topics, 20, 0, &bridge);
        last = subscriber_last(&sub, "thermo/h1/s19");
        assert_non_null(last);
        if (n < 40 || strtoull(strstr(last->payload, "\"seq\":") + 6, NULL, 10) < waited + 20)
                fail_msg("%zu readings, the last %s, after the wait from #%" PRIu64 ":\n%s", n, last->payload, waited,
                                bridge.log);
        assert_null(strstr(bridge.log, "Missed"));
        assert_null(strstr(bridge.log, "Lost the broker"));

        subscriber_close(&sub);
        harness_cleanup(&s);
        broker_cleanup(&b);
}

/* Each sensor's level, on its topic as it changes; a binary sensor of its heat in Home Assistant for one
 * with a high or crit limit, and none for one without. */
static void test_levels_and_heat(void **state) {
        static const char *const walk[][2] = {
                { "31000\n", "high" }, { "41000\n", "crit" }, { "39500\n", "crit" }, /* within crit's hysteresis */
                { "37000\n", "high" }, { "20000\n", "ok" }, { "-1000\n", "low" }, { "15000\n", "ok" },
        };
        char topic[256], filter[2048];
        const char *host = harness_host();
        size_t start;
        Subscriber sub = {};
        const Message *m;
        ServerProcess s;
        Broker b;
        MqttBridge bridge;

        harness_write_file(room, "20000\n");
        snprintf(room_spec, sizeof(room_spec), "room=file:%s", room);
        snprintf(attic_spec, sizeof(attic_spec), "attic=file:%s", attic);
        broker_start(&b, NULL);
        subscriber_open(&sub, b.port, "#", 1);
        harness_start_activated(&s, (const char *const[]) { "--interval", "100ms", "--sensor", room_spec, "--sensor",
                                                           attic_spec, "--limit", "room:low=0,high=30,crit=40", NULL });
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", url(&b), server_arg(&s, NULL), NULL });

        snprintf(topic, sizeof(topic), "thermo/%s/room/level", host);
        expect(&sub, topic, "ok");
        /* room's heat, a binary sensor of its level; attic has no limit: no heat to show. */
        m = expect_device(&sub, "room_heat");
        snprintf(filter, sizeof(filter),
                 "(.cmps | keys) == [\"attic\", \"room\", \"room_heat\"] and "
                 ".cmps.room_heat == {\"p\": \"binary_sensor\", \"unique_id\": \"thermo_%1$s_room_heat\", "
                 "\"default_entity_id\": \"binary_sensor.thermo_%3$s_room_heat\", \"name\": \"room heat\", "
                 "\"state_topic\": \"thermo/%2$s/room/level\", "
                 "\"value_template\": \"{{ 'ON' if value in ('high', 'crit') else 'OFF' }}\", \"device_class\": \"heat\", "
                 "\"availability\": [{\"topic\": \"thermo/%2$s/status\"}, {\"topic\": \"thermo/%2$s/room/status\"}], "
                 "\"availability_mode\": \"all\"}",
                 host_id(), host, entity_id(host));
        assert_true(jq(m->payload, filter));
        snprintf(topic, sizeof(topic), "thermo/%s/attic/level", host);
        expect(&sub, topic, "ok");

        /* Every level and back, each change once on the topic. */
        snprintf(topic, sizeof(topic), "thermo/%s/room/level", host);
        subscriber_mark(&sub);
        start = sub.mark;
        for (size_t i = 0; i < sizeof(walk) / sizeof(walk[0]); i++) {
                subscriber_mark(&sub);
                harness_write_file(room, walk[i][0]);
                if (i > 0 && strcmp(walk[i][1], walk[i - 1][1]) == 0) {
                        /* No change: nothing comes; give it a few ticks to be sure. */
                        subscriber_run(&sub, 500);
                        continue;
                }
                expect(&sub, topic, walk[i][1]);
        }
        subscriber_run(&sub, 300);
        assert_int_equal(count_from(&sub, start, topic, "high"), 2);
        assert_int_equal(count_from(&sub, start, topic, "crit"), 1);
        assert_int_equal(count_from(&sub, start, topic, "low"), 1);
        assert_int_equal(count_from(&sub, start, topic, "ok"), 2);
        /* Retained: a subscriber that comes now sees where it is. */
        m = subscriber_last(&sub, topic);
        assert_string_equal(m->payload, "ok");

        subscriber_close(&sub);
        harness_cleanup(&s);
        broker_cleanup(&b);
}

/* The server finds a sensor on a reload: the bridge publishes it from its first reading, discovery and
 * all, without reconnecting. One no longer found goes offline. */
static void test_sensors_found_and_lost_by_a_reload(void **state) {
        char topic[256], sys[128], zone[256];
        const char *host = harness_host();
        Subscriber sub = {};
        const Message *m;
        ServerProcess s;
        Broker b;
        MqttBridge bridge;

        snprintf(sys, sizeof(sys), "%s/sys", dir);
        assert_int_equal(mkdir(sys, 0755), 0);
        harness_add_thermal_zone(sys, 0, "cpu-thermal\n", "40000\n");
        assert_int_equal(setenv("THERMO_SYSFS_ROOT", sys, 1), 0);

        broker_start(&b, NULL);
        subscriber_open(&sub, b.port, "#", 1);
        harness_start_activated(&s, (const char *const[]) { "--interval", "100ms", NULL });
        assert_int_equal(unsetenv("THERMO_SYSFS_ROOT"), 0);
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", url(&b), server_arg(&s, NULL), NULL });
        snprintf(topic, sizeof(topic), "thermo/%s/cpu-thermal", host);
        expect(&sub, topic, "40.000");

        harness_add_thermal_zone(sys, 1, "gpu-thermal\n", "30000\n");
        /* With a trip point: its level and its heat come too, from the LIMITS the bridge asks for it. */
        snprintf(zone, sizeof(zone), "%s/class/thermal/thermal_zone1/trip_point_0_type", sys);
        harness_write_file(zone, "passive\n");
        snprintf(zone, sizeof(zone), "%s/class/thermal/thermal_zone1/trip_point_0_temp", sys);
        harness_write_file(zone, "80000\n");
        harness_reload(&s);
        snprintf(topic, sizeof(topic), "thermo/%s/gpu-thermal/status", host);
        expect(&sub, topic, "online");
        snprintf(topic, sizeof(topic), "thermo/%s/gpu-thermal", host);
        expect(&sub, topic, "30.000");
        expect_log(&bridge, "has a new sensor, gpu-thermal.");
        snprintf(topic, sizeof(topic), "thermo/%s/gpu-thermal/level", host);
        expect(&sub, topic, "ok");
        assert_true(jq(expect_device(&sub, "gpu-thermal_heat")->payload, "(.cmps | keys) == [\"cpu-thermal\", \"gpu-thermal\", "
                                                     "\"gpu-thermal_heat\"] and .cmps[\"gpu-thermal_heat\"].device_class == "
                                                     "\"heat\""));

        snprintf(sys, sizeof(sys), "%s/sys/class/thermal/thermal_zone0", dir);
        harness_remove_tree(sys);
        harness_reload(&s);
        snprintf(topic, sizeof(topic), "thermo/%s/cpu-thermal/status", host);
        expect(&sub, topic, "offline");
        /* The bridge stayed connected all along: once online, never offline. */
        snprintf(topic, sizeof(topic), "thermo/%s/status", host);
        m = subscriber_last(&sub, topic);
        assert_non_null(m);
        assert_string_equal(m->payload, "online");

        subscriber_close(&sub);
        harness_cleanup(&s);
        broker_cleanup(&b);
}

static void test_json_qos0_prefix_name_and_no_discovery(void **state) {
        Subscriber sub = {};
        const Message *m;
        ServerProcess s;
        Broker b;
        MqttBridge bridge;

        broker_start(&b, NULL);
        subscriber_open(&sub, b.port, "#", 0);
        start_server(&s);
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", url(&b), "--payload", "json", "--qos", "0", "--topic-prefix",
                                  "home/temps", "--no-discovery", server_arg(&s, "kitchen"), NULL });

        m = expect(&sub, "home/temps/kitchen/room", NULL);
        assert_true(strncmp(m->payload, "{\"seq\":", 7) == 0);
        expect_in(m->payload, ",\"sensor\":\"room\",\"celsius\":-5.250}");
        expect(&sub, "home/temps/kitchen/status", "online");
        subscriber_run(&sub, 500);
        for (size_t i = 0; i < sub.n_messages; i++)
                if (strncmp(sub.messages[i].topic, "homeassistant/", 14) == 0)
                        fail_msg("a discovery config with --no-discovery: %s", sub.messages[i].topic);

        subscriber_close(&sub);
        harness_cleanup(&s);
        broker_cleanup(&b);
}

static void test_last_will_and_clean_stop(void **state) {
        Subscriber sub = {};
        ServerProcess s;
        Broker b;
        MqttBridge bridge;

        broker_start(&b, NULL);
        subscriber_open(&sub, b.port, "thermo/#", 1);
        start_server(&s);

        /* Killed: the broker says it for us, with the will. */
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", url(&b), server_arg(&s, "h1"), NULL });
        expect(&sub, "thermo/h1/status", "online");
        subscriber_mark(&sub);
        assert_int_equal(mqtt_bridge_stop(&bridge, SIGKILL), 128 + SIGKILL);
        expect(&sub, "thermo/h1/status", "offline");

        /* Stopped: we say it, and exit cleanly. */
        subscriber_mark(&sub);
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", url(&b), server_arg(&s, "h1"), NULL });
        expect(&sub, "thermo/h1/status", "online");
        subscriber_mark(&sub);
        assert_int_equal(mqtt_bridge_stop(&bridge, SIGTERM), 0);
        expect(&sub, "thermo/h1/status", "offline");
        expect_in(bridge.log, "Received Terminated, marking 1 host offline.");

        subscriber_close(&sub);
        harness_cleanup(&s);
        broker_cleanup(&b);
}

static void test_broker_and_server_restart(void **state) {
        Subscriber sub = {}, late = {};
        int other;
        const Message *m;
        ServerProcess s;
        Broker b;
        MqttBridge bridge;

        broker_start(&b, NULL);
        start_server(&s);
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", url(&b), "--payload", "json", server_arg(&s, "h1"),
                                        NULL });
        subscriber_open(&sub, b.port, "#", 1);
        expect(&sub, "thermo/h1/room", NULL);

        /* The broker dies, and everything it held with it; readings go on meanwhile. */
        subscriber_close(&sub);
        broker_kill(&b, SIGKILL);
        expect_log(&bridge, "Lost the broker");
        usleep(1200 * 1000);
        broker_restart(&b);
        subscriber_open(&sub, b.port, "#", 1);
        /* All of it again: availability and configs, then the readings the broker could not take, from the
         * server's history, and the stream. */
        expect(&sub, "thermo/h1/status", "online");
        expect(&sub, "homeassistant/device/thermo_h1/config", NULL);
        expect(&sub, "thermo/h1/gone/status", "offline");
        expect(&sub, "thermo/h1/attic", "\"celsius\":31.125}");
        /* And the new broker holds it for whoever comes later. */
        subscriber_open(&late, b.port, "thermo/h1/#", 1);
        m = expect(&late, "thermo/h1/status", "online");
        assert_true(m->retain);
        m = expect(&late, "thermo/h1/attic", "\"celsius\":31.125}");
        assert_true(m->retain);
        subscriber_close(&late);
        expect_log(&bridge, "The broker does not take the readings of h1 now: they wait in the server's history");

        /* The thermo server restarts (its socket stays, as with systemd): offline while it is away, then its
         * readings again, numbered from #1. */
        subscriber_mark(&sub);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        expect(&sub, "thermo/h1/status", "offline");
        usleep(300 * 1000);
        subscriber_mark(&sub);
        harness_restart_activated(&s, (const char *const[]) { SERVER_ARGS, NULL });
        /* Another client streams from the new run before the bridge is back: the bridge's first ticks of it
         * come from its history, from #1. */
        other = harness_connect(s.port, 0);
        harness_send(other, "STREAM\n", strlen("STREAM\n"));
        expect(&sub, "thermo/h1/status", "online");
        if (!subscriber_wait(&sub, "thermo/h1/room", "{\"seq\":1,", T)) {
                mqtt_bridge_read_log(&bridge);
                fail_msg("no reading #1 of the new run:\n%s", bridge.log);
        }
        expect(&sub, "thermo/h1/room", "{\"seq\":2,");
        expect(&sub, "thermo/h1/room", "\"celsius\":-5.250}");
        expect_log(&bridge, "the server restarted");
        close(other);
        harness_write_file(room, "1000\n");
        expect(&sub, "thermo/h1/room", "\"celsius\":1.000}");

        /* Once it has been quiet a while, or at the end: none missed. */
        subscriber_close(&sub);
        assert_int_equal(mqtt_bridge_stop(&bridge, SIGTERM), 0);
        expect_log(&bridge, "The readings of h1 that waited for the broker have all reached it.");
        assert_null(strstr(bridge.log, "did not reach the broker"));
        harness_cleanup(&s);
        broker_cleanup(&b);
}

__attribute__((format(printf, 3, 4))) static int sh(char *out, size_t size, const char *format, ...) {
        char command[2048], err[4096];
        va_list ap;

        va_start(ap, format);
        vsnprintf(command, sizeof(command), format, ap);
        va_end(ap);
        return harness_run((const char *const[]) { "/bin/sh", "-c", command, NULL }, out, size, err, sizeof(err));
}

static void test_credentials(void **state) {
        char conf[512], passwd[128], secret[256], credentials[128], out[4096], user_url[96];
        Subscriber sub = {};
        ServerProcess s;
        Broker b;
        MqttBridge bridge;

        snprintf(passwd, sizeof(passwd), "%s/passwd", dir);
        assert_int_equal(sh(out, sizeof(out), "mosquitto_passwd -b -c '%s' alice 's3cret pass' && chmod 0644 '%s'", passwd,
                                 passwd),
                        0);
        snprintf(conf, sizeof(conf), "allow_anonymous false\npassword_file %s\n", passwd);
        broker_start(&b, conf);
        start_server(&s);
        snprintf(user_url, sizeof(user_url), "mqtt://alice@127.0.0.1:%i", b.port);

        /* A password file (a newline at its end is no part of the password). */
        snprintf(secret, sizeof(secret), "%s/secret", dir);
        harness_write_file(secret, "s3cret pass\n");
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", user_url, "--password-file", secret,
                                        server_arg(&s, "h1"), NULL });
        expect_log(&bridge, "Connected to the broker");
        assert_int_equal(mqtt_bridge_stop(&bridge, SIGTERM), 0);

        /* Or systemd's credential. */
        snprintf(credentials, sizeof(credentials), "%s/credentials", dir);
        assert_int_equal(mkdir(credentials, 0700), 0);
        snprintf(secret, sizeof(secret), "%s/mqtt-password", credentials);
        harness_write_file(secret, "s3cret pass");
        setenv("CREDENTIALS_DIRECTORY", credentials, 1);
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", user_url, server_arg(&s, "h1"), NULL });
        unsetenv("CREDENTIALS_DIRECTORY");
        expect_log(&bridge, "Connected to the broker");
        assert_int_equal(mqtt_bridge_stop(&bridge, SIGTERM), 0);

        /* A wrong one: refused, said, and tried again. */
        harness_write_file(secret, "wrong");
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", user_url, "--password-file", secret,
                                        server_arg(&s, "h1"), NULL });
        expect_log(&bridge, "not authorised; retrying in");
        expect_in(bridge.log, "No connection to the broker mqtt://127.0.0.1:");
        assert_int_equal(mqtt_bridge_stop(&bridge, SIGTERM), 0);

        subscriber_close(&sub);
        harness_cleanup(&s);
        broker_cleanup(&b);
}

static unsigned count_in(const char *haystack, const char *needle) {
        unsigned n = 0;

        for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

/* systemctl reload with a rotated password: the broker takes the new one, and the old one no more; the
 * bridge connects again with the new one, and every reading reaches the broker, in order, none missed.
 * A password file that holds none is said, and the bridge goes on as it was. */
static void test_reload_with_a_rotated_password(void **state) {
        char conf[512], passwd[128], secret[128], out[4096], user_url[96];
        uint64_t seqs[4096];
        Subscriber sub = {};
        ServerProcess s;
        Broker b;
        MqttBridge bridge;
        size_t n;

        snprintf(passwd, sizeof(passwd), "%s/passwd", dir);
        assert_int_equal(sh(out, sizeof(out), "mosquitto_passwd -b -c '%s' alice old && mosquitto_passwd -b '%s' "
                            "reader r && chmod 0644 '%s'", passwd, passwd, passwd), 0);
        snprintf(conf, sizeof(conf), "allow_anonymous false\npassword_file %s\n", passwd);
        broker_start(&b, conf);
        subscriber_open_as(&sub, b.port, "thermo/#", 1, "reader", "r");
        start_server(&s);
        snprintf(user_url, sizeof(user_url), "mqtt://alice@127.0.0.1:%i", b.port);
        snprintf(secret, sizeof(secret), "%s/secret", dir);
        harness_write_file(secret, "old\n");
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", user_url, "--password-file", secret, "--payload",
                                                          "json", server_arg(&s, "h1"), NULL });
        expect(&sub, "thermo/h1/room", NULL);

        /* The password rotated at the broker (which reads its file again on SIGHUP, and keeps its
         * connections), then in the bridge's file, then the reload. */
        assert_int_equal(sh(out, sizeof(out), "mosquitto_passwd -b '%s' alice new", passwd), 0);
        broker_signal(&b, SIGHUP);
        harness_write_file(secret, "new\n");
        assert_int_equal(kill(bridge.pid, SIGHUP), 0);
        expect_log(&bridge, "Reloading: connecting to the broker mqtt://127.0.0.1:");
        subscriber_mark(&sub);
        assert_true(mqtt_bridge_wait_log(&bridge, "with the password read anew", T));
        /* Connected again, with the new password (the broker would refuse the old one now), and readings
         * come. */
        for (int waited = 0; count_in(bridge.log, "Connected to the broker") < 2; waited += 100) {
                if (waited > T)
                        fail_msg("not connected again:\n%s", bridge.log);
                usleep(100 * 1000);
                mqtt_bridge_read_log(&bridge);
        }
        assert_null(strstr(bridge.log, "Lost the broker"));
        expect(&sub, "thermo/h1/room", NULL);
        subscriber_run(&sub, 1000);

        /* A file that holds no password: said, and nothing else changes. */
        harness_write_file(secret, "");
        assert_int_equal(kill(bridge.pid, SIGHUP), 0);
        expect_log(&bridge, "The reload failed: the connections to the broker go on as they were.");
        subscriber_mark(&sub);
        expect(&sub, "thermo/h1/room", NULL);

        subscriber_run(&sub, 1000);
        assert_int_equal(mqtt_bridge_stop(&bridge, SIGTERM), 0);
        subscriber_run(&sub, 1000);
        /* Every reading of room once, in order: the reload cost none. */
        /* At QoS 1, a reading whose PUBACK was on its way when the reload ended the connection may come twice,
         * as MQTT allows: none may be missing. */
        n = seqs_of(&sub, "thermo/h1/room", seqs, sizeof(seqs) / sizeof(seqs[0]));
        if (n < 10)
                fail_msg("%zu readings of room, %zu messages:\n%s", n, sub.n_messages, bridge.log);
        for (size_t i = 1; i < n; i++)
                if (seqs[i] != seqs[i - 1] + 1 && seqs[i] != seqs[i - 1])
                        fail_msg("room: #%" PRIu64 " after #%" PRIu64 ":\n%s", seqs[i], seqs[i - 1], bridge.log);
        assert_null(strstr(bridge.log, "not authorised"));
        assert_null(strstr(bridge.log, "did not reach the broker"));

        subscriber_close(&sub);
        harness_cleanup(&s);
        broker_cleanup(&b);
}

static void test_tls(void **state) {
        char conf[1024], out[8192], ca[128], url_tls[96];
        Subscriber sub = {};
        ServerProcess s;
        Broker b;
        int plain = harness_free_port();
        MqttBridge bridge;

        /* A CA of our own, and a certificate it signs for localhost. */
        assert_int_equal(sh(out, sizeof(out),
                                 "cd '%s' && "
                                 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key "
                                 "-out ca.pem -days 2 -subj /CN=thermo-test-ca 2>&1 && "
                                 "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key "
                                 "-out server.csr -subj /CN=localhost 2>&1 && "
                                 "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san && "
                                 "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem "
                                 "-days 2 -extfile san 2>&1 && chmod 0644 server.key",
                                 dir),
                        0);
        snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
        /* The TLS listener for thermo-mqtt, a plain one for the test's subscriber. */
        snprintf(conf, sizeof(conf), "certfile %s/server.pem\nkeyfile %s/server.key\nlistener %i 127.0.0.1\n", dir, dir,
                        plain);
        broker_start(&b, conf);
        subscriber_open(&sub, plain, "thermo/#", 1);
        start_server(&s);
        snprintf(url_tls, sizeof(url_tls), "mqtts://localhost:%i", b.port);

        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", url_tls, "--cafile", ca, server_arg(&s, "h1"), NULL });
        expect(&sub, "thermo/h1/room", "-5.250");
        assert_int_equal(mqtt_bridge_stop(&bridge, SIGTERM), 0);

        /* Without our CA, the system's do not know the broker: no connection, and why. */
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", url_tls, server_arg(&s, "h1"), NULL });
        snprintf(conf, sizeof(conf), "No connection to the broker mqtts://localhost:%i for h1: TLS handshake failed", b.port);
        expect_log(&bridge, conf);
        expect_log(&bridge, "retrying in 0.5s.");
        /* And so again at the next attempt: libmosquitto's TLS is set up anew. */
        expect_log(&bridge, "retrying in 1.0s.");
        assert_null(strstr(bridge.log, "Invalid function arguments"));
        assert_int_equal(mqtt_bridge_stop(&bridge, SIGTERM), 0);

        subscriber_close(&sub);
        harness_cleanup(&s);
        broker_cleanup(&b);
}

static void test_two_servers_of_one_name(void **state) {
        Subscriber sub = {};
        ServerProcess s1, s2;
        const char *host = harness_host();
        char topic[256];
        Broker b;
        MqttBridge bridge;

        broker_start(&b, NULL);
        subscriber_open(&sub, b.port, "thermo/#", 1);
        start_server(&s1);
        start_server(&s2);
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", url(&b), server_arg(&s1, NULL), server_arg(&s2, NULL), NULL });
        /* Both call themselves by this machine's name: one gets it, the other is told to take another. */
        snprintf(topic, sizeof(topic), "thermo/%s/status", host);
        expect(&sub, topic, "online");
        expect_log(&bridge, "as another server does: give it a name of its own");
        expect_in(bridge.log, "(NAME=127.0.0.1:");

        subscriber_close(&sub);
        harness_cleanup(&s1);
        harness_cleanup(&s2);
        broker_cleanup(&b);
}

/* A server that is none of ours, on address (a loopback one) and a port of its own: it greets with host=
 * what the test says, lists one sensor, cpu, and streams 10 readings of it, one every 100ms, to each of
 * the 10 connections it takes at most, within 30 seconds at most. With a new sensor, the first reading is
 * cpu's, and the 100 others (10 seconds of them) are of a sensor it did not list, new1, as after a rescan. */
static pid_t fake_server(const char *address, const char *host, bool new_sensor, int *ret_port) {
        struct sockaddr_in sa = { .sin_family = AF_INET };
        socklen_t n = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        pid_t pid;

        assert_true(fd >= 0);
        assert_int_equal(inet_pton(AF_INET, address, &sa.sin_addr), 1);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(fd, 4), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &n), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                alarm(30);
                for (int k = 0; k < 10; k++) {
                        struct pollfd p = { .events = POLLIN };
                        char line[512], request[512];
                        struct timespec ts;

                        p.fd = accept(fd, NULL, NULL);
                        if (p.fd < 0)
                                _exit(0);
                        snprintf(line, sizeof(line),
                                        "HELLO thermo/1 fake 0.0.1 interval_ms=100 sensor=simulated sensors=1 host=%s\n", host);
                        (void) send(p.fd, line, strlen(line), MSG_NOSIGNAL);
                        if (poll(&p, 1, 5000) == 1)
                                (void) recv(p.fd, request, sizeof(request), 0);
                        /* A server older than limits and history: ERR 400 to LIMITS, to ALARMS, and to STREAM
                         * after=; then OK to the plain STREAM that comes next. */
                        snprintf(line, sizeof(line), "SENSOR cpu simulated\nEND\nERR 400 unknown request\n"
                                                     "ERR 400 unknown request\nERR 400 invalid sensor name\nOK STREAM\n");
                        (void) send(p.fd, line, strlen(line), MSG_NOSIGNAL);
                        for (int seq = 1; seq <= (new_sensor ? 101 : 10); seq++) {
                                clock_gettime(CLOCK_REALTIME, &ts);
                                snprintf(line, sizeof(line), "TEMP %i %lld 21.%03i %s\n", seq,
                                                (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000, k,
                                                new_sensor && seq > 1 ? "new1" : "cpu");
                                if (send(p.fd, line, strlen(line), MSG_NOSIGNAL) < 0)
                                        break;
                                usleep(100 * 1000);
                        }
                        close(p.fd);
                }
                _exit(0);
        }
        close(fd);
        harness_track(pid);
        *ret_port = ntohs(sa.sin_port);
        return pid;
}

/* A server's host= is a topic level only where it is one: "victim/cpu" would publish onto another host's
 * topics, "#" onto none. Such a server is published under its address, and that is said once. */
static void test_a_host_name_that_is_no_topic_level(void **state) {
        char a1[64], a2[64], *p;
        Subscriber sub = {};
        MqttBridge bridge;
        int port1, port2, said = 0;
        Broker b;

        broker_start(&b, NULL);
        subscriber_open(&sub, b.port, "#", 1);
        (void) fake_server("127.0.0.1", "victim/cpu", false, &port1);
        (void) fake_server("127.0.0.2", "#", false, &port2);
        snprintf(a1, sizeof(a1), "127.0.0.1:%i", port1);
        snprintf(a2, sizeof(a2), "127.0.0.2:%i", port2);
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", url(&b), a1, a2, NULL });

        expect(&sub, "thermo/127.0.0.1/cpu", "21.000");
        expect(&sub, "thermo/127.0.0.2/cpu", "21.000");
        expect_log(&bridge, "calls itself 'victim/cpu', which is no MQTT topic level");
        expect_log(&bridge, "calls itself '#', which is no MQTT topic level");
        /* The servers hang up after 10 readings: once reconnected, published as before, and not said again. */
        expect(&sub, "thermo/127.0.0.1/cpu", "21.001");
        expect(&sub, "thermo/127.0.0.2/cpu", "21.001");
        assert_int_equal(mqtt_bridge_stop(&bridge, SIGTERM), 0);
        for (p = bridge.log; (p = strstr(p, "calls itself 'victim/cpu'")); p++)
                said++;
        assert_int_equal(said, 1);
        for (size_t i = 0; i < sub.n_messages; i++)
                if (strncmp(sub.messages[i].topic, "thermo/victim", 13) == 0 || strchr(sub.messages[i].topic, '#'))
                        fail_msg("published on %s", sub.messages[i].topic);

        subscriber_close(&sub);
        broker_cleanup(&b);
}


/* The index of the first message on topic, from the start, whose payload is text exactly (any, for NULL);
 * -1 for none. */
static ssize_t index_of(const Subscriber *sub, const char *topic, const char *text) {
        for (size_t i = 0; i < sub->n_messages; i++)
                if (strcmp(sub->messages[i].topic, topic) == 0 && (!text || strcmp(sub->messages[i].payload, text) == 0))
                        return (ssize_t) i;
        return -1;
}

/* Runs the subscriber until a message on topic says text exactly; its index. */
static ssize_t wait_exactly(Subscriber *sub, const char *topic, const char *text) {
        for (int waited = 0; index_of(sub, topic, text) < 0; waited += 100) {
                if (waited >= T)
                        fail_msg("nothing on %s saying '%s'", topic, text);
                subscriber_run(sub, 100);
        }
        return index_of(sub, topic, text);
}

/* A broker that holds the single-component configs of thermo-mqtt 0.2.0: each of a component the device
 * has is handed over ({"migrate_discovery":true}) before the device's config, and cleared after it; one of a
 * sensor no longer there is cleared alone. Then the broker holds the device's config, and nothing else of
 * discovery. Home Assistant's birth asks for it again; a sensor gone after a restart of the server goes
 * offline and is removed from it. */
static void test_migration_birth_and_a_sensor_gone(void **state) {
        static const char *const old[][2] = {
                { "sensor", "room" }, { "sensor", "attic" }, { "binary_sensor", "room" }, { "sensor", "cellar" },
                { "binary_sensor", "attic" },
        };
        char topic[256], device[256], out[4096], limit[64];
        const char *host = harness_host();
        Subscriber sub = {}, late = {};
        ssize_t config;
        ServerProcess s;
        Broker b;
        MqttBridge bridge;

        broker_start(&b, NULL);
        for (size_t i = 0; i < sizeof(old) / sizeof(old[0]); i++)
                assert_int_equal(sh(out, sizeof(out), "mosquitto_pub -p %i -r -q 1 -t 'homeassistant/%s/thermo_%s/%s/config' "
                                    "-m '{\"name\":\"%s\",\"unique_id\":\"thermo_%s_%s\",\"object_id\":\"thermo_%s_%s\"}'",
                                    b.port, old[i][0], host_id(), old[i][1], old[i][1], host_id(), old[i][1], host_id(),
                                    old[i][1]), 0);
        subscriber_open(&sub, b.port, "#", 1);
        snprintf(room_spec, sizeof(room_spec), "room=file:%s", room);
        snprintf(attic_spec, sizeof(attic_spec), "attic=file:%s", attic);
        snprintf(limit, sizeof(limit), "room:high=30");
        harness_start_activated(&s, (const char *const[]) { "--interval", "100ms", "--sensor", room_spec, "--sensor",
                                                           attic_spec, "--limit", limit, NULL });
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", url(&b), server_arg(&s, NULL), NULL });
        snprintf(device, sizeof(device), "homeassistant/device/thermo_%s/config", host_id());
        expect(&sub, device, "room_heat");
        expect_log(&bridge, "Migrating the Home Assistant discovery of");
        /* One config, and the first already whole: its sensors and room's heat. */
        config = index_of(&sub, device, NULL);
        assert_true(jq(sub.messages[config].payload, "(.cmps | keys) == [\"attic\", \"room\", \"room_heat\"]"));
        subscriber_run(&sub, 300);
        assert_int_equal(count_from(&sub, 0, device, sub.messages[config].payload), 1);

        /* The order Home Assistant's migration asks for. */
        for (size_t i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
                bool kept = strcmp(old[i][1], "cellar") != 0 && !(strcmp(old[i][0], "binary_sensor") == 0 &&
                                                                  strcmp(old[i][1], "attic") == 0);
                ssize_t migrate, cleared;

                snprintf(topic, sizeof(topic), "homeassistant/%s/thermo_%s/%s/config", old[i][0], host_id(), old[i][1]);
                cleared = wait_exactly(&sub, topic, "");
                migrate = index_of(&sub, topic, "{\"migrate_discovery\":true}");
                if (kept && (migrate < 0 || migrate > config || cleared < config))
                        fail_msg("%s: migrated at %zi, the device's config at %zi, cleared at %zi", topic, migrate, config,
                                 cleared);
                if (!kept && migrate >= 0)
                        fail_msg("%s, of a component the device has not, migrated", topic);
        }

        /* What the broker holds of discovery now: the device's config alone. */
        subscriber_open(&late, b.port, "homeassistant/#", 1);
        subscriber_run(&late, 500);
        assert_true(late.n_messages >= 1);
        for (size_t i = 0; i < late.n_messages; i++)
                if (strcmp(late.messages[i].topic, device) != 0)
                        fail_msg("still retained: %s %s", late.messages[i].topic, late.messages[i].payload);
        subscriber_close(&late);

        /* Home Assistant starts: discovery again. */
        subscriber_mark(&sub);
        assert_int_equal(sh(out, sizeof(out), "mosquitto_pub -p %i -t homeassistant/status -m online", b.port), 0);
        expect(&sub, device, "room_heat");
        subscriber_mark(&sub);
        assert_int_equal(sh(out, sizeof(out), "mosquitto_pub -p %i -t homeassistant/status -m offline", b.port), 0);
        subscriber_run(&sub, 300);
        assert_null(subscriber_wait(&sub, device, NULL, 0));

        /* attic is no more, after an admin's edit and a restart of the server: offline, and removed. */
        subscriber_mark(&sub);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_restart_activated(&s, (const char *const[]) { "--interval", "100ms", "--sensor", room_spec, "--limit",
                                                             limit, NULL });
        snprintf(topic, sizeof(topic), "thermo/%s/attic/status", host);
        expect(&sub, topic, "offline");
        assert_true(jq(expect_device(&sub, "\"attic\":{\"p\":\"sensor\"}")->payload,
                       "(.cmps | keys) == [\"attic\", \"room\", \"room_heat\"] and .cmps.attic == {\"p\": \"sensor\"}"));
        /* Said once: the next config has it no more. */
        subscriber_mark(&sub);
        assert_int_equal(sh(out, sizeof(out), "mosquitto_pub -p %i -t homeassistant/status -m online", b.port), 0);
        assert_true(jq(expect_device(&sub, NULL)->payload, "(.cmps | keys) == [\"room\", \"room_heat\"]"));

        subscriber_close(&sub);
        harness_cleanup(&s);
        broker_cleanup(&b);
}


/* The time in a JSON reading's payload, in ms. */
static uint64_t time_of(const Message *m) {
        const char *t = strstr(m->payload, "\"time\":");

        assert_non_null(t);
        return strtoull(t + strlen("\"time\":"), NULL, 10);
}

/* Runs the subscriber for ms: fails on any reading of topic that comes meanwhile. */
static void expect_none(Subscriber *sub, const char *topic, int ms) {
        const Message *m;

        subscriber_mark(sub);
        subscriber_run(sub, ms);
        m = subscriber_wait(sub, topic, NULL, 0);
        if (m)
                fail_msg("published, and should not have been: %s %s", topic, m->payload);
}

/* --min-change and --heartbeat, a file sensor walked up and down: a reading goes when it has changed
 * enough, when the heartbeat is due, when it crosses a limit, and when the sensor is back; the rest is held. */
static void test_publish_on_change(void **state) {
        char topic[256], level[256], status[256];
        const char *host = harness_host();
        const Message *m;
        Subscriber sub = {};
        uint64_t first;
        ServerProcess s;
        Broker b;
        MqttBridge bridge;

        broker_start(&b, NULL);
        subscriber_open(&sub, b.port, "thermo/#", 1);
        snprintf(room_spec, sizeof(room_spec), "room=file:%s", room);
        harness_start_activated(&s, (const char *const[]) { "--interval", "100ms", "--sensor", room_spec, "--limit",
                                                           "room:high=-4.5", NULL });
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", url(&b), "--payload", "json", "--min-change",
                                                          "0.5", "--heartbeat", "2s", server_arg(&s, NULL), NULL });
        snprintf(topic, sizeof(topic), "thermo/%s/room", host);
        snprintf(level, sizeof(level), "thermo/%s/room/level", host);
        snprintf(status, sizeof(status), "thermo/%s/room/status", host);
        first = time_of(expect(&sub, topic, "\"celsius\":-5.250}"));

        /* Up by a quarter of a degree: held back. */
        harness_write_file(room, "-5000\n");
        expect_none(&sub, topic, 1000);
        /* By more than half a degree from what was published: it goes. */
        harness_write_file(room, "-4700\n");
        m = expect(&sub, topic, "\"celsius\":-4.700}");
        assert_true(time_of(m) < first + 2000);
        first = time_of(m);
        /* Steady: the heartbeat, two seconds after, and nothing between. */
        subscriber_mark(&sub);
        m = subscriber_wait(&sub, topic, NULL, 3000);
        assert_non_null(m);
        assert_non_null(strstr(m->payload, "\"celsius\":-4.700}"));
        if (time_of(m) < first + 2000 || time_of(m) > first + 2300)
                fail_msg("the heartbeat came %" PRIu64 "ms after the last reading published", time_of(m) - first);

        /* A tenth of a degree, across the high limit: the alarm and its reading, at once. */
        subscriber_mark(&sub);
        harness_write_file(room, "-4400\n");
        expect(&sub, level, "high");
        m = subscriber_wait(&sub, topic, "\"celsius\":-4.400}", 1000);
        assert_non_null(m);

        /* Unavailable, then back with a reading a little off: both at once. */
        harness_write_file(room, "garbage\n");
        expect(&sub, status, "offline");
        subscriber_mark(&sub);
        harness_write_file(room, "-4350\n");
        expect(&sub, status, "online");
        assert_non_null(subscriber_wait(&sub, topic, "\"celsius\":-4.350}", 1000));

        subscriber_close(&sub);
        assert_int_equal(mqtt_bridge_stop(&bridge, SIGTERM), 0);
        harness_cleanup(&s);
        broker_cleanup(&b);
}

/* --expire-after: Home Assistant's expire_after in each temperature's config, and readings not retained
 * (a stale one must not outlive it at the broker); availability and levels still are. */
static void test_expire_after(void **state) {
        char topic[256];
        const char *host = harness_host();
        Subscriber sub = {}, late = {};
        ServerProcess s;
        Broker b;
        MqttBridge bridge;

        broker_start(&b, NULL);
        subscriber_open(&sub, b.port, "#", 1);
        start_server(&s);
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", url(&b), "--expire-after", "90s",
                                                          server_arg(&s, NULL), NULL });
        assert_true(jq(expect_device(&sub, NULL)->payload,
                       "[.cmps[] | select(.p == \"sensor\") | .expire_after] == [90, 90, 90]"));
        snprintf(topic, sizeof(topic), "thermo/%s/room", host);
        expect(&sub, topic, "-5.250");

        /* Readings come live to a subscriber that comes later, none retained. */
        subscriber_open(&late, b.port, "thermo/#", 1);
        expect(&late, topic, "-5.250");
        for (size_t i = 0; i < late.n_messages; i++)
                if (strcmp(late.messages[i].topic, topic) == 0 && late.messages[i].retain)
                        fail_msg("a reading retained: %s", late.messages[i].payload);
        snprintf(topic, sizeof(topic), "thermo/%s/room/status", host);
        assert_true(expect(&late, topic, "online")->retain);
        subscriber_close(&late);

        subscriber_close(&sub);
        harness_cleanup(&s);
        broker_cleanup(&b);
}


/* A server that misbehaves, on 127.0.0.3 and a port of its own, for 20 connections and 30 seconds at most:
 * it greets and lists cpu, then, BAD_LINE, sends a line that is no protocol's and waits for the hang-up;
 * MANY_NAMES, streams 3000 readings, each of a sensor it never listed (and answers the LIMITS asked of
 * each: no such sensor), with a seq that goes back every other line. */
typedef enum Misbehaviour { BAD_LINE, MANY_NAMES } Misbehaviour;

static void hostile_server(Misbehaviour how, int *ret_port, int *ret_accepted_fd) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000003) };
        socklen_t n = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), counter[2];
        pid_t pid;

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(fd, 4), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &n), 0);
        /* Each connection taken, a byte here: the test counts them. */
        assert_int_equal(pipe2(counter, O_CLOEXEC | O_NONBLOCK), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                alarm(30);
                for (int k = 0; k < 20; k++) {
                        static const char hello[] = "HELLO thermo/1 fake 0.0.1 interval_ms=100 sensor=simulated sensors=1 "
                                                    "host=hostile\nSENSOR cpu simulated\nEND\nERR 400 unknown request\n"
                                                    "ERR 400 unknown request\nERR 400 invalid sensor name\nOK STREAM\n";
                        char line[256];
                        int c = accept(fd, NULL, NULL);

                        if (c < 0)
                                _exit(0);
                        (void) write(counter[1], "x", 1);
                        (void) send(c, hello, strlen(hello), MSG_NOSIGNAL);
                        if (how == BAD_LINE)
                                (void) send(c, "WHAT IS THIS\n", strlen("WHAT IS THIS\n"), MSG_NOSIGNAL);
                        else
                                for (int i = 0; i < 3000; i++) {
                                        snprintf(line, sizeof(line), "TEMP %d 1795731139415 21.000 s%d\n"
                                                 "ERR 404 no such sensor\n", i % 2 == 0 ? 1000 + i : 1, i);
                                        if (send(c, line, strlen(line), MSG_NOSIGNAL) < 0)
                                                break;
                                }
                        /* Until the bridge hangs up, 10 s at most. */
                        (void) recv(c, line, sizeof(line), 0);
                        close(c);
                }
                _exit(0);
        }
        close(fd);
        close(counter[1]);
        harness_track(pid);
        *ret_port = ntohs(sa.sin_port);
        *ret_accepted_fd = counter[0];
}

static unsigned accepted(int fd) {
        char buf[64];
        ssize_t k;
        unsigned n = 0;

        while ((k = read(fd, buf, sizeof(buf))) > 0)
                n += (unsigned) k;
        return n;
}

/* A server that sends a bad line at every connection: tried again after a backoff that grows (0.5 s, 1 s,
 * 2 s...), not every half second, so that neither the journal nor its retained availability flap. */
static void test_a_bad_server_is_tried_less_and_less_often(void **state) {
        char server[64];
        Subscriber sub = {};
        MqttBridge bridge;
        Broker b;
        int port, counter;
        unsigned n;

        broker_start(&b, NULL);
        subscriber_open(&sub, b.port, "thermo/#", 1);
        hostile_server(BAD_LINE, &port, &counter);
        snprintf(server, sizeof(server), "127.0.0.3:%i", port);
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", url(&b), server, NULL });
        subscriber_run(&sub, 5000);
        n = accepted(counter);
        assert_int_equal(mqtt_bridge_stop(&bridge, SIGTERM), 0);
        /* 0.5 + 1 + 2 s of backoff in 5 s: four connections, five at most (ten with a backoff that starts
         * again at each greeting). */
        if (n < 2 || n > 5)
                fail_msg("%u connections in 5 s:\n%s", n, bridge.log);
        expect_in(bridge.log, "reconnecting in 0.5s.");
        expect_in(bridge.log, "reconnecting in 1.0s.");
        expect_in(bridge.log, "reconnecting in 2.0s.");
        /* Offline and online again at each, no more often than that. */
        assert_true(count_from(&sub, 0, "thermo/hostile/status", "online") <= n);
        close(counter);
        subscriber_close(&sub);
        broker_cleanup(&b);
}

static void count_config(const Message *m, void *userdata) {
        *(int *) userdata += strcmp(m->topic, "homeassistant/device/thermo_hostile/config") == 0;
}

/* A server that names thousands of sensors it never listed, with a seq that goes back at every other line:
 * the log says it in a few lines, not one a sensor (8,940 lines in 12 s, before), and the device's config,
 * every sensor of it, goes once a second at most. */
static void test_a_flood_of_names_is_summed_up(void **state) {
        char server[64];
        Subscriber sub = {};
        MqttBridge bridge;
        Broker b;
        int port, counter, configs;
        unsigned new_said, restarted_said;

        broker_start(&b, NULL);
        subscriber_open(&sub, b.port, "homeassistant/#", 1);
        /* Counted, not kept: the configs hold thousands of sensors. */
        sub.on_message = count_config;
        sub.userdata = &configs;
        configs = 0;
        hostile_server(MANY_NAMES, &port, &counter);
        snprintf(server, sizeof(server), "127.0.0.3:%i", port);
        /* The broker may not have taken all of it by the stop: it is not waited for long. */
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", url(&b), "--timeout", "2s", server, NULL });
        expect_log(&bridge, "hostile has a new sensor");
        subscriber_run(&sub, 3000);
        assert_int_equal(mqtt_bridge_stop(&bridge, SIGTERM), 0);
        new_said = count_in(bridge.log, "has a new sensor");
        restarted_said = count_in(bridge.log, "restarted");
        if (new_said > 3 || restarted_said > 3 || count_in(bridge.log, "\n") > 40)
                fail_msg("%u lines of new sensors, %u of restarts:\n%.4000s", new_said, restarted_said, bridge.log);
        /* 3 s and then some: a config a second, and the first. */
        if (configs < 2 || configs > 6)
                fail_msg("%d device configs in about 3 s", configs);
        /* Their number, said at the stop. */
        expect_in(bridge.log, "new sensors more, not said one by one.");
        close(counter);
        subscriber_close(&sub);
        broker_cleanup(&b);
}


/* thermo-mqtt --remove: every retained topic the bridge published of a host (readings, availability,
 * levels, the device's config) and 0.2.0's configs, cleared; another host's left alone. */
static void test_remove_clears_what_was_published(void **state) {
        static char err[256 * 1024];
        char topic[256], out[4096];
        const char *mqtt = getenv("THERMO_MQTT"), *host = harness_host();
        Subscriber sub = {}, late = {};
        ServerProcess s;
        Broker b;
        MqttBridge bridge;

        broker_start(&b, NULL);
        subscriber_open(&sub, b.port, "#", 1);
        assert_int_equal(sh(out, sizeof(out), "mosquitto_pub -p %i -r -t thermo/other/room -m 20.000 && "
                            "mosquitto_pub -p %i -r -t homeassistant/device/thermo_other/config -m '{}'", b.port, b.port),
                         0);
        snprintf(room_spec, sizeof(room_spec), "room=file:%s", room);
        harness_start_activated(&s, (const char *const[]) { "--interval", "100ms", "--sensor", room_spec, "--limit",
                                                           "room:high=30", NULL });
        mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", url(&b), server_arg(&s, NULL), NULL });
        expect_device(&sub, "room_heat");
        snprintf(topic, sizeof(topic), "thermo/%s/room/level", host);
        expect(&sub, topic, "ok");
        snprintf(topic, sizeof(topic), "thermo/%s/room", host);
        expect(&sub, topic, NULL);
        assert_int_equal(mqtt_bridge_stop(&bridge, SIGTERM), 0);
        /* And a config of 0.2.0's, still there from before. */
        assert_int_equal(sh(out, sizeof(out), "mosquitto_pub -p %i -r -t 'homeassistant/sensor/thermo_%s/room/config' "
                            "-m '{\"object_id\":\"x\"}'", b.port, host_id()), 0);

        assert_int_equal(harness_run((const char *const[]) { mqtt, "--remove", "--log-level=debug", "--broker", url(&b),
                                                             server_arg(&s, NULL), NULL }, out, sizeof(out), err,
                                     sizeof(err)), 0);
        /* Not a probe of its own among them. */
        assert_null(strstr(err, "Clearing thermo-mqtt/"));
        /* thermo/<host>/status, /room, /room/status and /room/level; the device's; 0.2.0's. */
        snprintf(topic, sizeof(topic), "Cleared 6 retained topics of %s at the broker.", host);
        if (!strstr(err, topic)) {
                for (char *line = strtok(err, "\n"); line; line = strtok(NULL, "\n"))
                        if (strstr(line, "Clearing") || strstr(line, "Cleared") || strstr(line, "PUBLISH"))
                                print_message("%s\n", line);
                fail_msg("no '%s'", topic);
        }

        subscriber_open(&late, b.port, "#", 1);
        subscriber_run(&late, 500);
        for (size_t i = 0; i < late.n_messages; i++)
                if (strcmp(late.messages[i].topic, "thermo/other/room") != 0 &&
                                strcmp(late.messages[i].topic, "homeassistant/device/thermo_other/config") != 0)
                        fail_msg("still retained: %s %s", late.messages[i].topic, late.messages[i].payload);
        assert_int_equal(late.n_messages, 2);

        /* A broker that is not there: said, in --timeout, and a failure. */
        assert_int_equal(harness_run((const char *const[]) { mqtt, "--remove", "--broker", "mqtt://127.0.0.1:9",
                                                             "--timeout", "1s", "h1=127.0.0.1:9", NULL },
                                     out, sizeof(out), err, sizeof(err)), 1);
        expect_in(err, "Could not clear the topics of h1: no connection to the broker in 1s.");

        subscriber_close(&late);
        subscriber_close(&sub);
        harness_cleanup(&s);
        broker_cleanup(&b);
}

/* Out of memory as a server's stream brings a sensor it did not list: that sensor is left out, and the
 * others are published as they were, names and all, when the broker has them all again. (Each reading
 * kept a pointer to its sensor's name, into an array that had moved.) */
static void test_no_memory_for_a_new_sensor(void **state) {
        Subscriber sub = {};
        MqttBridge bridge;
        char address[64];
        const Message *m;
        Broker b;
        int port;

        broker_start(&b, NULL);
        (void) fake_server("127.0.0.1", "fake", true, &port);
        snprintf(address, sizeof(address), "127.0.0.1:%i", port);
        assert_int_equal(setenv("THERMO_TEST_FAIL_ARRAY", "2", 1), 0);
        {
                const char *normal = getenv("THERMO_MQTT"), *failing = getenv("THERMO_MQTT_FAILING_ALLOC");
                char saved[512];

                assert_non_null(failing);
                snprintf(saved, sizeof(saved), "%s", normal);
                assert_int_equal(setenv("THERMO_MQTT", failing, 1), 0);
                mqtt_bridge_start(&bridge, (const char *const[]) { "--broker", url(&b), "--payload", "json", address, NULL });
                assert_int_equal(setenv("THERMO_MQTT", saved, 1), 0);
        }
        assert_int_equal(unsetenv("THERMO_TEST_FAIL_ARRAY"), 0);
        subscriber_open(&sub, b.port, "thermo/#", 1);
        m = expect(&sub, "thermo/fake/cpu", NULL);
        expect_in(m->payload, "\"sensor\":\"cpu\"");
        usleep(500 * 1000); /* new1's readings come, and find no room */

        /* The broker loses everything: all of it again, from what the bridge kept. */
        subscriber_close(&sub);
        broker_kill(&b, SIGKILL);
        expect_log(&bridge, "Lost the broker");
        broker_restart(&b);
        subscriber_open(&sub, b.port, "thermo/#", 1);
        m = expect(&sub, "thermo/fake/cpu", NULL);
        expect_in(m->payload, "\"sensor\":\"cpu\"");
        assert_null(subscriber_last(&sub, "thermo/fake/new1"));

        assert_int_equal(mqtt_bridge_stop(&bridge, SIGTERM), 0);
        subscriber_close(&sub);
        broker_cleanup(&b);
}

static void test_bad_arguments(void **state) {
        static const struct {
                const char *args[4];
                const char *message;
        } cases[] = {
                { { "--broker", "http://x" }, "Invalid value 'http://x' for --broker: not mqtt:// or mqtts://" },
                { { "--broker", "mqtt://u:p@x" }, "a password does not belong on the command line" },
                { { "--broker", "mqtt://x:0" }, "the port is not a number from 1 to 65535" },
                { { "--broker", "mqtt://x/topic" }, "a broker has no path" },
                { { "--qos", "2" }, "Invalid value '2' for --qos: expected 0 or 1" },
                { { "--topic-prefix", "a/+" }, "Invalid value 'a/+' for --topic-prefix" },
                { { "--topic-prefix", "a//b" }, "Invalid value 'a//b' for --topic-prefix" },
                { { "--payload", "xml" }, "expected value or json" },
                { { "--keepalive", "1s" }, "expected whole seconds from 5s to 65535s" },
                { { "--cafile", "/etc/hosts" }, "--cafile is for an mqtts:// broker." },
                { { "--password-file", "/nonexistent" }, "Failed to read the broker's password from /nonexistent" },
                { { "bad name=localhost" }, "NAME is 1 to 64 of A-Z a-z 0-9 . _ -" },
                { { "localhost:0" }, "expected HOST, HOST:PORT, [IPV6]:PORT or /path" },
                { { "a=localhost", "localhost" }, "given twice" },
                { { "a=x", "a=y" }, "its NAME is taken" },
                { { "--password-file", "/etc/hostname" }, "A password without a user" },
        };
        char out[4096], err[4096];

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const char *argv[8] = { getenv("THERMO_MQTT") };
                size_t n = 1;

                for (size_t k = 0; k < 4 && cases[i].args[k]; k++)
                        argv[n++] = cases[i].args[k];
                argv[n] = NULL;
                assert_int_equal(harness_run(argv, out, sizeof(out), err, sizeof(err)), 2);
                if (!strstr(err, cases[i].message))
                        fail_msg("case %zu: no '%s' in: %s", i, cases[i].message, err);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_readings_status_and_discovery, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sensors_found_and_lost_by_a_reload, setup, teardown),
                cmocka_unit_test_setup_teardown(test_levels_and_heat, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_dropped_server_connection_loses_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_broker_outage_loses_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_broker_outage_longer_than_the_history, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_broker_outage_without_a_history, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_slow_broker_loses_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_json_qos0_prefix_name_and_no_discovery, setup, teardown),
                cmocka_unit_test_setup_teardown(test_last_will_and_clean_stop, setup, teardown),
                cmocka_unit_test_setup_teardown(test_broker_and_server_restart, setup, teardown),
                cmocka_unit_test_setup_teardown(test_credentials, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tls, setup, teardown),
                cmocka_unit_test_setup_teardown(test_two_servers_of_one_name, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_host_name_that_is_no_topic_level, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_memory_for_a_new_sensor, setup, teardown),
                cmocka_unit_test_setup_teardown(test_migration_birth_and_a_sensor_gone, setup, teardown),
                cmocka_unit_test_setup_teardown(test_publish_on_change, setup, teardown),
                cmocka_unit_test_setup_teardown(test_expire_after, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reload_with_a_rotated_password, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_bad_server_is_tried_less_and_less_often, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_flood_of_names_is_summed_up, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remove_clears_what_was_published, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        };

        if (access(MOSQUITTO, X_OK) < 0) {
                fprintf(stderr, "mosquitto is not installed (apt-get install mosquitto): skipped.\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
