/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "front-end-metrics.h"
#include "log.h"
#include "sensor-list.h"
#include "server-main.h"

static int add_front_end(Manager *m, FrontEnd **fe) {
        int r;

        r = manager_add_front_end(m, *fe);
        if (r < 0)
                return log_oom();
        *fe = NULL;
        return 0;
}

/* thermo/1 first, the default for any socket; then HTTP metrics, for the sockets named so. */
static int setup_front_ends(Manager *m, const char *name, thermo_handler_t handler) {
        _cleanup_(front_end_freep) FrontEnd *thermo = NULL, *metrics = NULL;
        int r;

        r = thermo_front_end_new(m, name, handler, &thermo);
        if (r < 0)
                return log_oom();
        r = add_front_end(m, &thermo);
        if (r < 0)
                return r;
        r = metrics_front_end_new(m, name, &metrics);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the metrics front end: %m");
        return add_front_end(m, &metrics);
}

int server_main(int argc, char *argv[], const char *name, const char *default_listen, thermo_handler_t handler) {
        _cleanup_(server_options_done) ServerOptions options = {};
        _cleanup_(sensor_list_done) SensorList sensors = {};
        _cleanup_(manager_freep) Manager *m = NULL;
        Thermometer *t;
        int r;

        assert(argv);
        assert(name);
        assert(default_listen);
        assert(handler);

        /* A reload asked for before the loop runs (sensor discovery can take seconds with thousands of
         * sensors) waits for it: SIGHUP's default action would end a server started by hand, without a
         * word. SIGTERM and SIGINT keep theirs until then: they end a start as they would any command. */
        {
                sigset_t hup;

                sigemptyset(&hup);
                sigaddset(&hup, SIGHUP);
                /* SIGUSR2 too: thermo-handover sends it only to a server that blocks it, as this one does
                 * from now on, and takes it in its loop; an older one would die of it. */
                sigaddset(&hup, SIGUSR2);
                (void) sigprocmask(SIG_BLOCK, &hup, NULL);
        }

        r = server_options_parse(argc, argv, default_listen, &options);
        if (r == -ENOMEM)
                return log_oom(), EXIT_FAILURE;
        if (r < 0)
                log_usage_hint();
        if (r <= 0)
                return r == 0 ? EXIT_SUCCESS : 2; /* 2: usage, as in LSB and systemd's daemons */

        r = sensor_list_build(&sensors, options.sensors, options.n_sensors, false);
        if (r == -EINVAL)
                return 2;
        if (r < 0)
                return EXIT_FAILURE;
        sensor_list_apply_limits(&sensors, options.limits, options.n_limits, false);
        sensor_list_apply_calibrations(&sensors, options.calibrations, options.n_calibrations, false);
        if (options.list_sensors)
                return sensor_list_print(&sensors, stdout, options.legend, options.list_json) < 0 ? EXIT_FAILURE :
                                                                                                      EXIT_SUCCESS;

        r = manager_new(&options, &m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the server: %m"), EXIT_FAILURE;

        t = m->thermometer;
        r = thermometer_set_sensors(t, sensors.sensors, sensors.n);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the sensors: %m"), EXIT_FAILURE;
        sensors = (SensorList) {};
        thermometer_set_interval(t, options.interval);
        r = thermometer_set_history(t, options.history);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the history: %m"), EXIT_FAILURE;

        r = setup_front_ends(m, name, handler);
        if (r < 0)
                return EXIT_FAILURE;

        return manager_run(m) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
