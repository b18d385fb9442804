#!/bin/bash
# Benchmarks both servers: CLIENTS streaming clients on loopback for SECONDS, a reading every INTERVAL.
# Prints, per server, what the clients got and what it cost the server: CPU time per thousand readings
# delivered, and resident memory per client. Every run is bounded (thermo-load caps clients and time).
#
#   tests/bench/run.sh BUILD_DIR [CLIENTS [SECONDS [INTERVAL]]]      e.g. tests/bench/run.sh build 1000 10 10ms
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [CLIENTS [SECONDS [INTERVAL]]]}
clients=${2:-1000}
seconds=${3:-10}
interval=${4:-10ms}
port=18890
hz=$(getconf CLK_TCK)

printf '%-22s %8s %10s %8s %12s %14s\n' server clients readings skipped "cpu_ms/1k" "rss_kb/client"
for server in thermo-server thermo-server-proto; do
        binary=$build/src/${server#thermo-}/$server
        [ "$server" = thermo-server ] && binary=$build/src/server/thermo-server
        "$binary" --listen "127.0.0.1:$port" --interval "$interval" --max-clients "$clients" \
                --sensor simulated:seed=1 --log-level=warning &
        pid=$!
        trap 'kill $pid 2>/dev/null' EXIT
        sleep 0.5
        rss_idle=$(awk '/VmRSS/ { print $2 }' /proc/$pid/status)
        read -r utime0 stime0 < <(awk '{ print $14, $15 }' /proc/$pid/stat)
        result=$("$build/tests/bench/thermo-load" "$port" "$clients" "$seconds")
        read -r utime1 stime1 < <(awk '{ print $14, $15 }' /proc/$pid/stat)
        rss=$(awk '/VmRSS/ { print $2 }' /proc/$pid/status)
        kill "$pid"
        wait "$pid" || true
        trap - EXIT

        readings=$(sed 's/.*readings=\([0-9]*\).*/\1/' <<<"$result")
        skipped=$(sed 's/.*skipped=\([0-9]*\).*/\1/' <<<"$result")
        cpu_ms=$(( (utime1 + stime1 - utime0 - stime0) * 1000 / hz ))
        printf '%-22s %8s %10s %8s %12s %14s\n' "$server" "$clients" "$readings" "$skipped" \
                "$(awk -v c="$cpu_ms" -v r="$readings" 'BEGIN { printf "%.3f", r ? c * 1000 / r : 0 }')" \
                "$(awk -v a="$rss" -v b="$rss_idle" -v n="$clients" 'BEGIN { printf "%.2f", (a - b) / n }')"
done
