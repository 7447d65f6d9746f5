#!/bin/sh
# kernel.sh release|image: the installed Debian kernel (linux-image-amd64) that the VM
# boots, newest first, and only one whose modules are installed too.
set -eu
for image in $(ls -v /boot/vmlinuz-*-amd64 2>/dev/null | sort -rV); do
	release=${image#/boot/vmlinuz-}
	[ -f "/lib/modules/$release/modules.dep" ] || continue
	case "${1:-image}" in
	release) echo "$release" ;;
	*) echo "$image" ;;
	esac
	exit 0
done
echo "no Debian kernel installed: apt-get install linux-image-amd64" >&2
exit 1
