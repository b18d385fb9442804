/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <errno.h>
#include <signal.h>

#include "macro.h"
#include "signals.h"

static int add_signals(sd_event *e, const int *signals, size_t n, int64_t priority, sd_event_signal_handler_t handler,
                void *userdata) {
        sigset_t mask;
        int r;

        assert(e);
        assert(handler);

        sigemptyset(&mask);
        for (size_t i = 0; i < n; i++)
                sigaddset(&mask, signals[i]);
        /* sd-event takes a signal only when it is blocked: else the default action would kill us first. */
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;

        for (size_t i = 0; i < n; i++) {
                sd_event_source *s;

                r = sd_event_add_signal(e, &s, signals[i], handler, userdata);
                if (r < 0)
                        return r;
                r = sd_event_source_set_priority(s, priority);
                /* The loop owns it from now on. */
                (void) sd_event_source_set_floating(s, true);
                sd_event_source_unref(s);
                if (r < 0)
                        return r;
        }
        return 0;
}

int signals_add_stop(sd_event *e, sd_event_signal_handler_t handler, void *userdata) {
        static const int stop[] = { SIGTERM, SIGINT };

        return add_signals(e, stop, ELEMENTSOF(stop), SD_EVENT_PRIORITY_NORMAL, handler, userdata);
}

int signals_add_reload(sd_event *e, sd_event_signal_handler_t handler, void *userdata) {
        static const int reload[] = { SIGHUP };

        return add_signals(e, reload, ELEMENTSOF(reload), SD_EVENT_PRIORITY_NORMAL, handler, userdata);
}

int signals_add_restart(sd_event *e, int64_t priority, sd_event_signal_handler_t handler, void *userdata) {
        static const int restart[] = { SIGUSR2 };

        return add_signals(e, restart, ELEMENTSOF(restart), priority, handler, userdata);
}
