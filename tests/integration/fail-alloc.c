/* SPDX-License-Identifier: MIT */
/* Linked into a test build of thermo-mqtt with -Wl,--wrap=reallocarray: the allocation of a new array of
 * $THERMO_TEST_FAIL_ARRAY size_t's fails, as it would out of memory (thermo-mqtt's queue of what waits for
 * the broker, as one more sensor comes). Everything else is allocated as usual. */
#include <errno.h>
#include <stdlib.h>

void *__real_reallocarray(void *p, size_t n, size_t size);
void *__wrap_reallocarray(void *p, size_t n, size_t size);

void *__wrap_reallocarray(void *p, size_t n, size_t size) {
        const char *fail = getenv("THERMO_TEST_FAIL_ARRAY");

        if (fail && !p && size == sizeof(size_t) && n == strtoul(fail, NULL, 10)) {
                errno = ENOMEM;
                return NULL;
        }
        return __real_reallocarray(p, n, size);
}
