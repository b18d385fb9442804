/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "options.h"
#include "parse.h"
#include "server-link.h"
#include "terminal.h"

#define CLIENT_TIMEOUT_DEFAULT (10 * UINT64_C(1000000))

static void help(void) {
        printf("%s [OPTIONS...] [HOST[:PORT]]\n\n"
               "Show temperature readings from a thermo server (default localhost:" THERMO_PORT_DEFAULT ").\n\n"
               "  -h --help               Show this help\n"
               "     --version            Show package version\n"
               "  -U --unix=PATH          Connect to a Unix socket instead of HOST:PORT\n"
               "  -s --sensor=NAME        Show this sensor's readings (repeatable; default: the\n"
               "                          server's default sensor)\n"
               "  -a --all                Show every sensor's readings\n"
               "     --list               List the server's sensors, their limits and levels, and\n"
               "                          exit\n"
               "     --alarms             Show each change of a sensor's level (-n: of so many)\n"
               "  -n --count=N            Stop after N readings\n"
               "  -1 --once               Show the newest reading and exit\n"
               "     --since=TIME         Show the readings of this long ago to now first, from the\n"
               "                          server's history (with --once: those alone)\n"
               "  -o --output=FORMAT      text, json (one object a line) or csv\n"
               "     --units=UNIT         celsius, fahrenheit or kelvin\n"
               "  -t --timeout=TIME       Give up connecting, or waiting for a reading, after this\n"
               "                          long (default 10s)\n"
               "  -r --retry              Reconnect with backoff when the connection fails\n"
               "  -p --plot               Draw a live chart of the stream in the terminal\n"
               "     --no-legend          Leave out the CSV and --list header\n"
               "  -q --quiet              Show errors only\n"
               "  -v --verbose            Show what happens on the connection\n"
               "\n" TIMESPAN_HELP
               "\nSee the thermo-client(1) man page for details.\n",
               program_invocation_short_name);
}

int client_options_parse(int argc, char *argv[], ClientOptions *ret) {
        enum { ARG_VERSION = 0x100, ARG_UNITS, ARG_NO_LEGEND, ARG_LIST, ARG_ALARMS, ARG_SINCE };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "unix", required_argument, NULL, 'U' },
                { "sensor", required_argument, NULL, 's' },
                { "all", no_argument, NULL, 'a' },
                { "list", no_argument, NULL, ARG_LIST },
                { "alarms", no_argument, NULL, ARG_ALARMS },
                { "count", required_argument, NULL, 'n' },
                { "once", no_argument, NULL, '1' },
                { "since", required_argument, NULL, ARG_SINCE },
                { "output", required_argument, NULL, 'o' },
                { "units", required_argument, NULL, ARG_UNITS },
                { "timeout", required_argument, NULL, 't' },
                { "retry", no_argument, NULL, 'r' },
                { "plot", no_argument, NULL, 'p' },
                { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
                { "quiet", no_argument, NULL, 'q' },
                { "verbose", no_argument, NULL, 'v' },
                {}
        };
        _cleanup_(client_options_done) ClientOptions o = { .timeout = CLIENT_TIMEOUT_DEFAULT, .legend = true };
        int c, r;

        assert(argv);
        assert(ret);

        optind = 0;
        while ((c = getopt_long(argc, argv, "hU:s:an:1o:t:rpqv", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("%s %s\n", program_invocation_short_name, PROJECT_VERSION);
                        return 0;
                case 'U':
                        o.unix_path = optarg;
                        break;
                case 's': {
                        const char **p;

                        if (!protocol_name_is_valid(optarg, strlen(optarg)))
                                return log_invalid_value("--sensor", optarg,
                                                "a name is 1 to 32 of a-z, 0-9, '_', '.' and '-', starting with a letter");
                        for (size_t i = 0; i < o.n_sensors; i++)
                                if (strcmp(o.sensors[i], optarg) == 0)
                                        return log_invalid_value("--sensor", optarg, "given twice");
                        p = reallocarray(o.sensors, o.n_sensors + 1, sizeof(*p));
                        if (!p)
                                return -ENOMEM;
                        p[o.n_sensors++] = optarg;
                        o.sensors = p;
                        break;
                }
                case 'a':
                        o.all = true;
                        break;
                case ARG_LIST:
                        o.list = true;
                        break;
                case ARG_ALARMS:
                        o.alarms = true;
                        break;
                case 'n':
                        if (parse_uint64(optarg, 1, PROTOCOL_COUNT_MAX, &o.count) < 0)
                                return log_invalid_value("--count", optarg, "expected a number from 1 to 4294967295");
                        break;
                case '1':
                        o.once = true;
                        break;
                case 'o':
                        r = output_format_from_string(optarg);
                        if (r < 0)
                                return log_invalid_value("--output", optarg, "expected text, json or csv");
                        o.format = (OutputFormat) r;
                        break;
                case ARG_UNITS:
                        r = unit_from_string(optarg);
                        if (r < 0)
                                return log_invalid_value("--units", optarg, "expected celsius, fahrenheit or kelvin");
                        o.unit = (Unit) r;
                        break;
                case 't':
                        if (parse_timeout(optarg, &o.timeout) < 0)
                                return log_invalid_value("--timeout", optarg, "expected " TIMEOUT_RANGE);
                        break;
                case 'r':
                        o.retry = true;
                        break;
                case ARG_SINCE:
                        if (parse_timespan(optarg, &o.since) < 0 || o.since == 0 || o.since > 7 * 24 * 3600 * USEC_PER_SEC)
                                return log_invalid_value("--since", optarg, "expected a time from 1ms to 7d, such as 10min");
                        break;
                case 'p':
                        o.plot = true;
                        break;
                case ARG_NO_LEGEND:
                        o.legend = false;
                        break;
                case 'q':
                        log_set_max_level(LOG_ERR);
                        break;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                default:
                        /* getopt has said what is wrong. */
                        return -EINVAL;
                }

        if (o.all && o.n_sensors > 0) {
                log_error("--all and --sensor cannot be combined.");
                return -EINVAL;
        }
        if (o.list && (o.once || o.count > 0 || o.plot || o.all || o.n_sensors > 0)) {
                log_error("--list lists the sensors: it goes with none of --once, --count, --plot, --all and --sensor.");
                return -EINVAL;
        }
        if (o.list && o.format == OUTPUT_CSV) {
                log_error("--list shows text or json.");
                return -EINVAL;
        }
        if (o.alarms && (o.list || o.once || o.plot || o.all || o.n_sensors > 0)) {
                log_error("--alarms shows every sensor's changes: it goes with none of --list, --once, --plot, --all "
                          "and --sensor.");
                return -EINVAL;
        }
        if (o.since > 0 && (o.list || o.alarms)) {
                log_error("--since shows readings: it goes with neither --list nor --alarms.");
                return -EINVAL;
        }
        if (o.once && o.count > 0) {
                log_error("--once and --count cannot be combined.");
                return -EINVAL;
        }
        if (o.plot && (o.once || o.format != OUTPUT_TEXT)) {
                log_error("--plot draws the stream on the terminal: it goes with neither --once nor --output.");
                return -EINVAL;
        }
        if (o.plot && !terminal_size(STDOUT_FILENO, &(unsigned) { 0 }, &(unsigned) { 0 })) {
                log_error("--plot needs a terminal on standard output.");
                return -EINVAL;
        }
        if (argc - optind > 1) {
                log_error("Unexpected argument '%s'.", argv[optind + 1]);
                return -EINVAL;
        }
        if (optind < argc && o.unix_path) {
                log_error("Both --unix and a host were given; pick one.");
                return -EINVAL;
        }
        if (!o.unix_path) {
                r = server_destination_parse(optind < argc ? argv[optind] : "localhost", &o.host, &o.port);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return log_invalid_value("HOST[:PORT]", argv[optind], "expected HOST, HOST:PORT or [IPV6]:PORT");
        }

        *ret = o;
        o = (ClientOptions) {};
        return 1;
}

void client_options_done(ClientOptions *o) {
        assert(o);

        free(o->host);
        free(o->port);
        o->host = o->port = NULL;
        o->sensors = mfree(o->sensors);
        o->n_sensors = 0;
}
