/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "options.h"
#include "parse.h"
#include "server-link.h"

#define TIMEOUT_DEFAULT (10 * USEC_PER_SEC)
#define KEEPALIVE_DEFAULT 60

static void help(void) {
        printf("%s [OPTIONS...] [[NAME=]SERVER...]\n\n"
               "Publish every reading of thermo servers to an MQTT broker (default server\n"
               "localhost:" THERMO_PORT_DEFAULT ").\n\n"
               "  -h --help                Show this help\n"
               "     --version             Show package version\n"
               "  -b --broker=URL          mqtt://[USER@]HOST[:PORT], or mqtts:// for TLS\n"
               "                           (default " BROKER_DEFAULT ")\n"
               "     --password-file=PATH  The broker's password (default: the credential\n"
               "                           " BROKER_PASSWORD_CREDENTIAL ")\n"
               "     --cafile=PATH         Certificates to check an mqtts:// broker with\n"
               "                           (default: the system's)\n"
               "     --topic-prefix=PREFIX First level of every topic (default thermo)\n"
               "     --payload=FORMAT      value (21.375) or json\n"
               "     --qos=N               0 or 1 (default 1)\n"
               "     --min-change=CELSIUS  Publish a reading only when it differs by this much\n"
               "                           from the last one published (default 0: all)\n"
               "     --heartbeat=TIME      With --min-change, publish at least this often anyway\n"
               "     --expire-after=TIME   Home Assistant marks a sensor unavailable after this\n"
               "                           long without a reading; readings not retained\n"
               "     --no-discovery        Publish no Home Assistant discovery config\n"
               "     --remove              Clear every retained topic published of the servers'\n"
               "                           hosts at the broker, and exit\n"
               "     --discovery-prefix=PREFIX\n"
               "                           Home Assistant's discovery prefix (default homeassistant)\n"
               "  -t --timeout=TIME        Give up connecting, or waiting, after this long\n"
               "                           (default 10s)\n"
               "     --keepalive=TIME      MQTT keepalive (default 60s)\n"
               "     --log-level=LEVEL     debug, info, notice, warning, err (default info)\n"
               "\nSERVER is HOST[:PORT], [IPV6]:PORT or the path of a Unix socket; NAME, the host's\n"
               "name in topics, is the server's own host name by default.\n"
               "\n" TIMESPAN_HELP
               "\nSee the thermo-mqtt(8) man page for details.\n",
               program_invocation_short_name);
}

int server_spec_parse(const char *s, ServerSpec *ret, const char **ret_error) {
        _cleanup_(server_spec_done) ServerSpec spec = {};
        const char *eq = strchr(s, '='), *dest = s;
        int r;

        assert(s);
        assert(ret);
        assert(ret_error);

        if (eq) {
                spec.name = strndup(s, (size_t) (eq - s));
                if (!spec.name)
                        return -ENOMEM;
                if (!topic_host_is_valid(spec.name)) {
                        *ret_error = "NAME is 1 to 64 of A-Z a-z 0-9 . _ -";
                        return -EINVAL;
                }
                dest = eq + 1;
        }
        spec.text = strdup(s);
        if (!spec.text)
                return -ENOMEM;
        if (dest[0] == '/' || dest[0] == '@') {
                spec.unix_path = strdup(dest);
                if (!spec.unix_path)
                        return -ENOMEM;
        } else {
                r = server_destination_parse(dest, &spec.host, &spec.port);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        *ret_error = "expected HOST, HOST:PORT, [IPV6]:PORT or /path";
                        return -EINVAL;
                }
        }
        *ret = spec;
        spec = (ServerSpec) {};
        return 0;
}

void server_spec_done(ServerSpec *s) {
        assert(s);
        free(s->name);
        free(s->host);
        free(s->port);
        free(s->unix_path);
        free(s->text);
        *s = (ServerSpec) {};
}

static int add_server(MqttOptions *o, const char *s) {
        const char *error = NULL;
        ServerSpec spec, *p;
        int r;

        r = server_spec_parse(s, &spec, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return log_invalid_value("SERVER", s, error);
        for (size_t i = 0; i < o->n_servers; i++) {
                const ServerSpec *other = &o->servers[i];
                bool same = spec.unix_path ? other->unix_path && strcmp(spec.unix_path, other->unix_path) == 0 :
                                             other->host && strcmp(spec.host, other->host) == 0 &&
                                                     strcmp(spec.port, other->port) == 0;

                if (same || (spec.name && other->name && strcmp(spec.name, other->name) == 0)) {
                        server_spec_done(&spec);
                        return log_invalid_value("SERVER", s, same ? "given twice" : "its NAME is taken");
                }
        }
        p = reallocarray(o->servers, o->n_servers + 1, sizeof(*p));
        if (!p) {
                server_spec_done(&spec);
                return -ENOMEM;
        }
        o->servers = p;
        o->servers[o->n_servers++] = spec;
        return 0;
}

int mqtt_options_parse(int argc, char *argv[], MqttOptions *ret) {
        enum {
                ARG_VERSION = 0x100,
                ARG_PASSWORD_FILE,
                ARG_CAFILE,
                ARG_TOPIC_PREFIX,
                ARG_PAYLOAD,
                ARG_QOS,
                ARG_NO_DISCOVERY,
                ARG_REMOVE,
                ARG_DISCOVERY_PREFIX,
                ARG_KEEPALIVE,
                ARG_MIN_CHANGE,
                ARG_HEARTBEAT,
                ARG_EXPIRE_AFTER,
                ARG_LOG_LEVEL,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "broker", required_argument, NULL, 'b' },
                { "password-file", required_argument, NULL, ARG_PASSWORD_FILE },
                { "cafile", required_argument, NULL, ARG_CAFILE },
                { "topic-prefix", required_argument, NULL, ARG_TOPIC_PREFIX },
                { "payload", required_argument, NULL, ARG_PAYLOAD },
                { "qos", required_argument, NULL, ARG_QOS },
                { "no-discovery", no_argument, NULL, ARG_NO_DISCOVERY },
                { "remove", no_argument, NULL, ARG_REMOVE },
                { "discovery-prefix", required_argument, NULL, ARG_DISCOVERY_PREFIX },
                { "timeout", required_argument, NULL, 't' },
                { "keepalive", required_argument, NULL, ARG_KEEPALIVE },
                { "min-change", required_argument, NULL, ARG_MIN_CHANGE },
                { "heartbeat", required_argument, NULL, ARG_HEARTBEAT },
                { "expire-after", required_argument, NULL, ARG_EXPIRE_AFTER },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                {}
        };
        _cleanup_(mqtt_options_done) MqttOptions o = {
                .topic_prefix = "thermo",
                .discovery_prefix = "homeassistant",
                .discovery = true,
                .qos = 1,
                .timeout = TIMEOUT_DEFAULT,
                .keepalive = KEEPALIVE_DEFAULT,
        };
        const char *broker = BROKER_DEFAULT, *error = NULL;
        uint64_t v;
        int c, r;

        assert(argv);
        assert(ret);

        while ((c = getopt_long(argc, argv, "hb:t:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        puts("thermo-mqtt " PROJECT_VERSION);
                        return 0;
                case 'b':
                        broker = optarg;
                        break;
                case ARG_PASSWORD_FILE:
                        o.password_file = optarg;
                        break;
                case ARG_CAFILE:
                        o.cafile = optarg;
                        break;
                case ARG_TOPIC_PREFIX:
                        if (!topic_prefix_is_valid(optarg))
                                return log_invalid_value("--topic-prefix", optarg,
                                                "expected levels of A-Z a-z 0-9 . _ - joined by /, at most 128 in all");
                        o.topic_prefix = optarg;
                        break;
                case ARG_PAYLOAD:
                        if (strcmp(optarg, "value") == 0)
                                o.payload = PAYLOAD_VALUE;
                        else if (strcmp(optarg, "json") == 0)
                                o.payload = PAYLOAD_JSON;
                        else
                                return log_invalid_value("--payload", optarg, "expected value or json");
                        break;
                case ARG_QOS:
                        if (parse_uint64(optarg, 0, 1, &v) < 0)
                                return log_invalid_value("--qos", optarg, "expected 0 or 1");
                        o.qos = (int) v;
                        break;
                case ARG_NO_DISCOVERY:
                        o.discovery = false;
                        break;
                case ARG_REMOVE:
                        o.remove = true;
                        break;
                case ARG_DISCOVERY_PREFIX:
                        if (!topic_prefix_is_valid(optarg))
                                return log_invalid_value("--discovery-prefix", optarg,
                                                "expected levels of A-Z a-z 0-9 . _ - joined by /, at most 128 in all");
                        o.discovery_prefix = optarg;
                        break;
                case 't':
                        if (parse_timeout(optarg, &o.timeout) < 0)
                                return log_invalid_value("--timeout", optarg, "expected " TIMEOUT_RANGE);
                        break;
                case ARG_KEEPALIVE:
                        /* MQTT counts it in whole seconds, and libmosquitto takes 5s at least. */
                        if (parse_timespan(optarg, &v) < 0 || v < 5 * USEC_PER_SEC || v > 65535 * USEC_PER_SEC ||
                                        v % USEC_PER_SEC != 0)
                                return log_invalid_value("--keepalive", optarg, "expected whole seconds from 5s to 65535s");
                        o.keepalive = (unsigned) (v / USEC_PER_SEC);
                        break;
                case ARG_MIN_CHANGE:
                        if (parse_celsius(optarg, &o.min_change) < 0 || o.min_change < 0 || o.min_change > 1000 * 1000)
                                return log_invalid_value("--min-change", optarg,
                                                "expected degrees Celsius from 0 to 1000, three decimals at most");
                        break;
                case ARG_HEARTBEAT:
                        if (parse_timespan(optarg, &o.heartbeat) < 0 || o.heartbeat < USEC_PER_SEC ||
                                        o.heartbeat > 7 * 24 * 3600 * USEC_PER_SEC)
                                return log_invalid_value("--heartbeat", optarg, "expected a time from 1s to 7d");
                        break;
                case ARG_EXPIRE_AFTER:
                        /* Home Assistant counts it in whole seconds. */
                        if (parse_timespan(optarg, &o.expire_after) < 0 || o.expire_after < USEC_PER_SEC ||
                                        o.expire_after > 7 * 24 * 3600 * USEC_PER_SEC || o.expire_after % USEC_PER_SEC != 0)
                                return log_invalid_value("--expire-after", optarg, "expected whole seconds from 1s to 7d");
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

        /* A heartbeat of what --min-change holds back; a sensor Home Assistant would let expire meanwhile. */
        if (o.heartbeat > 0 && o.min_change == 0) {
                log_error("--heartbeat is for --min-change: without it, every reading is published.");
                return -EINVAL;
        }
        if (o.expire_after > 0 && o.min_change > 0 && (o.heartbeat == 0 || o.heartbeat >= o.expire_after)) {
                log_error("--expire-after with --min-change needs a --heartbeat shorter than it, or Home Assistant "
                          "takes a steady sensor for gone.");
                return -EINVAL;
        }

        r = broker_address_parse(broker, &o.broker, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return log_invalid_value("--broker", broker, error);
        if (o.cafile && !o.broker.tls) {
                log_error("--cafile is for an mqtts:// broker.");
                return -EINVAL;
        }
        r = mqtt_password_read(&o, &o.password);
        if (r < 0)
                return r;

        for (int i = optind; i < argc; i++) {
                r = add_server(&o, argv[i]);
                if (r < 0)
                        return r;
        }
        if (o.n_servers == 0) {
                r = add_server(&o, "localhost");
                if (r < 0)
                        return r;
        }

        *ret = o;
        o = (MqttOptions) {};
        return 1;
}

int mqtt_password_read(const MqttOptions *o, char **ret) {
        const char *from = o->password_file ?: "$CREDENTIALS_DIRECTORY/" BROKER_PASSWORD_CREDENTIAL;
        char *password = NULL;
        int r;

        assert(o);
        assert(ret);

        r = broker_password_read(o->password_file, &password);
        if (r == -ENOMEM)
                return r;
        if (r == -EINVAL) {
                log_error("%s holds no password, or more than one line.", from);
                return -EINVAL;
        }
        if (r < 0) {
                log_error_errno(r, "Failed to read the broker's password from %s: %m", from);
                return -EINVAL;
        }
        if (password && !o->broker.user) {
                explicit_bzero(password, strlen(password));
                free(password);
                log_error("A password without a user: give the user in --broker, mqtt://USER@HOST.");
                return -EINVAL;
        }
        *ret = password;
        return 0;
}

void mqtt_options_done(MqttOptions *o) {
        assert(o);

        broker_address_done(&o->broker);
        if (o->password)
                explicit_bzero(o->password, strlen(o->password));
        free(o->password);
        for (size_t i = 0; i < o->n_servers; i++)
                server_spec_done(&o->servers[i]);
        free(o->servers);
        *o = (MqttOptions) {};
}
