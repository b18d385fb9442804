#!/bin/bash
# What the event stream (/api/v1/events, thermo-server(8)) costs, against thermo/1 in the same run: for
# each server, CLIENTS thermo/1 clients streaming (STREAM, one sensor: a reading a tick), then as many
# event-stream clients (an EventSource each: an event a tick), a reading every INTERVAL_MS, measured for
# SECONDS once every client is connected (thermo-load). For each: what the clients got, the server's CPU
# per reading or event delivered, and its ratio to thermo/1's on the same server, latency p50 and p99,
# and resident memory per client. The servers run with --max-clients at four times CLIENTS and more, as
# the HTTP sockets' share is a quarter of it. Every process is ended by its PID; every run is bounded
# (thermo-load's).
#
#   tests/bench/run-events.sh BUILD_DIR [CLIENTS [SECONDS [INTERVAL_MS]]]   default: 1000 20 100
set -euo pipefail
build=${1:?usage: run-events.sh BUILD_DIR [CLIENTS [SECONDS [INTERVAL_MS]]]}
clients=${2:-1000}
seconds=${3:-20}
interval=${4:-100}
port=18897
http_port=18898
pid=

trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null || true' EXIT

field() {
        sed -n "s/.*\<$1=\([0-9]*\).*/\1/p" <<<"$2"
}

ratio() {
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'
}

printf '%-20s %-8s %7s %9s %6s %11s %8s %8s %8s %9s\n' target protocol clients readings gaps cpu_us/read \
        ×thermo/1 p50_ms p99_ms kb/client
status=0
for target in thermo-server thermo-server-proto; do
        server=$build/src/${target#thermo-}/$target
        thermo1_cpu=
        for protocol in thermo/1 events; do
                "$server" --listen "127.0.0.1:$port" --listen-metrics "127.0.0.1:$http_port" \
                        --interval "${interval}ms" --max-clients $((4 * clients + 64)) --sensor simulated:seed=1 \
                        --log-level=warning &
                pid=$!
                "$(dirname "$0")/wait-listening.sh" "$http_port"
                rss_idle=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
                if [ "$protocol" = events ]; then
                        result=$("$build/tests/bench/thermo-load" --events "$http_port" "$clients" "$seconds" "$pid")
                else
                        result=$("$build/tests/bench/thermo-load" "$port" "$clients" "$seconds" "$pid")
                fi
                kill "$pid"
                wait "$pid" 2>/dev/null || true
                pid=

                readings=$(field readings "$result")
                cpu=$(awk -v c="$(field cpu_ms "$result")" -v r="$readings" \
                        'BEGIN { printf "%.3f", (r > 0) ? c * 1000 / r : 0 }')
                thermo1_cpu=${thermo1_cpu:-$cpu}
                printf '%-20s %-8s %7s %9s %6s %11s %8s %8s %8s %9s\n' "$target" "$protocol" "$clients" "$readings" \
                        "$(field skipped "$result")" "$cpu" "$(ratio "$cpu" "$thermo1_cpu")" \
                        "$(awk -v v="$(field p50_us "$result")" 'BEGIN { printf "%.1f", v / 1000 }')" \
                        "$(awk -v v="$(field p99_us "$result")" 'BEGIN { printf "%.1f", v / 1000 }')" \
                        "$(awk -v a="$(field rss_kb "$result")" -v b="$rss_idle" -v n="$clients" \
                                'BEGIN { printf "%.2f", (a - b) / n }')"
                if [ "$(field errors "$result")" != 0 ]; then
                        echo "$target ($protocol): $(field errors "$result") clients were refused or cut off: no measure" >&2
                        status=1
                fi
        done
done
exit $status
