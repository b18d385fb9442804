/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>

#include "macro.h"
#include "output.h"

/* thermo-client --plot: a live chart of the stream, sized to the terminal and redrawn in place, with a time
 * axis: for one sensor a block chart, with its current, minimum, maximum and average values; for several,
 * each one's line in marks of its colour, with their current values. */
typedef struct Plot Plot;

/* Takes over the terminal on f (alternate screen, no cursor) until plot_free(). Each name is a series of
 * its own, drawn in its colour with a legend; with none, one series, of readings that name no sensor. */
int plot_new(FILE *f, const char *title, Unit unit, const char *const *names, size_t n_names, Plot **ret);
/* Gives the terminal back as it was. */
Plot *plot_free(Plot *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Plot *, plot_free);

void plot_add(Plot *p, const Reading *r);
/* The same, without drawing: for many at once (the history), plot_redraw() after them. */
void plot_add_quietly(Plot *p, const Reading *r);
/* A sensor's limits, drawn as lines across the chart where they fall in it, and said on the top line
 * for one sensor. The unnamed series takes the default sensor's (is_default: LIMITS's first). */
void plot_set_limits(Plot *p, const char *name, bool is_default, const Limits *limits);
/* The window changed size: draw again to fit. */
void plot_redraw(Plot *p);
