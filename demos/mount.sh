#!/bin/sh
# The mount namespace and overlayfs: first the classic walk-through by hand (lower,
# upper, work, merged), then the same stack as the launcher builds it from image layers.
set -eu
cd "$(dirname "$0")/.."
L=${LAUNCHER:-./launcher}
play=$(mktemp -d)
trap 'rm -rf "$play"' EXIT

echo "== by hand, in a private mount namespace (nothing reaches the host's mount table)"
mkdir "$play/lower" "$play/upper" "$play/work" "$play/merged"
echo "from lower" >"$play/lower/play1"
unshare -m --propagation private sh -c '
	cd "$1"
	mount -t overlay -o lowerdir=lower,upperdir=upper,workdir=work none merged
	echo "from merged" > merged/play3
	echo "merged: $(ls merged | tr "\n" " ")"
	echo "upper:  $(ls upper | tr "\n" " ")(writes land in upper)"
	echo "lower:  $(ls lower | tr "\n" " ")(the lower layer is never written)"' sh "$play"

echo "== the launcher: each image layer is a lowerdir (l/N links to its directory in the layer"
echo "   cache, top layer first); upper and work live on a tmpfs that dies with the container"
$L images/busybox.tar sh -c '
	grep "^overlay / " /proc/mounts | sed "s/.*\(lowerdir=[^,]*,upperdir=[^,]*\).*/overlay on \/: \1/"
	echo "layer 1 wrote /data/secret.txt, layer 2 whited it out: $(ls /data | tr "\n" " ")"
	echo "layer 2 made /opt/dir opaque:                          $(ls /opt/dir | tr "\n" " ")"
	echo written > /data/mine.txt
	echo "a write inside:                                        $(ls /data/mine.txt)"'
echo "the next container starts clean:                       $($L images/busybox.tar sh -c 'ls /data/mine.txt 2>&1 || true')"
