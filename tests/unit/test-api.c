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
        return api_write_sensors(f, sensors, 2, userdata);
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
                        "{\"sensors\":[{\"name\":\"room\",\"label\":\"Wohnzimmer \\\"süd\\\" \\ufffd\","
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
                cmocka_unit_test(test_error),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
