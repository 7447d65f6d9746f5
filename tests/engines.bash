# Container engines (podman, dockerd, containerd) driving the OCI runtime under test, for
# tests/engines.bats and bench/bench.sh. The runtime is $OCI_RUNTIME (default: this checkout's
# launcher); nothing here depends on its name, so OCI_RUNTIME=/usr/sbin/runc runs the same
# cases against runc.
#
# Everything an engine makes lives under a directory of the caller's ($ENGINES_DIR): podman's
# store and dockerd's and containerd's roots on a tmpfs of the engines' own at
# $ENGINES_DIR/store (overlayfs works on it whatever the caller's file system; it goes with
# them), their logs and configuration beside it. All three run in one network namespace
# and one private mount namespace of their own (with a tmpfs on /run), so no bridge,
# iptables rule, mount or socket of theirs reaches the host: engines_start makes them and
# starts containerd and dockerd; podman and ctr enter them for each command. Their
# containers' cgroups go under /$ENGINES_CGROUP, which engines_stop removes.
#
# ENGINES_HIDE_CGROUP2=1 takes the cgroup2 mount out of /sys/fs/cgroup in that mount
# namespace (cgroup_v1_only): crun 1.8 refuses a hybrid cgroup host ("cgroups in hybrid
# mode not supported") otherwise.

ENGINES_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OCI_RUNTIME=${OCI_RUNTIME:-$ENGINES_ROOT/launcher}
DOCKER=/usr/bin/docker # /usr/local/bin/docker is a newer client that dockerd 20.10 refuses
# The name dockerd knows the runtime by ("runc" is dockerd's own and cannot be redefined).
ENGINES_RUNTIME_NAME=undertest

# engines_init DIR: the directory everything goes under, and names derived from it. The
# cgroup parent and network namespace carry the caller's pid, so that two runs never share.
engines_init() {
	ENGINES_DIR=$1
	mkdir -p "$ENGINES_DIR"
	ENGINES_CGROUP=${ENGINES_CGROUP:-launcher-engines-$$}
	ENGINES_NETNS=${ENGINES_NETNS:-launcher-engines-$$}
	export ENGINES_DIR ENGINES_CGROUP ENGINES_NETNS
}

# The runtime's own state root when an engine passes no --root (podman does not), seen from
# the host: where its containers' state directories are, for the after-every-test check.
# OCI_STATE_ROOT overrides the guess (/run/NAME, runc's and crun's rule).
oci_state_root() {
	echo "/proc/$CONTAINERD_PID/root${OCI_STATE_ROOT:-/run/$(basename "$OCI_RUNTIME")}"
}

# cgroup_v1_only: in the caller's own private mount namespace, /sys/fs/cgroup as a new tmpfs
# holding the host's v1 hierarchies, bound again, and not its cgroup2 mount (unified). Merely
# unmounting /sys/fs/cgroup/unified is not enough: that leaves the host's tmpfs directory
# under it, which crun then fills with directories and cgroup.procs files that the host
# never sees (they are under its cgroup2 mount) and nobody removes.
cgroup_v1_only() {
	local stage c
	stage=$(mktemp -d)
	mount --rbind /sys/fs/cgroup "$stage" && umount -l /sys/fs/cgroup &&
		mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup || return 1
	for c in "$stage"/*; do
		[ "$(stat -f -c %T "$c")" = cgroupfs ] || continue # cgroup2 (cgroup2fs) and plain dirs stay out
		mkdir "/sys/fs/cgroup/${c##*/}" && mount --bind "$c" "/sys/fs/cgroup/${c##*/}" || return 1
	done
	umount -l "$stage" && rmdir "$stage"
}

# in_engines COMMAND...: COMMAND in the engines' network and mount namespaces.
in_engines() { nsenter -t "$CONTAINERD_PID" -m -n -- "$@"; }

# ENGINES_SECCOMP=unconfined runs podman's and docker's containers without their default
# seccomp profiles (--security-opt seccomp=unconfined), for a runtime that cannot apply
# one yet; unset, the engines send their profiles as they do by default.
SECURITY_FLAGS=(${ENGINES_SECCOMP:+--security-opt "seccomp=$ENGINES_SECCOMP"})

# ---- podman -----------------------------------------------------------------------------
# No CAP_SYS_RESOURCE in this sandbox: podman's default rlimits (nofile 1048576) cannot be set.
PODMAN_RUN_FLAGS=(--network none --ulimit nofile=1024:1024 --ulimit nproc=32768:32768 "${SECURITY_FLAGS[@]}")

# podman's global flags: its store under $ENGINES_DIR/store/podman, the cgroupfs manager
# (no systemd here), no event log. (Printed as words, for bench.sh's command lines too:
# $ENGINES_DIR has no spaces.)
podman_flags() {
	local store=$ENGINES_DIR/store/podman
	echo "--root $store/root --runroot $store/run --tmpdir $store/tmp --cgroup-manager cgroupfs --events-backend none"
}

# podman ARGS...: podman with its store of ours and $OCI_RUNTIME.
# shellcheck disable=SC2046 # podman_flags prints words
podman() { in_engines podman $(podman_flags) --runtime "$OCI_RUNTIME" "$@"; }

# podman_run ARGS...: `podman run` with the flags this host needs and our cgroup parent.
podman_run() {
	podman run "${PODMAN_RUN_FLAGS[@]}" --cgroup-parent "/$ENGINES_CGROUP/podman" "$@"
}

# ---- containerd and dockerd ---------------------------------------------------------------
# Their sockets live on the namespace's /run; the host reaches them through the
# namespace's root, /proc/PID/root (a unix socket path resolves there like any other).
containerd_sock() { echo "/proc/$CONTAINERD_PID/root/run/containerd/containerd.sock"; }
docker_sock() { echo "/proc/$CONTAINERD_PID/root/run/docker.sock"; }

# ctr makes the container's stdio fifos itself, under /run/containerd/fifo, and the shim
# opens them: so ctr runs in the engines' mount namespace.
ctr() { in_engines ctr --address /run/containerd/containerd.sock "$@"; }
docker() { "$DOCKER" -H "unix://$(docker_sock)" "$@"; }
# docker_run ARGS...: `docker run` with the runtime under test (or $ENGINES_RUNTIME_NAME's
# other value, runc: dockerd's own), no network.
docker_run() { docker run --runtime "$ENGINES_RUNTIME_NAME" --network none "${SECURITY_FLAGS[@]}" "$@"; }

# The runtime's state root as the containerd shim passes it: --root /run/containerd/runc/NS
# for `ctr` (namespace default), and /run/docker/runtime-runc/moby for every runtime of
# dockerd's (20.10 names the directory after runc whatever the runtime).
ctr_state_root() { echo "/proc/$CONTAINERD_PID/root/run/containerd/runc/default"; }
docker_state_root() { echo "/proc/$CONTAINERD_PID/root/run/docker/runtime-runc/moby"; }

# wait_until SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds.
wait_until() {
	local tries=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || { echo "timed out waiting for: $*" >&2; return 1; }
		sleep 0.1
	done
}

alive() { [ -e "/proc/$1" ] && ! grep -q '^[^ ]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }

# engines_start [containerd]: a new network namespace and private mount namespace, and in
# them containerd, then dockerd on it (not with `containerd`). Sets CONTAINERD_PID,
# DOCKERD_PID and ENGINES_MNTNS (the namespace's inode, so engines_stop can check that no
# process is left in it).
engines_start() {
	local d=$ENGINES_DIR
	mkdir -p "$d/containerd" "$d/docker-etc" "$d/store"
	cat >"$d/containerd/config.toml" <<-EOF
		version = 2
		root = "$d/store/containerd"
		state = "/run/containerd-state"
		disabled_plugins = ["io.containerd.grpc.v1.cri"]
		[grpc]
		  address = "/run/containerd/containerd.sock"
		[ttrpc]
		  address = "/run/containerd/containerd.sock.ttrpc"
		[plugins."io.containerd.internal.v1.opt"]
		  path = "$d/store/containerd-opt"
	EOF
	ip netns add "$ENGINES_NETNS"
	# Not `ip netns exec`: it remounts /sys, and the cgroup mounts disappear under it.
	# stdout and stderr go to a log, and bats' fd 3 is closed, or bats waits for the daemons.
	setsid nsenter --net="/run/netns/$ENGINES_NETNS" unshare -m --propagation private -- bash -c "$(declare -f cgroup_v1_only)"'
		mount -t tmpfs -o mode=0755 engines /run &&
		mount -t tmpfs -o mode=0700 engines-store "$1/store" &&
		mount --bind "$1/docker-etc" /etc/docker &&
		{ [ -z "$2" ] || cgroup_v1_only; } &&
		ip link set lo up &&
		exec containerd --config "$1/containerd/config.toml"' sh "$d" "${ENGINES_HIDE_CGROUP2:-}" \
		</dev/null >"$d/containerd.log" 2>&1 3>&- &
	CONTAINERD_PID=$!
	wait_until 20 test -S "$(containerd_sock)" || { cat "$d/containerd.log" >&2; return 1; }
	wait_until 20 ctr version || { cat "$d/containerd.log" >&2; return 1; }
	ENGINES_MNTNS=$(readlink "/proc/$CONTAINERD_PID/ns/mnt")
	export CONTAINERD_PID ENGINES_MNTNS
	[ "${1:-}" != containerd ] || return 0
	nsenter -t "$CONTAINERD_PID" -m -n -- dockerd \
		--containerd /run/containerd/containerd.sock \
		--data-root "$d/store/docker" --exec-root /run/docker --pidfile /run/docker.pid \
		-H unix:///run/docker.sock \
		--bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
		--userland-proxy=false --exec-opt native.cgroupdriver=cgroupfs \
		--cgroup-parent "/$ENGINES_CGROUP/docker" \
		--add-runtime "$ENGINES_RUNTIME_NAME=$OCI_RUNTIME" \
		</dev/null >"$d/dockerd.log" 2>&1 3>&- &
	DOCKERD_PID=$!
	wait_until 30 docker version || { cat "$d/dockerd.log" >&2; return 1; }
	export DOCKERD_PID
}

# stop_daemon PID NAME: SIGTERM, then SIGKILL after 15 s; reaps it when it is our child.
stop_daemon() {
	kill -TERM "$1" 2>/dev/null || return 0
	wait_until 15 eval "! alive $1" || { echo "$2 ignored SIGTERM" >&2; kill -KILL "$1"; }
	wait "$1" 2>/dev/null || true
}

# engines_leftovers: the processes the engines left: any in their mount namespace (conmon,
# shims; the daemons once stopped) or in a cgroup under /$ENGINES_CGROUP (containers).
engines_leftovers() {
	local p
	for p in /proc/[0-9]*; do
		if { [ -n "${ENGINES_MNTNS:-}" ] && [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ENGINES_MNTNS" ]; } ||
			grep -q ":/$ENGINES_CGROUP/" "$p/cgroup" 2>/dev/null; then
			echo "${p#/proc/} $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)"
		fi
	done
}

# engines_stop: dockerd, then containerd, then every trace of them: the network namespace,
# the cgroups under /$ENGINES_CGROUP. Fails if a process was left (shims and containers
# outlive a stopped containerd), after killing it: all of them are ours.
engines_stop() {
	local left=0 pid rest
	[ -z "${DOCKERD_PID:-}" ] || stop_daemon "$DOCKERD_PID" dockerd
	[ -z "${CONTAINERD_PID:-}" ] || stop_daemon "$CONTAINERD_PID" containerd
	while read -r pid rest; do
		echo "left by the engines: $pid $rest" >&2
		kill -KILL "$pid" 2>/dev/null
		left=1
	done < <(engines_leftovers)
	[ "$left" = 0 ] || wait_until 10 eval '[ -z "$(engines_leftovers)" ]' || true
	if [ -e "/run/netns/$ENGINES_NETNS" ]; then ip netns delete "$ENGINES_NETNS"; fi
	engines_cgroups_remove || left=1
	unset DOCKERD_PID CONTAINERD_PID ENGINES_MNTNS
	return "$left"
}

# engines_cgroups: every cgroup directory under /$ENGINES_CGROUP, in every hierarchy.
engines_cgroups() {
	find /sys/fs/cgroup/"$ENGINES_CGROUP" /sys/fs/cgroup/*/"$ENGINES_CGROUP" -type d 2>/dev/null | sort
}

# engines_cgroups_remove: removes the (empty) cgroup tree, deepest first; fails if one
# still holds a process.
engines_cgroups_remove() {
	local ok=0 dir
	while read -r dir; do
		rmdir "$dir" 2>/dev/null || { echo "cgroup not empty: $dir: $(tr '\n' ' ' <"$dir/cgroup.procs" 2>/dev/null)" >&2; ok=1; }
	done < <(engines_cgroups | sort -r)
	return "$ok"
}

# ---- images -------------------------------------------------------------------------------
# The busybox image (images/busybox.tar, two layers: the second deletes /data/secret.txt by
# a whiteout and makes /opt/dir opaque) is what podman and containerd load; dockerd also
# builds an image on it whose RUN deletes a file, which docker stores as a third layer with
# a whiteout of its own.
ENGINES_BUILT=localhost/engines-built:latest

podman_load() { podman load -q -i "$ENGINES_ROOT/images/busybox.tar" >/dev/null; }

ctr_import() { ctr images import "$ENGINES_ROOT/images/busybox.tar" >/dev/null; }

docker_load_and_build() {
	docker load -q -i "$ENGINES_ROOT/images/busybox.tar" >/dev/null
	mkdir -p "$ENGINES_DIR/build"
	cat >"$ENGINES_DIR/build/Dockerfile" <<-'EOF'
		FROM busybox:latest
		RUN rm /data/hello.txt && echo built >/data/built.txt
		CMD ["sh", "-c", "ls /data; cat /data/built.txt"]
	EOF
	# The build's RUN step runs in dockerd's default runtime (runc); the image is the point.
	DOCKER_BUILDKIT=0 docker build -q --network none -t "$ENGINES_BUILT" "$ENGINES_DIR/build" >/dev/null
}
