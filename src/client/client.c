/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <systemd/sd-event.h>

#include "address.h"
#include "backoff.h"
#include "client.h"
#include "json.h"
#include "log.h"
#include "parse.h"
#include "plot.h"
#include "server-link.h"
#include "signals.h"
#include "terminal.h"

/* Far more than a machine has: a server past it is broken, or hostile, and gets no more memory of ours. */
#define CLIENT_SENSORS_MAX 4096

/* A sensor's limits, and its level as the server last said it. */
typedef struct SensorLevel {
        char name[PROTOCOL_NAME_MAX + 1];
        Limits limits;
        Level level;
} SensorLevel;

typedef struct HeldReading {
        Reading reading;        /* its sensor is NULL: name says it, where named */
        char name[PROTOCOL_NAME_MAX + 1];
        bool named;
} HeldReading;

typedef enum ClientState {
        STATE_STARTING,         /* until the server greets us */
        STATE_LISTING,          /* SENSOR lines until END */
        STATE_LIMITS,           /* LIMIT lines until END */
        STATE_ALARMS,           /* OK ALARMS, before the stream whose readings are shown at their levels */
        STATE_HISTORY,          /* --since, --plot: the held readings until END, before the stream */
        STATE_RUNNING,
        STATE_ENDING,           /* all readings shown; END is on its way */
        STATE_QUITTING,         /* we sent QUIT: BYE is on its way */
} ClientState;

struct Client {
        const ClientOptions *options;
        sd_event *event;
        ServerLink *link;
        const char *destination;

        ClientState state;
        uint64_t received;      /* ticks shown, over all connections */
        uint64_t last_seq;      /* of the last tick shown: a stream that reconnects resumes after it */
        uint64_t lost_at;       /* CLOCK_MONOTONIC when the connection was lost, 0 while it is not */
        bool resuming;          /* asked for after=: an older server answers ERR 400 */
        bool resumed;           /* ...and the server took it */
        bool history_shown;     /* --since, --plot: once, on the first connection; a reconnect resumes */
        uint64_t history_last;  /* the newest held tick, where the stream then starts */
        uint64_t last_reading;  /* CLOCK_MONOTONIC of the last reading, or of the greeting */
        uint64_t answers;       /* --once: sensors answered on this connection */
        bool answered_all;      /* --once: every sensor asked for gave a reading */

        char **names;           /* the sensors asked for (--sensor), or every sensor (--all, from SENSORS) */
        char **sources;         /* --list: each one's source */
        size_t n_names;
        SensorLevel *levels;    /* every sensor's, in SENSORS order (the default first), from LIMITS */
        size_t n_levels;
        size_t next_level;      /* where sensor_level() looks first */
        bool have_limits;       /* the server answered LIMITS (an older one does not know it) */
        HeldReading *held;      /* readings waiting for their tick's ALARM lines (show_reading()) */
        size_t n_held, held_size;
        sd_event_source *held_timer; /* the longest they wait: the ALARM lines come right after */
        bool *failing;          /* per name, and one more for a line that names none */
        Output output;
        Plot *plot;
};

/* A failure of ours, not the connection's: said and ended like one. */
#define link_fail(c, status, error, ...) (server_link_fail((c)->link, status, error, __VA_ARGS__), 0)

static void flush_held(Client *c);

static int finish(Client *c, int status) {
        flush_held(c);
        server_link_close(c->link);
        /* Give the terminal back before anything else is said on it. */
        c->plot = plot_free(c->plot);
        return sd_event_exit(c->event, status);
}

static uint64_t now_usec(Client *c) {
        uint64_t t = 0;

        (void) sd_event_now(c->event, CLOCK_MONOTONIC, &t);
        return t;
}

/* A stream or a watch we end ourselves (its count, Ctrl-C) ends with QUIT, so that the server lets go of
 * us at once: a session with ALARMS that only closed would be kept until a write to it failed, and a
 * stream that only closed is one the server waits for, to resume it. With wait, BYE is waited for (within
 * -t), so that we are gone when we exit. */
static int quit(Client *c, bool wait) {
        static const char request[] = "QUIT\n";

        if (server_link_send(c->link, request, strlen(request)) < 0 || !wait)
                return finish(c, EX_OK);
        log_debug("Sent to %s: QUIT", c->destination);
        c->state = STATE_QUITTING;
        server_link_set_silence(c->link, c->options->timeout);
        return 0;
}

/* The link is down: with --retry it reconnects, unless retrying cannot help; else we exit with status. */
static void on_failed(ServerLink *l, int status, const char *message) {
        Client *c = server_link_get_userdata(l);
        char backoff[BACKOFF_STRING_MAX];

        flush_held(c);
        /* Whatever ends the connection once our readings are all shown ends it in good order. */
        if (c->state == STATE_ENDING || c->state == STATE_QUITTING) {
                finish(c, EX_OK);
                return;
        }
        if (!c->options->retry || status == EX_PROTOCOL) {
                c->plot = plot_free(c->plot);
                log_error("%s", message);
                (void) sd_event_exit(c->event, status);
                return;
        }
        c->state = STATE_STARTING;
        if (!c->lost_at)
                c->lost_at = now_usec(c);
        c->resuming = c->last_seq > 0 && !c->options->once;
        log_notice("%s; reconnecting in %s.", message, backoff_format(backoff, server_link_retry(l)));
}

/* Text readings are shown at their levels (a mark at high and crit), and the plot draws the limits: both
 * ask for them, and for each change. */
static bool shows_levels(const ClientOptions *o) {
        return !o->list && !o->alarms && !o->once && o->format == OUTPUT_TEXT;
}

/* "STREAM [count] [after=<seq>] [*|<name>...]\n" at request + n: its length added to n. */
static int format_stream(Client *c, char *request, size_t size, int n) {
        const ClientOptions *o = c->options;

        n += snprintf(request + n, size - n, "STREAM");
        if (o->count > 0)
                /* After a reconnect, ask only for what is still missing. */
                n += snprintf(request + n, size - n, " %" PRIu64, o->count - c->received);
        /* Back after a lost connection: the held ticks after the last one shown first. */
        if (c->resuming)
                n += snprintf(request + n, size - n, " after=%" PRIu64, c->last_seq);
        if (o->all)
                n += snprintf(request + n, size - n, " *");
        for (size_t i = 0; i < o->n_sensors; i++)
                n += snprintf(request + n, size - n, " %s", o->sensors[i]);
        return n + snprintf(request + n, size - n, "\n");
}

static int send_lines(Client *c, const char *request, int n) {
        log_debug("Sent to %s: %.*s", c->destination, n - 1, request);
        return server_link_send(c->link, request, (size_t) n);
}

/* --since, and --plot (all the server holds): the held readings first, on the first connection. */
static bool wants_history(Client *c) {
        return (c->options->since > 0 || c->options->plot) && !c->history_shown;
}

/* "HISTORY [*|<name>...]\n" at request + n: its length added to n. */
static int format_history(Client *c, char *request, size_t size, int n) {
        const ClientOptions *o = c->options;

        n += snprintf(request + n, size - n, "HISTORY%s", o->all ? " *" : "");
        for (size_t i = 0; i < o->n_sensors; i++)
                n += snprintf(request + n, size - n, " %s", o->sensors[i]);
        return n + snprintf(request + n, size - n, "\n");
}

static int send_request(Client *c) {
        const ClientOptions *o = c->options;
        char request[2048] = "";
        int n = 0;

        /* With --all, the names first: for the columns of the text and the lines of the plot. */
        if (o->list || (o->all && c->n_names == 0))
                n += snprintf(request + n, sizeof(request) - n, "SENSORS\n");
        if (o->list)
                n += snprintf(request + n, sizeof(request) - n, "LIMITS\n");
        else if (o->alarms)
                n += snprintf(request + n, sizeof(request) - n, "ALARMS\n");
        else if (o->once && wants_history(c))
                n = format_history(c, request, sizeof(request), n);
        else if (o->once && o->n_sensors > 0)
                for (size_t i = 0; i < o->n_sensors; i++)
                        n += snprintf(request + n, sizeof(request) - n, "GET %s\n", o->sensors[i]);
        else if (o->once)
                n += snprintf(request + n, sizeof(request) - n, "GET%s\n", o->all ? " *" : "");
        else {
                if (shows_levels(o))
                        n += snprintf(request + n, sizeof(request) - n, "LIMITS\nALARMS\n");
                /* The stream is asked for once the history has come (start_stream()). */
                if (wants_history(c))
                        n = format_history(c, request, sizeof(request), n);
                else
                        n = format_stream(c, request, sizeof(request), n);
        }
        return send_lines(c, request, n);
}

/* Streaming, the server may be silent for an interval between readings; watching alarms, for as long as
 * no level changes: no bound then (the server's keepalive finds a peer gone). */
static void set_running(Client *c) {
        c->state = STATE_RUNNING;
        if (c->options->alarms)
                server_link_set_silence(c->link, UINT64_MAX);
        else if (!c->options->once)
                server_link_set_silence(c->link, server_link_stream_silence(c->link, c->options->timeout));
}

/* What comes before the stream is there: the held readings (--since, --plot), or the stream. */
static void after_prelude(Client *c) {
        if (wants_history(c)) {
                c->state = STATE_HISTORY;
                server_link_set_silence(c->link, c->options->timeout);
        } else
                set_running(c);
}

static void on_greeted(ServerLink *l, const Reply *hello) {
        Client *c = server_link_get_userdata(l);
        int r;

        log_info("Connected to %s: %s", c->destination, hello->text);
        c->last_reading = now_usec(c);
        c->answers = 0;
        c->answered_all = true;
        c->n_levels = 0;
        c->have_limits = false;
        if (c->options->list || (c->options->all && c->n_names == 0))
                c->state = STATE_LISTING;
        else if (shows_levels(c->options))
                c->state = STATE_LIMITS;
        else
                after_prelude(c);
        r = send_request(c);
        if (r < 0)
                server_link_fail(l, EX_TEMPFAIL, r, "Failed to send request to %s: %m", c->destination);
}

/* Where a sensor's failure is kept: its place among the names, or the last for one we did not name. */
static size_t failing_index(Client *c, const char *name) {
        for (size_t i = 0; name && i < c->n_names; i++)
                if (strcmp(c->names[i], name) == 0)
                        return i;
        return c->n_names;
}

/* "localhost:8888" or "localhost:8888's sensor cpu", for what is said about a sensor. */
static void describe(Client *c, const char *name, char *buf, size_t size) {
        if (name)
                snprintf(buf, size, "%s's sensor %s", c->destination, name);
        else
                snprintf(buf, size, "%s", c->destination);
}

/* --once: every sensor asked for has answered. */
static int once_done(Client *c) {
        if (!c->answered_all) {
                server_link_fail(c->link, EX_TEMPFAIL, -ENODATA, "%s has no reading of every sensor asked for",
                                c->destination);
                return 0;
        }
        return finish(c, EX_OK);
}

/* The sensor a reading or a LIMIT line names: NULL names the default, the first of LIMITS. */
static SensorLevel *sensor_level(Client *c, const char *name) {
        if (!name)
                return c->n_levels > 0 ? &c->levels[0] : NULL;
        /* A tick's readings come in SENSORS order, which LIMITS has too: the one after the last, first. */
        if (c->n_levels > 0 && strcmp(c->levels[c->next_level % c->n_levels].name, name) == 0)
                return &c->levels[c->next_level++ % c->n_levels];
        for (size_t i = 0; i < c->n_levels; i++)
                if (strcmp(c->levels[i].name, name) == 0) {
                        c->next_level = i + 1;
                        return &c->levels[i];
                }
        return NULL;
}

static void show(Client *c, Reading *r, Level level) {
        r->level = level;
        output_reading(&c->output, r);
}

/* A tick's ALARM lines follow its readings at once, in the same write or the next: what waits longer had
 * none. */
#define HELD_WAIT_USEC (100 * UINT64_C(1000))

static int on_held_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        flush_held(userdata);
        return 0;
}

static void flush_held(Client *c) {
        for (size_t i = 0; i < c->n_held; i++) {
                HeldReading *h = &c->held[i];
                const SensorLevel *s;

                h->reading.sensor = h->named ? h->name : NULL;
                s = sensor_level(c, h->reading.sensor);
                show(c, &h->reading, s ? s->level : LEVEL_OK);
        }
        c->n_held = 0;
        (void) sd_event_source_set_enabled(c->held_timer, SD_EVENT_OFF);
}

/* A reading as text, marked at the level the server puts its sensor at with it. At or above a limit, that
 * is known at once: crit at or above crit, else high at or above high. Below the limit of the level the
 * sensor is at, it has left that level or is within its hysteresis, which only the server knows: it says
 * which in an ALARM line right after the tick's readings, and the reading (with the rest of its tick, for
 * their order) waits for the next line. Readings of a sensor at ok or low are shown at once. */
static void show_reading(Client *c, const Reading *r) {
        const SensorLevel *s = sensor_level(c, r->sensor);
        Reading shown = *r;
        Level at;

        if (c->plot) {
                plot_add(c->plot, r);
                return;
        }
        if (!s) {
                show(c, &shown, LEVEL_OK);
                return;
        }
        if (s->limits.has_crit && r->millicelsius >= s->limits.crit)
                at = LEVEL_CRIT;
        else if (s->limits.has_high && r->millicelsius >= s->limits.high)
                at = s->level == LEVEL_CRIT ? _LEVEL_MAX : LEVEL_HIGH;
        else
                at = s->level == LEVEL_HIGH || s->level == LEVEL_CRIT ? _LEVEL_MAX : s->level;

        if (at != _LEVEL_MAX && c->n_held == 0) {
                show(c, &shown, at);
                return;
        }
        /* A tick has a reading of each sensor at most: a server that sends more gets them shown. */
        if (c->n_held > c->n_levels)
                flush_held(c);
        if (c->held_size < c->n_levels + 1) {
                HeldReading *p = reallocarray(c->held, c->n_levels + 1, sizeof(HeldReading));

                if (!p) {
                        /* No room to wait: shown now, at the level the server said last. */
                        show(c, &shown, s->level);
                        return;
                }
                c->held = p;
                c->held_size = c->n_levels + 1;
        }
        if (c->n_held == 0) {
                if (!c->held_timer &&
                                sd_event_add_time_relative(c->event, &c->held_timer, CLOCK_MONOTONIC, HELD_WAIT_USEC, 0,
                                                on_held_timer, c) < 0) {
                        show(c, &shown, s->level);
                        return;
                }
                (void) sd_event_source_set_time_relative(c->held_timer, HELD_WAIT_USEC);
                (void) sd_event_source_set_enabled(c->held_timer, SD_EVENT_ONESHOT);
        }
        c->held[c->n_held] = (HeldReading) { .reading = *r, .named = r->sensor };
        c->held[c->n_held].reading.sensor = NULL;
        if (r->sensor)
                snprintf(c->held[c->n_held].name, sizeof(c->held[c->n_held].name), "%s", r->sensor);
        c->n_held++;
}

static int handle_reading(Client *c, const Reading *r) {
        size_t k = failing_index(c, r->sensor);
        char who[SOCKET_ADDRESS_STRING_MAX + NI_MAXHOST + 64], text[128];
        TickNews news;

        c->last_reading = now_usec(c);
        if (c->lost_at > 0) {
                char span[64];

                log_notice("Back after %s away%s.", format_timespan(span, sizeof(span), now_usec(c) - c->lost_at),
                                c->resumed ? ", from the server's history" : "");
                c->lost_at = 0;
        }
        if (server_link_tick(c->link, r->seq, &news)) {
                if (tick_news_any(&news))
                        log_full_errno(news.restarted ? LOG_NOTICE : LOG_WARNING, 0, "%s",
                                        tick_news_format(&news, text, sizeof(text)));
                if (c->options->count > 0 && c->received >= c->options->count)
                        /* The server ends after as many ticks as we asked for: this is none of ours. */
                        return quit(c, false);
                c->received++;
                c->last_seq = r->seq;
                if (c->options->count > 0 && c->received >= c->options->count) {
                        /* Wait for END (the rest of this tick's lines come first), so that the server sees us
                         * leave in good order rather than a reset. */
                        c->state = STATE_ENDING;
                        server_link_set_silence(c->link, c->options->timeout);
                }
        }

        if (c->failing[k]) {
                describe(c, r->sensor, who, sizeof(who));
                log_notice("%s gives readings again.", who);
        }
        c->failing[k] = false;

        show_reading(c, r);
        if (c->options->once && !c->options->all && ++c->answers >= MAX(c->options->n_sensors, (size_t) 1))
                return once_done(c);
        return 0;
}

static int handle_unavailable(Client *c, const Reply *reply) {
        size_t k = failing_index(c, reply->reading.sensor);
        char who[SOCKET_ADDRESS_STRING_MAX + NI_MAXHOST + 64];

        describe(c, reply->reading.sensor, who, sizeof(who));
        server_link_note_unavailable(c->link);
        if (c->options->once && !c->options->all && c->options->n_sensors <= 1) {
                server_link_fail(c->link, EX_TEMPFAIL, -ENODATA, "%s has no reading: %s", who, reply->text);
                return 0;
        }
        if (!c->failing[k])
                log_warning("%s has no reading: %s", who, reply->text);
        c->failing[k] = true;
        /* -t bounds the wait for a reading too, not only for a line: errors alone are no progress. */
        if (!c->options->once &&
                        now_usec(c) - c->last_reading > server_link_stream_silence(c->link, c->options->timeout)) {
                char span[64];

                return link_fail(c, EX_TEMPFAIL, -ETIMEDOUT, "No reading from %s for %s", c->destination,
                                format_timespan(span, sizeof(span), now_usec(c) - c->last_reading));
        }
        if (c->options->once) {
                c->answered_all = false;
                if (!c->options->all && ++c->answers >= c->options->n_sensors)
                        return once_done(c);
        }
        return 0;
}

/* Keeps a name (and its source, for --list) from a SENSOR line: -EBADMSG for one said twice, or past what
 * any machine has. */
static int add_name(Client *c, const char *name, const char *source) {
        char **names, **sources;
        bool *failing;

        if (c->n_names >= CLIENT_SENSORS_MAX)
                return -EBADMSG;
        for (size_t i = 0; i < c->n_names; i++)
                if (strcmp(c->names[i], name) == 0)
                        return -EBADMSG;

        names = reallocarray(c->names, c->n_names + 1, sizeof(char *));
        if (names)
                c->names = names;
        sources = reallocarray(c->sources, c->n_names + 1, sizeof(char *));
        if (sources)
                c->sources = sources;
        failing = reallocarray(c->failing, c->n_names + 2, sizeof(bool));
        if (failing)
                c->failing = failing;
        if (!names || !sources || !failing)
                return -ENOMEM;
        c->names[c->n_names] = strdup(name);
        c->sources[c->n_names] = strdup(source);
        if (!c->names[c->n_names] || !c->sources[c->n_names]) {
                free(c->names[c->n_names]);
                free(c->sources[c->n_names]);
                return -ENOMEM;
        }
        c->n_names++;
        c->failing[c->n_names - 1] = c->failing[c->n_names] = false;
        return 0;
}

static int print_list(Client *c) {
        size_t width = strlen("NAME"), source_width = strlen("SOURCE");

        for (size_t i = 0; i < c->n_names; i++) {
                width = MAX(width, strlen(c->names[i]));
                source_width = MAX(source_width, strlen(c->sources[i]));
        }
        if (c->options->format == OUTPUT_JSON) {
                fputc('[', stdout);
                for (size_t i = 0; i < c->n_names; i++) {
                        char low[32], high[32], crit[32];
                        /* None from a server that answered no LIMIT line, or none for this sensor */
                        const SensorLevel *sl = c->have_limits ? sensor_level(c, c->names[i]) : NULL;
                        const Limits *l = sl ? &sl->limits : NULL;

                        fprintf(stdout, "%s{\"name\":\"%s\",\"source\":", i > 0 ? "," : "", c->names[i]);
                        json_write_string(stdout, c->sources[i]);
                        if (l)
                                fprintf(stdout, ",\"level\":\"%s\",\"low\":%s,\"high\":%s,\"crit\":%s",
                                                level_to_string(sl->level), format_limit(low, l->has_low, l->low, "null"),
                                                format_limit(high, l->has_high, l->high, "null"),
                                                format_limit(crit, l->has_crit, l->crit, "null"));
                        fputc('}', stdout);
                }
                fputs("]\n", stdout);
        } else {
                if (c->options->legend && c->have_limits)
                        printf("%-*s %-*s %-5s %8s %8s %8s\n", (int) width, "NAME", (int) source_width, "SOURCE", "LEVEL",
                                        "LOW", "HIGH", "CRIT");
                else if (c->options->legend)
                        printf("%-*s %s\n", (int) width, "NAME", "SOURCE");
                for (size_t i = 0; i < c->n_names; i++) {
                        char low[32], high[32], crit[32];
                        const SensorLevel *sl = c->have_limits ? sensor_level(c, c->names[i]) : NULL;
                        const Limits *l = sl ? &sl->limits : NULL;

                        printf("%-*s ", (int) width, c->names[i]);
                        terminal_write_safe(stdout, c->sources[i]);
                        if (l)
                                printf("%*s %-5s %8s %8s %8s", (int) (source_width - strlen(c->sources[i])), "",
                                                level_to_string(sl->level), format_limit(low, l->has_low, l->low, "-"),
                                                format_limit(high, l->has_high, l->high, "-"),
                                                format_limit(crit, l->has_crit, l->crit, "-"));
                        fputc('\n', stdout);
                }
        }
        fflush(stdout);
        return finish(c, EX_OK);
}

/* A LIMIT line: a sensor's limits and level, in SENSORS order; the plot draws them. */
static int take_limit(Client *c, const Reply *reply) {
        SensorLevel *p;

        if (sensor_level(c, reply->reading.sensor) || c->n_levels >= CLIENT_SENSORS_MAX)
                return -EBADMSG;
        p = reallocarray(c->levels, c->n_levels + 1, sizeof(SensorLevel));
        if (!p)
                return -ENOMEM;
        c->levels = p;
        p = &c->levels[c->n_levels++];
        *p = (SensorLevel) { .limits = reply->limits, .level = reply->reading.level };
        snprintf(p->name, sizeof(p->name), "%s", reply->reading.sensor);
        if (c->plot)
                plot_set_limits(c->plot, p->name, c->n_levels == 1, &p->limits);
        return 0;
}

/* A change of level of a sensor whose readings are shown. */
static void take_alarm(Client *c, const Reply *reply) {
        SensorLevel *s = sensor_level(c, reply->reading.sensor);

        if (s)
                s->level = reply->reading.level;
}

/* ALARMS: each change of level (and where each sensor not at ok is, first); with -n, so many of them. */
static int handle_alarm(Client *c, const Reply *reply) {
        output_alarm(&c->output, &reply->reading);
        c->received++;
        if (c->options->count > 0 && c->received >= c->options->count)
                return quit(c, true);
        return 0;
}

/* The names are known: the text's column for them, and the plot's lines. */
static int sensors_known(Client *c) {
        size_t width = 0;
        int r;

        if (c->n_names > 1)
                for (size_t i = 0; i < c->n_names; i++)
                        width = MAX(width, strlen(c->names[i]));
        c->output.name_width = width;
        if (c->options->plot && !c->plot) {
                char title[SOCKET_ADDRESS_STRING_MAX + NI_MAXHOST + 64];

                snprintf(title, sizeof(title), "thermo-client: %s", c->destination);
                r = plot_new(stdout, title, c->options->unit, (const char *const *) c->names,
                                client_options_named(c->options) ? c->n_names : 0, &c->plot);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A held reading of --since's span (the plot's: all): at the level its value puts it at against the
 * limits, as the server's hysteresis then is not known. */
static void show_held(Client *c, const Reading *r) {
        const SensorLevel *s = sensor_level(c, r->sensor);
        Reading shown = *r;
        Level at = LEVEL_OK;

        if (c->plot) {
                plot_add_quietly(c->plot, r);
                return;
        }
        if (s && s->limits.has_crit && r->millicelsius >= s->limits.crit)
                at = LEVEL_CRIT;
        else if (s && s->limits.has_high && r->millicelsius >= s->limits.high)
                at = LEVEL_HIGH;
        show(c, &shown, at);
}

/* The stream, after the held readings: from the newest of them on, or (--once) nothing more. */
static int start_stream(Client *c) {
        char request[2048];
        int n;

        c->history_shown = true;
        if (c->plot)
                plot_redraw(c->plot);
        if (c->options->once)
                return finish(c, EX_OK);
        c->resuming = c->history_last > 0;
        c->last_seq = c->history_last;
        n = format_stream(c, request, sizeof(request), 0);
        set_running(c);
        return send_lines(c, request, n) < 0 ? link_fail(c, EX_TEMPFAIL, -EIO, "Failed to send request to %s",
                                                         c->destination) : 0;
}

/* HISTORY's lines: the held readings of the span shown, the tick's failures passed over (said live when
 * they were), a change of level kept; END, or ERR 400 from a server that keeps no history. */
static int handle_history_line(Client *c, const Reply *reply, const char *line) {
        switch (reply->type) {
        case REPLY_TEMP: {
                struct timespec ts;
                uint64_t now_ms;

                clock_gettime(CLOCK_REALTIME, &ts);
                now_ms = (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
                if (c->options->plot || reply->reading.time_ms + c->options->since / 1000 >= now_ms)
                        show_held(c, &reply->reading);
                c->history_last = MAX(c->history_last, reply->reading.seq);
                return 0;
        }
        case REPLY_ERR:
                if (reply->error == 503)
                        return 0;
                if (reply->error == 400) {
                        log_notice("%s keeps no history: nothing from before now.", c->destination);
                        return start_stream(c);
                }
                if (reply->error == 404)
                        return link_fail(c, EX_USAGE, -ENOENT, "%s has no such sensor (thermo-client --list shows them)",
                                        c->destination);
                break;
        case REPLY_ALARM:
                take_alarm(c, reply);
                return 0;
        case REPLY_END:
                return start_stream(c);
        default:
                break;
        }
        return link_fail(c, EX_PROTOCOL, -EBADMSG, "Unexpected line from %s: %s", c->destination, line);
}

static int handle_line(Client *c, int r, const Reply *reply, const char *line) {
        if (r < 0)
                return link_fail(c, EX_PROTOCOL, r, "Unexpected line from %s: %s", c->destination, line);

        /* All shown: what comes before BYE (a tick's lines, an alarm) is no longer ours to show. */
        if (c->state == STATE_QUITTING)
                return reply->type == REPLY_BYE ? finish(c, EX_OK) : 0;

        if (c->state == STATE_LISTING) {
                if (reply->type == REPLY_SENSOR) {
                        r = add_name(c, reply->reading.sensor, reply->text);
                        return r < 0 ? link_fail(c, r == -ENOMEM ? EX_OSERR : EX_PROTOCOL, r,
                                                 "Failed to keep the sensors' names: %m") : 0;
                }
                if (reply->type != REPLY_END)
                        return link_fail(c, EX_PROTOCOL, -EBADMSG, "Unexpected line from %s: %s", c->destination, line);
                if (c->options->list) {
                        c->state = STATE_LIMITS;
                        return 0;
                }
                r = sensors_known(c);
                if (r < 0)
                        return link_fail(c, EX_OSERR, r, "Failed to set up the plot: %m");
                if (shows_levels(c->options))
                        c->state = STATE_LIMITS;
                else
                        after_prelude(c);
                return 0;
        }

        /* A server that does not know LIMITS and ALARMS (an older one) says ERR 400 to each: listed, and streamed,
         * without levels. */
        if (c->state == STATE_LIMITS) {
                bool done = reply->type == REPLY_END || (reply->type == REPLY_ERR && reply->error == 400);

                if (reply->type == REPLY_LIMIT) {
                        c->have_limits = true;
                        r = take_limit(c, reply);
                        return r < 0 ? link_fail(c, r == -ENOMEM ? EX_OSERR : EX_PROTOCOL, r,
                                                 "Failed to keep the sensors' limits: %m") : 0;
                }
                if (done && c->options->list)
                        return print_list(c);
                if (done) {
                        c->state = STATE_ALARMS;
                        return 0;
                }
                return link_fail(c, EX_PROTOCOL, -EBADMSG, "Unexpected line from %s: %s", c->destination, line);
        }
        if (c->state == STATE_ALARMS) {
                if (reply->type == REPLY_OK_ALARMS || (reply->type == REPLY_ERR && reply->error == 400)) {
                        after_prelude(c);
                        return 0;
                }
                return link_fail(c, EX_PROTOCOL, -EBADMSG, "Unexpected line from %s: %s", c->destination, line);
        }

        if (c->state == STATE_HISTORY)
                return handle_history_line(c, reply, line);

        /* Held readings wait for their tick's ALARM lines (and the tick's other readings, and its errors, said
         * apart on stderr): anything else means those are all here. */
        if (c->n_held > 0 && !((reply->type == REPLY_TEMP || reply->type == REPLY_ALARM) &&
                                reply->reading.seq == c->held[0].reading.seq) &&
                        !(reply->type == REPLY_ERR && reply->error == 503))
                flush_held(c);

        switch (reply->type) {
        case REPLY_TEMP:
                return handle_reading(c, &reply->reading);
        case REPLY_ALARM:
                if (c->options->alarms)
                        return handle_alarm(c, reply);
                take_alarm(c, reply);
                return 0;
        case REPLY_ERR:
                if (reply->error == 400 && c->resuming) {
                        /* A server that keeps no history (an older one): the stream again without after=, from what
                         * comes now, the gap said. */
                        char request[2048];
                        int n;

                        log_notice("%s keeps no history: resuming with what comes now.", c->destination);
                        c->resuming = false;
                        n = format_stream(c, request, sizeof(request), 0);
                        return send_lines(c, request, n) < 0 ?
                                link_fail(c, EX_TEMPFAIL, -EIO, "Failed to send request to %s", c->destination) : 0;
                }
                if (reply->error == 404)
                        return link_fail(c, EX_USAGE, -ENOENT, "%s has no such sensor (thermo-client --list shows them)",
                                        c->destination);
                if (reply->error != 503)
                        return link_fail(c, EX_PROTOCOL, -EBADMSG, "%s says: %s", c->destination, line);
                return handle_unavailable(c, reply);
        case REPLY_END:
                if (c->options->once)
                        return once_done(c);
                return quit(c, true);
        case REPLY_BYE:
                return link_fail(c, EX_TEMPFAIL, -ECONNRESET, "%s is going away (BYE)", c->destination);
        case REPLY_HELLO:
                return link_fail(c, EX_PROTOCOL, -EBADMSG, "%s greeted us twice", c->destination);
        case REPLY_OK_STREAM:
                /* after= taken: any ERR 400 from now on is no server without a history. */
                c->resumed = c->resuming;
                c->resuming = false;
                return 0;
        default:
                return 0; /* replies to requests we did not send */
        }
}

static void on_line(ServerLink *l, int r, const Reply *reply, const char *line) {
        Client *c = server_link_get_userdata(l);

        log_debug("Received from %s: %s", c->destination, line);
        handle_line(c, r, reply, line);
}

static const ServerLinkOps link_ops = {
        .greeted = on_greeted,
        .line = on_line,
        .failed = on_failed,
};

static int on_resize(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Client *c = userdata;

        if (c->plot)
                plot_redraw(c->plot);
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Client *c = userdata;
        const ClientOptions *o = c->options;

        /* Ctrl-C ends a stream the user watched: that is success, and every line shown is whole. A read
         * with an end (--count, --once, --list) cut short is not: a script must not take it for one. */
        if ((o->count > 0 && c->received < o->count) || o->once || o->list) {
                c->plot = plot_free(c->plot);
                log_notice("Interrupted by %s before %s.", strsignal((int) si->ssi_signo),
                                o->list ? "the list came" : o->once ? "the reading came" : "every reading came");
                finish(c, 128 + (int) si->ssi_signo);
                return 0;
        }
        if (c->state == STATE_RUNNING || c->state == STATE_ENDING)
                quit(c, false);
        else
                finish(c, EX_OK);
        return 0;
}

int client_new(const ClientOptions *options, Client **ret) {
        _cleanup_(client_freep) Client *c = NULL;
        int r;

        assert(options);
        assert(ret);

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->options = options;
        c->output = (Output) {
                .f = stdout,
                .format = options->format,
                .unit = options->unit,
                .named = client_options_named(options),
                .header_done = !options->legend,
                .colors = terminal_colors(fileno(stdout)),
        };
        c->failing = calloc(1, sizeof(bool));
        if (!c->failing)
                return -ENOMEM;
        for (size_t i = 0; i < options->n_sensors; i++) {
                r = add_name(c, options->sensors[i], "");
                if (r < 0)
                        return r;
        }

        r = sd_event_default(&c->event);
        if (r < 0)
                return r;

        r = server_link_new(c->event,
                        &(ServerLinkConfig) {
                                .host = options->host,
                                .port = options->port,
                                .unix_path = options->unix_path,
                                .timeout = options->timeout,
                        },
                        &link_ops, c, &c->link);
        if (r < 0)
                return r;
        c->destination = server_link_get_destination(c->link);

        r = signals_add_stop(c->event, on_signal, c);
        if (r < 0)
                return r;

        if (options->plot) {
                sigset_t mask;

                sigemptyset(&mask);
                sigaddset(&mask, SIGWINCH);
                if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                        return -errno;
                r = sd_event_add_signal(c->event, NULL, SIGWINCH, on_resize, c);
                if (r < 0)
                        return r;
        }
        /* With --all, the names come from the server. */
        if (!options->all && !options->list) {
                r = sensors_known(c);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(c);
        return 0;
}

Client *client_free(Client *c) {
        if (!c)
                return NULL;
        server_link_free(c->link);
        plot_free(c->plot);
        for (size_t i = 0; i < c->n_names; i++) {
                free(c->names[i]);
                free(c->sources[i]);
        }
        free(c->names);
        free(c->sources);
        free(c->levels);
        free(c->held);
        sd_event_source_disable_unref(c->held_timer);
        free(c->failing);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

int client_run(Client *c) {
        assert(c);

        server_link_start(c->link);
        return sd_event_loop(c->event);
}
