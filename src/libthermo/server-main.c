/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "log.h"
#include "server.h"

int server_main(int argc, char *argv[], const char *name, const char *default_listen, server_open_t open) {
        _cleanup_(server_options_done) ServerOptions options = {};
        _cleanup_(server_freep) Server *server = NULL;
        int r;

        r = server_options_parse(argc, argv, default_listen, &options);
        if (r == -ENOMEM)
                return log_oom(), EXIT_FAILURE;
        if (r <= 0)
                return r == 0 ? EXIT_SUCCESS : 2; /* 2: usage, as in LSB and systemd's daemons */

        r = server_new(name, &options, open, &server);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the server: %m"), EXIT_FAILURE;

        return server_run(server) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
