/* SPDX-License-Identifier: MIT */
/* thermo-mqtt's own writes: at QoS 0 it writes a turn's PUBLISH packets itself, in one send(), between
 * libmosquitto's (discovery and statuses at QoS 1). In a network namespace of its own whose TCP buffers
 * are 4 KiB (net.ipv4.tcp_wmem and tcp_rmem there), a turn's readings often do not fit: sends fall short
 * in the middle of a packet, and the rest must go before anything else. Then the broker stops
 * (SIGSTOP) until the bridge has to stop sending, and goes on. Through it all, the connection never fails
 * (the broker would drop a stream with a broken packet), every reading arrives once and in order, what
 * waited comes from the server's history, and the goodbye's "offline" comes last. A reload while the broker
 * is stopped loses nothing either. Skipped (77) without root, without a namespace, or without mosquitto. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "mqtt-harness.h"

#define T HARNESS_TIMEOUT_MS
#define SENSORS 20

static Series series[SENSORS];
static char last_status[sizeof(((Message *) NULL)->payload)];
static uint64_t after_offline; /* readings that came after the bridge said "offline" */

static void on_message(const Message *m, void *userdata) {
        unsigned sensor;
        uint64_t seq;

        if (strcmp(m->topic, "thermo/h1/status") == 0) {
                snprintf(last_status, sizeof(last_status), "%s", m->payload);
                return;
        }
        if (sscanf(m->topic, "thermo/h1/s%u", &sensor) != 1 || sensor >= SENSORS || strchr(m->topic + 10, '/'))
                return;
        after_offline += strcmp(last_status, "offline") == 0;
        assert_int_equal(sscanf(m->payload, "{\"seq\":%" SCNu64 ",", &seq), 1);
        series_add(&series[sensor], seq);
}

/* A broker, a server of SENSORS sensors at 10 ms, a subscriber, and the bridge between them at QoS 0,
 * streaming. */
typedef struct Run {
        Broker b;
        ServerProcess s;
        Subscriber sub;
        MqttBridge bridge;
} Run;

static void run_start(Run *r) {
        static char specs[SENSORS][64];
        const char *args[2 * SENSORS + 4] = { "--interval", "10ms" };
        char url[64], server[64];
        size_t k = 2;

        memset(series, 0, sizeof(series));
        last_status[0] = '\0';
        after_offline = 0;
        for (size_t i = 0; i < SENSORS; i++) {
                snprintf(specs[i], sizeof(specs[i]), "s%zu=simulated:seed=%zu", i, i);
                args[k++] = "--sensor";
                args[k++] = specs[i];
        }
        args[k] = NULL;
        *r = (Run) { .sub = { .on_message = on_message } };
        broker_start(&r->b, NULL);
        subscriber_open(&r->sub, r->b.port, "thermo/h1/#", 1);
        harness_start_activated(&r->s, args);
        snprintf(url, sizeof(url), "mqtt://127.0.0.1:%i", r->b.port);
        snprintf(server, sizeof(server), "h1=127.0.0.1:%i", r->s.port);
        mqtt_bridge_start(&r->bridge, (const char *const[]) { "--broker", url, "--qos", "0", "--payload=json",
                                              server, NULL });

        /* A second of short sends. */
        for (int waited = 0; series[SENSORS - 1].received == 0 && waited < T; waited += 100)
                subscriber_run(&r->sub, 100);
        subscriber_run(&r->sub, 1000);
        assert_true(series[SENSORS - 1].received > 0);
}

/* The bridge stopped: its goodbye comes last, after every reading, and each sensor's readings came once, in
 * order, none missing. */
static void run_stop(Run *r) {
        assert_int_equal(mqtt_bridge_stop(&r->bridge, SIGTERM), 0);
        for (int waited = 0; strcmp(last_status, "offline") != 0 && waited < T; waited += 100)
                subscriber_run(&r->sub, 100);
        subscriber_run(&r->sub, 200);

        for (int i = 0; i < SENSORS; i++) {
                Series *e = &series[i];

                if (e->gaps > 0 || e->out_of_order > 0 || e->received < 100)
                        fail_msg("s%i: %" PRIu64 " readings (#%" PRIu64 " to #%" PRIu64 "), %" PRIu64
                                 " missing, %" PRIu64 " out of order:\n%s",
                                        i, e->received, e->first, e->last, e->gaps, e->out_of_order, r->bridge.log);
        }
        assert_string_equal(last_status, "offline");
        assert_int_equal(after_offline, 0);
        if (strstr(r->bridge.log, "Lost the broker") || strstr(r->bridge.log, "Missed") ||
                        strstr(r->bridge.log, "did not reach the broker"))
                fail_msg("%s", r->bridge.log);

        subscriber_close(&r->sub);
        harness_cleanup(&r->s);
        broker_cleanup(&r->b);
}

static void test_short_sends_and_a_stopped_broker_lose_nothing(void **state) {
        Run r;

        run_start(&r);
        broker_signal(&r.b, SIGSTOP);
        assert_true(mqtt_bridge_wait_log(&r.bridge, "The broker does not take the readings of h1 now", T));
        /* Past a second: the keepalive timer comes while a packet is half-written. */
        usleep(1200 * 1000);
        broker_signal(&r.b, SIGCONT);
        assert_true(mqtt_bridge_wait_log(&r.bridge, "The broker takes the readings of h1 again", T));
        subscriber_run(&r.sub, 1500);

        run_stop(&r);
}

/* A reload while the broker takes nothing: what was gathered for it is written once it goes on, then our
 * DISCONNECT, and the connection is made again once the broker has read it all and closed its end. No
 * reading is lost, though the broker held a socket's worth of them unread. */
static void test_a_reload_while_the_broker_takes_nothing(void **state) {
        uint64_t before;
        Run r;

        run_start(&r);
        broker_signal(&r.b, SIGSTOP);
        assert_true(mqtt_bridge_wait_log(&r.bridge, "The broker does not take the readings of h1 now", T));
        assert_int_equal(kill(r.bridge.pid, SIGHUP), 0);
        assert_true(mqtt_bridge_wait_log(&r.bridge, "Reloading: connecting to the broker", T));
        usleep(300 * 1000);
        before = series[SENSORS - 1].last;
        broker_signal(&r.b, SIGCONT);
        for (int waited = 0; !strstr(strstr(r.bridge.log, "Reloading") ?: "", "Connected to the broker");
                        waited += 100) {
                if (waited > T)
                        fail_msg("not connected again:\n%s", r.bridge.log);
                subscriber_run(&r.sub, 100);
                mqtt_bridge_read_log(&r.bridge);
        }
        for (int waited = 0; series[SENSORS - 1].last < before + 50 && waited < T; waited += 100)
                subscriber_run(&r.sub, 100);
        assert_true(series[SENSORS - 1].last >= before + 50);

        run_stop(&r);
}

/* This process in a namespace of its own, where every TCP socket's buffers are 4 KiB. */
static int enter_namespace(void) {
        static const char *const sysctls[] = { "/proc/sys/net/ipv4/tcp_wmem", "/proc/sys/net/ipv4/tcp_rmem" };
        int r = harness_enter_network_namespace();

        if (r < 0)
                return r;
        for (size_t i = 0; i < sizeof(sysctls) / sizeof(sysctls[0]); i++) {
                FILE *f = fopen(sysctls[i], "we");

                if (!f)
                        return -errno;
                fputs("4096 4096 4096\n", f);
                if (fclose(f) != 0)
                        return -errno;
        }
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_short_sends_and_a_stopped_broker_lose_nothing, harness_kill_all),
                cmocka_unit_test_teardown(test_a_reload_while_the_broker_takes_nothing, harness_kill_all),
        };
        int r;

        if (access(MOSQUITTO, X_OK) < 0) {
                fprintf(stderr, "mosquitto is not installed (apt-get install mosquitto): skipped.\n");
                return 77;
        }
        r = enter_namespace();
        if (r < 0) {
                printf("SKIP: no network namespace of our own: %s\n", strerror(-r));
                return 77;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
