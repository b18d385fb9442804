#!/bin/bash
# What --min-change saves a broker: a fleet of SERVERS thermo servers, each with one sensor whose readings
# wander by 0.01 °C (tests/bench/wander.c), a reading every 100 ms, bridged by one thermo-mqtt to a local
# mosquitto for SECONDS, first publishing every reading, then with --min-change=0.5 --heartbeat=HEARTBEAT.
# For each: the readings the servers offered a second, the messages the broker got a second (mqtt-sink),
# how many times fewer, and the longest wait between two messages of a sensor (the heartbeat kept). Every
# process is ended by its PID; every run is bounded.
#
#   tests/bench/run-mqtt-change.sh BUILD_DIR [SECONDS [SERVERS [HEARTBEAT]]]   default: 60 20 10s
set -euo pipefail
build=${1:?usage: run-mqtt-change.sh BUILD_DIR [SECONDS [SERVERS [HEARTBEAT]]]}
seconds=${2:-60}
servers=${3:-20}
heartbeat=${4:-10s}
broker_port=18894
base_port=18900
dir=$(mktemp -d /tmp/thermo-bench-change-XXXXXX)
pids=()

cleanup() {
        for pid in "${pids[@]}"; do
                kill "$pid" 2>/dev/null || true
        done
        # Gone before the next run binds the same ports.
        for pid in "${pids[@]}"; do
                wait "$pid" 2>/dev/null || true
        done
        rm -rf "$dir"
}
trap cleanup EXIT

field() {
        sed -n "s/.*\<$1=\([0-9.]*\).*/\1/p" <<<"$2"
}

cat > "$dir/mosquitto.conf" <<CONF
listener $broker_port 127.0.0.1
persistence false
allow_anonymous true
CONF
mosquitto -c "$dir/mosquitto.conf" 2> "$dir/mosquitto.log" &
pids+=($!)
"$(dirname "$0")/wait-listening.sh" "$broker_port"

files=()
hosts=()
for i in $(seq 1 "$servers"); do
        files+=("$dir/s$i")
        echo 21000 > "$dir/s$i"
done
# The walk goes on through both runs, and the settling.
"$build/tests/bench/wander" 10 100 $((2 * seconds + 30)) "${files[@]}" &
pids+=($!)
for i in $(seq 1 "$servers"); do
        "$build/src/server/thermo-server" --listen "127.0.0.1:$((base_port + i))" --interval 100ms \
                --sensor "room=file:$dir/s$i" --log-level=warning &
        pids+=($!)
        hosts+=("h$i=127.0.0.1:$((base_port + i))")
done
for i in $(seq 1 "$servers"); do
        "$(dirname "$0")/wait-listening.sh" $((base_port + i))
done

printf 'a fleet of %d servers, one sensor each, wandering by 0.01 °C, a reading every 100 ms; %d s a run\n\n' \
        "$servers" "$seconds"
printf '%-40s %10s %12s %8s %12s\n' thermo-mqtt offered/s messages/s ×fewer longest_ms
every=
for options in "" "--min-change=0.5 --heartbeat=$heartbeat"; do
        "$build/tests/bench/mqtt-sink" "$broker_port" fleet 1 "$seconds" > "$dir/sink" &
        sink=$!
        pids+=("$sink")
        for _ in $(seq 100); do
                grep -q ready "$dir/sink" && break
                sleep 0.05
        done
        # shellcheck disable=SC2086 # the options are words
        "$build/src/mqtt/thermo-mqtt" --broker "mqtt://127.0.0.1:$broker_port" --payload json --no-discovery \
                --topic-prefix fleet --log-level=warning $options "${hosts[@]}" 2> "$dir/mqtt.log" &
        mqtt=$!
        pids+=("$mqtt")
        # The sink counts for SECONDS from the first reading, and says so.
        wait "$sink" || true
        kill -TERM "$mqtt"
        wait "$mqtt" || true
        result=$(tail -1 "$dir/sink")
        rate=$(awk -v n="$(field received "$result")" -v s="$(field seconds "$result")" \
                'BEGIN { printf "%.1f", (s > 0) ? n / s : 0 }')
        every=${every:-$rate}
        printf '%-40s %10d %12s %8s %12s\n' "${options:-every reading}" $((servers * 10)) "$rate" \
                "$(awk -v a="$every" -v b="$rate" 'BEGIN { printf "%.1f", (b > 0) ? a / b : 0 }')" \
                "$(field longest_ms "$result")"
done
