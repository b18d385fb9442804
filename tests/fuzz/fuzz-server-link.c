/* SPDX-License-Identifier: MIT */
/* What a server, or anything a client takes for one, sends to thermo-client's and thermo-mqtt's link to it:
 * arbitrary bytes in arbitrary pieces (peer-script.h), the link splitting them into lines. Whatever comes,
 * its owner is handed text lines only, each shorter than the link's buffer and with no newline in it, a
 * greeting before any other line, and the end of the connection once. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz.h"
#include "peer-script.h"
#include "server-link.h"
#include "text.h"

typedef struct Owner {
        bool greeted, failed;
        unsigned lines;
} Owner;

static void check(const char *line) {
        if (strchr(line, '\n') || strlen(line) >= 1024 || !text_is_printable(line))
                abort();
}

static void on_greeted(ServerLink *l, const Reply *hello) {
        Owner *o = server_link_get_userdata(l);

        if (o->greeted || o->failed || hello->type != REPLY_HELLO)
                abort();
        o->greeted = true;
}

static void on_line(ServerLink *l, int r, const Reply *reply, const char *line) {
        Owner *o = server_link_get_userdata(l);

        if (!o->greeted || o->failed)
                abort();
        check(line);
        o->lines++;
}

static void on_failed(ServerLink *l, int status, const char *message) {
        Owner *o = server_link_get_userdata(l);

        if (o->failed || !message)
                abort();
        o->failed = true;
}

static const ServerLinkOps ops = { .greeted = on_greeted, .line = on_line, .failed = on_failed };

static bool has_failed(void *userdata) {
        return ((Owner *) userdata)->failed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct sockaddr_un sa = { .sun_family = AF_UNIX };
        static char path[sizeof(sa.sun_path)];
        static socklen_t length;
        static sd_event *e;
        static int listener = -1;
        ServerLink *link = NULL;
        Owner owner = {};
        int peer = -1;

        if (!e) {
                /* An abstract socket: nothing left on disk. */
                snprintf(path, sizeof(path), "@thermo-fuzz-link-%i", (int) getpid());
                memcpy(sa.sun_path + 1, path + 1, strlen(path) - 1);
                length = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path));
                listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                if (listener < 0 || bind(listener, (struct sockaddr *) &sa, length) < 0 || listen(listener, 4) < 0 ||
                                sd_event_default(&e) < 0)
                        abort();
        }
        if (server_link_new(e, &(ServerLinkConfig) { .unix_path = path, .timeout = 1000 * 1000 }, &ops, &owner,
                            &link) < 0)
                abort();
        server_link_start(link);
        peer = peer_script_accept(listener, e);

        peer_script_run(data, size, peer, e, NULL, NULL);
        close(peer);
        if (!peer_script_wait(e, has_failed, &owner) && !owner.failed)
                abort(); /* a closed connection is always said */
        server_link_free(link);
        return 0;
}
