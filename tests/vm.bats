#!/usr/bin/env bats
# The launcher as a machine's /init: real VMs booted under qemu (software emulation,
# several seconds a boot). Each checks the console and that the VM powered itself off.

load helpers

setup_file() {
	export INITRAMFS=$BATS_FILE_TMPDIR/initramfs.cpio.gz
	"$ROOT/vm/mkinitramfs.sh" "$INITRAMFS"
}

setup() { common_setup; }
teardown() { common_teardown; }

# boot ARGS: boots, sets output to the console (control sequences and blank lines removed)
boot() {
	run "$ROOT/vm/boot.sh" "$INITRAMFS" "$@"
	output=$(printf '%s\n' "$output" | tr -d '\r' | sed 's/\x1bc//g; s/\x1b\[[0-9;?]*[a-zA-Z]//g; s/^Booting from ROM\.\.c\?//' | grep -v '^\s*$')
	mapfile -t lines <<<"$output"
	refute_output --partial "Kernel panic"
	assert_output --partial "reboot: Power down"
}

@test "vm: the hello image runs as /init's container and the VM powers off with status 0" {
	boot /images/hello.tar
	assert_success
	assert_output --partial "Hello from a container!"
	assert_line "launcher: exit status 0"
}

@test "vm: a container exiting 3 prints its status, and launcher.args are split as a shell would" {
	# The kernel's own parser ends launcher.args at the next double quote: single quotes
	# and backslashes carry the rest.
	boot "--hostname 'my vm' -e GREETING=with\\ space /images/busybox.tar sh -c 'hostname; echo \$GREETING; exit 3'"
	assert_success
	assert_line "my vm"
	assert_line "with space"
	assert_line "launcher: exit status 3"
}

@test "vm: a missing image prints one line and powers off, no kernel panic" {
	boot /images/missing.tar
	assert_success
	assert_line --partial "launcher: open image /images/missing.tar: No such file or directory"
}

@test "vm: pivot_root's initramfs fallback is taken and the container cannot see the initramfs" {
	boot "--verbose /images/busybox.tar sh -c 'ls /; ls /init /images 2>&1; true'"
	assert_line --partial "pivot_root refused (initramfs): moved the new root over / instead"
	assert_line --partial "loaded module kernel/fs/overlayfs/overlay.ko"
	assert_line "bin   data  dev   etc   home  opt   proc  root  sys   tmp"
	assert_line "ls: /init: No such file or directory"
	assert_line "ls: /images: No such file or directory"
}

@test "vm: two containers on --net red ping each other, modules loaded by the launcher" {
	# A container sees no cgroup file system of its own: the privileged one mounts cgroup2
	# for the launchers inside, whose containers need it for their device policy.
	boot "--privileged -v /init:/launcher:ro -v /images:/images -v /lib/modules:/lib/modules /images/busybox.tar sh -c 'mount -t cgroup2 none /sys/fs/cgroup; /launcher --verbose --net red /images/busybox.tar sleep 4 & sleep 2; /launcher --net red /images/busybox.tar ping -c1 -W2 10.88.0.2'"
	assert_success
	assert_line --partial "loaded module kernel/net/llc/llc.ko"
	assert_line --partial "loaded module kernel/net/bridge/bridge.ko"
	assert_line --partial "loaded module kernel/drivers/net/veth.ko"
	assert_line "1 packets transmitted, 1 packets received, 0% packet loss"
	assert_line "launcher: exit status 0"
}

@test "vm: without launcher.args, /etc/launcher.args from an appended archive" {
	# The kernel unpacks concatenated newc archives in order.
	dir=$BATS_TEST_TMPDIR/extra
	mkdir -p "$dir/etc"
	echo "/images/busybox.tar echo from-etc" >"$dir/etc/launcher.args"
	(cd "$dir" && find . | cpio -o -H newc --quiet | gzip -n) >"$BATS_TEST_TMPDIR/extra.cpio.gz"
	cat "$INITRAMFS" "$BATS_TEST_TMPDIR/extra.cpio.gz" >"$BATS_TEST_TMPDIR/both.cpio.gz"
	INITRAMFS=$BATS_TEST_TMPDIR/both.cpio.gz boot
	assert_line "from-etc"
	assert_line "launcher: exit status 0"
}

@test "vm: a kernel without overlayfs gets the copy storage automatically" {
	MODULES="veth bridge stp llc" "$ROOT/vm/mkinitramfs.sh" "$BATS_TEST_TMPDIR/no-overlay.cpio.gz"
	INITRAMFS=$BATS_TEST_TMPDIR/no-overlay.cpio.gz boot "--verbose /images/busybox.tar sh -c 'ls /opt/dir /data'"
	assert_line --partial "merged layer 2"
	refute_line --partial "mounted overlay"
	assert_line new.txt
	refute_line old.txt
	refute_line secret.txt
	assert_line "launcher: exit status 0"
}

@test "vm: an OCI archive with gzip layers runs as /init's container (no cache, inflated in the initramfs)" {
	dir=$BATS_TEST_TMPDIR/extra
	mkdir -p "$dir/images"
	python3 tests/fixtures.py oci "$BUSYBOX" "$dir/images/oci.tar" --gzip --nested
	(cd "$dir" && find . | cpio -o -H newc --quiet | gzip -n) >"$BATS_TEST_TMPDIR/extra.cpio.gz"
	cat "$INITRAMFS" "$BATS_TEST_TMPDIR/extra.cpio.gz" >"$BATS_TEST_TMPDIR/both.cpio.gz"
	INITRAMFS=$BATS_TEST_TMPDIR/both.cpio.gz boot "--verbose /images/oci.tar sh -c 'cat /data/hello.txt; ls /opt/dir'"
	assert_line --partial "read image /images/oci.tar docker.io/library/busybox:latest: 2 layers"
	assert_line --partial "unpacked layer 2"
	refute_line --partial "in the cache"
	assert_line "hello from layer 1"
	assert_line "new.txt"
	assert_line "launcher: exit status 0"
}

@test "vm: on a cgroup v2 only machine a device outside docker's list made with mknod cannot be opened" {
	# /dev/kmsg (1:11) and the serial console (4:64) exist in every such VM; /dev/null works.
	boot "--pids-limit 50 /images/busybox.tar sh -c 'cat /proc/self/cgroup
		mknod /tmp/kmsg c 1 11 && dd if=/dev/null of=/tmp/kmsg count=0
		mknod /tmp/ttyS0 c 4 64 && dd if=/tmp/ttyS0 of=/dev/null count=0
		echo x > /dev/null && echo null: ok'"
	assert_success
	assert_line "0::/launcher-1"
	assert_line "dd: can't open '/tmp/kmsg': Operation not permitted"
	assert_line "dd: can't open '/tmp/ttyS0': Operation not permitted"
	assert_line "null: ok"
	assert_line "launcher: exit status 0"
}
