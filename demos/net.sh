#!/bin/sh
# The network namespace walk-through: two namespaces joined by a veth cable, then a
# bridge network. Everything happens inside a network namespace this demo creates (and
# deletes), so the machine's own network is never touched.
set -eu
cd "$(dirname "$0")/.."
L=$(pwd)/${LAUNCHER:-launcher}
IMG=$(pwd)/images/busybox.tar
d=ldemo$$
export LAUNCHER_RUN=$(mktemp -d)
cleanup() {
	for ns in $d $d-red $d-blue; do ip netns del $ns 2>/dev/null || true; done
	rm -rf "$LAUNCHER_RUN"
}
trap cleanup EXIT
ip netns add $d

echo "== 1. a virtual cable: namespaces red and blue, a veth pair between them"
ip netns add $d-red
ip netns add $d-blue
ip -n $d link add veth-red type veth peer name veth-blue
ip -n $d link set veth-red netns $d-red
ip -n $d link set veth-blue netns $d-blue
ip -n $d-red addr add 192.168.15.1/24 dev veth-red
ip -n $d-blue addr add 192.168.15.2/24 dev veth-blue
ip -n $d-red link set veth-red up
ip -n $d-blue link set veth-blue up
echo "a container joins red (--netns) and sees:  $($L --netns $d-red $IMG ls /sys/class/net | tr '\n' ' ')"
echo "it pings blue across the cable:            $($L --netns $d-red $IMG ping -c1 -W2 192.168.15.2 | grep -o '1 packets received')"
echo "deleting one end of the cable deletes both: $(ip -n $d-red link del veth-red && ip -n $d-blue -o link show type veth | wc -l) veth left in blue"

echo "== 2. a bridge: containers on --net red get eth0, an address and a default route"
ip netns exec $d "$L" --net red $IMG sh -c 'ip -4 addr show eth0 | sed -n "s/.*inet \([0-9.]*\).*/first container: \1/p"; sleep 10' >"$LAUNCHER_RUN/first" &
first_pid=$!
for _ in $(seq 50); do grep -q first "$LAUNCHER_RUN/first" 2>/dev/null && break; sleep 0.1; done
cat "$LAUNCHER_RUN/first"
first=$(sed -n 's/first container: //p' "$LAUNCHER_RUN/first")
ip netns exec $d "$L" --net red $IMG sh -c "
	echo \"second container: \$(ip -4 addr show eth0 | sed -n 's/.*inet \([0-9.]*\).*/\1/p'), route: \$(ip route | head -1)\"
	echo \"second pings first: \$(ping -c1 -W2 $first | grep -o '1 packets received')\""
echo "the bridge, seen from its namespace:       $(ip -n $d -o -4 addr show dev red | awk '{print $2, $4}')"
echo "a container on another network, blue:     $(ip netns exec $d "$L" --net blue $IMG sh -c "ping -c1 -W1 $first | grep -o '0 packets received'") from red"
kill $first_pid
wait $first_pid || true
for _ in $(seq 50); do [ "$(ip -n $d -o link show type veth | wc -l)" -eq 0 ] && break; sleep 0.1; done
echo "after the containers exit:                 $(ip -n $d -o link show type veth | wc -l) veth, $(ls "$LAUNCHER_RUN/net/red" | grep -c '^10\.') leases"
ip netns exec $d "$L" --net-rm red
ip netns exec $d "$L" --net-rm blue
echo "after --net-rm red blue:                   $(ip -n $d -o link show type bridge | wc -l) bridges"
