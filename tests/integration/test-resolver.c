/* SPDX-License-Identifier: MIT */
/* Name resolution off the event loop. In a network and mount namespace of its own, with a resolver that
 * never answers (a UDP socket on 127.0.0.1:53 that reads nothing, named by a resolv.conf mounted over the
 * machine's in that namespace alone): thermo-mqtt's other hosts keep flowing and its watchdog keeps being
 * fed while one host's name, or the broker's, is asked for; thermo-client --retry answers a signal at once.
 * Skipped (77) without root, or where no namespace can be had. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "mqtt-harness.h"

#define T HARNESS_TIMEOUT_MS
/* Not in /etc/hosts: asked of the resolver, which never answers. */
#define DEAD_NAME "thermo-nowhere.test"
/* A question times out after 2 s (A and AAAA are asked together). */
#define RESOLV_CONF "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n"

static char dir[64];

static int64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* This process's own network (loopback, up) and mounts, where the resolver is the silent one. */
static int enter_namespace(void) {
        struct sockaddr_in dns = { .sin_family = AF_INET, .sin_port = htons(53), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        char resolv[128], nsswitch[128];
        int fd, r;

        r = harness_enter_network_namespace();
        if (r < 0)
                return r;
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return -errno;

        snprintf(dir, sizeof(dir), "/tmp/thermo-resolver-XXXXXX");
        if (!mkdtemp(dir))
                return -errno;
        snprintf(resolv, sizeof(resolv), "%s/resolv.conf", dir);
        snprintf(nsswitch, sizeof(nsswitch), "%s/nsswitch.conf", dir);
        harness_write_file(resolv, RESOLV_CONF);
        harness_write_file(nsswitch, "hosts: files dns\n");
        if (mount(resolv, "/etc/resolv.conf", NULL, MS_BIND, NULL) < 0 ||
                        mount(nsswitch, "/etc/nsswitch.conf", NULL, MS_BIND, NULL) < 0)
                return -errno;
        /* glibc asks a running nscd first, whatever nsswitch.conf says: none here. */
        if (access("/run/nscd", F_OK) == 0 && mount("tmpfs", "/run/nscd", "tmpfs", 0, NULL) < 0)
                return -errno;

        /* The resolver: it takes every question, and answers none. Kept open for the process's life. */
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &dns, sizeof(dns)) < 0)
                return -errno;
        return 0;
}

/* A datagram socket for the bridge's sd_notify(), at path. */
static int notify_socket(char path[static 108]) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        assert_true(fd >= 0);
        snprintf(path, 108, "%s/notify-%d", dir, (int) now_ms());
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        return fd;
}

/* What a run of the bridge showed: the longest waits between two readings of a topic and between two
 * WATCHDOG=1, and how many of each. */
typedef struct Watch {
        const char *topic;
        int64_t last_reading, last_ping, longest_reading, longest_ping;
        unsigned readings, pings;
} Watch;

static void on_message(const Message *m, void *userdata) {
        Watch *w = userdata;
        int64_t now = now_ms();

        if (!w->topic || strcmp(m->topic, w->topic) != 0)
                return;
        if (w->readings++ > 0 && now - w->last_reading > w->longest_reading)
                w->longest_reading = now - w->last_reading;
        w->last_reading = now;
}

/* For ms: what reaches sub, and the notifications at fd. */
static void watch_for(Subscriber *sub, int fd, Watch *w, int ms) {
        sub->on_message = on_message;
        sub->userdata = w;
        for (int64_t end = now_ms() + ms; now_ms() < end;) {
                char buf[4096];
                ssize_t n;

                subscriber_run(sub, 20);
                while ((n = recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
                        int64_t now = now_ms();

                        buf[n] = '\0';
                        if (!strstr(buf, "WATCHDOG=1"))
                                continue;
                        if (w->pings++ > 0 && now - w->last_ping > w->longest_ping)
                                w->longest_ping = now - w->last_ping;
                        w->last_ping = now;
                }
        }
        sub->on_message = NULL;
}

static const char *url(const Broker *b) {
        static char buf[64];

        snprintf(buf, sizeof(buf), "mqtt://127.0.0.1:%i", b->port);
        return buf;
}

/* One host's name does not resolve: the other's readings flow on, and the watchdog is fed, every interval. */
static void test_a_dead_name_holds_up_no_other_host(void **state) {
        char path[108], good[64];
        Subscriber sub = {};
        Watch w = { .topic = "thermo/good/room" };
        ServerProcess s;
        MqttBridge bridge;
        Broker b;
        int fd;

        broker_start(&b, NULL);
        subscriber_open(&sub, b.port, "thermo/#", 1);
        harness_start_activated(&s, (const char *const[]) { "--interval", "100ms", "--sensor", "room=simulated:seed=1",
                                                           NULL });
        snprintf(good, sizeof(good), "good=127.0.0.1:%i", s.port);
        fd = notify_socket(path);
        mqtt_bridge_start_watched(&bridge, (const char *const[]) { "--broker", url(&b), "--timeout", "3s", good,
                                                                  "dead=" DEAD_NAME ":8888", NULL }, path, "1000000");
        assert_non_null(subscriber_wait(&sub, "thermo/good/room", NULL, T));

        /* The name asked for, given up on after 2 s, asked for again after a backoff, and so on. */
        watch_for(&sub, fd, &w, 7000);
        assert_true(mqtt_bridge_wait_log(&bridge, "Failed to resolve '" DEAD_NAME "'", T));
        if (w.longest_reading > 1000 || w.readings < 40)
                fail_msg("%u readings of good, %" PRId64 "ms between two at most", w.readings, w.longest_reading);
        /* WATCHDOG_USEC=1s: sd-event pings every half of it. */
        if (w.longest_ping > 900 || w.pings < 10)
                fail_msg("%u watchdog pings, %" PRId64 "ms between two at most", w.pings, w.longest_ping);

        close(fd);
        subscriber_close(&sub);
        assert_int_equal(mqtt_bridge_stop(&bridge, SIGTERM), 0);
        harness_cleanup(&s);
        broker_cleanup(&b);
}

/* The broker's name does not resolve: the watchdog is fed all the while, and a stop is a stop at once. */
static void test_a_dead_broker_name_holds_up_nothing(void **state) {
        char path[108], server[64];
        Watch w = {};
        Subscriber sub = {};
        ServerProcess s;
        MqttBridge bridge;
        Broker b;
        int64_t start;
        int fd;

        /* A broker, for the subscriber only: the bridge is pointed elsewhere. */
        broker_start(&b, NULL);
        subscriber_open(&sub, b.port, "#", 1);
        harness_start_activated(&s, (const char *const[]) { "--interval", "100ms", "--sensor", "room=simulated:seed=1",
                                                           NULL });
        snprintf(server, sizeof(server), "good=127.0.0.1:%i", s.port);
        fd = notify_socket(path);
        mqtt_bridge_start_watched(&bridge, (const char *const[]) { "--broker", "mqtt://" DEAD_NAME, server, NULL }, path,
                                  "1000000");
        watch_for(&sub, fd, &w, 6000);
        assert_true(mqtt_bridge_wait_log(&bridge, "No connection to the broker mqtt://" DEAD_NAME, T));
        if (w.longest_ping > 900 || w.pings < 8)
                fail_msg("%u watchdog pings, %" PRId64 "ms between two at most", w.pings, w.longest_ping);
        /* Its stop does not wait for the resolver either. */
        start = now_ms();
        assert_int_equal(mqtt_bridge_stop(&bridge, SIGTERM), 0);
        assert_true(now_ms() - start < 1000);

        close(fd);
        subscriber_close(&sub);
        harness_cleanup(&s);
        broker_cleanup(&b);
}

/* thermo-client --retry of a name that does not resolve: a SIGTERM ends it at once, not once the resolver
 * has given up. */
static void test_a_client_retrying_a_dead_name_stops_at_once(void **state) {
        const char *client = getenv("THERMO_CLIENT");
        int64_t start;
        pid_t pid;
        int status;

        assert_non_null(client);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);

                if (null < 0 || dup2(null, STDOUT_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0)
                        _exit(126);
                execl(client, client, "--retry", DEAD_NAME, (char *) NULL);
                _exit(127);
        }
        harness_track(pid);
        /* Asking the resolver by now: its answer would take 2 s. */
        usleep(1000 * 1000);
        start = now_ms();
        assert_int_equal(kill(pid, SIGTERM), 0);
        status = harness_wait_pid(pid, T);
        assert_true(status >= 0);
        if (now_ms() - start > 500)
                fail_msg("thermo-client took %" PRId64 "ms to stop", now_ms() - start);
}

static int teardown(void **state) {
        harness_kill_all(state);
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_a_dead_name_holds_up_no_other_host, teardown),
                cmocka_unit_test_teardown(test_a_dead_broker_name_holds_up_nothing, teardown),
                cmocka_unit_test_teardown(test_a_client_retrying_a_dead_name_stops_at_once, teardown),
        };
        int r = enter_namespace();

        if (r < 0) {
                printf("SKIP: no network namespace of our own: %s\n", strerror(-r));
                return 77;
        }
        r = cmocka_run_group_tests(tests, NULL, NULL);
        harness_remove_tree(dir);
        return r;
}
