/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <langinfo.h>
#include <string.h>
#include <time.h>

#include "plot.h"
#include "terminal.h"

#define PLOT_HISTORY 1024  /* readings kept: more than any terminal is wide */
#define AXIS_WIDTH 10      /* "-123.456 ┤" */

struct Plot {
        FILE *f;
        char *title;
        Unit unit;
        bool utf8;
        bool color;

        Reading history[PLOT_HISTORY]; /* a ring: the newest at (next - 1) */
        size_t next, count;

        uint64_t n;                    /* all readings so far, for the average */
        int64_t sum, min, max;         /* in the chosen unit, thousandths */
};

int plot_new(FILE *f, const char *title, Unit unit, Plot **ret) {
        Plot *p;

        assert(f);
        assert(title);
        assert(ret);

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->title = strdup(title);
        if (!p->title) {
                free(p);
                return -ENOMEM;
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
        free(p->title);
        free(p);
        return NULL;
}

static const Reading *nth_newest(Plot *p, size_t i) {
        return &p->history[(p->next + PLOT_HISTORY - 1 - i) % PLOT_HISTORY];
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

void plot_redraw(Plot *p) {
        unsigned columns = 80, lines = 24, rows, width;
        char now[32] = "-", lo[32] = "-", hi[32] = "-", avg[32] = "-", top[32], bottom[32], mid[32];
        int64_t scale_min = 0, scale_max = 0;
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

        /* The chart spans what it shows, with a little room; a flat line sits in the middle. */
        for (size_t i = 0; i < shown; i++) {
                int64_t v = unit_convert(p->unit, nth_newest(p, i)->millicelsius);
                scale_min = i == 0 ? v : MIN(scale_min, v);
                scale_max = i == 0 ? v : MAX(scale_max, v);
        }
        if (scale_max - scale_min < 1000) {
                int64_t middle = (scale_max + scale_min) / 2;
                scale_min = middle - 500;
                scale_max = middle + 500;
        }

        if (p->n > 0) {
                format_millidegrees(now, sizeof(now), unit_convert(p->unit, nth_newest(p, 0)->millicelsius));
                format_millidegrees(lo, sizeof(lo), p->min);
                format_millidegrees(hi, sizeof(hi), p->max);
                format_millidegrees(avg, sizeof(avg), p->sum / (int64_t) p->n);
        }

        fputs("\x1b[H", f);
        fprintf(f, "%s%.*s%s\x1b[K\r\n", p->color ? "\x1b[1m" : "", (int) columns, p->title, p->color ? "\x1b[0m" : "");
        {
                char parts[5][64], line[512] = "";
                size_t used = 0;

                snprintf(parts[0], sizeof(parts[0]), "now %s %s", now, unit_symbol(p->unit));
                snprintf(parts[1], sizeof(parts[1]), "   min %s", lo);
                snprintf(parts[2], sizeof(parts[2]), "   max %s", hi);
                snprintf(parts[3], sizeof(parts[3]), "   avg %s", avg);
                snprintf(parts[4], sizeof(parts[4]), "   (%" PRIu64 " readings)", p->n);
                /* What fits in the width, in this order: a narrow window loses the count first. */
                for (size_t i = 0; i < ELEMENTSOF(parts) && used + display_width(parts[i]) <= columns; i++) {
                        strcat(line, parts[i]);
                        used += display_width(parts[i]);
                }
                fprintf(f, "%s%s%s\x1b[K\r\n", p->color ? "\x1b[1;36m" : "", line, p->color ? "\x1b[0m" : "");
        }

        format_millidegrees(top, sizeof(top), scale_max);
        format_millidegrees(mid, sizeof(mid), (scale_max + scale_min) / 2);
        format_millidegrees(bottom, sizeof(bottom), scale_min);
        for (unsigned row = 0; row < rows; row++) {
                /* Row 0 is the top; each row is (max - min) / rows degrees tall. */
                const char *label = row == 0 ? top : row == rows - 1 ? bottom : row == rows / 2 ? mid : "";

                fprintf(f, "%*s %s", AXIS_WIDTH - 2, label, p->utf8 ? "┤" : "|");
                if (p->color)
                        fputs("\x1b[33m", f);
                for (unsigned col = 0; col < width; col++) {
                        /* The newest reading at the right edge. */
                        size_t age = width - 1 - col;
                        int64_t v, eighths;

                        if (age >= shown) {
                                fputc(' ', f);
                                continue;
                        }
                        v = unit_convert(p->unit, nth_newest(p, age)->millicelsius);
                        /* Height of this column above the bottom of this row, in eighths of a row. */
                        eighths = ((v - scale_min) * 8 * rows / (scale_max - scale_min)) - 8 * (rows - 1 - row);
                        fputs(cell(p, MAX(eighths, (int64_t) (row == rows - 1))), f);
                }
                fputs(p->color ? "\x1b[0m\x1b[K\r\n" : "\x1b[K\r\n", f);
        }

        fprintf(f, "%*s", AXIS_WIDTH - 1, "");
        for (unsigned col = 0; col < width + 1; col++)
                fputs(p->utf8 ? "─" : "-", f);
        fputs("\x1b[K\r\n", f);

        if (shown > 0) {
                char first[16], last[16];

                format_clock(first, sizeof(first), nth_newest(p, shown - 1)->time_ms);
                format_clock(last, sizeof(last), nth_newest(p, 0)->time_ms);
                fprintf(f, "%*s%-*s%s", AXIS_WIDTH, "", (int) (width > 8 ? width - 8 : 0), first, last);
        }
        fputs("\x1b[K\x1b[J", f);
        fflush(f);
}

void plot_add(Plot *p, const Reading *r) {
        int64_t v;

        assert(p);
        assert(r);

        v = unit_convert(p->unit, r->millicelsius);
        p->history[p->next] = *r;
        p->next = (p->next + 1) % PLOT_HISTORY;
        p->count = MIN(p->count + 1, (size_t) PLOT_HISTORY);

        p->min = p->n == 0 ? v : MIN(p->min, v);
        p->max = p->n == 0 ? v : MAX(p->max, v);
        p->sum += v;
        p->n++;
        plot_redraw(p);
}
