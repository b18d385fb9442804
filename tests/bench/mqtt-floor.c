/* SPDX-License-Identifier: MIT */
/* The floor of the MQTT benchmark: COUNT readings published to the broker at 127.0.0.1:PORT as fast as a bare
 * loop can, payloads like thermo-mqtt's (JSON, one topic per sensor of SENSORS, retained, at QOS), with at
 * most 1000 on their way, as thermo-mqtt keeps: no thermo server, no event loop, no bookkeeping. Prints its
 * CPU time per reading.
 *
 *   mqtt-floor PORT QOS COUNT SENSORS */
#include <inttypes.h>
#include <mosquitto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define WINDOW 1000

static uint64_t done;

static void on_publish(struct mosquitto *mosq, void *userdata, int mid) {
        done++;
}

static double cpu_seconds(void) {
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6 + (double) ru.ru_stime.tv_sec +
               (double) ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char *argv[]) {
        struct mosquitto *mosq;
        uint64_t count, sent = 0;
        unsigned sensors;
        double cpu;
        int qos;

        if (argc != 5) {
                fprintf(stderr, "usage: mqtt-floor PORT QOS COUNT SENSORS\n");
                return 2;
        }
        qos = atoi(argv[2]);
        count = strtoull(argv[3], NULL, 10);
        sensors = (unsigned) atoi(argv[4]);
        mosquitto_lib_init();
        mosq = mosquitto_new(NULL, true, NULL);
        if (!mosq || mosquitto_connect(mosq, "127.0.0.1", atoi(argv[1]), 60) != MOSQ_ERR_SUCCESS) {
                fprintf(stderr, "mqtt-floor: cannot connect to the broker\n");
                return 1;
        }
        mosquitto_int_option(mosq, MOSQ_OPT_SEND_MAXIMUM, WINDOW);
        mosquitto_publish_callback_set(mosq, on_publish);
        /* CONNACK first. */
        for (int i = 0; i < 20; i++)
                mosquitto_loop(mosq, 50, 1);

        cpu = cpu_seconds();
        for (time_t deadline = time(NULL) + 300; done < count && time(NULL) < deadline;) {
                struct pollfd pfd = { .fd = mosquitto_socket(mosq), .events = POLLIN };

                while (sent < count && sent - done < WINDOW) {
                        char topic[64], payload[128];
                        int n;

                        snprintf(topic, sizeof(topic), "floor/h/s%" PRIu64, sent % sensors);
                        n = snprintf(payload, sizeof(payload),
                                        "{\"seq\":%" PRIu64 ",\"time\":1795731139415,\"sensor\":\"s%" PRIu64 "\",\"celsius\":21.375}",
                                        sent / sensors + 1, sent % sensors);
                        if (mosquitto_publish(mosq, NULL, topic, n, payload, qos, true) != MOSQ_ERR_SUCCESS)
                                break;
                        sent++;
                }
                if (mosquitto_want_write(mosq))
                        pfd.events |= POLLOUT;
                if (poll(&pfd, 1, 100) > 0) {
                        if (pfd.revents & POLLIN)
                                mosquitto_loop_read(mosq, 1);
                        if (pfd.revents & POLLOUT)
                                mosquitto_loop_write(mosq, 1);
                }
        }
        cpu = cpu_seconds() - cpu;
        printf("published=%" PRIu64 " cpu_us=%.0f\n", done, cpu * 1e6);
        mosquitto_disconnect(mosq);
        mosquitto_destroy(mosq);
        mosquitto_lib_cleanup();
        return done == count ? 0 : 1;
}
