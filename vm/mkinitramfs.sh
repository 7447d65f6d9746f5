#!/bin/sh
# mkinitramfs.sh OUT: a newc initramfs whose /init is the launcher, with the demo images
# in /images and the modules a start may need (overlay, veth, bridge, stp, llc, nf_tables') of the
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
# nf_tables and what its nat chain, masquerade, DNAT, ct and fib expressions need
# (network.hpp's nf_modules with their dependencies).
nf="crc32c_generic libcrc32c nfnetlink nf_tables nf_conntrack nf_defrag_ipv4 nf_defrag_ipv6 nf_nat nft_chain_nat nft_masq nft_nat nft_ct nft_fib nft_fib_ipv4"
for name in ${MODULES-overlay veth bridge stp llc $nf}; do
	ko=$(grep -E "^kernel/.*/$name\.ko:" "$mods/modules.dep" | cut -d: -f1)
	mkdir -p "$(dirname "$stage$mods/$ko")"
	cp "$mods/$ko" "$stage$mods/$ko"
done
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --reproducible --quiet) | gzip -n >"$out"
