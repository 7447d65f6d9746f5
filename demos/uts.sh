#!/bin/sh
# The UTS namespace: a container has a host name of its own.
# Classic form: `unshare -u bash; hostname bananaman` in one window, `hostname` in another.
set -eu
cd "$(dirname "$0")/.."
L=${LAUNCHER:-./launcher}

echo "host name on the host:               $(hostname)"
echo "host name in a container (image id): $($L images/busybox.tar hostname)"
echo "host name with --hostname bananaman: $($L --hostname bananaman images/busybox.tar hostname)"
echo "a container may not rename itself:   $($L images/busybox.tar sh -c 'hostname renamed 2>&1 || true')"
echo "unless given CAP_SYS_ADMIN:           $($L --cap-add SYS_ADMIN images/busybox.tar sh -c 'hostname renamed && hostname')"
echo "host name on the host, still:        $(hostname)"
echo "UTS namespaces differ:               host $(readlink /proc/self/ns/uts), container $($L images/busybox.tar readlink /proc/self/ns/uts)"
