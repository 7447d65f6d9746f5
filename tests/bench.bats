#!/usr/bin/env bats
# The benchmark harness runs every row (quick sizes) and writes its report. Times are
# read by people in BENCHMARKS.md, never asserted here.

load helpers

setup() { common_setup; }
teardown() { common_teardown; }

number='[0-9]+(\.[0-9]+)?'

@test "bench-quick runs every row and writes BENCHMARKS.md and the chart" {
	out=$BATS_TEST_TMPDIR/bench
	run bench/bench.sh quick "$out"
	assert_success
	run cat "$out/BENCHMARKS.md"
	for row in "bare binary (floor)" "start floor (bench/floor.c, netns)" "start floor (bench/floor.c, no netns)" "start floor (bench/floor.c, veth on bench)" "unshare + chroot" \
		"bwrap" "crun" "runc" "launcher --net none" "launcher --net host" "launcher --net bench" "launcher --net bench -p 18080:80" "launcher --no-cache"; do
		assert_line --regexp "^\| $(printf '%s' "$row" | sed 's/[][()+.]/\\&/g') \| $number \| $number \| $number \| $number \| $number \| $number \|$"
	done
	assert_line --regexp "^\| .--net none. against the floor with a network namespace \| $number \| $number \| $number \|$"
	assert_line --regexp "^\| .--net host. against the floor without one \| $number \| $number \| $number \|$"
	assert_line --regexp "^\| .--net bench. against the floor with its own veth on the bench bridge \| $number \| $number \| $number \|$"
	assert_line --regexp "^\| warm start of hello \(.--net none.\) within 1.3x of the start floor .* \| (met|\*\*missed\*\*) \|$"
	for row in "launcher, first start (plain layer into the cache)" "GNU tar -x (plain)" \
		"launcher --no-cache (plain layer into its tmpfs)" "launcher, second start (cached)" \
		"launcher, first start (gzip layer into the cache)" "gzip -dc piped to tar -x (gzip)" "umoci unpack (gzip)" \
		"launcher, first start (zstd layer into the cache)" "zstd -dc piped to tar -x (zstd)"; do
		assert_line --regexp "^\| $(printf '%s' "$row" | sed 's/[][()+.]/\\&/g') \| $number \| $number \| $number \|$"
	done
	for row in "launcher inflate (gzip.hpp)" "gzip -dc >/dev/null" "libdeflate-gunzip -c >/dev/null" "launcher zstd (zstd.hpp)" "zstd -dc >/dev/null"; do
		assert_line --regexp "^\| $(printf '%s' "$row" | sed 's/[][()+.]/\\&/g') \| $number \| $number \|$"
	done
	for binary in launcher tini-static dumb-init catatonit bwrap crun runc; do
		assert_line --regexp "^\| $binary \| [0-9]+ \| (statically|dynamically|static-pie) linked \|$"
	done
	assert_line --regexp "^\| reap 1000 orphaned zombies \(median of 3\) \| $number \|$"
	assert_line --regexp "^\| SIGTERM on the launcher to the container's exit .* \| $number \($number - $number\) \|$"
	assert_line --regexp "^\| 5 \| $number \| $number \|$"
	assert_line --regexp "^\| through the published port 127\.0\.0\.1:18081 \| [0-9]+ \|$"
	assert_line --regexp "^\| straight to the container, [0-9.]+:5001 \| [0-9]+ \|$"
	assert_line --regexp "^\| binary under 100 KB stripped \| [0-9]+ bytes \| (met|\*\*missed\*\*) \|$"
	assert_line --regexp "^\| idle PID 1 under 300 KB resident \| [0-9]+ kB \| (met|\*\*missed\*\*) \|$"
	grep -q '<svg' "$out/bench/startup.svg"
}

# The confined floor (bench/floor.c -c) is timed as docker's default confinement at its
# cheapest: it must really do each step the launcher does. A probe run by both sees the same
# mount table (mount points, options, file systems), capabilities, no_new_privs, seccomp, a
# cgroup namespace of its own and the device policy's refusal; and the floor leaves no cgroup.
@test "the confined floor gives its command the launcher's mounts and confinement" {
	floor=$BATS_TEST_TMPDIR/floor
	musl-gcc -O2 -static -isystem build/uapi -o "$floor" bench/floor.c
	g++ -std=c++20 -O2 -o "$BATS_TEST_TMPDIR/confinement" bench/confinement.cpp
	"$BATS_TEST_TMPDIR/confinement" "$BATS_TEST_TMPDIR/confinement.bin"
	# The overlay's layers and /dev's size are the bare floor's own.
	probe='cut -d" " -f5,6,9- /proc/self/mountinfo | sed "s/lowerdir=[^,]*,//; s/size=65536k,mode=755/mode=755/" | sort
		grep -E "^(Cap|NoNewPrivs|Seccomp)" /proc/self/status; cat /proc/self/cgroup
		mknod /tmp/sda b 8 0 && head -c1 /tmp/sda'
	run "$LAUNCHER" --rm "$BUSYBOX" sh -c "$probe"
	assert_failure 1
	assert_line --partial '/sys/fs/cgroup ro,nosuid,nodev,noexec'
	assert_line 'NoNewPrivs:	1'
	assert_line 'Seccomp:	2'
	assert_line 'head: /tmp/sda: Operation not permitted'
	expected=$output
	layer=$(for d in "$LAUNCHER_ROOT"/layers/*/; do [ ! -e "$d/bin/busybox" ] || echo "$d"; done)
	[ -n "$layer" ]
	run "$floor" -c "$BATS_TEST_TMPDIR/confinement.bin" "$layer" net -- /bin/sh -c "$probe"
	assert_failure 1
	assert_equal "$output" "$expected"
	run ls -d /sys/fs/cgroup/floor-* /sys/fs/cgroup/*/floor-*
	assert_failure
}
