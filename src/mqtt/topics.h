/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "reading.h"

/* What thermo-mqtt publishes, as text: topics, payloads and Home Assistant's discovery configs. No I/O. */

typedef enum PayloadFormat {
        PAYLOAD_VALUE,          /* "21.375" */
        PAYLOAD_JSON,           /* {"seq":..,"time":..,"sensor":..,"celsius":..}, as thermo-client -o json */
} PayloadFormat;

#define TOPIC_MAX 512
#define TOPIC_PREFIX_MAX 128

/* Whether s is a topic prefix we take: levels of [A-Za-z0-9._-] joined by '/', none empty, at most
 * TOPIC_PREFIX_MAX. Such a prefix holds no wildcard, and nothing JSON needs to escape. */
bool topic_prefix_is_valid(const char *s);
/* Whether s is a host's name we take (NAME= of a server): 1 to 64 of [A-Za-z0-9._-], as HELLO's host=. */
bool topic_host_is_valid(const char *s);

/* "<prefix>/<host>/<sensor>" where a reading goes; "<prefix>/<host>/status" and
 * "<prefix>/<host>/<sensor>/status" for availability, online or offline. sensor NULL for the host's. */
void topic_reading(char buf[static TOPIC_MAX], const char *prefix, const char *host, const char *sensor);
void topic_status(char buf[static TOPIC_MAX], const char *prefix, const char *host, const char *sensor);
/* "<prefix>/<host>/<sensor>/level": ok, low, high or crit (thermo-protocol(7)'s levels). */
void topic_level(char buf[static TOPIC_MAX], const char *prefix, const char *host, const char *sensor);

/* A reading's payload; returns its length. */
size_t payload_reading(char *buf, size_t size, PayloadFormat format, const Reading *r);

typedef enum DiscoveryKind {
        DISCOVERY_TEMPERATURE,  /* a sensor, of its readings */
        DISCOVERY_HEAT,         /* a binary sensor, on at high or crit, of its level */
} DiscoveryKind;

typedef struct Discovery {
        DiscoveryKind kind;
        const char *discovery_prefix;   /* homeassistant */
        const char *prefix;             /* --topic-prefix */
        const char *host;
        const char *sensor;
        const char *server;             /* the thermo server's program and version, from HELLO */
        const char *version;
        PayloadFormat format;
} Discovery;

/* "<discovery>/sensor/thermo_<host>/<sensor>/config" ("binary_sensor" for heat), '.' made '_' as Home
 * Assistant's ids want. */
void discovery_topic(char buf[static TOPIC_MAX], const Discovery *d);
/* The retained config that makes the sensor (or its heat) appear in Home Assistant, as one JSON object. */
int discovery_config(FILE *f, const Discovery *d);
