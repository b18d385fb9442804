/* SPDX-License-Identifier: MIT */
/* The page at /, in a real browser: Debian's chromium, headless, over WebDriver (webdriver.py does what it
 * is told; every assertion is here). A server of two sensors from a sysfs of the test's own: the page
 * shows each, with its label as text whatever it holds, its value, and its level; the value moves on with
 * the stream; a reading past the limit shows as high; the server killed shows as gone, and started again
 * it is back, moving on. Light and dark, a desktop's width and a phone's. Screenshots are kept as the
 * test's artifacts (THERMO_ARTIFACTS). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "http-harness.h"

/* Chromium takes seconds to start; a page under test, a few to catch up. */
#define BROWSER_TIMEOUT_MS 30000
#define WAIT_MS 10000

/* A label as a hostile sysfs (or sensors.conf) could give one: markup, which the page must show as it is. */
#define HOSTILE_LABEL "<img src=x onerror=\"document.body.dataset.pwned=1\">Package & \"id\" 0"

static char root[64], input[160];

typedef struct Browser {
        pid_t pid;
        int in;         /* its stdin: our commands */
        int out;        /* its stdout: its answers */
} Browser;

static int64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A line from the browser's pipe (harness_read_line() is for sockets), without its newline: its length,
 * or -ETIMEDOUT, or -EPIPE where the helper has gone. */
static int read_answer(int fd, char *buf, size_t size, int timeout_ms) {
        int64_t deadline = now_ms() + timeout_ms;
        size_t n = 0;

        while (n + 1 < size) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                int left = (int) (deadline - now_ms());
                char c;

                if (left <= 0 || poll(&pfd, 1, left) <= 0)
                        return -ETIMEDOUT;
                if (read(fd, &c, 1) != 1)
                        return -EPIPE;
                if (c == '\n')
                        break;
                buf[n++] = c;
        }
        buf[n] = '\0';
        return (int) n;
}

__attribute__((format(printf, 1, 2))) static void make_dir(const char *format, ...) {
        char path[256];
        va_list ap;

        va_start(ap, format);
        vsnprintf(path, sizeof(path), format, ap);
        va_end(ap);
        assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

static void write_in_root(const char *file, const char *content) {
        char path[256];

        snprintf(path, sizeof(path), "%s/%s", root, file);
        harness_write_file(path, content);
}

/* A sysfs of two sensors: a thermal zone, and an hwmon input with a label and a high limit of 80 °C. */
static int setup(void **state) {
        snprintf(root, sizeof(root), "/tmp/thermo-page-XXXXXX");
        assert_non_null(mkdtemp(root));
        harness_add_thermal_zone(root, 0, "cpu-thermal\n", "41000\n");
        make_dir("%s/class/hwmon", root);
        make_dir("%s/class/hwmon/hwmon0", root);
        write_in_root("class/hwmon/hwmon0/name", "coretemp\n");
        write_in_root("class/hwmon/hwmon0/temp1_label", HOSTILE_LABEL "\n");
        write_in_root("class/hwmon/hwmon0/temp1_max", "80000\n");
        write_in_root("class/hwmon/hwmon0/temp1_input", "45000\n");
        snprintf(input, sizeof(input), "class/hwmon/hwmon0/temp1_input");
        setenv("THERMO_SYSFS_ROOT", root, 1);
        /* No sensors.conf of the machine's: only the test's sysfs. */
        setenv("SENSORS_CONF", "/dev/null", 1);
        return 0;
}

static int teardown(void **state) {
        harness_remove_tree(root);
        return harness_kill_all(state);
}

static void browser_start(Browser *b, bool dark) {
        const char *script = getenv("THERMO_WEBDRIVER");
        char line[256];
        int in[2], out[2];

        assert_non_null(script);
        assert_int_equal(pipe2(in, O_CLOEXEC), 0);
        assert_int_equal(pipe2(out, O_CLOEXEC), 0);
        b->pid = fork();
        assert_true(b->pid >= 0);
        if (b->pid == 0) {
                dup2(in[0], STDIN_FILENO);
                dup2(out[1], STDOUT_FILENO);
                execl("/usr/bin/python3", "python3", script, dark ? "--dark" : "--light", (char *) NULL);
                _exit(127);
        }
        harness_track(b->pid);
        close(in[0]);
        close(out[1]);
        b->in = in[1];
        b->out = out[0];
        assert_true(read_answer(b->out, line, sizeof(line), BROWSER_TIMEOUT_MS) > 0);
        assert_string_equal(line, "ok ready");
}

/* A command's answer, "ok" and what follows it, in value. */
__attribute__((format(printf, 4, 5))) static void ask(Browser *b, char *value, size_t size, const char *format, ...) {
        char command[512], line[4096];
        const char *answer;
        va_list ap;
        int n;

        va_start(ap, format);
        n = vsnprintf(command, sizeof(command) - 1, format, ap);
        va_end(ap);
        command[n++] = '\n';
        assert_int_equal(write(b->in, command, (size_t) n), n);
        assert_true(read_answer(b->out, line, sizeof(line), BROWSER_TIMEOUT_MS) >= 0);
        if (strncmp(line, "ok", 2) != 0)
                fail_msg("%.*s: %s", n - 1, command, line);
        answer = line[2] == ' ' ? line + 3 : "";
        assert_true(strlen(answer) < size);
        memcpy(value, answer, strlen(answer) + 1);
}

static void browser_stop(Browser *b) {
        (void) write(b->in, "quit\n", 5);
        close(b->in);
        close(b->out);
        assert_int_equal(harness_wait_pid(b->pid, BROWSER_TIMEOUT_MS), 0);
}

/* Waits till what the command gives is want (or, with differ, is not): the last answer. */
static void wait_for(Browser *b, const char *command, const char *want, bool differ, char *value, size_t size) {
        int64_t deadline = now_ms() + WAIT_MS;

        for (;;) {
                ask(b, value, size, "%s", command);
                if ((strcmp(value, want) == 0) != differ)
                        return;
                if (now_ms() > deadline)
                        fail_msg("%s: '%s', waiting for %s'%s'", command, value, differ ? "other than " : "", want);
                usleep(100 * 1000);
        }
}

static void wait_is(Browser *b, const char *command, const char *want) {
        char value[1024];

        wait_for(b, command, want, false, value, sizeof(value));
}

/* A screenshot kept as an artifact: a PNG, not an empty one. */
static void screenshot(Browser *b, const char *name) {
        const char *dir = getenv("THERMO_ARTIFACTS");
        char path[512], value[64], magic[8];
        FILE *f;

        assert_non_null(dir);
        snprintf(path, sizeof(path), "%s/%s-%s", dir, harness_server_name(), name);
        ask(b, value, sizeof(value), "screenshot %s", path);
        assert_true(strtol(value, NULL, 10) > 10000);
        f = fopen(path, "re");
        assert_non_null(f);
        assert_int_equal(fread(magic, 1, sizeof(magic), f), sizeof(magic));
        fclose(f);
        assert_memory_equal(magic, "\x89PNG\r\n\x1a\n", 8);
}

static void start(ServerProcess *s) {
        harness_start_activated_with(s, (const char *const[]) { "--interval", "200ms", NULL },
                        &(HarnessOptions) { .metrics = true });
}

#define CARD(i) "section.sensor:nth-of-type(" #i ")"

static void test_the_page_live(void **state) {
        char url[64], value[1024], seq[32];
        ServerProcess s;
        Browser b;

        start(&s);
        browser_start(&b, false);
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s.metrics_port);
        ask(&b, value, sizeof(value), "get %s", url);
        wait_is(&b, "attr #status data-state", "live");

        /* Every sensor, with a value; the label as text, markup and all, and none of it run. */
        ask(&b, value, sizeof(value), "count section.sensor");
        assert_string_equal(value, "2");
        ask(&b, value, sizeof(value), "text " CARD(1) " h2");
        assert_string_equal(value, "cpu-thermal");
        wait_is(&b, "attr " CARD(1) " .value data-celsius", "41");
        ask(&b, value, sizeof(value), "text " CARD(2) " h2");
        assert_string_equal(value, HOSTILE_LABEL);
        ask(&b, value, sizeof(value), "count img");
        assert_string_equal(value, "0");
        ask(&b, value, sizeof(value), "attr body data-pwned");
        assert_string_equal(value, "none");
        wait_is(&b, "text " CARD(2) " .value", "45.0 °C");
        ask(&b, value, sizeof(value), "attr " CARD(2) " data-level");
        assert_string_equal(value, "ok");
        ask(&b, value, sizeof(value), "text " CARD(2) " .limits");
        assert_string_equal(value, "high 80.0 °C");
        /* Its chart has a line drawn. */
        ask(&b, value, sizeof(value), "attr " CARD(2) " path.trace d");
        assert_true(value[0] == 'M');

        /* The value moves on with the stream, and the ticks with it. */
        ask(&b, seq, sizeof(seq), "attr body data-seq");
        write_in_root(input, "47500\n");
        wait_is(&b, "text " CARD(2) " .value", "47.5 °C");
        wait_for(&b, "attr body data-seq", seq, true, value, sizeof(value));
        assert_true(strtoull(value, NULL, 10) > strtoull(seq, NULL, 10));

        /* Past its limit: high, by word as well as by colour. */
        write_in_root(input, "85250\n");
        wait_is(&b, "attr " CARD(2) " data-level", "high");
        ask(&b, value, sizeof(value), "text " CARD(2) " .level");
        assert_int_equal(strcasecmp(value, "high"), 0);
        wait_is(&b, "attr " CARD(2) " .value data-celsius", "85.25");
        ask(&b, value, sizeof(value), "count " CARD(2) " line.limit.high");
        assert_string_equal(value, "1");
        screenshot(&b, "page-desktop.png");
        /* Nothing went wrong in the page: no script error, nothing the policy had to block. */
        ask(&b, value, sizeof(value), "log");
        assert_string_equal(value, "");

        /* Killed: the page says the server is gone. Started again: back, and moving on. */
        kill(s.pid, SIGKILL);
        assert_int_equal(harness_wait_exit(&s, HARNESS_TIMEOUT_MS), 128 + SIGKILL);
        wait_is(&b, "attr #status data-state", "gone");
        ask(&b, value, sizeof(value), "text #status");
        assert_non_null(strstr(value, "gone"));
        harness_restart_activated(&s, (const char *const[]) { "--interval", "200ms", NULL });
        wait_is(&b, "attr #status data-state", "live");
        write_in_root(input, "50000\n");
        wait_is(&b, "text " CARD(2) " .value", "50.0 °C");
        ask(&b, value, sizeof(value), "count section.sensor");
        assert_string_equal(value, "2");

        /* The kill cut the stream short, which the console says; nothing else went wrong. */
        ask(&b, value, sizeof(value), "log");
        assert_null(strstr(value, "Uncaught"));
        assert_null(strstr(value, "Refused"));
        browser_stop(&b);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

/* At a phone's width the cards go one under the other; at a desktop's, side by side. Dark where the
 * system is. */
static void test_phone_desktop_light_dark(void **state) {
        char url[64], a[64], c[64], value[256];
        int ax, ay, cx, cy;
        ServerProcess s;
        Browser b;

        start(&s);
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s.metrics_port);
        browser_start(&b, false);
        ask(&b, value, sizeof(value), "get %s", url);
        wait_is(&b, "attr #status data-state", "live");
        ask(&b, a, sizeof(a), "rect " CARD(1));
        ask(&b, c, sizeof(c), "rect " CARD(2));
        assert_int_equal(sscanf(a, "%d %d", &ax, &ay), 2);
        assert_int_equal(sscanf(c, "%d %d", &cx, &cy), 2);
        assert_int_equal(ay, cy);
        assert_true(cx > ax);
        ask(&b, value, sizeof(value), "style body background-color");
        assert_string_equal(value, "rgba(246, 247, 249, 1)");

        ask(&b, value, sizeof(value), "size 390 844");
        usleep(300 * 1000);
        ask(&b, a, sizeof(a), "rect " CARD(1));
        ask(&b, c, sizeof(c), "rect " CARD(2));
        assert_int_equal(sscanf(a, "%d %d", &ax, &ay), 2);
        assert_int_equal(sscanf(c, "%d %d", &cx, &cy), 2);
        assert_int_equal(ax, cx);
        assert_true(cy > ay);
        screenshot(&b, "page-phone.png");
        browser_stop(&b);

        browser_start(&b, true);
        ask(&b, value, sizeof(value), "get %s", url);
        wait_is(&b, "attr #status data-state", "live");
        ask(&b, value, sizeof(value), "style body background-color");
        assert_string_equal(value, "rgba(13, 17, 23, 1)");
        screenshot(&b, "page-dark.png");
        browser_stop(&b);
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

/* The files of the page as HTTP serves them: their types, a policy that lets nothing from elsewhere in,
 * and ETags that spare the browser a second download. */
static void test_the_files_and_their_headers(void **state) {
        static const char *const paths[][2] = {
                { "/", "Content-Type: text/html; charset=utf-8" },
                { "/thermo.js", "Content-Type: text/javascript; charset=utf-8" },
                { "/thermo.css", "Content-Type: text/css; charset=utf-8" },
        };
        ServerProcess s;
        HttpResponse r;

        start(&s);
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                char etag[64], header[96];
                const char *p;

                http_get(s.metrics_port, paths[i][0], "", &r);
                assert_int_equal(r.status, 200);
                http_assert_header(&r, paths[i][1]);
                http_assert_header(&r, "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src "
                                       "'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
                                       "form-action 'none'; frame-ancestors 'none'");
                http_assert_header(&r, "X-Content-Type-Options: nosniff");
                assert_false(http_has_header(&r, "Set-Cookie"));
                assert_false(http_has_header(&r, "Access-Control-Allow-Origin"));
                assert_true(r.length > 500);
                /* Nothing from elsewhere: no URL with a host in any of it. */
                assert_null(strstr(r.body, "//cdn"));
                assert_null(strstr(r.body, "https://"));
                p = strstr(r.headers, "ETag: \"");
                assert_non_null(p);
                assert_int_equal(sscanf(p, "ETag: %63s", etag), 1);
                snprintf(header, sizeof(header), "If-None-Match: %s\r\n", etag);
                http_get(s.metrics_port, paths[i][0], header, &r);
                assert_int_equal(r.status, 304);
                assert_int_equal(r.length, 0);
                http_get(s.metrics_port, paths[i][0], "If-None-Match: \"0000000000000000\"\r\n", &r);
                assert_int_equal(r.status, 200);
        }
        assert_int_equal(harness_stop(&s, SIGTERM), 0);
        harness_cleanup(&s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_the_files_and_their_headers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_the_page_live, setup, teardown),
                cmocka_unit_test_setup_teardown(test_phone_desktop_light_dark, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
