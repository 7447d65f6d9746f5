#!/bin/bash
# bench.sh full|quick OUTDIR: measures the launcher against its peers on this machine and
# writes OUTDIR/BENCHMARKS.md and OUTDIR/bench/startup.svg. `quick` runs every row with few runs
# and small sizes, so that `make check` keeps the harness working; it asserts nothing of
# the times.
#
# Every tool runs inside one network namespace and one private mount namespace made here,
# with /sys/fs/cgroup's cgroup2 mount left out (crun 1.8 refuses hybrid cgroup hosts otherwise),
# and unpacks onto one tmpfs, so the conditions are equal and nothing touches the host.
set -euo pipefail
mode=${1:?usage: bench.sh full|quick OUTDIR}
out=$(mkdir -p "${2:?usage: bench.sh full|quick OUTDIR}" && cd "$2" && pwd)
mkdir -p "$out/bench"
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# unshare -n, not `ip netns exec`, which remounts /sys and so hides the cgroup mounts.
if [ -z "${BENCH_INSIDE:-}" ]; then
	exec unshare -n -m --propagation private env BENCH_INSIDE=1 "$0" "$@"
fi

if [ "$mode" = quick ]; then
	RUNS=3 PAIR_RUNS=5 WARMUP=1 FILES=2000 MEGABYTES=20 UNPACK_RUNS=2 ORPHANS=1000 SCALE="1 5" SCALE_RUNS=2 PUSH_MB=20 PUSH_RUNS=1
else
	RUNS=30 PAIR_RUNS=200 WARMUP=5 FILES=20000 MEGABYTES=200 UNPACK_RUNS=9 ORPHANS=10000 SCALE="1 10 100" SCALE_RUNS=5 PUSH_MB=2000 PUSH_RUNS=5
fi
# The engines' helpers (tests/engines.bash) for section 6, and cgroup_v1_only: /sys/fs/cgroup
# without its cgroup2 mount (crun 1.8 refuses hybrid hosts), on a tmpfs of this namespace.
ENGINES_CGROUP=launcher-bench-$$ ENGINES_NETNS=launcher-bench-$$
source tests/engines.bash
[ ! -d /sys/fs/cgroup/unified ] || cgroup_v1_only
work=$(mktemp -d)
# Also when a row fails: the engines stopped, the tmpfs (gone with this namespace anyway)
# and its mount point removed.
cleanup() {
	[ -z "${CONTAINERD_PID:-}" ] || engines_stop || true
	cd /
	umount "$work/run" 2>/dev/null || true
	umount "$work" 2>/dev/null || true
	rmdir "$work" 2>/dev/null || true
}
trap cleanup EXIT
mount -t tmpfs -o size=4g bench "$work"
export LAUNCHER_RUN=$work/run
export LAUNCHER_ROOT=$work/cache # the layer cache, on the same tmpfs
export LAUNCHER_STATE=$work/state # the records of the runs (an ended one stays until rm, as docker's)
L=$root/launcher
say() { printf '%s\n' "$*" >&2; }

# ---- Inputs -----------------------------------------------------------------------------
gcc -O2 -o "$work/measure" bench/measure.c
gcc -O2 -o "$work/genlayer" bench/genlayer.c
musl-gcc -O2 -static -isystem build/uapi -o "$work/floor" bench/floor.c # static, as the launcher is
# docker's default confinement as the launcher makes it (filter, device policy, capabilities),
# for the confined floor (floor -c) to apply.
g++ -std=c++20 -O2 -o "$work/confinement" bench/confinement.cpp
"$work/confinement" "$work/confinement.bin"
images/pack.sh "$work" bench
layer_of() { tar -xOf "$1" manifest.json | sed 's/.*"Layers":\["\([^"]*\)".*/\1/'; }
mkdir "$work/rootfs"
tar -xOf images/hello.tar "$(layer_of images/hello.tar)" | tar -x -C "$work/rootfs"
mkdir -p "$work/rootfs/proc" "$work/rootfs/dev"
for tool in crun runc; do
	mkdir -p "$work/$tool"
	cp -a "$work/rootfs" "$work/$tool/rootfs"
	(cd "$work/$tool" && $tool spec)
	sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"\/hello"/' "$work/$tool/config.json"
done

# ---- 1. Start to exit -----------------------------------------------------------------------
"$L" --net bench images/hello.tar >/dev/null # creates the network before timing
# The start floor (bench/floor.c) stacks the very layer directory the launcher's cache holds.
hello_layer=$LAUNCHER_ROOT/layers/$(tar -xOf images/hello.tar "$(layer_of images/hello.tar)" | sha256sum | cut -d' ' -f1)
[ -d "$hello_layer" ] || { say "hello's layer is not in the cache at $hello_layer"; exit 1; }
# The floor on --net bench: its own veth on the bench bridge, an address the leases do not reach.
bench_gw=$(ip -4 -o addr show bench | awk '{ print $4 }')
floor_veth="veth bench ${bench_gw%.*/*}.250/${bench_gw#*/} ${bench_gw%/*}"
start_rows=(
	"bare binary (floor)|$work/rootfs/hello"
	"start floor (bench/floor.c, netns)|$work/floor $hello_layer net"
	"start floor (bench/floor.c, no netns)|$work/floor $hello_layer"
	"start floor (bench/floor.c, veth on bench)|$work/floor $hello_layer $floor_veth"
	"confined floor (bench/floor.c -c, netns)|$work/floor -c $work/confinement.bin $hello_layer net"
	"confined floor (bench/floor.c -c, no netns)|$work/floor -c $work/confinement.bin $hello_layer"
	"unshare + chroot|unshare -fpumin --mount-proc chroot $work/rootfs /hello"
	"bwrap|bwrap --unshare-all --bind $work/rootfs / --proc /proc --dev /dev /hello"
	"crun|crun run -b $work/crun bench-crun"
	"runc|runc run -b $work/runc bench-runc"
	"launcher --net none|$L images/hello.tar"
	"launcher --net host|$L --net host images/hello.tar"
	"launcher --net bench|$L --net bench images/hello.tar"
	"launcher --net bench -p 18080:80|$L --net bench -p 18080:80 images/hello.tar"
	"launcher --no-cache|$L --no-cache images/hello.tar"
)
: >"$work/start.csv"
for row in "${start_rows[@]}"; do
	name=${row%%|*} cmd=${row#*|}
	say "start: $name"
	hyperfine -N --style none --warmup "$WARMUP" --runs "$RUNS" --export-json "$work/h.json" "$cmd" >/dev/null
	# median, min, max, stddev in ms
	python3 - "$work/h.json" "$name" >>"$work/start.csv" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("%s|%.3f|%.3f|%.3f|%.3f" % (sys.argv[2], r["median"] * 1e3, r["min"] * 1e3, r["max"] * 1e3, r["stddev"] * 1e3))
EOF
done
median_of() { awk -F'|' -v n="$1" '$1 == n { print $2 }' "$work/start.csv"; }
# The launcher against the start floor and the confined floor, in turns (measure turns), so
# that all three see the same machine: the ratios of the medians, with and without a network
# namespace, and on the bench bridge.
say "start: launcher, the start floor and the confined floor in turns"
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
confined=(-c "$work/confinement.bin")
read -r pair_floor_net pair_confined_net pair_none < <("$work/measure" turns "$PAIR_RUNS" "$work/floor" "$hello_layer" net -- \
	"$work/floor" "${confined[@]}" "$hello_layer" net -- "$L" images/hello.tar)
read -r pair_floor_nonet pair_confined_nonet pair_host < <("$work/measure" turns "$PAIR_RUNS" "$work/floor" "$hello_layer" -- \
	"$work/floor" "${confined[@]}" "$hello_layer" -- "$L" --net host images/hello.tar)
# shellcheck disable=SC2086 # floor_veth's words
read -r pair_floor_veth pair_confined_veth pair_bench < <("$work/measure" turns "$PAIR_RUNS" "$work/floor" "$hello_layer" $floor_veth -- \
	"$work/floor" "${confined[@]}" "$hello_layer" $floor_veth -- "$L" --net bench images/hello.tar)
pair_ratio_net=$(div "$pair_none" "$pair_floor_net") pair_ratio_nonet=$(div "$pair_host" "$pair_floor_nonet") pair_ratio_veth=$(div "$pair_bench" "$pair_floor_veth")
confined_ratio_net=$(div "$pair_confined_net" "$pair_floor_net") confined_ratio_nonet=$(div "$pair_confined_nonet" "$pair_floor_nonet")
floor=$(median_of "bare binary (floor)")
crun=$(median_of "crun")

# ---- 2. Unpacking ---------------------------------------------------------------------------
say "unpack: generating $FILES files, $MEGABYTES MB"
"$work/genlayer" "$work/tree" "$FILES" "$MEGABYTES" >/dev/null
tar --format=ustar --numeric-owner -C "$work/tree" -cf "$work/layer.tar" .
gzip -c "$work/layer.tar" >"$work/layer.tar.gz"
zstd -q -c "$work/layer.tar" >"$work/layer.tar.zst"
BIG_LAYER_DIR=$work/tree images/pack.sh "$work" big
rm -rf "$work/tree"
umoci init --layout "$work/oci" && umoci new --image "$work/oci:big"
umoci raw add-layer --image "$work/oci:big" "$work/layer.tar"
layer_mb=$(awk -v b="$(stat -c %s "$work/layer.tar")" 'BEGIN { printf "%.1f", b / 1048576 }')
# unpack_row NAME COMMAND [PREPARE]
unpack_row() {
	say "unpack: $1"
	local args=(--style none --warmup 1 --runs "$UNPACK_RUNS" --export-json "$work/h.json")
	if [ -n "${3:-}" ]; then args+=(--prepare "$3"); else args+=(-N); fi
	hyperfine "${args[@]}" "$2" >/dev/null
	python3 - "$work/h.json" "$1" "$layer_mb" "$FILES" >>"$work/unpack.csv" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
m = r["median"]
print("%s|%.1f|%.0f|%.0f" % (sys.argv[2], m * 1e3, float(sys.argv[3]) / m, int(sys.argv[4]) / m))
EOF
}
fresh="rm -rf $work/x && mkdir $work/x"
python3 tests/fixtures.py oci "$work/big.tar" "$work/bigz.tar" --gzip
python3 tests/fixtures.py oci "$work/big.tar" "$work/bigzst.tar" --zstd
: >"$work/unpack.csv"
uncached="rm -rf $work/cache"
unpack_row "launcher, first start (plain layer into the cache)" "$L $work/big.tar true" "$uncached"
unpack_row "GNU tar -x (plain)" "tar -xf $work/layer.tar -C $work/x" "$fresh"
unpack_row "launcher --no-cache (plain layer into its tmpfs)" "$L --no-cache $work/big.tar true"
unpack_row "launcher, second start (cached)" "$L $work/big.tar true"
unpack_row "launcher, first start (gzip layer into the cache)" "$L $work/bigz.tar true" "$uncached"
unpack_row "gzip -dc piped to tar -x (gzip)" "sh -c 'gzip -dc $work/layer.tar.gz | tar -xf - -C $work/x'" "$fresh"
unpack_row "launcher, first start (zstd layer into the cache)" "$L $work/bigzst.tar true" "$uncached"
unpack_row "zstd -dc piped to tar -x (zstd)" "sh -c 'zstd -q -dc $work/layer.tar.zst | tar -xf - -C $work/x'" "$fresh"
unpack_row "umoci unpack (gzip)" "umoci unpack --image $work/oci:big $work/ub" "rm -rf $work/ub"
# The launcher's own step timings of the big image's first start: the big layer's unpack
# into the cache alone (median), its digest taken alongside by a forked helper.
for _ in $(seq "$UNPACK_RUNS"); do
	rm -rf "$work/cache"
	"$L" --verbose "$work/big.tar" true 2>&1 >/dev/null |
		awk '/unpacked layer 1/ { a = $2 } /unpacked layer 2/ { b = $2 } END { printf "%.1f\n", b - a }'
done | sort -n >"$work/big-steps.txt"
big_unpack=$(sed -n "$(( (UNPACK_RUNS + 1) / 2 ))p" "$work/big-steps.txt")

# Decoding alone, to nothing: the launcher's decoders (bench/decode.cpp, built -Oz as the
# launcher is) beside gzip -dc and zstd -dc, and libdeflate's gunzip (the fastest inflate
# there is: the ceiling), best of 3, MB/s of output per second of wall and of CPU time
# (other guests on the machine disturb the wall time more).
g++ -std=c++20 -Oz -o "$work/decode" bench/decode.cpp
: >"$work/decode.csv"
decode_row() {
	say "decode: $1"
	python3 - "$1" "$(stat -c %s "$work/layer.tar")" "$2" >>"$work/decode.csv" <<'EOF'
import resource, subprocess, sys, time
name, size, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3]
best_wall = best_cpu = 1e9
for _ in range(3):
    r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL)
    r1, t1 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    best_wall = min(best_wall, t1 - t0)
    best_cpu = min(best_cpu, r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
print("%s|%.0f|%.0f" % (name, size / 1048576 / best_wall, size / 1048576 / best_cpu))
EOF
}
decode_row "launcher inflate (gzip.hpp)" "$work/decode $work/layer.tar.gz 1"
decode_row "gzip -dc >/dev/null" "gzip -dc $work/layer.tar.gz"
decode_row "libdeflate-gunzip -c >/dev/null" "libdeflate-gunzip -c $work/layer.tar.gz"
decode_row "launcher zstd (zstd.hpp)" "$work/decode $work/layer.tar.zst 1"
decode_row "zstd -dc >/dev/null" "zstd -q -dc $work/layer.tar.zst"

# ---- 3. Size and memory ---------------------------------------------------------------------
size_rows=(
	"launcher|$L"
	"tini-static|/usr/bin/tini-static"
	"dumb-init|/usr/bin/dumb-init"
	"catatonit|$(command -v catatonit || echo /usr/libexec/podman/catatonit)"
	"bwrap|$(command -v bwrap)"
	"crun|$(command -v crun)"
	"runc|$(command -v runc)"
)
: >"$work/size.csv"
for row in "${size_rows[@]}"; do
	name=${row%%|*} path=${row#*|}
	cp "$path" "$work/stripped"
	strip "$work/stripped" 2>/dev/null || true
	linkage=$(file -b "$path" | grep -o 'statically linked\|dynamically linked\|static-pie linked' | head -1)
	echo "$name|$(stat -c %s "$work/stripped")|$linkage" >>"$work/size.csv"
done
read -r host_rss init_rss < <("$work/measure" rss "$L" "$work/bench.tar" /benchtool waitterm)

# ---- 4. Init --------------------------------------------------------------------------------
: >"$work/reap.txt"
for _ in 1 2 3; do
	"$L" "$work/bench.tar" /benchtool orphans "$ORPHANS" | sed -n 's/.* in \([0-9.]*\) ms/\1/p' >>"$work/reap.txt"
done
reap=$(sort -n "$work/reap.txt" | sed -n 2p)
read -r term_med term_min term_max < <("$work/measure" sigterm "$RUNS" "$L" "$work/bench.tar" /benchtool waitterm)

# ---- 5. Scaling -----------------------------------------------------------------------------
: >"$work/scale.csv"
for n in $SCALE; do
	say "scale: $n at once"
	hyperfine --style none --warmup 1 --runs "$SCALE_RUNS" --export-json "$work/h.json" \
		"for i in \$(seq $n); do $L --net scale images/hello.tar >/dev/null & done; wait" >/dev/null
	python3 - "$work/h.json" "$n" >>"$work/scale.csv" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
n = int(sys.argv[2])
print("%d|%.1f|%.2f" % (n, r["median"] * 1e3, r["median"] * 1e3 / n))
EOF
done

# ---- 7. A published port's throughput ---------------------------------------------------------
# One bulk TCP transfer (bench/pushbytes.py) into busybox nc in a container on --net bench:
# through the published host port (127.0.0.1: the output hook's DNAT, the source
# masqueraded) and straight to the container's address.
ip link set lo up
"$L" --net bench -p 18081:5001 images/busybox.tar sh -c \
	'ip -4 addr show eth0 | sed -n "s/.*inet \([0-9.]*\).*/addr=\1/p"; while :; do nc -l -p 5001 >/dev/null; done' \
	</dev/null >"$work/sink.log" 2>&1 &
sink=$!
for _ in $(seq 100); do grep -q addr= "$work/sink.log" && break; sleep 0.1; done
sink_addr=$(sed -n 's/^addr=//p' "$work/sink.log")
[ -n "$sink_addr" ] || { say "the throughput sink did not start: $(cat "$work/sink.log")"; exit 1; }
: >"$work/push.csv"
for target in "through the published port 127.0.0.1:18081|127.0.0.1 18081" "straight to the container, $sink_addr:5001|$sink_addr 5001"; do
	say "throughput: ${target%%|*}"
	for _ in $(seq "$PUSH_RUNS"); do
		# shellcheck disable=SC2086 # address and port
		python3 bench/pushbytes.py ${target#*|} "$PUSH_MB"
	done | sort -n | awk -v name="${target%%|*}" '{ v[NR] = $1 } END { print name "|" v[int((NR + 1) / 2)] }' >>"$work/push.csv"
done
kill -KILL "$sink"
wait "$sink" 2>/dev/null || true

# ---- 6. OCI runtimes, bare and under engines ---------------------------------------------------
# The same container three ways, each row once per runtime: the bare `create; start; wait;
# delete` cycle of one bundle (busybox's rootfs, `runc spec` made to run /bin/true), `podman
# run --rm` and `ctr run --rm`. podman and containerd run as tests/engines.bash starts
# them (their own network and mount namespace, store on the tmpfs). The launcher's rows
# appear once it answers as an OCI runtime (`launcher features`).
# rootfs_of IMAGE DIR: the image's layers unpacked in order, whiteouts applied.
rootfs_of() {
	local layer wh
	mkdir -p "$2"
	for layer in $(tar -xOf "$1" manifest.json | python3 -c 'import json, sys; print(*json.load(sys.stdin)[0]["Layers"])'); do
		tar -xOf "$1" "$layer" | tar -t | { grep '\.wh\.' || true; } | while read -r wh; do
			case ${wh##*/} in
			.wh..wh..opq) find "${2:?}/$(dirname "$wh")" -mindepth 1 -delete ;;
			*) rm -rf "${2:?}/$(dirname "$wh")/$(basename "$wh" | sed 's/^\.wh\.//')" ;;
			esac
		done
		tar -xOf "$1" "$layer" | tar -x -C "$2"
		find "$2" -name '.wh.*' -delete
	done
}
rootfs_of images/busybox.tar "$work/cycle/rootfs"
(cd "$work/cycle" && runc spec)
sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"\/bin\/true"/' "$work/cycle/config.json"
engines_init "$work/engines"
engines_start containerd
podman_load
ctr_import
in_ns="nsenter -t $CONTAINERD_PID -m -n --"
# Section 2's `podman load` row: the big image (busybox and the generated layer) into
# podman's store on the tmpfs, its overlay driver unpacking each layer; emptied before each.
podman_store="$in_ns podman $(podman_flags)"
unpack_row "podman load (plain)" "$podman_store load -q -i $work/big.tar" "$podman_store rmi -af >/dev/null 2>&1; true"
podman_load # the rmi above took busybox too
podman_cmd() {
	echo "$in_ns podman $(podman_flags) --runtime $1 run --rm ${PODMAN_RUN_FLAGS[*]}" \
		"--cgroup-parent /$ENGINES_CGROUP/podman localhost/busybox:latest true"
}
# The same on podman's default bridge network with a published port (its CNI plugins).
podman_net_cmd() {
	echo "$in_ns podman $(podman_flags) --runtime $1 run --rm --network bridge -p 18082:80 ${PODMAN_RUN_FLAGS[*]:2}" \
		"--cgroup-parent /$ENGINES_CGROUP/podman localhost/busybox:latest true"
}
ctr_cmd() {
	echo "$in_ns ctr --address /run/containerd/containerd.sock run --rm --cgroup /$ENGINES_CGROUP/ctr/bench-$2" \
		"--runc-binary $1 docker.io/library/busybox:latest bench-$2 true"
}
# engine_row GROUP RUNTIME COMMAND [pending]: with `pending` (the launcher's rows, while
# its OCI mode is being written), a command that fails once is a row saying so, with the
# runtime's last error line, instead of ending the benchmark.
: >"$work/engines.csv"
engine_row() {
	say "engines: $1, $2"
	# shellcheck disable=SC2086 # the command's words, split as hyperfine -N splits them
	if [ "${4:-}" = pending ] && ! $3 >/dev/null 2>"$work/row.err"; then
		echo "$1|$2|fails: $(grep . "$work/row.err" | tail -1 | tr '|' '/')" >>"$work/engines.csv"
		return 0
	fi
	hyperfine -N --style none --warmup "$WARMUP" --runs "$RUNS" --export-json "$work/h.json" "$3" >/dev/null
	python3 - "$work/h.json" "$1" "$2" >>"$work/engines.csv" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("%s|%s|%.3f|%.3f|%.3f|%.3f" % (sys.argv[2], sys.argv[3], r["median"] * 1e3, r["min"] * 1e3, r["max"] * 1e3, r["stddev"] * 1e3))
EOF
}
oci_launcher() { "$L" features >/dev/null 2>&1; }
CRUN=$(command -v crun) RUNC=$(command -v runc)
engine_row "create, start, wait, delete" crun "$work/measure cycle $CRUN $work/cycle cycle-crun"
engine_row "create, start, wait, delete" runc "$work/measure cycle $RUNC $work/cycle cycle-runc"
! oci_launcher || engine_row "create, start, wait, delete" launcher "$work/measure cycle $L $work/cycle cycle-launcher" pending
engine_row "podman run --rm" crun "$(podman_cmd "$CRUN")"
engine_row "podman run --rm" runc "$(podman_cmd "$RUNC")"
! oci_launcher || engine_row "podman run --rm" launcher "$(podman_cmd "$L")" pending
engine_row "podman run --rm --network bridge -p 18082:80" crun "$(podman_net_cmd "$CRUN")" pending
engine_row "ctr run --rm" runc "$(ctr_cmd "$RUNC" runc)"
! oci_launcher || engine_row "ctr run --rm" launcher "$(ctr_cmd "$L" launcher)" pending
podman rm -af >/dev/null
engines_stop
engines_versions="podman $(command podman --version | cut -d' ' -f3), conmon $(conmon --version | sed -n 's/^conmon version //p'), containerd $(containerd --version | cut -d' ' -f3)"

# ---- Report -----------------------------------------------------------------------------------
"$L" --verbose images/hello.tar 2>"$work/steps.txt" >/dev/null
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
over() { awk -v a="$1" -v f="$floor" 'BEGIN { printf "%.3f", a - f }'; }
verdict() { if awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; then echo met; else echo "**missed**"; fi; }
ours=$(median_of "launcher --net none")
launcher_size=$(awk -F'|' '$1 == "launcher" { print $2 }' "$work/size.csv")
tar_ms=$(awk -F'|' '$1 ~ /^GNU tar/ { print $2 }' "$work/unpack.csv")
whole_ms=$(awk -F'|' 'NR == 1 { print $2 }' "$work/unpack.csv")
{
	echo "# Benchmarks"
	echo
	echo "Measured by \`make bench\` ($mode run) on $(date -u +%Y-%m-%d), $(nproc) cores,"
	echo "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), Linux $(uname -r)."
	echo "Versions: $(crun --version | head -1); $(runc --version | head -1); bwrap $(bwrap --version | cut -d' ' -f2);"
	echo "$(tar --version | head -1); umoci $(umoci --version | awk '{print $3}'); $(hyperfine --version)."
	echo "Rerun: \`make bench\` (root; installs hyperfine, crun, runc, bubblewrap, umoci, tini, dumb-init,"
	echo "catatonit, gnuplot, podman, containerd). Every tool runs in one network namespace and one private mount namespace"
	echo "with /sys/fs/cgroup's cgroup2 mount left out, unpacking onto one tmpfs."
	echo
	echo "## Targets"
	echo
	echo "| target | measured | verdict |"
	echo "|---|---|---|"
	echo "| warm start of hello (\`--net none\`) at most half of crun's time over the floor | $(over "$ours") ms vs $(awk -v c="$(over "$crun")" 'BEGIN { printf "%.3f", c / 2 }') ms | $(verdict "$(over "$ours")" "$(awk -v c="$(over "$crun")" 'BEGIN { print c / 2 }')") |"
	echo "| warm start of hello (\`--net none\`) within 1.3x of the start floor with a network namespace | $pair_none ms vs $pair_floor_net ms: ${pair_ratio_net}x | $(verdict "$pair_ratio_net" 1.3) |"
	echo "| warm start of hello (\`--net host\`) within 1.3x of the start floor without one | $pair_host ms vs $pair_floor_nonet ms: ${pair_ratio_nonet}x | $(verdict "$pair_ratio_nonet" 1.3) |"
	echo "| unpacking faster than GNU tar on the same layer | launcher's whole start $whole_ms ms (its unpack step $big_unpack ms) vs tar $tar_ms ms | $(verdict "$whole_ms" "$tar_ms") |"
	echo "| (what the 1.3x targets leave: docker's default confinement alone, the confined floor, over the bare floor with a network namespace) | $pair_confined_net ms vs $pair_floor_net ms: ${confined_ratio_net}x | $(verdict "$confined_ratio_net" 1.3) |"
	echo "| (the same without a network namespace) | $pair_confined_nonet ms vs $pair_floor_nonet ms: ${confined_ratio_nonet}x | $(verdict "$confined_ratio_nonet" 1.3) |"
	echo "| binary under 100 KB stripped | $launcher_size bytes | $(verdict "$launcher_size" 102400) |"
	echo "| idle PID 1 under 300 KB resident | $init_rss kB | $(verdict "$init_rss" 300) |"
	echo
	echo "## 1. Start to exit of the hello image ($RUNS runs after $WARMUP warm-up)"
	echo
	echo "The launcher's rows start with a warm layer cache (the warm-up runs filled it); the"
	echo "\`--no-cache\` row unpacks hello's layer into the container's tmpfs and hashes it every time."
	echo "The start floor (\`bench/floor.c\`) is the kernel's work of a start and nothing more: clone into"
	echo "new mount, UTS, IPC, PID (and network) namespaces, a tmpfs, an overlay of hello's layer from the"
	echo "launcher's cache, /proc, a tmpfs /dev with six nodes, pivot_root, sethostname, fork and exec of"
	echo "/hello, the reap. The launcher does that work plus docker's confinement (a device cgroup,"
	echo "capabilities, no_new_privs, seccomp, masked and read-only paths, /dev/pts, /dev/shm, /dev/mqueue,"
	echo "read-only /sys, /etc/hosts and friends, lo up). On \`--net bench\` the floor adds a veth pair"
	echo "made over rtnetlink with its peer in the child's namespace, the host end on the bench bridge, and"
	echo "inside an address, the link and lo up and a default route; the launcher also leases the address,"
	echo "writes the network's hosts file and its NAT rules."
	echo
	echo "The launcher against the floor, run in turns ($PAIR_RUNS runs each, medians):"
	echo
	echo "| launcher against the start floor | launcher ms | floor ms | ratio |"
	echo "|---|---|---|---|"
	echo "| \`--net none\` against the floor with a network namespace | $pair_none | $pair_floor_net | $pair_ratio_net |"
	echo "| \`--net host\` against the floor without one | $pair_host | $pair_floor_nonet | $pair_ratio_nonet |"
	echo "| \`--net bench\` against the floor with its own veth on the bench bridge | $pair_bench | $pair_floor_veth | $pair_ratio_veth |"
	echo
	echo "The confined floor (\`bench/floor.c -c\`) is the start floor plus exactly the kernel work of"
	echo "docker's default confinement, which the 1.3x target requires the launcher to keep, each step"
	echo "the cheapest way the kernel offers: the container's cgroup with the device policy (cgroup2's"
	echo "program, or v1's rules), a cgroup namespace, a session and a non-dumpable PID 1 (the"
	echo "CVE-2019-5736 defence), /etc/hosts, hostname and resolv.conf bound from the tmpfs, devpts,"
	echo "/dev/shm, /dev/mqueue, a read-only /sys and its cgroup mount, the masked and read-only paths,"
	echo "the bounding set and capabilities, no_new_privs and the launcher's own compile of docker's"
	echo "seccomp profile (\`bench/confinement.cpp\`). What the launcher takes over it is its own. In the"
	echo "same turns ($PAIR_RUNS runs each, medians):"
	echo
	echo "| start | bare floor ms | confined floor ms | launcher ms | confined / bare | launcher / confined | launcher / bare |"
	echo "|---|---|---|---|---|---|---|"
	echo "| \`--net none\` (floors with a network namespace) | $pair_floor_net | $pair_confined_net | $pair_none | $confined_ratio_net | $(div "$pair_none" "$pair_confined_net") | $pair_ratio_net |"
	echo "| \`--net host\` (floors without one) | $pair_floor_nonet | $pair_confined_nonet | $pair_host | $confined_ratio_nonet | $(div "$pair_host" "$pair_confined_nonet") | $pair_ratio_nonet |"
	echo "| \`--net bench\` (floors with their own veth) | $pair_floor_veth | $pair_confined_veth | $pair_bench | $(div "$pair_confined_veth" "$pair_floor_veth") | $(div "$pair_bench" "$pair_confined_veth") | $pair_ratio_veth |"
	echo
	cat bench/start-changes.md
	echo
	echo
	echo "| what | median ms | min | max | stddev | x floor | x crun |"
	echo "|---|---|---|---|---|---|---|"
	while IFS='|' read -r name med min max sd; do
		echo "| $name | $med | $min | $max | $sd | $(ratio "$med" "$floor") | $(ratio "$med" "$crun") |"
	done <"$work/start.csv"
	echo
	echo "![start-to-exit medians](bench/startup.svg)"
	echo
	echo "Where the launcher's time goes (\`--verbose\`, one start of hello):"
	echo
	echo '```'
	sed 's/^launcher: *//' "$work/steps.txt"
	echo '```'
	echo
	echo "## 2. Unpacking a $layer_mb MB layer of $FILES files ($UNPACK_RUNS runs, onto tmpfs)"
	echo
	echo "| what | median ms | MB/s | files/s |"
	echo "|---|---|---|---|"
	while IFS='|' read -r name med mbs fps; do echo "| $name | $med | $mbs | $fps |"; done <"$work/unpack.csv"
	echo
	echo "The launcher's rows are whole starts of an image of two layers (busybox, then the big"
	echo "layer) that run \`true\`: a first start unpacks both into an emptied cache, checking each"
	echo "against its digest on the other core (a forked helper hashes the tar while it is"
	echo "unpacked, by two processes for a layer of 8 MiB or more; a gzip or zstd layer is unpacked"
	echo "while a forked decoder writes it into an 8 MiB ring of shared memory, its bytes hashed by"
	echo "a second child as they come, against the diff_id: the compressed blob is not hashed); a second"
	echo "start unpacks nothing; \`--no-cache\` unpacks into the container's tmpfs while the host"
	echo "hashes the layer, and the entrypoint waits for the verdict."
	echo "The first start's own step timings (\`--verbose\`, median of $UNPACK_RUNS) put the big"
	echo "layer's unpack into the cache at $big_unpack ms. On this machine (2 vCPUs shared with"
	echo "other guests) the first start and GNU tar trade places from one full run to the next by"
	echo "about 10%: the launcher's unpacking does fewer system calls than tar's, and it also"
	echo "hashes the layer on the second vCPU, which the step above waits for."
	echo "\`podman load\` reads the same image archive (both layers) into podman's overlay store on"
	echo "the tmpfs, emptied before each run (podman $(command podman --version | cut -d' ' -f3), in section 6's namespace)."
	echo
	echo "Decoding the same layer alone, to nothing (best of 3). libdeflate-gunzip decodes the"
	echo "whole file into one buffer of its size (its page faults are in its time), the others"
	echo "stream it in small pieces:"
	echo
	echo "| decoder | MB/s of output (wall) | MB/s per CPU second |"
	echo "|---|---|---|"
	while IFS='|' read -r name wall cpu; do echo "| $name | $wall | $cpu |"; done <"$work/decode.csv"
	echo
	cat bench/unpack-changes.md
	echo
	echo "## 3. Size and memory"
	echo
	echo "| binary | stripped bytes | linkage |"
	echo "|---|---|---|"
	while IFS='|' read -r name size linkage; do echo "| $name | $size | $linkage |"; done <"$work/size.csv"
	echo
	echo "Resident memory while a container idles (two seconds after its entrypoint is ready): the"
	echo "container's PID 1 (the launcher as init) $init_rss kB; the launcher on the host $host_rss kB."
	echo "Each gives back the pages its start touched (its code, its stack) after a second with no"
	echo "signal, and faults in the few pages of its loop again when one comes (init.hpp)."
	echo
	echo "## 4. Init"
	echo
	echo "| what | ms |"
	echo "|---|---|"
	echo "| reap $ORPHANS orphaned zombies (median of 3) | $reap |"
	echo "| SIGTERM on the launcher to the container's exit (median, min, max of $RUNS) | $term_med ($term_min - $term_max) |"
	echo
	echo "## 5. Concurrent starts on one \`--net\` network ($SCALE_RUNS runs each)"
	echo
	echo "| containers | all done, median ms | per container ms |"
	echo "|---|---|---|"
	while IFS='|' read -r n all per; do echo "| $n | $all | $per |"; done <"$work/scale.csv"
	echo
	echo "## 6. OCI runtimes, bare and under engines ($RUNS runs after $WARMUP warm-up)"
	echo
	echo "One container that runs busybox's \`/bin/true\`, three ways: the bare \`create; start; wait;"
	echo "delete\` cycle of one bundle (\`runc spec\`, busybox's rootfs; the timing process is the"
	echo "subreaper that waits for the container), \`podman run --rm\` and \`ctr run --rm\` with the"
	echo "runtime given to them. podman and containerd run in a network and mount namespace of"
	echo "their own, their stores on the tmpfs; $engines_versions."
	echo "The launcher's rows appear once it answers as an OCI runtime (\`launcher features\`)."
	echo
	echo "| what | runtime | median ms | min | max | stddev | x runc |"
	echo "|---|---|---|---|---|---|---|"
	while IFS='|' read -r group rt med min max sd; do
		case $med in
		fails:*) echo "| $group | $rt | $med | | | | |" ;;
		*) echo "| $group | $rt | $med | $min | $max | $sd | $(ratio "$med" "$(awk -F'|' -v g="$group" '$1 == g && $2 == "runc" { print $3 }' "$work/engines.csv")") |" ;;
		esac
	done <"$work/engines.csv"
	echo
	echo "## 7. A published port's throughput ($PUSH_MB MB, one TCP connection, median of $PUSH_RUNS)"
	echo
	echo "Into busybox \`nc\` in a container on \`--net bench\` with \`-p 18081:5001\`: through the host"
	echo "port (nf_tables DNAT in the output hook, the loopback source masqueraded) and straight to"
	echo "the container's address. A start with \`-p\` is row \`launcher --net bench -p 18080:80\` of"
	echo "section 1; podman's \`run --network bridge -p\` is in section 6."
	echo
	echo "| path | MB/s |"
	echo "|---|---|"
	while IFS='|' read -r path mbs; do echo "| $path | $mbs |"; done <"$work/push.csv"
} >"$out/BENCHMARKS.md"

awk -F'|' '{ printf "\"%s\" %s\n", $1, $2 }' "$work/start.csv" >"$work/start.dat"
gnuplot <<EOF
set terminal svg size 800,360 font "sans,11"
set output "$out/bench/startup.svg"
set title "Start to exit of the hello image, median (ms, lower is better)"
set style fill solid 0.8
set boxwidth 0.6
set yrange [0:*]
set xtics rotate by -20
set grid ytics
unset key
plot "$work/start.dat" using 0:2:xtic(1) with boxes lc rgb "#4a7ebb", \
     "" using 0:2:(sprintf("%.2f", \$2)) with labels offset 0,0.7
EOF
say "wrote $out/BENCHMARKS.md and $out/bench/startup.svg"
