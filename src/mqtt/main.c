/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <mosquitto.h>
#include <signal.h>
#include <stdlib.h>

#include "bridge.h"
#include "log.h"
#include "options.h"

int main(int argc, char *argv[]) {
        _cleanup_(mqtt_options_done) MqttOptions options = {};
        _cleanup_(bridge_freep) Bridge *bridge = NULL;
        int r;

        r = mqtt_options_parse(argc, argv, &options);
        if (r == -ENOMEM)
                return log_oom(), EXIT_FAILURE;
        if (r < 0)
                log_usage_hint();
        if (r <= 0)
                return r == 0 ? EXIT_SUCCESS : 2;

        /* libmosquitto writes with write(), and a connection we cut (publisher.c) is written to once more: an
         * EPIPE to take, not a SIGPIPE to die of (systemd ignores it for the service; a shell does not). */
        (void) signal(SIGPIPE, SIG_IGN);
        mosquitto_lib_init();
        r = bridge_new(&options, &bridge);
        if (r < 0)
                r = log_error_errno(r, "Failed to set up: %m");
        else
                r = bridge_run(bridge);
        bridge = bridge_free(bridge);
        /* No mosquitto_lib_cleanup(): a broker connection's thread may still be in libmosquitto (its
         * resolver has not answered yet), and the end of the process frees all. */
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
