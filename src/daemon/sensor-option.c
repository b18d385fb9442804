/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "sensor-option.h"

int sensor_option_split(const char *s, char name[static PROTOCOL_NAME_MAX + 1],
                        char words[static SENSOR_OPTION_WORDS_MAX + 1]) {
        const char *colon;
        size_t n;

        assert(s);
        assert(name);
        assert(words);

        colon = strchr(s, ':');
        if (!colon || !protocol_name_is_valid(s, (size_t) (colon - s)))
                return -EBADMSG;
        n = strlen(colon + 1);
        if (n == 0 || n > SENSOR_OPTION_WORDS_MAX)
                return -EINVAL;
        memcpy(name, s, (size_t) (colon - s));
        name[colon - s] = '\0';
        memcpy(words, colon + 1, n + 1);
        return 0;
}
