#!/usr/bin/env bats
# Networks that reach the world: masquerade out, published ports in, resolv.conf, names.
# Every test runs in network namespaces it makes: $NS stands for the host, $UP for the world
# beyond it (tests/upstream.py: a web server whose page names its client's address, and a
# DNS responder), joined by a veth. No traffic leaves those namespaces, and the nf_tables
# rules the launcher makes live in $NS's netns, never the real host's.

load helpers

HOST_ADDR=198.18.0.1
UP_ADDR=198.18.0.2

setup() {
	common_setup
	NS=lnat-$BATS_TEST_NUMBER-$$
	UP=$NS-up
	ip netns add "$NS"
	ip netns add "$UP"
	ip -n "$NS" link add uplink type veth peer name eth0 netns "$UP"
	ip -n "$NS" addr add "$HOST_ADDR/24" dev uplink
	ip -n "$UP" addr add "$UP_ADDR/24" dev eth0
	for ns in "$NS" "$UP"; do ip -n "$ns" link set lo up; done
	ip -n "$NS" link set uplink up
	ip -n "$UP" link set eth0 up
	export LAUNCHER_RUN=$BATS_TEST_TMPDIR/run
	nsenter --net=/run/netns/"$UP" python3 tests/upstream.py "$UP_ADDR" upstream.test="$UP_ADDR" \
		</dev/null >"$BATS_TEST_TMPDIR/upstream.log" 2>&1 &
	UP_PID=$!
	wait_for "$BATS_TEST_TMPDIR/upstream.log" ready
}

teardown() {
	kill "$UP_PID" 2>/dev/null || true
	for pid in ${KEEP_PIDS:-}; do kill -KILL "$pid" 2>/dev/null || true; done
	ip netns del "$UP" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	common_teardown
}

# nsenter, not ip netns exec: that remounts /sys, which hides the cgroup file systems a
# container's device policy needs.
in_ns() { nsenter --net=/run/netns/"$NS" "$@"; }
in_up() { nsenter --net=/run/netns/"$UP" "$@"; }

# The launcher's nf_tables rules in the test's host namespace (tables launcher-*).
launcher_rules() { in_ns nft list ruleset | sed -n '/^table ip launcher-/,/^}/p'; }

@test "a container on red fetches a page from upstream through the masquerade: upstream sees the host's address" {
	run in_ns "$LAUNCHER" --net red "$BUSYBOX" wget -qO- "http://$UP_ADDR/"
	assert_success
	assert_output "upstream page for $HOST_ADDR"
	# The network's table: masquerade, isolation, in a table of the launcher's own.
	run launcher_rules
	assert_line --partial "ip saddr 10.88.0.0/24 ip daddr != 10.88.0.0/24 masquerade"
	assert_line --partial 'oifname "red" iifname != "red"'
	in_ns "$LAUNCHER" --net-rm red
	run launcher_rules
	assert_output ""
}

# Runs the rest with $BATS_TEST_TMPDIR/resolv.conf as the host's /etc/resolv.conf (a mount
# namespace of its own, so the real host's file is never touched).
with_resolv() { in_ns unshare -m --propagation private sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$BATS_TEST_TMPDIR/resolv.conf" "$@"; }

@test "/etc/resolv.conf is the host's with its loopback resolvers dropped; names resolve through upstream" {
	printf 'nameserver 127.0.0.53\nnameserver %s\nsearch example.test\noptions edns0\n' "$UP_ADDR" >"$BATS_TEST_TMPDIR/resolv.conf"
	run with_resolv "$LAUNCHER" --net red "$BUSYBOX" sh -c 'cat /etc/resolv.conf; wget -qO- http://upstream.test/'
	assert_success
	assert_output "$(printf 'nameserver %s\nsearch example.test\noptions edns0\nupstream page for %s' "$UP_ADDR" "$HOST_ADDR")"
	# --net host shares the host's resolvers, loopback ones included; --net none drops them too.
	run with_resolv "$LAUNCHER" --net host "$BUSYBOX" cat /etc/resolv.conf
	assert_success
	assert_output "$(cat "$BATS_TEST_TMPDIR/resolv.conf")"
	run with_resolv "$LAUNCHER" "$BUSYBOX" cat /etc/resolv.conf
	assert_output "$(printf 'nameserver %s\nsearch example.test\noptions edns0' "$UP_ADDR")"
	# Only loopback resolvers: docker's defaults stand in.
	printf 'nameserver 127.0.0.53\n' >"$BATS_TEST_TMPDIR/resolv.conf"
	run with_resolv "$LAUNCHER" --net red "$BUSYBOX" cat /etc/resolv.conf
	assert_output "$(printf 'nameserver 8.8.8.8\nnameserver 8.8.4.4')"
}

@test "--dns, --dns-search and --dns-option replace the host's lines; a bad --dns fails with 125" {
	printf 'nameserver 192.0.2.53\nsearch example.test\noptions edns0\n# kept\n' >"$BATS_TEST_TMPDIR/resolv.conf"
	run with_resolv "$LAUNCHER" --net red --dns "$UP_ADDR" --dns-search a.test --dns-search b.test --dns-option ndots:2 \
		"$BUSYBOX" sh -c 'cat /etc/resolv.conf; wget -qO- http://upstream.test/'
	assert_success
	assert_output "$(printf '# kept\nnameserver %s\nsearch a.test b.test\noptions ndots:2\nupstream page for %s' "$UP_ADDR" "$HOST_ADDR")"
	run in_ns "$LAUNCHER" --dns not-an-address "$BUSYBOX" true
	assert_failure 125
	assert_output "launcher: bad --dns not-an-address: expected an IP address"
}

@test "an image's /etc/resolv.conf and /etc/hosts symlinks are replaced, never followed" {
	mkdir -p "$BATS_TEST_TMPDIR/layer/etc"
	ln -s passwd "$BATS_TEST_TMPDIR/layer/etc/resolv.conf"
	ln -s ../../../etc/shadow "$BATS_TEST_TMPDIR/layer/etc/hosts"
	tar -C "$BATS_TEST_TMPDIR/layer" -cf "$BATS_TEST_TMPDIR/layer.tar" etc
	hostile_image links
	run in_ns "$LAUNCHER" --dns "$UP_ADDR" "$BATS_TEST_TMPDIR/links.tar" sh -c 'cat /etc/resolv.conf; head -1 /etc/passwd; ls -l /etc/hosts | cut -c1'
	assert_success
	assert_output "$(printf 'nameserver %s\nroot:x:0:0:root:/root:/bin/sh\n-' "$UP_ADDR")"
}

# Starts a container "web" on --net red with the flags given, serving "page of web" on its
# port 80 with busybox httpd; sets WEB (the launcher's pid) and WEB_OUT.
start_web() {
	WEB_OUT=$BATS_TEST_TMPDIR/web-$RANDOM
	nsenter --net=/run/netns/"$NS" "$LAUNCHER" --net red "$@" "$BUSYBOX" sh -c \
		'mkdir /www && echo "page of web" >/www/index.html && httpd -p 80 -h /www && echo serving && exec sleep 30' \
		</dev/null >"$WEB_OUT" 2>&1 &
	WEB=$!
	KEEP_PIDS="${KEEP_PIDS:-} $WEB"
	wait_for "$WEB_OUT" serving
}

# The published ports' tables (launcher-red-ADDR), not the network's own.
port_tables() { in_ns nft list tables | grep -E '^table ip launcher-[a-z]+-[0-9.]+$' || true; }

@test "-p 8080:80 is reached from 127.0.0.1, the host's address, upstream, and a peer through the host port" {
	start_web -p 8080:80
	run in_ns busybox wget -qO- http://127.0.0.1:8080/
	assert_success
	assert_output "page of web"
	run in_ns busybox wget -qO- "http://$HOST_ADDR:8080/"
	assert_output "page of web"
	run in_up busybox wget -qO- "http://$HOST_ADDR:8080/"
	assert_output "page of web"
	run in_ns "$LAUNCHER" --net red "$BUSYBOX" sh -c "wget -qO- http://$HOST_ADDR:8080/ && wget -qO- http://10.88.0.1:8080/"
	assert_success
	assert_output "$(printf 'page of web\npage of web')"
	# The port's rules: DNAT in a table of the container's own.
	run port_tables
	assert_output "table ip launcher-red-10.88.0.2"
	run in_ns nft list table ip launcher-red-10.88.0.2
	assert_line --partial "fib daddr type local tcp dport 8080 dnat to 10.88.0.2:80"
	kill "$WEB"
	wait "$WEB" || true
	run port_tables
	assert_output ""
	run in_ns busybox wget -T2 -qO- http://127.0.0.1:8080/
	assert_failure
}

@test "two containers cannot publish one host port; a SIGKILLed launcher's port and rules are reclaimed" {
	start_web -p 8080:80 -p 127.0.0.1:5353:53/udp
	run in_ns "$LAUNCHER" --net red -p 9000-9001:7000-7001 -p 8080:81 "$BUSYBOX" true
	assert_failure 125
	assert_output "launcher: host port 8080/tcp is already published by another container"
	run port_tables
	assert_output "table ip launcher-red-10.88.0.2"
	# A port a process of the host listens on is refused too: a DNAT rule would hide it.
	# nsenter execs in place, so $! is the listener itself; fd 3 closed, or bats waits on it.
	nsenter --net=/run/netns/"$NS" busybox nc -l -p 8090 </dev/null >/dev/null 2>&1 3>&- &
	KEEP_PIDS="$KEEP_PIDS $!"
	for _ in $(seq 50); do in_ns ss -ltn | grep -q ':8090 ' && break; sleep 0.1; done
	run in_ns "$LAUNCHER" --net red -p 8090:80 "$BUSYBOX" true
	assert_failure 125
	assert_output "launcher: host port 8090/tcp is in use by a process of the host"
	run ls "$LAUNCHER_RUN/ports"
	assert_output "$(printf 'tcp-8080\nudp-5353')"
	run in_ns nft list table ip launcher-red-10.88.0.2
	assert_line --partial "ip daddr 127.0.0.1 udp dport 5353 dnat to 10.88.0.2:53"
	kill -KILL "$WEB"
	wait "$WEB" || true
	run port_tables
	assert_output ""
	start_web -p 8080:80
	run in_ns busybox wget -qO- http://127.0.0.1:8080/
	assert_output "page of web"
	kill "$WEB"
	wait "$WEB" || true
	run port_tables
	assert_output ""
}

@test "bad --publish values fail with 125 and leave nothing; -p needs a bridge network" {
	for bad in 8080 :80x 8080:0 8080:65536 8080-8081:80 1.2.3:8080:80 8080:80/sctp 9-8:1-2; do
		[ "$bad" = 8080 ] && continue # CTR alone is docker's: a free host port
		run in_ns "$LAUNCHER" --net red -p "$bad" "$BUSYBOX" true
		assert_failure 125
		assert_output --partial "launcher: bad --publish $bad: expected"
	done
	run in_ns "$LAUNCHER" -p 8080:80 "$BUSYBOX" true
	assert_failure 125
	assert_output "launcher: --publish needs --net NAME (a bridge network)"
	run port_tables
	assert_output ""
}

@test "no ip, nft, iptables or other helper is ever executed: only the launcher and the container's command" {
	run in_ns strace -f -qq -e trace=execve,execveat -o "$BATS_TEST_TMPDIR/trace" \
		"$LAUNCHER" --net red -p 8080:80 --dns "$UP_ADDR" "$BUSYBOX" wget -qO- "http://$UP_ADDR/"
	assert_success
	assert_output "upstream page for $HOST_ADDR"
	in_ns "$LAUNCHER" --net-rm red
	# Each executed path: the launcher itself, its sealed copy (execveat of a memfd), and
	# the container's command.
	# the container's command. Nothing else.
	run sh -c "grep -o 'exec[a-z]*([^,]*,' '$BATS_TEST_TMPDIR/trace' | sort -u"
	cat "$BATS_TEST_TMPDIR/trace" >&2
	assert_line "execve(\"$LAUNCHER\","
	assert_line 'execve("/bin/wget",'
	run sh -c "grep -o 'exec[a-z]*([^,]*,' '$BATS_TEST_TMPDIR/trace' | sort -u | grep -Ev '^execve\(\"($LAUNCHER|/bin/wget)\",$|^execveat\([0-9]+,$'"
	assert_output ""
}

@test "red and blue stay apart with NAT on; upstream cannot reach a container but through a published port" {
	start_web
	run in_ns "$LAUNCHER" --net blue "$BUSYBOX" sh -c 'wget -T2 -qO- http://10.88.0.2/; ping -c1 -W1 10.88.0.2'
	assert_failure
	assert_output --partial "0 packets received"
	in_up ip route add 10.88.0.0/16 via "$HOST_ADDR"
	run in_up busybox wget -T2 -qO- http://10.88.0.2/
	assert_failure
	run in_ns "$LAUNCHER" --net red "$BUSYBOX" wget -qO- http://10.88.0.2/
	assert_success
	assert_output "page of web"
	kill "$WEB"
	wait "$WEB" || true
}

@test "peers resolve a container by --name and --network-alias; it disappears when it ends or its launcher is SIGKILLed" {
	start_web --name web --network-alias www
	run in_ns "$LAUNCHER" --net red "$BUSYBOX" sh -c 'wget -qO- http://web/ && wget -qO- http://www/ && grep -c "	[0-9a-f]* web www$" /etc/hosts && echo x >>/etc/hosts'
	assert_failure
	assert_output --partial "$(printf 'page of web\npage of web\n1\n')"
	assert_output --partial "Read-only file system"
	kill "$WEB"
	wait "$WEB" || true
	run in_ns "$LAUNCHER" --net red "$BUSYBOX" sh -c 'grep -c web /etc/hosts; wget -T2 -qO- http://web/'
	assert_failure
	assert_line 0
	# (A name stays taken by its container's record until rm, as docker's: another name.)
	start_web --name web2
	kill -KILL "$WEB"
	wait "$WEB" || true
	run in_ns "$LAUNCHER" --net red "$BUSYBOX" sh -c 'grep -c web2 /etc/hosts; wget -T2 -qO- http://web2/'
	assert_failure
	assert_line 0
	# --network-alias needs a bridge network.
	run in_ns "$LAUNCHER" --network-alias www "$BUSYBOX" true
	assert_failure 125
	assert_output "launcher: --network-alias needs --net NAME (a bridge network)"
}

@test "-P publishes every port of the image's ExposedPorts on a free host port" {
	config_image exposed '"WorkingDir":"/data","ExposedPorts":{"80/tcp":{},"53/udp":{}}'
	BUSYBOX=$BATS_TEST_TMPDIR/exposed.tar start_web -P
	run ls "$LAUNCHER_RUN/ports"
	assert_output "$(printf 'tcp-49153\nudp-49153')"
	run in_ns busybox wget -qO- http://127.0.0.1:49153/
	assert_success
	assert_output "page of web"
	run in_ns nft list table ip launcher-red-10.88.0.2
	assert_line --partial "udp dport 49153 dnat to 10.88.0.2:53"
	kill "$WEB"
	wait "$WEB" || true
	run in_ns "$LAUNCHER" -P "$BUSYBOX" true
	assert_failure 125
	assert_output "launcher: --publish-all needs --net NAME (a bridge network)"
	# An exposed port that is no port: refused before anything is made.
	config_image badport '"WorkingDir":"/data","ExposedPorts":{"http/tcp":{}}'
	run in_ns "$LAUNCHER" --net red -P "$BATS_TEST_TMPDIR/badport.tar" true
	assert_failure 125
	assert_output "launcher: -P: the image's ExposedPorts holds http/tcp, not PORT[/tcp|/udp] (or more than 256 ports)"
	run port_tables
	assert_output ""
	run ls "$LAUNCHER_RUN/ports"
	assert_output ""
}

@test "launcher network ls, create, inspect and rm, as docker's verbs" {
	run in_ns "$LAUNCHER" network create --subnet 10.99.0.0/24 blue
	assert_success
	assert_output blue
	run in_ns "$LAUNCHER" network create blue
	assert_failure 125
	assert_output "launcher: network blue already exists"
	start_web --name web --network-alias www
	run in_ns "$LAUNCHER" network ls
	assert_success
	assert_output "$(printf '%-16s %-18s %s\n%-16s %-18s %s\n%-16s %-18s %s' NAME SUBNET CONTAINERS blue 10.99.0.0/24 0 red 10.88.0.0/24 1)"
	run in_ns "$LAUNCHER" network inspect red
	assert_success
	echo "$output" | python3 -c '
import json, sys
n = json.load(sys.stdin)[0]
assert n["Name"] == "red" and n["IPAM"]["Config"][0] == {"Subnet": "10.88.0.0/24", "Gateway": "10.88.0.1"}, n
c = n["Containers"]["10.88.0.2"]
assert c["IPv4Address"] == "10.88.0.2/24" and c["Names"][1:] == ["web", "www"], c'
	run in_ns "$LAUNCHER" network rm red
	assert_failure 125
	assert_output "launcher: network red is in use by 1 container"
	kill "$WEB"
	wait "$WEB" || true
	run in_ns "$LAUNCHER" network rm red blue
	assert_success
	run in_ns "$LAUNCHER" network ls
	assert_output "$(printf '%-16s %-18s %s' NAME SUBNET CONTAINERS)"
	run launcher_rules
	assert_output ""
	run in_ns "$LAUNCHER" network inspect red
	assert_failure 125
	assert_output "launcher: network red not found"
	run in_ns "$LAUNCHER" network frob
	assert_failure 125
	assert_output --partial "launcher: usage: launcher network ls"
	run in_ns "$LAUNCHER" --net red --name 'bad name' "$BUSYBOX" true
	assert_failure 125
	assert_output --partial "launcher: bad --name bad name: "
	run in_ns "$LAUNCHER" --net red --network-alias $'a\nb' "$BUSYBOX" true
	assert_failure 125
	assert_output --partial "launcher: bad --network-alias a"
	run in_ns "$LAUNCHER" network create 'no/such'
	assert_failure 125
	assert_output "launcher: bad network name no/such: a network name has 1 to 15 letters, digits, '-', '_' or '.'"
}

@test "run -d --name web --net red -p 8080:80: reached from the host and by name; stop takes its rules and name" {
	run in_ns "$LAUNCHER" run -d --name web --net red -p 8080:80 "$BUSYBOX" httpd -f -p 80 -h /etc </dev/null
	assert_success
	for _ in $(seq 50); do in_ns busybox wget -T1 -qO- http://127.0.0.1:8080/hostname >/dev/null 2>&1 && break; sleep 0.1; done
	host=$(in_ns busybox wget -qO- http://127.0.0.1:8080/hostname)
	run in_ns "$LAUNCHER" run --rm --net red "$BUSYBOX" wget -qO- http://web/hostname
	assert_success
	assert_output "$host"
	run port_tables
	assert_output "table ip launcher-red-10.88.0.2"
	run in_ns "$LAUNCHER" stop web
	assert_success
	run port_tables
	assert_output ""
	run in_ns "$LAUNCHER" run --rm --net red "$BUSYBOX" grep -c web /etc/hosts
	assert_output 0
	in_ns "$LAUNCHER" rm web
}
