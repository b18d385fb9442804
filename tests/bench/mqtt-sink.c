/* SPDX-License-Identifier: MIT */
/* The receiving end of the MQTT benchmark: subscribes to PREFIX/# at QOS on the broker at 127.0.0.1:PORT and
 * counts the readings that arrive and the ones that do not (a gap in a topic's "seq"), from its first
 * reading until SIGTERM or SECONDS have passed (bounded), and the longest wait between two readings of a
 * topic (longest_ms). Prints one line of key=value.
 *
 *   mqtt-sink PORT PREFIX QOS SECONDS */
#include <inttypes.h>
#include <mosquitto.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOPICS_MAX 4096

typedef struct Topic {
        char name[128];
        uint64_t last;
        double last_at;         /* CLOCK_MONOTONIC, s */
} Topic;

static Topic topics[TOPICS_MAX];
static size_t n_topics;
static uint64_t received, gaps;
static double longest;
static volatile sig_atomic_t stop;

static void on_signal(int sig) {
        stop = 1;
}

static Topic *topic(const char *name) {
        for (size_t i = 0; i < n_topics; i++)
                if (strcmp(topics[i].name, name) == 0)
                        return &topics[i];
        if (n_topics == TOPICS_MAX)
                return NULL;
        snprintf(topics[n_topics].name, sizeof(topics[n_topics].name), "%s", name);
        return &topics[n_topics++];
}

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void on_message(struct mosquitto *mosq, void *userdata, const struct mosquitto_message *m) {
        uint64_t seq;
        Topic *t;

        /* Readings only: {"seq":..}; availability and the like are not counted, nor what an earlier run left
         * retained. */
        if (m->retain || m->payloadlen < 8 || sscanf(m->payload, "{\"seq\":%" SCNu64, &seq) != 1)
                return;
        t = topic(m->topic);
        if (!t)
                return;
        if (t->last > 0 && seq > t->last + 1)
                gaps += seq - t->last - 1;
        if (t->last > 0 && now() - t->last_at > longest)
                longest = now() - t->last_at;
        t->last = seq;
        t->last_at = now();
        received++;
}

int main(int argc, char *argv[]) {
        struct mosquitto *mosq;
        char pattern[160];
        double start = 0, deadline;
        int qos;

        if (argc != 5) {
                fprintf(stderr, "usage: mqtt-sink PORT PREFIX QOS SECONDS\n");
                return 2;
        }
        qos = atoi(argv[3]);
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        /* A broker that closes on us must not end us before we have said what we counted. */
        signal(SIGPIPE, SIG_IGN);
        mosquitto_lib_init();
        mosq = mosquitto_new(NULL, true, NULL);
        if (!mosq || mosquitto_connect(mosq, "127.0.0.1", atoi(argv[1]), 60) != MOSQ_ERR_SUCCESS) {
                fprintf(stderr, "mqtt-sink: cannot connect to the broker\n");
                return 1;
        }
        mosquitto_message_callback_set(mosq, on_message);
        snprintf(pattern, sizeof(pattern), "%s/#", argv[2]);
        mosquitto_subscribe(mosq, NULL, pattern, qos);
        printf("ready\n");
        fflush(stdout);

        deadline = now() + 600;
        while (!stop && now() < deadline) {
                int r = mosquitto_loop(mosq, 50, 1);

                if (r != MOSQ_ERR_SUCCESS && !stop) {
                        fprintf(stderr, "mqtt-sink: %s\n", mosquitto_strerror(r));
                        break;
                }
                if (received > 0 && start == 0) {
                        start = now();
                        deadline = start + atof(argv[4]);
                }
        }
        printf("received=%" PRIu64 " lost=%" PRIu64 " topics=%zu seconds=%.3f longest_ms=%.0f\n", received, gaps,
                        n_topics, start > 0 ? now() - start : 0.0, longest * 1000);
        mosquitto_destroy(mosq);
        mosquitto_lib_cleanup();
        return 0;
}
