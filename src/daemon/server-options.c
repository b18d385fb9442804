/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "parse.h"
#include "protocol.h"
#include "server-options.h"
#include "macro.h"
#include "thermometer.h"

#define SERVER_MAX_CLIENTS_DEFAULT 4096
#define SERVER_BUFFER_SIZE_DEFAULT (64 * 1024)
#define SERVER_EXIT_IDLE_DEFAULT (60 * UINT64_C(1000000))
#define SERVER_HISTORY_DEFAULT (600 * UINT64_C(1000000))
#define SERVER_HISTORY_MAX (7 * 24 * 3600 * UINT64_C(1000000))
/* The most ticks the history holds: 4 bytes a sensor each, and 24. */
#define SERVER_HISTORY_TICKS_MAX UINT64_C(1000000)
#define SERVER_IDLE_TIMEOUT_DEFAULT (120 * UINT64_C(1000000))
#define SERVER_BUFFER_SIZE_MIN 256
#define SERVER_BUFFER_SIZE_MAX (UINT64_C(1) << 30)

static void help(const char *default_listen) {
        printf("%s [OPTIONS...]\n\n"
               "Stream temperature readings to any number of clients (thermo-protocol(7)).\n\n"
               "  -h --help                Show this help\n"
               "     --version             Show package version\n"
               "  -l --listen=ADDRESS      Listen on HOST:PORT, [IPV6]:PORT or a Unix socket path\n"
               "                           when not socket-activated (repeatable; default %s)\n"
               "     --listen-metrics=ADDRESS\n"
               "                           Serve the page, the API and Prometheus metrics over\n"
               "                           HTTP there (repeatable)\n"
               "     --http-cors-origin=ORIGIN\n"
               "                           Let pages of ORIGIN (https://host[:port], or *) read\n"
               "                           the API (default: none)\n"
               "  -i --interval=TIME       Time between readings (default 1s)\n"
               "     --history=TIME        Keep the readings of this long, for clients that come\n"
               "                           back (default 10min; 0 none)\n"
               "  -s --sensor=[NAME=]SPEC  A sensor to serve (repeatable): auto (the default: every\n"
               "                           sensor found), thermal:ZONE, hwmon:CHIP[/INPUT],\n"
               "                           file:PATH, simulated[:seed=N,delay=TIME]\n"
               "     --list-sensors        List the sensors that would be served, and exit\n"
               "  -o --output=FORMAT       text or json, for --list-sensors\n"
               "     --no-legend           Leave out the header of --list-sensors\n"
               "     --limit=NAME:low=C,high=C,crit=C,hysteresis=C\n"
               "                           A sensor's limits in degrees Celsius, any of them, over\n"
               "                           its hardware's (repeatable)\n"
               "     --calibrate=NAME:offset=C,scale=F\n"
               "                           Read a sensor as its value x scale + offset\n"
               "                           (repeatable)\n"
               "  -m --max-clients=N       Clients served at once (default %u)\n"
               "     --max-clients-per-address=N\n"
               "                           Clients from one IP address (IPv6: one /64) at once\n"
               "                           (default: all but a sixteenth of --max-clients)\n"
               "  -b --buffer-size=BYTES   Output buffer of each client (default 64K)\n"
               "     --idle-timeout=TIME   Close a client that sends no request for this long and\n"
               "                           does not stream (default 2min)\n"
               "     --exit-idle=TIME      Exit after this long without clients when socket-activated\n"
               "                           (default 60s; 0 never)\n"
               "     --log-level=LEVEL     debug, info, notice, warning, err (default info)\n"
               "\n" TIMESPAN_HELP
               "\nSee the thermo-server(8) man page for details.\n",
               program_invocation_short_name, default_listen, SERVER_MAX_CLIENTS_DEFAULT);
}

/* Every address of value: a name's each, looked up now. */
static int add_listen(ServerOptions *o, const char *option, const char *value, const char *front_end) {
        _cleanup_free_ SocketAddress *addresses = NULL;
        const char *error;
        ListenAddress *p;
        size_t n;
        int r;

        r = socket_address_resolve(value, &addresses, &n, &error);
        if (r == -ENOMEM)
                return r;
        if (r == -EADDRNOTAVAIL) {
                char why[256];

                snprintf(why, sizeof(why), "cannot look the name up: %s", error);
                return log_invalid_value(option, value, why);
        }
        if (r < 0)
                return log_invalid_value(option, value, "expected HOST:PORT, [IPV6]:PORT or /path");
        p = reallocarray(o->listen, o->n_listen + n, sizeof(*p));
        if (!p)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                p[o->n_listen++] = (ListenAddress) { .address = addresses[i], .front_end = front_end };
        o->listen = p;
        return 0;
}

int server_options_parse(int argc, char *argv[], const char *default_listen, ServerOptions *ret) {
        enum { ARG_VERSION = 0x100, ARG_EXIT_IDLE, ARG_LOG_LEVEL, ARG_LIST_SENSORS, ARG_NO_LEGEND, ARG_LISTEN_METRICS,
               ARG_MAX_CLIENTS_PER_ADDRESS, ARG_IDLE_TIMEOUT, ARG_LIMIT, ARG_CALIBRATE, ARG_HISTORY,
               ARG_HTTP_CORS_ORIGIN };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "listen", required_argument, NULL, 'l' },
                { "listen-metrics", required_argument, NULL, ARG_LISTEN_METRICS },
                { "http-cors-origin", required_argument, NULL, ARG_HTTP_CORS_ORIGIN },
                { "interval", required_argument, NULL, 'i' },
                { "history", required_argument, NULL, ARG_HISTORY },
                { "sensor", required_argument, NULL, 's' },
                { "list-sensors", no_argument, NULL, ARG_LIST_SENSORS },
                { "output", required_argument, NULL, 'o' },
                { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
                { "limit", required_argument, NULL, ARG_LIMIT },
                { "calibrate", required_argument, NULL, ARG_CALIBRATE },
                { "max-clients", required_argument, NULL, 'm' },
                { "max-clients-per-address", required_argument, NULL, ARG_MAX_CLIENTS_PER_ADDRESS },
                { "buffer-size", required_argument, NULL, 'b' },
                { "idle-timeout", required_argument, NULL, ARG_IDLE_TIMEOUT },
                { "exit-idle", required_argument, NULL, ARG_EXIT_IDLE },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                {}
        };
        _cleanup_(server_options_done) ServerOptions o = {
                .interval = THERMOMETER_INTERVAL_DEFAULT,
                .history = SERVER_HISTORY_DEFAULT,
                .max_clients = SERVER_MAX_CLIENTS_DEFAULT,
                .buffer_size = SERVER_BUFFER_SIZE_DEFAULT,
                .exit_idle = SERVER_EXIT_IDLE_DEFAULT,
                .idle_timeout = SERVER_IDLE_TIMEOUT_DEFAULT,
                .default_listen = default_listen,
                .legend = true,
        };
        const char *history = "10min";
        int c, r;

        assert(argv);
        assert(default_listen);
        assert(ret);

        optind = 0;
        while ((c = getopt_long(argc, argv, "hl:i:s:m:b:o:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help(default_listen);
                        return 0;
                case ARG_VERSION:
                        printf("%s %s\n", program_invocation_short_name, PROJECT_VERSION);
                        return 0;
                case 'l':
                        r = add_listen(&o, "--listen", optarg, NULL);
                        if (r < 0)
                                return r;
                        break;
                case ARG_LISTEN_METRICS:
                        r = add_listen(&o, "--listen-metrics", optarg, "metrics");
                        if (r < 0)
                                return r;
                        break;
                case 'i':
                        if (parse_timespan(optarg, &o.interval) < 0 || o.interval < USEC_PER_MSEC ||
                                        o.interval > PROTOCOL_INTERVAL_MS_MAX * USEC_PER_MSEC)
                                return log_invalid_value("--interval", optarg, "expected a time from 1ms to 24h");
                        break;
                case 's': {
                        const char **p = reallocarray(o.sensors, o.n_sensors + 1, sizeof(*p));

                        if (!p)
                                return -ENOMEM;
                        p[o.n_sensors++] = optarg;
                        o.sensors = p;
                        break;
                }
                case ARG_LIST_SENSORS:
                        o.list_sensors = true;
                        break;
                case 'o':
                        if (strcmp(optarg, "text") != 0 && strcmp(optarg, "json") != 0)
                                return log_invalid_value("--output", optarg, "expected text or json");
                        o.list_json = strcmp(optarg, "json") == 0;
                        break;
                case ARG_NO_LEGEND:
                        o.legend = false;
                        break;
                case ARG_LIMIT: {
                        LimitOverride *p = reallocarray(o.limits, o.n_limits + 1, sizeof(*p));
                        const char *error;

                        if (!p)
                                return -ENOMEM;
                        o.limits = p;
                        if (limit_override_parse(optarg, &p[o.n_limits], &error) < 0)
                                return log_invalid_value("--limit", optarg, error);
                        o.n_limits++;
                        break;
                }
                case ARG_CALIBRATE: {
                        CalibrationOption *p = reallocarray(o.calibrations, o.n_calibrations + 1, sizeof(*p));
                        const char *error;

                        if (!p)
                                return -ENOMEM;
                        o.calibrations = p;
                        if (calibration_option_parse(optarg, &p[o.n_calibrations], &error) < 0)
                                return log_invalid_value("--calibrate", optarg, error);
                        o.n_calibrations++;
                        break;
                }
                case 'm':
                        if (parse_uint64(optarg, 1, 1000000, &o.max_clients) < 0)
                                return log_invalid_value("--max-clients", optarg, "expected a number from 1 to 1000000");
                        break;
                case ARG_MAX_CLIENTS_PER_ADDRESS:
                        if (parse_uint64(optarg, 1, 1000000, &o.max_clients_per_address) < 0)
                                return log_invalid_value("--max-clients-per-address", optarg,
                                                "expected a number from 1 to 1000000");
                        break;
                case 'b':
                        if (parse_size(optarg, &o.buffer_size) < 0 || o.buffer_size < SERVER_BUFFER_SIZE_MIN ||
                                        o.buffer_size > SERVER_BUFFER_SIZE_MAX)
                                return log_invalid_value("--buffer-size", optarg,
                                                "expected a size from 256 to 1G: bytes, or with K, M or G (powers of "
                                                "1024, upper case as systemd writes them: 64K)");
                        break;
                case ARG_IDLE_TIMEOUT:
                        if (parse_timespan(optarg, &o.idle_timeout) < 0 || o.idle_timeout < USEC_PER_MSEC ||
                                        o.idle_timeout > 24 * 3600 * USEC_PER_SEC)
                                return log_invalid_value("--idle-timeout", optarg, "expected a time from 1ms to 24h");
                        break;
                case ARG_HISTORY:
                        if (parse_timespan(optarg, &o.history) < 0 || o.history > SERVER_HISTORY_MAX)
                                return log_invalid_value("--history", optarg, "expected a time from 0 to 7d");
                        history = optarg;
                        break;
                case ARG_HTTP_CORS_ORIGIN:
                        if (!parse_origin_is_valid(optarg))
                                return log_invalid_value("--http-cors-origin", optarg,
                                                "expected *, or an origin as a browser sends it, such as "
                                                "https://example.com:8443 (lowercase, no default port)");
                        o.http_cors_origin = optarg;
                        break;
                case ARG_EXIT_IDLE:
                        if (parse_timespan(optarg, &o.exit_idle) < 0)
                                return log_invalid_value("--exit-idle", optarg, "expected a time such as 60s or 0");
                        break;
                case ARG_LOG_LEVEL:
                        r = log_parse_level_option(optarg);
                        if (r < 0)
                                return r;
                        break;
                default:
                        /* getopt has said what is wrong. */
                        return -EINVAL;
                }

        if (optind < argc) {
                fprintf(stderr, "%s: Unexpected argument '%s'.\n", program_invocation_short_name, argv[optind]);
                return -EINVAL;
        }
        /* One address alone never takes every slot: a sixteenth stays for the others (none below 16, where a
         * limit is a test's or a small machine's, and every slot counts). */
        if (o.max_clients_per_address == 0)
                o.max_clients_per_address = o.max_clients - o.max_clients / 16;
        if (o.history / o.interval > SERVER_HISTORY_TICKS_MAX)
                return log_invalid_value("--history", history, "a million ticks at most: a longer --interval, or a "
                                "shorter --history");

        *ret = o;
        o = (ServerOptions) {};
        return 1;
}

void server_options_done(ServerOptions *o) {
        assert(o);

        o->listen = mfree(o->listen);
        o->n_listen = 0;
        o->sensors = mfree(o->sensors);
        o->n_sensors = 0;
        o->limits = mfree(o->limits);
        o->n_limits = 0;
        o->calibrations = mfree(o->calibrations);
        o->n_calibrations = 0;
}
