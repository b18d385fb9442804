/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The real mosquitto broker, on a loopback port of its own, and a subscriber that records what it gets;
 * thermo-mqtt started as a test would. Every wait is bounded. */

#define MOSQUITTO "/usr/sbin/mosquitto"

typedef struct Broker {
        pid_t pid;
        int port;
        char dir[64];           /* its config, and whatever a test puts beside it */
} Broker;

/* Starts mosquitto on 127.0.0.1:<a free port> with conf added to its config (persistence off: a restart
 * loses what it held, as a broker without a disk would), and waits until it takes connections. */
void broker_start(Broker *b, const char *conf);
/* Starts it again, on the same port and config. */
void broker_restart(Broker *b);
/* Kills it (by PID) and waits for it. */
void broker_kill(Broker *b, int sig);
/* Sends it sig (by PID), as SIGSTOP and SIGCONT: it stops taking messages, its connections up. */
void broker_signal(Broker *b, int sig);
void broker_cleanup(Broker *b);

/* A way to the broker that can be cut: a process on a loopback port of its own (*ret_port) that passes
 * every connection on to b. At broker_way_cut(), it waits for a moment when nothing flows (no message is
 * half way, none waits for its PUBACK), closes the connection, and for outage_ms closes each new one at
 * once; then passes them on again. It ends within 30 s, or with the test (harness_kill_all()). */
pid_t broker_way_start(const Broker *b, int outage_ms, int *ret_port);
void broker_way_cut(pid_t way);

typedef struct Message {
        char topic[256];
        char payload[4096];     /* a device's discovery config is the longest */
        bool retain;
} Message;

typedef struct Subscriber {
        struct mosquitto *mosq;
        Message *messages;
        size_t n_messages;
        size_t mark;            /* waits look at messages from here on */
        /* When set, messages are handed here instead of kept (a payload cut to what Message holds). */
        void (*on_message)(const Message *m, void *userdata);
        void *userdata;
} Subscriber;

/* Subscribes to pattern (such as "#") at qos; waits for the subscription to be granted. */
void subscriber_open(Subscriber *s, int port, const char *pattern, int qos);
/* The same, as user with password, to a broker that wants them. */
void subscriber_open_as(Subscriber *s, int port, const char *pattern, int qos, const char *user, const char *password);
/* Runs the client until a message on topic comes whose payload holds text (any, for NULL), among those
 * kept since the mark: returns it, or NULL after timeout_ms. */
const Message *subscriber_wait(Subscriber *s, const char *topic, const char *text, int timeout_ms);
/* From now on: what a test does next is seen in what comes after. */
void subscriber_mark(Subscriber *s);
/* Runs the client for ms, recording. */
void subscriber_run(Subscriber *s, int ms);
/* The last message on topic so far, or NULL. */
const Message *subscriber_last(Subscriber *s, const char *topic);
void subscriber_close(Subscriber *s);

/* One sensor's readings as they came: the seqs of the first and the last, how many, how many missing
 * between them, and how many came after a later one. */
typedef struct Series {
        uint64_t first, last, received, gaps, out_of_order;
} Series;

/* Adds a reading's seq to s. */
void series_add(Series *s, uint64_t seq);

/* thermo-mqtt as a test runs it: its stderr to a pipe, what it wrote kept in log. */
typedef struct MqttBridge {
        pid_t pid;
        int log_fd;
        char log[64 * 1024];
} MqttBridge;

/* Starts $THERMO_MQTT with args (ending with NULL). */
void mqtt_bridge_start(MqttBridge *b, const char *const *args);
/* The same, as systemd runs it with WatchdogSec=: its notifications to the datagram socket at
 * notify_socket, and $WATCHDOG_USEC of watchdog_usec. */
void mqtt_bridge_start_watched(MqttBridge *b, const char *const *args, const char *notify_socket,
                const char *watchdog_usec);
/* Appends what it wrote since to log. */
void mqtt_bridge_read_log(MqttBridge *b);
/* Reads the log until it holds text; bounded. */
bool mqtt_bridge_wait_log(MqttBridge *b, const char *text, int timeout_ms);
/* Sends sig (by PID) and returns its exit status (128+signal when killed by one), within the harness's
 * timeout; the rest of its log is read. */
int mqtt_bridge_stop(MqttBridge *b, int sig);
