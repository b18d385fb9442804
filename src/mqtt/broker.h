/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the MQTT broker is, as --broker gives it: mqtt://[USER@]HOST[:PORT], mqtts:// for TLS. */
typedef struct BrokerAddress {
        char *host;
        uint16_t port;          /* 1883, or 8883 for mqtts:// */
        char *user;             /* NULL without */
        bool tls;
} BrokerAddress;

#define BROKER_DEFAULT "mqtt://localhost"
/* The credential systemd passes the password as (LoadCredential=), and thermo-mqtt looks for. */
#define BROKER_PASSWORD_CREDENTIAL "mqtt-password"
#define BROKER_PASSWORD_MAX 1024

/* On -EINVAL, *ret_error says why, for the usage message. */
int broker_address_parse(const char *url, BrokerAddress *ret, const char **ret_error);
void broker_address_done(BrokerAddress *a);
/* "mqtt://host:1883", "mqtts://[v6]:8883": for messages, without the user. */
void broker_address_format(const BrokerAddress *a, char *buf, size_t size);

/* The broker's password from path, or else from the credential systemd passed in $CREDENTIALS_DIRECTORY:
 * one line, its newline not part of it. *ret is NULL where neither is given. -EINVAL for a password that is
 * empty, too long, or holds a NUL or a second line. */
int broker_password_read(const char *path, char **ret);
