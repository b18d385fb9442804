/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "output.h"

typedef struct ClientOptions {
        char *host;             /* NULL with --unix */
        char *port;
        const char *unix_path;
        uint64_t count;         /* readings before we stop, 0 for no end */
        bool once;
        OutputFormat format;
        Unit unit;
        uint64_t timeout;       /* usec */
        bool retry;
        bool plot;
        bool legend;            /* the CSV and --list header */
        const char **sensors;   /* --sensor, in the order given; none: the server's default sensor */
        size_t n_sensors;
        bool all;               /* every sensor */
        bool list;              /* list the server's sensors */
        bool alarms;            /* show each change of a sensor's level */
        uint64_t since;         /* usec: the server's held readings of this span first (the plot: all it holds) */
} ClientOptions;

/* Whether readings name their sensor: some were asked for by name. */
static inline bool client_options_named(const ClientOptions *o) {
        return o->all || o->n_sensors > 0;
}

/* Returns 1 to run, 0 when --help or --version was answered, -EINVAL after printing a usage error. */
int client_options_parse(int argc, char *argv[], ClientOptions *ret);
void client_options_done(ClientOptions *o);
