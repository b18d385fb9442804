#!/bin/bash
# What a restart that keeps every client costs (thermo-server(8), RESTARTS), under a real systemd: a box
# booted as tests/system/boot.sh boots one (private namespaces, a throwaway overlay of /), the build
# installed in it, CLIENTS streaming clients (tests/system/stream-clients.c) on each server at a reading
# every INTERVAL, and RESTARTS restarts of its service. For each server:
#
# - the pause the restarts made at each client: the longest wait between two readings, the median, 99th
#   percentile and most of the clients' (an interval of it is the interval's own: the target is the next
#   reading within a second of the restart at every client);
# - what the handover took on each side, as the servers log it: time, and CPU of the process;
# - that nothing was lost: every client still there, no BYE, no second HELLO, no gap.
#
# Every process is ended by its PID; the box is torn down at the end, whatever happens.
#
#   tests/bench/run-restart.sh BUILD_DIR [CLIENTS [RESTARTS [INTERVAL]]]   default: 10000 3 1s
set -euo pipefail
build=$(realpath "${1:?usage: run-restart.sh BUILD_DIR [CLIENTS [RESTARTS [INTERVAL]]]}")
clients=${2:-10000}
restarts=${3:-3}
interval=${4:-1s}
source=$(realpath "$(dirname "$0")/../..")
boot=$source/tests/system/boot.sh
dir=$(mktemp -d /tmp/thermo-bench-restart-XXXXXX)
unshare_pid=

cleanup() {
        if [ -n "$unshare_pid" ]; then
                kill -9 "$(cat "/proc/$unshare_pid/task/$unshare_pid/children" 2>/dev/null)" "$unshare_pid" 2>/dev/null || true
                wait "$unshare_pid" 2>/dev/null || true
                "$boot" --cleanup "$unshare_pid" || true
        fi
        rm -rf "$dir"
}
trap cleanup EXIT

setsid "$boot" "$dir" "$source" "$build" > "$dir.log" 2>&1 &
unshare_pid=$!
# The namespace's PID 1: the child of the unshare process, once boot.sh has become it (it runs a few
# commands before).
init=
for _ in $(seq 100); do
        if [ "$(cat "/proc/$unshare_pid/comm" 2>/dev/null)" = unshare ]; then
                init=$(tr -d ' ' < "/proc/$unshare_pid/task/$unshare_pid/children" 2>/dev/null || true)
                [ -n "$init" ] && break
        fi
        sleep 0.1
done
[ -n "$init" ] || { echo "the box did not boot; see $dir.log" >&2; exit 1; }
inbox() {
        timeout 600 nsenter -t "$init" -a /bin/sh -c "$1"
}
for _ in $(seq 300); do
        inbox 'systemctl is-system-running 2>/dev/null | grep -qE "running|degraded"' && break
        sleep 0.1
done
inbox "ip link set lo up && meson install --no-rebuild --quiet -C '$build' > /dev/null && systemctl daemon-reload &&
       systemctl start systemd-journald.socket"

printf '%-20s %7s %8s %-29s %-40s %-40s %s\n' server clients restarts "pause_ms median/p99/max" \
        "handed over (last restart)" "taken over (last restart)" result
for unit in thermo:thermo-server:8888 thermo-proto:thermo-server-proto:8889; do
        IFS=: read -r name server port <<<"$unit"
        inbox "mkdir -p /run/systemd/system/$name.service.d && printf '[Service]\nExecStart=\nExecStart=/usr/local/bin/$server --interval=$interval --max-clients=$((clients + 100)) --max-clients-per-address=$((clients + 100))\n' > /run/systemd/system/$name.service.d/bench.conf &&
               systemctl daemon-reload && systemctl start $name.socket && printf 'PING\n' | socat -t 2 - TCP:127.0.0.1:$port > /dev/null"
        report=$(inbox "ulimit -n $((clients + 1000)) && cd /tmp &&
                setsid '$build/tests/system/stream-clients' $port $clients 1000000 pauses > bench.out 2> bench.err < /dev/null & c=\$!;
                for i in \$(seq 1200); do grep -q READY /tmp/bench.out && break; sleep 0.1; done;
                sleep 3; for r in \$(seq $restarts); do systemctl restart $name.service; sleep 3; done;
                kill -USR2 \$c; systemctl stop $name.service 2> /dev/null;
                for i in \$(seq 300); do kill -0 \$c 2>/dev/null || break; sleep 0.1; done;
                cat /tmp/bench.out /tmp/bench.err")
        handed=$(inbox "journalctl -q -o cat -u $name.service -g 'Handed' | tail -n 1" | sed -n 's/.*(\(in .*\))\./\1/p')
        taken=$(inbox "journalctl -q -o cat -u $name.service -g 'Took over' | tail -n 1" | sed -n 's/.*, \(in [^)]*\)).*/\1/p')
        pause=$(sed -n 's/^pause_ms median=\([0-9]*\) p99=\([0-9]*\) max=\([0-9]*\).*/\1\/\2\/\3/p' <<<"$report")
        result=$(grep '^clients=' <<<"$report" || echo "no report: $report")
        printf '%-20s %7s %8s %-29s %-40s %-40s %s\n' "$server" "$clients" "$restarts" "$pause" "$handed" "$taken" \
                "$(sed 's/^clients=[0-9]* //; s/ counted=.*//' <<<"$result")"
        inbox "systemctl stop $name.socket $name-metrics.socket 2> /dev/null; rm -rf /run/systemd/system/$name.service.d; systemctl daemon-reload"
done
