/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "calibration.h"
#include "macro.h"
#include "parse.h"
#include "sensor.h"
#include "sensor-option.h"

#define SCALE_MAX (1000 * INT64_C(1000000))

int calibration_apply(const Calibration *c, int64_t raw, int64_t *ret) {
        __int128 v;

        assert(c);
        assert(ret);

        /* Rounded half away from zero, as a reading's three decimals are meant. */
        v = (__int128) raw * (c->scale == 0 ? 1000000 : c->scale);
        v = (v + (v < 0 ? -500000 : 500000)) / 1000000 + c->offset;
        if (v <= SENSOR_MILLIDEGREES_MIN || v >= SENSOR_MILLIDEGREES_MAX)
                return -ERANGE;
        *ret = (int64_t) v;
        return 0;
}

/* A scale: a decimal number with six decimals at most, above 0 and up to 1000. */
static int parse_scale(const char *s, int64_t *ret) {
        int64_t v = 0, unit = 1000000;
        size_t i = 0;

        if (!(s[0] >= '0' && s[0] <= '9'))
                return -EINVAL;
        for (; s[i] >= '0' && s[i] <= '9'; i++) {
                v = v * 10 + (s[i] - '0');
                if (v > SCALE_MAX / 1000000)
                        return -ERANGE;
        }
        v *= 1000000;
        if (s[i] == '.') {
                if (!(s[++i] >= '0' && s[i] <= '9'))
                        return -EINVAL;
                for (; s[i] >= '0' && s[i] <= '9'; i++) {
                        if (unit == 1)
                                return -EINVAL;
                        unit /= 10;
                        v += (s[i] - '0') * unit;
                }
        }
        if (s[i] != '\0' || v <= 0 || v > SCALE_MAX)
                return -EINVAL;
        *ret = v;
        return 0;
}

int calibration_option_parse(const char *s, CalibrationOption *ret, const char **ret_error) {
        CalibrationOption o = {};
        char copy[SENSOR_OPTION_WORDS_MAX + 1];
        int r;

        assert(s);
        assert(ret);
        assert(ret_error);

        r = sensor_option_split(s, "expected NAME:offset=C,scale=F, NAME a sensor's name",
                        "expected offset=C or scale=F after the name", o.name, copy, ret_error);
        if (r < 0)
                return r;
        for (char *rest = copy, *word; (word = strsep(&rest, ","));) {
                char *eq = strchr(word, '=');

                if (eq)
                        *eq = '\0';
                if (eq && strcmp(word, "offset") == 0 && parse_celsius(eq + 1, &o.calibration.offset) == 0)
                        continue;
                if (eq && strcmp(word, "scale") == 0 && parse_scale(eq + 1, &o.calibration.scale) == 0)
                        continue;
                *ret_error = "expected offset=C (degrees Celsius, as 1.5 or -0.25) or scale=F (above 0, up to 1000, "
                             "six decimals at most, as 1.02)";
                return -EINVAL;
        }
        *ret = o;
        return 0;
}
