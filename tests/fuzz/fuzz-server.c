/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "front-end-thermo.h"
#include "fuzz-server.h"
#include "log.h"

Manager *fuzz_manager_new(const ServerOptions *options) {
        char error[SENSOR_ERROR_MAX];
        Sensor **sensors;
        Manager *m;

        log_set_max_level(LOG_CRIT);
        sensors = calloc(2, sizeof(Sensor *));
        if (!sensors || manager_new(options, &m) < 0 || sensor_simulated_new("seed=1", &sensors[0], error) < 0 ||
                        sensor_simulated_new("seed=2", &sensors[1], error) < 0 ||
                        sensor_set_name(sensors[1], "second") < 0 ||
                        thermometer_set_sensors(m->thermometer, sensors, 2) < 0)
                abort();
        thermometer_set_interval(m->thermometer, options->interval);
        return m;
}

/* As thermo-server takes requests (src/server/main.c). */
static void handle_client(Session *s, Pump *reader) {
        const char *line;
        size_t n;
        int r;

        while ((r = connection_read_line(&s->connection, reader, &line, &n)) > 0)
                session_handle_line(s, line, n);
        if (r == -EMSGSIZE)
                session_handle_line_too_long(s);
        else if (r == -EPIPE)
                session_handle_eof(s);
}

Manager *fuzz_thermo_server_new(const ServerOptions *options, FrontEnd **ret_thermo) {
        Manager *m = fuzz_manager_new(options);
        FrontEnd *fe = NULL;

        if (thermo_front_end_new(m, "fuzz", handle_client, &fe) < 0 || manager_add_front_end(m, fe) < 0)
                abort();
        *ret_thermo = fe;
        return m;
}
