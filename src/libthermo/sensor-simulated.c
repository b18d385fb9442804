/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "parse.h"
#include "sensor.h"

/* A random walk around room temperature: each reading moves at most 0.25 degrees, and is pulled back
 * towards 21 degrees so that a long run stays plausible. */
#define SIMULATED_CENTER 21000
#define SIMULATED_STEP 250

typedef struct SimulatedSensor {
        Sensor sensor;
        uint64_t state;
        int64_t millicelsius;
} SimulatedSensor;

/* splitmix64: small, fast, and the same sequence for the same seed on every machine. */
static uint64_t next_random(uint64_t *state) {
        uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

static int simulated_read(Sensor *s, int64_t *ret) {
        SimulatedSensor *sim = (SimulatedSensor *) s;
        int64_t step = (int64_t) (next_random(&sim->state) % (2 * SIMULATED_STEP + 1)) - SIMULATED_STEP;
        int64_t pull = (SIMULATED_CENTER - sim->millicelsius) / 20;

        sim->millicelsius += step + pull;
        *ret = sim->millicelsius;
        return 0;
}

static void simulated_free(Sensor *s) {
        free(s);
}

static const SensorOps simulated_ops = {
        .read = simulated_read,
        .free = simulated_free,
};

int sensor_simulated_new(const char *args, Sensor **ret, const char **ret_error) {
        SimulatedSensor *sim;
        uint64_t seed;

        assert(ret);
        assert(ret_error);

        if (args) {
                if (strncmp(args, "seed=", 5) != 0) {
                        *ret_error = "expected simulated:seed=N";
                        return -EINVAL;
                }
                if (parse_uint64(args + 5, 0, UINT64_MAX, &seed) < 0) {
                        *ret_error = "seed must be a decimal number";
                        return -EINVAL;
                }
        } else if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
                seed = (uint64_t) getpid();

        sim = calloc(1, sizeof(*sim));
        if (!sim)
                return -ENOMEM;
        sim->sensor.ops = &simulated_ops;
        sim->sensor.description = strdup("simulated");
        if (!sim->sensor.description) {
                free(sim);
                return -ENOMEM;
        }
        sim->state = seed;
        sim->millicelsius = SIMULATED_CENTER;
        *ret = &sim->sensor;
        return 0;
}
