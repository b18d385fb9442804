/* SPDX-License-Identifier: MIT */
#pragma once

/* The argc of a NULL-terminated argv that a test wrote out by hand. */
static inline int argv_count(char **argv) {
        int n = 0;

        while (argv[n])
                n++;
        return n;
}
