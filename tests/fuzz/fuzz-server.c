/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

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
