/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <langinfo.h>
#include <string.h>
#include <time.h>

#include "plot.h"
#include "terminal.h"

#define PLOT_HISTORY 1024  /* ticks kept: more than any terminal is wide */
#define AXIS_WIDTH 10      /* "-123.456 ┤" */

/* One sensor's line, and what the top line says of it. */
typedef struct Series {
        char *name;             /* NULL: the one unnamed series */
        uint64_t n;             /* readings so far, for the average */
        __int128 sum;           /* in the chosen unit, thousandths: of many readings, past 64 bits */
        int64_t min, max, last; /* in the chosen unit, thousandths */
        Limits limits;          /* in the chosen unit, thousandths; hysteresis unused */
} Series;

/* One column: a tick, and what each series read at it. */
typedef struct Column {
        uint64_t seq;
        uint64_t time_ms;
} Column;

struct Plot {
        FILE *f;
        char *title;
        Unit unit;
        bool utf8;
        bool color;

        Series *series;
        size_t n_series;

        Column columns[PLOT_HISTORY]; /* a ring: the newest at (next - 1) */
        size_t next, count;
        int64_t *values;        /* PLOT_HISTORY × n_series */
        bool *have;             /* the same: a value is there */
};

static Plot *plot_free_series(Plot *p) {
        for (size_t i = 0; i < p->n_series; i++)
                free(p->series[i].name);
        free(p->series);
        free(p->values);
        free(p->have);
        free(p->title);
        free(p);
        return NULL;
}

int plot_new(FILE *f, const char *title, Unit unit, const char *const *names, size_t n_names, Plot **ret) {
        size_t n = MAX(n_names, (size_t) 1);
        Plot *p;

        assert(f);
        assert(title);
        assert(names || n_names == 0);
        assert(ret);

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->title = strdup(title);
        p->series = calloc(n, sizeof(Series));
        p->values = calloc(PLOT_HISTORY * n, sizeof(int64_t));
        p->have = calloc(PLOT_HISTORY * n, sizeof(bool));
        if (!p->title || !p->series || !p->values || !p->have)
                return plot_free_series(p), -ENOMEM;
        p->n_series = n;
        for (size_t i = 0; i < n_names; i++) {
                p->series[i].name = strdup(names[i]);
                if (!p->series[i].name)
                        return plot_free_series(p), -ENOMEM;
        }
        p->f = f;
        p->unit = unit;
        p->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
        p->color = terminal_colors(fileno(f));

        /* The alternate screen, without a cursor: what was on the terminal comes back at the end. */
        fputs("\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J", f);
        plot_redraw(p);
        *ret = p;
        return 0;
}

Plot *plot_free(Plot *p) {
        if (!p)
                return NULL;
        fputs("\x1b[?25h\x1b[?1049l", p->f);
        fflush(p->f);
        return plot_free_series(p);
}

/* The slot of the i-th newest column. */
static size_t slot(const Plot *p, size_t i) {
        return (p->next + PLOT_HISTORY - 1 - i) % PLOT_HISTORY;
}

static bool value_at(const Plot *p, size_t age, size_t series, int64_t *ret) {
        size_t k = slot(p, age) * p->n_series + series;

        if (!p->have[k])
                return false;
        *ret = p->values[k];
        return true;
}

static void format_clock(char *buf, size_t size, uint64_t time_ms) {
        time_t sec = (time_t) (time_ms / 1000);
        struct tm tm;

        strftime(buf, size, "%H:%M:%S", localtime_r(&sec, &tm));
}

/* Columns a UTF-8 string takes: every byte but continuation bytes starts a character. */
static size_t display_width(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                n += ((unsigned char) *s & 0xc0) != 0x80;
        return n;
}

/* One cell of a column whose top is at height (in eighths of a row) above the bottom of this row. */
static const char *cell(Plot *p, int64_t eighths) {
        static const char *const blocks[] = { " ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
        static const char *const ascii[] = { " ", " ", " ", " ", ".", ".", ":", ":", "#" };

        if (eighths <= 0)
                return " ";
        if (eighths >= 8)
                return p->utf8 ? blocks[8] : ascii[8];
        return p->utf8 ? blocks[eighths] : ascii[eighths];
}

/* Each series of several its colour, and its mark where colour is off or runs out. */
static const char *series_color(size_t i) {
        static const char *const colors[] = { "\x1b[33m", "\x1b[36m", "\x1b[35m", "\x1b[32m", "\x1b[31m", "\x1b[34m" };
        return colors[i % ELEMENTSOF(colors)];
}

static const char *series_mark(const Plot *p, size_t i) {
        static const char *const marks[] = { "●", "▲", "■", "◆", "✚", "✱" };
        static const char *const ascii[] = { "*", "+", "o", "x", "#", "@" };
        return p->utf8 ? marks[i % ELEMENTSOF(marks)] : ascii[i % ELEMENTSOF(ascii)];
}

/* The limits a line is drawn for, lowest first, each in a colour of its own for one series. */
static const struct {
        const char *word, *color;
} limit_kinds[] = {
        { "low", "\x1b[34m" },
        { "high", "\x1b[33m" },
        { "crit", "\x1b[31m" },
};

static bool limit_of(const Limits *l, size_t kind, int64_t *ret) {
        bool has = kind == 0 ? l->has_low : kind == 1 ? l->has_high : l->has_crit;

        *ret = kind == 0 ? l->low : kind == 1 ? l->high : l->crit;
        return has;
}

/* A cell of a limit's line; the one series's blocks go on in their colour after it. */
static void draw_limit(Plot *p, const char *color) {
        const char *dash = p->utf8 ? "┄" : "-";

        if (p->color)
                fprintf(p->f, "%s%s\x1b[0m%s", color, dash, p->n_series == 1 ? "\x1b[33m" : "");
        else
                fputs(dash, p->f);
}

/* The top line: for one series its value now, min, max, average and count; for several, each one's mark,
 * name and value now. What fits in the width, in this order. */
static void draw_summary(Plot *p, unsigned columns) {
        char line[4096] = "";
        size_t used = 0, at = 0;

        for (size_t i = 0; i < p->n_series; i++) {
                const Series *s = &p->series[i];
                char parts[8][128], value[32] = "-";
                size_t n_parts;

                if (s->n > 0)
                        format_millidegrees(value, sizeof(value), s->last);
                if (p->n_series == 1) {
                        char lo[32] = "-", hi[32] = "-", avg[32] = "-";

                        if (s->n > 0) {
                                format_millidegrees(lo, sizeof(lo), s->min);
                                format_millidegrees(hi, sizeof(hi), s->max);
                                format_millidegrees(avg, sizeof(avg), (int64_t) (s->sum / s->n));
                        }
                        snprintf(parts[0], sizeof(parts[0]), "now %s %s", value, unit_symbol(p->unit));
                        snprintf(parts[1], sizeof(parts[1]), "   min %s", lo);
                        snprintf(parts[2], sizeof(parts[2]), "   max %s", hi);
                        snprintf(parts[3], sizeof(parts[3]), "   avg %s", avg);
                        n_parts = 4;
                        for (size_t k = 0; k < ELEMENTSOF(limit_kinds); k++) {
                                int64_t v;
                                char limit[32];

                                if (!limit_of(&s->limits, k, &v))
                                        continue;
                                format_millidegrees(limit, sizeof(limit), v);
                                snprintf(parts[n_parts++], sizeof(parts[0]), "   %s %s", limit_kinds[k].word, limit);
                        }
                        snprintf(parts[n_parts++], sizeof(parts[0]), "   (%" PRIu64 " readings)", s->n);
                } else {
                        snprintf(parts[0], sizeof(parts[0]), "%s%s %s %s", i > 0 ? "   " : "", series_mark(p, i), s->name,
                                        value);
                        n_parts = 1;
                }
                for (size_t k = 0; k < n_parts && used + display_width(parts[k]) <= columns; k++) {
                        if (p->color && p->n_series > 1)
                                at += (size_t) snprintf(line + at, sizeof(line) - at, "%s", series_color(i));
                        at += (size_t) snprintf(line + at, sizeof(line) - at, "%s", parts[k]);
                        used += display_width(parts[k]);
                }
        }
        fprintf(p->f, "%s%s%s\x1b[K\r\n", p->color ? "\x1b[1;36m" : "", line, p->color ? "\x1b[0m" : "");
}

/* The range the chart spans: what it shows, with a little room; a flat line sits in the middle. */
static void scale(Plot *p, size_t shown, int64_t *ret_min, int64_t *ret_max) {
        int64_t lo = 0, hi = 0, v;
        bool any = false;

        for (size_t age = 0; age < shown; age++)
                for (size_t i = 0; i < p->n_series; i++)
                        if (value_at(p, age, i, &v)) {
                                lo = any ? MIN(lo, v) : v;
                                hi = any ? MAX(hi, v) : v;
                                any = true;
                        }
        if (hi - lo < 1000) {
                int64_t middle = lo / 2 + hi / 2;
                lo = middle - 500;
                hi = middle + 500;
        }
        *ret_min = lo;
        *ret_max = hi;
}

void plot_redraw(Plot *p) {
        unsigned columns = 80, lines = 24, rows, width;
        char top[32], bottom[32], mid[32];
        int64_t scale_min, scale_max;
        size_t shown;
        FILE *f;

        assert(p);

        f = p->f;
        (void) terminal_size(fileno(f), &columns, &lines);
        if (lines < 6 || columns < AXIS_WIDTH + 10) {
                fputs("\x1b[H\x1b[2JWindow too small for the plot.", f);
                fflush(f);
                return;
        }
        rows = lines - 4;                 /* title, values, chart..., axis, times */
        width = columns - AXIS_WIDTH;
        shown = MIN(p->count, (size_t) width);
        scale(p, shown, &scale_min, &scale_max);

        fputs("\x1b[H", f);
        fprintf(f, "%s%.*s%s\x1b[K\r\n", p->color ? "\x1b[1m" : "", (int) columns, p->title, p->color ? "\x1b[0m" : "");
        draw_summary(p, columns);

        format_millidegrees(top, sizeof(top), scale_max);
        format_millidegrees(mid, sizeof(mid), scale_min / 2 + scale_max / 2);
        format_millidegrees(bottom, sizeof(bottom), scale_min);
        for (unsigned row = 0; row < rows; row++) {
                /* Row 0 is the top; each row is (max - min) / rows degrees tall. */
                const char *label = row == 0 ? top : row == rows - 1 ? bottom : row == rows / 2 ? mid : "";

                char limit_label[32];
                int64_t row_top = scale_max - (scale_max - scale_min) * (int64_t) row / (int64_t) rows,
                        row_bottom = scale_max - (scale_max - scale_min) * (int64_t) (row + 1) / (int64_t) rows;
                const char *line_color = NULL;

                bool labelled = label[0];

                /* A limit in this row (the bottom one takes the chart's bottom too): a dashed line across
                 * it, under the readings, its value on the axis where no other label is; the last of a
                 * row two share wins both, the highest kind of the last series. */
                for (size_t i = 0; i < p->n_series; i++)
                        for (size_t k = 0; k < ELEMENTSOF(limit_kinds); k++) {
                                int64_t v;

                                if (!limit_of(&p->series[i].limits, k, &v) || v > row_top || v < scale_min ||
                                                (v <= row_bottom && row != rows - 1))
                                        continue;
                                line_color = p->n_series == 1 ? limit_kinds[k].color : series_color(i);
                                if (!labelled) {
                                        format_millidegrees(limit_label, sizeof(limit_label), v);
                                        label = limit_label;
                                }
                        }

                fprintf(f, "%*s %s", AXIS_WIDTH - 2, label, p->utf8 ? "┤" : "|");
                if (p->color && p->n_series == 1)
                        fputs("\x1b[33m", f);
                for (unsigned col = 0; col < width; col++) {
                        /* The newest tick at the right edge. */
                        size_t age = width - 1 - col, drawn = SIZE_MAX;
                        const char *block = NULL;
                        int64_t v;

                        for (size_t i = 0; age < shown && i < p->n_series; i++) {
                                int64_t eighths;

                                if (!value_at(p, age, i, &v))
                                        continue;
                                /* Height above the bottom of this row, in eighths of a row. */
                                eighths = ((v - scale_min) * 8 * (int64_t) rows / (scale_max - scale_min)) -
                                                8 * (int64_t) (rows - 1 - row);
                                if (p->n_series == 1)
                                        block = cell(p, MAX(eighths, (int64_t) (row == rows - 1)));
                                else if (eighths > 0 && eighths <= 8)
                                        /* Several: each series a mark in the row its value falls in. */
                                        drawn = i;
                        }
                        if (block && strcmp(block, " ") != 0)
                                fputs(block, f);
                        else if (drawn == SIZE_MAX && line_color)
                                draw_limit(p, line_color);
                        else if (drawn == SIZE_MAX)
                                fputc(' ', f);
                        else if (p->color)
                                fprintf(f, "%s%s\x1b[0m", series_color(drawn), series_mark(p, drawn));
                        else
                                fputs(series_mark(p, drawn), f);
                }
                fputs(p->color ? "\x1b[0m\x1b[K\r\n" : "\x1b[K\r\n", f);
        }

        fprintf(f, "%*s", AXIS_WIDTH - 1, "");
        for (unsigned col = 0; col < width + 1; col++)
                fputs(p->utf8 ? "─" : "-", f);
        fputs("\x1b[K\r\n", f);

        if (shown > 0) {
                char first[16], last[16];

                format_clock(first, sizeof(first), p->columns[slot(p, shown - 1)].time_ms);
                format_clock(last, sizeof(last), p->columns[slot(p, 0)].time_ms);
                fprintf(f, "%*s%-*s%s", AXIS_WIDTH, "", (int) (width > 8 ? width - 8 : 0), first, last);
        }
        fputs("\x1b[K\x1b[J", f);
        fflush(f);
}

static int series_of(const Plot *p, const char *name) {
        if (p->n_series == 1 && !p->series[0].name)
                return 0;
        for (size_t i = 0; name && i < p->n_series; i++)
                if (strcmp(p->series[i].name, name) == 0)
                        return (int) i;
        return -ENOENT;
}

void plot_set_limits(Plot *p, const char *name, bool is_default, const Limits *limits) {
        int i;

        assert(p);
        assert(name);
        assert(limits);

        if (p->n_series == 1 && !p->series[0].name)
                i = is_default ? 0 : -ENOENT;
        else
                i = series_of(p, name);
        if (i < 0)
                return;
        p->series[i].limits = (Limits) {
                .low = unit_convert(p->unit, limits->low),
                .high = unit_convert(p->unit, limits->high),
                .crit = unit_convert(p->unit, limits->crit),
                .has_low = limits->has_low,
                .has_high = limits->has_high,
                .has_crit = limits->has_crit,
        };
        plot_redraw(p);
}

void plot_add(Plot *p, const Reading *r) {
        plot_add_quietly(p, r);
        plot_redraw(p);
}

void plot_add_quietly(Plot *p, const Reading *r) {
        Series *s;
        size_t k;
        int64_t v;
        int i;

        assert(p);
        assert(r);

        i = series_of(p, r->sensor);
        if (i < 0)
                return;
        /* A new tick starts a new column; the readings of one tick share it. */
        if (p->count == 0 || p->columns[slot(p, 0)].seq != r->seq) {
                p->columns[p->next] = (Column) { .seq = r->seq, .time_ms = r->time_ms };
                memset(p->have + p->next * p->n_series, 0, p->n_series * sizeof(bool));
                p->next = (p->next + 1) % PLOT_HISTORY;
                p->count = MIN(p->count + 1, (size_t) PLOT_HISTORY);
        }

        v = unit_convert(p->unit, r->millicelsius);
        k = slot(p, 0) * p->n_series + (size_t) i;
        p->values[k] = v;
        p->have[k] = true;

        s = &p->series[i];
        s->min = s->n == 0 ? v : MIN(s->min, v);
        s->max = s->n == 0 ? v : MAX(s->max, v);
        s->sum += v;
        s->last = v;
        s->n++;
}
