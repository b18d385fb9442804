/* SPDX-License-Identifier: MIT */
/* Without libFuzzer (a gcc build), each harness replays the files named on its command line: the corpus
 * runs as an ordinary test. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

int main(int argc, char *argv[]) {
        static uint8_t buf[1 << 16];

        for (int i = 1; i < argc; i++) {
                FILE *f = fopen(argv[i], "re");
                size_t n;

                if (!f) {
                        perror(argv[i]);
                        return EXIT_FAILURE;
                }
                n = fread(buf, 1, sizeof(buf), f);
                fclose(f);
                LLVMFuzzerTestOneInput(buf, n);
        }
        printf("%i inputs replayed\n", argc - 1);
        return EXIT_SUCCESS;
}
