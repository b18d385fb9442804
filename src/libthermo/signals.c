/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <errno.h>
#include <signal.h>

#include "signals.h"

int signals_add_stop(sd_event *e, sd_event_signal_handler_t handler, void *userdata) {
        static const int stop[] = { SIGTERM, SIGINT };
        sigset_t mask;
        int r;

        assert(e);
        assert(handler);

        sigemptyset(&mask);
        for (size_t i = 0; i < sizeof(stop) / sizeof(stop[0]); i++)
                sigaddset(&mask, stop[i]);
        /* sd-event takes a signal only when it is blocked: else the default action would kill us first. */
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;

        for (size_t i = 0; i < sizeof(stop) / sizeof(stop[0]); i++) {
                r = sd_event_add_signal(e, NULL, stop[i], handler, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}
