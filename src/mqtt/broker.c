/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "macro.h"
#include "parse.h"
#include "text.h"

/* A user name as a URL has it: "%40" is '@', "%25" '%', and so on (RFC 3986); the bytes decoded in place.
 * -EINVAL for a '%' not followed by two hex digits, or one that makes a NUL or a control character. */
static int percent_decode(char *s) {
        char *out = s;

        for (; *s; s++) {
                unsigned v;

                if (*s != '%') {
                        *out++ = *s;
                        continue;
                }
                if (!isxdigit((unsigned char) s[1]) || !isxdigit((unsigned char) s[2]) || sscanf(s + 1, "%2x", &v) != 1 ||
                                v < 0x20 || v == 0x7f)
                        return -EINVAL;
                *out++ = (char) v;
                s += 2;
        }
        *out = '\0';
        return 0;
}

/* A host as the broker URL may name it: letters, digits, '.', '-' and '_' (or, in brackets, an IPv6
 * address's hex digits, ':' and '.', and a link-local one's zone after a '%': "fe80::1%eth0"). */
static bool host_is_valid(const char *host, bool ipv6) {
        size_t n = strspn(host, ipv6 ? "0123456789abcdefABCDEF:." :
                                       "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");

        if (ipv6 && host[n] == '%' && host[n + 1] != '\0')
                n += 1 + strspn(host + n + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");
        return host[n] == '\0';
}

int broker_address_parse(const char *url, BrokerAddress *ret, const char **ret_error) {
        _cleanup_free_ char *host = NULL, *user = NULL;
        const char *p, *at, *end, *port = NULL;
        uint64_t v = 0;
        bool tls;

        assert(url);
        assert(ret);
        assert(ret_error);

        if (startswith(url, "mqtt://"))
                tls = false;
        else if (startswith(url, "mqtts://"))
                tls = true;
        else {
                *ret_error = "not mqtt:// or mqtts://";
                return -EINVAL;
        }
        p = strstr(url, "://") + 3;
        /* Nothing libmosquitto would take for a host, or quietly drop. */
        if (strpbrk(p, "?#")) {
                *ret_error = "a broker URL has no query and no fragment";
                return -EINVAL;
        }
        for (const char *c = p; *c; c++)
                if ((unsigned char) *c <= ' ' || *c == 0x7f) {
                        *ret_error = "a broker URL holds no blank and no control character";
                        return -EINVAL;
                }

        at = strchr(p, '@');
        if (at) {
                if (memchr(p, ':', (size_t) (at - p))) {
                        *ret_error = "a password does not belong on the command line: use --password-file, or the "
                                     "credential " BROKER_PASSWORD_CREDENTIAL;
                        return -EINVAL;
                }
                if (at == p || memchr(p, '/', (size_t) (at - p))) {
                        *ret_error = "the user name is empty or holds a '/'";
                        return -EINVAL;
                }
                user = strndup(p, (size_t) (at - p));
                if (!user)
                        return -ENOMEM;
                if (percent_decode(user) < 0 || !text_is_printable(user)) {
                        *ret_error = "the user name has a '%' that is not followed by two hex digits, or is not "
                                     "printable UTF-8 once decoded (%40 for '@')";
                        return -EINVAL;
                }
                p = at + 1;
        }

        /* Nothing after the address but an optional "/": there are no paths in MQTT. */
        end = p + strcspn(p, "/");
        if (*end == '/' && end[1] != '\0') {
                *ret_error = "a broker has no path";
                return -EINVAL;
        }
        if (*p == '[') {
                const char *close = memchr(p, ']', (size_t) (end - p));

                if (!close || close == p + 1 || (close + 1 != end && close[1] != ':')) {
                        *ret_error = "an IPv6 address goes in brackets: mqtt://[::1]:1883";
                        return -EINVAL;
                }
                host = strndup(p + 1, (size_t) (close - p - 1));
                if (close[1] == ':')
                        port = close + 2;
        } else {
                const char *colon = memchr(p, ':', (size_t) (end - p));

                host = strndup(p, (size_t) ((colon ?: end) - p));
                if (colon)
                        port = colon + 1;
        }
        if (!host)
                return -ENOMEM;
        if (host[0] == '\0') {
                *ret_error = "no host";
                return -EINVAL;
        }
        if (!host_is_valid(host, *p == '[')) {
                *ret_error = "the host is a name of letters, digits, '.', '-' and '_', or an address";
                return -EINVAL;
        }
        if (port) {
                _cleanup_free_ char *digits = strndup(port, (size_t) (end - port));

                if (!digits)
                        return -ENOMEM;
                if (parse_uint64(digits, 1, 65535, &v) < 0) {
                        *ret_error = "the port is not a number from 1 to 65535";
                        return -EINVAL;
                }
        }

        *ret = (BrokerAddress) {
                .host = TAKE_PTR(host),
                .port = (uint16_t) (port ? v : tls ? 8883 : 1883),
                .user = TAKE_PTR(user),
                .tls = tls,
        };
        return 0;
}

void broker_address_done(BrokerAddress *a) {
        assert(a);
        free(a->host);
        free(a->user);
        *a = (BrokerAddress) {};
}

void broker_address_format(const BrokerAddress *a, char *buf, size_t size) {
        assert(a);
        assert(buf);

        snprintf(buf, size, strchr(a->host, ':') ? "%s://[%s]:%u" : "%s://%s:%u", a->tls ? "mqtts" : "mqtt", a->host,
                        a->port);
}

int broker_password_read(const char *path, char **ret) {
        char buf[BROKER_PASSWORD_MAX + 2], credential[4096];
        _cleanup_close_ int fd = -EBADF;
        const char *directory;
        ssize_t n;
        size_t len;

        assert(ret);

        if (!path) {
                directory = getenv("CREDENTIALS_DIRECTORY");
                if (!directory) {
                        *ret = NULL;
                        return 0;
                }
                snprintf(credential, sizeof(credential), "%s/" BROKER_PASSWORD_CREDENTIAL, directory);
                if (access(credential, F_OK) < 0) {
                        *ret = NULL;
                        return 0;
                }
                path = credential;
        }

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        /* Longer than a password may be: refused whole, never cut. */
        if ((size_t) n == sizeof(buf) - 1 && read(fd, credential, 1) > 0) {
                explicit_bzero(buf, sizeof(buf));
                return -EINVAL;
        }

        len = (size_t) n;
        if (len > 0 && buf[len - 1] == '\n')
                len--;
        if (len == 0 || len > BROKER_PASSWORD_MAX || memchr(buf, '\0', len) || memchr(buf, '\n', len)) {
                explicit_bzero(buf, sizeof(buf));
                return -EINVAL;
        }
        *ret = strndup(buf, len);
        explicit_bzero(buf, sizeof(buf));
        return *ret ? 0 : -ENOMEM;
}
