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

int api_write_sensors(FILE *f, const ApiSensor *sensors, size_t n, const Reading *readings) {
        assert(f);
        assert(sensors || n == 0);

        fputs("{\"sensors\":[", f);
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
                        fputs(first ? "{\"sensor\":" : ",{\"sensor\":", f);
                        first = false;
                        json_write_string(f, sensors[i].name);
                        fprintf(f, ",\"seq\":%" PRIu64 ",\"time_ms\":%" PRIu64 ",\"celsius\":", r.seq, r.time_ms);
                        write_celsius(f, &r);
                        fputc('}', f);
                }
        fputs("]}\n", f);
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
