/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>

#include "macro.h"
#include "output.h"

/* thermo-client --plot: a live block chart of the stream, sized to the terminal and redrawn in place, with
 * the current, minimum, maximum and average values and a time axis. */
typedef struct Plot Plot;

/* Takes over the terminal on f (alternate screen, no cursor) until plot_free(). */
int plot_new(FILE *f, const char *title, Unit unit, Plot **ret);
/* Gives the terminal back as it was. */
Plot *plot_free(Plot *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Plot *, plot_free);

void plot_add(Plot *p, const Reading *r);
/* The window changed size: draw again to fit. */
void plot_redraw(Plot *p);
