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

/* Appends s to the n bytes at buf, within size (NUL included, as snprintf() cuts): the new length. */
static size_t put(char *buf, size_t size, size_t n, const char *s) {
        size_t k = MIN(strlen(s), size - 1 - n);

        memcpy(buf + n, s, k);
        buf[n + k] = '\0';
        return n + k;
}

static size_t put_u64(char *buf, size_t size, size_t n, uint64_t v) {
        char digits[24], *p = digits + sizeof(digits) - 1;

        *p = '\0';
        do
                *--p = (char) ('0' + v % 10);
        while ((v /= 10) > 0);
        return put(buf, size, n, p);
}

size_t payload_reading(char *buf, size_t size, PayloadFormat format, const Reading *r) {
        char celsius[32];
        size_t n;

        assert(buf);
        assert(size > 0);
        assert(r);

        /* By hand, not snprintf(): it is what the bridge does for every reading. */
        format_millidegrees(celsius, sizeof(celsius), r->millicelsius);
        if (format == PAYLOAD_VALUE)
                return put(buf, size, 0, celsius);
        n = put(buf, size, 0, "{\"seq\":");
        n = put_u64(buf, size, n, r->seq);
        n = put(buf, size, n, ",\"time\":");
        n = put_u64(buf, size, n, r->time_ms);
        if (r->sensor) {
                /* A name is a-z, 0-9, _ . -: nothing to escape. */
                n = put(buf, size, n, ",\"sensor\":\"");
                n = put(buf, size, n, r->sensor);
                n = put(buf, size, n, "\"");
        }
        n = put(buf, size, n, ",\"celsius\":");
        n = put(buf, size, n, celsius);
        return put(buf, size, n, "}");
}

/* An id for Home Assistant ([a-zA-Z0-9_-]): our names with '.' made '_'. */
static void write_id(FILE *f, const char *s) {
        for (; *s; s++)
                fputc(*s == '.' ? '_' : *s, f);
}

/* An entity id's object part ([a-z0-9_]): our names lowercase, '.' and '-' made '_'. */
static void write_entity_id(FILE *f, const char *s) {
        for (; *s; s++)
                fputc(IN_SET(*s, '.', '-') ? '_' : (*s >= 'A' && *s <= 'Z') ? *s - 'A' + 'a' : *s, f);
}

/* Into buf, what write() writes; "" when it does not fit. */
static void format_topic(char buf[static TOPIC_MAX], void (*write)(FILE *f, const void *userdata),
                const void *userdata) {
        FILE *f = fmemopen(buf, TOPIC_MAX, "w");

        if (!f) {
                buf[0] = '\0';
                return;
        }
        write(f, userdata);
        if (fclose(f) != 0)
                buf[0] = '\0';
}

typedef struct TopicParts {
        const char *discovery_prefix, *kind, *host, *last;
} TopicParts;

/* "<discovery>/<kind>/thermo_<host id>/<last>" */
static void write_discovery_topic(FILE *f, const void *userdata) {
        const TopicParts *t = userdata;

        fprintf(f, "%s/%s/thermo_", t->discovery_prefix, t->kind);
        write_id(f, t->host);
        fprintf(f, "/%s", t->last);
}

void device_topic(char buf[static TOPIC_MAX], const char *discovery_prefix, const char *host) {
        assert(discovery_prefix && host);
        format_topic(buf, write_discovery_topic,
                        &(TopicParts) { .discovery_prefix = discovery_prefix, .kind = "device", .host = host,
                                        .last = "config" });
}

void legacy_discovery_pattern(char buf[static TOPIC_MAX], const char *discovery_prefix, const char *host, bool heat) {
        assert(discovery_prefix && host);
        format_topic(buf, write_discovery_topic,
                        &(TopicParts) { .discovery_prefix = discovery_prefix, .kind = heat ? "binary_sensor" : "sensor",
                                        .host = host, .last = "+/config" });
}

void discovery_status_topic(char buf[static TOPIC_MAX], const char *discovery_prefix) {
        assert(discovery_prefix);
        snprintf(buf, TOPIC_MAX, "%s/status", discovery_prefix);
}

void component_key(char buf[static COMPONENT_KEY_MAX], const char *sensor, bool heat) {
        size_t n = 0;

        assert(sensor);

        for (; *sensor && n < PROTOCOL_NAME_MAX; sensor++)
                buf[n++] = *sensor == '.' ? '_' : *sensor;
        snprintf(buf + n, COMPONENT_KEY_MAX - n, "%s", heat ? "_heat" : "");
}

/* A component's key in "cmps", with its platform. */
static void write_component_key(FILE *f, const char *sensor, bool heat) {
        char key[COMPONENT_KEY_MAX];

        component_key(key, sensor, heat);
        fprintf(f, "\"%s\":{\"p\":\"%s\"", key, heat ? "binary_sensor" : "sensor");
}

static void write_component(FILE *f, const Device *d, const DeviceSensor *s, bool heat) {
        char topic[TOPIC_MAX];

        write_component_key(f, s->name, heat);
        fputs(",\"unique_id\":\"thermo_", f);
        write_id(f, d->host);
        fputc('_', f);
        write_id(f, s->name);
        if (heat)
                fputs("_heat", f);
        /* What Home Assistant names the entity when it is new: domain, then the object part. */
        fprintf(f, "\",\"default_entity_id\":\"%s.thermo_", heat ? "binary_sensor" : "sensor");
        write_entity_id(f, d->host);
        fputc('_', f);
        write_entity_id(f, s->name);
        fputs(heat ? "_heat\",\"name\":" : "\",\"name\":", f);
        if (heat) {
                char name[TOPIC_MAX];

                snprintf(name, sizeof(name), "%s heat", s->name);
                json_write_string(f, name);
                topic_level(topic, d->prefix, d->host, s->name);
                fputs(",\"state_topic\":", f);
                json_write_string(f, topic);
                /* On at high and at crit, as thermo's alarms are; off at ok and at low. */
                fputs(",\"value_template\":\"{{ 'ON' if value in ('high', 'crit') else 'OFF' }}\""
                      ",\"device_class\":\"heat\"", f);
        } else {
                json_write_string(f, s->name);
                topic_reading(topic, d->prefix, d->host, s->name);
                fputs(",\"state_topic\":", f);
                json_write_string(f, topic);
                if (d->format == PAYLOAD_JSON)
                        fputs(",\"value_template\":\"{{ value_json.celsius }}\"", f);
                fputs(",\"device_class\":\"temperature\",\"unit_of_measurement\":\"°C\",\"state_class\":\"measurement\""
                      ",\"suggested_display_precision\":1", f);
                if (d->expire_after_s > 0)
                        fprintf(f, ",\"expire_after\":%" PRIu64, d->expire_after_s);
        }
        /* Available while thermo-mqtt, the host's server and the sensor all are. */
        topic_status(topic, d->prefix, d->host, NULL);
        fputs(",\"availability\":[{\"topic\":", f);
        json_write_string(f, topic);
        topic_status(topic, d->prefix, d->host, s->name);
        fputs("},{\"topic\":", f);
        json_write_string(f, topic);
        fputs("}],\"availability_mode\":\"all\"}", f);
}

int device_config(FILE *f, const Device *d) {
        assert(f);
        assert(d);
        assert(d->sensors || d->n_sensors == 0);
        assert(d->removals || d->n_removals == 0);

        /* Ids stay the same across restarts: they are made of the host's and the sensors' names alone. */
        fputs("{\"dev\":{\"identifiers\":[\"thermo_", f);
        write_id(f, d->host);
        fputs("\"],\"name\":", f);
        json_write_string(f, d->host);
        fputs(",\"manufacturer\":\"thermo\",\"model\":", f);
        json_write_string(f, d->server ?: "thermo-server");
        if (d->version) {
                fputs(",\"sw_version\":", f);
                json_write_string(f, d->version);
        }
        fputs("},\"o\":{\"name\":\"thermo-mqtt\",\"sw\":\"" PROJECT_VERSION "\"", f);
        if (d->url) {
                fputs(",\"url\":", f);
                json_write_string(f, d->url);
        }
        fputs("},\"cmps\":{", f);
        for (size_t i = 0; i < d->n_sensors; i++) {
                if (i > 0)
                        fputc(',', f);
                write_component(f, d, &d->sensors[i], false);
                if (d->sensors[i].heat) {
                        fputc(',', f);
                        write_component(f, d, &d->sensors[i], true);
                }
        }
        for (size_t i = 0; i < d->n_removals; i++) {
                if (i > 0 || d->n_sensors > 0)
                        fputc(',', f);
                write_component_key(f, d->removals[i].name, d->removals[i].heat);
                fputc('}', f);
        }
        fputs("}}", f);
        return ferror(f) ? -EIO : 0;
}
