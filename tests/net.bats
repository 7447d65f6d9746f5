#!/usr/bin/env bats
# Networking over rtnetlink. Every test runs inside a network namespace it creates, so
# nothing touches the machine's own network; LAUNCHER_RUN keeps leases in the test's dir.

load helpers

setup() {
	common_setup
	NS=lnet-$BATS_TEST_NUMBER-$$
	ip netns add "$NS"
	# Forwarding on in the test namespace: isolation between networks must come from the
	# launcher's network tables, not from a default.
	ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1
	export LAUNCHER_RUN=$BATS_TEST_TMPDIR/run
}

teardown() {
	# The containers' own sleeps, never a launcher whose command line holds one: a launcher
	# killed with SIGKILL leaves its cgroup for the next start to reclaim.
	pkill -KILL -f "^sleep 3[0-9]" || true
	ip netns del "$NS" 2>/dev/null || true
	for ns in $(ip netns list | awk '{print $1}' | grep "^$NS-"); do ip netns del "$ns"; done
	common_teardown
}

# nsenter, not ip netns exec: that remounts /sys, which hides the cgroup file systems a
# container's device policy needs (the launcher then refuses to start it).
in_ns() { nsenter --net=/run/netns/"$NS" "$@"; }

# Starts a container on --net $1 that reports its address and then waits; sets ADDR, PID.
serve() {
	local out=$BATS_TEST_TMPDIR/serve-$1-$RANDOM
	# nsenter execs in place (a shell function would not), so $! is the launcher itself.
	nsenter --net=/run/netns/"$NS" "$LAUNCHER" --net "$@" "$BUSYBOX" sh -c 'ip -4 addr show eth0 | sed -n "s/.*inet \([0-9.]*\).*/addr=\1/p"; sleep 30' >"$out" 2>&1 &
	PID=$!
	wait_for "$out" addr=
	ADDR=$(sed -n 's/addr=//p' "$out")
}

# Waits until no veth of the launcher is left in the test namespace (the kernel frees a
# container's network namespace, and with it the veth pair, shortly after its last exit).
no_veth_left() {
	for _ in $(seq 50); do
		in_ns ip -o link show type veth | grep -q . || return 0
		sleep 0.1
	done
	in_ns ip -o link show type veth >&2
	return 1
}

# Adds link $1 of a kind that is not a bridge: a dummy, or an ifb where the kernel has no
# dummy; sets KIND.
add_foreign() {
	if in_ns ip link add "$1" type dummy 2>/dev/null; then KIND=dummy; else in_ns ip link add "$1" type ifb; KIND=ifb; fi
}

# Link $1 as a test must find it unchanged: kind, flags, master, IPv4 addresses, forwarding.
link_state() {
	in_ns ip -j -d addr show dev "$1" | python3 -c '
import json, sys
l = json.load(sys.stdin)[0]
print(l.get("linkinfo", {}).get("info_kind"), sorted(l["flags"]), l.get("master"),
      [(a["local"], a["prefixlen"]) for a in l["addr_info"] if a["family"] == "inet"])'
	in_ns sysctl -n "net.ipv4.conf.$1.forwarding"
}

# Another tool's links: $KIND foreign, up, addressed; bridge otherbr, up, addressed,
# forwarding on. Their states before the launcher sees them: FOREIGN, OTHERBR.
add_other_tools_links() {
	add_foreign foreign
	in_ns ip addr add 192.0.2.1/24 dev foreign
	in_ns ip link set foreign up
	in_ns ip link add otherbr type bridge
	in_ns ip addr add 198.51.100.1/24 dev otherbr
	in_ns ip link set otherbr up
	in_ns sysctl -qw net.ipv4.conf.otherbr.forwarding=1
	FOREIGN=$(link_state foreign)
	OTHERBR=$(link_state otherbr)
}

@test "--net none, the default, has only lo" {
	run in_ns "$LAUNCHER" --net none "$BUSYBOX" ls /sys/class/net
	assert_success
	assert_output lo
}

@test "two containers on --net red ping each other by address; the bridge's namespace reaches them" {
	serve red
	first=$ADDR
	run in_ns "$LAUNCHER" --net red "$BUSYBOX" sh -c "ping -c1 -W2 $first && cat /etc/hosts && ip route"
	assert_success
	assert_output --partial "1 packets received"
	assert_line --regexp "^10\.88\.[0-9]+\.3	[0-9a-f]{12}$"
	assert_line --regexp "^default via 10\.88\.[0-9]+\.1 dev eth0"
	run in_ns "$LAUNCHER" --net host "$BUSYBOX" ping -c1 -W2 "$first"
	assert_success
	kill $PID
	wait $PID || true
	no_veth_left
}

@test "on a bridge network /etc/hosts is the network's, read-only, on the first start too; a volume on /etc/hosts stays on top; --add-host copies it" {
	run in_ns "$LAUNCHER" --net red "$BUSYBOX" sh -c 'cat /etc/hosts; echo x >>/etc/hosts'
	assert_failure
	assert_line --regexp "^10\.88\.[0-9]+\.2	[0-9a-f]{12}$"
	assert_output --partial "Read-only file system"
	echo "192.0.2.9 mine" >"$BATS_TEST_TMPDIR/hosts"
	run in_ns "$LAUNCHER" --net red -v "$BATS_TEST_TMPDIR/hosts:/etc/hosts" "$BUSYBOX" cat /etc/hosts
	assert_success
	assert_output "192.0.2.9 mine"
	run in_ns "$LAUNCHER" --net red --add-host gw:host-gateway "$BUSYBOX" cat /etc/hosts
	assert_success
	assert_line --regexp "^10\.88\.[0-9]+\.2	[0-9a-f]{12}$"
	assert_line --regexp "^10\.88\.[0-9]+\.1	gw$"
}

@test "containers on red and blue cannot reach each other" {
	serve red
	red=$ADDR
	run in_ns "$LAUNCHER" --net blue "$BUSYBOX" sh -c "ip -4 addr show eth0 | grep -o 'inet [0-9.]*'; ping -c1 -W1 $red"
	assert_failure 1
	assert_output --partial "0 packets received"
	# blue got a subnet of its own
	refute_line --partial "inet ${red%.*}."
	run in_ns "$LAUNCHER" --net red "$BUSYBOX" ping -c1 -W1 "$red"
	assert_success
	kill $PID
}

@test "--netns joins a named namespace; --net host shares the launcher's" {
	ip netns add "$NS-joined"
	ip -n "$NS-joined" link add marker0 type veth peer name marker0p
	run "$LAUNCHER" --netns "$NS-joined" "$BUSYBOX" ls /sys/class/net
	assert_success
	assert_output "$(printf 'lo\nmarker0\nmarker0p')"
	run "$LAUNCHER" --netns "/run/netns/$NS-joined" "$BUSYBOX" ls /sys/class/net/marker0
	assert_success
	in_ns ip link add marker1 type veth peer name marker1p
	run in_ns "$LAUNCHER" --net host "$BUSYBOX" ls /sys/class/net
	assert_success
	assert_line marker1
	run "$LAUNCHER" --netns no-such-ns "$BUSYBOX" true
	assert_failure 125
	assert_output "launcher: open network namespace /run/netns/no-such-ns: No such file or directory"
}

@test "after the containers exit no veth and no lease is left; --net-rm removes an unused network" {
	serve red
	run in_ns "$LAUNCHER" --net-rm red
	assert_failure 125
	assert_output "launcher: network red is in use by 1 container"
	kill $PID
	wait $PID || true
	run in_ns "$LAUNCHER" --net red "$BUSYBOX" true
	assert_success
	no_veth_left
	run ls "$LAUNCHER_RUN/net/red"
	assert_output "$(printf 'bridge\nhosts\nlock\nsubnet')"
	run in_ns "$LAUNCHER" --net-rm red
	assert_success
	run in_ns ip link show red
	assert_failure
	[ ! -e "$LAUNCHER_RUN/net/red" ]
	run in_ns "$LAUNCHER" --net-rm red
	assert_failure 125
}

@test "--net refuses a link it did not make, a dummy or another tool's bridge, and leaves it as it was" {
	add_other_tools_links
	for name in foreign otherbr; do
		run in_ns "$LAUNCHER" --net $name "$BUSYBOX" true
		assert_failure 125
		assert_output "launcher: network $name: a link of that name exists and was not made by the launcher"
		[ ! -e "$LAUNCHER_RUN/net/$name" ]
	done
	# --subnet and --ip change nothing of that.
	run in_ns "$LAUNCHER" --net otherbr --subnet 10.66.9.0/24 --ip 10.66.9.9 "$BUSYBOX" true
	assert_failure 125
	assert_output "launcher: network otherbr: a link of that name exists and was not made by the launcher"
	[ "$(link_state foreign)" = "$FOREIGN" ]
	[ "$(link_state otherbr)" = "$OTHERBR" ]
	[ "$(link_state otherbr | tail -1)" = 1 ]
	[ ! -e "$LAUNCHER_RUN/net/otherbr" ]
	run in_ns ip -o link show type veth
	assert_output ""
}

@test "ten launchers refused at once on another tool's bridge leave no state behind" {
	add_other_tools_links
	pids=()
	for i in $(seq 10); do
		ip netns exec "$NS" "$LAUNCHER" --net otherbr "$BUSYBOX" true >"$BATS_TEST_TMPDIR/r$i" 2>&1 &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		status=0
		wait "$pid" || status=$?
		[ "$status" -eq 125 ]
	done
	for i in $(seq 10); do
		[ "$(cat "$BATS_TEST_TMPDIR/r$i")" = "launcher: network otherbr: a link of that name exists and was not made by the launcher" ] ||
			{ cat "$BATS_TEST_TMPDIR/r$i" >&2; false; }
	done
	[ ! -e "$LAUNCHER_RUN/net/otherbr" ]
	[ "$(link_state otherbr)" = "$OTHERBR" ]
}

@test "--net-rm refuses a link it did not make and leaves it, with or without a state directory" {
	add_other_tools_links
	for name in foreign otherbr; do
		run in_ns "$LAUNCHER" --net-rm $name
		assert_failure 125
		assert_output "launcher: network $name: a link of that name exists and was not made by the launcher"
		[ ! -e "$LAUNCHER_RUN/net/$name" ]
		# A state directory that records no subnet (its launcher was killed before it wrote
		# one, so it made no bridge) does not make the link the launcher's.
		mkdir -p "$LAUNCHER_RUN/net/$name"
		run in_ns "$LAUNCHER" --net-rm $name
		assert_failure 125
		assert_output "launcher: network $name: a link of that name exists and was not made by the launcher"
	done
	[ "$(link_state foreign)" = "$FOREIGN" ]
	[ "$(link_state otherbr)" = "$OTHERBR" ]
}

@test "a network whose bridge was deleted is made again from its recorded subnet" {
	run in_ns "$LAUNCHER" --net red --subnet 10.66.7.0/24 "$BUSYBOX" true
	assert_success
	in_ns ip link del red
	run in_ns "$LAUNCHER" --net red "$BUSYBOX" sh -c 'ip -4 addr show eth0 | grep -o "inet [0-9./]*"; ping -c1 -W2 10.66.7.1 | grep received'
	assert_success
	assert_output "$(printf 'inet 10.66.7.2/24\n1 packets transmitted, 1 packets received, 0%% packet loss')"
	no_veth_left
	run link_state red
	assert_output "$(printf "bridge ['BROADCAST', 'MULTICAST', 'NO-CARRIER', 'UP'] None [('10.66.7.1', 24)]\n1")"
	run in_ns "$LAUNCHER" --net-rm red
	assert_success
	[ ! -e "$LAUNCHER_RUN/net/red" ]
}

@test "a network whose bridge was replaced by another tool's bridge of the same name is refused, and that bridge left alone" {
	run in_ns "$LAUNCHER" --net red "$BUSYBOX" true
	assert_success
	[ "$(cut -d' ' -f1 "$LAUNCHER_RUN/net/red/bridge")" = "$(in_ns ip -o link show red | cut -d: -f1)" ]
	in_ns ip link del red
	in_ns ip link add red type bridge
	in_ns ip link set red up
	in_ns sysctl -qw net.ipv4.conf.red.forwarding=1
	before=$(link_state red)
	run in_ns "$LAUNCHER" --net red "$BUSYBOX" true
	assert_failure 125
	assert_output --regexp "^launcher: network red: the bridge of that name is not the one the launcher made \(index [0-9]+, not [0-9]+, or another network namespace\)$"
	run in_ns "$LAUNCHER" --net-rm red
	assert_failure 125
	assert_output --regexp "^launcher: network red: the bridge of that name is not the one the launcher made"
	[ "$(link_state red)" = "$before" ]
	no_veth_left
}

@test "a network whose bridge was replaced by another kind of link is refused, then removed once that link is gone" {
	run in_ns "$LAUNCHER" --net red "$BUSYBOX" true
	assert_success
	subnet=$(cat "$LAUNCHER_RUN/net/red/subnet")
	in_ns ip link del red
	add_foreign red
	in_ns ip link set red up
	before=$(link_state red)
	run in_ns "$LAUNCHER" --net red "$BUSYBOX" true
	assert_failure 125
	assert_output "launcher: network red: the link of that name is not the launcher's bridge (kind $KIND)"
	run in_ns "$LAUNCHER" --net-rm red
	assert_failure 125
	assert_output "launcher: network red: the link of that name is not the launcher's bridge (kind $KIND)"
	[ "$(link_state red)" = "$before" ]
	run ls "$LAUNCHER_RUN/net/red"
	assert_output "$(printf 'bridge\nhosts\nlock\nsubnet')"
	[ "$(cat "$LAUNCHER_RUN/net/red/subnet")" = "$subnet" ]
	# State without a link: --net-rm cleans it up.
	in_ns ip link del red
	run in_ns "$LAUNCHER" --net-rm red
	assert_success
	[ ! -e "$LAUNCHER_RUN/net/red" ]
}

@test "a bridge of the launcher's found down, as a launcher killed while making it leaves it, is finished" {
	run in_ns "$LAUNCHER" --net red --subnet 10.66.8.0/24 "$BUSYBOX" true
	assert_success
	# What a launcher killed right after creating the bridge leaves: down, no gateway
	# address, forwarding as the namespace's default (off here, on once finished: the
	# network routes to the world, its table keeps it apart from other networks).
	in_ns ip link set red down
	in_ns ip addr flush dev red
	in_ns sysctl -qw net.ipv4.conf.red.forwarding=0
	run in_ns "$LAUNCHER" --net red "$BUSYBOX" sh -c 'ping -c1 -W2 10.66.8.1 | grep received'
	assert_success
	assert_output "1 packets transmitted, 1 packets received, 0% packet loss"
	no_veth_left
	run link_state red
	assert_output "$(printf "bridge ['BROADCAST', 'MULTICAST', 'NO-CARRIER', 'UP'] None [('10.66.8.1', 24)]\n1")"
}

@test "a launcher killed with SIGKILL leaves a lease that the next start reclaims" {
	serve red --subnet 10.77.0.0/30
	[ "$ADDR" = 10.77.0.2 ]
	# The lease names its launcher's pid, then the container's names (its host name).
	[ "$(head -1 "$LAUNCHER_RUN/net/red/10.77.0.2")" = "$PID" ]
	[[ "$(sed -n 2p "$LAUNCHER_RUN/net/red/10.77.0.2")" =~ ^[0-9a-f]{12}$ ]]
	# The only container address of a /30 is taken: a second start fails, and cleanly.
	run in_ns "$LAUNCHER" --net red "$BUSYBOX" true
	assert_failure 125
	assert_output "launcher: network red is full: every address of its subnet is leased"
	kill -KILL $PID
	wait $PID || true
	[ -e "$LAUNCHER_RUN/net/red/10.77.0.2" ]
	run in_ns "$LAUNCHER" --net red "$BUSYBOX" sh -c 'ip -4 addr show eth0 | grep -o "inet [0-9.]*"'
	assert_success
	assert_output "inet 10.77.0.2"
	[ ! -e "$LAUNCHER_RUN/net/red/10.77.0.2" ]
}

@test "--ip asks for a fixed address; --subnet picks the network's; bad values fail with 125" {
	run in_ns "$LAUNCHER" --net red --subnet 10.66.5.0/24 --ip 10.66.5.77 "$BUSYBOX" sh -c 'ip -4 addr show eth0 | grep -o "inet [0-9./]*"'
	assert_success
	assert_output "inet 10.66.5.77/24"
	run in_ns "$LAUNCHER" --net red --subnet 10.66.6.0/24 "$BUSYBOX" true
	assert_failure 125
	assert_output --partial "network red exists with another subnet"
	run in_ns "$LAUNCHER" --net red --ip 10.1.1.1 "$BUSYBOX" true
	assert_failure 125
	assert_output "launcher: --ip 10.1.1.1 is not a container address of network red"
	run in_ns "$LAUNCHER" --net this-name-is-too-long "$BUSYBOX" true
	assert_failure 125
	run in_ns "$LAUNCHER" --ip 10.66.5.9 "$BUSYBOX" true
	assert_failure 125
	assert_output "launcher: --ip needs --net NAME (a bridge network)"
	run in_ns "$LAUNCHER" --net blue --subnet 10.0.0.0/33 "$BUSYBOX" true
	assert_failure 125
	no_veth_left
}

@test "a free /24 is chosen that no route of the namespace uses" {
	in_ns ip link add used0 type veth peer name used0p
	in_ns ip addr add 10.88.0.1/24 dev used0
	in_ns ip link set used0 up
	in_ns ip link set used0p up
	run in_ns "$LAUNCHER" --net red "$BUSYBOX" sh -c 'ip -4 addr show eth0 | grep -o "inet [0-9./]*"'
	assert_success
	assert_output "inet 10.88.1.2/24"
	# podman's 10.88.0.0/16 (and docker's 172.17.0.0/16) in use: docker's next pool.
	in_ns ip link add podman0 type bridge
	in_ns ip addr add 10.88.0.1/16 dev podman0
	in_ns ip link add docker0 type bridge
	in_ns ip addr add 172.17.0.1/16 dev docker0
	in_ns ip link set podman0 up
	in_ns ip link set docker0 up
	run in_ns "$LAUNCHER" --net blue "$BUSYBOX" sh -c 'ip -4 addr show eth0 | grep -o "inet [0-9./]*"'
	assert_success
	assert_output "inet 172.18.0.2/24"
}

@test "20 containers started at once on one network all get distinct addresses" {
	# All 20 hold their lease at the same time: each waits until the test has every address.
	for i in $(seq 20); do
		nsenter --net=/run/netns/"$NS" "$LAUNCHER" --net red "$BUSYBOX" sh -c 'ip -4 addr show eth0 | grep -o "inet [0-9.]*"; sleep 30' \
			>"$BATS_TEST_TMPDIR/c$i" 2>&1 &
	done
	for i in $(seq 20); do wait_for "$BATS_TEST_TMPDIR/c$i" inet; done
	cat "$BATS_TEST_TMPDIR"/c[0-9]* >"$BATS_TEST_TMPDIR/all"
	[ "$(grep -c '^inet 10\.88\.' "$BATS_TEST_TMPDIR/all")" -eq 20 ]
	[ "$(sort -u "$BATS_TEST_TMPDIR/all" | wc -l)" -eq 20 ]
	[ "$(ls "$LAUNCHER_RUN/net/red" | grep -c '^10\.88\.')" -eq 20 ]
	pkill -TERM -x launcher
	wait
	no_veth_left
	run ls "$LAUNCHER_RUN/net/red"
	assert_output "$(printf 'bridge\nhosts\nlock\nsubnet')"
}

@test "network prune and system prune remove the networks no container uses and keep those in use" {
	in_ns "$LAUNCHER" network create idle
	serve busy
	run -0 in_ns "$LAUNCHER" network prune
	assert_output idle
	run -1 in_ns ip link show idle
	run -0 in_ns "$LAUNCHER" network ls
	assert_line --regexp '^busy +10\.88\.[0-9]+\.0/24 +1$'
	refute_output --partial idle
	kill $PID
	wait $PID || true
	run -0 in_ns "$LAUNCHER" system prune -f
	assert_output --partial "$(printf 'Deleted Networks:\nbusy')"
	run -1 in_ns ip link show busy
	run -0 in_ns "$LAUNCHER" network ls
	refute_output --partial busy
	run -125 in_ns "$LAUNCHER" network prune extra
	assert_output --partial 'usage: launcher network'
}
