/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <locale.h>
#include <sysexits.h>
#include <unistd.h>

#include "client.h"
#include "log.h"
#include "terminal.h"

int main(int argc, char *argv[]) {
        _cleanup_(client_options_done) ClientOptions options = {};
        _cleanup_(client_freep) Client *client = NULL;
        int r;

        setlocale(LC_ALL, "");
        log_set_prefix(program_invocation_short_name);
        log_set_max_level(LOG_NOTICE);
        log_set_color(terminal_colors(STDERR_FILENO));

        r = client_options_parse(argc, argv, &options);
        if (r == -ENOMEM)
                return log_oom(), EX_OSERR;
        if (r < 0)
                log_usage_hint();
        if (r <= 0)
                return r == 0 ? EX_OK : EX_USAGE;

        r = client_new(&options, &client);
        if (r == -EINVAL || r == -ENAMETOOLONG)
                return log_error_errno(r, "Invalid Unix socket path '%s': %m", options.unix_path), EX_USAGE;
        if (r < 0)
                return log_error_errno(r, "Failed to set up: %m"), EX_OSERR;

        r = client_run(client);
        if (r < 0)
                return log_error_errno(r, "Failed to run: %m"), EX_OSERR;
        return r;
}
