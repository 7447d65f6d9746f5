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
	for row in "launcher inflate (gzip.hpp)" "gzip -dc >/dev/null" "launcher zstd (zstd.hpp)" "zstd -dc >/dev/null"; do
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
