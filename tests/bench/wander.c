/* SPDX-License-Identifier: MIT */
/* Sensors for the benchmarks that wander a little: FILES files of millidegrees, each moved by a random
 * STEP_MC at most every INTERVAL_MS (a random walk around 21 °C), written whole (a new file renamed over
 * the old), for SECONDS (at most 3600).
 *
 *   wander STEP_MC INTERVAL_MS SECONDS FILE... */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "parse.h"

#define FILES_MAX 256

int main(int argc, char *argv[]) {
        int64_t value[FILES_MAX];
        uint64_t step, interval, seconds, state = 1;
        int n = argc - 4;

        if (argc < 5 || n > FILES_MAX || parse_uint64(argv[1], 0, 100000, &step) < 0 ||
                        parse_uint64(argv[2], 1, 60000, &interval) < 0 || parse_uint64(argv[3], 1, 3600, &seconds) < 0) {
                fprintf(stderr, "usage: wander STEP_MC INTERVAL_MS SECONDS FILE... (at most %d files)\n", FILES_MAX);
                return 2;
        }
        for (int i = 0; i < n; i++)
                value[i] = 21000;
        for (uint64_t tick = 0; tick < seconds * 1000 / interval; tick++) {
                for (int i = 0; i < n; i++) {
                        char tmp[4096];
                        FILE *f;

                        /* xorshift64: a walk, the same on every run. */
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        value[i] += (int64_t) (state % (2 * step + 1)) - (int64_t) step;
                        snprintf(tmp, sizeof(tmp), "%s.new", argv[4 + i]);
                        f = fopen(tmp, "we");
                        if (!f || fprintf(f, "%" PRId64 "\n", value[i]) < 0 || fclose(f) != 0 || rename(tmp, argv[4 + i]) < 0) {
                                perror(tmp);
                                return 1;
                        }
                }
                usleep((useconds_t) interval * 1000);
        }
        return 0;
}
