#!/bin/bash
# What the history costs (thermo-server(8), --history), measured against none in the same run:
#
# - its memory, full: a server with 20 simulated sensors holding 6,000 ticks (10 minutes at 100ms are as
#   many; here 12 s at 2ms, so that it fills in seconds), 120,000 readings, against --history=0, one client
#   streaming; the difference in resident memory, in all and per reading held;
# - CPU per reading: run.sh's load on both servers, with the history on (the default, 10 minutes), and
#   thermo-server with --history=0 beside them, in one run.
#
# Every process is ended by its PID; every run is bounded (thermo-load's).
#
#   tests/bench/run-history.sh BUILD_DIR [CLIENTS [SECONDS]]   default: 10000 20
set -euo pipefail
build=${1:?usage: run-history.sh BUILD_DIR [CLIENTS [SECONDS]]}
clients=${2:-10000}
seconds=${3:-20}
port=18896
dir=$(mktemp -d /tmp/thermo-bench-history-XXXXXX)
pid=

cleanup() {
        [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
        rm -rf "$dir"
}
trap cleanup EXIT

field() {
        sed -n "s/.*\<$1=\([0-9]*\).*/\1/p" <<<"$2"
}

# Resident KiB of a server with 20 sensors and --history=$1, after 16 s of ticks at 2ms.
rss_with_history() {
        local sensors=() k
        for k in $(seq 20); do
                sensors+=(--sensor "s$k=simulated:seed=$k")
        done
        "$build/src/server/thermo-server" --listen "127.0.0.1:$port" --interval 2ms --history "$1" \
                "${sensors[@]}" --log-level=err &
        pid=$!
        "$(dirname "$0")/wait-listening.sh" "$port"
        result=$("$build/tests/bench/thermo-load" "$port" 1 14 "$pid")
        kill "$pid"
        wait "$pid" 2>/dev/null || true
        pid=
        field rss_kb "$result"
}

with=$(rss_with_history 12s)
without=$(rss_with_history 0)
printf '%-34s %10s\n' "history of 120,000 readings" "resident"
printf '%-34s %7s KiB\n' "--history=12s at 2ms, 20 sensors" "$with"
printf '%-34s %7s KiB\n' "--history=0" "$without"
awk -v a="$with" -v b="$without" 'BEGIN { printf "%-34s %7d KiB, %.1f bytes a reading\n", "the history", a - b, (a - b) * 1024 / 120000 }'
echo

cat > "$dir/thermo-server-no-history" <<WRAPPER
#!/bin/sh
exec "$build/src/server/thermo-server" --history=0 "\$@"
WRAPPER
chmod +x "$dir/thermo-server-no-history"
"$(dirname "$0")/run.sh" "$build" "$clients" "$seconds" 100 "no-history=$dir/thermo-server-no-history"
