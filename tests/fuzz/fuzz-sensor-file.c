/* SPDX-License-Identifier: MIT */
/* What a sensor's file may hold (a sysfs attribute, a 1-Wire driver's file, any file an admin names): the
 * reading is the file's whole content, a decimal number of millidegrees and a newline at most, within what
 * a thermometer can say, or no reading. Checked against a parse of its own. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "sensor.h"

/* What sensor_read_millidegrees() must take, said the simplest way. */
static bool reference(const uint8_t *data, size_t size, int64_t *ret) {
        size_t n = size, i = 0;
        int64_t v = 0;
        bool negative;

        if (n > 0 && data[n - 1] == '\n')
                n--;
        if (size > 31 || n == 0)
                return false;
        negative = data[0] == '-';
        i = negative || data[0] == '+';
        if (i == n)
                return false;
        for (; i < n; i++) {
                if (data[i] < '0' || data[i] > '9' || v > 100000000)
                        return false;
                v = v * 10 + (data[i] - '0');
        }
        v = negative ? -v : v;
        if (v <= -273150 || v >= 1000000)
                return false;
        *ret = v;
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static char path[64];
        static int fd = -1;
        int64_t v = 0, want = 0;
        bool ok;
        int r;

        /* A file in memory, opened anew by its path as a sensor's file is at each reading. */
        if (fd < 0) {
                fd = memfd_create("thermo-fuzz-sensor", MFD_CLOEXEC);
                if (fd < 0)
                        abort();
                snprintf(path, sizeof(path), "/proc/self/fd/%i", fd);
        }
        if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t) size)
                abort();

        r = sensor_read_millidegrees(path, &v);
        ok = reference(data, size, &want);
        if (r == 0 && !ok)
                abort();
        if (ok && (r != 0 || v != want))
                abort();
        return 0;
}
