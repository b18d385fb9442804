/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "topics.h"

/* A thermo server to bridge, as a SERVER argument gives it: [NAME=]HOST[:PORT], [NAME=][IPV6]:PORT, or
 * [NAME=]/path of a Unix socket. */
typedef struct ServerSpec {
        char *name;             /* NAME=, or NULL: the host= of its HELLO */
        char *host;             /* with port; or */
        char *port;
        char *unix_path;
        char *text;             /* as given, for messages */
} ServerSpec;

typedef struct MqttOptions {
        BrokerAddress broker;
        const char *password_file; /* --password-file, or NULL for the credential */
        char *password;         /* from it, or the credential; NULL without */
        const char *cafile;
        const char *topic_prefix;
        const char *discovery_prefix;
        bool discovery;
        bool remove;            /* --remove: clear what was published of the hosts, and exit */
        PayloadFormat payload;
        int qos;
        uint64_t timeout;       /* usec */
        unsigned keepalive;     /* seconds */
        int64_t min_change;     /* millidegrees a reading must differ from the last published by; 0: publish all */
        uint64_t heartbeat;     /* usec: publish a sensor's reading at least this often anyway; 0: no such */
        uint64_t expire_after;  /* usec, whole seconds: Home Assistant's expire_after, readings not retained; 0:
                                 * none, readings retained */
        ServerSpec *servers;
        size_t n_servers;
} MqttOptions;

/* Returns 1 to run, 0 when --help or --version was answered, -EINVAL after printing a usage error. */
int mqtt_options_parse(int argc, char *argv[], MqttOptions *ret);
/* The broker's password, from --password-file or the credential, as now: at the start, and at a reload
 * (a rotated password). NULL where neither is there; -EINVAL said (logged) for one that is no password, or
 * that cannot be read, or that comes without a user. */
int mqtt_password_read(const MqttOptions *o, char **ret);
void mqtt_options_done(MqttOptions *o);

/* One SERVER argument. On -EINVAL, *ret_error says why. */
int server_spec_parse(const char *s, ServerSpec *ret, const char **ret_error);
void server_spec_done(ServerSpec *s);
