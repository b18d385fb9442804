/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "protocol.h"
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

/* A sensor of a host, as Home Assistant's device config lists it. */
typedef struct DeviceSensor {
        const char *name;
        bool heat;              /* it has a high or a crit limit: its heat too, a binary sensor of its level */
} DeviceSensor;

/* A component Home Assistant is to remove from the device (a sensor gone, a heat whose limits went): listed
 * with its platform alone, in the configs until it is gone. */
typedef struct DeviceRemoval {
        const char *name;
        bool heat;              /* the sensor's heat, else the sensor */
} DeviceRemoval;

/* One host, one device in Home Assistant, one retained config of all its sensors (device-based discovery,
 * Home Assistant 2024.11 and later). */
typedef struct Device {
        const char *discovery_prefix;   /* homeassistant */
        const char *prefix;             /* --topic-prefix */
        const char *host;
        const char *server;             /* the thermo server's program and version, from HELLO; may be NULL */
        const char *version;
        const char *url;                /* where thermo-mqtt comes from, for the origin; NULL for none */
        PayloadFormat format;
        uint64_t expire_after_s;        /* Home Assistant's expire_after of the temperatures; 0 for none */
        const DeviceSensor *sensors;
        size_t n_sensors;
        const DeviceRemoval *removals;
        size_t n_removals;
} Device;

/* A sensor's component's key in the device config: its id (its name, '.' made '_', as the object id of
 * thermo-mqtt 0.2.0's topic for it), "_heat" after for its heat. */
#define COMPONENT_KEY_MAX (PROTOCOL_NAME_MAX + sizeof("_heat"))
void component_key(char buf[static COMPONENT_KEY_MAX], const char *sensor, bool heat);

/* "<discovery>/device/thermo_<host>/config", '.' made '_' as Home Assistant's ids want. */
void device_topic(char buf[static TOPIC_MAX], const char *discovery_prefix, const char *host);
/* The device's config, one JSON object: the device ("dev"), the origin ("o": thermo-mqtt, its version and
 * url) and a component ("cmps") for each sensor, a temperature sensor, and for one with heat a binary
 * sensor of its level, keyed by the object id of thermo-mqtt 0.2.0's topic for it (the sensor's id, "_heat"
 * after for its heat), as Home Assistant's migration has it; each with its unique_id (as 0.2.0 gave it:
 * the entity and its history go over by it), its default_entity_id, and the availability of the host and
 * of the sensor. Then each removal, as {"p":..} alone. */
int device_config(FILE *f, const Device *d);

/* The single-component configs of thermo-mqtt 0.2.0, to migrate from: "<discovery>/sensor/thermo_<host>/+/
 * config" (heat false) and "<discovery>/binary_sensor/thermo_<host>/+/config" (heat true), as patterns to
 * subscribe to; and the payload that hands such a config over to the device's. */
void legacy_discovery_pattern(char buf[static TOPIC_MAX], const char *discovery_prefix, const char *host, bool heat);
#define LEGACY_MIGRATE_PAYLOAD "{\"migrate_discovery\":true}"
/* "<discovery>/status", where Home Assistant says "online" when it (re)starts: discovery is sent again. */
void discovery_status_topic(char buf[static TOPIC_MAX], const char *discovery_prefix);
