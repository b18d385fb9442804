/* SPDX-License-Identifier: MIT */
/* One source of truth for options: every option a program's --help shows is in the OPTIONS section of its
 * man page, and every option there is in --help. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

typedef struct Options {
        char names[64][32]; /* "--listen", "-l" */
        size_t n;
} Options;

static void add(Options *o, const char *name, size_t len) {
        for (size_t i = 0; i < o->n; i++)
                if (strlen(o->names[i]) == len && strncmp(o->names[i], name, len) == 0)
                        return;
        assert_true(o->n < 64 && len < 32);
        memcpy(o->names[o->n], name, len);
        o->names[o->n++][len] = '\0';
}

/* In --help, an option is a line's first words: "  -l --listen=ADDRESS  ..." or "     --version  ...". */
static void options_from_help(const char *help, Options *o) {
        for (const char *line = help; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                const char *p = line;

                while (*p == ' ')
                        p++;
                while (*p == '-') {
                        size_t len = 1;

                        while (p[len] == '-' || isalnum((unsigned char) p[len]))
                                len++;
                        add(o, p, len);
                        p += len;
                        while (*p == '=' || isupper((unsigned char) *p) || *p == '_')
                                p++;
                        while (*p == ' ' && p[1] == '-')
                                p++;
                        if (*p == ' ')
                                break;
                }
        }
}

/* In mdoc, an option is an item of the OPTIONS section: ".It Fl l , -listen Ns = Ns Ar address". */
static void options_from_man(const char *path, Options *o) {
        char line[512];
        bool in_options = false;
        FILE *f = fopen(path, "re");

        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
                char *save = NULL, *word;
                bool flag = false;

                if (strncmp(line, ".Sh ", 4) == 0)
                        in_options = strncmp(line, ".Sh OPTIONS", 11) == 0;
                if (!in_options || strncmp(line, ".It Fl ", 7) != 0)
                        continue;
                for (word = strtok_r(line + 4, " \n", &save); word; word = strtok_r(NULL, " \n", &save)) {
                        char name[40];

                        if (strcmp(word, "Ns") == 0 || strcmp(word, "Ar") == 0)
                                break; /* the option's argument follows */
                        if (strcmp(word, "Fl") == 0) {
                                flag = true;
                                continue;
                        }
                        if (strcmp(word, ",") == 0 || strcmp(word, "|") == 0)
                                continue;
                        if (flag && (isalnum((unsigned char) word[0]) || word[0] == '-')) {
                                snprintf(name, sizeof(name), "-%s", word);
                                add(o, name, strlen(name));
                                continue;
                        }
                        flag = false;
                }
        }
        fclose(f);
}

static void assert_same(const char *program, const char *page) {
        static char out[16384], err[1024];
        const char *source = getenv("THERMO_SOURCE_ROOT");
        char path[512];
        Options help = {}, man = {};

        assert_non_null(source);
        assert_int_equal(harness_run((const char *const[]) { program, "--help", NULL }, out, sizeof(out), err,
                                 sizeof(err)),
                        0);
        options_from_help(out, &help);
        snprintf(path, sizeof(path), "%s/man/%s", source, page);
        options_from_man(path, &man);

        assert_true(help.n >= 3);
        for (size_t i = 0; i < help.n; i++) {
                bool found = false;
                for (size_t k = 0; k < man.n; k++)
                        found = found || strcmp(help.names[i], man.names[k]) == 0;
                if (!found)
                        fail_msg("%s --help shows %s, %s does not", program, help.names[i], page);
        }
        for (size_t k = 0; k < man.n; k++) {
                bool found = false;
                for (size_t i = 0; i < help.n; i++)
                        found = found || strcmp(help.names[i], man.names[k]) == 0;
                if (!found)
                        fail_msg("%s documents %s, %s --help does not show it", page, man.names[k], program);
        }
}

static void test_server_help_and_man_page_agree(void **state) {
        assert_same(harness_server(), "thermo-server.8");
}

static void test_client_help_and_man_page_agree(void **state) {
        assert_same(harness_client(), "thermo-client.1");
}

static void test_mqtt_help_and_man_page_agree(void **state) {
        const char *mqtt = getenv("THERMO_MQTT");

        assert_non_null(mqtt);
        assert_same(mqtt, "thermo-mqtt.8");
}

/* The directory of the thermo-client under test: completions ask it for sensor names. */
static const char *client_dir(void) {
        static char dir[1024];

        snprintf(dir, sizeof(dir), "%s", harness_client());
        *strrchr(dir, '/') = '\0';
        return dir;
}

/* Runs a bash command line; returns its output, which must come with no error. */
static const char *run_shell(const char *command) {
        static char out[8192], err[1024];

        assert_int_equal(harness_run((const char *const[]) { "/bin/bash", "-c", command, NULL }, out, sizeof(out), err,
                                 sizeof(err)),
                        0);
        assert_string_equal(err, "");
        return out;
}

/* Completes the words as bash would at the end of the line, with program's completion; returns the
 * candidates, one per line. */
static const char *complete_with(const char *program, const char *words) {
        const char *source = getenv("THERMO_SOURCE_ROOT");
        char command[4096], function[64];

        assert_non_null(source);
        snprintf(function, sizeof(function), "_%s", program);
        for (char *c = function; *c; c++)
                if (*c == '-')
                        *c = '_';
        snprintf(command, sizeof(command),
                        "export PATH='%s':$PATH && source '%s/shell-completion/bash/%s' && COMP_WORDS=(%s) && "
                        "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && %s && printf '%%s\\n' \"${COMPREPLY[@]}\" | sort",
                        client_dir(), source, program, words, function);
        return run_shell(command);
}

static const char *complete(const char *words) {
        return complete_with("thermo-client", words);
}

/* Types line and a Tab into an interactive zsh on a terminal, with our completions in its fpath;
 * returns the candidates zsh is given, sorted, one per line. */
static const char *complete_zsh(const char *line) {
        const char *source = getenv("THERMO_SOURCE_ROOT");
        char command[4096];

        assert_non_null(source);
        snprintf(command, sizeof(command),
                        "export PATH='%s':$PATH && out=$(mktemp) && "
                        "zsh -f '%s/tests/integration/zsh-complete.zsh' '%s/shell-completion/zsh' '%s' \"$out\" && "
                        "grep -vx -e '<done>' -e '' \"$out\" | sort -u; rm -f \"$out\"",
                        client_dir(), source, source, line);
        return run_shell(command);
}

/* Every option --help shows, the completion offers, and no other. */
static void assert_completion_offers_help(const char *program, const char *path, const char *offered) {
        static char out[16384], err[1024];
        Options help = {}, completion = {};

        assert_int_equal(harness_run((const char *const[]) { path, "--help", NULL }, out, sizeof(out), err, sizeof(err)), 0);
        options_from_help(out, &help);
        options_from_help(offered, &completion);
        assert_int_equal(help.n, completion.n);
        for (size_t i = 0; i < help.n; i++) {
                bool found = false;
                for (size_t k = 0; k < completion.n; k++)
                        found = found || strcmp(help.names[i], completion.names[k]) == 0;
                if (!found)
                        fail_msg("%s --help shows %s, the completion does not offer it", program, help.names[i]);
        }
}

static void test_completion_offers_every_option_of_help(void **state) {
        const struct {
                const char *program, *path;
        } programs[] = {
                { "thermo-client", harness_client() },
                { "thermo-server", harness_server() },
                { "thermo-mqtt", getenv("THERMO_MQTT") },
        };
        char words[64];

        for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
                snprintf(words, sizeof(words), "%s -", programs[i].program);
                assert_completion_offers_help(programs[i].program, programs[i].path,
                                complete_with(programs[i].program, words));
                assert_completion_offers_help(programs[i].program, programs[i].path, complete_zsh(words));
        }
}

static void test_completion_of_values(void **state) {
        assert_string_equal(complete("thermo-client --ou"), "--output\n");
        assert_string_equal(complete("thermo-client -o ''"), "csv\njson\ntext\n");
        assert_string_equal(complete("thermo-client --output = j"), "json\n");
        assert_string_equal(complete("thermo-client --units f"), "fahrenheit\n");
        assert_string_equal(complete("thermo-client --count ''"), "\n");
        assert_string_equal(complete("thermo-client --no"), "--no-legend\n");
        assert_string_equal(complete_with("thermo-server", "thermo-server --sensor fi"), "file:\n");
        assert_string_equal(complete_with("thermo-server", "thermo-server --log-level = w"), "warning\n");
        assert_string_equal(complete_with("thermo-server", "thermo-server --list"),
                        "--list-sensors\n--listen\n--listen-metrics\n");
        assert_string_equal(complete_with("thermo-server", "thermo-server --http"), "--http-cors-origin\n");
        assert_string_equal(complete_with("thermo-mqtt", "thermo-mqtt --payload ''"), "json\nvalue\n");
        assert_string_equal(complete_with("thermo-mqtt", "thermo-mqtt --qos = ''"), "0\n1\n");
        assert_string_equal(complete_with("thermo-mqtt", "thermo-mqtt --broker mqtts"), "mqtts://\n");
        assert_string_equal(complete_with("thermo-mqtt", "thermo-mqtt --no"), "--no-discovery\n");

        assert_string_equal(complete_zsh("thermo-client --ou"), "--output\n");
        assert_string_equal(complete_zsh("thermo-client -o "), "csv\njson\ntext\n");
        assert_string_equal(complete_zsh("thermo-client --units="), "celsius\nfahrenheit\nkelvin\n");
        assert_string_equal(complete_zsh("thermo-server --sensor cpu=si"), "simulated\nsimulated:\n");
        assert_string_equal(complete_zsh("thermo-server-proto --log-level w"), "warning\n");
        assert_string_equal(complete_zsh("thermo-mqtt --broker mq"), "mqtt://\nmqtts://\n");
        assert_string_equal(complete_zsh("thermo-mqtt --qos "), "0\n1\n");
}

/* bash-completion loads a command's completion from the file of its name: thermo-server-proto is a
 * link to thermo-server's, which completes both. */
static void test_completion_of_the_protocol_style_server(void **state) {
        char command[1024];

        snprintf(command, sizeof(command), "source '%s/shell-completion/bash/thermo-server' && complete -p thermo-server-proto",
                        getenv("THERMO_SOURCE_ROOT"));
        assert_string_equal(run_shell(command), "complete -F _thermo_server thermo-server-proto\n");
}

static void test_completion_of_sensor_names(void **state) {
        char words[256];
        ServerProcess p;

        harness_start_listening(&p, (const char *const[]) { "--sensor", "cpu=simulated:seed=1", "--sensor",
                                                "cellar=simulated:seed=2", "--sensor", "case=simulated:seed=3", NULL });
        /* The names the server on the command line has, as they begin. */
        snprintf(words, sizeof(words), "thermo-client 127.0.0.1:%i -s c", p.port);
        assert_string_equal(complete(words), "case\ncellar\ncpu\n");
        assert_string_equal(complete_zsh(words), "case\ncellar\ncpu\n");
        snprintf(words, sizeof(words), "thermo-client --sensor=cel 127.0.0.1:%i --sensor ce", p.port);
        assert_string_equal(complete(words), "cellar\n");
        assert_string_equal(complete_zsh(words), "cellar\n");
        harness_cleanup(&p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_server_help_and_man_page_agree),
                cmocka_unit_test(test_client_help_and_man_page_agree),
                cmocka_unit_test(test_mqtt_help_and_man_page_agree),
                cmocka_unit_test(test_completion_offers_every_option_of_help),
                cmocka_unit_test(test_completion_of_values),
                cmocka_unit_test(test_completion_of_the_protocol_style_server),
                cmocka_unit_test_teardown(test_completion_of_sensor_names, harness_kill_all),
        };
        return cmocka_run_group_tests(tests, NULL, harness_kill_all);
}
