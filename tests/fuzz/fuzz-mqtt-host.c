/* SPDX-License-Identifier: MIT */
/* What thermo-mqtt makes of a server's lines (host.c): a greeting with any host=, a sensor list, streamed
 * readings of listed sensors and of names it never listed, errors, in arbitrary pieces (peer-script.h),
 * the server a Unix socket of the harness's and the broker one that refuses (nothing is published; what
 * waits for it is kept). Whatever the server says, no crash, the host's name is a topic level, and no
 * more sensors are kept than a host may have. */
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz.h"
#include "host.h"
#include "log.h"
#include "options.h"
#include "peer-script.h"
#include "topics.h"

static char socket_path[108];

static void remove_socket(void) {
        (void) unlink(socket_path);
}

static bool name_taken(Host *h, const char *name, void *userdata) {
        return strcmp(name, "taken") == 0;
}

static void stopped(Host *h, void *userdata) {
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct sockaddr_un sa = { .sun_family = AF_UNIX };
        static MqttOptions options;
        static sd_event *e;
        static int listener = -1;
        static const HostOwner owner = { .name_taken = name_taken, .stopped = stopped };
        HostStats stats;
        Host *h = NULL;
        int peer = -1;

        if (!e) {
                char *argv[] = { (char *) "thermo-mqtt", (char *) "--broker", (char *) "mqtt://127.0.0.1:9",
                                 (char *) "--payload", (char *) "json", sa.sun_path, NULL };

                snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/thermo-fuzz-mqtt-%i.sock", (int) getpid());
                snprintf(socket_path, sizeof(socket_path), "%s", sa.sun_path);
                (void) unlink(sa.sun_path);
                (void) atexit(remove_socket);
                listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                if (listener < 0 || bind(listener, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(listener, 4) < 0 ||
                                sd_event_default(&e) < 0 || mqtt_options_parse(6, argv, &options) != 1)
                        abort();
                log_set_max_level(LOG_CRIT);
                mosquitto_lib_init();
        }
        if (host_new(e, &options, &options.servers[0], "fuzz", &owner, &h) < 0)
                abort();
        host_start(h);
        peer = peer_script_accept(listener, e);

        peer_script_run(data, size, peer, e, NULL, NULL);
        if (host_get_name(h) && !topic_host_is_valid(host_get_name(h)))
                abort();
        host_get_stats(h, &stats);
        if (stats.sensors > 4096)
                abort();
        /* The server goes: the host sees it, and backs off to try again, which is the end of it here. */
        close(peer);
        for (int i = 0; i < 16; i++)
                (void) sd_event_run(e, 0);
        host_free(h);
        /* What the connection that ended left queued: a reconnect the host had begun. */
        for (int i = 0; i < 100 && (peer = accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0; i++)
                close(peer);
        return 0;
}
