#!/usr/bin/env bats
# The OCI runtime mode against the runtime-spec: the lifecycle verb by verb, with the state
# after every step, then each config.json field checked from inside the container. Every
# test builds its bundle from one busybox rootfs made in setup_file (tests/oci.bash) and
# keeps its records under a state root of its own; its teardown checks that nothing is
# left: no record, no cgroup under /launcher, no process, no mount.

load helpers
load oci

setup_file() { oci_setup_file; }
setup() { oci_setup; }
teardown() { oci_teardown; }

# ---- Lifecycle --------------------------------------------------------------------------

@test "create: the pid file without a newline, state created, the process waiting before any code of the bundle ran" {
	make_bundle "$B" 'touch /ran; echo started; exec sleep 100'
	oci_create "$ID" --pid-file "$BATS_TEST_TMPDIR/pid"
	pid=$(cat "$BATS_TEST_TMPDIR/pid")
	[ "$(od -An -c "$BATS_TEST_TMPDIR/pid" | tr -d ' ')" = "$(printf %s "$pid" | od -An -c | tr -d ' ')" ]
	[[ $pid =~ ^[0-9]+$ ]]
	run -0 rt state "$ID"
	python3 -SI -c 'import json, sys
s = json.loads(sys.argv[1])
assert s["status"] == "created" and s["pid"] == int(sys.argv[2]) and s["id"] == sys.argv[3], s
assert s["bundle"] == sys.argv[4] and s["rootfs"] == sys.argv[4] + "/rootfs", s
assert s["ociVersion"].startswith("1.") and s["created"].endswith("Z"), s' "$output" "$pid" "$ID" "$B"
	# Blocked (S), a child of no one here but alive, and nothing of the bundle's command ran.
	[ "$(sed 's/.*) \(.\).*/\1/' "/proc/$pid/stat")" = S ]
	[ ! -e "$B/rootfs/ran" ]
	[ ! -s "$BATS_TEST_TMPDIR/$ID.out" ]
	sleep 0.2
	[ ! -e "$B/rootfs/ran" ]
	# Its cgroup is made already.
	grep -q "/launcher.$ID\$" "/proc/$pid/cgroup"

	run -0 rt start "$ID"
	wait_for "$BATS_TEST_TMPDIR/$ID.out" started
	[ -e "$B/rootfs/ran" ]
	[ "$(status_of "$ID")" = running ]
	[ "$(state_field "$ID" pid)" = "$pid" ]
	run -0 rt kill "$ID" KILL
	wait_status "$ID" stopped
	run -0 rt delete "$ID"
}

@test "create: an executable missing from the process's PATH fails the create, as engines expect, and leaves nothing" {
	make_bundle "$B"
	oci_args "$B" nosuch-command
	run -1 rt create --bundle "$B" "$ID"
	assert_output --partial 'exec: "nosuch-command": executable file not found in $PATH'
	oci_args "$B" /bin/nosuch
	run -1 rt create --bundle "$B" "$ID"
	assert_output --partial 'no such file or directory'
	run -1 rt state "$ID"
	assert_output --partial 'does not exist'
}

@test "create: the caller's stdio reaches the process untouched and nothing else stays open; the process is left to the caller's subreaper" {
	make_bundle "$B" 'echo out; echo err >&2; read line; echo "in $line"; exec sleep 100'
	mkfifo "$BATS_TEST_TMPDIR/in"
	exec 4<>"$BATS_TEST_TMPDIR/in"
	# The caller a subreaper, as conmon and the containerd shim are.
	cat >"$BATS_TEST_TMPDIR/subreaper.py" <<-'EOF'
		import ctypes, os, sys
		launcher, state, bundle, cid, tmp = sys.argv[1:6]
		ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
		out = os.open(tmp + "/stdout", os.O_WRONLY | os.O_CREAT, 0o644)
		err = os.open(tmp + "/stderr", os.O_WRONLY | os.O_CREAT, 0o644)
		pid = os.fork()
		if pid == 0:
		    os.dup2(out, 1)
		    os.dup2(err, 2)
		    os.execv(launcher, [launcher, "--root", state, "create", "--bundle", bundle, "--pid-file", tmp + "/pid", cid])
		os.waitpid(pid, 0)
		container = int(open(tmp + "/pid").read())
		with open("/proc/%d/stat" % container) as f:
		    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
		open(tmp + "/parent", "w").write("%d %d\n" % (ppid, os.getpid()))
	EOF
	python3 -SI "$BATS_TEST_TMPDIR/subreaper.py" "$LAUNCHER" "$STATE" "$B" "$ID" "$BATS_TEST_TMPDIR" <&4
	read -r ppid me <"$BATS_TEST_TMPDIR/parent"
	[ "$ppid" = "$me" ]
	pid=$(cat "$BATS_TEST_TMPDIR/pid")
	[ "$(readlink "/proc/$pid/fd/1")" = "$BATS_TEST_TMPDIR/stdout" ]
	[ "$(readlink "/proc/$pid/fd/2")" = "$BATS_TEST_TMPDIR/stderr" ]
	[ "$(readlink "/proc/$pid/fd/0")" = "$(readlink /proc/self/fd/4)" ]
	rt start "$ID"
	echo hello >&4
	wait_for "$BATS_TEST_TMPDIR/stdout" 'in hello'
	[ "$(cat "$BATS_TEST_TMPDIR/stderr")" = err ]
	[ "$(ls "/proc/$pid/fd" | sort | tr '\n' ' ')" = '0 1 2 ' ]
	exec 4>&-
	rt delete --force "$ID"
}

@test "kill: signals by number and by name (9, KILL, SIGKILL, TERM); an unknown name is refused" {
	make_bundle "$B" 'trap "echo got TERM; exit 3" TERM; echo ready; while :; do sleep 0.1; done'
	for sig in 9 KILL SIGKILL TERM; do
		oci_create "$ID"
		rt start "$ID"
		wait_for "$BATS_TEST_TMPDIR/$ID.out" ready
		run -1 rt kill "$ID" NOSUCH
		assert_output --partial 'unknown signal NOSUCH'
		[ "$(status_of "$ID")" = running ]
		run -0 rt kill "$ID" "$sig"
		wait_status "$ID" stopped
		if [ "$sig" = TERM ]; then
			grep -q 'got TERM' "$BATS_TEST_TMPDIR/$ID.out"
		else
			! grep -q 'got TERM' "$BATS_TEST_TMPDIR/$ID.out"
		fi
		rt delete "$ID"
	done
}

@test "state: stopped with pid 0 once the process exits, and stopped until delete; then does not exist (exit 1)" {
	make_bundle "$B" 'echo done'
	oci_create "$ID"
	rt start "$ID"
	wait_status "$ID" stopped
	[ "$(state_field "$ID" pid)" = 0 ]
	grep -q done "$BATS_TEST_TMPDIR/$ID.out"
	sleep 0.3
	[ "$(status_of "$ID")" = stopped ]
	[ -d "$STATE/$ID" ]
	[ -d "$(cgroup_dir freezer "$ID")" ]
	run -1 rt kill "$ID" 9
	assert_output --partial 'container not running'
	run -1 rt start "$ID"
	assert_output --partial 'cannot start'
	[ "$(status_of "$ID")" = stopped ]
	run -0 rt delete "$ID"
	[ ! -e "$STATE/$ID" ]
	[ ! -e "$(cgroup_dir freezer "$ID")" ]
	run -1 rt state "$ID"
	assert_output "launcher: container \"$ID\" does not exist"
	run -1 rt delete "$ID"
	assert_output --partial 'does not exist'
}

@test "delete: a created container is deleted, its waiting process ended" {
	make_bundle "$B" 'touch /ran'
	oci_create "$ID" --pid-file "$BATS_TEST_TMPDIR/pid"
	pid=$(cat "$BATS_TEST_TMPDIR/pid")
	run -0 rt delete "$ID"
	[ ! -e "/proc/$pid" ] || [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$pid/stat")" = Z ]
	[ ! -e "$B/rootfs/ran" ]
	run -1 rt state "$ID"
	assert_output --partial 'does not exist'
}

@test "delete: what a stopped container's process left in its cgroup (no pid namespace of its own) is ended with it" {
	make_bundle "$B" 'sleep 100 & echo "bg $!"'
	oci_edit "$B" 'c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "pid"]'
	oci_create "$ID"
	rt start "$ID"
	wait_status "$ID" stopped
	bg=$(sed -n 's/^bg //p' "$BATS_TEST_TMPDIR/$ID.out")
	grep -qx "$bg" "$(cgroup_dir pids "$ID")/cgroup.procs"
	run -0 rt delete "$ID"
	[ ! -e "$(cgroup_dir pids "$ID")" ]
	# Gone, or a zombie until the host's init reaps it.
	[ ! -e "/proc/$bg" ] || [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$bg/stat")" = Z ]
}

@test "delete --force: a create killed half way (no state.json yet) does not exist for state and list, and its record and cgroup go" {
	make_bundle "$B" true
	oci_edit "$B" 'c["hooks"] = {"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "echo $$ >" + arg + "; exec sleep 30"]}]}' "$BATS_TEST_TMPDIR/hook.pid"
	rt create --bundle "$B" "$ID" </dev/null >/dev/null 2>&1 &
	creator=$!
	wait_file "$BATS_TEST_TMPDIR/hook.pid"
	[ -d "$(cgroup_dir pids "$ID")" ]
	kill -9 "$creator"
	wait "$creator" || true
	kill "$(cat "$BATS_TEST_TMPDIR/hook.pid")"
	[ -d "$STATE/$ID" ] && [ ! -e "$STATE/$ID/state.json" ]
	run -1 rt state "$ID"
	assert_output "launcher: container \"$ID\" does not exist"
	make_bundle "$BATS_TEST_TMPDIR/b2" 'exec sleep 100'
	B=$BATS_TEST_TMPDIR/b2 oci_create "$ID-other"
	run -0 rt list -q
	assert_output "$ID-other"
	rt delete "$ID-other"
	run -1 rt delete "$ID"
	assert_output --partial 'does not exist'
	run -0 rt delete --force "$ID"
	[ ! -e "$STATE/$ID" ]
	for _ in $(seq 50); do [ ! -e "$(cgroup_dir pids "$ID")" ] && break; rt delete --force "$ID"; sleep 0.1; done
	[ ! -e "$(cgroup_dir pids "$ID")" ]
}

@test "delete: a running container without --force is refused with runc's words; --force ends it; --force of an unknown id exits 0" {
	make_bundle "$B" 'echo ready; exec sleep 100'
	oci_create "$ID"
	rt start "$ID"
	wait_for "$BATS_TEST_TMPDIR/$ID.out" ready
	run -1 rt delete "$ID"
	assert_output "launcher: cannot delete container $ID that is not stopped: running"
	[ "$(status_of "$ID")" = running ]
	run -0 rt delete --force "$ID"
	run -1 rt state "$ID"
	run -0 rt delete --force "$ID"
	assert_output ''
	run -0 rt delete -f nosuch-id
}

@test "start: refused on a running and on a stopped container" {
	make_bundle "$B" 'echo ready; read line; echo "read $line"'
	mkfifo "$BATS_TEST_TMPDIR/in"
	exec 4<>"$BATS_TEST_TMPDIR/in"
	rt create --bundle "$B" "$ID" <&4 >"$BATS_TEST_TMPDIR/$ID.out" 2>&1
	rt start "$ID"
	wait_for "$BATS_TEST_TMPDIR/$ID.out" ready
	run -1 rt start "$ID"
	assert_output --partial 'cannot start a container that is running'
	echo go >&4
	exec 4>&-
	wait_status "$ID" stopped
	grep -q 'read go' "$BATS_TEST_TMPDIR/$ID.out"
	run -1 rt start "$ID"
	assert_output --partial 'cannot start a container that is stopped'
	rt delete "$ID"
}

@test "create: an id in use is refused (exists) and the container of that id is untouched" {
	make_bundle "$B" 'exec sleep 100'
	oci_create "$ID" --pid-file "$BATS_TEST_TMPDIR/pid"
	run -1 rt create --bundle "$B" "$ID"
	assert_output --partial "container with id exists: $ID"
	[ "$(status_of "$ID")" = created ]
	[ "$(state_field "$ID" pid)" = "$(cat "$BATS_TEST_TMPDIR/pid")" ]
	[ -p "$STATE/$ID/exec.fifo" ]
	rt delete "$ID"
}

@test "ids: an invalid one is refused by every verb, nothing made" {
	make_bundle "$B" true
	long=$(printf 'a%.0s' $(seq 200))
	for bad in '../x' 'a/b' '.' '..' 'a b' "$long" 'x;y' ''; do
		run -1 rt create --bundle "$B" "$bad"
		assert_output --regexp 'invalid container id|a container id is needed'
		run -1 rt state "$bad"
		assert_output --regexp 'invalid container id|a container id is needed'
		run -1 rt delete --force "$bad"
	done
	run -1 rt create --bundle "$B"
	assert_output --partial 'a container id is needed'
	[ -z "$(ls -A "$STATE" 2>/dev/null)" ]
	[ ! -e "$BATS_TEST_TMPDIR/x" ]
}

@test "state: a pid reused by another process (the record's start time differs) is reported stopped, never signalled" {
	make_bundle "$B" true
	oci_create "$ID"
	rt start "$ID"
	wait_status "$ID" stopped
	# The record now names a live process of the host, with the old start time.
	sleep 100 &
	other=$!
	sed -i "s/\"pid\":[0-9]*/\"pid\":$other/" "$STATE/$ID/state.json"
	[ "$(status_of "$ID")" = stopped ]
	[ "$(state_field "$ID" pid)" = 0 ]
	run -1 rt kill "$ID" 9
	assert_output --partial 'container not running'
	run -0 rt delete "$ID"
	kill -0 "$other"
	kill "$other"
	wait "$other" || true

	# And a live container whose record's start time is changed: stopped as well.
	make_bundle "$BATS_TEST_TMPDIR/b2" 'echo ready; exec sleep 100'
	B=$BATS_TEST_TMPDIR/b2 oci_create "$ID"
	rt start "$ID"
	wait_for "$BATS_TEST_TMPDIR/$ID.out" ready
	pid=$(state_field "$ID" pid)
	[ "$(status_of "$ID")" = running ]
	sed -i 's/"startTime":\([0-9]*\)/"startTime":1\1/' "$STATE/$ID/state.json"
	[ "$(status_of "$ID")" = stopped ]
	run -1 rt kill "$ID" KILL
	assert_output --partial 'container not running'
	kill -0 "$pid"
	kill -9 "$pid"
	wait_status "$ID" stopped
	for _ in $(seq 50); do [ -z "$(cat "$(cgroup_dir freezer "$ID")/cgroup.procs")" ] && break; sleep 0.1; done
	run -0 rt delete "$ID"
}

@test "run: the process's exit status in the foreground, nothing kept; run -d leaves it running" {
	make_bundle "$B" 'echo out; echo err >&2; exit 7'
	run -7 rt run --bundle "$B" "$ID"
	assert_line out
	assert_line err
	run -1 rt state "$ID"
	assert_output --partial 'does not exist'

	make_bundle "$BATS_TEST_TMPDIR/b2" 'echo ready; exec sleep 100'
	rt run -d --bundle "$BATS_TEST_TMPDIR/b2" "$ID" </dev/null >"$BATS_TEST_TMPDIR/$ID.out" 2>&1
	wait_for "$BATS_TEST_TMPDIR/$ID.out" ready
	[ "$(status_of "$ID")" = running ]
	rt kill "$ID" 9
	wait_status "$ID" stopped
	rt delete "$ID"

	# A file that cannot be executed: 126 (found at create, refused by execve).
	oci_args "$B" /etc/passwd
	run -126 rt run --bundle "$B" "$ID"
	assert_output --partial 'Permission denied'
	# Killed by a signal: 128 + its number, as a shell says it.
	rt run --bundle "$BATS_TEST_TMPDIR/b2" "$ID" </dev/null >"$BATS_TEST_TMPDIR/run.out" 2>&1 &
	runner=$!
	wait_for "$BATS_TEST_TMPDIR/run.out" ready
	rt kill "$ID" KILL
	rc=0
	wait "$runner" || rc=$?
	[ "$rc" = 137 ]
	run -1 rt state "$ID"
}

@test "pause and resume: state paused, the process frozen, then running again; only a running container pauses" {
	make_bundle "$B" 'i=0; while :; do i=$((i+1)); echo $i >/count; sleep 0.05; done'
	oci_create "$ID"
	run -1 rt pause "$ID"
	assert_output --partial 'is not running'
	rt start "$ID"
	wait_for "$B/rootfs/count" 2
	run -0 rt pause "$ID"
	[ "$(status_of "$ID")" = paused ]
	[ "$(cat "$(cgroup_dir freezer "$ID")/freezer.state")" = FROZEN ]
	sleep 0.2
	a=$(cat "$B/rootfs/count")
	sleep 0.3
	[ "$(cat "$B/rootfs/count")" = "$a" ]
	run -1 rt pause "$ID"
	run -1 rt exec "$ID" true
	assert_output --partial 'paused'
	run -0 rt resume "$ID"
	[ "$(status_of "$ID")" = running ]
	run -1 rt resume "$ID"
	assert_output --partial 'is not paused'
	sleep 0.3
	[ "$(cat "$B/rootfs/count")" -gt "$a" ]
	# A paused container is deleted with --force too.
	rt pause "$ID"
	run -0 rt delete --force "$ID"
}

@test "ps: the container's processes, as a table and as a JSON array" {
	make_bundle "$B" 'sleep 100 & echo ready; wait'
	oci_create "$ID" --pid-file "$BATS_TEST_TMPDIR/pid"
	rt start "$ID"
	wait_for "$BATS_TEST_TMPDIR/$ID.out" ready
	pid=$(cat "$BATS_TEST_TMPDIR/pid")
	run -0 rt ps --format json "$ID"
	python3 -SI -c 'import json, sys
pids = json.loads(sys.argv[1])
assert len(pids) == 2 and int(sys.argv[2]) in pids and all(isinstance(p, int) for p in pids), pids' "$output" "$pid"
	run -0 rt ps "$ID"
	assert_line --index 0 --regexp '^PID'
	assert_line --regexp "^$pid[[:space:]]+sh\$"
	assert_line --regexp '[[:space:]]sleep$'
	run -1 rt ps --format yaml "$ID"
	rt delete --force "$ID"
}

@test "list: every container of the state root, as a table, -q and JSON" {
	make_bundle "$B" 'exec sleep 100'
	oci_create "$ID-a"
	oci_create "$ID-b"
	rt start "$ID-b"
	run -0 rt list
	assert_line --index 0 --regexp '^ID[[:space:]]+PID[[:space:]]+STATUS[[:space:]]+BUNDLE'
	assert_line --regexp "^$ID-a[[:space:]]+[0-9]+[[:space:]]+created[[:space:]]+$B"
	assert_line --regexp "^$ID-b[[:space:]]+[0-9]+[[:space:]]+running[[:space:]]+$B"
	run -0 rt list -q
	[ "$(sort <<<"$output")" = "$(printf '%s\n' "$ID-a" "$ID-b")" ]
	run -0 rt list --format json
	python3 -SI -c 'import json, sys
l = {c["id"]: c["status"] for c in json.loads(sys.argv[1])}
assert l == {sys.argv[2] + "-a": "created", sys.argv[2] + "-b": "running"}, l' "$output" "$ID"
	rt delete "$ID-a"
	rt delete --force "$ID-b"
	run -0 rt list --format json
	assert_output '[]'
}

@test "features: valid JSON naming the hooks, namespaces and mount options" {
	run -0 "$LAUNCHER" features
	python3 -SI -c 'import json, sys
f = json.loads(sys.argv[1])
assert f["ociVersionMin"].startswith("1.") and f["ociVersionMax"].startswith("1."), f
assert set(f["hooks"]) == {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}, f["hooks"]
assert {"pid", "network", "mount", "ipc", "uts", "user", "cgroup"} <= set(f["linux"]["namespaces"])
assert {"ro", "nosuid", "rbind", "rprivate"} <= set(f["mountOptions"])
assert "CAP_SYS_ADMIN" in f["linux"]["capabilities"]' "$output"
}

@test "update --resources -: the memory, pids and cpu limits written to the container's cgroups" {
	make_bundle "$B" 'exec sleep 100'
	oci_create "$ID"
	rt start "$ID"
	echo '{"memory":{"limit":33554432},"pids":{"limit":42},"cpu":{"shares":256}}' | rt update --resources - "$ID"
	[ "$(cat "$(cgroup_dir memory "$ID")/memory.limit_in_bytes")" = 33554432 ]
	[ "$(cat "$(cgroup_dir pids "$ID")/pids.max")" = 42 ]
	[ "$(cat "$(cgroup_dir cpu "$ID")/cpu.shares")" = 256 ]
	echo '{"memory":{"limit":67108864}}' >"$BATS_TEST_TMPDIR/r.json"
	run -0 rt update --resources "$BATS_TEST_TMPDIR/r.json" "$ID"
	[ "$(cat "$(cgroup_dir memory "$ID")/memory.limit_in_bytes")" = 67108864 ]
	run -1 rt update --resources - "$ID" <<<'{"memory":{"limit":"lots"}}'
	assert_output --partial 'linux.resources.memory.limit: expected bytes'
	run -1 rt update "$ID"
	assert_output --partial 'update: --resources'
	rt delete --force "$ID"
}

@test "exec: every namespace and the cgroups of the container's process, the exit status passed through" {
	make_bundle "$B" 'echo ready; exec sleep 100'
	oci_edit "$B" 'c["linux"]["namespaces"].append({"type": "cgroup"})'
	oci_create "$ID" --pid-file "$BATS_TEST_TMPDIR/pid"
	rt start "$ID"
	wait_for "$BATS_TEST_TMPDIR/$ID.out" ready
	pid=$(cat "$BATS_TEST_TMPDIR/pid")
	run -0 rt exec "$ID" sh -c 'for n in cgroup ipc mnt net pid uts user; do echo "$n $(readlink /proc/self/ns/$n)"; done'
	for n in cgroup ipc mnt net pid uts user; do
		assert_line "$n $(readlink "/proc/$pid/ns/$n")"
	done
	# Its cgroups on the host are the container's.
	rt exec -d --pid-file "$BATS_TEST_TMPDIR/exec.pid" "$ID" sleep 100
	epid=$(cat "$BATS_TEST_TMPDIR/exec.pid")
	wait_for_exec() { [ "$(readlink "/proc/$epid/exe")" = "$(readlink "/proc/$pid/exe")" ]; } # sleep, once execed
	for _ in $(seq 50); do wait_for_exec && break; sleep 0.1; done
	wait_for_exec
	diff "/proc/$pid/cgroup" "/proc/$epid/cgroup"
	grep -qx "$epid" "$(cgroup_dir freezer "$ID")/cgroup.procs"
	run -5 rt exec "$ID" sh -c 'exit 5'
	run -127 rt exec "$ID" nosuch # a command not found: 127, as a shell's
	assert_output --partial 'exec: "nosuch": executable file not found in $PATH'
	run -0 rt exec "$ID" sh -c 'echo $$'
	[ "$output" != 1 ]
	run -0 rt exec "$ID" sh -c "tr '\\0' ' ' </proc/1/cmdline"
	assert_output --partial sleep
	rt delete --force "$ID"
	[ ! -e "/proc/$epid" ] || [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$epid/stat")" = Z ]
}

@test "exec: --env, --cwd, --user, --cap, --process FILE; refused on a stopped container" {
	make_bundle "$B" 'echo ready; exec sleep 100'
	oci_create "$ID"
	rt start "$ID"
	wait_for "$BATS_TEST_TMPDIR/$ID.out" ready
	run -0 rt exec --env FOO=bar -e BAZ=qux "$ID" sh -c 'echo "$FOO $BAZ"'
	assert_output 'bar qux'
	run -0 rt exec --cwd /etc "$ID" pwd
	assert_output /etc
	run -0 rt exec --user 1000:1001 "$ID" sh -c 'echo $(id -u) $(id -g)'
	assert_output '1000 1001'
	run -0 rt exec "$ID" grep CapEff /proc/self/status
	assert_output "$(printf 'CapEff:\t%016x' $(( (1 << 29) | (1 << 5) | (1 << 10) )))"
	run -0 rt exec --cap CAP_SYS_ADMIN "$ID" grep CapEff /proc/self/status
	assert_output "$(printf 'CapEff:\t%016x' $(( (1 << 29) | (1 << 5) | (1 << 10) | (1 << 21) )))"
	run -1 rt exec --cap CAP_NOSUCH "$ID" true
	assert_output --partial 'unknown capability'
	cat >"$BATS_TEST_TMPDIR/process.json" <<-EOF
		{"terminal": false, "user": {"uid": 1234, "gid": 1235, "additionalGids": [7]},
		 "args": ["sh", "-c", "echo \$(id -u) \$(id -g) \$(id -G) \$PWD \$WHO"],
		 "env": ["PATH=/bin", "WHO=process-file"], "cwd": "/tmp",
		 "capabilities": {"bounding": ["CAP_KILL"], "effective": [], "permitted": []}}
	EOF
	run -0 rt exec --process "$BATS_TEST_TMPDIR/process.json" "$ID"
	assert_output '1234 1235 1235 7 /tmp process-file'
	echo '{"args": [' >"$BATS_TEST_TMPDIR/bad.json"
	run -1 rt exec --process "$BATS_TEST_TMPDIR/bad.json" "$ID"
	assert_output --partial "process $BATS_TEST_TMPDIR/bad.json"
	rt kill "$ID" 9
	wait_status "$ID" stopped
	run -1 rt exec "$ID" true
	assert_output --partial 'cannot exec in a stopped container'
	rt delete "$ID"
}

@test "exec --tty --console-socket: the exec'd process's terminal is a new pty of the container, its master sent over the socket" {
	make_bundle "$B" 'echo ready; exec sleep 100'
	oci_create "$ID"
	rt start "$ID"
	wait_for "$BATS_TEST_TMPDIR/$ID.out" ready
	run -1 rt exec --tty --detach "$ID" tty
	assert_output --partial 'cannot allocate tty if runc will detach without setting console socket'
	sock=$BATS_TEST_TMPDIR/console.sock
	console_receiver "$sock" "$BATS_TEST_TMPDIR/console" &
	receiver=$!
	wait_file "$BATS_TEST_TMPDIR/console.ready"
	run -3 rt exec --tty --console-socket "$sock" "$ID" sh -c 'tty; exit 3'
	wait "$receiver"
	run cat "$BATS_TEST_TMPDIR/console"
	assert_output "$(printf '%s\n' 'fds 1 name /dev/pts/0 ptn 0' /dev/pts/0)"
	rt delete --force "$ID"
}

@test "--log FILE --log-format json: one JSON object per error (level, msg, time), even for an error before any verb" {
	log=$BATS_TEST_TMPDIR/log.json
	run -1 "$LAUNCHER" --log "$log" --log-format json create --bogus x
	[ "$(wc -l <"$log")" = 1 ]
	run -1 "$LAUNCHER" --root "$STATE" --log "$log" --log-format=json state nosuch
	[ "$(wc -l <"$log")" = 2 ]
	# A failure inside the container's process, before create returns: one line too.
	make_bundle "$B" true
	# (A missing cwd is made, as runc makes it; one under a file cannot be.)
	oci_edit "$B" 'c["process"]["cwd"] = "/etc/passwd/x"'
	run -1 "$LAUNCHER" --root "$STATE" --log "$log" --log-format json create --bundle "$B" "$ID" </dev/null
	assert_output --partial 'create directory /etc/passwd/x: Not a directory'
	[ "$(wc -l <"$log")" = 3 ]
	python3 -SI -c 'import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
for l in lines:
    assert set(l) == {"level", "msg", "time"} and l["level"] == "error", l
    assert l["time"][:2] == "20" and l["time"].endswith("Z"), l
assert lines[0]["msg"] == "flag provided but not defined: --bogus", lines[0]
assert lines[1]["msg"] == "container \"nosuch\" does not exist", lines[1]
assert "create directory /etc/passwd/x" in lines[2]["msg"], lines[2]' "$log"
	# Text, runc's logrus format.
	run -1 "$LAUNCHER" --root "$STATE" --log "$BATS_TEST_TMPDIR/log.txt" state nosuch
	grep -Eq '^time="[^"]+" level=error msg="container "nosuch" does not exist"$' "$BATS_TEST_TMPDIR/log.txt"
	run -1 "$LAUNCHER" --log-format yaml state x
	assert_output --partial 'invalid log-format: yaml'
}

@test "global flags: --root X, --root=X and -root X name the same state root" {
	make_bundle "$B" 'exec sleep 100'
	"$LAUNCHER" --root "$STATE" create --bundle "$B" "$ID" </dev/null >/dev/null 2>&1
	[ -p "$STATE/$ID/exec.fifo" ]
	run -0 "$LAUNCHER" --root="$STATE" state "$ID"
	assert_output --partial '"status":"created"'
	run -0 "$LAUNCHER" -root "$STATE" list -q
	assert_output "$ID"
	run -0 "$LAUNCHER" -root="$STATE" --debug --systemd-cgroup=false --log-format text start "$ID"
	[ "$(status_of "$ID")" = running ]
	run -1 "$LAUNCHER" --root "$BATS_TEST_TMPDIR/other" state "$ID"
	assert_output --partial 'does not exist'
	run -0 "$LAUNCHER" --root "$STATE" delete -f "$ID"
	rm -rf "$BATS_TEST_TMPDIR/other"
	# A flag runc does not know, before a verb, is runc's error (exit 1), not the image
	# command line's (125); before an archive it stays the image command line's.
	run -1 "$LAUNCHER" --bogus state "$ID"
	assert_output 'launcher: flag provided but not defined: --bogus'
	run -1 "$LAUNCHER" --root "$STATE" -bogus=1 list
	assert_output 'launcher: flag provided but not defined: -bogus'
	run -125 "$LAUNCHER" --bogus "$BATS_TEST_DIRNAME/../images/hello.tar"
	assert_output --partial 'unknown flag: --bogus'
}

# ---- config.json, field by field, seen from inside the container -------------------------

@test "process: args, env, cwd, user (uid, gid, additionalGids, umask)" {
	make_bundle "$B" 'echo "$0 $1 [$FOO] [$EMPTY]"; pwd; id -u; id -g; id -G; umask; touch /tmp/f; stat -c %a /tmp/f' 
	oci_args "$B" sh -c 'echo "[$FOO] [$EMPTY]"; pwd; id -u; id -g; id -G; umask; touch /tmp/new; stat -c %a /tmp/new' arg0
	oci_edit "$B" 'p = c["process"]; p["env"] = ["PATH=/bin", "FOO=bar baz", "EMPTY="]; p["cwd"] = "/tmp"
p["user"] = {"uid": 1000, "gid": 1001, "additionalGids": [5, 1002], "umask": 0o027}
c["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["mode=1777"]})'
	run -0 rt run --bundle "$B" "$ID"
	assert_output "$(printf '%s\n' '[bar baz] []' /tmp 1000 1001 '1001 5 1002' 0027 640)"
}

@test "process.capabilities: the five sets as given (CapBnd, CapInh, CapAmb exact; CapPrm, CapEff as execve makes them)" {
	# A user other than root: execve gives it its ambient set as permitted and effective.
	make_bundle "$B" 'grep ^Cap /proc/self/status'
	oci_edit "$B" 'c["process"]["user"] = {"uid": 1000, "gid": 1000}
c["process"]["capabilities"] = {"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_NET_RAW"],
  "effective": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"], "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
  "inheritable": ["CAP_KILL", "CAP_NET_RAW"], "ambient": ["CAP_KILL"]}'
	run -0 rt run --bundle "$B" "$ID"
	bnd=$(( (1 << 0) | (1 << 5) | (1 << 7) | (1 << 13) )) inh=$(( (1 << 5) | (1 << 13) )) amb=$(( 1 << 5 ))
	assert_output "$(printf 'CapInh:\t%016x\nCapPrm:\t%016x\nCapEff:\t%016x\nCapBnd:\t%016x\nCapAmb:\t%016x' $inh $amb $amb $bnd $amb)"
	# Root: execve gives it its bounding and inheritable sets as permitted and effective,
	# unless no_new_privs holds it to the permitted set it had.
	make_bundle "$BATS_TEST_TMPDIR/b2" 'grep ^Cap /proc/self/status'
	caps='c["process"]["capabilities"] = {"bounding": ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_RAW"],
  "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"], "inheritable": ["CAP_NET_RAW"], "ambient": []}'
	oci_edit "$BATS_TEST_TMPDIR/b2" "$caps; c['process']['noNewPrivileges'] = False"
	run -0 rt run --bundle "$BATS_TEST_TMPDIR/b2" "$ID"
	bnd=$(( (1 << 0) | (1 << 21) | (1 << 13) )) inh=$(( 1 << 13 ))
	assert_output "$(printf 'CapInh:\t%016x\nCapPrm:\t%016x\nCapEff:\t%016x\nCapBnd:\t%016x\nCapAmb:\t%016x' $inh $((bnd | inh)) $((bnd | inh)) $bnd 0)"
	oci_edit "$BATS_TEST_TMPDIR/b2" "$caps; c['process']['noNewPrivileges'] = True"
	run -0 rt run --bundle "$BATS_TEST_TMPDIR/b2" "$ID"
	assert_output "$(printf 'CapInh:\t%016x\nCapPrm:\t%016x\nCapEff:\t%016x\nCapBnd:\t%016x\nCapAmb:\t%016x' $inh 1 1 $bnd 0)"
	# A name the launcher does not know is refused, not dropped.
	run_refused 'c["process"]["capabilities"]["bounding"].append("CAP_NOSUCH")' 'process.capabilities: unknown capability'
}

@test "process: rlimits, noNewPrivileges, oomScoreAdj" {
	make_bundle "$B" 'ulimit -Sn; ulimit -Hn; ulimit -Sc; grep NoNewPrivs /proc/self/status; cat /proc/self/oom_score_adj'
	oci_edit "$B" 'p = c["process"]; p["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456}, {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]
p["noNewPrivileges"] = True; p["oomScoreAdj"] = 123'
	run -0 rt run --bundle "$B" "$ID"
	assert_output "$(printf '123\n456\n0\nNoNewPrivs:\t1\n123')"
	# (Below the caller's own would need CAP_SYS_RESOURCE, which this machine's root lacks.)
	oci_edit "$B" 'p = c["process"]; p["noNewPrivileges"] = False; p["oomScoreAdj"] = 1000; del p["rlimits"]'
	run -0 rt run --bundle "$B" "$ID"
	assert_line "$(printf 'NoNewPrivs:\t0')"
	assert_line 1000
	run_refused 'c["process"]["oomScoreAdj"] = 1001' 'process.oomScoreAdj: expected -1000 to 1000'
	run_refused 'c["process"]["oomScoreAdj"] = 0; c["process"]["rlimits"] = [{"type": "RLIMIT_NOSUCH", "soft": 1, "hard": 1}]' 'process.rlimits: expected a known type'
}

@test "process.terminal: the pty's master over the console socket; the process's tty is /dev/pts/0, its size consoleSize" {
	make_bundle "$B" 'tty; stty size; echo done'
	oci_edit "$B" 'c["process"]["terminal"] = True; c["process"]["consoleSize"] = {"height": 30, "width": 100}'
	sock=$BATS_TEST_TMPDIR/console.sock
	console_receiver "$sock" "$BATS_TEST_TMPDIR/console" &
	receiver=$!
	wait_file "$BATS_TEST_TMPDIR/console.ready"
	run -1 rt create --bundle "$B" "$ID"
	assert_output --partial 'process.terminal is true: --console-socket is needed'
	oci_create "$ID" --console-socket "$sock"
	wait_for "$BATS_TEST_TMPDIR/console" 'fds 1 name /dev/pts/0 ptn 0'
	[ "$(status_of "$ID")" = created ]
	rt start "$ID"
	wait "$receiver"
	run cat "$BATS_TEST_TMPDIR/console"
	assert_output "$(printf '%s\n' 'fds 1 name /dev/pts/0 ptn 0' /dev/pts/0 '30 100' done)"
	[ ! -s "$BATS_TEST_TMPDIR/$ID.out" ]
	wait_status "$ID" stopped
	rt delete "$ID"
}

@test "process.terminal without --console-socket: run and exec in the foreground relay the pty themselves, as runc's; detached they are refused in runc's words" {
	make_bundle "$B" 'tty; read line; echo "got $line"; exit 3'
	oci_edit "$B" 'c["process"]["terminal"] = True'
	run -1 rt run -d --bundle "$B" "$ID" </dev/null
	assert_output --partial 'cannot allocate tty if runc will detach without setting console socket'
	run -1 rt state "$ID"
	# On a terminal (script's pty): raw mode, the input passed through, the status back.
	run bash -c "(sleep 2; printf 'hello\r'; sleep 2) | script -qec 'exec $LAUNCHER --root $STATE run --bundle $B $ID' /dev/null"
	assert_failure 3
	assert_output --partial /dev/pts/0
	assert_output --partial 'got hello'
	run -1 rt state "$ID" # run without --keep deletes it
	# exec --tty of a running container: a pty of its own, with and without a host terminal.
	make_bundle "$B" 'exec sleep 100'
	oci_create "$ID"
	rt start "$ID"
	run -4 rt exec --tty "$ID" sh -c 'tty; exit 4' </dev/null
	assert_output --regexp '^/dev/pts/[0-9]+'
	run bash -c "(sleep 2; printf 'typed\r'; sleep 2) | script -qec 'exec $LAUNCHER --root $STATE exec --tty $ID sh -c \"read l; echo got \\\$l; exit 5\"' /dev/null"
	assert_failure 5
	assert_output --partial 'got typed'
	run -1 rt exec --tty --detach "$ID" true </dev/null
	assert_output --partial 'cannot allocate tty if runc will detach without setting console socket'
	rt delete -f "$ID"
}

@test "root.readonly, hostname, domainname" {
	make_bundle "$B" 'touch /x 2>&1; hostname; cat /proc/sys/kernel/domainname; awk "\$5 == \"/\" { print \$6 }" /proc/self/mountinfo'
	oci_edit "$B" 'c["root"]["readonly"] = True; c["hostname"] = "box"; c["domainname"] = "example.test"'
	run -0 rt run --bundle "$B" "$ID"
	assert_output "$(printf '%s\n' 'touch: /x: Read-only file system' box example.test ro,relatime)"
	[ ! -e "$B/rootfs/x" ]
	[ "$(hostname)" != box ]
	# No UTS namespace of its own: a host name is refused, not set on the host nor dropped.
	oci_edit "$B" 'c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "uts"]'
	run -1 rt run --bundle "$B" "$ID"
	assert_output 'launcher: unable to set hostname without a private UTS namespace'
	[ "$(hostname)" != box ]
	# An empty one is no name (docker sends "" with --uts host).
	oci_edit "$B" 'c["hostname"] = ""; del c["domainname"]; c["root"]["readonly"] = False'
	run -0 rt run --bundle "$B" "$ID"
	assert_line "$(hostname)"
	# A missing process.cwd is made before the root goes read-only, as runc's prepareRootfs
	# makes it before finalizeRootfs remounts the root.
	oci_edit "$B" 'c["root"]["readonly"] = True; c["process"]["cwd"] = "/made/here"; c["process"]["args"] = ["sh", "-c", "pwd; touch x 2>&1"]'
	run -1 rt run --bundle "$B" "$ID" # touch's status
	assert_output "$(printf '%s\n' /made/here 'touch: x: Read-only file system')"
	[ -d "$B/rootfs/made/here" ]
}

@test "mounts: tmpfs with size and mode, bind ro, a file bound, nosuid/nodev/noexec as mountinfo shows them" {
	src=$BATS_TEST_TMPDIR/src
	mkdir "$src"
	echo content >"$src/file"
	make_bundle "$B" 'flags() { awk -v d="$1" '\''$5 == d { print $6 }'\'' /proc/self/mountinfo; }
stat -c %a /scratch; df -k /scratch | awk '\''NR == 2 { print $2 }'\''; flags /scratch
cat /ro/file; touch /ro/x 2>&1; flags /ro
echo new >/rw/new; flags /rw
cat /file.txt; flags /file.txt'
	oci_edit "$B" 'c["mounts"] += [
 {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "noexec", "size=1m", "mode=1770"]},
 {"destination": "/ro", "type": "bind", "source": arg, "options": ["bind", "ro"]},
 {"destination": "/rw", "type": "none", "source": arg, "options": ["rbind", "rw", "noexec", "nosuid"]},
 {"destination": "/file.txt", "type": "bind", "source": arg + "/file", "options": ["bind", "ro"]}]' "$src"
	run -0 rt run --bundle "$B" "$ID"
	assert_output "$(printf '%s\n' 1770 1024 rw,nosuid,nodev,noexec,relatime content 'touch: /ro/x: Read-only file system' ro,relatime \
		rw,nosuid,noexec,relatime content ro,relatime)"
	[ "$(cat "$src/new")" = new ]
	[ ! -e "$src/x" ]
	# The directories and the file the mounts needed were made in the rootfs.
	[ -d "$B/rootfs/scratch" ] && [ -f "$B/rootfs/file.txt" ]
	# A missing source, and an option a bind mount cannot take, are refused.
	run_refused 'c["mounts"][-1]["source"] = "/nosuch"' 'open mount source /nosuch'
	oci_edit "$B" 'c["mounts"][-1]["source"] = arg + "/file"; c["mounts"][-1]["options"].append("idmap")' "$src"
	run -1 rt run --bundle "$B" "$ID"
	assert_output --partial 'bind mount option idmap is not supported'
}

@test "mounts: bind against rbind, propagation options, and rootfsPropagation (a mount the host makes later reaches a slave only)" {
	# In a mount namespace of the test's own, a shared tree with a submount.
	cat >"$BATS_TEST_TMPDIR/inner.sh" <<-'EOF'
		set -eu
		t=$BATS_TEST_TMPDIR/tree
		mkdir "$t"
		mount -t tmpfs tree "$t"
		mkdir "$t/sub" "$t/late"
		mount -t tmpfs sub "$t/sub"
		echo x >"$t/sub/f"
		mount --make-rshared "$t"
		before=$(wc -l </proc/self/mountinfo)
		"$LAUNCHER" --root "$STATE" run -d --bundle "$B" "$ID" </dev/null >"$BATS_TEST_TMPDIR/out" 2>&1
		for _ in $(seq 100); do grep -q ready "$BATS_TEST_TMPDIR/out" && break; sleep 0.1; done
		mount -t tmpfs late "$t/late"
		touch "$t/late/f" "$t/mounted"
		for _ in $(seq 100); do grep -q done "$BATS_TEST_TMPDIR/out" && break; sleep 0.1; done
		"$LAUNCHER" --root "$STATE" delete --force "$ID"
		umount "$t/late"
		# Nothing the container mounted came back into this namespace.
		[ "$(wc -l </proc/self/mountinfo)" = "$before" ] || { echo "mounts leaked:"; cat /proc/self/mountinfo; }
		cat "$BATS_TEST_TMPDIR/out"
	EOF
	make_bundle "$B" 'tags() { awk -v d="$1" '\''$5 == d { s = ""; for (i = 7; $i != "-"; i++) s = s " " substr($i, 1, index($i, ":")); print d ":" s }'\'' /proc/self/mountinfo; }
ls /bind/sub; echo; cat /rbind/sub/f; tags /rbind; tags /priv; tags /shr; echo ready
for _ in $(seq 200); do [ -e /bind/mounted ] && break; sleep 0.05; done
for d in /rbind /priv /shr; do [ -e $d/late/f ] && echo "$d sees late" || echo "$d does not see late"; done; echo done; exec sleep 100'
	oci_edit "$B" 'c["mounts"] += [{"destination": "/bind", "type": "bind", "source": arg, "options": ["bind"]},
 {"destination": "/rbind", "type": "bind", "source": arg, "options": ["rbind"]},
 {"destination": "/priv", "type": "bind", "source": arg, "options": ["rbind", "rprivate"]},
 {"destination": "/shr", "type": "bind", "source": arg, "options": ["rbind", "rshared"]}]' "$BATS_TEST_TMPDIR/tree"
	cp "$B/config.json" "$BATS_TEST_TMPDIR/config.default"
	export LAUNCHER STATE B ID BATS_TEST_TMPDIR
	run -0 unshare -m --propagation private bash "$BATS_TEST_TMPDIR/inner.sh"
	# Default: rslave, as runc.
	assert_output "$(printf '%s\n' '' x '/rbind: master:' '/priv:' '/shr: shared: master:' ready '/rbind sees late' '/priv does not see late' '/shr sees late' done)"
	# rootfsPropagation rprivate: nothing reaches the container.
	oci_edit "$B" 'c["linux"]["rootfsPropagation"] = "rprivate"'
	rm -rf "$BATS_TEST_TMPDIR/tree"
	run -0 unshare -m --propagation private bash "$BATS_TEST_TMPDIR/inner.sh"
	assert_output "$(printf '%s\n' '' x '/rbind:' '/priv:' '/shr: shared:' ready '/rbind does not see late' '/priv does not see late' '/shr does not see late' done)"
	# private and slave on / alone (not recursive): the mounts around the rootfs keep
	# their propagation, and nothing of the container's may come back through them.
	for p in private slave; do
		oci_edit "$B" 'c["linux"]["rootfsPropagation"] = arg' "$p"
		rm -rf "$BATS_TEST_TMPDIR/tree"
		run -0 unshare -m --propagation private bash "$BATS_TEST_TMPDIR/inner.sh"
		refute_output --partial 'mounts leaked'
	done
	run_refused 'c["linux"]["rootfsPropagation"] = "rshared"' 'linux.rootfsPropagation: shared is not supported'
	run_refused 'c["linux"]["rootfsPropagation"] = "sideways"' 'linux.rootfsPropagation: expected private'
}

@test "mounts: a destination through a symlink of the rootfs that points outside lands inside the container" {
	host=$BATS_TEST_TMPDIR/host
	mkdir "$host"
	echo sentinel >"$host/sentinel"
	make_bundle "$B" 'echo in >/evil/x/f; echo in >/evil2/x/f; awk '\''$5 ~ /\/x$/ { print $5 }'\'' /proc/self/mountinfo'
	ln -s / "$B/rootfs/evil"
	ln -s "$host" "$B/rootfs/evil2"
	oci_edit "$B" 'c["mounts"] += [{"destination": "/evil/x", "type": "tmpfs", "source": "tmpfs", "options": []},
 {"destination": "/evil2/x", "type": "tmpfs", "source": "tmpfs", "options": []}]'
	run -0 rt run --bundle "$B" "$ID"
	assert_output "$(printf '%s\n' /x "$host/x")"
	[ "$(ls "$host")" = sentinel ]
	[ "$(cat "$host/sentinel")" = sentinel ]
	[ ! -e /x ]
	# The mount points were made inside the rootfs.
	[ -d "$B/rootfs/x" ] && [ -d "$B/rootfs/$host/x" ]
	# A bind mount's destination too.
	oci_edit "$B" 'c["mounts"] = c["mounts"][:-2] + [{"destination": "/evil2/bound", "type": "bind", "source": "/etc", "options": ["bind", "ro"]}]'
	oci_args "$B" true 2>/dev/null || true
	run -0 rt run --bundle "$B" "$ID"
	[ "$(ls "$host")" = sentinel ]
}

@test "mounts: a destination inside /proc is refused, however it is spelt or reached, nothing left" {
	make_bundle "$B" true
	ln -s /proc "$B/rootfs/p"
	for dest in /proc/sys /proc/self/x /proc/ //proc/sys/vm /./proc/sys/fs /x/../proc/sys/kernel /p/sys/kernel; do
		oci_edit "$B" 'c["mounts"].append({"destination": arg, "type": "tmpfs", "source": "tmpfs", "options": []})' "$dest"
		run -1 rt create --bundle "$B" "$ID"
		assert_output "launcher: mount on $dest: a mount inside /proc is refused"
		oci_edit "$B" 'c["mounts"].pop()'
	done
	# A bind mount's too; proc on /proc itself is what every bundle has.
	oci_edit "$B" 'c["mounts"].append({"destination": "/p/sys/kernel/hostname", "type": "bind", "source": "/etc/hostname", "options": ["bind"]})'
	run -1 rt create --bundle "$B" "$ID"
	assert_output "launcher: mount on /p/sys/kernel/hostname: a mount inside /proc is refused"
	[ ! -e "$STATE/$ID" ]
}

@test "linux.namespaces: each new one differs from the host's; a network namespace joined by path" {
	make_bundle "$B" 'for n in cgroup ipc mnt net pid uts time; do echo "$n $(readlink /proc/self/ns/$n)"; done; echo "pid $$"; cat /proc/net/dev | awk '\''NR > 2 { print $1 }'\'''
	oci_edit "$B" 'c["linux"]["namespaces"] += [{"type": "cgroup"}, {"type": "time"}]'
	run -0 rt run --bundle "$B" "$ID"
	for n in cgroup ipc mnt net pid uts time; do
		line=$(grep "^$n " <<<"$output")
		[ "$line" != "$n $(readlink "/proc/self/ns/$n")" ]
	done
	assert_line 'pid 1'
	assert_line 'lo:'
	[ "$(grep -c ':$' <<<"$output")" = 1 ]
	# Joined by path: the namespace `ip netns add` made.
	netns=$OCI_PREFIX-$BATS_TEST_NUMBER
	ip netns add "$netns"
	inode=$(stat -L -c %i "/run/netns/$netns")
	oci_edit "$B" 'c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"] + [{"type": "network", "path": arg}]' "/run/netns/$netns"
	run rt run --bundle "$B" "$ID"
	ip netns delete "$netns"
	[ "$status" = 0 ]
	assert_line "net net:[$inode]"
	# A path that is no namespace is refused.
	run_refused 'c["linux"]["namespaces"][-1]["path"] = "/nosuch"' 'join namespace /nosuch'
	run_refused 'c["linux"]["namespaces"][-1] = {"type": "sideways"}' 'linux.namespaces: unknown type'
	run_refused 'c["linux"]["namespaces"] = [{"type": t} for t in ("pid", "ipc", "uts", "network")]' 'a mount namespace of the container'
}

@test "linux.uidMappings and gidMappings: a user namespace with the maps as given; the rootfs's root is nobody inside" {
	# The bundle in a directory every user may enter: the namespace's root is uid 100000 on the host.
	dir=$(mktemp -d /tmp/cf-userns.XXXXXX)
	chmod 755 "$dir"
	B=$dir/bundle
	make_bundle "$B" 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; stat -c %u:%g /bin/sh; grep CapEff /proc/self/status'
	oci_edit "$B" 'c["linux"]["namespaces"].append({"type": "user"})
c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 1000}, {"containerID": 1000, "hostID": 300000, "size": 1}]
c["mounts"] = [m for m in c["mounts"] if m["type"] != "cgroup"]'
	run rt run --bundle "$B" "$ID"
	rm -rf "$dir"
	[ "$status" = 0 ]
	read -r -a u <<<"${lines[0]}"
	read -r -a g1 <<<"${lines[1]}"
	read -r -a g2 <<<"${lines[2]}"
	[ "${u[*]}" = '0 100000 65536' ] && [ "${g1[*]}" = '0 200000 1000' ] && [ "${g2[*]}" = '1000 300000 1' ]
	[ "${lines[3]}" = 0 ] && [ "${lines[4]}" = 0 ]
	[ "${lines[5]}" = 65534:65534 ]
	[ "${lines[6]}" = "$(printf 'CapEff:\t%016x' $(( (1 << 29) | (1 << 5) | (1 << 10) )))" ]
}

@test "a user namespace without a network namespace of its own: sysfs is the host's, bound read-only all through (its cgroup tree too)" {
	dir=$(mktemp -d /tmp/cf-userns.XXXXXX)
	chmod 755 "$dir"
	B=$dir/bundle
	make_bundle "$B" 'awk '"'"'$5 ~ "^/sys" { split($6, o, ","); print $5, o[1] }'"'"' /proc/self/mountinfo'
	oci_edit "$B" 'c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"] + [{"type": "user"}]
c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
c["mounts"] = [m for m in c["mounts"] if m["type"] != "cgroup"]'
	run rt run --bundle "$B" "$ID"
	rm -rf "$dir"
	[ "$status" = 0 ]
	assert_line "/sys ro"
	[ "${#lines[@]}" -gt 1 ] # the host's mounts under /sys came along
	refute_output --partial " rw"
}

@test "linux.devices: a node made with its type, numbers, mode and owner, usable; a bad one refused" {
	make_bundle "$B" 'stat -c "%F %t:%T %a %u:%g" /dev/mynull /dev/sub/myzero; echo x >/dev/mynull && echo written; head -c 3 /dev/sub/myzero | od -An -tx1'
	oci_edit "$B" 'c["linux"]["devices"] = [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 0o602, "uid": 1000, "gid": 1001},
 {"path": "/dev/sub/myzero", "type": "c", "major": 1, "minor": 5, "fileMode": 0o600, "uid": 0, "gid": 0}]'
	run -0 rt run --bundle "$B" "$ID"
	assert_output "$(printf '%s\n' 'character special file 1:3 602 1000:1001' 'character special file 1:5 600 0:0' written ' 00 00 00')"
	# Nothing made in the bundle's own /dev (a tmpfs there).
	[ ! -e "$B/rootfs/dev/mynull" ]
	run_refused 'c["linux"]["devices"] = [{"path": "/etc/passwd", "type": "c", "major": 1, "minor": 3}]' 'linux.devices: expected a path under /dev'
}

@test "linux.resources: memory, pids and cpu limits in the cgroup; device rules (deny all, one allowed): a denied device cannot be opened" {
	# /dev/kmsg (1:11) bound in: opening it for writing asks nothing but the device cgroup.
	make_bundle "$B" 'sh -c ": >/kmsg" 2>&1 && echo opened; echo ready; exec sleep 100'
	oci_edit "$B" 'c["mounts"].append({"destination": "/kmsg", "type": "bind", "source": "/dev/kmsg", "options": ["bind"]})
c["linux"]["resources"] = {"devices": [{"allow": False, "access": "rwm"}], "memory": {"limit": 50331648}, "pids": {"limit": 33}, "cpu": {"shares": 512, "quota": 50000, "period": 100000}}'
	oci_create "$ID"
	rt start "$ID"
	wait_for "$BATS_TEST_TMPDIR/$ID.out" ready
	grep -q 'Operation not permitted' "$BATS_TEST_TMPDIR/$ID.out"
	! grep -q opened "$BATS_TEST_TMPDIR/$ID.out"
	[ "$(cat "$(cgroup_dir memory "$ID")/memory.limit_in_bytes")" = 50331648 ]
	[ "$(cat "$(cgroup_dir pids "$ID")/pids.max")" = 33 ]
	[ "$(cat "$(cgroup_dir cpu "$ID")/cpu.shares")" = 512 ]
	[ "$(cat "$(cgroup_dir cpu "$ID")/cpu.cfs_quota_us")" = 50000 ]
	# The default devices stay allowed after the bundle's "deny all" (runc's rule).
	run -0 rt exec "$ID" sh -c 'echo x >/dev/null && head -c 1 /dev/zero | wc -c'
	assert_output 1
	# The pids limit holds inside.
	run rt exec "$ID" sh -c 'for i in $(seq 40); do sleep 1 & done 2>&1; wait'
	assert_output --partial "can't fork"
	rt delete --force "$ID"
	# The same device allowed for writing.
	oci_edit "$B" 'c["linux"]["resources"]["devices"].append({"allow": True, "type": "c", "major": 1, "minor": 11, "access": "w"})'
	oci_create "$ID"
	rt start "$ID"
	wait_for "$BATS_TEST_TMPDIR/$ID.out" ready
	grep -q opened "$BATS_TEST_TMPDIR/$ID.out"
	rt delete --force "$ID"
	oci_edit "$B" 'c["linux"]["resources"]["memory"]["disableOOMKiller"] = True'
	run -1 rt create --bundle "$B" "$ID"
	assert_output --partial 'linux.resources.memory.disableOOMKiller is not supported'
}

@test "linux.sysctl: a namespaced one is written in the container; a host one (kernel.panic) and a net one without a network namespace are refused" {
	# runc spec's readonlyPaths hold /proc/sys, as docker's and podman's do.
	make_bundle "$B" 'cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shmmni'
	oci_edit "$B" 'c["linux"]["sysctl"] = {"net.ipv4.ip_unprivileged_port_start": "0", "kernel.shmmni": "1234"}'
	run -0 rt run --bundle "$B" "$ID"
	assert_output "$(printf '0\n1234')"
	[ "$(cat /proc/sys/kernel/shmmni)" != 1234 ]
	panic=$(cat /proc/sys/kernel/panic)
	run_refused 'c["linux"]["sysctl"] = {"kernel.panic": "77"}' 'sysctl kernel.panic: not in a namespace of the container'
	[ "$(cat /proc/sys/kernel/panic)" = "$panic" ]
	run_refused 'c["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}; c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]' 'sysctl net.ipv4.ip_forward: not in a namespace of the container'
	oci_edit "$B" 'c["linux"]["sysctl"] = {"kernel/../../../x": "1"}; c["linux"]["namespaces"].append({"type": "network"})'
	run -1 rt run --bundle "$B" "$ID"
}

@test "linux.maskedPaths and readonlyPaths: a masked file reads empty, a masked directory is empty, a read-only path refuses writes" {
	make_bundle "$B" 'wc -c </proc/kallsyms; ls /proc/acpi | wc -l; echo 1 >/proc/sys/kernel/shmmni 2>&1; touch /etc/masked-dir/x 2>&1; ls /etc/masked-dir; cat /etc/hosts; echo x >>/etc/hosts 2>&1; true'
	mkdir "$B/rootfs/etc/masked-dir"
	touch "$B/rootfs/etc/masked-dir/secret"
	echo '127.0.0.1 localhost' >"$B/rootfs/etc/hosts"
	oci_edit "$B" 'c["linux"]["maskedPaths"] = ["/proc/kallsyms", "/proc/acpi", "/etc/masked-dir", "/nosuch/path"]
c["linux"]["readonlyPaths"] = ["/proc/sys", "/etc/hosts", "/nosuch"]'
	run -0 rt run --bundle "$B" "$ID"
	assert_output "$(printf '%s\n' 0 0 'sh: can'"'"'t create /proc/sys/kernel/shmmni: Read-only file system' \
		"touch: /etc/masked-dir/x: Read-only file system" '127.0.0.1 localhost' 'sh: can'"'"'t create /etc/hosts: Read-only file system')"
	[ -e "$B/rootfs/etc/masked-dir/secret" ]
}

@test "annotations: state echoes them as the bundle gave them" {
	make_bundle "$B" 'exec sleep 100'
	oci_edit "$B" 'c["annotations"] = {"org.example.key": "value with \"quotes\"", "io.kubernetes.cri.container-type": "container"}'
	oci_create "$ID"
	run -0 rt state "$ID"
	python3 -SI -c 'import json, sys
s = json.loads(sys.argv[1])
assert s["annotations"] == {"org.example.key": "value with \"quotes\"", "io.kubernetes.cri.container-type": "container"}, s' "$output"
	rt delete "$ID"
	oci_edit "$B" 'c["annotations"] = ["not", "an", "object"]'
	run -1 rt create --bundle "$B" "$ID"
	assert_output --partial 'annotations: expected an object'
}

@test "an unsupported field with content is refused with a line naming it; one left empty is accepted" {
	make_bundle "$B" true
	cp "$B/config.json" "$BATS_TEST_TMPDIR/clean.json"
	for edit in 'c["linux"]["intelRdt"] = {"closID": "x"}:linux.intelRdt' 'c["linux"]["personality"] = {"domain": "LINUX32"}:linux.personality' \
		'c["process"]["ioPriority"] = {"class": "IOPRIO_CLASS_RT"}:process.ioPriority' 'c["linux"]["resources"]["blockIO"] = {"weight": 10}:blockIO.weight' \
		'c["vm"] = {"kernel": {"path": "/k"}}:config.vm' 'c["mounts"][0]["uidMappings"] = [{"containerID": 0, "hostID": 1, "size": 1}]:id-mapped mounts'; do
		cp "$BATS_TEST_TMPDIR/clean.json" "$B/config.json"
		oci_edit "$B" "${edit%:*}"
		run -1 rt create --bundle "$B" "$ID"
		[ "${#lines[@]}" = 1 ]
		assert_output --partial "${edit##*:}"
		assert_output --regexp 'not supported'
	done
	cp "$BATS_TEST_TMPDIR/clean.json" "$B/config.json"
	oci_edit "$B" 'c["linux"]["intelRdt"] = {}; c["linux"]["resources"]["blockIO"] = {"weight": 0}'
	run -0 rt run --bundle "$B" "$ID"
}

# hook_bundle: $B with a hook of every kind writing "KIND STATUS PID" to a log, the
# state JSON read from its stdin. startContainer runs in the container (after pivot_root):
# its script and log are the rootfs's.
hook_bundle() {
	make_bundle "$B" 'echo ran; exec sleep 100'
	cat >"$BATS_TEST_TMPDIR/hook.sh" <<-'EOF'
		#!/bin/sh
		state=$(cat)
		status=$(echo "$state" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')
		pid=$(echo "$state" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
		id=$(echo "$state" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
		echo "$1 $status $pid $id" >>"$2"
		exit "${3:-0}"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/hook.sh"
	cp "$BATS_TEST_TMPDIR/hook.sh" "$B/rootfs/hook.sh"
	HOOKLOG=$BATS_TEST_TMPDIR/hooks.log
	oci_edit "$B" 'h, log, env = arg + "/hook.sh", arg + "/hooks.log", ["PATH=/bin:/usr/bin"]
c["hooks"] = {k: [{"path": h, "args": ["hook", k, log], "env": env}] for k in ("createRuntime", "prestart", "createContainer", "poststart", "poststop")}
c["hooks"]["startContainer"] = [{"path": "/hook.sh", "args": ["hook", "startContainer", "/hooks.log"], "env": env}]' "$BATS_TEST_TMPDIR"
}

@test "hooks: each of the six kinds runs at its step, with the state on its stdin (the status runc gives each)" {
	hook_bundle
	oci_create "$ID" --pid-file "$BATS_TEST_TMPDIR/pid"
	pid=$(cat "$BATS_TEST_TMPDIR/pid")
	run cat "$HOOKLOG"
	assert_output "$(printf '%s\n' "createRuntime creating $pid $ID" "prestart creating $pid $ID" "createContainer creating $pid $ID")"
	[ ! -e "$B/rootfs/hooks.log" ]
	rt start "$ID"
	wait_for "$BATS_TEST_TMPDIR/$ID.out" ran
	[ "$(cat "$B/rootfs/hooks.log")" = "startContainer created $pid $ID" ]
	[ "$(tail -1 "$HOOKLOG")" = "poststart running $pid $ID" ]
	rt kill "$ID" KILL
	wait_status "$ID" stopped
	[ "$(wc -l <"$HOOKLOG")" = 4 ]
	rt delete "$ID"
	[ "$(tail -1 "$HOOKLOG")" = "poststop stopped 0 $ID" ] || [ "$(tail -1 "$HOOKLOG")" = "poststop stopped $pid $ID" ]
	[ "$(wc -l <"$HOOKLOG")" = 5 ]
}

@test "hooks: a failing createRuntime, prestart or createContainer hook fails the create and leaves nothing; poststart and poststop failures are warnings" {
	hook_bundle
	for kind in createRuntime prestart createContainer; do
		oci_edit "$B" 'c["hooks"][arg][0]["args"].append("3")' "$kind"
		rm -f "$HOOKLOG"
		run -1 rt create --bundle "$B" "$ID"
		assert_output --partial "$kind hook: hook $BATS_TEST_TMPDIR/hook.sh: exited with status 3"
		[ ! -e "$STATE/$ID" ]
		[ ! -e "$(cgroup_dir pids "$ID")" ]
		! grep -q ran "$HOOKLOG"
		[ "$(tail -1 "$HOOKLOG" | cut -d' ' -f1)" = "$kind" ]
		oci_edit "$B" 'c["hooks"][arg][0]["args"].pop()' "$kind"
	done
	oci_edit "$B" 'c["hooks"]["poststart"][0]["args"].append("4"); c["hooks"]["poststop"][0]["args"].append("5")'
	oci_create "$ID"
	run -0 rt start "$ID"
	assert_output --partial 'warning: poststart hook'
	wait_for "$BATS_TEST_TMPDIR/$ID.out" ran
	run -0 rt delete --force "$ID"
	assert_output --partial 'warning: poststop hook'
	[ ! -e "$STATE/$ID" ]
}

@test "hooks: a hook past its timeout is killed and fails the create" {
	hook_bundle
	oci_edit "$B" 'c["hooks"]["prestart"] = [{"path": "/bin/sh", "args": ["sh", "-c", "exec sleep 30"], "timeout": 1}]'
	SECONDS=0
	run -1 rt create --bundle "$B" "$ID"
	assert_output --partial 'prestart hook: hook /bin/sh: timed out after 1 s'
	[ "$SECONDS" -lt 5 ]
	! pgrep -f '^sleep 30$'
	[ ! -e "$STATE/$ID" ]
	oci_edit "$B" 'c["hooks"]["prestart"][0]["timeout"] = 0'
	run -1 rt create --bundle "$B" "$ID"
	assert_output --partial 'timeout of at least 1 second'
	oci_edit "$B" 'c["hooks"]["prestart"][0] = {"path": "relative/hook"}'
	run -1 rt create --bundle "$B" "$ID"
	assert_output --partial 'hooks: each needs an absolute path'
}

@test "hooks: createRuntime, prestart, poststart and poststop run in the runtime's pid namespace when the container joins one by path" {
	unshare --pid --fork --kill-child sleep 100 &
	holder=$!
	for _ in $(seq 50); do inner=$(pgrep -P "$holder") && break; sleep 0.1; done
	ns=$(readlink "/proc/$inner/ns/pid")
	make_bundle "$B" 'echo "$(readlink /proc/self/ns/pid) $$"'
	oci_edit "$B" 'c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "pid"] + [{"type": "pid", "path": arg}]
c["hooks"] = {k: [{"path": "/bin/sh", "args": ["sh", "-c", "echo " + k + " $(readlink /proc/self/ns/pid) >>" + arg.split("|")[1]]}]
 for k in ("createRuntime", "prestart", "poststart", "poststop")}
c["linux"]["namespaces"][-1]["path"] = arg.split("|")[0]' "/proc/$inner/ns/pid|$BATS_TEST_TMPDIR/hooks.log"
	run rt run --bundle "$B" "$ID"
	kill -9 "$inner" # (unshare --fork ignores SIGTERM while its child lives)
	wait "$holder" || true
	[ "$status" = 0 ]
	[ "${output% *}" = "$ns" ]
	[ "${output#* }" != 1 ]
	me=$(readlink /proc/self/ns/pid)
	run cat "$BATS_TEST_TMPDIR/hooks.log"
	assert_output "$(printf '%s\n' "createRuntime $me" "prestart $me" "poststart $me" "poststop $me")"
}

@test "--version: runc's lines, which dockerd parses (a line NAME version X, the spec's version)" {
	run -0 "$LAUNCHER" --version
	assert_line --index 0 --regexp '^launcher version [0-9]+\.[0-9]+'
	assert_line --regexp '^spec: 1\.[0-9]+\.[0-9]+$'
}

@test "a host with cgroup v1 alone (no cgroup2 mounted): run and create/delete put the process in the v1 controllers and leave nothing" {
	# Found by the benchmark's v1-only view of /sys/fs/cgroup (tests/engines.bash's
	# cgroup_v1_only, in a mount namespace of the test's own): create wrote the pid to a
	# cgroup2 directory that does not exist there.
	make_bundle "$B" 'grep -E ":(freezer|memory):" /proc/self/cgroup'
	run -0 unshare -m --propagation private bash -c "source tests/engines.bash && cgroup_v1_only &&
		'$LAUNCHER' --root '$STATE' run --bundle '$B' '$ID' &&
		'$LAUNCHER' --root '$STATE' create --bundle '$B' '$ID-2' </dev/null >/dev/null 2>&1 &&
		'$LAUNCHER' --root '$STATE' delete '$ID-2' && ls -d /sys/fs/cgroup/*/launcher.'$ID'* 2>/dev/null; true"
	assert_line --regexp "^[0-9]+:freezer:/launcher\\.$ID\$"
	assert_line --regexp "^[0-9]+:memory:/launcher\\.$ID\$"
	refute_output --partial "/sys/fs/cgroup/"
}

@test "process.user and exec --user: an id past 2147483647 is refused, as runc's (4294967295 is setresuid's \"no change\": uid 0 kept)" {
	make_bundle "$B" 'id -u'
	for user in '{"uid": 2147483648, "gid": 0}' '{"uid": 1000, "gid": 2147483648}' '{"uid": 1000, "gid": 1000, "additionalGids": [2147483648]}'; do
		oci_edit "$B" "c['process']['user'] = $user"
		run rt run --bundle "$B" "$ID"
		assert_failure
		assert_output "launcher: set the process's user and capabilities: Invalid argument"
	done
	make_bundle "$B" 'sleep 100'
	rt run -d --bundle "$B" "$ID" </dev/null >"$BATS_TEST_TMPDIR/out" 2>&1
	for user in 4294967295 0:4294967295; do
		run rt exec --user "$user" "$ID" id -u
		assert_failure
		assert_output "launcher: set the process's user and capabilities: Invalid argument"
	done
	rt delete --force "$ID"
}
