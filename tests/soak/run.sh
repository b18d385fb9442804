#!/bin/bash
# The soak, outside the default suite (see thermo-soak.c): a server on loopback with a reading every 250ms
# and room for every client, CLIENTS clients throwing everything at it for SECONDS, one honest client
# watching; then the figures, and PASS or FAIL. Every run is bounded (20000 clients, 3600 s at most).
#
#   tests/soak/run.sh BUILD_DIR [CLIENTS [SECONDS [thermo-server|thermo-server-proto]]]   default: 10000 600
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [CLIENTS [SECONDS [SERVER]]]}
clients=${2:-10000}
seconds=${3:-600}
server=${4:-thermo-server}
port=18990
case $server in
        thermo-server) binary=$build/src/server/thermo-server ;;
        thermo-server-proto) binary=$build/src/server-proto/thermo-server-proto ;;
        *) echo "run.sh: no such server: $server" >&2; exit 2 ;;
esac
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt $((clients + 200)) ]; then
        echo "run.sh: the fd limit ($(ulimit -Hn)) is below CLIENTS + 200" >&2
        exit 2
fi
ulimit -n "$(ulimit -Hn)"
log=$(mktemp)

"$binary" --listen 127.0.0.1:$port --interval 250ms \
        --max-clients $((clients + 100)) --log-level warning 2>"$log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
"$(dirname "$0")/../bench/wait-listening.sh" "$port"

status=0
"$build/tests/soak/thermo-soak" "$port" "$clients" "$seconds" "$pid" || status=$?
kill -TERM "$pid"
wait "$pid" || status=1
echo "server: $(wc -l < "$log") warnings logged (refusals once a second at most), the first ones:"
head -n 5 "$log"
exit "$status"
