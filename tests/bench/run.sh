#!/bin/bash
# Benchmarks both servers against the floor, in one run under the same load: CLIENTS streaming clients on
# loopback, a reading every INTERVAL_MS, measured for SECONDS once every client is connected. The floor is
# a bare write() loop (tests/bench/thermo-floor.c): no event loop, no protocol, one preformatted line
# written to every socket per tick. For each, what the clients got (readings, gaps), and what it cost:
# server CPU per reading delivered, delivery latency p50 and p99 (from the time in the TEMP line to the
# client), each also as a ratio to the floor's, and resident memory per client. Every run is bounded
# (thermo-load caps clients at 20000 and time at 300 s).
#
#   tests/bench/run.sh BUILD_DIR [CLIENTS [SECONDS [INTERVAL_MS [NAME=SERVER...]]]]   default: 10000 20 100
#
# NAME=SERVER adds a server binary to the run under that name: another build's, to compare a change.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [CLIENTS [SECONDS [INTERVAL_MS [NAME=SERVER...]]]]}
clients=${2:-10000}
seconds=${3:-20}
interval=${4:-100}
shift $(($# < 4 ? $# : 4))
port=18890

declare -A servers=(
        [thermo-server]=$build/src/server/thermo-server
        [thermo-server-proto]=$build/src/server-proto/thermo-server-proto
)
targets=(thermo-floor thermo-server thermo-server-proto)
for extra in "$@"; do
        servers[${extra%%=*}]=${extra#*=}
        targets+=("${extra%%=*}")
done

field() {
        sed -n "s/.*\<$1=\([0-9]*\).*/\1/p" <<<"$2"
}

printf '%-20s %7s %9s %6s %11s %6s %8s %6s %8s %6s %9s\n' target clients readings gaps cpu_us/read ×floor \
        p50_ms ×floor p99_ms ×floor kb/client
floor_cpu='' floor_p50='' floor_p99=''
status=0
ratio() {
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'
}

for target in "${targets[@]}"; do
        if [ "$target" = thermo-floor ]; then
                "$build/tests/bench/thermo-floor" "$port" "$clients" "$interval" $((seconds + 120)) &
        else
                "${servers[$target]}" --listen "127.0.0.1:$port" --interval "${interval}ms" \
                        --max-clients $((clients + 16)) --sensor simulated:seed=1 --log-level=warning &
        fi
        pid=$!
        trap 'kill $pid 2>/dev/null' EXIT
        "$(dirname "$0")/wait-listening.sh" "$port"
        rss_idle=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
        result=$("$build/tests/bench/thermo-load" "$port" "$clients" "$seconds" "$pid")
        kill "$pid"
        wait "$pid" 2>/dev/null || true
        trap - EXIT

        readings=$(field readings "$result")
        cpu=$(awk -v c="$(field cpu_ms "$result")" -v r="$readings" 'BEGIN { printf "%.3f", (r > 0) ? c * 1000 / r : 0 }')
        p50=$(awk -v v="$(field p50_us "$result")" 'BEGIN { printf "%.1f", v / 1000 }')
        p99=$(awk -v v="$(field p99_us "$result")" 'BEGIN { printf "%.1f", v / 1000 }')
        if [ -z "$floor_cpu" ]; then
                floor_cpu=$cpu floor_p50=$p50 floor_p99=$p99
        fi
        printf '%-20s %7s %9s %6s %11s %6s %8s %6s %8s %6s %9s\n' "$target" "$clients" "$readings" \
                "$(field skipped "$result")" "$cpu" "$(ratio "$cpu" "$floor_cpu")" "$p50" "$(ratio "$p50" "$floor_p50")" \
                "$p99" "$(ratio "$p99" "$floor_p99")" \
                "$(awk -v a="$(field rss_kb "$result")" -v b="$rss_idle" -v n="$clients" 'BEGIN { printf "%.2f", (a - b) / n }')"
        if [ "$(field errors "$result")" != 0 ]; then
                echo "$target: $(field errors "$result") clients were refused or cut off: no measure of it" >&2
                status=1
        fi
done
exit $status
