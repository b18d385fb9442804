/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address.h"
#include "calibration.h"
#include "limit-option.h"

/* An address to listen on when not socket-activated, and the front end that serves it. */
typedef struct ListenAddress {
        SocketAddress address;
        const char *front_end;  /* its name; NULL for the default front end */
} ListenAddress;

/* The options both servers take; thermo-server(8) documents each. Parsing only parses: what they name is
 * built after (server-main.c). */
typedef struct ServerOptions {
        ListenAddress *listen;  /* --listen, in the order given */
        size_t n_listen;
        const char *default_listen; /* when neither --listen nor systemd gives a socket */
        const char **sensors;   /* --sensor, in the order given: "[NAME=]SPEC" */
        size_t n_sensors;
        LimitOverride *limits;  /* --limit */
        size_t n_limits;
        CalibrationOption *calibrations; /* --calibrate */
        size_t n_calibrations;
        bool list_sensors;
        bool list_json;         /* --output=json, for --list-sensors */
        bool legend;            /* not --no-legend */
        uint64_t interval;      /* usec */
        uint64_t history;       /* usec: the span of ticks held, 0 none */
        uint64_t max_clients;
        uint64_t max_clients_per_address; /* from one IP address */
        uint64_t buffer_size;   /* bytes */
        uint64_t exit_idle;     /* usec, 0 never */
        uint64_t idle_timeout;  /* usec: a client that neither asks nor streams is closed after it */
        const char *http_cors_origin; /* the Access-Control-Allow-Origin of the API, or NULL for none */
} ServerOptions;

/* Returns 1 to run, 0 when --help or --version was answered, -EINVAL after printing a usage error. */
int server_options_parse(int argc, char *argv[], const char *default_listen, ServerOptions *ret);
void server_options_done(ServerOptions *o);
