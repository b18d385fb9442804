/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "macro.h"
#include "peer-script.h"

/* Waits for the server's next event an input may ask for: so many more would make a slow input of time
 * spent waiting, and the fuzzer's turns few. */
#define WAITS_MAX 4

void peer_script_run(const uint8_t *data, size_t size, int peer, sd_event *e,
                void (*seen)(const char *buf, size_t n, void *userdata), void *userdata) {
        unsigned waits = 0;
        char buf[4096];

        for (size_t i = 0; i < size;) {
                uint8_t step = data[i++], k = i < size ? data[i++] : 0;

                switch (step % 5) {
                case 0: { /* the peer writes the next k bytes */
                        size_t n = MIN((size_t) k, size - i);

                        (void) send(peer, data + i, n, MSG_NOSIGNAL | MSG_DONTWAIT);
                        i += n;
                        break;
                }
                case 1: { /* the peer reads */
                        ssize_t n = recv(peer, buf, MIN((size_t) k * 16 + 1, sizeof(buf)), MSG_DONTWAIT);

                        if (n > 0 && seen)
                                seen(buf, (size_t) n, userdata);
                        break;
                }
                case 2: /* the server runs for a moment, without waiting for time to pass */
                        for (unsigned j = 0; j <= k % 8; j++)
                                (void) sd_event_run(e, 0);
                        break;
                case 3: /* and for its next event: a reading, a deadline (bounded: 1ms) */
                        (void) sd_event_run(e, waits++ < WAITS_MAX ? 1000 : 0);
                        break;
                case 4: /* the peer says it is done sending */
                        (void) shutdown(peer, SHUT_WR);
                        break;
                }
        }
}

int peer_script_accept(int listener, sd_event *e) {
        int peer = -1;

        for (int i = 0; i < 100 && peer < 0; i++) {
                peer = accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                (void) sd_event_run(e, 0);
        }
        if (peer < 0)
                abort();
        return peer;
}

bool peer_script_wait(sd_event *e, bool (*done)(void *userdata), void *userdata) {
        /* What needs no time first, then what takes some. */
        for (int j = 0; j < 64 && !done(userdata); j++)
                (void) sd_event_run(e, 0);
        for (int j = 0; j < 20000 && !done(userdata); j++)
                (void) sd_event_run(e, 250);
        return done(userdata);
}
