/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "parse.h"
#include "sensor.h"

/* A random walk around room temperature: each reading moves at most 0.25 degrees, and is pulled back
 * towards 21 degrees so that a long run stays plausible. */
#define SIMULATED_CENTER 21000
#define SIMULATED_STEP 250
#define SIMULATED_DELAY_MAX (3600 * USEC_PER_SEC)

typedef struct SimulatedSensor {
        Sensor sensor;
        uint64_t state;
        int64_t millicelsius;
        uint64_t delay;         /* usec a reading takes, as a slow sensor's would */
} SimulatedSensor;

/* splitmix64: small, fast, and the same sequence for the same seed on every machine. */
static uint64_t next_random(uint64_t *state) {
        uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

static int simulated_read(Sensor *s, int64_t *ret) {
        SimulatedSensor *sim = container_of(s, SimulatedSensor, sensor);
        int64_t step = (int64_t) (next_random(&sim->state) % (2 * SIMULATED_STEP + 1)) - SIMULATED_STEP;
        int64_t pull = (SIMULATED_CENTER - sim->millicelsius) / 20;

        if (sim->delay > 0) {
                /* Only ever called from the sensor's reader thread: a slow sensor blocks no one. */
                struct timespec ts = { .tv_sec = (time_t) (sim->delay / USEC_PER_SEC),
                                       .tv_nsec = (long) (sim->delay % USEC_PER_SEC * 1000) };
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
        }
        sim->millicelsius += step + pull;
        *ret = sim->millicelsius;
        return 0;
}

static void simulated_free(Sensor *s) {
        free(container_of(s, SimulatedSensor, sensor));
}

static const SensorOps simulated_ops = {
        .read = simulated_read,
        .free = simulated_free,
};

/* "seed=N", "delay=TIME", or both, separated by a comma. */
static int parse_args(const char *args, uint64_t *seed, bool *seeded, uint64_t *delay,
                char error[static SENSOR_ERROR_MAX]) {
        char copy[256], *save = NULL;

        if (snprintf(copy, sizeof(copy), "%s", args) >= (int) sizeof(copy)) {
                snprintf(error, SENSOR_ERROR_MAX, "expected simulated:seed=N,delay=TIME");
                return -EINVAL;
        }
        for (char *word = strtok_r(copy, ",", &save); word; word = strtok_r(NULL, ",", &save)) {
                if (startswith(word, "seed=")) {
                        if (parse_uint64(word + 5, 0, UINT64_MAX, seed) < 0) {
                                snprintf(error, SENSOR_ERROR_MAX, "seed must be a decimal number");
                                return -EINVAL;
                        }
                        *seeded = true;
                } else if (startswith(word, "delay=")) {
                        if (parse_timespan(word + 6, delay) < 0 || *delay > SIMULATED_DELAY_MAX) {
                                snprintf(error, SENSOR_ERROR_MAX, "delay must be a time from 0 to 1h, such as 800ms");
                                return -EINVAL;
                        }
                } else {
                        snprintf(error, SENSOR_ERROR_MAX, "expected simulated:seed=N,delay=TIME");
                        return -EINVAL;
                }
        }
        return 0;
}

int sensor_simulated_new(const char *args, Sensor **ret, char error[static SENSOR_ERROR_MAX]) {
        _cleanup_(sensor_unrefp) Sensor *s = NULL;
        uint64_t seed = 0, delay = 0;
        bool seeded = false;
        SimulatedSensor *sim;
        int r;

        assert(ret);
        assert(error);

        if (args) {
                r = parse_args(args, &seed, &seeded, &delay, error);
                if (r < 0)
                        return r;
        }
        if (!seeded && getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
                seed = (uint64_t) getpid();

        sim = calloc(1, sizeof(*sim));
        if (!sim)
                return -ENOMEM;
        s = &sim->sensor;
        r = sensor_init(s, &simulated_ops, NULL, "simulated", "simulated", NULL, delay > 0);
        if (r < 0)
                return r;
        sim->state = seed;
        sim->millicelsius = SIMULATED_CENTER;
        sim->delay = delay;
        *ret = TAKE_PTR(s);
        return 0;
}
