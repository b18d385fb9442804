/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "connection.h"
#include "log.h"
#include "server.h"

int main(int argc, char *argv[]) {
        _cleanup_(server_options_done) ServerOptions options = {};
        _cleanup_(server_freep) Server *server = NULL;
        int r;

        r = server_options_parse(argc, argv, "127.0.0.1:8888", &options);
        if (r == -ENOMEM)
                return log_oom(), EXIT_FAILURE;
        if (r <= 0)
                return r == 0 ? EXIT_SUCCESS : 2; /* 2: usage, as in LSB and systemd's daemons */

        r = server_new("thermo-server", &options, connection_open, &server);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the server: %m"), EXIT_FAILURE;

        return server_run(server) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
