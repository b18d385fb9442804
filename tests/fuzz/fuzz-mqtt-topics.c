/* SPDX-License-Identifier: MIT */
/* What thermo-mqtt makes of names a server gives it (a host name, sensor names) and of readings: topics,
 * payloads, Home Assistant's configs. A name is published only where the bridge takes it (the validators,
 * as host.c asks them); then no topic holds a wildcard or an empty level, and every payload that is JSON
 * parses as JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json-check.h"
#include "protocol.h"
#include "topics.h"

static void check_topic(const char *t) {
        if (!t[0] || strpbrk(t, "+#") || strstr(t, "//") || t[0] == '/' || t[strlen(t) - 1] == '/')
                abort();
}

/* The next NUL-separated word of the input. */
static const char *word(const uint8_t **data, size_t *size, char *buf, size_t max) {
        size_t n = 0;

        while (*size > 0 && **data != '\0' && n + 1 < max) {
                buf[n++] = (char) **data;
                (*data)++;
                (*size)--;
        }
        if (*size > 0) {
                (*data)++;
                (*size)--;
        }
        buf[n] = '\0';
        return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char host[128], sensor[64], prefix[160], server[64], version[32], topic[TOPIC_MAX], payload[256];
        Reading r = {};
        char *config = NULL;
        size_t length = 0, n;
        FILE *f;

        word(&data, &size, host, sizeof(host));
        word(&data, &size, sensor, sizeof(sensor));
        word(&data, &size, prefix, sizeof(prefix));
        word(&data, &size, server, sizeof(server));
        word(&data, &size, version, sizeof(version));
        if (!topic_host_is_valid(host) || !protocol_name_is_valid(sensor, strlen(sensor)) ||
                        !topic_prefix_is_valid(prefix))
                return 0;
        for (size_t i = 0; i < sizeof(r) && size > 0; i++, data++, size--)
                ((uint8_t *) &r)[i] = *data;
        r.sensor = sensor;
        r.error = 0;

        topic_reading(topic, prefix, host, sensor);
        check_topic(topic);
        topic_status(topic, prefix, host, sensor);
        check_topic(topic);
        topic_status(topic, prefix, host, NULL);
        check_topic(topic);

        n = payload_reading(payload, sizeof(payload), PAYLOAD_JSON, &r);
        if (n >= sizeof(payload) || !json_check(payload, n))
                abort();
        (void) payload_reading(payload, sizeof(payload), PAYLOAD_VALUE, &r);

        {
                /* The server's program and version come from its HELLO: any text. */
                const DeviceSensor sensors[] = { { .name = sensor, .heat = true }, { .name = host } };
                const DeviceRemoval removals[] = { { .name = "gone", .heat = true } };
                Device d = {
                        .discovery_prefix = "homeassistant", .prefix = prefix, .host = host, .server = server,
                        .version = version, .format = PAYLOAD_JSON, .sensors = sensors, .n_sensors = 2,
                        .removals = removals, .n_removals = 1,
                };

                device_topic(topic, d.discovery_prefix, host);
                check_topic(topic);
                f = open_memstream(&config, &length);
                if (!f || device_config(f, &d) < 0 || fclose(f) != 0)
                        abort();
                if (!json_check(config, length))
                        abort();
                free(config);
        }
        return 0;
}
