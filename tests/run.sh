#!/usr/bin/env bash
# The whole test suite, as README.md's test line runs it (and .ci/run runs that line): what the build and
# the tests need, from Debian, then every suite with gcc, the integration suite under valgrind, the unit,
# integration and fuzz suites under ASan and UBSan, and each libFuzzer harness fuzzed under clang. Each
# stage is named before it runs; the first command that fails stops the run, and is named with its stage.
set -euo pipefail

stages=(
        "packages: what the build and the tests need, from Debian (apt-get)"
        "gcc: every suite, built with gcc, warnings as errors"
        "valgrind: the integration suite with every server under valgrind"
        "asan: the unit, integration and fuzz suites under ASan and UBSan"
        "clang: the libFuzzer build (-Dfuzz=true), under ASan and UBSan"
        "fuzz: each libFuzzer harness fuzzed for 20 seconds"
)

usage() {
        echo "Usage: tests/run.sh [--help]"
        echo
        echo "Runs thermo's whole test suite, from any directory, in ${#stages[@]} stages:"
        for i in "${!stages[@]}"; do
                printf '  %d. %s\n' $((i + 1)) "${stages[i]}"
        done
        echo
        echo "The build directories are build-test, build-asan and build-fuzz, at the repository's root;"
        echo "each is set up anew, or reconfigured when it exists. A stage that fails stops the run,"
        echo "which names it and the command that failed."
}

case "${1-}" in
"") ;;
-h | --help)
        usage
        exit 0
        ;;
*)
        echo "tests/run.sh: unknown argument '$1'" >&2
        usage >&2
        exit 2
        ;;
esac

cd "$(dirname "$0")/.."

# Not root: apt-get through sudo.
sudo=
if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo "
fi

stage=0
name=

# Starts the next stage: its banner on stderr.
begin() {
        stage=$((stage + 1))
        name=${stages[stage - 1]%%:*}
        printf '==> [%d/%d] %s\n' "$stage" "${#stages[@]}" "${stages[stage - 1]}" >&2
}

# Runs one command of the stage (a shell command line, shown as it is run); the run ends with its status
# when it fails.
step() {
        local status=0

        printf '+ %s\n' "$1" >&2
        eval "$1" || status=$?
        if [ "$status" -ne 0 ]; then
                printf '==> FAILED at stage %d/%d (%s): %s\n' "$stage" "${#stages[@]}" "$name" "$1" >&2
                exit "$status"
        fi
}

# meson setup, or meson setup --reconfigure when the build directory is there from an earlier run.
setup() {
        local prefix=$1 dir=$2
        shift 2

        if [ -e "$dir/meson-private/coredata.dat" ]; then
                step "${prefix}meson setup --reconfigure $dir $*"
        else
                step "${prefix}meson setup $dir $*"
        fi
}

begin # packages
step "${sudo}apt-get update && ${sudo}apt-get install -y meson ninja-build gcc pkg-config libsystemd-dev libmicrohttpd-dev libmosquitto-dev libcmocka-dev libsensors-dev lm-sensors systemd mandoc man-db iproute2 procps bash-completion zsh tmux jq socat netcat-openbsd curl prometheus mosquitto mosquitto-clients openssl dpkg-dev debhelper lintian valgrind clang libclang-rt-14-dev chromium chromium-driver python3-selenium"

begin # gcc
setup "" build-test -Dwerror=true
step "meson test -C build-test --print-errorlogs"

begin # valgrind
step "meson test -C build-test --setup valgrind --suite integration --print-errorlogs"

begin # asan
setup "" build-asan -Dwerror=true -Db_sanitize=address,undefined
step "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 meson test -C build-asan --print-errorlogs --suite unit --suite integration --suite fuzz"

begin # clang
setup "CC=clang " build-fuzz -Dwerror=true -Dfuzz=true -Db_sanitize=address,undefined

begin # fuzz
step "meson test -C build-fuzz --print-errorlogs --suite fuzz"

printf '==> all %d stages passed\n' "${#stages[@]}" >&2
