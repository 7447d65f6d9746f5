# Shared by the bats files: paths, and the after-every-test check that the host holds
# nothing of a container (no mount, no process, no cgroup).
bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
LAUNCHER=$ROOT/launcher
HELLO=$ROOT/images/hello.tar
BUSYBOX=$ROOT/images/busybox.tar
BENCH=$ROOT/images/bench.tar

host_state() {
	# Mount points and every mount's source; the launcher's live processes by name (a
	# container's PID 1 whose launcher was SIGKILLed stays a zombie until the host's
	# init reaps it, which holds nothing but a pid).
	cut -d' ' -f5,9,10 /proc/self/mountinfo | sort
	echo "processes: $(ps -o stat= -C launcher | grep -vc '^Z')"
	# Every container's cgroup (its device policy), v2, hybrid or v1.
	ls -d /sys/fs/cgroup/launcher-* /sys/fs/cgroup/*/launcher-* 2>/dev/null || true
}

common_setup() {
	cd "$ROOT"
	# Each test starts from an empty layer cache of its own.
	export LAUNCHER_ROOT=$BATS_TEST_TMPDIR/cache
	# and a state root of its own: the records of its containers (ps, logs, rm)
	export LAUNCHER_STATE=$BATS_TEST_TMPDIR/records
	host_state >"$BATS_TEST_TMPDIR/host.before"
}

common_teardown() {
	# No layer is left half unpacked or half removed, whatever the test did.
	for left in partial removing; do
		! compgen -G "$LAUNCHER_ROOT/layers/*.$left" >/dev/null || { ls "$LAUNCHER_ROOT/layers" >&2; return 1; }
	done
	# A killed launcher's namespaces die with it; give the kernel a moment to reap them.
	for _ in $(seq 30); do
		host_state >"$BATS_TEST_TMPDIR/host.after"
		cmp -s "$BATS_TEST_TMPDIR/host.before" "$BATS_TEST_TMPDIR/host.after" && return 0
		sleep 0.1
	done
	diff "$BATS_TEST_TMPDIR/host.before" "$BATS_TEST_TMPDIR/host.after" >&2
	return 1
}

# Waits until FILE contains TEXT (a container said it is ready), at most 10 s.
wait_for() {
	for _ in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "timed out waiting for '$2' in $1, which says:" >&2
	cat "$1" >&2
	return 1
}

image_id() {
	tar -xOf "$1" manifest.json | sed 's/.*"Config":"\([0-9a-f]*\)\.json".*/\1/'
}

# hostile_image NAME: busybox.tar with its second layer replaced by $BATS_TEST_TMPDIR/layer.tar,
# its digests made consistent again, so that only the layer's content is hostile.
hostile_image() {
	dir=$BATS_TEST_TMPDIR/img-$1
	mkdir "$dir"
	tar -xf "$BUSYBOX" -C "$dir"
	layer2=$(tar -xOf "$BUSYBOX" manifest.json | sed 's/.*"Layers":\["[^"]*","\([^"]*\)".*/\1/')
	cp "$BATS_TEST_TMPDIR/layer.tar" "$dir/$layer2"
	python3 tests/fixtures.py redigest "$dir"
	tar -C "$dir" -cf "$BATS_TEST_TMPDIR/$1.tar" .
}

# escape_images: $BATS_TEST_TMPDIR/dotdot.tar, whose layer 2 climbs out with
# ../../../../var/tmp/launcher-escape, and symlink.tar, whose layer 2 is "evil -> /" and then
# evil/var/tmp/launcher-pwned written through it. Sentinels in /var/tmp (the container's own
# /tmp is a tmpfs, where an escape would hide), removed first.
escape_images() {
	rm -f /var/tmp/launcher-escape /var/tmp/launcher-pwned
	local src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src/var/tmp"
	echo escaped >"$src/x"
	tar -P -C "$src" -cf "$BATS_TEST_TMPDIR/layer.tar" --transform 's,^x,../../../../var/tmp/launcher-escape,' x
	hostile_image dotdot
	ln -s / "$src/evil"
	echo pwned >"$src/var/tmp/launcher-pwned"
	tar -C "$src" -cf "$BATS_TEST_TMPDIR/layer.tar" evil
	tar -C "$src" -rf "$BATS_TEST_TMPDIR/layer.tar" --transform 's,^var,evil/var,' var/tmp/launcher-pwned
	hostile_image symlink
}

# config_image NAME FIELDS: busybox.tar with `"WorkingDir":"/data"` in its config replaced by
# FIELDS (e.g. '"WorkingDir":"/data","User":"user"'), its digests made consistent again.
config_image() {
	dir=$BATS_TEST_TMPDIR/img-$1
	mkdir "$dir"
	tar -xf "$BUSYBOX" -C "$dir"
	sed -i "s|\"WorkingDir\":\"/data\"|$2|" "$dir"/*.json
	python3 tests/fixtures.py redigest "$dir"
	tar -C "$dir" -cf "$BATS_TEST_TMPDIR/$1.tar" .
}

# nobody_copies: the launcher and busybox.tar copied, as $NOBODY, into a directory anyone may
# enter (the caller's own tree may not be); as_nobody runs a command as user 65534.
nobody_copies() {
	NOBODY=$(mktemp -d)
	chmod 755 "$NOBODY"
	cp "$LAUNCHER" "$BUSYBOX" "$NOBODY/"
	chmod 644 "$NOBODY/busybox.tar"
}

as_nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }
