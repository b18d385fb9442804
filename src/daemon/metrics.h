/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "level.h"
#include "reading.h"

/* What a scrape shows: the Prometheus text exposition format 0.0.4, or OpenMetrics 1.0. No I/O here. */
typedef enum MetricsFormat {
        METRICS_TEXT,
        METRICS_OPENMETRICS,
} MetricsFormat;

#define METRICS_TEXT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_OPENMETRICS_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* What a scrape says of a sensor beyond its reading. */
typedef struct MetricsSensor {
        const char *chip;               /* may be NULL, as may label */
        const char *label;
        const char *source;
        const Limits *limits;
        const uint64_t *level_changes;  /* into each level (indexed by Level), since the start; may be NULL */
} MetricsSensor;

typedef struct MetricsInfo {
        const char *version;
        const char *server;
        const Reading *readings;        /* one per sensor */
        const MetricsSensor *sensors;   /* one per sensor, or NULL: then no limits, levels nor info */
        size_t n_readings;
        uint64_t readings_total;
        uint64_t skipped_total;
        uint64_t clients;
} MetricsInfo;

/* OpenMetrics where an Accept header asks for it, the text format otherwise (no header included). */
MetricsFormat metrics_format_from_accept(const char *accept);

/* Writes every metric family, with HELP and TYPE, to f. */
int metrics_write(FILE *f, MetricsFormat format, const MetricsInfo *info);
