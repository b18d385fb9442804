/* SPDX-License-Identifier: MIT */
#pragma once

#include "manager.h"

/* The HTTP front end for Prometheus: GET and HEAD /metrics, in the text format or OpenMetrics (see
 * metrics.c). It serves the sockets named "metrics" (FileDescriptorName=metrics, --listen-metrics). */
int metrics_front_end_new(Manager *m, const char *server_name, FrontEnd **ret);
