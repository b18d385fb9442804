#!/bin/sh
# run-fuzzer.sh FUZZER CORPUS SECONDS MAX_LEN: fuzzes from a copy of the seed corpus (the tree is never
# written) for that long, with inputs up to MAX_LEN bytes (libFuzzer's own default is the longest seed, so
# that short seeds would keep a harness short); fails on any crash, sanitizer report or timeout libFuzzer
# finds, and leaves the input that did it beside the fuzzer (crash-*, timeout-*), to replay it.
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R "$2"/. "$work"/
"$1" -max_total_time="$3" -max_len="$4" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$(dirname "$1")/$(basename "$1")-" "$work"
