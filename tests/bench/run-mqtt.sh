#!/bin/bash
# Benchmarks thermo-mqtt against the floor: one thermo server with SENSORS simulated sensors, a reading every
# INTERVAL_MS, streamed by thermo-mqtt to a local mosquitto for SECONDS, at QoS 0 and at QoS 1; a subscriber
# (mqtt-sink) counts what arrives. The floor (mqtt-floor) publishes as many readings of the same shape
# through libmosquitto in a bare loop. For each: readings carried per second, thermo-mqtt's CPU per reading
# and as a ratio to the floor's, and readings lost: those the subscriber never saw, less those the server
# skipped because thermo-mqtt read too slowly (skipped) and those that never reached the broker (dropped),
# both said in its log. A broker slower than the readings leaves thermo-mqtt behind: what it had not
# published at the stop still waited in the server's history (behind: from the tick its log names to the
# server's newest). Every process is ended by its PID; every run is bounded.
#
#   tests/bench/run-mqtt.sh BUILD_DIR [SECONDS [SENSORS [INTERVAL_MS]]]   default: 10 50 1
set -euo pipefail
build=${1:?usage: run-mqtt.sh BUILD_DIR [SECONDS [SENSORS [INTERVAL_MS]]]}
seconds=${2:-10}
sensors=${3:-50}
interval=${4:-1}
broker_port=18893
server_port=18892
hz=$(getconf CLK_TCK)
dir=$(mktemp -d /tmp/thermo-bench-mqtt-XXXXXX)
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

cpu_ticks() {
        awk '{ print $14 + $15 }' "/proc/$1/stat"
}

field() {
        sed -n "s/.*\<$1=\([0-9.]*\).*/\1/p" <<<"$2"
}

# The sink, started; its output goes to $dir/sink.
start_sink() {
        "$build/tests/bench/mqtt-sink" "$broker_port" "$1" "$2" 600 > "$dir/sink" &
        sink=$!
        pids+=("$sink")
        for _ in $(seq 100); do
                grep -q ready "$dir/sink" && return 0
                sleep 0.05
        done
        echo "run-mqtt.sh: the sink did not subscribe" >&2
        return 1
}

# Its result in $result; not in a subshell, which could not wait for the sink.
stop_sink() {
        kill -TERM "$sink"
        wait "$sink" || true
        result=$(tail -1 "$dir/sink")
}

cat > "$dir/mosquitto.conf" <<CONF
listener $broker_port 127.0.0.1
persistence false
allow_anonymous true
max_queued_messages 0
max_inflight_messages 1000
CONF
mosquitto -c "$dir/mosquitto.conf" 2> "$dir/mosquitto.log" &
pids+=($!)
"$(dirname "$0")/wait-listening.sh" "$broker_port"

args=()
for i in $(seq 0 $((sensors - 1))); do
        args+=(--sensor "s$i=simulated:seed=$i")
done
"$build/src/server/thermo-server" --listen "127.0.0.1:$server_port" --interval "${interval}ms" --log-level=warning \
        "${args[@]}" &
pids+=($!)
"$(dirname "$0")/wait-listening.sh" "$server_port"

printf 'a server with %d sensors, a reading every %d ms\n\n' "$sensors" "$interval"
# The server's newest tick, from INFO.
newest_seq() {
        local line
        exec 3<>"/dev/tcp/127.0.0.1/$server_port"
        printf 'INFO\n' >&3
        while read -r -t 5 line <&3; do
                case $line in INFO*) field newest_seq "$line"; break ;; esac
        done
        exec 3>&-
}

printf '%-12s %4s %10s %10s %10s %11s %6s %8s %8s %8s %6s\n' target qos readings offered/s carried/s cpu_us/read ×floor \
        skipped dropped behind lost
for qos in 0 1; do
        start_sink bench "$qos"
        "$build/src/mqtt/thermo-mqtt" --broker "mqtt://127.0.0.1:$broker_port" --qos "$qos" --payload json \
                --no-discovery --topic-prefix bench --log-level=notice "bench=127.0.0.1:$server_port" 2> "$dir/mqtt.log" &
        mqtt=$!
        pids+=("$mqtt")
        sleep "$seconds"
        cpu=$(cpu_ticks "$mqtt")
        kill -TERM "$mqtt"
        wait "$mqtt" || true
        newest=$(newest_seq)
        sleep 0.5
        stop_sink
        [ -n "${BENCH_DEBUG:-}" ] && cat "$dir/mqtt.log" >&2 && echo "$result" >&2
        received=$(field received "$result")
        window=$(field seconds "$result")
        # Ticks skipped for a slow reader, each of every sensor (a gap held no more is among the dropped).
        skipped=$(sed -n 's/.*Missed \([0-9]*\) readings\{0,1\} .*skipped for us.*/\1/p' "$dir/mqtt.log" |
                awk -v n="$sensors" '{ s += $1 } END { print s * n }')
        dropped=$(sed -n 's/.* \([0-9]*\) readings\{0,1\} of bench did not reach.*/\1/p' "$dir/mqtt.log" |
                awk '{ s += $1 } END { print s + 0 }')
        from=$(sed -n 's/.*did not get the readings of bench from #\([0-9]*\) on.*/\1/p' "$dir/mqtt.log")
        behind=$(( from > 0 ? (newest - from + 1) * sensors : 0 ))
        lost=$(( $(field lost "$result") - skipped - dropped ))
        cpu_us=$(awk -v t="$cpu" -v hz="$hz" -v n="$received" 'BEGIN { printf "%.2f", (n > 0) ? t * 1e6 / hz / n : 0 }')

        # The floor, carrying as many readings the bare way.
        start_sink floor "$qos"
        floor=$("$build/tests/bench/mqtt-floor" "$broker_port" "$qos" "$received" "$sensors")
        sleep 0.5
        stop_sink
        floor_sink=$result
        floor_us=$(awk -v c="$(field cpu_us "$floor")" -v n="$received" 'BEGIN { printf "%.2f", (n > 0) ? c / n : 0 }')

        printf '%-12s %4s %10s %10.0f %10.0f %11s %6s %8s %8s %8s %6s\n' thermo-mqtt "$qos" "$received" \
                "$(awk -v n="$received" -v d="$dropped" -v b="$behind" -v s="$window" \
                        'BEGIN { print (s > 0) ? (n + d + b) / s : 0 }')" \
                "$(awk -v n="$received" -v s="$window" 'BEGIN { print (s > 0) ? n / s : 0 }')" "$cpu_us" \
                "$(awk -v a="$cpu_us" -v b="$floor_us" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')" \
                "$skipped" "$dropped" "$behind" "$lost"
        printf '%-12s %4s %10s %10s %10s %11s %6s %8s %8s %8s %6s\n' mqtt-floor "$qos" "$(field published "$floor")" - - \
                "$floor_us" 1.00 - - - "$(field lost "$floor_sink")"
done
