#!/usr/bin/env bats
# The shell demos retell the classic tour of a container; each one's output is checked.

load helpers

setup() { common_setup; }
teardown() { common_teardown; }

@test "demos/uts.sh: the container's host name is its own" {
	run demos/uts.sh
	assert_success
	host=$(hostname)
	assert_line "host name on the host:               $host"
	assert_line "host name in a container (image id): $(image_id "$BUSYBOX" | cut -c1-12)"
	assert_line "host name with --hostname bananaman: bananaman"
	assert_line "a container may not rename itself:   hostname: sethostname: Operation not permitted"
	assert_line "unless given CAP_SYS_ADMIN:           renamed"
	assert_line "host name on the host, still:        $host"
	# The two namespace ids differ.
	line=$(echo "$output" | grep "UTS namespaces differ")
	[ "$(echo "$line" | grep -o 'uts:\[[0-9]*\]' | sort -u | wc -l)" -eq 2 ]
}

@test "demos/pid.sh: PID 1 is the launcher and /proc shows only the container" {
	run demos/pid.sh
	assert_success
	assert_line "the shell's PID inside:   2"
	assert_line "PID 1 inside is:             launcher"
	inside=$(echo "$output" | sed -n 's/^processes inside (\/proc): *//p')
	host=$(echo "$output" | sed -n 's/^processes on the host: *//p')
	[ "$inside" -le 5 ] && [ "$host" -gt "$inside" ]
	assert_line --regexp '^ +1 root +.*launcher'
}

@test "demos/mount.sh: writes land in upper, layers stack, the next run starts clean" {
	run demos/mount.sh
	assert_success
	assert_line "merged: play1 play3 "
	assert_line "upper:  play3 (writes land in upper)"
	assert_line "lower:  play1 (the lower layer is never written)"
	assert_line "overlay on /: lowerdir=l/1:l/0,upperdir=upper"
	assert_line --partial "whited it out: hardlink.txt hello.txt owned.txt symlink.txt "
	assert_line --partial "opaque:                          new.txt "
	assert_line --partial "a write inside:                                        /data/mine.txt"
	assert_line --partial "the next container starts clean:                       ls: /data/mine.txt: No such file or directory"
}

@test "demos/net.sh: a veth cable between two namespaces, then a bridge network" {
	run demos/net.sh
	assert_success
	assert_line "a container joins red (--netns) and sees:  lo veth-red "
	assert_line "it pings blue across the cable:            1 packets received"
	assert_line "deleting one end of the cable deletes both: 0 veth left in blue"
	assert_line --regexp "^first container: 10\.88\.[0-9]+\.2$"
	assert_line --regexp "^second container: 10\.88\.[0-9]+\.3, route: default via 10\.88\.[0-9]+\.1 dev eth0"
	assert_line "second pings first: 1 packets received"
	assert_line --regexp "^the bridge, seen from its namespace: +red 10\.88\.[0-9]+\.1/24$"
	assert_line "a container on another network, blue:     0 packets received from red"
	assert_line "after the containers exit:                 0 veth, 0 leases"
	assert_line "after --net-rm red blue:                   0 bridges"
	run ip netns list
	refute_output --partial ldemo
}
