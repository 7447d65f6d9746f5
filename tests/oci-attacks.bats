#!/usr/bin/env bats
# The OCI runtime mode attacked as runc's history says it was: a bundle or a container
# process that tries to reach the host through the runtime itself. Bundles and helpers are
# tests/oci.bash's.

load helpers
load oci

setup_file() { oci_setup_file; }
setup() { oci_setup; }
teardown() { oci_teardown; }

@test "runtime attacks: a cwd through a descriptor the runtime holds (CVE-2024-21626) never leaves the root" {
	for fd in 3 4 5 6 7 8 9 10; do
		make_bundle "$B" 'pwd; ls ..'
		oci_edit "$B" 'c["process"]["cwd"] = arg' "/proc/self/fd/$fd"
		run rt run --bundle "$B" "$ID"
		[ "$status" -ne 0 ] || { echo "fd $fd: ran with cwd $output" >&2; return 1; }
		refute_output --partial bin
		rm -rf "$B"
	done
	make_bundle "$B" 'exec sleep 100'
	oci_create "$ID"
	rt start "$ID"
	for fd in 3 4 5 6 7 8; do
		run rt exec --cwd "/proc/self/fd/$fd" "$ID" sh -c 'pwd; ls ..'
		[ "$status" -ne 0 ] || { echo "exec fd $fd: ran with cwd $output" >&2; return 1; }
	done
	rt delete --force "$ID"
}

@test "runtime attacks: the container's and an exec's processes hold stdio alone, nothing of the runtime's" {
	make_bundle "$B" 'ls /proc/self/fd; exec sleep 100'
	oci_create "$ID"
	rt start "$ID"
	wait_status "$ID" running
	run -0 rt exec "$ID" ls /proc/self/fd
	assert_output "$(printf '0\n1\n2\n3')" # 3: ls's own directory
	rt delete --force "$ID"
	assert_equal "$(head -4 "$BATS_TEST_TMPDIR/$ID.out")" "$(printf '0\n1\n2\n3')"
}

@test "runtime attacks: the waiting process and an exec's are the sealed copy, never the host binary (CVE-2019-5736)" {
	make_bundle "$B" 'exec sleep 100'
	oci_create "$ID" --pid-file "$BATS_TEST_TMPDIR/pid"
	run -0 readlink "/proc/$(cat "$BATS_TEST_TMPDIR/pid")/exe"
	assert_output --partial 'memfd:launcher'
	rt delete "$ID"
}

@test "runtime attacks: a bundle whose /dev is a symlink to / or ../.. mounts nothing outside its root" {
	for target in / ../.. /proc/self/root; do
		make_bundle "$B" 'echo ran'
		rm -rf "$B/rootfs/dev"
		ln -s "$target" "$B/rootfs/dev"
		run rt run --bundle "$B" "$ID" # the tmpfs /dev lands on the container's own root: sh is gone
		[ ! -e /null ] && [ ! -e /pts ] && [ ! -e /shm ] && [ ! -e /mqueue ]
		[ ! -e "$B/null" ]
		rt delete --force "$ID"
		rm -rf "$B"
	done
}

@test "runtime attacks: a mount destination through an image symlink (etc -> ../../..) stays inside the root" {
	make_bundle "$B" 'cat /evil/x/hostname; echo done'
	ln -s ../../../../.. "$B/rootfs/evil"
	echo from-bundle >"$BATS_TEST_TMPDIR/hostname"
	oci_edit "$B" 'c["mounts"].append({"destination": "/evil/x/hostname", "type": "bind", "source": arg, "options": ["bind", "ro"]})' \
		"$BATS_TEST_TMPDIR/hostname"
	run -0 rt run --bundle "$B" "$ID"
	assert_output "$(printf 'from-bundle\ndone')"
	[ ! -e /x/hostname ]
}

@test "runtime attacks: sysctls outside the container's namespaces and mounts into /proc are refused, and nothing is left" {
	panic=$(cat /proc/sys/kernel/panic)
	make_bundle "$B" 'echo ran'
	oci_edit "$B" 'c["linux"]["sysctl"] = {"kernel.panic": "7"}'
	run -1 rt run --bundle "$B" "$ID"
	assert_output --partial 'sysctl kernel.panic: not in a namespace of the container'
	make_bundle "$B" 'echo ran'
	oci_edit "$B" 'c["mounts"].append({"destination": "/proc/sys/kernel", "type": "tmpfs", "source": "tmpfs"})'
	run -1 rt run --bundle "$B" "$ID"
	assert_output --partial 'a mount inside /proc is refused'
	[ "$(cat /proc/sys/kernel/panic)" = "$panic" ]
}
