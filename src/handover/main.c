/* SPDX-License-Identifier: MIT */
/* thermo-handover UNIT PID: the ExecStop= of a thermo server's unit, run as root before systemd sends the
 * server SIGTERM. It tells the server whether this stop is a restart, for then the server hands every
 * client over to the next one (thermo-protocol(7), "Restarts") instead of saying BYE.
 *
 * The server cannot find out itself: what it could ask, the job systemd has queued for its unit, is on the
 * system bus, and a DynamicUser= unit is dropped from the bus right after its Hello (systemd 252, dbus
 * 1.14). So this asks systemd, over its private socket as systemctl does as root (no dbus-daemon needed),
 * and queues the server SIGUSR2 when the job is a restart (try-restart becomes one, when the unit runs).
 * Anything else, or anything it cannot find out, is a stop: the safe way, for a client told BYE connects
 * again. It never fails the stop. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "log.h"
#include "parse.h"
#include "signals.h"

#define SYSTEMD "org.freedesktop.systemd1"

DEFINE_TRIVIAL_CLEANUP_FUNC(FILE *, fclose);

/* systemd itself: its private socket as root, else the system bus. */
static int connect_systemd(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r >= 0) {
                *ret = TAKE_PTR(bus);
                return 0;
        }
        return sd_bus_open_system(ret);
}

/* The type of the job queued for the unit ("restart", "stop"...), into type: 0, or -ENOENT for none. */
static int job_type(sd_bus *bus, const char *unit, char *type, size_t size) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *got = NULL, *job = NULL, *job_type = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *path, *job_path, *s;
        uint32_t id = 0;
        int r;

        r = sd_bus_call_method(bus, SYSTEMD, "/org/freedesktop/systemd1", SYSTEMD ".Manager", "GetUnit", &error, &got,
                        "s", unit);
        if (r >= 0)
                r = sd_bus_message_read(got, "o", &path);
        if (r >= 0)
                r = sd_bus_get_property(bus, SYSTEMD, path, SYSTEMD ".Unit", "Job", &error, &job, "(uo)");
        if (r >= 0)
                r = sd_bus_message_read(job, "(uo)", &id, &job_path);
        if (r >= 0 && id == 0)
                r = -ENOENT;
        if (r >= 0)
                r = sd_bus_get_property(bus, SYSTEMD, job_path, SYSTEMD ".Job", "JobType", &error, &job_type, "s");
        if (r >= 0)
                r = sd_bus_message_read(job_type, "s", &s);
        if (r >= 0)
                snprintf(type, size, "%s", s);
        return r;
}

/* Whether the unit lets anything into its fd store (FileDescriptorStoreMax=). */
static int fd_store_max(sd_bus *bus, const char *unit, uint32_t *ret) {
        _cleanup_free_ char *path = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path);
        if (r < 0)
                return r;
        r = sd_bus_get_property_trivial(bus, SYSTEMD, path, SYSTEMD ".Service", "FileDescriptorStoreMax", &error,
                        'u', ret);
        return r;
}

/* Whether the process blocks SIGUSR2 (SigBlk: in /proc): a thermo server that takes it in its loop. One
 * from before thermo-handover would die of it. */
static bool blocks_sigusr2(pid_t pid) {
        _cleanup_free_ char *line = NULL;
        _cleanup_(fclosep) FILE *f = NULL;
        char path[64];
        size_t size = 0;

        snprintf(path, sizeof(path), "/proc/%i/status", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return false;
        while (getline(&line, &size, f) > 0)
                if (startswith(line, "SigBlk:"))
                        return strtoull(line + strlen("SigBlk:"), NULL, 16) & (1ULL << (SIGUSR2 - 1));
        return false;
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        char type[32] = "";
        uint32_t max = 0;
        uint64_t pid;
        int r;

        if (argc != 3) {
                fprintf(stderr, "Usage: %s UNIT PID\n(the ExecStop= of a thermo server's unit: see thermo-handover(8))\n",
                                program_invocation_short_name);
                return 2;
        }
        /* No main process (it exited on idle, or never started): nobody to tell. */
        if (argv[2][0] == '\0' || parse_uint64(argv[2], 1, INT32_MAX, &pid) < 0)
                return EXIT_SUCCESS;

        r = connect_systemd(&bus);
        if (r >= 0)
                r = job_type(bus, argv[1], type, sizeof(type));
        /* No job: the server stops by itself (RuntimeMaxSec=, a stop of its own). */
        if (r == -ENOENT) {
                log_debug("%s: no job, not a restart.", argv[1]);
                return EXIT_SUCCESS;
        }
        if (r < 0) {
                log_warning_errno(r, "Failed to find out which job stops %s, taking it for a stop: %m", argv[1]);
                return EXIT_SUCCESS;
        }
        if (strcmp(type, "restart") != 0) {
                log_debug("%s: a %s job, not a restart.", argv[1], type);
                return EXIT_SUCCESS;
        }
        /* Three fds: the pair the clients wait in, and the state (handover.h). */
        r = fd_store_max(bus, argv[1], &max);
        if (r < 0 || max < 3) {
                log_info("%s restarts, but keeps no file descriptors (FileDescriptorStoreMax=): its clients are told "
                         "goodbye.", argv[1]);
                return EXIT_SUCCESS;
        }
        if (!blocks_sigusr2((pid_t) pid)) {
                log_info("%s restarts, but its server (PID %" PRIu64 ") is of a version that cannot hand its "
                         "clients over: they are told goodbye.", argv[1], pid);
                return EXIT_SUCCESS;
        }
        if (sigqueue((pid_t) pid, SIGUSR2, (union sigval) { .sival_int = SIGNALS_RESTART_VALUE }) < 0) {
                log_warning_errno(errno, "Failed to tell %s's server (PID %" PRIu64 ") it restarts: %m", argv[1], pid);
                return EXIT_SUCCESS;
        }
        log_info("%s restarts: its server (PID %" PRIu64 ") hands its clients over to the next.", argv[1], pid);
        return EXIT_SUCCESS;
}
