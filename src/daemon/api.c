/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>

#include "api.h"
#include "json.h"

static void write_celsius(FILE *f, const Reading *r) {
        char value[32];

        if (r->error < 0) {
                fputs("null", f);
                return;
        }
        /* Three decimals, as the protocol's lines: a JSON number as it is. */
        format_millidegrees(value, sizeof(value), r->millicelsius);
        fputs(value, f);
}

static void write_limit(FILE *f, const char *key, bool has, int64_t milli) {
        char buf[32];

        fprintf(f, "\"%s\":%s", key, format_limit(buf, has, milli, "null"));
}

static int done(FILE *f) {
        return ferror(f) ? -EIO : 0;
}

int api_write_sensors(FILE *f, const ApiServer *server, const ApiSensor *sensors, size_t n, const Reading *readings) {
        assert(f);
        assert(server);
        assert(sensors || n == 0);

        fputs("{\"host\":", f);
        json_write_string(f, server->host);
        fputs(",\"server\":", f);
        json_write_string(f, server->server);
        fputs(",\"version\":", f);
        json_write_string(f, server->version);
        fputs(",\"run\":", f);
        json_write_string(f, server->run);
        fprintf(f, ",\"interval_ms\":%" PRIu64 ",\"history_ms\":%" PRIu64 ",\"sensors\":[", server->interval_ms,
                        server->history_ms);
        for (size_t i = 0; i < n; i++) {
                const ApiSensor *s = &sensors[i];
                const Reading *r = readings ? &readings[i] : NULL;

                fputs(i > 0 ? ",{\"name\":" : "{\"name\":", f);
                json_write_string(f, s->name);
                fputs(",\"label\":", f);
                if (s->label)
                        json_write_string(f, s->label);
                else
                        fputs("null", f);
                fputs(",\"source\":", f);
                json_write_string(f, s->source);
                fputs(",\"reading\":", f);
                if (r) {
                        fprintf(f, "{\"seq\":%" PRIu64 ",\"time_ms\":%" PRIu64 ",\"celsius\":", r->seq, r->time_ms);
                        write_celsius(f, r);
                        fputc('}', f);
                } else
                        fputs("null", f);
                fprintf(f, ",\"level\":\"%s\",\"limits\":{", level_to_string(r ? r->level : LEVEL_OK));
                write_limit(f, "low", s->limits->has_low, s->limits->low);
                fputc(',', f);
                write_limit(f, "high", s->limits->has_high, s->limits->high);
                fputc(',', f);
                write_limit(f, "crit", s->limits->has_crit, s->limits->crit);
                fputs("}}", f);
        }
        fputs("]}\n", f);
        return done(f);
}

/* A reading as the history and the events give it: {"sensor":..,"seq":..,"time_ms":..,"celsius":.. and
 * the closing brace left to the caller. */
static void write_reading_fields(FILE *f, const char *name, const Reading *r, bool has_seq) {
        fputs("{\"sensor\":", f);
        json_write_string(f, name);
        if (has_seq)
                fprintf(f, ",\"seq\":%" PRIu64, r->seq);
        else
                fputs(",\"seq\":null", f);
        fprintf(f, ",\"time_ms\":%" PRIu64 ",\"celsius\":", r->time_ms);
        write_celsius(f, r);
}

static void write_reading(FILE *f, const char *name, const Reading *r) {
        write_reading_fields(f, name, r, true);
        fputc('}', f);
}

int api_write_history(FILE *f, const History *h, const ApiSensor *sensors, size_t n, int sensor, uint64_t after) {
        uint64_t oldest = 0, newest = 0, seq;
        bool first = true;

        assert(f);
        assert(sensors || n == 0);
        assert(sensor < (int) n);

        if (h)
                history_bounds(h, &oldest, &newest);
        fprintf(f, "{\"oldest_seq\":%" PRIu64 ",\"newest_seq\":%" PRIu64 ",\"readings\":[", oldest, newest);
        for (uint64_t at = after; h && history_find_after(h, at, &seq); at = seq)
                for (size_t i = sensor >= 0 ? (size_t) sensor : 0; i < (sensor >= 0 ? (size_t) sensor + 1 : n); i++) {
                        Reading r;

                        if (history_reading(h, seq, i, &r) < 0)
                                continue;
                        if (!first)
                                fputc(',', f);
                        first = false;
                        write_reading(f, sensors[i].name, &r);
                }
        fputs("]}\n", f);
        return done(f);
}

int api_write_tick_event(FILE *f, uint64_t seq, const Reading *readings, size_t n) {
        bool any = false;

        assert(f);
        assert(readings || n == 0);

        for (size_t i = 0; i < n; i++)
                any = any || readings[i].error == 0;
        /* A tick without a single reading has no seq of its own (thermo-protocol(7)), nor an id: a
         * reconnect goes on after the tick before it. */
        if (any)
                fprintf(f, "id: %" PRIu64 "\ndata: {\"seq\":%" PRIu64 ",\"readings\":[", seq, seq);
        else
                fputs("data: {\"seq\":null,\"readings\":[", f);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        fputc(',', f);
                write_reading_fields(f, readings[i].sensor, &readings[i], any);
                fputc('}', f);
        }
        fputs("]}\n\n", f);
        return done(f);
}

int api_write_held_tick_event(FILE *f, const History *h, uint64_t seq, const ApiSensor *sensors, size_t n) {
        bool first = true;

        assert(f);
        assert(h);
        assert(sensors || n == 0);

        fprintf(f, "id: %" PRIu64 "\ndata: {\"seq\":%" PRIu64 ",\"readings\":[", seq, seq);
        for (size_t i = 0; i < n; i++) {
                Reading r;

                if (history_reading(h, seq, i, &r) < 0)
                        continue;
                if (!first)
                        fputc(',', f);
                first = false;
                write_reading(f, sensors[i].name, &r);
        }
        fputs("]}\n\n", f);
        return done(f);
}

int api_write_alarm_events(FILE *f, const Reading *readings, size_t n) {
        assert(f);
        assert(readings || n == 0);

        for (size_t i = 0; i < n; i++) {
                const Reading *r = &readings[i];

                if (!r->alarm)
                        continue;
                fputs("event: alarm\ndata: ", f);
                write_reading_fields(f, r->sensor, r, true);
                fprintf(f, ",\"level\":\"%s\"}\n\n", level_to_string(r->level));
        }
        return done(f);
}

int api_write_error(FILE *f, const char *text) {
        assert(f);
        assert(text);

        fputs("{\"error\":", f);
        json_write_string(f, text);
        fputs("}\n", f);
        return done(f);
}
