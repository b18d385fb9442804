/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "log.h"

/* Process-wide like the stderr it writes to: set once at start. */
static int log_max_level = LOG_INFO;
static int log_journal = -1;    /* whether stderr is the journal: found at the first line, then known */
static const char *log_prefix = NULL;
static bool log_color = false;

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",      [LOG_ERR] = "err",
        [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_set_max_level(int level) {
        log_max_level = level;
}

void log_set_prefix(const char *prefix) {
        log_prefix = prefix;
}

void log_set_color(bool color) {
        log_color = color;
}

int log_get_max_level(void) {
        return log_max_level;
}

int log_level_from_string(const char *s) {
        assert(s);

        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (strcmp(s, level_names[i]) == 0)
                        return (int) i;
        if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
                return s[0] - '0';
        return -EINVAL;
}

/* systemd sets JOURNAL_STREAM to the device and inode of the stream it connected to our stderr; if stderr
 * is still that stream, the journal is listening and we can hand it structured fields. */
static int stderr_is_journal(void) {
        const char *e = secure_getenv("JOURNAL_STREAM");
        uint64_t dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%" SCNu64 ":%" SCNu64, &dev, &ino) != 2)
                return 0;
        if (fstat(STDERR_FILENO, &st) < 0)
                return 0;
        return st.st_dev == dev && st.st_ino == ino;
}

static void log_to_journal(int level, int error, const char *message_id, const char *const *fields,
                const char *message) {
        char priority[sizeof("PRIORITY=") + 1], errno_field[sizeof("ERRNO=") + 12];
        char id_field[sizeof("MESSAGE_ID=") + 32];
        _cleanup_free_ char *message_field = NULL;
        struct iovec iov[32];
        size_t n = 0;

        if (asprintf(&message_field, "MESSAGE=%s", message) < 0)
                return;
        iov[n++] = (struct iovec) { message_field, strlen(message_field) };

        snprintf(priority, sizeof(priority), "PRIORITY=%i", level);
        iov[n++] = (struct iovec) { priority, strlen(priority) };

        if (error != 0) {
                snprintf(errno_field, sizeof(errno_field), "ERRNO=%i", abs(error));
                iov[n++] = (struct iovec) { errno_field, strlen(errno_field) };
        }
        if (message_id) {
                snprintf(id_field, sizeof(id_field), "MESSAGE_ID=%s", message_id);
                iov[n++] = (struct iovec) { id_field, strlen(id_field) };
        }
        for (; fields && *fields && n < ELEMENTSOF(iov); fields++)
                iov[n++] = (struct iovec) { (char *) *fields, strlen(*fields) };

        (void) sd_journal_sendv(iov, (int) n);
}

int log_struct_internal(int level, int error, const char *message_id, const char *const *fields,
                const char *format, ...) {
        char message[2048];
        va_list ap;

        assert(format);

        if (level > log_max_level)
                return -abs(error);

        /* Let %m in the format say what the error is. */
        errno = abs(error);
        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);

        if (log_journal < 0)
                log_journal = stderr_is_journal();
        if (log_journal)
                log_to_journal(level, error, message_id, fields, message);
        else if (log_color && level <= LOG_WARNING)
                /* As systemd's tools: errors in bright red, warnings in yellow. */
                fprintf(stderr, "%s: %s%s\x1b[0m\n", log_prefix ?: level_names[level & 7],
                                level <= LOG_ERR ? "\x1b[0;1;31m" : "\x1b[0;1;38;5;185m", message);
        else
                fprintf(stderr, "%s: %s\n", log_prefix ?: level_names[level & 7], message);

        return -abs(error);
}

int log_parse_level_option(const char *value) {
        int level;

        assert(value);

        level = log_level_from_string(value);
        if (level < 0)
                return log_invalid_value("--log-level", value, "expected debug, info, notice, warning or err");
        log_set_max_level(level);
        return 0;
}

void log_usage_hint(void) {
        fprintf(stderr, "See '%s --help'.\n", program_invocation_short_name);
}

int log_invalid_value(const char *option, const char *value, const char *why) {
        assert(option);
        assert(value);
        assert(why);

        fprintf(stderr, "%s: Invalid value '%s' for %s: %s\n", program_invocation_short_name, value, option, why);
        return -EINVAL;
}
