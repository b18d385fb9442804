/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "json.h"
#include "macro.h"
#include "topics.h"

static bool is_word_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || IN_SET(c, '.', '_', '-');
}

bool topic_prefix_is_valid(const char *s) {
        size_t level = 0, n;

        assert(s);

        n = strlen(s);
        if (n == 0 || n > TOPIC_PREFIX_MAX)
                return false;
        for (; *s; s++) {
                if (*s == '/') {
                        if (level == 0)
                                return false;
                        level = 0;
                } else if (is_word_char(*s))
                        level++;
                else
                        return false;
        }
        return level > 0;
}

bool topic_host_is_valid(const char *s) {
        size_t n;

        assert(s);

        n = strlen(s);
        if (n == 0 || n > 64)
                return false;
        for (; *s; s++)
                if (!is_word_char(*s))
                        return false;
        return true;
}

void topic_reading(char buf[static TOPIC_MAX], const char *prefix, const char *host, const char *sensor) {
        assert(prefix && host && sensor);
        snprintf(buf, TOPIC_MAX, "%s/%s/%s", prefix, host, sensor);
}

void topic_status(char buf[static TOPIC_MAX], const char *prefix, const char *host, const char *sensor) {
        assert(prefix && host);
        if (sensor)
                snprintf(buf, TOPIC_MAX, "%s/%s/%s/status", prefix, host, sensor);
        else
                snprintf(buf, TOPIC_MAX, "%s/%s/status", prefix, host);
}

void topic_level(char buf[static TOPIC_MAX], const char *prefix, const char *host, const char *sensor) {
        assert(prefix && host && sensor);
        snprintf(buf, TOPIC_MAX, "%s/%s/%s/level", prefix, host, sensor);
}

size_t payload_reading(char *buf, size_t size, PayloadFormat format, const Reading *r) {
        char celsius[32];
        int k;

        assert(buf);
        assert(r);

        format_millidegrees(celsius, sizeof(celsius), r->millicelsius);
        if (format == PAYLOAD_VALUE)
                k = snprintf(buf, size, "%s", celsius);
        else if (r->sensor)
                /* A name is a-z, 0-9, _ . -: nothing to escape. */
                k = snprintf(buf, size, "{\"seq\":%" PRIu64 ",\"time\":%" PRIu64 ",\"sensor\":\"%s\",\"celsius\":%s}",
                                r->seq, r->time_ms, r->sensor, celsius);
        else
                k = snprintf(buf, size, "{\"seq\":%" PRIu64 ",\"time\":%" PRIu64 ",\"celsius\":%s}", r->seq, r->time_ms,
                                celsius);
        return MIN((size_t) k, size - 1);
}

/* An id for Home Assistant ([a-zA-Z0-9_-]): our names with '.' made '_'. */
static void write_id(FILE *f, const char *s) {
        for (; *s; s++)
                fputc(*s == '.' ? '_' : *s, f);
}

void discovery_topic(char buf[static TOPIC_MAX], const Discovery *d) {
        FILE *f;

        assert(d);

        f = fmemopen(buf, TOPIC_MAX, "w");
        if (!f) {
                buf[0] = '\0';
                return;
        }
        fprintf(f, "%s/%s/thermo_", d->discovery_prefix, d->kind == DISCOVERY_HEAT ? "binary_sensor" : "sensor");
        write_id(f, d->host);
        fputc('/', f);
        write_id(f, d->sensor);
        fputs("/config", f);
        fclose(f);
}

int discovery_config(FILE *f, const Discovery *d) {
        char topic[TOPIC_MAX];

        assert(f);
        assert(d);

        /* Ids stay the same across restarts: they are made of the host's and the sensor's names alone. */
        fputs("{\"name\":", f);
        if (d->kind == DISCOVERY_HEAT) {
                char name[TOPIC_MAX];

                snprintf(name, sizeof(name), "%s heat", d->sensor);
                json_write_string(f, name);
        } else
                json_write_string(f, d->sensor);
        fputs(",\"unique_id\":\"thermo_", f);
        write_id(f, d->host);
        fputc('_', f);
        write_id(f, d->sensor);
        if (d->kind == DISCOVERY_HEAT)
                fputs("_heat", f);
        fputs("\",\"object_id\":\"thermo_", f);
        write_id(f, d->host);
        fputc('_', f);
        write_id(f, d->sensor);
        if (d->kind == DISCOVERY_HEAT) {
                fputs("_heat\"", f);
                topic_level(topic, d->prefix, d->host, d->sensor);
                fputs(",\"state_topic\":", f);
                json_write_string(f, topic);
                /* On at high and at crit, as thermo's alarms are; off at ok and at low. */
                fputs(",\"value_template\":\"{{ 'ON' if value in ('high', 'crit') else 'OFF' }}\""
                      ",\"device_class\":\"heat\"", f);
        } else {
                fputs("\"", f);
                topic_reading(topic, d->prefix, d->host, d->sensor);
                fputs(",\"state_topic\":", f);
                json_write_string(f, topic);
                if (d->format == PAYLOAD_JSON)
                        fputs(",\"value_template\":\"{{ value_json.celsius }}\"", f);
                fputs(",\"device_class\":\"temperature\",\"unit_of_measurement\":\"°C\",\"state_class\":\"measurement\""
                      ",\"suggested_display_precision\":1", f);
        }
        /* Available while thermo-mqtt, the host's server and the sensor all are. */
        topic_status(topic, d->prefix, d->host, NULL);
        fputs(",\"availability\":[{\"topic\":", f);
        json_write_string(f, topic);
        topic_status(topic, d->prefix, d->host, d->sensor);
        fputs("},{\"topic\":", f);
        json_write_string(f, topic);
        fputs("}],\"availability_mode\":\"all\"", f);
        fputs(",\"device\":{\"identifiers\":[\"thermo_", f);
        write_id(f, d->host);
        fputs("\"],\"name\":", f);
        json_write_string(f, d->host);
        fputs(",\"manufacturer\":\"thermo\",\"model\":", f);
        json_write_string(f, d->server ?: "thermo-server");
        if (d->version) {
                fputs(",\"sw_version\":", f);
                json_write_string(f, d->version);
        }
        fputs("}}", f);
        return ferror(f) ? -EIO : 0;
}
