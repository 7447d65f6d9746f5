#!/usr/bin/env bats
# Containers that outlive a command: run -d, --name, ps, exec, logs, stop, rm, inspect, and
# a real terminal (-t), with docker's error texts and exit codes. Each test has a state
# root of its own (helpers.bash: $LAUNCHER_STATE); teardown removes what a test left.

load helpers

setup() { common_setup; }

teardown() {
	ids=$("$LAUNCHER" ps -aq --no-trunc 2>/dev/null || true)
	[ -z "$ids" ] || "$LAUNCHER" rm -f $ids >/dev/null
	[ -z "${ROOTLESS_ROOT:-}" ] || rootless_rm
	tmux -L "lc$$" kill-server 2>/dev/null || true
	common_teardown
}

# record ID FIELD: a field of the container's state.json
record() { sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"]*\)\"\{0,1\}[,}].*/\1/p" "$LAUNCHER_STATE/$1/state.json"; }

@test "run -d prints the id, ps lists it by name, logs keeps stdout and stderr apart, rm leaves nothing" {
	run -0 "$LAUNCHER" run -d --name lc-web "$BUSYBOX" sh -c 'echo to-out; echo to-err >&2; exec sleep 100'
	assert_output --regexp '^[0-9a-f]{64}$'
	id=$output
	wait_for_log() { for _ in $(seq 100); do "$LAUNCHER" logs lc-web 2>&1 | grep -q to-err && return; sleep 0.1; done; return 1; }
	wait_for_log
	run -0 "$LAUNCHER" ps
	assert_line --index 0 --regexp '^CONTAINER ID +NAME +IMAGE +COMMAND +CREATED +STATUS +NETWORK$'
	assert_line --index 1 --regexp "^${id:0:12} +lc-web +.*busybox.tar +\"sh -c echo to-out; …\" .* Up "
	run -0 "$LAUNCHER" ps -q
	assert_output "${id:0:12}"
	run -0 --separate-stderr "$LAUNCHER" logs lc-web
	assert_output "to-out"
	[ "$stderr" = "to-err" ]
	# by a unique prefix of the id too, and its log is docker's json-file
	run -0 "$LAUNCHER" logs "${id:0:5}"
	grep -q '^{"log":"to-out\\n","stream":"stdout","time":"20[0-9-]*T[0-9:.]*Z"}$' "$LAUNCHER_ROOT/containers/$id/$id-json.log"
	# no terminal of the caller's is held by the supervisor (its own session)
	sup=$(record "$id" supervisorPid)
	[ "$(ps -o sid= -p "$sup")" -eq "$sup" ]
	run -1 "$LAUNCHER" rm lc-web
	assert_output 'launcher: cannot remove container "/lc-web": container is running: stop the container before removing or force remove'
	run -0 "$LAUNCHER" rm -f lc-web
	assert_output lc-web
	run -0 "$LAUNCHER" ps -aq
	assert_output ""
	[ -z "$(ls -A "$LAUNCHER_STATE")" ]
	[ -z "$(ls -A "$LAUNCHER_ROOT/containers")" ]
}

@test "a long command full of escapes (a script of many lines) keeps its record readable: ps lists it, rm -f removes it" {
	script="$(for i in $(seq 60); do printf 'echo "line %02d"\n' "$i"; done; echo 'sleep 100')"
	"$LAUNCHER" run -d --name lc-long "$BUSYBOX" sh -c "$script" >/dev/null
	run -0 "$LAUNCHER" ps
	assert_line --regexp '^[0-9a-f]{12} +lc-long +.* "sh -c echo "line 01…" .* Up '
	run -0 "$LAUNCHER" rm -f lc-long
	assert_output lc-long
	run -0 "$LAUNCHER" ps -aq
	assert_output ""
}

@test "run -d of a container that cannot start says why and exits with its status, as docker run -d; it is not restarted" {
	run -127 "$LAUNCHER" run -d --name lc-dnx "$BUSYBOX" /lc-nothere
	assert_output "launcher: exec /lc-nothere: No such file or directory"
	run -125 "$LAUNCHER" run -d --name lc-dnu --restart always -u lc-nosuch "$BUSYBOX" true
	assert_output "launcher: unable to find user lc-nosuch: no matching entries in the image's /etc/passwd"
	run -127 "$LAUNCHER" run -d -t --name lc-dnt "$BUSYBOX" /lc-nothere
	assert_output "launcher: exec /lc-nothere: No such file or directory"
	run -0 "$LAUNCHER" ps -a
	assert_line --regexp '^[0-9a-f]{12} +lc-dnx .* Exited \(127\) '
	assert_line --regexp '^[0-9a-f]{12} +lc-dnu .* Exited \(125\) '
	# one that starts: its id, at once
	run -0 "$LAUNCHER" run -d --name lc-dok "$BUSYBOX" sleep 100
	assert_output --regexp '^[0-9a-f]{64}$'
}

@test "names are unique: a second run of the name fails as docker's does; unknown names are exit 1" {
	"$LAUNCHER" run -d --name lc-dup "$BUSYBOX" sleep 100 >/dev/null
	id=$(readlink "$LAUNCHER_STATE/.name.lc-dup")
	run -125 "$LAUNCHER" run -d --name lc-dup "$BUSYBOX" true
	assert_output "launcher: Conflict. The container name \"/lc-dup\" is already in use by container \"$id\". You have to remove (or rename) that container to be able to reuse that name."
	[ "$(ls "$LAUNCHER_STATE" | wc -l)" = 1 ] # the refused run left no record
	for verb in logs stop rm inspect "exec lc-nothere true"; do
		run -1 "$LAUNCHER" $verb lc-nothere
		assert_output --partial "launcher: No such container: lc-nothere"
	done
	run -125 "$LAUNCHER" run --name 'bad/name' "$BUSYBOX" true
	assert_output --partial "bad --name bad/name"
}

@test "a foreground run stays as Exited (N) until rm; --rm removes it at exit" {
	run -3 "$LAUNCHER" run --name lc-fg "$BUSYBOX" sh -c 'exit 3'
	run -0 "$LAUNCHER" ps -a
	assert_line --index 1 --regexp ' lc-fg .* Exited \(3\) '
	run -0 "$LAUNCHER" ps
	refute_output --partial lc-fg
	run -0 "$LAUNCHER" run --rm --name lc-gone "$BUSYBOX" true
	run -0 "$LAUNCHER" ps -a
	refute_output --partial lc-gone
	# the bare form is run too
	run -4 "$LAUNCHER" --name lc-bare "$BUSYBOX" sh -c 'exit 4'
	run -0 "$LAUNCHER" ps -a
	assert_output --partial lc-bare
	run -0 "$LAUNCHER" rm $("$LAUNCHER" ps -aq)
	[ -z "$(ls -A "$LAUNCHER_STATE")" ]
}

@test "stop: SIGTERM, or the image's StopSignal, then SIGKILL after -t seconds; the exit code is kept" {
	"$LAUNCHER" run -d --name lc-term "$BUSYBOX" sleep 100 >/dev/null
	run -0 "$LAUNCHER" stop lc-term
	assert_output lc-term
	run -0 "$LAUNCHER" ps -a
	assert_output --regexp 'lc-term .* Exited \(143\) '
	# a process that ignores SIGTERM is killed once -t has passed
	"$LAUNCHER" run -d --name lc-stubborn "$BUSYBOX" sh -c 'trap "" TERM; echo ready; while :; do sleep 0.1; done' >/dev/null
	for _ in $(seq 100); do "$LAUNCHER" logs lc-stubborn | grep -q ready && break; sleep 0.1; done
	run -0 "$LAUNCHER" stop -t 1 lc-stubborn
	run -0 "$LAUNCHER" inspect lc-stubborn
	[ "$(python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["State"]; print(s["Status"], s["ExitCode"], s["Running"])' <<<"$output")" = "exited 137 False" ]
	# StopSignal from the image's config
	config_image stopsig '"WorkingDir":"/data","StopSignal":"SIGUSR1"'
	"$LAUNCHER" run -d --name lc-usr1 "$BATS_TEST_TMPDIR/stopsig.tar" sh -c 'trap "echo got USR1; exit 0" USR1; echo ready; while :; do sleep 0.1; done' >/dev/null
	for _ in $(seq 100); do "$LAUNCHER" logs lc-usr1 | grep -q ready && break; sleep 0.1; done
	run -0 "$LAUNCHER" stop lc-usr1
	run -0 "$LAUNCHER" logs lc-usr1
	assert_output --partial "got USR1"
	run -0 "$LAUNCHER" ps -a
	assert_output --regexp 'lc-usr1 .* Exited \(0\) '
}

@test "a negative --stop-timeout or stop -t never kills: stop waits for the container to end on its own, as docker's" {
	for how in "--stop-timeout -1" "-t -1"; do
		name=lc-forever${how:1:1}
		flag=""
		[ "$how" = "-t -1" ] || flag=$how
		"$LAUNCHER" run -d --name "$name" $flag "$BUSYBOX" sh -c 'trap "sleep 1; exit 3" TERM; echo ready; while :; do sleep 0.1; done' >/dev/null
		for _ in $(seq 100); do "$LAUNCHER" logs "$name" | grep -q ready && break; sleep 0.1; done
		if [ -n "$flag" ]; then run -0 "$LAUNCHER" stop "$name"; else run -0 "$LAUNCHER" stop -t -1 "$name"; fi
		assert_output "$name"
		run -0 "$LAUNCHER" ps -a
		assert_output --regexp "$name .* Exited \(3\) "
	done
}

@test "exec runs as the container's user (--user, by name or number), with its groups and no capabilities; -u overrides it" {
	"$LAUNCHER" run -d --name lc-exu --user nobody "$BUSYBOX" sleep 100 >/dev/null
	run -0 "$LAUNCHER" exec lc-exu sh -c 'id; grep -E "^Cap(Eff|Prm):" /proc/self/status'
	assert_output "$(printf 'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000')"
	run -0 "$LAUNCHER" exec -u 0 lc-exu id -u
	assert_output 0
	"$LAUNCHER" run -d --name lc-exn --user 1000:1000 "$BUSYBOX" sleep 100 >/dev/null
	run -0 "$LAUNCHER" exec lc-exn sh -c 'id -u; id -g; grep CapEff /proc/self/status'
	assert_output "$(printf '1000\n1000\nCapEff:\t0000000000000000')"
	# a record whose user cannot be read is never taken for root
	id=$(readlink "$LAUNCHER_STATE/.name.lc-exn")
	rm "$LAUNCHER_STATE/$id/user" && mkdir "$LAUNCHER_STATE/$id/user"
	run -1 "$LAUNCHER" exec lc-exn id -u
	assert_output "launcher: container $id: its user cannot be read"
	rmdir "$LAUNCHER_STATE/$id/user"
	"$LAUNCHER" rm -f lc-exu lc-exn >/dev/null
}

@test "exec enters the container: its namespaces, capabilities, no_new_privs and seccomp filter; its exit code" {
	"$LAUNCHER" run -d --name lc-ex "$BUSYBOX" sleep 100 >/dev/null
	id=$(readlink "$LAUNCHER_STATE/.name.lc-ex")
	pid=$(record "$id" pid)
	entrypoint=$(tr -d " " </proc/"$pid"/task/"$pid"/children)
	run -0 "$LAUNCHER" exec lc-ex sh -c 'grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status; for n in cgroup ipc mnt net pid user uts; do echo "$n $(readlink /proc/self/ns/$n)"; done'
	assert_line "CapEff:	$(grep CapEff /proc/$entrypoint/status | cut -f2)"
	assert_line "NoNewPrivs:	1"
	assert_line "Seccomp:	2"
	for n in ipc mnt net pid uts; do
		assert_line "$n $(readlink /proc/"$pid"/ns/$n)"
		[ "$(readlink /proc/"$pid"/ns/$n)" != "$(readlink /proc/self/ns/$n)" ]
	done
	# the container's cgroup, the container's pid namespace (it sees its PID 1, not ours)
	run -0 "$LAUNCHER" exec lc-ex sh -c 'cat /proc/1/comm; cat /proc/self/cgroup'
	assert_line --index 0 launcher
	run -7 "$LAUNCHER" exec lc-ex sh -c 'exit 7'
	run -127 "$LAUNCHER" exec lc-ex nothere
	run -0 "$LAUNCHER" exec -u 1000:1000 -e GREETING=hi -w /tmp lc-ex sh -c 'id -u; id -g; echo $GREETING; pwd; grep CapEff /proc/self/status'
	assert_output "$(printf '1000\n1000\nhi\n/tmp\nCapEff:\t0000000000000000')"
	# names as the container's /etc/passwd and /etc/group have them
	run -0 "$LAUNCHER" exec -u nobody lc-ex id
	assert_output "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)"
	run -0 "$LAUNCHER" exec -u nobody:root lc-ex id -g
	assert_output 0
	# docker's exec that cannot start: 126 (its daemon's default), the reason in one line
	run -126 "$LAUNCHER" exec -u lc-nosuch lc-ex id
	assert_output "launcher: unable to find user lc-nosuch: no matching entries in the container's /etc/passwd"
	run -126 "$LAUNCHER" exec -u nobody:lc-nogroup lc-ex id
	assert_output "launcher: unable to find group lc-nogroup: no matching entries in the container's /etc/group"
	# a working directory the container lacks is refused, as runc's chdir: none is made (by
	# the host's root, before the process is confined)
	run -126 "$LAUNCHER" exec -u nobody -w /lc-nowhere/deep lc-ex pwd
	assert_output "launcher: enter working directory /lc-nowhere/deep: No such file or directory"
	run -1 "$LAUNCHER" exec lc-ex ls -d /lc-nowhere
	# stdin only with -i
	run -0 "$LAUNCHER" exec lc-ex cat <<<"not read"
	assert_output ""
	run -0 "$LAUNCHER" exec -i lc-ex cat <<<"read"
	assert_output "read"
	"$LAUNCHER" stop -t 0 lc-ex >/dev/null
	run -1 "$LAUNCHER" exec lc-ex true
	assert_output "launcher: Container $id is not running"
}

# A user other than root: the launcher's state and data under $NOBODY (nobody_copies).
rootless() { env -u LAUNCHER_ROOT -u LAUNCHER_STATE XDG_RUNTIME_DIR="$NOBODY/run" XDG_DATA_HOME="$NOBODY/data" setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }
rootless_rm() {
	ids=$(rootless "$NOBODY/launcher" ps -aq --no-trunc 2>/dev/null || true)
	[ -z "$ids" ] || rootless "$NOBODY/launcher" rm -f $ids >/dev/null
	rm -rf "$NOBODY"
}

@test "exec -d: a process that cannot start says why and exits as a foreground one would; one that starts holds nothing of the caller's" {
	"$LAUNCHER" run -d --name lc-exd "$BUSYBOX" sleep 100 >/dev/null
	run -127 "$LAUNCHER" exec -d lc-exd /lc-nothere
	assert_output --partial "/lc-nothere"
	run -126 "$LAUNCHER" exec -d -w /lc-nowhere lc-exd true
	assert_output "launcher: enter working directory /lc-nowhere: No such file or directory"
	run -0 "$LAUNCHER" exec -d lc-exd sleep 31
	assert_output ""
	fds='for p in $(pidof sleep); do case $(tr "\0" " " </proc/$p/cmdline) in "sleep 31 ") for f in 0 1 2; do readlink /proc/$p/fd/$f; done;; esac; done'
	for _ in $(seq 100); do [ -n "$("$LAUNCHER" exec lc-exd sh -c "$fds")" ] && break; sleep 0.1; done
	run -0 "$LAUNCHER" exec lc-exd sh -c "$fds"
	assert_output "$(printf '/dev/null\n/dev/null\n/dev/null')"
}

@test "exec in a rootless container (started by a user other than root) is refused in one line, before any process runs" {
	# Its PID 1 is non-dumpable and its memory the host's user namespace's: a user other
	# than root can neither see its namespaces nor enter them by pidfd. Nothing may then
	# run in the caller's own namespaces instead.
	nobody_copies
	ROOTLESS_ROOT=$NOBODY
	mkdir -m 700 "$NOBODY/run" "$NOBODY/data" && chown 65534:65534 "$NOBODY/run" "$NOBODY/data"
	rootless "$NOBODY/launcher" run -d --name lc-rootless "$NOBODY/busybox.tar" sleep 100 >/dev/null
	id=$(rootless "$NOBODY/launcher" ps -q --no-trunc)
	for user in "" "-u root" "-u 0:0" "-u lc-nosuch"; do
		run -126 rootless "$NOBODY/launcher" exec $user lc-rootless touch /tmp/lc-rootless-ran
		assert_output "launcher: container $id: its namespaces cannot be entered by uid 65534 (exec in a rootless container is not supported)"
	done
	[ ! -e /tmp/lc-rootless-ran ]
}

@test "exec in a --privileged container has the entrypoint's capabilities: those the host's bounding set holds" {
	"$LAUNCHER" run -d --privileged --name lc-priv "$BUSYBOX" sleep 100 >/dev/null
	id=$(readlink "$LAUNCHER_STATE/.name.lc-priv")
	pid=$(record "$id" pid)
	entrypoint=$(tr -d " " </proc/"$pid"/task/"$pid"/children)
	held=$(grep CapBnd /proc/self/status | cut -f2)
	[ "$(grep CapEff /proc/$entrypoint/status | cut -f2)" = "$held" ]
	run -0 "$LAUNCHER" exec lc-priv grep -E "^Cap(Eff|Bnd):" /proc/self/status
	assert_output "$(printf 'CapEff:\t%s\nCapBnd:\t%s' "$held" "$held")"
}

@test "an idle PID 1 gives back the pages its start touched, then still forwards, reaps and exits" {
	# docker's filter (inherited from PID 1), none, and a profile that refuses madvise
	# (PID 1's own filter lets its loop's calls through first)
	echo '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["madvise"],"action":"SCMP_ACT_ERRNO"}]}' >"$BATS_TEST_TMPDIR/no-madvise.json"
	for profile in "" "--security-opt seccomp=unconfined" "--security-opt seccomp=$BATS_TEST_TMPDIR/no-madvise.json"; do
		"$LAUNCHER" run -d $profile --name lc-idle "$BUSYBOX" sleep 100 >/dev/null
		id=$(readlink "$LAUNCHER_STATE/.name.lc-idle")
		pid=$(record "$id" pid)
		started=$(awk '/^VmRSS:/ { print $2 }' /proc/"$pid"/status)
		idle=$started
		for _ in $(seq 50); do # after a second with no signal
			idle=$(awk '/^VmRSS:/ { print $2 }' /proc/"$pid"/status)
			[ "$idle" -lt $((started - 100)) ] && break
			sleep 0.1
		done
		echo "${profile:-default}: $started kB started, $idle kB idle"
		[ "$idle" -lt $((started - 100)) ]
		# an orphan of an exec is reaped by PID 1 (its code faulted in again)
		"$LAUNCHER" exec lc-idle sh -c 'sleep 0.2 & exit 0'
		sleep 0.5
		run -0 ps -o stat= --ppid "$pid"
		refute_output --partial Z
		run -0 "$LAUNCHER" stop -t 5 lc-idle
		run -0 "$LAUNCHER" ps -a
		assert_output --regexp 'lc-idle .* Exited \(143\) '
		"$LAUNCHER" rm lc-idle >/dev/null
	done
}

@test "logs: --tail, -t timestamps, --since, -f until the container ends" {
	"$LAUNCHER" run -d --name lc-log "$BUSYBOX" sh -c 'for i in 1 2 3; do echo line $i; done; sleep 1; echo late' >/dev/null
	run -0 "$LAUNCHER" logs -f lc-log
	assert_output "$(printf 'line 1\nline 2\nline 3\nlate')"
	run -0 "$LAUNCHER" logs --tail 2 lc-log
	assert_output "$(printf 'line 3\nlate')"
	run -0 "$LAUNCHER" logs -t --tail 1 lc-log
	assert_output --regexp '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z late$'
	run -0 "$LAUNCHER" logs --since 2099-01-01T00:00:00Z lc-log
	assert_output ""
	run -0 "$LAUNCHER" logs --since 1h lc-log
	assert_line --index 0 "line 1"
	run -1 "$LAUNCHER" logs --since yesterday lc-log
	assert_output --partial "bad --since yesterday"
}

@test "stdin is attached only with -i: a read loop that runs the launcher keeps its input" {
	run -0 bash -c "printf 'a\nb\n' | while read -r l; do '$LAUNCHER' '$BUSYBOX' cat; echo \"got \$l\"; done"
	assert_output "$(printf 'got a\ngot b')"
	run -0 bash -c "echo piped | '$LAUNCHER' -i '$BUSYBOX' cat"
	assert_output piped
}

@test "SIGKILL of a detached supervisor: ps says so; rm or the next run of the name reclaims it" {
	"$LAUNCHER" run -d --name lc-killed "$BUSYBOX" sleep 100 >/dev/null
	id=$(readlink "$LAUNCHER_STATE/.name.lc-killed")
	kill -9 "$(record "$id" supervisorPid)"
	for _ in $(seq 100); do "$LAUNCHER" ps -a | grep -q 'lc-killed .* Dead' && break; sleep 0.1; done
	run -0 "$LAUNCHER" ps -a
	assert_output --regexp "lc-killed .* Dead \(its launcher was killed\)"
	# the next run of the name takes it back
	run -0 "$LAUNCHER" run -d --name lc-killed "$BUSYBOX" sleep 100
	[ ! -e "$LAUNCHER_STATE/$id" ]
	id=$output
	kill -9 "$(record "$id" supervisorPid)"
	for _ in $(seq 100); do "$LAUNCHER" ps -a | grep -q 'lc-killed .* Dead' && break; sleep 0.1; done
	run -0 "$LAUNCHER" rm lc-killed
	[ -z "$(ls -A "$LAUNCHER_STATE")" ]
}

@test "launcher run is docker's with an archive after docker's flags, runc's with an id" {
	run -0 "$LAUNCHER" run --rm -e X=1 "$BUSYBOX" sh -c 'echo docker $X'
	assert_output "docker 1"
	run -0 "$LAUNCHER" run --rm "$BUSYBOX:busybox:latest" echo with-ref
	assert_output with-ref
	# runc's: an id, the bundle from --bundle or the working directory
	run -1 "$LAUNCHER" --root "$BATS_TEST_TMPDIR/runc" run --bundle "$BATS_TEST_TMPDIR/none" lc-runc-id
	assert_output --partial "bundle $BATS_TEST_TMPDIR/none"
	run -1 "$LAUNCHER" run lc-runc-id
	assert_output --partial "config.json"
}

@test "inspect: docker's JSON with the state, pid, exit code and process" {
	"$LAUNCHER" run -d --name lc-insp -v "$BATS_TEST_TMPDIR:/host:ro" "$BUSYBOX" sleep 100 >/dev/null
	id=$(readlink "$LAUNCHER_STATE/.name.lc-insp")
	run -0 "$LAUNCHER" inspect lc-insp
	run -0 python3 -c 'import json,sys; c=json.load(sys.stdin)[0]; print(c["Id"], c["Name"], c["State"]["Status"], c["State"]["Pid"] > 0, c["Config"]["Process"]["noNewPrivileges"], c["Config"]["Process"]["args"])' <<<"$output"
	assert_output "$id /lc-insp running True True ['sleep', '100']"
	run -0 "$LAUNCHER" inspect lc-insp
	run -0 python3 -c 'import json,sys; m=json.load(sys.stdin)[0]["Mounts"]; print([(x["Type"], x["Source"], x["Destination"], x["RW"]) for x in m])' <<<"$output"
	assert_output "[('bind', '$BATS_TEST_TMPDIR', '/host', False)]"
	# Labels (--label-file's, then --label's, the last of a key winning) and the stop
	# signal by docker's name.
	printf 'team=web\n# a comment\ntier=front\n' >"$BATS_TEST_TMPDIR/labels"
	"$LAUNCHER" run -d --name lc-insp2 --label-file "$BATS_TEST_TMPDIR/labels" --label tier=back --label 'quote="x"' \
		--stop-signal USR1 "$BUSYBOX" sleep 100 >/dev/null
	run -0 inspect_field lc-insp2 'sorted(c["Config"]["Labels"].items()), c["Config"]["StopSignal"]'
	assert_output "[('quote', '\"x\"'), ('team', 'web'), ('tier', 'back')] SIGUSR1"
	run -0 inspect_field lc-insp 'c["Config"]["Labels"], c["Config"]["StopSignal"]'
	assert_output "{} SIGTERM"
	"$LAUNCHER" rm -f lc-insp lc-insp2 >/dev/null
}

# inspect_field NAME EXPR: a field of inspect's JSON, by a python expression on c
inspect_field() { "$LAUNCHER" inspect "$1" | python3 -c "import json,sys; c=json.load(sys.stdin)[0]; print($2)"; }

@test "--restart: on-failure:N starts the container again N times, always until stop; not with --rm" {
	"$LAUNCHER" run -d --name lc-rs --restart on-failure:2 "$BUSYBOX" sh -c 'echo run; exit 3' >/dev/null
	for _ in $(seq 100); do [ "$(inspect_field lc-rs 'c["State"]["Status"]')" = exited ] && break; sleep 0.1; done
	[ "$(inspect_field lc-rs 'c["RestartCount"], c["State"]["ExitCode"]')" = "2 3" ]
	run -0 "$LAUNCHER" logs lc-rs
	assert_output "$(printf 'run\nrun\nrun')"
	"$LAUNCHER" run -d --name lc-always --restart always "$BUSYBOX" sh -c 'echo run; sleep 0.2' >/dev/null
	for _ in $(seq 100); do [ "$(inspect_field lc-always 'c["RestartCount"]')" -ge 2 ] && break; sleep 0.1; done
	run -0 "$LAUNCHER" stop lc-always
	[ "$(inspect_field lc-always 'c["State"]["Status"]')" = exited ]
	sup=$(record "$(readlink "$LAUNCHER_STATE/.name.lc-always")" supervisorPid)
	! ps -o stat= -p "$sup" | grep -qv Z # its launcher ended (a zombie until its reaper reaps it)
	run -125 "$LAUNCHER" run --rm --restart always "$BUSYBOX" true
	assert_output "launcher: conflicting options: --restart and --rm"
	run -125 "$LAUNCHER" run --restart sometimes "$BUSYBOX" true
	assert_output --partial "bad --restart sometimes"
}

# The pty tests drive a real terminal: tmux with an interactive bash, 100x30.
tmux_start() {
	tmux -L "lc$$" new-session -d -x 100 -y 30 "env LAUNCHER_STATE='$LAUNCHER_STATE' LAUNCHER_ROOT='$LAUNCHER_ROOT' PS1='host\$ ' bash --norc --noprofile -i"
	tmux_prompt
}
# waits until the host shell's prompt is the screen's last line
tmux_prompt() {
	for _ in $(seq "${1:-100}"); do tmux_screen | grep -v '^$' | tail -1 | grep -q 'host\$ *$' && return 0; sleep 0.1; done
	echo "timed out waiting for the shell's prompt; the screen:" >&2
	tmux_screen >&2
	return 1
}
tmux_keys() { tmux -L "lc$$" send-keys "$@"; }
tmux_screen() { tmux -L "lc$$" capture-pane -p; }
tmux_wait() {
	for _ in $(seq 100); do tmux_screen | grep -q -- "$1" && return 0; sleep 0.1; done
	echo "timed out waiting for '$1'; the screen:" >&2
	tmux_screen >&2
	return 1
}

@test "-it: a pty of the container's devpts, job control, window size, ^C; the terminal restored after exit" {
	tmux_start
	tmux_keys "stty -g >$BATS_TEST_TMPDIR/before; '$LAUNCHER' run -it --rm '$BUSYBOX' sh" Enter
	tmux_wait '/data # *$'
	tmux_keys 'tty; echo term=$TERM; stty size' Enter
	tmux_wait '^30 100$'
	tmux -L "lc$$" resize-window -x 80 -y 20
	tmux_keys 'stty size; sleep 100' Enter
	tmux_wait '^20 80$'
	tmux_keys C-c
	tmux_keys 'echo after-interrupt; exit 7' Enter
	tmux_wait '^after-interrupt'
	tmux_keys "echo rc=\$?; stty -g | cmp - $BATS_TEST_TMPDIR/before && echo restored" Enter
	tmux_wait '^restored'
	run tmux_screen
	assert_line /dev/pts/0
	assert_line term=xterm
	assert_line rc=7
	# exec -it: a pty of its own in the container's devpts
	"$LAUNCHER" run -d --name lc-exec-tty "$BUSYBOX" sleep 100 >/dev/null
	tmux_keys "clear; '$LAUNCHER' exec -it lc-exec-tty sh" Enter
	tmux_wait '/data # *$'
	tmux_keys 'tty; echo exec-term=$TERM; stty size; exit 5' Enter
	tmux_prompt
	tmux_keys "echo exec-rc=\$?; stty -g | cmp - $BATS_TEST_TMPDIR/before && echo exec-restored" Enter
	tmux_wait '^exec-restored'
	run tmux_screen
	assert_line --regexp '^/dev/pts/[0-9]+$'
	assert_line exec-term=xterm
	assert_line '20 80'
	assert_line exec-rc=5
}

@test "-it: the terminal is restored after SIGKILL of the container and after the launcher is killed" {
	tmux_start
	tmux_keys "stty -g >$BATS_TEST_TMPDIR/before" Enter
	for how in container launcher; do
		tmux_keys "'$LAUNCHER' run -it --name lc-tty-$how '$BUSYBOX' sh" Enter
		tmux_wait '/data # *$'
		id=$(readlink "$LAUNCHER_STATE/.name.lc-tty-$how")
		if [ $how = container ]; then
			kill -9 "$(record "$id" pid)"
		else
			kill -TERM "$(record "$id" supervisorPid)"
		fi
		tmux_prompt 150 # an interactive sh ignores SIGTERM: SIGKILL follows 10 s later
		tmux_keys "echo rc-$how=\$?; stty -g | cmp - $BATS_TEST_TMPDIR/before && echo restored-$how" Enter
		tmux_wait "^restored-$how"
	done
	run tmux_screen
	assert_line rc-container=137
}

@test "without -t: a background launcher leaves the interactive shell alive, ^Z gives the terminal back" {
	tmux_start
	tmux_keys "'$LAUNCHER' --rm '$BUSYBOX' sh -c 'sleep 0.5; echo bg-done' &" Enter
	tmux_wait '^bg-done'
	tmux_keys 'echo shell-alive' Enter
	tmux_wait '^shell-alive'
	tmux_keys "'$LAUNCHER' --rm '$BUSYBOX' sleep 100" Enter
	sleep 1
	tmux_keys C-z
	tmux_wait 'Stopped'
	tmux_keys 'echo got-terminal' Enter
	tmux_wait '^got-terminal'
	tmux_keys fg Enter
	sleep 0.5
	tmux_keys C-c
	tmux_keys 'echo rc=$?' Enter
	tmux_wait '^rc=130'
}

@test "the writable layer is on disk beside the cache, removed with the container; --no-cache keeps it in the container's tmpfs" {
	"$LAUNCHER" run -d --name lc-disk "$BUSYBOX" sh -c 'head -c 4194304 /dev/zero >/written; echo done; exec sleep 100' >/dev/null
	id=$(readlink "$LAUNCHER_STATE/.name.lc-disk")
	for _ in $(seq 100); do "$LAUNCHER" logs lc-disk | grep -q done && break; sleep 0.1; done
	[ "$(stat -c %s "$LAUNCHER_ROOT/containers/$id/upper/written")" = 4194304 ]
	[ "$(stat -f -c %T "$LAUNCHER_ROOT/containers/$id/upper")" != tmpfs ] || [ "$(stat -f -c %T "$LAUNCHER_ROOT")" = tmpfs ]
	"$LAUNCHER" rm -f lc-disk >/dev/null
	[ ! -e "$LAUNCHER_ROOT/containers/$id" ]
	# a foreground --rm run's goes at its exit; --no-cache writes to the tmpfs
	run -0 "$LAUNCHER" run --rm "$BUSYBOX" sh -c 'echo x >/y; cat /y'
	assert_output x
	[ -z "$(ls -A "$LAUNCHER_ROOT/containers")" ]
	"$LAUNCHER" run -d --no-cache --name lc-tmpfs "$BUSYBOX" sh -c 'echo x >/y; exec sleep 100' >/dev/null
	id=$(readlink "$LAUNCHER_STATE/.name.lc-tmpfs")
	[ -e "$LAUNCHER_ROOT/containers/$id/$id-json.log" ]
	[ ! -e "$LAUNCHER_ROOT/containers/$id/upper" ]
}

@test "images lists the archives whose layers are cached; system prune removes ended containers and unused layers" {
	"$LAUNCHER" --rm "$HELLO" >/dev/null
	"$LAUNCHER" run -d --name lc-keep "$BUSYBOX" sleep 100 >/dev/null
	run -0 "$LAUNCHER" run --name lc-ended "$BUSYBOX" true
	run -0 "$LAUNCHER" images
	assert_line --index 0 --regexp '^REPOSITORY +TAG +IMAGE ID +SIZE +ARCHIVE$'
	assert_line --regexp "^busybox +latest +$(image_id "$BUSYBOX" | cut -c1-12) +[0-9.]+MB +$BUSYBOX\$"
	assert_line --regexp "^hello +latest +$(image_id "$HELLO" | cut -c1-12) +[0-9.]+k?B +$HELLO\$"
	ended=$(readlink "$LAUNCHER_STATE/.name.lc-ended")
	run -0 "$LAUNCHER" system prune -f
	assert_line "$ended"
	assert_line "1 removed, 2 in use" # hello's layer; busybox's two are held by lc-keep
	run -0 "$LAUNCHER" ps -a
	refute_output --partial lc-ended
	assert_output --partial lc-keep
	run -0 "$LAUNCHER" images
	refute_output --partial hello
	# without -f it asks, and a no keeps everything
	run -0 bash -c "echo n | '$LAUNCHER' system prune"
	assert_output --partial "Are you sure you want to continue? [y/N]"
	run -0 "$LAUNCHER" images
	assert_output --partial busybox
}

@test "stop and rm -f of a container still starting (Created: no PID 1 recorded yet) end it once it runs; rm leaves no running container without a record" {
	# --privileged: no cgroup, whose kill would end it anyway. The old stop and rm -f saw no
	# PID 1 and passed over it: it ran on, and rm removed the record of a running container.
	for verb in stop "rm -f"; do
		export LAUNCHER_ROOT=$BATS_TEST_TMPDIR/cache-${verb% *} # empty: the start unpacks, slowly enough to be caught
		name=lc-early-${verb% *}-$$
		"$LAUNCHER" run -d --privileged --name "$name" "$BUSYBOX" sleep 2345$$ </dev/null >"$BATS_TEST_TMPDIR/run.out" 2>&1 &
		starter=$!
		until grep -qs '"status":"created"' "$LAUNCHER_STATE"/*/state.json; do kill -0 "$starter" || break; done
		run -0 grep -ls '"status":"created"' "$LAUNCHER_STATE"/*/state.json # caught before it ran
		run -0 $LAUNCHER $verb "$name"
		wait "$starter"
		run -0 "$LAUNCHER" ps -a
		refute_output --partial "Up "
		run -1 pgrep -f "sleep 2345$$"
		"$LAUNCHER" rm -f "$name" >/dev/null 2>&1 || true
	done
	[ -z "$(ls -A "$LAUNCHER_STATE")" ]
}

@test "two rm of one container at once, or rm beside system prune: both succeed, nothing is left" {
	# The old removal died where the other had just removed a directory ("rm: remove
	# directory bin: No such file or directory"), and a system prune stopped there.
	for round in 1 2 3; do
		"$LAUNCHER" run --name "lc-twice-$$" "$BUSYBOX" sh -c 'for i in $(seq 30); do mkdir -p /big/$i && cp -a /bin /big/$i/; done' </dev/null
		"$LAUNCHER" rm "lc-twice-$$" >"$BATS_TEST_TMPDIR/first" 2>&1 &
		first=$!
		if [ "$round" = 3 ]; then run -0 "$LAUNCHER" system prune -f; else run "$LAUNCHER" rm "lc-twice-$$"; fi
		refute_output --partial "No such file" # (a late one may find no such container)
		wait "$first" || true
		run cat "$BATS_TEST_TMPDIR/first"
		refute_output --partial "No such file"
		[ -z "$(ls -A "$LAUNCHER_STATE")" ] && [ -z "$(ls -A "$LAUNCHER_ROOT/containers")" ]
	done
}

@test "rm -f, stop and kill of a container with no PID namespace nor cgroup of its own (--pid host, --privileged) end every process of it, not only PID 1" {
	# Its PID 1 is a subreaper, not a namespace's init: SIGKILL ended it alone, the
	# entrypoint (and an exec'd process) ran on, orphaned, and rm removed their record.
	for verb in "rm -f" "stop -t 1" kill; do
		name=lc-hostpid-${verb%% *}-$$
		"$LAUNCHER" run -d --privileged --pid host --name "$name" "$BUSYBOX" sh -c "trap '' TERM; sleep 3456$$ & wait; wait" >/dev/null
		run -0 "$LAUNCHER" exec -d "$name" sleep 3457$$
		run -0 pgrep -f "sleep 345[67]$$"
		run -0 $LAUNCHER $verb "$name"
		for _ in $(seq 50); do pgrep -f "sleep 345[67]$$" >/dev/null || break; sleep 0.1; done
		run -1 pgrep -f "sleep 345[67]$$"
		"$LAUNCHER" rm -f "$name" >/dev/null 2>&1 || true
	done
}
