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
# The unshare process stays in front; its child is the namespace's PID 1. --kill-child takes the namespace
# down with unshare, whatever ends it.
set -euo pipefail
exec unshare --pid --mount --net --uts --ipc --cgroup --fork --propagation private --kill-child=SIGKILL \
        bash -c '
set -euo pipefail
dir="$1"
mount -t tmpfs -o mode=0700 thermo-system-test "$dir"
mkdir -p "$dir/upper" "$dir/work" "$dir/root"
mount -t overlay overlay -o lowerdir=/,upperdir="$dir/upper",workdir="$dir/work" "$dir/root"
mount -t proc proc "$dir/root/proc"
mount --rbind /sys "$dir/root/sys"
mount --rbind /dev "$dir/root/dev"
mount -t tmpfs tmpfs "$dir/root/run"
mount -t tmpfs tmpfs "$dir/root/tmp"
shift
for path in "$@"; do
        mkdir -p "$dir/root$path"
        mount --bind "$path" "$dir/root$path"
done

# A target with no dependencies: nothing from the host'"'"'s boot runs, only what a test starts.
mkdir -p "$dir/root/run/systemd/system"
printf "[Unit]\nDescription=thermo system test\nDefaultDependencies=no\n" \
        > "$dir/root/run/systemd/system/thermo-test.target"

cd "$dir/root"
mkdir -p .oldroot
pivot_root . .oldroot
umount -l /.oldroot
hostname thermo-test
export container=thermo-test
exec /lib/systemd/systemd --system --unit=thermo-test.target --log-target=console --log-level=warning
' boot "$@"
