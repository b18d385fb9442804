/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api.h"
#include "json-check.h"

#define USEC 1000000ULL

static char *written(int (*write)(FILE *f, void *userdata), void *userdata) {
        char *body = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&body, &size);

        assert_non_null(f);
        assert_int_equal(write(f, userdata), 0);
        assert_int_equal(fclose(f), 0);
        /* One JSON value, and its newline. */
        assert_true(size > 0 && body[size - 1] == '\n');
        assert_true(json_check(body, size - 1));
        return body;
}

static const Limits room_limits = { .low = -10000, .high = 80000, .has_low = true, .has_high = true };
static const Limits none = {};

static const ApiSensor sensors[] = {
        { .name = "room", .label = "Wohnzimmer \"süd\" \xff", .source = "file:/run/room", .limits = &room_limits },
        { .name = "gone", .source = "file:/run/gone", .limits = &none },
};

static int write_sensors(FILE *f, void *userdata) {
        static const ApiServer server = { .host = "pi", .server = "thermo-server", .version = "1.2.3",
                                          .run = "b0-2a", .interval_ms = 1000, .history_ms = 600000 };

        return api_write_sensors(f, &server, sensors, 2, userdata);
}

/* Each sensor with its reading (null where it has none, or before any), level and limits; a label that is
 * anybody's text stays a JSON string. */
static void test_sensors(void **state) {
        const Reading readings[] = {
                { .seq = 42, .time_ms = 1796162402123, .millicelsius = -5250, .level = LEVEL_LOW },
                { .seq = 42, .time_ms = 1796162402123, .error = -ENODATA },
        };
        char *body = written(write_sensors, (void *) readings);

        assert_string_equal(body,
                        "{\"host\":\"pi\",\"server\":\"thermo-server\",\"version\":\"1.2.3\",\"run\":\"b0-2a\","
                        "\"interval_ms\":1000,\"history_ms\":600000,\"sensors\":[{\"name\":\"room\","
                        "\"label\":\"Wohnzimmer \\\"süd\\\" \\ufffd\","
                        "\"source\":\"file:/run/room\",\"reading\":{\"seq\":42,\"time_ms\":1796162402123,"
                        "\"celsius\":-5.250},\"level\":\"low\",\"limits\":{\"low\":-10.000,\"high\":80.000,"
                        "\"crit\":null}},{\"name\":\"gone\",\"label\":null,\"source\":\"file:/run/gone\","
                        "\"reading\":{\"seq\":42,\"time_ms\":1796162402123,\"celsius\":null},\"level\":\"ok\","
                        "\"limits\":{\"low\":null,\"high\":null,\"crit\":null}}]}\n");
        free(body);
        body = written(write_sensors, NULL);
        assert_non_null(strstr(body, "\"reading\":null,\"level\":\"ok\""));
        free(body);
}

typedef struct Query {
        History *h;
        int sensor;
        uint64_t after;
} Query;

static int write_history(FILE *f, void *userdata) {
        Query *q = userdata;

        return api_write_history(f, q->h, sensors, 2, q->sensor, q->after);
}

/* The held ticks after a seq, of one sensor or each, oldest first. */
static void test_history(void **state) {
        History *h = NULL;
        char *body;

        assert_int_equal(history_new(10 * USEC, USEC, 2, &h), 0);
        for (uint64_t seq = 1; seq <= 3; seq++) {
                Reading r[2] = {
                        { .seq = seq, .time_ms = 1000 * seq, .millicelsius = 20000 + (int64_t) seq },
                        { .seq = seq, .time_ms = 1000 * seq, .error = -EIO },
                };

                history_add(h, seq * USEC, r, 2);
        }
        body = written(write_history, &(Query) { .h = h, .sensor = 0, .after = 1 });
        assert_string_equal(body, "{\"oldest_seq\":1,\"newest_seq\":3,\"readings\":["
                                  "{\"sensor\":\"room\",\"seq\":2,\"time_ms\":2000,\"celsius\":20.002},"
                                  "{\"sensor\":\"room\",\"seq\":3,\"time_ms\":3000,\"celsius\":20.003}]}\n");
        free(body);
        body = written(write_history, &(Query) { .h = h, .sensor = -1, .after = 2 });
        assert_string_equal(body, "{\"oldest_seq\":1,\"newest_seq\":3,\"readings\":["
                                  "{\"sensor\":\"room\",\"seq\":3,\"time_ms\":3000,\"celsius\":20.003},"
                                  "{\"sensor\":\"gone\",\"seq\":3,\"time_ms\":3000,\"celsius\":null}]}\n");
        free(body);
        body = written(write_history, &(Query) { .h = h, .sensor = -1, .after = 3 });
        assert_string_equal(body, "{\"oldest_seq\":1,\"newest_seq\":3,\"readings\":[]}\n");
        free(body);
        history_free(h);
}

/* An event's data: one JSON document on one line, checked, and a blank line after. */
static void assert_event_data(const char *event, const char *prefix) {
        const char *data = strstr(event, "data: "), *end;

        assert_non_null(data);
        assert_true(strncmp(event, prefix, strlen(prefix)) == 0);
        data += strlen("data: ");
        end = strchr(data, '\n');
        assert_non_null(end);
        assert_true(json_check(data, (size_t) (end - data)));
        assert_true(end[1] == '\n');
}

static char *event_written(int (*write)(FILE *f, const void *userdata), const void *userdata) {
        char *body = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&body, &size);

        assert_non_null(f);
        assert_int_equal(write(f, userdata), 0);
        assert_int_equal(fclose(f), 0);
        return body;
}

static int write_tick(FILE *f, const void *userdata) {
        const Reading *r = userdata;

        return api_write_tick_event(f, r[0].seq, r, 2);
}

static int write_alarms(FILE *f, const void *userdata) {
        return api_write_alarm_events(f, userdata, 2);
}

/* A tick is an event with its seq as id and every sensor's reading; a change of level an alarm event;
 * a tick without a reading at all has no id. */
static void test_events(void **state) {
        Reading r[2] = {
                { .sensor = "room", .seq = 7, .time_ms = 7000, .millicelsius = 81500, .level = LEVEL_HIGH, .alarm = true },
                { .sensor = "gone", .seq = 7, .time_ms = 7000, .error = -ENODEV },
        };
        char *body = event_written(write_tick, r);

        assert_string_equal(body, "id: 7\ndata: {\"seq\":7,\"readings\":["
                                  "{\"sensor\":\"room\",\"seq\":7,\"time_ms\":7000,\"celsius\":81.500},"
                                  "{\"sensor\":\"gone\",\"seq\":7,\"time_ms\":7000,\"celsius\":null}]}\n\n");
        assert_event_data(body, "id: 7\n");
        free(body);
        body = event_written(write_alarms, r);
        assert_string_equal(body, "event: alarm\ndata: {\"sensor\":\"room\",\"seq\":7,\"time_ms\":7000,"
                                  "\"celsius\":81.500,\"level\":\"high\"}\n\n");
        assert_event_data(body, "event: alarm\n");
        free(body);

        r[0].error = -EIO;
        r[0].alarm = false;
        body = event_written(write_tick, r);
        assert_string_equal(body, "data: {\"seq\":null,\"readings\":["
                                  "{\"sensor\":\"room\",\"seq\":null,\"time_ms\":7000,\"celsius\":null},"
                                  "{\"sensor\":\"gone\",\"seq\":null,\"time_ms\":7000,\"celsius\":null}]}\n\n");
        assert_event_data(body, "data: ");
        free(body);
        body = event_written(write_alarms, r);
        assert_string_equal(body, "");
        free(body);
}

typedef struct Held {
        History *h;
        uint64_t seq;
} Held;

static int write_held(FILE *f, const void *userdata) {
        const Held *q = userdata;

        return api_write_held_tick_event(f, q->h, q->seq, sensors, 2);
}

/* A held tick, as it went out live, but for a sensor that was not there then. */
static void test_held_events(void **state) {
        Reading r[1] = { { .seq = 3, .time_ms = 3000, .millicelsius = -500 } };
        History *h = NULL;
        char *body;

        assert_int_equal(history_new(10 * USEC, USEC, 1, &h), 0);
        history_add(h, USEC, r, 1);
        assert_int_equal(history_resize(h, 2), 0);
        body = event_written(write_held, &(Held) { h, 3 });
        assert_string_equal(body, "id: 3\ndata: {\"seq\":3,\"readings\":["
                                  "{\"sensor\":\"room\",\"seq\":3,\"time_ms\":3000,\"celsius\":-0.500}]}\n\n");
        assert_event_data(body, "id: 3\n");
        free(body);
        history_free(h);
}

static int write_error(FILE *f, void *userdata) {
        return api_write_error(f, userdata);
}

static void test_error(void **state) {
        char *body = written(write_error, (void *) "no such \"sensor\"");

        assert_string_equal(body, "{\"error\":\"no such \\\"sensor\\\"\"}\n");
        free(body);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sensors),
                cmocka_unit_test(test_history),
                cmocka_unit_test(test_events),
                cmocka_unit_test(test_held_events),
                cmocka_unit_test(test_error),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
