/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <langinfo.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "output.h"

static const char *const format_names[_OUTPUT_MAX] = {
        [OUTPUT_TEXT] = "text",
        [OUTPUT_JSON] = "json",
        [OUTPUT_CSV] = "csv",
};

static const char *const unit_names[_UNIT_MAX] = {
        [UNIT_CELSIUS] = "celsius",
        [UNIT_FAHRENHEIT] = "fahrenheit",
        [UNIT_KELVIN] = "kelvin",
};

static int lookup(const char *const *names, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(names[i], s) == 0)
                        return (int) i;
        return -EINVAL;
}

int output_format_from_string(const char *s) {
        assert(s);

        return lookup(format_names, ELEMENTSOF(format_names), s);
}

int unit_from_string(const char *s) {
        assert(s);

        return lookup(unit_names, ELEMENTSOF(unit_names), s);
}

/* Division that rounds halves away from zero, as a person would. */
static int64_t div_round(int64_t a, int64_t b) {
        return a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b);
}

int64_t unit_convert(Unit unit, int64_t millicelsius) {
        switch (unit) {
        case UNIT_FAHRENHEIT:
                return div_round(millicelsius * 9, 5) + 32000;
        case UNIT_KELVIN:
                return millicelsius + 273150;
        default:
                return millicelsius;
        }
}

const char *unit_symbol(Unit unit) {
        bool utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;

        switch (unit) {
        case UNIT_FAHRENHEIT:
                return utf8 ? "°F" : "F";
        case UNIT_KELVIN:
                return "K";
        default:
                return utf8 ? "°C" : "C";
        }
}

void output_reading(Output *o, const Reading *r) {
        char value[32], celsius[32], when[64];
        const char *name;
        struct tm tm;
        Unit unit;
        FILE *f;
        time_t sec;

        assert(o);
        assert(o->f);
        assert(r);

        f = o->f;
        unit = o->unit;
        name = r->sensor ?: "";
        sec = (time_t) (r->time_ms / 1000);
        format_millidegrees(value, sizeof(value), unit_convert(unit, r->millicelsius));

        switch (o->format) {
        case OUTPUT_TEXT:
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&sec, &tm));
                fprintf(f, "%s.%03u ", when, (unsigned) (r->time_ms % 1000));
                if (o->name_width > 0)
                        fprintf(f, "%-*s ", (int) o->name_width, name);
                if (r->level == LEVEL_HIGH || r->level == LEVEL_CRIT)
                        /* The word says it in a pipe too; colour is for a terminal. */
                        fprintf(f, "%s%s %s %s%s\n", o->colors ? (r->level == LEVEL_CRIT ? "\x1b[1;31m" : "\x1b[1;33m") : "",
                                        value, unit_symbol(unit), level_to_string(r->level), o->colors ? "\x1b[0m" : "");
                else
                        fprintf(f, "%s %s\n", value, unit_symbol(unit));
                break;
        case OUTPUT_JSON:
                /* "celsius" is always there, so that 'jq .celsius' works whatever --units says. */
                format_millidegrees(celsius, sizeof(celsius), r->millicelsius);
                fprintf(f, "{\"seq\":%" PRIu64 ",\"time\":%" PRIu64, r->seq, r->time_ms);
                /* A name is a-z, 0-9, _ . -: nothing to escape. */
                if (r->sensor)
                        fprintf(f, ",\"sensor\":\"%s\"", r->sensor);
                fprintf(f, ",\"celsius\":%s", celsius);
                if (unit != UNIT_CELSIUS)
                        fprintf(f, ",\"%s\":%s", unit_names[unit], value);
                fputs("}\n", f);
                break;
        case OUTPUT_CSV:
                if (!o->header_done) {
                        fprintf(f, "seq,time,%s%s\n", o->named ? "sensor," : "", unit_names[unit]);
                        o->header_done = true;
                }
                if (o->named)
                        fprintf(f, "%" PRIu64 ",%" PRIu64 ",%s,%s\n", r->seq, r->time_ms, name, value);
                else
                        fprintf(f, "%" PRIu64 ",%" PRIu64 ",%s\n", r->seq, r->time_ms, value);
                break;
        default:
                break;
        }
        fflush(f);
}

void output_alarm(Output *o, const Reading *r) {
        char value[32], celsius[32], when[64];
        struct tm tm;
        time_t sec;

        assert(o);
        assert(o->f);
        assert(r);
        assert(r->sensor);

        sec = (time_t) (r->time_ms / 1000);
        format_millidegrees(value, sizeof(value), unit_convert(o->unit, r->millicelsius));
        format_millidegrees(celsius, sizeof(celsius), r->millicelsius);
        switch (o->format) {
        case OUTPUT_TEXT:
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&sec, &tm));
                fprintf(o->f, "%s.%03u %s %s %s %s\n", when, (unsigned) (r->time_ms % 1000), r->sensor,
                                level_to_string(r->level), value, unit_symbol(o->unit));
                break;
        case OUTPUT_JSON:
                fprintf(o->f, "{\"seq\":%" PRIu64 ",\"time\":%" PRIu64 ",\"sensor\":\"%s\",\"level\":\"%s\",\"celsius\":%s",
                                r->seq, r->time_ms, r->sensor, level_to_string(r->level), celsius);
                if (o->unit != UNIT_CELSIUS)
                        fprintf(o->f, ",\"%s\":%s", unit_names[o->unit], value);
                fputs("}\n", o->f);
                break;
        case OUTPUT_CSV:
                if (!o->header_done) {
                        fprintf(o->f, "seq,time,sensor,level,%s\n", unit_names[o->unit]);
                        o->header_done = true;
                }
                fprintf(o->f, "%" PRIu64 ",%" PRIu64 ",%s,%s,%s\n", r->seq, r->time_ms, r->sensor, level_to_string(r->level),
                                value);
                break;
        default:
                break;
        }
        fflush(o->f);
}
