#!/bin/sh
# mkinitramfs.sh OUT: a newc initramfs whose /init is the launcher, with the demo images
# in /images and the modules a start may need (overlay, veth, bridge, stp, llc) of the
# installed Debian kernel, which vm/boot.sh boots. $MODULES overrides that list.
set -eu
cd "$(dirname "$0")/.."
out=$(realpath "$1")
release=$(vm/kernel.sh release)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/dev" "$stage/proc" "$stage/sys" "$stage/run" "$stage/tmp" "$stage/images" "$stage/etc"
cp launcher "$stage/init"
cp images/hello.tar images/busybox.tar "$stage/images/"
# The kernel opens /dev/console for init's stdio before anything is mounted.
mknod "$stage/dev/console" c 5 1
mknod "$stage/dev/null" c 1 3
mods=/lib/modules/$release
mkdir -p "$stage$mods"
cp "$mods/modules.dep" "$stage$mods/"
for name in ${MODULES-overlay veth bridge stp llc}; do
	ko=$(grep -E "^kernel/.*/$name\.ko:" "$mods/modules.dep" | cut -d: -f1)
	mkdir -p "$(dirname "$stage$mods/$ko")"
	cp "$mods/$ko" "$stage$mods/$ko"
done
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --reproducible --quiet) | gzip -n >"$out"
