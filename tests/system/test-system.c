/* SPDX-License-Identifier: MIT */
/* The units under a real systemd: boot.sh boots it as PID 1 of private namespaces on a throwaway overlay,
 * the build is installed there, and each test drives systemctl, journalctl and thermo-client inside with
 * nsenter. Every case runs for both thermo.socket and thermo-proto.socket. Skipped (77) when not root or
 * when namespaces cannot be made. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

#define MESSAGE_STARTED "72214724076f4f48a4e77cce31fd4dd3"
#define MESSAGE_CONNECTED "caa6a5b986af4e949c810cff0e0a76a7"
#define MESSAGE_DISCONNECTED "55c68309aadf41c9ba76928ac7c21bd2"
#define MESSAGE_SENSOR_FAILED "6a7c863dbdf4436fa8d877ece8c20d7f"
#define MESSAGE_RESCANNED "741eee9e599f405e97a9e8d718bd5031"

typedef struct Unit {
        const char *name;   /* thermo, thermo-proto */
        const char *server; /* thermo-server, thermo-server-proto */
        const char *port;
        const char *metrics_port;
} Unit;

static const Unit units[] = {
        { "thermo", "thermo-server", "8888", "8890" },
        { "thermo-proto", "thermo-server-proto", "8889", "8891" },
};

/* A booted system: the namespace's PID 1 as the host sees it, the unshare process in front of it, and
 * where its root is. */
typedef struct Box {
        pid_t init_pid, unshare_pid;
        char dir[64];
} Box;

static Box box;
static char out[256 * 1024], err[16 * 1024];

#define ELEMENTS(x) (sizeof(x) / sizeof((x)[0]))

/* Runs a shell command inside a booted system for timeout_ms at most; returns its exit status. */
__attribute__((format(printf, 3, 0))) static int vsys_in(const Box *b, int timeout_ms, const char *format,
                va_list ap) {
        char command[4096], pid[16];

        vsnprintf(command, sizeof(command), format, ap);
        snprintf(pid, sizeof(pid), "%i", (int) b->init_pid);
        out[0] = err[0] = '\0';
        return harness_run_for((const char *const[]) { "/usr/bin/nsenter", "-t", pid, "-a", "/bin/sh", "-c", command,
                                       NULL },
                        timeout_ms, out, sizeof(out), err, sizeof(err));
}

/* A command that may take long: a package build, an apt run. */
__attribute__((format(printf, 2, 3))) static int sys_for(int timeout_ms, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = vsys_in(&box, timeout_ms, format, ap);
        va_end(ap);
        return r;
}

/* Runs a shell command inside the booted system; returns its exit status. */
__attribute__((format(printf, 1, 2))) static int sys(const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = vsys_in(&box, 20000, format, ap);
        va_end(ap);
        return r;
}

/* The same, in another box. */
__attribute__((format(printf, 2, 3))) static int sys_in(const Box *b, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = vsys_in(b, 20000, format, ap);
        va_end(ap);
        return r;
}

static int64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls a command inside until it succeeds; bounded in time, however long each run of it takes. */
static bool sys_until_in(const Box *b, int timeout_ms, const char *command) {
        for (int64_t deadline = now_ms() + timeout_ms; now_ms() < deadline; usleep(100 * 1000))
                if (sys_in(b, "%s", command) == 0)
                        return true;
        return false;
}

static bool sys_until(int timeout_ms, const char *command) {
        return sys_until_in(&box, timeout_ms, command);
}

static void assert_sys(const char *command) {
        int r = sys("%s", command);
        if (r != 0)
                fail_msg("'%s' exited with %i:\n%s%s", command, r, out, err);
}

static pid_t first_child(pid_t pid) {
        char path[64];
        FILE *f;
        int child = 0;

        snprintf(path, sizeof(path), "/proc/%i/task/%i/children", (int) pid, (int) pid);
        f = fopen(path, "re");
        if (!f)
                return 0;
        if (fscanf(f, "%i", &child) != 1)
                child = 0;
        fclose(f);
        return child;
}

/* Boots a box (boot.sh), its log beside its directory, and waits until its systemd runs. */
static void box_boot(Box *b) {
        const char *script = getenv("THERMO_SYSTEM_BOOT"), *build = getenv("THERMO_BUILD_ROOT"),
                   *source = getenv("THERMO_SOURCE_ROOT");
        char log[128];

        assert_non_null(script);
        assert_non_null(build);
        assert_non_null(source);
        snprintf(b->dir, sizeof(b->dir), "/tmp/thermo-system-XXXXXX");
        assert_non_null(mkdtemp(b->dir));
        snprintf(log, sizeof(log), "%s.log", b->dir);

        b->unshare_pid = fork();
        assert_true(b->unshare_pid >= 0);
        if (b->unshare_pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

                /* If this test dies, unshare dies, and --kill-child takes the namespace with it. */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                        _exit(126);
                execl(script, script, b->dir, source, build, NULL);
                _exit(127);
        }
        harness_track(b->unshare_pid);

        for (int i = 0; i < 100 && (b->init_pid = first_child(b->unshare_pid)) == 0; i++)
                usleep(50 * 1000);
        assert_true(b->init_pid > 0);
        /* 30 s were too few once, beside test-page's browser on two cores. */
        if (!sys_until_in(b, 90000, "systemctl is-system-running --wait >/dev/null 2>&1; "
                                    "systemctl is-system-running | grep -qE 'running|degraded'"))
                fail_msg("systemd did not come up; see %s", log);
}

/* By PID: the namespace's init, then unshare (everything else in there dies with init); then the box's
 * own cgroups, once empty. */
static void box_shutdown(Box *b) {
        char log[128], pid[16];

        if (b->init_pid > 0)
                kill(b->init_pid, SIGKILL);
        if (b->unshare_pid > 0) {
                kill(b->unshare_pid, SIGKILL);
                (void) harness_wait_pid(b->unshare_pid, 10000);
                snprintf(pid, sizeof(pid), "%i", (int) b->unshare_pid);
                (void) harness_run_for((const char *const[]) { getenv("THERMO_SYSTEM_BOOT"), "--cleanup", pid, NULL },
                                10000, NULL, 0, NULL, 0);
        }
        snprintf(log, sizeof(log), "%s.log", b->dir);
        (void) unlink(log);
        (void) rmdir(b->dir);
        *b = (Box) {};
}

static int boot(void **state) {
        const char *build = getenv("THERMO_BUILD_ROOT");

        box_boot(&box);

        /* The build, installed into the throwaway root; loopback up in our own network namespace. */
        assert_sys("ip link set lo up");
        {
                char install[512];
                snprintf(install, sizeof(install), "meson install --no-rebuild --quiet -C %s >/dev/null", build);
                assert_sys(install);
        }
        assert_sys("journalctl --update-catalog && systemctl daemon-reload");
        assert_sys("systemctl start systemd-journald.socket systemd-journald.service");
        return 0;
}

static int shutdown_system(void **state) {
        box_shutdown(&box);
        return harness_kill_all(state);
}

/* Each test begins with every unit stopped and no drop-ins. */
static int reset(void **state) {
        for (size_t i = 0; i < ELEMENTS(units); i++)
                (void) sys("u=%s; systemctl stop $u.socket $u-metrics.socket $u.service; "
                           "rm -rf /run/systemd/system/$u.service.d /run/systemd/system/$u.socket.d /etc/default/$u; "
                           "systemctl reset-failed $u.service",
                                units[i].name);
        (void) sys("systemctl stop thermo-mqtt.service mosquitto.service; rm -rf /run/systemd/system/thermo-mqtt.service.d "
                   "/etc/credstore; systemctl reset-failed thermo-mqtt.service");
        return sys("systemctl daemon-reload") == 0 ? 0 : -1;
}

static void drop_in(const Unit *u, const char *type, const char *text) {
        char command[1024];

        snprintf(command, sizeof(command),
                        "mkdir -p /run/systemd/system/%s.%s.d && printf '%%s' '%s' > /run/systemd/system/%s.%s.d/test.conf "
                        "&& systemctl daemon-reload",
                        u->name, type, text, u->name, type);
        assert_sys(command);
}

/* With the end of the output where it fails: what a journal showed instead. */
static void assert_out_has(const char *text) {
        size_t n = strlen(out);

        if (!strstr(out, text))
                fail_msg("no '%s' in the output, which ends:\n%s%s", text, out + (n > 4000 ? n - 4000 : 0), err);
}

static int count_lines(const char *s) {
        int n = 0;
        for (; *s; s++)
                n += *s == '\n';
        return n;
}

static void test_first_connection_starts_the_service(void **state) {
        for (size_t i = 0; i < ELEMENTS(units); i++) {
                const Unit *u = &units[i];

                assert_int_equal(sys("systemctl start %s.socket", u->name), 0);
                assert_int_equal(sys("systemctl is-active %s.service", u->name), 3); /* inactive */
                assert_int_equal(sys("thermo-client --count 3 -o csv 127.0.0.1:%s", u->port), 0);
                assert_int_equal(count_lines(out), 4);
                assert_int_equal(sys("systemctl is-active %s.service", u->name), 0);
                /* Type=notify: the status line comes from the server. */
                assert_int_equal(sys("systemctl show -P StatusText %s.service", u->name), 0);
                assert_non_null(strstr(out, "client, last reading") || strstr(out, "clients, last reading"));
        }
}

static void test_journal_has_the_events_and_their_fields(void **state) {
        for (size_t i = 0; i < ELEMENTS(units); i++) {
                const Unit *u = &units[i];

                /* A stream: a GET alone would be summed up, not logged (see thermo-server(8), LOGGING). */
                assert_int_equal(sys("systemctl start %s.socket && thermo-client -n 2 127.0.0.1:%s", u->name, u->port), 0);
                assert_int_equal(sys("journalctl --sync; journalctl -u %s.service -o json "
                                     "--output-fields=MESSAGE_ID,REMOTE_ADDR,PRIORITY,CLIENTS,REASON,SENSOR",
                                         u->name),
                                0);
                assert_non_null(strstr(out, "\"MESSAGE_ID\":\"" MESSAGE_STARTED "\""));
                assert_non_null(strstr(out, "\"SENSOR\":\"simulated\""));
                assert_non_null(strstr(out, "\"MESSAGE_ID\":\"" MESSAGE_CONNECTED "\""));
                assert_non_null(strstr(out, "\"MESSAGE_ID\":\"" MESSAGE_DISCONNECTED "\""));
                assert_non_null(strstr(out, "\"REMOTE_ADDR\":\"127.0.0.1:"));
                assert_non_null(strstr(out, "\"PRIORITY\":\"6\""));
                /* thermo-client ends a stream it ends itself with QUIT. */
                assert_non_null(strstr(out, "\"REASON\":\"QUIT\""));

                /* The catalog explains each event: journalctl -x shows it. */
                assert_int_equal(sys("journalctl -x -u %s.service --no-pager MESSAGE_ID=" MESSAGE_CONNECTED, u->name), 0);
                assert_non_null(strstr(out, "A client connected from 127.0.0.1:"));
        }
}

static void test_exit_on_idle_loses_no_connection(void **state) {
        char exec[256];

        for (size_t i = 0; i < ELEMENTS(units); i++) {
                const Unit *u = &units[i];

                snprintf(exec, sizeof(exec), "[Service]\nExecStart=\nExecStart=/usr/local/bin/%s --exit-idle=300ms\n",
                                u->server);
                drop_in(u, "service", exec);
                assert_int_equal(sys("systemctl start %s.socket && thermo-client -1 127.0.0.1:%s", u->name, u->port), 0);
                /* After its last client, the service goes; the socket stays. */
                assert_true(sys_until(5000, u == &units[0] ? "! systemctl -q is-active thermo.service"
                                                            : "! systemctl -q is-active thermo-proto.service"));
                assert_int_equal(sys("systemctl is-active %s.socket", u->name), 0);

                /* Forty connections, 50ms apart, across several exits and starts: each one greeted. */
                assert_int_equal(sys("ok=0; for n in $(seq 40); do thermo-client -q -1 -t 5 127.0.0.1:%s >/dev/null "
                                     "&& ok=$((ok+1)); sleep 0.05; done; echo $ok",
                                         u->port),
                                0);
                assert_string_equal(out, "40\n");
                assert_int_equal(sys("systemctl show -P NRestarts %s.service", u->name), 0);
        }
}

/* A restart hands the stream over: the client sees no BYE and reconnects to nothing, and the one-shot
 * clients meanwhile are all served (they wait in the socket's backlog). */
static void test_restart_keeps_the_stream_and_refuses_no_one(void **state) {
        for (size_t i = 0; i < ELEMENTS(units); i++) {
                const Unit *u = &units[i];

                assert_int_equal(sys("systemctl start %s.socket", u->name), 0);
                assert_int_equal(sys("thermo-client --retry -o csv 127.0.0.1:%s > /tmp/stream.csv 2> /tmp/stream.err & "
                                     "echo $! > /tmp/stream.pid; "
                                     "ok=0; for n in $(seq 30); do thermo-client -q -1 -t 5 127.0.0.1:%s >/dev/null "
                                     "&& ok=$((ok+1)); [ $n = 10 ] || [ $n = 20 ] && systemctl restart %s.service; "
                                     "sleep 0.05; done; sleep 2.5; kill -INT $(cat /tmp/stream.pid); wait; echo $ok",
                                         u->port, u->port, u->name),
                                0);
                assert_string_equal(out, "30\n");
                assert_int_equal(sys("cat /tmp/stream.err"), 0);
                assert_null(strstr(out, "going away"));
                assert_null(strstr(out, "reconnecting"));
                assert_int_equal(sys("wc -l < /tmp/stream.csv"), 0);
                assert_true(atoi(out) >= 3);
                assert_int_equal(sys("journalctl -q -o cat -u %s.service -g 'Took over'", u->name), 0);
                assert_int_equal(count_lines(out), 2);
        }
}

static void test_crash_is_restarted_and_retry_goes_on(void **state) {
        for (size_t i = 0; i < ELEMENTS(units); i++) {
                const Unit *u = &units[i];

                assert_int_equal(sys("systemctl start %s.socket", u->name), 0);
                assert_int_equal(sys("thermo-client --retry -o csv 127.0.0.1:%s > /tmp/crash.csv 2> /tmp/crash.err & "
                                     "echo $! > /tmp/crash.pid; sleep 1.5; systemctl kill -s KILL %s.service; sleep 3; "
                                     "kill -INT $(cat /tmp/crash.pid); wait; cat /tmp/crash.err",
                                         u->port, u->name),
                                0);
                /* The new server numbers its readings from 1: the client says so. */
                assert_non_null(strstr(out, "the server restarted"));
                assert_int_equal(sys("systemctl show -P NRestarts %s.service", u->name), 0);
                assert_int_equal(atoi(out), 1);
                assert_int_equal(sys("systemctl is-active %s.service", u->name), 0);
        }
}

static void test_watchdog_kills_a_stopped_server(void **state) {
        for (size_t i = 0; i < ELEMENTS(units); i++) {
                const Unit *u = &units[i];
                char check[128];
                int stopped;

                /* No core dump of the aborted server: writing one can take longer than the check waits. */
                drop_in(u, "service", "[Service]\nWatchdogSec=1s\nLimitCORE=0\n");
                assert_int_equal(sys("systemctl start %s.socket && thermo-client -1 127.0.0.1:%s", u->name, u->port), 0);
                assert_int_equal(sys("systemctl show -P MainPID %s.service", u->name), 0);
                stopped = atoi(out);
                assert_true(stopped > 0);
                assert_int_equal(sys("systemctl kill -s STOP %s.service", u->name), 0);
                /* A stopped process cannot exit by itself: only the watchdog can have ended it. */
                snprintf(check, sizeof(check), "systemctl show -P NRestarts %s.service | grep -qx 1", u->name);
                assert_true(sys_until(30000, check));
                assert_int_equal(sys("thermo-client -1 127.0.0.1:%s", u->port), 0);
                assert_int_equal(sys("systemctl show -P MainPID %s.service", u->name), 0);
                assert_true(atoi(out) > 0 && atoi(out) != stopped);
        }
}

static void test_stop_says_bye_and_leaves_nothing(void **state) {
        for (size_t i = 0; i < ELEMENTS(units); i++) {
                const Unit *u = &units[i];

                assert_int_equal(sys("systemctl start %s.socket", u->name), 0);
                assert_int_equal(sys("thermo-client -o csv 127.0.0.1:%s > /tmp/stop.csv 2> /tmp/stop.err & c=$!; sleep 1.5; "
                                     "systemctl stop %s.socket %s.service; wait $c; echo $?; cat /tmp/stop.err",
                                         u->port, u->name, u->name),
                                0);
                assert_non_null(strstr(out, "75\n"));
                assert_non_null(strstr(out, "is going away (BYE)"));
                assert_int_equal(sys("systemctl is-active %s.socket %s.service", u->name, u->name), 3);
                assert_int_equal(sys("pgrep -x %s", u->server), 1);
        }
}

static void test_unix_socket_by_drop_in(void **state) {
        for (size_t i = 0; i < ELEMENTS(units); i++) {
                const Unit *u = &units[i];
                char text[128];

                snprintf(text, sizeof(text), "[Socket]\nListenStream=/run/thermo/%s.sock\n", u->name);
                drop_in(u, "socket", text);
                assert_int_equal(sys("systemctl start %s.socket && thermo-client -n 2 --unix /run/thermo/%s.sock", u->name,
                                         u->name),
                                0);
                assert_int_equal(count_lines(out), 2);
                /* The loopback sockets are still there too. */
                assert_int_equal(sys("thermo-client -1 '[::1]:%s'", u->port), 0);
        }
}

static void test_real_sensor_paths_under_the_sandbox(void **state) {
        char exec[256];

        /* What a sensor is to the server: a file of millidegrees somewhere it may only read. */
        assert_sys("mkdir -p /run/thermo-sensor && echo 23125 > /run/thermo-sensor/temp && "
                   "mkdir -p /run/fake-sys/class/thermal/thermal_zone0 && "
                   "echo cpu-thermal > /run/fake-sys/class/thermal/thermal_zone0/type && "
                   "echo 48312 > /run/fake-sys/class/thermal/thermal_zone0/temp");

        for (size_t i = 0; i < ELEMENTS(units); i++) {
                const Unit *u = &units[i];

                snprintf(exec, sizeof(exec),
                                "[Service]\nExecStart=\nExecStart=/usr/local/bin/%s --sensor=file:/run/thermo-sensor/temp\n",
                                u->server);
                drop_in(u, "service", exec);
                assert_int_equal(sys("systemctl start %s.socket && thermo-client -1 -o csv --no-legend 127.0.0.1:%s",
                                         u->name, u->port),
                                0);
                assert_non_null(strstr(out, ",23.125\n"));

                /* Garbage: no reading; then back. (GET gives the newest reading while it is less than an
                 * interval old: wait that out.) */
                assert_sys("echo garbage > /run/thermo-sensor/temp");
                assert_int_equal(sys("sleep 1.1; thermo-client -1 127.0.0.1:%s", u->port), 75);
                assert_non_null(strstr(err, "has no reading: sensor unavailable"));
                assert_sys("echo 23250 > /run/thermo-sensor/temp");
                assert_int_equal(sys("sleep 1.1; thermo-client -1 -o csv --no-legend 127.0.0.1:%s", u->port), 0);
                assert_non_null(strstr(out, ",23.250\n"));
                assert_sys("echo 23125 > /run/thermo-sensor/temp");

                /* A thermal zone, found by its type. */
                assert_int_equal(sys("systemctl stop %s.socket %s.service", u->name, u->name), 0);
                snprintf(exec, sizeof(exec),
                                "[Service]\nEnvironment=THERMO_SYSFS_ROOT=/run/fake-sys\nExecStart=\n"
                                "ExecStart=/usr/local/bin/%s --sensor=thermal:cpu-thermal\n",
                                u->server);
                drop_in(u, "service", exec);
                assert_int_equal(sys("systemctl start %s.socket && thermo-client -v -1 -o csv --no-legend 127.0.0.1:%s",
                                         u->name, u->port),
                                0);
                assert_non_null(strstr(out, ",48.312\n"));
                assert_non_null(strstr(err, " sensor=thermal:cpu-thermal sensors=1"));
                assert_int_equal(sys("systemctl stop %s.socket %s.service", u->name, u->name), 0);
        }
}

/* A unit with several sensors: every one served by name, one failing said once in the journal with its
 * name and the catalog's words, and STATUS= naming them. */
static void test_several_sensors_under_the_sandbox(void **state) {
        char exec[512];

        assert_sys("mkdir -p /run/thermo-sensor /run/fake-sys/class/thermal/thermal_zone0 && "
                   "echo 23125 > /run/thermo-sensor/temp && echo cpu-thermal > /run/fake-sys/class/thermal/thermal_zone0/type && "
                   "echo 48312 > /run/fake-sys/class/thermal/thermal_zone0/temp");
        for (size_t i = 0; i < ELEMENTS(units); i++) {
                const Unit *u = &units[i];

                snprintf(exec, sizeof(exec),
                                "[Service]\nEnvironment=THERMO_SYSFS_ROOT=/run/fake-sys\nExecStart=\n"
                                "ExecStart=/usr/local/bin/%s --interval=200ms --sensor=auto --sensor=room=file:/run/thermo-sensor/temp "
                                "--sensor=gone=file:/run/thermo-sensor/gone\n",
                                u->server);
                drop_in(u, "service", exec);
                assert_int_equal(sys("systemctl start %s.socket && thermo-client --list --no-legend 127.0.0.1:%s", u->name,
                                         u->port),
                                0);
                assert_string_equal(out, "cpu-thermal thermal:cpu-thermal          ok           -        -        -\n"
                                         "room        file:/run/thermo-sensor/temp ok           -        -        -\n"
                                         "gone        file:/run/thermo-sensor/gone ok           -        -        -\n");
                assert_int_equal(sys("thermo-client -q -s cpu-thermal -s room -n 2 -o csv --no-legend 127.0.0.1:%s", u->port), 0);
                assert_int_equal(count_lines(out), 4);
                assert_non_null(strstr(out, ",cpu-thermal,48.312\n"));
                assert_non_null(strstr(out, ",room,23.125\n"));

                /* The missing one, said at start with its name, once, and explained. */
                assert_true(sys_until(5000, u == &units[0] ? "journalctl --sync; journalctl -u thermo.service -o json | grep -q '\"SENSOR\":\"gone\"'"
                                                            : "journalctl --sync; journalctl -u thermo-proto.service -o json | grep -q '\"SENSOR\":\"gone\"'"));
                assert_int_equal(sys("journalctl -u %s.service -o json --output-fields=MESSAGE_ID,SENSOR | grep -c '\"SENSOR\":\"gone\"'",
                                         u->name),
                                0);
                assert_string_equal(out, "1\n");
                /* This message alone: the unit's whole journal, explained, outgrows what we read of it. */
                assert_int_equal(sys("journalctl -x -u %s.service --no-pager MESSAGE_ID=" MESSAGE_SENSOR_FAILED, u->name), 0);
                assert_out_has("Sensor gone gave no reading");
                /* STATUS= comes at most once a second, the newest last. */
                snprintf(exec, sizeof(exec), "systemctl show -P StatusText %s.service | "
                                             "grep -q 'cpu-thermal 48.312 °C, room 23.125 °C, gone unavailable'", u->name);
                assert_true(sys_until(5000, exec));
                assert_int_equal(sys("systemctl stop %s.socket %s.service", u->name, u->name), 0);
        }
}

/* Options from /etc/default, as Debian's gpsd takes them, and systemctl reload: a sensor plugged in is
 * streamed, one pulled out is unavailable, and the stream that watched it all was never cut. */
static void test_options_from_etc_default_and_reload(void **state) {
        static const char *const variables[] = { "THERMO_OPTIONS", "THERMO_PROTO_OPTIONS" };
        char command[512];
        int pid;

        for (size_t i = 0; i < ELEMENTS(units); i++) {
                const Unit *u = &units[i];

                assert_sys("rm -rf /run/fake-sys && mkdir -p /run/fake-sys/class/thermal/thermal_zone0 && "
                           "echo cpu-thermal > /run/fake-sys/class/thermal/thermal_zone0/type && "
                           "echo 48312 > /run/fake-sys/class/thermal/thermal_zone0/temp");
                assert_int_equal(sys("echo '%s=\"--interval=200ms\"' > /etc/default/%s", variables[i], u->name), 0);
                drop_in(u, "service", "[Service]\nEnvironment=THERMO_SYSFS_ROOT=/run/fake-sys\n");
                assert_int_equal(sys("systemctl start %s.socket && echo INFO | socat -t 5 - TCP:127.0.0.1:%s", u->name,
                                         u->port),
                                0);
                assert_out_has(" interval_ms=200 ");
                assert_out_has(" sensors=1 ");

                /* A stream of every sensor, watching all along. */
                assert_int_equal(sys("timeout 60 thermo-client -a -o csv --no-legend 127.0.0.1:%s > /run/stream.csv 2>&1 & "
                                     "echo $!",
                                         u->port),
                                0);
                pid = atoi(out);
                assert_true(pid > 0);
                assert_true(sys_until(5000, "grep -q ',cpu-thermal,48.312' /run/stream.csv"));
                assert_int_equal(sys("systemctl show -P MainPID %s.service", u->name), 0);

                /* Plugged in. */
                assert_sys("mkdir -p /run/fake-sys/class/thermal/thermal_zone1 && "
                           "echo gpu-thermal > /run/fake-sys/class/thermal/thermal_zone1/type && "
                           "echo 30500 > /run/fake-sys/class/thermal/thermal_zone1/temp");
                assert_int_equal(sys("systemctl reload %s.service", u->name), 0);
                assert_true(sys_until(5000, "grep -q ',gpu-thermal,30.500' /run/stream.csv"));
                snprintf(command, sizeof(command), "journalctl --sync; journalctl -u %s.service -o cat MESSAGE_ID="
                                MESSAGE_RESCANNED " | grep -q '2 in all, 1 new'", u->name);
                assert_true(sys_until(5000, command));

                /* Pulled out: unavailable, and the stream goes on with the other. */
                assert_sys("rm -rf /run/fake-sys/class/thermal/thermal_zone0");
                assert_int_equal(sys("systemctl reload %s.service", u->name), 0);
                assert_true(sys_until(5000, "grep -q 'cpu-thermal.*unavailable' /run/stream.csv"));
                assert_int_equal(sys("grep -c ',gpu-thermal,' /run/stream.csv"), 0);
                snprintf(command, sizeof(command), "test $(grep -c ',gpu-thermal,' /run/stream.csv) -gt %i", atoi(out));
                assert_true(sys_until(5000, command));

                /* One process all along, one connection, and systemd saw both reloads through. */
                assert_int_equal(sys("kill -0 %i", pid), 0);
                assert_int_equal(sys("systemctl show -P NRestarts,ActiveState %s.service", u->name), 0);
                assert_string_equal(out, "0\nactive\n");
                assert_int_equal(sys("kill %i; systemctl stop %s.socket %s.service", pid, u->name, u->name), 0);
        }
}

static void test_a_scrape_starts_the_service(void **state) {
        for (size_t i = 0; i < ELEMENTS(units); i++) {
                const Unit *u = &units[i];
                char want[128];
                int pid;

                /* The metrics socket alone: a scrape starts the service, and with it the stream socket. */
                assert_int_equal(sys("systemctl start %s-metrics.socket", u->name), 0);
                assert_int_equal(sys("systemctl is-active %s.service", u->name), 3);
                assert_int_equal(sys("curl -sSf http://127.0.0.1:%s/metrics", u->metrics_port), 0);
                snprintf(want, sizeof(want), "thermo_build_info{server=\"%s\",", u->server);
                assert_non_null(strstr(out, want));
                assert_non_null(strstr(out, "thermo_sensor_up{sensor=\"simulated\"} 1\n"));
                assert_int_equal(sys("systemctl is-active %s.service %s.socket", u->name, u->name), 0);
                assert_int_equal(sys("systemctl show -P MainPID %s.service", u->name), 0);
                pid = atoi(out);
                assert_true(pid > 0);

                /* One server for both: the stream socket reaches the same process, over IPv6 too. */
                assert_int_equal(sys("thermo-client -n 1 127.0.0.1:%s && curl -sSf 'http://[::1]:%s/metrics'", u->port,
                                         u->metrics_port),
                                0);
                assert_non_null(strstr(out, "thermo_clients 1\n"));
                assert_int_equal(sys("systemctl show -P MainPID %s.service", u->name), 0);
                assert_int_equal(atoi(out), pid);

                /* Scrapes are routine: not in the journal one by one, unlike stream clients. */
                assert_int_equal(sys("journalctl --sync; journalctl -o cat MESSAGE_ID=" MESSAGE_CONNECTED
                                     " _SYSTEMD_INVOCATION_ID=$(systemctl show -P InvocationID %s.service) | wc -l",
                                         u->name),
                                0);
                assert_int_equal(atoi(out), 1);

                /* Stopping the stream socket takes the metrics socket with it. */
                assert_int_equal(sys("systemctl stop %s.socket", u->name), 0);
                assert_int_equal(sys("systemctl is-active %s-metrics.socket", u->name), 3);
        }
}

static void test_the_first_stream_client_brings_metrics_along(void **state) {
        for (size_t i = 0; i < ELEMENTS(units); i++) {
                const Unit *u = &units[i];

                /* As enabled: the stream socket; the service wants the metrics socket, passed in at start. */
                assert_int_equal(sys("systemctl start %s.socket", u->name), 0);
                assert_int_equal(sys("thermo-client -o csv 127.0.0.1:%s >/dev/null & sleep 1; "
                                     "curl -sSf http://127.0.0.1:%s/metrics; kill $!",
                                         u->port, u->metrics_port),
                                0);
                assert_non_null(strstr(out, "thermo_clients 2\n"));
                assert_int_equal(sys("systemctl is-active %s-metrics.socket", u->name), 0);
        }
}

#define MESSAGE_BROKER_CONNECTED "029f86fd70a64e0fb45c5e71f3a90132"

/* thermo-mqtt.service and Debian's mosquitto.service, as an administrator runs them: the local server's
 * readings reach the broker, Home Assistant's configs too, and stopping says offline. */
static void test_mqtt_bridge_runs_as_a_service(void **state) {
        char host[80], command[512];
        double exposure = 10;
        char *p;

        /* The topics name the host as the server does: by its host name. */
        assert_int_equal(sys("hostname"), 0);
        snprintf(host, sizeof(host), "%.*s", (int) strcspn(out, "\n"), out);

        assert_sys("systemctl start mosquitto.service");
        /* No credential in /etc/credstore: no error, a broker without passwords needs none. */
        assert_sys("systemctl start thermo-mqtt.service");
        /* It wants the local server's socket, whose first connection starts the server. */
        assert_int_equal(sys("systemctl is-active thermo.socket"), 0);
        snprintf(command, sizeof(command), "mosquitto_sub -h localhost -t thermo/%s/status -C 1 -W 2 | grep -qx online", host);
        if (!sys_until(10000, command)) {
                (void) sys("systemctl status --no-pager thermo-mqtt.service mosquitto.service");
                fail_msg("no online from thermo-mqtt:\n%s", out);
        }
        assert_int_equal(sys("mosquitto_sub -h localhost -t 'thermo/%s/+' -C 1 -W 5", host), 0);
        assert_true(atof(out) > -100 && atof(out) < 200);
        /* One device config for the machine, each sensor a component of it. */
        assert_int_equal(sys("mosquitto_sub -h localhost -t 'homeassistant/device/+/config' -C 1 -W 5"), 0);
        assert_out_has("\"device_class\":\"temperature\"");
        assert_out_has("\"o\":{\"name\":\"thermo-mqtt\"");
        snprintf(command, sizeof(command), "\"availability\":[{\"topic\":\"thermo/%s/status\"}", host);
        assert_out_has(command);
        assert_null(strstr(out, "object_id"));

        assert_true(sys_until(5000, "systemctl show -P StatusText thermo-mqtt.service | grep -q '^1 of 1 server up'"));
        assert_int_equal(sys("journalctl --sync; journalctl -u thermo-mqtt.service -o cat MESSAGE_ID=" MESSAGE_BROKER_CONNECTED),
                        0);
        snprintf(command, sizeof(command), "Connected to the broker mqtt://localhost:1883 for %s.", host);
        assert_out_has(command);

        /* systemctl reload: the password read again, the broker connected to again; the service stays up. */
        assert_sys("systemctl reload thermo-mqtt.service");
        assert_int_equal(sys("systemctl is-active thermo-mqtt.service"), 0);
        snprintf(command, sizeof(command), "journalctl --sync; journalctl -u thermo-mqtt.service -o cat "
                                           "MESSAGE_ID=" MESSAGE_BROKER_CONNECTED " | grep -c 'for %s.' | grep -qx 2", host);
        if (!sys_until(10000, command)) {
                (void) sys("journalctl -u thermo-mqtt.service -o cat --no-pager");
                fail_msg("not connected again after the reload:\n%s", out);
        }

        /* Stopped: offline, retained for whoever looks later. */
        assert_sys("systemctl stop thermo-mqtt.service");
        assert_int_equal(sys("mosquitto_sub -h localhost -t thermo/%s/status -C 1 -W 3", host), 0);
        assert_string_equal(out, "offline\n");

        assert_int_equal(sys("systemd-analyze verify thermo-mqtt.service"), 0);
        assert_string_equal(err, "");
        assert_int_equal(sys("systemd-analyze security --offline=yes thermo-mqtt.service"), 0);
        p = strstr(out, "Overall exposure level for");
        assert_non_null(p);
        assert_int_equal(sscanf(strchr(p, ':') + 1, "%lf", &exposure), 1);
        print_message("thermo-mqtt.service exposure: %.1f\n", exposure);
        assert_true(exposure <= 2.0);
}

/* Two systems booted at once (two test runs on one machine) each have a cgroup tree of their own: a unit
 * each starts and kills is its own, and neither sees the other's. */
static void test_two_boxes_keep_their_cgroups_apart(void **state) {
        const Box *boxes[2];
        char path[64], want[64], cgroups[1024] = "";
        Box other = {};
        FILE *f;

        box_boot(&other);
        boxes[0] = &box;
        boxes[1] = &other;
        for (size_t i = 0; i < 2; i++) {
                snprintf(path, sizeof(path), "/proc/%i/cgroup", (int) boxes[i]->init_pid);
                f = fopen(path, "re");
                assert_non_null(f);
                cgroups[fread(cgroups, 1, sizeof(cgroups) - 1, f)] = '\0';
                fclose(f);
                snprintf(want, sizeof(want), "/thermo-box.%i", (int) boxes[i]->unshare_pid);
                if (!strstr(cgroups, want))
                        fail_msg("the box's PID 1 is not in %s:\n%s", want, cgroups);
                assert_int_equal(sys_in(boxes[i], "systemd-run --quiet --unit=thermo-cgroup-check sleep 600"), 0);
        }
        for (size_t i = 0; i < 2; i++) {
                assert_int_equal(sys_in(boxes[i], "systemctl kill thermo-cgroup-check.service"), 0);
                assert_string_equal(err, "");
                assert_true(sys_until_in(boxes[i], 5000, "! systemctl is-active -q thermo-cgroup-check.service"));
        }
        box_shutdown(&other);
}

static void test_units_verify_and_are_hardened(void **state) {
        for (size_t i = 0; i < ELEMENTS(units); i++) {
                const Unit *u = &units[i];
                double exposure = 10;
                char *p;

                assert_int_equal(sys("systemd-analyze verify %s.socket %s-metrics.socket %s.service", u->name, u->name,
                                         u->name),
                                0);
                assert_string_equal(err, "");
                assert_int_equal(sys("systemd-analyze security --offline=yes %s.service", u->name), 0);
                p = strstr(out, "Overall exposure level for");
                assert_non_null(p);
                assert_int_equal(sscanf(strchr(p, ':') + 1, "%lf", &exposure), 1);
                print_message("%s.service exposure: %.1f\n", u->name, exposure);
                assert_true(exposure <= 0.3);
        }
}

/* Runs one README line in a terminal (tmux), as a person would: wait for it to end, or press Ctrl-C. */
static void run_example(const char *line) {
        bool interrupted = false;
        int status;

        if (sys("cat > /tmp/example.sh <<'THERMO_EXAMPLE'\n%s\nTHERMO_EXAMPLE\n"
                "rm -f /tmp/example.exit; tmux -L examples kill-server 2>/dev/null; "
                /* The pane's shell outlives the Ctrl-C (a handler, not an ignore, so the example still gets
                 * it) to write down how the example ended. */
                "tmux -L examples new-session -d -x 100 -y 30 'trap : INT; bash /tmp/example.sh; "
                "echo $? > /tmp/example.exit'",
                        line) != 0)
                fail_msg("cannot start '%s': %s", line, err);
        if (!sys_until(4000, "test -s /tmp/example.exit")) {
                interrupted = true;
                assert_int_equal(sys("tmux -L examples send-keys C-c"), 0);
                if (!sys_until(5000, "test -s /tmp/example.exit"))
                        fail_msg("'%s' did not end on Ctrl-C", line);
        }
        assert_int_equal(sys("cat /tmp/example.exit"), 0);
        status = atoi(out);
        (void) sys("tmux -L examples kill-server");
        /* thermo-client ends on Ctrl-C with 0; other tools (journalctl -f) with 130, as they should. */
        if (status != 0 && !(interrupted && status == 130 && strncmp(line, "thermo-client", 13) != 0))
                fail_msg("'%s' exited with %i%s", line, status, interrupted ? " after Ctrl-C" : "");
}

static void test_readme_examples_work(void **state) {
        const char *source = getenv("THERMO_SOURCE_ROOT");
        char path[512], line[512];
        bool marked = false, inside = false;
        int examples = 0;
        FILE *f;

        /* As the README sets it up: a Unix socket by drop-in; readings every 50ms to keep this short. */
        drop_in(&units[0], "socket", "[Socket]\nListenStream=/run/thermo/thermo.sock\n");
        drop_in(&units[0], "service", "[Service]\nExecStart=\nExecStart=/usr/local/bin/thermo-server --interval=50ms\n");
        assert_int_equal(sys("systemctl start thermo.socket"), 0);

        assert_non_null(source);
        snprintf(path, sizeof(path), "%s/README.md", source);
        f = fopen(path, "re");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
                char *comment;

                line[strcspn(line, "\n")] = '\0';
                if (strstr(line, "<!-- examples:")) {
                        marked = true;
                        continue;
                }
                if (marked && strcmp(line, "```sh") == 0) {
                        inside = true;
                        marked = false;
                        continue;
                }
                if (inside && strcmp(line, "```") == 0) {
                        inside = false;
                        continue;
                }
                if (!inside || line[0] == '\0')
                        continue;
                comment = strstr(line, "  #");
                if (comment)
                        *comment = '\0';
                run_example(line);
                examples++;
        }
        fclose(f);
        assert_true(examples >= 14);
}

static void test_man_pages_are_installed(void **state) {
        assert_int_equal(sys("MANPAGER=cat man thermo-client | grep -c 'thermo-client'"), 0);
        assert_int_equal(sys("man -w thermo-server-proto && man -w thermo-protocol"), 0);
}

/* The Debian package, as an administrator gets it: built by dpkg-buildpackage (with its unit tests),
 * lintian clean, installed with apt in place of the build's /usr/local install: thermo.socket enabled and
 * listening, the man database and the journal catalog updated by their triggers. Every unit enabled and
 * running, an upgrade (a reinstall runs the same scripts) restarts the servers and the bridge on the new
 * binaries and leaves the sockets listening; a purge stops every unit and leaves nothing behind. Last: it
 * takes the /usr/local install away. */
static void test_debian_package(void **state) {
        const char *source = getenv("THERMO_SOURCE_ROOT"), *build = getenv("THERMO_BUILD_ROOT");
        char command[1024], before[512];

        /* A copy of the tree without builds, built where the throwaway root keeps it. */
        snprintf(command, sizeof(command),
                        "rm -rf /var/tmp/deb && mkdir -p /var/tmp/deb/thermo && "
                        "tar -C '%s' --exclude=./.git --exclude='./build*' -cf - . | tar -C /var/tmp/deb/thermo -xf - && "
                        "cd /var/tmp/deb/thermo && dpkg-buildpackage -us -uc -b > /var/tmp/deb/build.log 2>&1 || "
                        "{ tail -n 40 /var/tmp/deb/build.log; exit 1; }",
                        source);
        if (sys_for(300000, "%s", command) != 0)
                fail_msg("dpkg-buildpackage failed:\n%s%s", out, err);
        if (sys_for(120000, "lintian --fail-on error,warning --tag-display-limit 0 /var/tmp/deb/thermo_*.changes") != 0)
                fail_msg("lintian:\n%s%s", out, err);
        /* The same packages as a version below any, to upgrade from. */
        if (sys_for(60000, "cd /var/tmp/deb && mkdir -p old && for d in thermo_*.deb thermo-mqtt_*.deb; do "
                           "rm -rf x && dpkg-deb -R $d x && sed -i 's/^Version: .*/Version: 0.0.1/' x/DEBIAN/control && "
                           "dpkg-deb -b x old/$d > /dev/null || exit 1; done; rm -rf x") != 0)
                fail_msg("repacking an older version:\n%s%s", out, err);

        /* The build's own install goes, and with it what earlier tests enabled, its pages and catalog entries. */
        snprintf(command, sizeof(command),
                        "systemctl disable --quiet thermo.socket thermo-metrics.socket thermo-proto.socket "
                        "thermo-proto-metrics.socket thermo-mqtt.service && "
                        "grep -v '^#' '%s/meson-logs/install-log.txt' | while read -r f; do "
                        "if test -d \"$f\" -a ! -L \"$f\"; then rmdir --ignore-fail-on-non-empty \"$f\"; else rm -f \"$f\"; fi "
                        "done && systemctl daemon-reload && journalctl --update-catalog && mandb -q",
                        build);
        if (sys_for(120000, "%s", command) != 0)
                fail_msg("'%s':\n%s%s", command, out, err);
        assert_int_equal(sys("apropos thermo"), 16);
        assert_int_equal(sys("journalctl --list-catalog " MESSAGE_STARTED), 1);

        /* A container image's policy-rc.d forbids starting services from packages; a booted machine has
         * none (and this root is a throwaway copy). */
        if (sys_for(120000, "rm -f /usr/sbin/policy-rc.d && cd /var/tmp/deb/old && "
                            "apt-get install -y ./thermo_*.deb ./thermo-mqtt_*.deb") != 0)
                fail_msg("apt-get install:\n%s%s", out, err);
        (void) sys("systemctl is-enabled thermo.socket thermo-metrics.socket; "
                   "systemctl is-active thermo.socket thermo-metrics.socket");
        assert_string_equal(out, "enabled\nenabled\nactive\nactive\n");
        /* The second server and the bridge are there, to be configured first. */
        (void) sys("systemctl is-enabled thermo-proto.socket thermo-proto-metrics.socket thermo-mqtt.service");
        assert_string_equal(out, "disabled\ndisabled\ndisabled\n");
        assert_int_equal(sys("command -v thermo-client && thermo-client -q -n 1 -o csv --no-legend && "
                             "systemctl is-active thermo.service"), 0);
        assert_out_has("/usr/bin/thermo-client\n");
        assert_out_has("active\n");
        assert_int_equal(sys("apropos thermo | sort"), 0);
        assert_out_has("thermo-client (1)");
        assert_out_has("thermo-mqtt (8)");
        assert_out_has("thermo-protocol (7)");
        assert_out_has("thermo-server (8)");
        assert_int_equal(sys("journalctl --list-catalog " MESSAGE_STARTED), 0);
        assert_out_has("The thermo server started");
        assert_int_equal(sys("test -f /etc/default/thermo && test -f /etc/default/thermo-proto && "
                             "test -f /etc/default/thermo-mqtt && "
                             "test -f /usr/share/zsh/vendor-completions/_thermo-client && "
                             "test -f /usr/share/bash-completion/completions/thermo-server-proto"), 0);

        /* Everything on, as an admin may have it, a crowd of clients on each server (stream-clients.c), three
         * restarts, then the upgrade to the built package: each server and the bridge run anew, no socket
         * stopped listening, and every client went across each time, with no BYE, no second HELLO and no
         * tick missed; then a stop says BYE to each. */
        static const char units_state[] =
                "for u in thermo.service thermo-proto.service thermo-mqtt.service; do systemctl show -P MainPID $u; done; "
                "for u in thermo.socket thermo-metrics.socket thermo-proto.socket thermo-proto-metrics.socket; do "
                "systemctl show -P ActiveEnterTimestampMonotonic $u; done";
        for (size_t i = 0; i < ELEMENTS(units); i++) {
                char text[256];

                snprintf(text, sizeof(text), "[Service]\nExecStart=\nExecStart=/usr/bin/%s --interval=200ms\n",
                                units[i].server);
                drop_in(&units[i], "service", text);
        }
        assert_sys("systemctl enable --now --quiet thermo-proto.socket thermo-proto-metrics.socket && "
                   "systemctl start mosquitto.service thermo-mqtt.service && "
                   "printf 'GET\\n' | socat -t 2 - TCP:127.0.0.1:8889 | grep -q '^TEMP ' && "
                   "printf 'GET\\n' | socat -t 2 - TCP:127.0.0.1:8888 | grep -q '^TEMP ' && "
                   "systemctl is-active --quiet thermo.service thermo-proto.service thermo-mqtt.service");
        if (sys_for(120000,
                            "for p in 8888 8889; do setsid %s $p 200 40 > /tmp/crowd$p.out 2> /tmp/crowd$p.err < /dev/null & "
                            "echo $! > /tmp/crowd$p.pid; done; "
                            "for p in 8888 8889; do for i in $(seq 300); do grep -q READY /tmp/crowd$p.out && break; "
                            "sleep 0.1; done; grep -q READY /tmp/crowd$p.out || { cat /tmp/crowd$p.err; exit 1; }; done; "
                            "systemctl restart thermo.service thermo-proto.service && sleep 1 && "
                            "kill -USR1 $(cat /tmp/crowd8888.pid) $(cat /tmp/crowd8889.pid) && "
                            "systemctl restart thermo.service thermo-proto.service && sleep 1 && "
                            "systemctl try-restart thermo.service thermo-proto.service && sleep 1",
                            getenv("THERMO_STREAM_CLIENTS")) != 0)
                fail_msg("a crowd through three restarts:\n%s%s", out, err);
        (void) sys("%s", units_state);
        assert_true(strlen(out) < sizeof(before));
        strcpy(before, out);
        if (sys_for(120000, "cd /var/tmp/deb && apt-get install -y ./thermo_*.deb ./thermo-mqtt_*.deb") != 0)
                fail_msg("apt-get install (the upgrade):\n%s%s", out, err);
        assert_sys("systemctl is-active --quiet thermo.socket thermo-metrics.socket thermo-proto.socket "
                   "thermo-proto-metrics.socket thermo.service thermo-proto.service thermo-mqtt.service");
        (void) sys("%s", units_state);
        {
                /* Three PIDs, each new; four timestamps, each the same. */
                const char *b = before, *a = out;

                for (int i = 0; i < 7; i++) {
                        size_t nb = strcspn(b, "\n"), na = strcspn(a, "\n");
                        bool same = nb == na && strncmp(b, a, nb) == 0;

                        if (same != (i >= 3))
                                fail_msg("line %i of the units' PIDs and timestamps %s across the upgrade:\n%s\n%s", i + 1,
                                                same ? "stayed" : "changed", before, out);
                        b += nb + (b[nb] != '\0');
                        a += na + (a[na] != '\0');
                }
        }
        for (size_t i = 0; i < ELEMENTS(units); i++) {
                assert_int_equal(sys("printf 'INFO\\n' | socat -t 2 - TCP:127.0.0.1:%s | grep -o ' restarts=[0-9]*'",
                                                units[i].port),
                                0);
                assert_string_equal(out, " restarts=4\n");
        }
        /* The counted streams (40 readings at 200ms) are over by now; the stop is announced to the crowds. */
        if (sys_for(60000, "sleep 4; kill -USR2 $(cat /tmp/crowd8888.pid) $(cat /tmp/crowd8889.pid) && "
                           "systemctl stop thermo.service thermo-proto.service && "
                           "for p in 8888 8889; do for i in $(seq 300); do kill -0 $(cat /tmp/crowd$p.pid) 2>/dev/null || break; "
                           "sleep 0.1; done; done; cat /tmp/crowd8888.out /tmp/crowd8889.out /tmp/crowd8888.err /tmp/crowd8889.err") != 0)
                fail_msg("the crowds' stop:\n%s%s", out, err);
        assert_string_equal(out, "READY\nclients=200 lost=0 early_bye=0 bye=200 hello_again=0 gaps=0 errors=0 counted=66/66 half=1\n"
                                 "READY\nclients=200 lost=0 early_bye=0 bye=200 hello_again=0 gaps=0 errors=0 counted=66/66 half=1\n");
        assert_sys("rm -rf /run/systemd/system/thermo.service.d /run/systemd/system/thermo-proto.service.d && "
                   "systemctl daemon-reload");

        /* Purged: not a file of theirs, not a unit running, no page, nothing in the catalog. */
        if (sys_for(120000, "dpkg-query -L thermo thermo-mqtt > /var/tmp/deb/files && apt-get purge -y thermo thermo-mqtt") != 0)
                fail_msg("apt-get purge:\n%s%s", out, err);
        assert_int_equal(sys("while read -r f; do test ! -d \"$f\" && { test -f \"$f\" || test -L \"$f\"; } && echo \"$f\"; done < /var/tmp/deb/files; "
                             "ls /etc/default | grep thermo; "
                             "find /etc/systemd /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-user-helper-enabled "
                             "-name '*thermo*' 2>/dev/null; true"), 0);
        assert_string_equal(out, "");
        assert_int_equal(sys("systemctl is-active thermo.socket thermo.service"), 3);
        /* No unit of theirs is left, running, failed or listening, whoever enabled it (the box's own target
         * is the box's). */
        assert_int_equal(sys("systemctl daemon-reload && systemctl list-units --all --plain --no-legend 'thermo*' | "
                             "grep -v '^thermo-test.target '; true"), 0);
        assert_string_equal(out, "");
        assert_int_equal(sys("ss -Hltn 'sport = :8888 or sport = :8889 or sport = :8890 or sport = :8891'"), 0);
        assert_string_equal(out, "");
        assert_int_equal(sys("dpkg-query -W -f '${db:Status-Status} ${Package}\\n' thermo thermo-mqtt 2>/dev/null | "
                             "grep -v '^not-installed '; true"), 0);
        assert_string_equal(out, "");
        /* The pages are gone (man-db's trigger leaves stale index entries to its daily run, by design). */
        assert_int_equal(sys("man -w thermo-client"), 16);
        assert_int_equal(sys("journalctl --list-catalog " MESSAGE_STARTED), 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_first_connection_starts_the_service, reset),
                cmocka_unit_test_setup(test_journal_has_the_events_and_their_fields, reset),
                cmocka_unit_test_setup(test_exit_on_idle_loses_no_connection, reset),
                cmocka_unit_test_setup(test_restart_keeps_the_stream_and_refuses_no_one, reset),
                cmocka_unit_test_setup(test_crash_is_restarted_and_retry_goes_on, reset),
                cmocka_unit_test_setup(test_watchdog_kills_a_stopped_server, reset),
                cmocka_unit_test_setup(test_stop_says_bye_and_leaves_nothing, reset),
                cmocka_unit_test_setup(test_unix_socket_by_drop_in, reset),
                cmocka_unit_test_setup(test_real_sensor_paths_under_the_sandbox, reset),
                cmocka_unit_test_setup(test_several_sensors_under_the_sandbox, reset),
                cmocka_unit_test_setup(test_options_from_etc_default_and_reload, reset),
                cmocka_unit_test_setup(test_a_scrape_starts_the_service, reset),
                cmocka_unit_test_setup(test_the_first_stream_client_brings_metrics_along, reset),
                cmocka_unit_test_setup(test_mqtt_bridge_runs_as_a_service, reset),
                cmocka_unit_test_setup(test_two_boxes_keep_their_cgroups_apart, reset),
                cmocka_unit_test_setup(test_units_verify_and_are_hardened, reset),
                cmocka_unit_test_setup(test_man_pages_are_installed, reset),
                cmocka_unit_test_setup(test_readme_examples_work, reset),
                cmocka_unit_test_setup(test_debian_package, reset),
        };

        if (geteuid() != 0 || access("/lib/systemd/systemd", X_OK) < 0 || access("/usr/bin/nsenter", X_OK) < 0 ||
                        system("unshare --pid --mount --net --uts --ipc --cgroup --fork true") != 0) {
                fprintf(stderr, "The system tests need root, systemd, nsenter and the right to make namespaces.\n");
                /* Where CI runs, they must run: a skip there would hide a broken setup. */
                return getenv("CI") ? 1 : 77;
        }
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, boot, shutdown_system);
}
