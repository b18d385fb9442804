/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "mqtt-harness.h"

static int64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A connection to port on 127.0.0.1, or -1; asserts nothing, for the forked way's use too. */
static int loopback_connect(int port) {
        struct sockaddr_in sa = {
                .sin_family = AF_INET,
                .sin_port = htons((uint16_t) port),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
        };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd >= 0 && connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                close(fd);
                fd = -1;
        }
        return fd;
}

static bool broker_listens(int port) {
        int fd = loopback_connect(port);

        if (fd < 0)
                return false;
        close(fd);
        return true;
}

void broker_restart(Broker *b) {
        char conf[128], log[128];

        snprintf(conf, sizeof(conf), "%s/mosquitto.conf", b->dir);
        snprintf(log, sizeof(log), "%s/mosquitto.log", b->dir);
        b->pid = fork();
        assert_true(b->pid >= 0);
        if (b->pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

                if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
                        _exit(126);
                execl(MOSQUITTO, MOSQUITTO, "-c", conf, NULL);
                _exit(127);
        }
        harness_track(b->pid);
        for (int64_t deadline = now_ms() + HARNESS_TIMEOUT_MS; !broker_listens(b->port); usleep(20 * 1000))
                if (now_ms() > deadline)
                        fail_msg("mosquitto did not come up on port %i; see %s", b->port, log);
}

void broker_start(Broker *b, const char *conf) {
        char path[128];
        FILE *f;

        *b = (Broker) { .port = harness_free_port() };
        snprintf(b->dir, sizeof(b->dir), "/tmp/thermo-broker-XXXXXX");
        assert_non_null(mkdtemp(b->dir));
        snprintf(path, sizeof(path), "%s/mosquitto.conf", b->dir);
        f = fopen(path, "we");
        assert_non_null(f);
        fprintf(f, "listener %i 127.0.0.1\npersistence false\nmax_queued_messages 0\n%s\n", b->port, conf ?: "");
        if (!conf || !strstr(conf, "allow_anonymous"))
                fputs("allow_anonymous true\n", f);
        assert_int_equal(fclose(f), 0);
        broker_restart(b);
}

void broker_kill(Broker *b, int sig) {
        if (b->pid <= 0)
                return;
        kill(b->pid, sig);
        assert_true(harness_wait_pid(b->pid, HARNESS_TIMEOUT_MS) != -ETIMEDOUT);
        b->pid = 0;
}

void broker_signal(Broker *b, int sig) {
        assert_true(b->pid > 0);
        assert_int_equal(kill(b->pid, sig), 0);
}

void broker_cleanup(Broker *b) {
        broker_kill(b, SIGKILL);
        if (b->dir[0])
                harness_remove_tree(b->dir);
        *b = (Broker) {};
}

static volatile sig_atomic_t way_cut;

static void on_way_cut(int sig) {
        way_cut = 1;
}

/* MQTT packets as they pass one way: the fixed header's first byte, its remaining length (a varint), and
 * that many bytes. Counts the QoS 1 PUBLISH and the PUBACK packets. */
typedef struct WayParser {
        size_t skip;            /* bytes of the packet's body still to pass */
        unsigned shift;         /* of the remaining length's next byte; 0 before the header's first byte */
        bool in_length;
        size_t length;
        uint64_t publish_qos1, puback;
} WayParser;

static void way_parse(WayParser *w, const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (w->skip > 0) {
                        size_t k = w->skip < n - i ? w->skip : n - i;

                        w->skip -= k;
                        i += k - 1;
                        continue;
                }
                if (!w->in_length) {
                        w->publish_qos1 += (p[i] >> 4) == 3 && ((p[i] >> 1) & 3) == 1;
                        w->puback += (p[i] >> 4) == 4;
                        w->in_length = true;
                        w->length = 0;
                        w->shift = 0;
                        continue;
                }
                w->length |= (size_t) (p[i] & 0x7f) << w->shift;
                w->shift += 7;
                if (!(p[i] & 0x80)) {
                        w->in_length = false;
                        w->skip = w->length;
                }
        }
}

/* Passes what comes on each way until the connection ends, or until a cut finds no QoS 1 message waiting
 * for its PUBACK and nothing passing for 30 ms. */
static void way_pass(int down, int up) {
        WayParser ways[2] = {};
        int64_t last = now_ms();

        for (;;) {
                struct pollfd p[2] = { { .fd = down, .events = POLLIN }, { .fd = up, .events = POLLIN } };
                int n = poll(p, 2, 10);

                if (n < 0 && errno != EINTR)
                        return;
                if (way_cut && now_ms() - last >= 30 && ways[0].publish_qos1 == ways[1].puback)
                        return;
                for (int i = 0; n > 0 && i < 2; i++) {
                        uint8_t buf[4096];
                        ssize_t r;

                        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        r = read(p[i].fd, buf, sizeof(buf));
                        if (r <= 0 || write(p[1 - i].fd, buf, (size_t) r) != r)
                                return;
                        way_parse(&ways[i], buf, (size_t) r);
                        last = now_ms();
                }
        }
}

pid_t broker_way_start(const Broker *b, int outage_ms, int *ret_port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t n = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int64_t back = 0;
        pid_t pid;

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(fd, 4), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &n), 0);
        *ret_port = ntohs(sa.sin_port);
        /* Before the fork: a cut that comes at once finds the handler there. */
        assert_ptr_not_equal(signal(SIGUSR1, on_way_cut), SIG_ERR);
        pid = fork();
        assert_true(pid >= 0);
        if (pid > 0) {
                (void) signal(SIGUSR1, SIG_DFL);
                close(fd);
                harness_track(pid);
                return pid;
        }
        alarm(30); /* never outlive the test */
        for (;;) {
                int down = accept(fd, NULL, NULL), up;

                if (down < 0 && errno == EINTR)
                        continue;
                if (down < 0)
                        _exit(1);
                /* The broker is away: a connection ends at once. */
                if (now_ms() < back) {
                        close(down);
                        continue;
                }
                /* The forked way's own: no assertion of the test's may fail in it. */
                up = loopback_connect(b->port);
                if (up < 0)
                        _exit(2);
                way_pass(down, up);
                close(down);
                close(up);
                if (way_cut)
                        back = now_ms() + outage_ms;
                way_cut = 0;
        }
}

void broker_way_cut(pid_t way) {
        assert_int_equal(kill(way, SIGUSR1), 0);
}

static void on_message(struct mosquitto *mosq, void *userdata, const struct mosquitto_message *msg) {
        Subscriber *s = userdata;
        Message m = { .retain = msg->retain };

        snprintf(m.topic, sizeof(m.topic), "%s", msg->topic);
        snprintf(m.payload, sizeof(m.payload), "%.*s", msg->payloadlen, (const char *) msg->payload);
        if (s->on_message) {
                s->on_message(&m, s->userdata);
                return;
        }
        /* Kept, it is checked whole: a test must not look at half of one. */
        assert_true(strlen(msg->topic) < sizeof(m.topic) && (size_t) msg->payloadlen < sizeof(m.payload));
        s->messages = reallocarray(s->messages, s->n_messages + 1, sizeof(Message));
        assert_non_null(s->messages);
        s->messages[s->n_messages++] = m;
}

static void on_subscribe(struct mosquitto *mosq, void *userdata, int mid, int n, const int *granted) {
        *(bool *) mosquitto_userdata(mosq) = true;
}

void subscriber_open(Subscriber *s, int port, const char *pattern, int qos) {
        subscriber_open_as(s, port, pattern, qos, NULL, NULL);
}

void subscriber_open_as(Subscriber *s, int port, const char *pattern, int qos, const char *user, const char *password) {
        bool granted = false;
        int64_t deadline = now_ms() + HARNESS_TIMEOUT_MS;

        mosquitto_lib_init();
        s->mosq = mosquitto_new(NULL, true, &granted);
        assert_non_null(s->mosq);
        if (user)
                assert_int_equal(mosquitto_username_pw_set(s->mosq, user, password), MOSQ_ERR_SUCCESS);
        mosquitto_subscribe_callback_set(s->mosq, on_subscribe);
        /* A broker's second listener may come up a moment after its first. */
        while (mosquitto_connect(s->mosq, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS) {
                if (now_ms() > deadline)
                        fail_msg("cannot connect to the broker on port %i", port);
                usleep(20 * 1000);
        }
        assert_int_equal(mosquitto_subscribe(s->mosq, NULL, pattern, qos), MOSQ_ERR_SUCCESS);
        while (!granted) {
                assert_int_equal(mosquitto_loop(s->mosq, 100, 1), MOSQ_ERR_SUCCESS);
                if (now_ms() > deadline)
                        fail_msg("the broker did not grant the subscription to %s", pattern);
        }
        mosquitto_user_data_set(s->mosq, s);
        mosquitto_message_callback_set(s->mosq, on_message);
}

static const Message *find(Subscriber *s, size_t from, const char *topic, const char *text) {
        for (size_t i = from; i < s->n_messages; i++)
                if (strcmp(s->messages[i].topic, topic) == 0 && (!text || strstr(s->messages[i].payload, text)))
                        return &s->messages[i];
        return NULL;
}

void subscriber_mark(Subscriber *s) {
        s->mark = s->n_messages;
}

const Message *subscriber_wait(Subscriber *s, const char *topic, const char *text, int timeout_ms) {
        int64_t deadline = now_ms() + timeout_ms;
        size_t checked = s->mark;

        for (;;) {
                const Message *m = find(s, checked, topic, text);

                if (m)
                        return m;
                checked = s->n_messages;
                if (now_ms() > deadline)
                        return NULL;
                /* A broker that went away is reconnected to, as a client in the field would be. */
                if (mosquitto_loop(s->mosq, 50, 1) != MOSQ_ERR_SUCCESS) {
                        usleep(50 * 1000);
                        (void) mosquitto_reconnect(s->mosq);
                }
        }
}

void subscriber_run(Subscriber *s, int ms) {
        for (int64_t deadline = now_ms() + ms; now_ms() < deadline;)
                if (mosquitto_loop(s->mosq, 20, 1) != MOSQ_ERR_SUCCESS) {
                        usleep(50 * 1000);
                        (void) mosquitto_reconnect(s->mosq);
                }
}

const Message *subscriber_last(Subscriber *s, const char *topic) {
        for (size_t i = s->n_messages; i > 0; i--)
                if (strcmp(s->messages[i - 1].topic, topic) == 0)
                        return &s->messages[i - 1];
        return NULL;
}

void subscriber_close(Subscriber *s) {
        if (s->mosq) {
                mosquitto_disconnect(s->mosq);
                mosquitto_destroy(s->mosq);
        }
        free(s->messages);
        *s = (Subscriber) {};
}

void mqtt_bridge_start(MqttBridge *b, const char *const *args) {
        mqtt_bridge_start_watched(b, args, NULL, NULL);
}

void mqtt_bridge_start_watched(MqttBridge *b, const char *const *args, const char *notify_socket,
                const char *watchdog_usec) {
        const char *path = getenv("THERMO_MQTT");
        const char *argv[64];
        int log[2];
        size_t n = 0;

        assert_non_null(path);
        argv[n++] = path;
        for (; *args && n < 63; args++)
                argv[n++] = *args;
        argv[n] = NULL;
        assert_int_equal(pipe2(log, O_CLOEXEC), 0);
        assert_int_equal(fcntl(log[0], F_SETFL, O_NONBLOCK), 0);

        b->pid = fork();
        assert_true(b->pid >= 0);
        if (b->pid == 0) {
                if (dup2(log[1], STDERR_FILENO) < 0)
                        _exit(126);
                unsetenv("NOTIFY_SOCKET");
                unsetenv("WATCHDOG_USEC");
                unsetenv("WATCHDOG_PID");
                if (notify_socket && (setenv("NOTIFY_SOCKET", notify_socket, 1) < 0 ||
                                      setenv("WATCHDOG_USEC", watchdog_usec, 1) < 0))
                        _exit(126);
                execv(path, (char *const *) argv);
                _exit(127);
        }
        harness_track(b->pid);
        close(log[1]);
        b->log_fd = log[0];
        b->log[0] = '\0';
}

void mqtt_bridge_read_log(MqttBridge *b) {
        size_t len = strlen(b->log);
        ssize_t k;

        while (b->log_fd >= 0 && len + 1 < sizeof(b->log) &&
                        (k = read(b->log_fd, b->log + len, sizeof(b->log) - 1 - len)) > 0)
                len += (size_t) k;
        b->log[len] = '\0';
}

bool mqtt_bridge_wait_log(MqttBridge *b, const char *text, int timeout_ms) {
        for (int64_t deadline = now_ms() + timeout_ms;; usleep(20 * 1000)) {
                mqtt_bridge_read_log(b);
                if (strstr(b->log, text))
                        return true;
                if (now_ms() > deadline)
                        return false;
        }
}

int mqtt_bridge_stop(MqttBridge *b, int sig) {
        int r;

        kill(b->pid, sig);
        r = harness_wait_pid(b->pid, HARNESS_TIMEOUT_MS);
        assert_true(r != -ETIMEDOUT);
        mqtt_bridge_read_log(b);
        close(b->log_fd);
        b->log_fd = -1;
        return r;
}

void series_add(Series *s, uint64_t seq) {
        if (s->received > 0 && seq != s->last + 1) {
                if (seq > s->last + 1)
                        s->gaps += seq - s->last - 1;
                else
                        s->out_of_order++;
        }
        if (s->received == 0)
                s->first = seq;
        s->last = seq;
        s->received++;
}
