/* SPDX-License-Identifier: MIT */
#include "connection.h"

int main(int argc, char *argv[]) {
        return server_main(argc, argv, "thermo-server", "127.0.0.1:8888", connection_open);
}
