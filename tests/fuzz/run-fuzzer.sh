#!/bin/sh
# run-fuzzer.sh FUZZER CORPUS SECONDS: fuzzes from a copy of the seed corpus (the tree is never written)
# for that long; fails on any crash, sanitizer report or timeout libFuzzer finds.
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R "$2"/. "$work"/
"$1" -max_total_time="$3" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/" "$work"
