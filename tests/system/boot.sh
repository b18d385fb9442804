#!/bin/bash
# Boots systemd as PID 1 of private namespaces, on a throwaway overlay of / whose upper layer is a tmpfs,
# with tmpfs on /run and /tmp of its own. Nothing it does reaches the host's file systems: never boot
# systemd on the real root, whose boot-time tmpfiles would empty the host's /tmp.
#
#   boot.sh DIR [PATH...]
#
# DIR: an empty directory to mount the tmpfs on (in the new mount namespace only). Each PATH (the source
# and build trees) is bound at the same place inside, so that it stays visible even under the new /tmp.
#
# The unshare process stays in front, where the machine put it; its child is the namespace's PID 1.
# --kill-child takes the namespace down with unshare, whatever ends it.
#
# Each box has cgroup hierarchies of its own, so that two booted at once (two test runs, two CI jobs) do
# not share one tree and break each other: a cgroup is made for it, a child of the one this script is in
# (thermo-box.PID, in the hierarchies that track processes, name=systemd and cgroup2; none of a
# controller's), and only the box's PID 1, a process of ours, goes in, then unshares its cgroup namespace
# there, so that the box's systemd sees that cgroup as its root, and mounts it alone: no controller is
# shared, and nothing the machine placed moves.
#
#   boot.sh --cleanup PID
#
# removes what the box of boot.sh PID left in those hierarchies, once it is down; empty ones that boxes
# no longer running left behind go too.
set -euo pipefail

# The hierarchies this machine tracks processes in, where each box gets a cgroup of its own.
hierarchies() {
        if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
                echo /sys/fs/cgroup
                return
        fi
        for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified; do
                if mountpoint -q "$h"; then
                        echo "$h"
                fi
        done
}

# The cgroup this process is in, under hierarchy h (as /proc/self/cgroup has it).
current() {
        local h=$1 line
        if [ "$(stat -f -c %T "$h")" = cgroup2fs ]; then
                line=$(grep '^0::' /proc/self/cgroup)
        else
                line=$(grep ':name=systemd:' /proc/self/cgroup)
        fi
        echo "${line#*:*:}"
}

# Removes a box's tree, deepest first, once the processes a killed PID 1 leaves die (5 seconds at most:
# cgroups still holding processes then stay).
remove_box() {
        for _ in $(seq 50); do
                if ! find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null | grep -q .; then
                        break
                fi
                sleep 0.1
        done
        find "$1" -depth -type d -exec rmdir {} + 2>/dev/null || true
}

case "${1-}" in
--cleanup)
        for h in $(hierarchies); do
                for box in "$h$(current "$h")"/thermo-box.*; do
                        [ -d "$box" ] || continue
                        pid=${box##*.}
                        if [ "$pid" = "$2" ] || ! kill -0 "$pid" 2>/dev/null; then
                                remove_box "$box"
                        fi
                done
        done
        exit 0
        ;;
--pid1)
        # The namespace's PID 1, in its mount namespace: the throwaway root, then into the box's cgroups.
        shift
        dir="$1"
        mount -t tmpfs -o mode=0700 thermo-system-test "$dir"
        mkdir -p "$dir/upper" "$dir/work" "$dir/root"
        mount -t overlay overlay -o lowerdir=/,upperdir="$dir/upper",workdir="$dir/work" "$dir/root"
        mount -t proc proc "$dir/root/proc"
        mount --rbind /sys "$dir/root/sys"
        mount --rbind /dev "$dir/root/dev"
        mount -t tmpfs tmpfs "$dir/root/run"
        mount -t tmpfs tmpfs "$dir/root/tmp"
        for box in $THERMO_BOXES; do
                echo $$ > "$box/cgroup.procs"
        done
        exec unshare --cgroup "$0" --root "$@"
        ;;
--root)
        # PID 1 still, in a cgroup namespace rooted at the box: its hierarchies, then systemd.
        shift
        dir="$1"
        if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
                mount -t cgroup2 cgroup2 "$dir/root/sys/fs/cgroup"
        else
                mount -t tmpfs -o mode=0755 cgroup "$dir/root/sys/fs/cgroup"
                mkdir "$dir/root/sys/fs/cgroup/systemd" "$dir/root/sys/fs/cgroup/unified"
                mount -t cgroup -o none,name=systemd cgroup "$dir/root/sys/fs/cgroup/systemd"
                if mountpoint -q /sys/fs/cgroup/unified; then
                        mount -t cgroup2 cgroup2 "$dir/root/sys/fs/cgroup/unified"
                fi
        fi
        shift
        for path in "$@"; do
                mkdir -p "$dir/root$path"
                mount --bind "$path" "$dir/root$path"
        done

        # A target with no dependencies: nothing from the host's boot runs, only what a test starts.
        mkdir -p "$dir/root/run/systemd/system"
        printf "[Unit]\nDescription=thermo system test\nDefaultDependencies=no\n" \
                > "$dir/root/run/systemd/system/thermo-test.target"

        cd "$dir/root"
        mkdir -p .oldroot
        pivot_root . .oldroot
        umount -l /.oldroot
        hostname thermo-test
        export container=thermo-test
        unset THERMO_BOXES
        exec /lib/systemd/systemd --system --unit=thermo-test.target --log-target=console --log-level=warning
        ;;
esac

boxes=
for h in $(hierarchies); do
        box="$h$(current "$h")/thermo-box.$$"
        mkdir -p "$box"
        boxes="$boxes $box"
done
export THERMO_BOXES=$boxes

exec unshare --pid --mount --net --uts --ipc --cgroup --fork --propagation private --kill-child=SIGKILL \
        "$0" --pid1 "$@"
