/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "server-main.h"

static int setup_sensors(Thermometer *t, const ServerOptions *o) {
        _cleanup_(sensor_freep) Sensor *sensor = NULL;
        _cleanup_free_ Sensor **sensors = NULL;
        const char *error;
        int r;

        r = sensor_new(o->sensor, &sensor, &error);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_invalid_value("--sensor", o->sensor, error);

        sensors = calloc(1, sizeof(Sensor *));
        if (!sensors)
                return log_oom();
        sensors[0] = sensor;
        r = thermometer_set_sensors(t, sensors, 1);
        if (r < 0)
                return log_oom();
        TAKE_PTR(sensor);
        TAKE_PTR(sensors);
        thermometer_set_interval(t, o->interval);
        return 0;
}

static int setup_front_ends(Manager *m, const char *name, thermo_handler_t handler) {
        _cleanup_(front_end_freep) FrontEnd *fe = NULL;
        int r;

        r = thermo_front_end_new(m, name, handler, &fe);
        if (r < 0)
                return log_oom();
        r = manager_add_front_end(m, fe);
        if (r < 0)
                return log_oom();
        TAKE_PTR(fe);
        return 0;
}

int server_main(int argc, char *argv[], const char *name, const char *default_listen, thermo_handler_t handler) {
        _cleanup_(server_options_done) ServerOptions options = {};
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        assert(argv);
        assert(name);
        assert(default_listen);
        assert(handler);

        r = server_options_parse(argc, argv, default_listen, &options);
        if (r == -ENOMEM)
                return log_oom(), EXIT_FAILURE;
        if (r <= 0)
                return r == 0 ? EXIT_SUCCESS : 2; /* 2: usage, as in LSB and systemd's daemons */

        if (options.list_sensors)
                return sensor_list(stdout) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        r = manager_new(&options, &m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the server: %m"), EXIT_FAILURE;

        r = setup_sensors(manager_get_thermometer(m), &options);
        if (r == -EINVAL)
                return 2;
        if (r < 0)
                return EXIT_FAILURE;
        r = setup_front_ends(m, name, handler);
        if (r < 0)
                return EXIT_FAILURE;

        return manager_run(m) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
