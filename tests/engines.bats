#!/usr/bin/env bats
# podman, dockerd and containerd driving the OCI runtime $OCI_RUNTIME (default: this
# checkout's launcher): what they print, their exit codes, and nothing of a container left
# on the host after each case. Run by hand:
#   bats tests/engines.bats                               # the launcher (its OCI mode)
#   OCI_RUNTIME=/usr/sbin/runc bats tests/engines.bats    # the same cases against runc
# Outputs are also compared with the same command under $REFERENCE_RUNTIME (runc).
# Pending the launcher's OCI mode (issue 12) its cases fail against the launcher; note that
# tests/check.sh's `bats tests/` runs every tests/*.bats, this file included.

load helpers
load engines

REFERENCE_RUNTIME=${REFERENCE_RUNTIME:-/usr/sbin/runc}
# images/busybox.tar (repository busybox, tag latest) as each engine names it once loaded.
PODMAN_IMAGE=localhost/busybox:latest
DOCKER_IMAGE=busybox:latest
CTR_IMAGE=docker.io/library/busybox:latest
# Answers SIGTERM by saying so and exiting 0 (a PID 1 without a handler ignores it).
TERM_AWARE='trap "echo got TERM; exit 0" TERM; echo ready; while :; do sleep 0.1; done'

setup_file() {
	[ -x "$OCI_RUNTIME" ] || { echo "OCI_RUNTIME=$OCI_RUNTIME is not an executable" >&2; return 1; }
	engines_init "$BATS_FILE_TMPDIR/e"
	# What the host holds before any engine ran, for teardown_file.
	{ host_left; engines_cgroups; } >"$BATS_FILE_TMPDIR/host.before"
	engines_start
	podman_load
	docker_load_and_build
	ctr_import
}

teardown_file() {
	podman rm -af -t 0 >/dev/null 2>&1 || true
	engines_stop
	# The engines' mounts, their store among them, went with their mount namespace.
	rm -rf "$ENGINES_DIR"
	{ host_left; engines_cgroups; } >"$BATS_FILE_TMPDIR/host.after"
	diff "$BATS_FILE_TMPDIR/host.before" "$BATS_FILE_TMPDIR/host.after" >&2
}

# What the engines could leave on the host: a mount of theirs (under $ENGINES_DIR or one of
# the places they use by default), our network namespace, a directory of theirs in the
# default places. Only theirs: other
# work on this machine (other worktrees' tests, a podman of the lead's) mounts and unmounts
# elsewhere all the time. The engines run in their own mount namespace, so everything they
# and the runtime mount is there, and checked after every case (engines_state).
ENGINE_PLACES='/run/containerd /run/docker /run/docker.sock /run/containers /run/libpod /run/runc /run/crun /var/lib/docker /var/lib/containerd /var/lib/containers /opt/containerd /etc/docker/key.json'
host_left() {
	grep -F -e "$ENGINES_DIR" -e "/run/netns/$ENGINES_NETNS" /proc/self/mountinfo | cut -d' ' -f5,9,10 | sort
	for place in $ENGINE_PLACES; do
		grep -q " $place[/ ]" /proc/self/mountinfo && echo "mount on $place"
	done
	ls -d "/run/netns/$ENGINES_NETNS" $ENGINE_PLACES 2>/dev/null || true
}

# Everything a container could leave: what host_left looks at; the engines' mounts and every
# process in their mount namespace but the daemons (conmon, shims); every process in a
# cgroup under /$ENGINES_CGROUP (containers, conmon) and those cgroups themselves (conmon's
# own excepted); the runtime's state directories; what each engine still lists. (Not
# helpers.bash's count of every launcher process and cgroup on the host: other worktrees'
# tests start and stop those all the time, and these cases' containers are all under
# /$ENGINES_CGROUP and the engines' namespace.)
engines_state() {
	local p pid
	echo "host:"
	host_left
	# Not podman's overlay driver home, bound on itself while a podman uses the store and
	# left so by a podman whose run failed, until the next one: the driver's, no container's.
	echo "engine mounts:"
	cut -d' ' -f5,9,10 "/proc/$CONTAINERD_PID/mountinfo" | grep -v "^$ENGINES_DIR/store/podman/root/overlay " | sort
	echo "processes in the engines' mount namespace:"
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		[ "$pid" != "$CONTAINERD_PID" ] && [ "$pid" != "$DOCKERD_PID" ] || continue
		[ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ENGINES_MNTNS" ] && echo "$pid $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)"
	done
	echo "processes in the containers' cgroups:"
	for p in /proc/[0-9]*; do
		grep -q ":/$ENGINES_CGROUP/" "$p/cgroup" 2>/dev/null && echo "${p#/proc/} $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)"
	done
	echo "cgroups:"
	find /sys/fs/cgroup/"$ENGINES_CGROUP" /sys/fs/cgroup/*/"$ENGINES_CGROUP" -mindepth 2 -maxdepth 2 -type d ! -name conmon 2>/dev/null | sort
	echo "state:"
	ls -A "$(oci_state_root)" 2>/dev/null || true
	ls -A "$(docker_state_root)" 2>/dev/null || true
	ls -A "$(ctr_state_root)" 2>/dev/null || true
	echo "containers: $(podman ps -aq) $(docker ps -aq) $(ctr containers ls -q) $(ctr tasks ls -q)"
}

setup() {
	cd "$ROOT"
	engines_state >"$BATS_TEST_TMPDIR/state.before"
}

teardown() {
	# Engines finish some cleaning after they answered (conmon's exit command, the shim):
	# up to 5 s.
	local until=$((SECONDS + 5))
	while :; do
		engines_state >"$BATS_TEST_TMPDIR/state.after"
		cmp -s "$BATS_TEST_TMPDIR/state.before" "$BATS_TEST_TMPDIR/state.after" && return 0
		[ "$SECONDS" -lt "$until" ] || break
		sleep 0.2
	done
	diff "$BATS_TEST_TMPDIR/state.before" "$BATS_TEST_TMPDIR/state.after" >&2
	# Reported; now removed, so that the next case starts clean.
	podman rm -af -t 0 >/dev/null 2>&1
	docker ps -aq | xargs -r "$DOCKER" -H "unix://$(docker_sock)" rm -f >/dev/null 2>&1
	for t in $(ctr tasks ls -q); do ctr tasks kill -s SIGKILL "$t"; ctr tasks delete -f "$t"; done >/dev/null 2>&1
	for c in $(ctr containers ls -q); do ctr containers delete "$c"; done >/dev/null 2>&1
	return 1
}

# What the two-layer image shows: layer 2's whiteout hides /data/secret.txt, its opaque
# /opt/dir hides layer 1's old files, and the config's Env and WorkingDir apply.
LAYERS_SCRIPT='ls -ln /data /opt/dir; cat /opt/dir/new.txt /data/symlink.txt; ls /data/secret.txt /opt/dir/old.txt /opt/dir/sub 2>&1; pwd; id; echo "$GREETING"'

@test "podman run --rm of the two-layer image prints what it prints with runc" {
	run -0 podman_run --rm "$PODMAN_IMAGE" sh -c "$LAYERS_SCRIPT"
	ours=$output
	assert_line 'new content from layer 2'
	assert_line 'hello from layer 1'
	assert_line 'ls: /data/secret.txt: No such file or directory'
	assert_line 'ls: /opt/dir/old.txt: No such file or directory'
	assert_line 'ls: /opt/dir/sub: No such file or directory'
	assert_line '/data'
	assert_line 'hello from the image config'
	refute_line --regexp ' secret\.txt$'
	OCI_RUNTIME=$REFERENCE_RUNTIME run -0 podman_run --rm "$PODMAN_IMAGE" sh -c "$LAYERS_SCRIPT"
	assert_equal "$ours" "$output"
}

@test "podman run -d, exec with and without -t, logs, stop, rm" {
	run -0 podman_run -d --name p1 --log-driver k8s-file "$PODMAN_IMAGE" sh -c "$TERM_AWARE"
	wait_until 10 eval 'podman logs p1 | grep -q ready'
	run -0 --separate-stderr podman exec p1 sh -c 'echo out; echo err >&2; tty || true'
	assert_output $'out\nnot a tty'
	assert_equal "$stderr" err
	run -0 podman exec -i p1 cat <<<'through stdin'
	assert_output 'through stdin'
	run -0 podman exec -t p1 sh -c 'tty; echo "$TERM"'
	assert_equal "$(tr -d '\r' <<<"$output")" $'/dev/pts/0\nxterm'
	run -3 podman exec p1 sh -c 'exit 3'
	run -0 podman stop p1
	run -0 podman logs p1
	assert_output $'ready\ngot TERM'
	run -0 podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' p1
	assert_output 'exited 0'
	run -0 podman rm p1
}

@test "podman kill and rm of a running container" {
	run -0 podman_run -d --name p2 "$PODMAN_IMAGE" sleep 1000
	run -0 podman kill p2
	run -0 podman wait p2
	assert_output 137
	run -0 podman rm p2
}

@test "podman: a missing command exits 127, a file that is not executable 126" {
	# The runtime's error names the path (any failure that says "no such file" gives 127).
	run -127 podman_run --rm "$PODMAN_IMAGE" /nonexistent
	assert_output --partial /nonexistent
	run -126 podman_run --rm "$PODMAN_IMAGE" /data/hello.txt
	assert_output --partial /data/hello.txt
}

# The built image: busybox, and a RUN that deleted /data/hello.txt (a whiteout in a third
# layer) and wrote /data/built.txt.
@test "docker run --runtime of a docker build image prints what it prints with runc" {
	run -0 docker_run --rm "$ENGINES_BUILT"
	assert_output $'built.txt\nhardlink.txt\nowned.txt\nsymlink.txt\nbuilt'
	ours=$output
	ENGINES_RUNTIME_NAME=runc run -0 docker_run --rm "$ENGINES_BUILT"
	assert_equal "$ours" "$output"
}

@test "docker exec, docker stop" {
	run -0 docker_run -d --name d1 "$DOCKER_IMAGE" sh -c "$TERM_AWARE"
	wait_until 10 eval 'docker logs d1 | grep -q ready'
	run -0 --separate-stderr docker exec d1 sh -c 'echo "in $(pwd) as $(id -u)"; echo err >&2'
	assert_output 'in /data as 0'
	assert_equal "$stderr" err
	run -0 docker exec -i d1 cat <<<'through stdin'
	assert_output 'through stdin'
	run -4 docker exec d1 sh -c 'exit 4'
	run -0 docker stop d1
	run -0 docker logs d1
	assert_output $'ready\ngot TERM'
	run -0 docker inspect --format '{{.State.Status}} {{.State.ExitCode}}' d1
	assert_output 'exited 0'
	run -0 docker rm d1
}

@test "docker run: a failing command's exit code, a missing command's 127" {
	run -3 docker_run --rm "$DOCKER_IMAGE" sh -c 'echo failing; exit 3'
	assert_output failing
	run -127 docker_run --rm "$DOCKER_IMAGE" /nonexistent
	assert_output --partial /nonexistent
}

@test "ctr run --rm --runc-binary runs an imported image" {
	id=t$$
	run -0 ctr run --rm --cgroup "/$ENGINES_CGROUP/ctr/$id" --runc-binary "$OCI_RUNTIME" "$CTR_IMAGE" "$id" \
		sh -c 'ls /data; ls /opt/dir; echo "$GREETING"'
	assert_output $'hardlink.txt\nhello.txt\nowned.txt\nsymlink.txt\nnew.txt\nhello from the image config'
	run -5 ctr run --rm --cgroup "/$ENGINES_CGROUP/ctr/$id" --runc-binary "$OCI_RUNTIME" "$CTR_IMAGE" "$id" sh -c 'exit 5'
}

# The after-every-case check itself: a container of each engine left running shows in it
# (their mounts, processes, cgroups, state directories and listings), and is gone again
# once removed.
@test "the after-every-case check sees a container each engine left running" {
	run -0 podman_run -d --name left "$PODMAN_IMAGE" sleep 1000
	pod=$output
	run -0 docker_run -d --name left "$DOCKER_IMAGE" sleep 1000
	dock=$output
	run -0 ctr run -d --cgroup "/$ENGINES_CGROUP/ctr/left" --runc-binary "$OCI_RUNTIME" "$CTR_IMAGE" left sleep 1000
	engines_state >"$BATS_TEST_TMPDIR/state.left"
	run diff "$BATS_TEST_TMPDIR/state.before" "$BATS_TEST_TMPDIR/state.left"
	assert_failure
	assert_line --regexp "^> $ENGINES_DIR/store/podman/root/overlay/[0-9a-f]+/merged overlay "
	assert_line --regexp "^> $ENGINES_DIR/store/docker/overlay2/[0-9a-f]+/merged overlay "
	assert_line --regexp "^> /run/containerd-state/io.containerd.runtime.v2.task/default/left/rootfs overlay "
	assert_line --regexp "^> [0-9]+ /usr/bin/conmon .*$pod"
	assert_line --regexp "^> [0-9]+ /usr/bin/containerd-shim-runc-v2 -namespace moby -id $dock "
	assert_line --regexp "^> [0-9]+ /usr/bin/containerd-shim-runc-v2 -namespace default -id left "
	assert_line --regexp "^> [0-9]+ sleep 1000 $"
	assert_line --regexp "^> /sys/fs/cgroup/pids/$ENGINES_CGROUP/podman/libpod-$pod$"
	assert_line --regexp "^> /sys/fs/cgroup/pids/$ENGINES_CGROUP/docker/$dock$"
	assert_line --regexp "^> /sys/fs/cgroup/pids/$ENGINES_CGROUP/ctr/left$"
	assert_line "> $pod"
	assert_line "> $dock"
	assert_line "> left"
	assert_line --regexp "^> containers: ${pod:0:12} ${dock:0:12} left left$"
	run -0 podman rm -f -t 0 left
	run -0 docker rm -f left
	run -0 ctr tasks delete -f left
	run -0 ctr containers delete left
}
