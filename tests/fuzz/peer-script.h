/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

/* A peer that follows a script, for the harnesses of what a server takes from a socket: each step is a
 * byte and an argument k. The peer writes the next k bytes of the script, reads up to 16k+1 bytes (what
 * it reads is handed to seen, when set), lets the server run (k % 8 + 1 dispatches, none of them waiting),
 * waits for the server's next event (a tick, a deadline: 1ms, 4 times an input at most), or half-closes.
 * The harnesses' thermometers tick every 250us, so that a wait sees one. */
void peer_script_run(const uint8_t *data, size_t size, int peer, sd_event *e,
                void (*seen)(const char *buf, size_t n, void *userdata), void *userdata);

/* The client under test connects to listener (non-blocking) as the loop runs: the peer's end of that
 * connection, 100 dispatches at most; aborts if it never connects. */
int peer_script_accept(int listener, sd_event *e);

/* The peer has gone: runs the loop until done() says the server is done with it, 5 seconds of loop time at
 * most (a close may linger 2s); false if it never is. */
bool peer_script_wait(sd_event *e, bool (*done)(void *userdata), void *userdata);
