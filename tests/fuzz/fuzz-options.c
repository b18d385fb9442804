/* SPDX-License-Identifier: MIT */
/* What a command line or a unit file gives the programs' option parsers: time spans, sizes, numbers,
 * socket addresses, a server's destination, a broker's URL, a sensor's [NAME=]SPEC, and text from the
 * network on its way to a terminal. The first byte picks the parser; the rest is the string. Whatever it
 * is, no crash, and what a parser takes it gives back the same way. */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "broker.h"
#include "fuzz.h"
#include "log.h"
#include "parse.h"
#include "sensor-list.h"
#include "server-link.h"
#include "text.h"

static void timespan(const char *s) {
        char buf[128];
        uint64_t v, again;

        if (parse_timespan(s, &v) < 0)
                return;
        /* Written as systemd writes it, it reads as the same span. */
        if (parse_timespan(format_timespan(buf, sizeof(buf), v), &again) < 0 || again != v)
                abort();
        (void) format_timespan_ms(buf, sizeof(buf), v);
}

static void number(const char *s) {
        uint64_t v, size;

        if (parse_uint64(s, 0, UINT64_MAX, &v) == 0) {
                char buf[32];

                /* Digits only, and what they say. */
                snprintf(buf, sizeof(buf), "%" PRIu64, v);
                if (strspn(s, "0123456789") != strlen(s) || strtoull(s, NULL, 10) != v)
                        abort();
        }
        (void) parse_size(s, &size);
}

static void socket_address(const char *s) {
        char buf[SOCKET_ADDRESS_STRING_MAX];
        SocketAddress a, b;

        if (socket_address_parse(s, &a) < 0)
                return;
        socket_address_format(&a, buf, sizeof(buf));
        /* A named Unix socket, an IPv4 or IPv6 address: what it shows reads as the same address. */
        if (a.sa.sa_family != AF_UNIX || a.un.sun_path[0] != '\0') {
                if (socket_address_parse(buf, &b) < 0 || a.sa.sa_family != b.sa.sa_family || a.size != b.size)
                        abort();
        }
}

static void destination(const char *s) {
        char *host = NULL, *port = NULL;

        if (server_destination_parse(s, &host, &port) == 0 && (!host || !port || !host[0]))
                abort();
        free(host);
        free(port);
}

static void broker(const char *s) {
        const char *error = NULL;
        char buf[512];
        BrokerAddress a = {};
        int r;

        r = broker_address_parse(s, &a, &error);
        if (r == -EINVAL && !error)
                abort(); /* a usage error says why */
        if (r == 0) {
                if (!a.host || !a.host[0] || a.port == 0)
                        abort();
                broker_address_format(&a, buf, sizeof(buf));
        }
        broker_address_done(&a);
}

static void sensor_spec(const char *s) {
        SensorList l = {};

        /* As at a rescan: a sensor that is not there is left out, a bad spec is refused. */
        (void) sensor_list_build(&l, &s, 1, true);
        for (size_t i = 0; i < l.n; i++)
                if (!protocol_name_is_valid(l.sensors[i]->name, strlen(l.sensors[i]->name)))
                        abort();
        sensor_list_done(&l);
}

static void text(const char *s) {
        char buf[1024];

        if (!text_is_printable(text_escape(s, buf, sizeof(buf))))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static void (*const parsers[])(const char *) = {
                timespan, number, socket_address, destination, broker, sensor_spec, text,
        };
        static bool ready;
        char s[1024];
        size_t n;

        if (!ready) {
                /* Usage errors go to stderr, sensors are looked for in an empty tree. */
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

                if (null < 0 || dup2(null, STDERR_FILENO) < 0 || setenv("THERMO_SYSFS_ROOT", "/nonexistent", 1) < 0)
                        abort();
                close(null);
                log_set_max_level(LOG_CRIT);
                ready = true;
        }
        if (size == 0)
                return 0;
        n = MIN(size - 1, sizeof(s) - 1);
        memcpy(s, data + 1, n);
        s[n] = '\0';
        parsers[data[0] % ELEMENTSOF(parsers)](s);
        return 0;
}
