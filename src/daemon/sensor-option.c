/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "sensor-option.h"

int sensor_option_split(const char *s, const char *no_name, const char *no_words,
                        char name[static PROTOCOL_NAME_MAX + 1], char words[static SENSOR_OPTION_WORDS_MAX + 1],
                        const char **ret_error) {
        const char *colon;
        size_t n;

        assert(s);
        assert(no_name);
        assert(no_words);
        assert(name);
        assert(words);
        assert(ret_error);

        colon = strchr(s, ':');
        if (!colon || !protocol_name_is_valid(s, (size_t) (colon - s))) {
                *ret_error = no_name;
                return -EINVAL;
        }
        n = strlen(colon + 1);
        if (n == 0 || n > SENSOR_OPTION_WORDS_MAX) {
                *ret_error = no_words;
                return -EINVAL;
        }
        memcpy(name, s, (size_t) (colon - s));
        name[colon - s] = '\0';
        memcpy(words, colon + 1, n + 1);
        return 0;
}
