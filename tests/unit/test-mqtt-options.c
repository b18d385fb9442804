/* SPDX-License-Identifier: MIT */
/* thermo-mqtt's command line: the broker's URL, its password, SERVER arguments, and publishing on change. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "broker.h"
#include "options.h"

static void assert_broker(const char *url, const char *host, unsigned port, const char *user, bool tls) {
        const char *error = NULL;
        BrokerAddress a;

        assert_int_equal(broker_address_parse(url, &a, &error), 0);
        assert_string_equal(a.host, host);
        assert_int_equal(a.port, port);
        if (user)
                assert_string_equal(a.user, user);
        else
                assert_null(a.user);
        assert_int_equal(a.tls, tls);
        broker_address_done(&a);
}

static void assert_bad_broker(const char *url, const char *why) {
        const char *error = NULL;
        BrokerAddress a;

        assert_int_equal(broker_address_parse(url, &a, &error), -EINVAL);
        assert_non_null(error);
        assert_non_null(strstr(error, why));
}

static void test_broker_urls(void **state) {
        char buf[300];
        const char *error;
        BrokerAddress a;

        assert_broker("mqtt://localhost", "localhost", 1883, NULL, false);
        assert_broker("mqtt://localhost/", "localhost", 1883, NULL, false);
        assert_broker("mqtts://broker.lan", "broker.lan", 8883, NULL, true);
        assert_broker("mqtt://alice@10.0.0.2:1884", "10.0.0.2", 1884, "alice", false);
        assert_broker("mqtts://bob@[::1]:8884", "::1", 8884, "bob", true);
        assert_broker("mqtt://[fe80::1]", "fe80::1", 1883, NULL, false);

        assert_bad_broker("localhost", "not mqtt:// or mqtts://");
        assert_bad_broker("http://localhost", "not mqtt:// or mqtts://");
        assert_bad_broker("mqtt://alice:secret@localhost", "a password does not belong on the command line");
        assert_bad_broker("mqtt://@localhost", "the user name is empty");
        assert_bad_broker("mqtt://", "no host");
        assert_bad_broker("mqtt://:1883", "no host");
        assert_bad_broker("mqtt://host:0", "the port is not a number");
        assert_bad_broker("mqtt://host:65536", "the port is not a number");
        assert_bad_broker("mqtt://host:x", "the port is not a number");
        assert_bad_broker("mqtt://host/path", "a broker has no path");
        assert_bad_broker("mqtt://[::1", "brackets");
        assert_bad_broker("mqtt://[]:1", "brackets");
        assert_bad_broker("mqtt://host?x=1", "no query");
        assert_bad_broker("mqtt://host/#frag", "no query");
        assert_bad_broker("mqtt://ho st", "no blank");
        assert_bad_broker("mqtt://host\n", "no blank");
        assert_bad_broker("mqtt://h*st", "the host is a name");
        assert_bad_broker("mqtt://a@b@host", "the host is a name");
        assert_bad_broker("mqtt://[::g]", "the host is a name");
        assert_bad_broker("mqtt://a%4@host", "hex digits");
        assert_bad_broker("mqtt://a%00@host", "hex digits");
        assert_bad_broker("mqtt://a%zz@host", "hex digits");
        assert_bad_broker("mqtt://a%ff@host", "hex digits");
        assert_broker("mqtt://[fe80::1%eth0]:1884", "fe80::1%eth0", 1884, NULL, false);
        assert_broker("mqtt://%c3%a9mile@host", "host", 1883, "\xc3\xa9mile", false);
        /* A user name with an '@' in it, as a URL escapes it. */
        assert_broker("mqtt://me%40example.com@broker.lan", "broker.lan", 1883, "me@example.com", false);
        assert_broker("mqtt://a%25b@broker_1.lan:1884", "broker_1.lan", 1884, "a%b", false);

        error = NULL;
        assert_int_equal(broker_address_parse("mqtts://u@[::1]:8883", &a, &error), 0);
        broker_address_format(&a, buf, sizeof(buf));
        assert_string_equal(buf, "mqtts://[::1]:8883");
        broker_address_done(&a);
}

static void test_passwords(void **state) {
        char dir[] = "/tmp/thermo-password-XXXXXX", path[128], credential[128];
        char *password = NULL;
        FILE *f;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/file", dir);
        snprintf(credential, sizeof(credential), "%s/" BROKER_PASSWORD_CREDENTIAL, dir);

        /* A file: its newline is no part of the password; blanks are. */
        f = fopen(path, "we");
        fputs(" two words \n", f);
        fclose(f);
        assert_int_equal(broker_password_read(path, &password), 0);
        assert_string_equal(password, " two words ");
        free(password);

        /* Neither: none. The credential, where systemd passed it. */
        unsetenv("CREDENTIALS_DIRECTORY");
        assert_int_equal(broker_password_read(NULL, &password), 0);
        assert_null(password);
        setenv("CREDENTIALS_DIRECTORY", dir, 1);
        assert_int_equal(broker_password_read(NULL, &password), 0);
        assert_null(password);
        f = fopen(credential, "we");
        fputs("s3cret", f);
        fclose(f);
        assert_int_equal(broker_password_read(NULL, &password), 0);
        assert_string_equal(password, "s3cret");
        free(password);
        unsetenv("CREDENTIALS_DIRECTORY");

        /* Empty, two lines, or a NUL: refused. */
        f = fopen(path, "we");
        fputs("\n", f);
        fclose(f);
        assert_int_equal(broker_password_read(path, &password), -EINVAL);
        f = fopen(path, "we");
        fputs("one\ntwo\n", f);
        fclose(f);
        assert_int_equal(broker_password_read(path, &password), -EINVAL);
        f = fopen(path, "we");
        fwrite("a\0b", 1, 3, f);
        fclose(f);
        assert_int_equal(broker_password_read(path, &password), -EINVAL);
        assert_int_equal(broker_password_read("/nonexistent/password", &password), -ENOENT);

        unlink(path);
        unlink(credential);
        rmdir(dir);
}

static void test_server_specs(void **state) {
        const char *error = NULL;
        ServerSpec s;

        assert_int_equal(server_spec_parse("pi.lan", &s, &error), 0);
        assert_null(s.name);
        assert_string_equal(s.host, "pi.lan");
        assert_string_equal(s.port, "8888");
        server_spec_done(&s);

        assert_int_equal(server_spec_parse("kitchen=[::1]:8889", &s, &error), 0);
        assert_string_equal(s.name, "kitchen");
        assert_string_equal(s.host, "::1");
        assert_string_equal(s.port, "8889");
        assert_string_equal(s.text, "kitchen=[::1]:8889");
        server_spec_done(&s);

        assert_int_equal(server_spec_parse("cellar=/run/thermo/thermo.sock", &s, &error), 0);
        assert_string_equal(s.name, "cellar");
        assert_string_equal(s.unix_path, "/run/thermo/thermo.sock");
        assert_null(s.host);
        server_spec_done(&s);

        assert_int_equal(server_spec_parse("bad name=host", &s, &error), -EINVAL);
        assert_non_null(strstr(error, "NAME"));
        assert_int_equal(server_spec_parse("=host", &s, &error), -EINVAL);
        assert_int_equal(server_spec_parse("host:99999", &s, &error), -EINVAL);
        assert_int_equal(server_spec_parse("a=", &s, &error), -EINVAL);
}

/* mqtt_options_parse() of args (NULL-ended, after the program's name): its result, the options in *ret. */
static int parse(const char *const *args, MqttOptions *ret) {
        char *argv[16] = { (char *) "thermo-mqtt" };
        int argc = 1;

        for (; args[argc - 1]; argc++) {
                assert_true(argc < 15);
                argv[argc] = (char *) args[argc - 1];
        }
        /* getopt_long() anew. */
        optind = 0;
        *ret = (MqttOptions) {};
        return mqtt_options_parse(argc, argv, ret);
}

/* --min-change, --heartbeat and --expire-after: what each takes, and what they ask of each other. */
static void test_publish_on_change(void **state) {
        MqttOptions o;

        unsetenv("CREDENTIALS_DIRECTORY");
        assert_int_equal(parse((const char *const[]) { NULL }, &o), 1);
        assert_int_equal(o.min_change, 0);
        assert_int_equal(o.heartbeat, 0);
        assert_int_equal(o.expire_after, 0);
        mqtt_options_done(&o);

        assert_int_equal(parse((const char *const[]) { "--min-change=0.5", "--heartbeat=5min", "--expire-after=10min",
                                                       NULL }, &o), 1);
        assert_int_equal(o.min_change, 500);
        assert_int_equal(o.heartbeat, 300 * UINT64_C(1000000));
        assert_int_equal(o.expire_after, 600 * UINT64_C(1000000));
        mqtt_options_done(&o);
        assert_int_equal(parse((const char *const[]) { "--expire-after=90s", NULL }, &o), 1);
        assert_int_equal(o.expire_after, 90 * UINT64_C(1000000));
        mqtt_options_done(&o);

        for (const char *const *bad = (const char *const[]) { "--min-change=-1", "--min-change=x", "--min-change=1001",
                                                               "--min-change=0.0001", "--heartbeat=500ms",
                                                               "--heartbeat=8d", "--expire-after=1500ms",
                                                               "--expire-after=0", NULL };
                        *bad; bad++) {
                if (parse((const char *const[]) { "--min-change=1", "--heartbeat=1min", *bad, NULL }, &o) != -EINVAL)
                        fail_msg("%s taken", *bad);
                mqtt_options_done(&o);
        }
        /* A heartbeat of nothing held back; a steady sensor that Home Assistant would let expire. */
        assert_int_equal(parse((const char *const[]) { "--heartbeat=1min", NULL }, &o), -EINVAL);
        assert_int_equal(parse((const char *const[]) { "--min-change=1", "--expire-after=1min", NULL }, &o), -EINVAL);
        assert_int_equal(parse((const char *const[]) { "--min-change=1", "--heartbeat=1min", "--expire-after=1min",
                                                       NULL }, &o), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_broker_urls),
                cmocka_unit_test(test_passwords),
                cmocka_unit_test(test_server_specs),
                cmocka_unit_test(test_publish_on_change),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
