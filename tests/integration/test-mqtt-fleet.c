/* SPDX-License-Identifier: MIT */
/* A fleet: 20 thermo servers on 20 ports, two sensors each, one thermo-mqtt carrying them all to the real
 * mosquitto at QoS 1, and a subscriber at QoS 1 that checks every reading of every sensor arrives: each
 * sensor's numbers without a gap, from the first it saw to the last. Skipped (77) without mosquitto. */
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

#define SERVERS 20
#define SENSORS 2
#define STREAM_MS 5000

static Series series[SERVERS][SENSORS];
static uint64_t online;

static void on_message(const Message *m, void *userdata) {
        unsigned server, sensor;
        uint64_t seq;

        if (sscanf(m->topic, "fleet/s%u/", &server) != 1 || server < 1 || server > SERVERS)
                return;
        if (strcmp(strrchr(m->topic, '/'), "/status") == 0) {
                online += strcmp(m->payload, "online") == 0 && strchr(m->topic + 6, '/') == strrchr(m->topic, '/');
                return;
        }
        if (sscanf(strrchr(m->topic, '/'), "/t%u", &sensor) != 1 || sensor >= SENSORS)
                return;
        assert_int_equal(sscanf(m->payload, "{\"seq\":%" SCNu64 ",", &seq), 1);
        series_add(&series[server - 1][sensor], seq);
}

static void test_twenty_servers_every_reading_at_qos1(void **state) {
        ServerProcess servers[SERVERS];
        const char *args[SERVERS + 16];
        char names[SERVERS][64], url[64];
        Subscriber sub = { .on_message = on_message };
        uint64_t total = 0;
        size_t n = 0;
        MqttBridge m;
        Broker b;

        broker_start(&b, NULL);
        subscriber_open(&sub, b.port, "fleet/#", 1);

        for (int i = 0; i < SERVERS; i++) {
                harness_start_activated(&servers[i], (const char *const[]) { "--interval", "50ms", "--sensor",
                                                             "t0=simulated", "--sensor", "t1=simulated", NULL });
                snprintf(names[i], sizeof(names[i]), "s%i=127.0.0.1:%i", i + 1, servers[i].port);
        }
        snprintf(url, sizeof(url), "mqtt://127.0.0.1:%i", b.port);
        args[n++] = "--broker";
        args[n++] = url;
        args[n++] = "--topic-prefix";
        args[n++] = "fleet";
        args[n++] = "--payload";
        args[n++] = "json";
        args[n++] = "--qos";
        args[n++] = "1";
        for (int i = 0; i < SERVERS; i++)
                args[n++] = names[i];
        args[n] = NULL;
        mqtt_bridge_start(&m, args);

        for (int waited = 0; online < SERVERS && waited < HARNESS_TIMEOUT_MS; waited += 100)
                subscriber_run(&sub, 100);
        assert_int_equal(online, SERVERS);
        subscriber_run(&sub, STREAM_MS);

        /* Stopped: what is on its way is delivered first. */
        assert_int_equal(mqtt_bridge_stop(&m, SIGTERM), 0);
        subscriber_run(&sub, 500);

        for (int i = 0; i < SERVERS; i++)
                for (int k = 0; k < SENSORS; k++) {
                        Series *s = &series[i][k];

                        if (s->gaps > 0 || s->out_of_order > 0 || s->received < STREAM_MS / 50 / 2)
                                fail_msg("s%i/t%i: %" PRIu64 " readings (#%" PRIu64 " to #%" PRIu64 "), %" PRIu64
                                         " missing, %" PRIu64 " out of order",
                                                i + 1, k, s->received, s->first, s->last, s->gaps, s->out_of_order);
                        assert_int_equal(s->received, s->last - s->first + 1);
                        total += s->received;
                }
        assert_null(strstr(m.log, "did not reach the broker"));
        assert_null(strstr(m.log, "Missed"));
        print_message("%" PRIu64 " readings of %i sensors, none missing\n", total, SERVERS * SENSORS);

        subscriber_close(&sub);
        for (int i = 0; i < SERVERS; i++)
                harness_cleanup(&servers[i]);
        broker_cleanup(&b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_twenty_servers_every_reading_at_qos1, harness_kill_all),
        };

        if (access(MOSQUITTO, X_OK) < 0) {
                fprintf(stderr, "mosquitto is not installed (apt-get install mosquitto): skipped.\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
