#!/bin/bash
# wait-listening.sh PORT: waits up to 10 s for something to listen on TCP PORT; the benchmarks and the soak
# start a server, then this, then their load.
for _ in $(seq 200); do
        ss -Hltn "sport = :$1" | grep -q . && exit 0
        sleep 0.05
done
echo "wait-listening.sh: nothing listens on port $1" >&2
exit 1
