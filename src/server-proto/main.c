/* SPDX-License-Identifier: MIT */
#include "connection.h"

int main(int argc, char *argv[]) {
        return server_main(argc, argv, "thermo-server-proto", "127.0.0.1:8889", connection_open);
}
