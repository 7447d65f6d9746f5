#!/usr/bin/env bats
# The core start: launcher IMAGE.tar runs a docker save image as PID 1 in new namespaces.

load helpers

setup() { common_setup; }
teardown() { common_teardown; }

@test "the binary is static and libc-only" {
	run readelf -d "$LAUNCHER"
	refute_output --partial NEEDED
	run file "$LAUNCHER"
	assert_output --partial "statically linked"
}

@test "hello prints its greeting and exits 0" {
	run "$LAUNCHER" "$HELLO"
	assert_success
	assert_output --partial "Hello from a container!"
}

@test "the image archives are byte-identical on every build" {
	out=$BATS_TEST_TMPDIR/images
	mkdir "$out"
	images/pack.sh "$out"
	cmp "$out/hello.tar" "$HELLO"
	cmp "$out/busybox.tar" "$BUSYBOX"
}

@test "the container has its own host name: the image id by default, --hostname, and the host's stays" {
	host=$(hostname)
	id=$(image_id "$BUSYBOX")
	run "$LAUNCHER" "$BUSYBOX" hostname
	assert_success
	assert_output "${id:0:12}"
	run "$LAUNCHER" --hostname bananaman "$BUSYBOX" sh -c 'hostname; cat /etc/hostname; echo $HOSTNAME'
	assert_output "$(printf 'bananaman\nbananaman\nbananaman')"
	# Renaming needs CAP_SYS_ADMIN, which docker's defaults withhold.
	run "$LAUNCHER" --cap-add SYS_ADMIN "$BUSYBOX" sh -c 'hostname renamed && hostname'
	assert_output renamed
	[ "$(hostname)" = "$host" ]
}

@test "ps inside shows only the container's processes, and PID 1 is the launcher" {
	run "$LAUNCHER" "$BUSYBOX" sh -c 'echo $$; cat /proc/1/comm; ls -d /proc/[0-9]* | wc -l; ps'
	assert_success
	assert_line --index 0 2
	assert_line --index 1 launcher
	# PID 1, the shell, and the ls/wc pipeline: nothing of the host
	[ "${lines[2]}" -le 4 ]
	assert_line --regexp '^ +1 root +.*launcher'
	refute_output --partial bats
}

@test "the network namespace has only lo, and it is up" {
	run "$LAUNCHER" "$BUSYBOX" sh -c 'ls /sys/class/net; cat /sys/class/net/lo/operstate; ping -c1 -W1 127.0.0.1 >/dev/null && echo ping ok'
	assert_success
	assert_line --index 0 lo
	assert_line --index 1 unknown
	assert_line "ping ok"
}

@test "whiteouts: layer 2 deletes a file and hides the old /opt/dir content" {
	run "$LAUNCHER" "$BUSYBOX" sh -c 'ls /data; echo --; ls -R /opt/dir'
	assert_success
	refute_output --partial secret.txt
	refute_output --partial old.txt
	refute_output --partial old2.txt
	refute_output --partial .wh.
	assert_output --partial new.txt
	assert_output --partial hello.txt
}

@test "--storage copy merges the layers, applying whiteouts by deletion" {
	run "$LAUNCHER" --storage copy "$BUSYBOX" sh -c 'ls /data; echo --; ls -R /opt/dir; echo x > /data/new; cat /data/new; grep -c " / overlay " /proc/mounts || true'
	assert_success
	refute_output --partial secret.txt
	refute_output --partial old.txt
	refute_output --partial .wh.
	assert_output --partial new.txt
	assert_line x
	assert_line 0
	run "$LAUNCHER" --storage copy "$BUSYBOX" ls /data/new
	assert_failure
	run "$LAUNCHER" --storage zfs "$BUSYBOX" true
	assert_failure 125
	assert_output "launcher: flag --storage takes overlay or copy"
}

@test "files keep mode, owner and mtime; symlinks and hard links work" {
	run "$LAUNCHER" "$BUSYBOX" sh -c 'stat -c "%n %a %u:%g %Y %h" /data/owned.txt /data/hello.txt /tmp /root; readlink /data/symlink.txt; cat /data/symlink.txt; stat -c %i /data/hello.txt /data/hardlink.txt | uniq | wc -l'
	assert_success
	assert_line "/data/owned.txt 640 1000:1000 1704067200 1"
	assert_line "/data/hello.txt 644 0:0 1704067200 2"
	assert_line "/tmp 1777 0:0 1704067200 2"
	assert_line "/root 700 0:0 1704067200 2"
	assert_line "hello.txt"
	assert_line "hello from layer 1"
	assert_line --index 6 1
}

@test "a write in one run is gone in the next; the image archive is untouched" {
	before=$(sha256sum "$BUSYBOX")
	run "$LAUNCHER" "$BUSYBOX" sh -c 'echo changed > /data/hello.txt; echo new > /data/new.txt; rm /bin/ls; cat /data/hello.txt'
	assert_success
	assert_output changed
	run "$LAUNCHER" "$BUSYBOX" sh -c 'cat /data/hello.txt; ls /data/new.txt 2>&1; ls /bin/ls'
	assert_line --index 0 "hello from layer 1"
	assert_line --partial "No such file"
	assert_line /bin/ls
	[ "$(sha256sum "$BUSYBOX")" = "$before" ]
}

@test "the image's Env, WorkingDir and Cmd apply; -e, -w and --entrypoint override them" {
	run "$LAUNCHER" "$BUSYBOX" sh -c 'pwd; echo "$GREETING"; echo "$PATH"; echo "$HOME"'
	assert_success
	assert_output "$(printf '/data\nhello from the image config\n/bin:/usr/bin:/sbin:/usr/sbin\n/root')"
	export HOST_VALUE=from-host
	run "$LAUNCHER" -e GREETING=overridden -e HOST_VALUE -e UNSET_ON_HOST -w /new/dir "$BUSYBOX" \
		sh -c 'pwd; echo "$GREETING $HOST_VALUE ${UNSET_ON_HOST-absent}"'
	assert_output "$(printf '/new/dir\noverridden from-host absent')"
	run "$LAUNCHER" --entrypoint /bin/echo "$BUSYBOX" one two
	assert_output "one two"
	# Without a command the image's Cmd (sh) runs: it reads its script from stdin (-i).
	run sh -c "echo 'echo from stdin' | '$LAUNCHER' -i '$BUSYBOX'"
	assert_output "from stdin"
}

@test "exit codes: the command's, 127 when missing, 126 when not executable, 128+N on a signal" {
	run "$LAUNCHER" "$BUSYBOX" sh -c 'exit 7'
	assert_failure 7
	run -127 "$LAUNCHER" "$BUSYBOX" no-such-command
	assert_output "launcher: exec no-such-command: No such file or directory"
	run "$LAUNCHER" "$BUSYBOX" /data/hello.txt
	assert_failure 126
	assert_output "launcher: exec /data/hello.txt: Permission denied"
	run "$LAUNCHER" "$BUSYBOX" sh -c 'kill -KILL $$'
	assert_failure 137
}

@test "SIGTERM to the launcher reaches the container's trap, and its status comes back" {
	"$LAUNCHER" "$BUSYBOX" sh -c 'trap "echo got TERM; exit 42" TERM; echo ready; while :; do sleep 0.05; done' \
		>"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	wait_for "$BATS_TEST_TMPDIR/out" ready
	kill -TERM $pid
	status=0
	wait $pid || status=$?
	[ "$status" -eq 42 ]
	grep -q "got TERM" "$BATS_TEST_TMPDIR/out"
}

@test "PID 1 reaps orphans while the entrypoint runs, and none outlives it" {
	run "$LAUNCHER" "$BUSYBOX" sh -c '
		for i in $(seq 20); do (sleep 0.05 &); done
		for i in $(seq 20); do (sleep 1000 &); done
		sleep 0.5
		echo "zombies: $(cat /proc/[0-9]*/stat | awk "{print \$3}" | grep -c Z)"
		echo "sleepers: $(grep -c "^sleep$" /proc/[0-9]*/comm | grep -c :1)"'
	assert_success
	assert_line "zombies: 0"
	assert_line "sleepers: 20"
	run pgrep -f "sleep 1000"
	assert_failure
}

@test "a launcher killed with SIGKILL leaves no process and no mount behind" {
	"$LAUNCHER" "$BUSYBOX" sh -c 'echo ready; sleep 1000' >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	wait_for "$BATS_TEST_TMPDIR/out" ready
	kill -KILL $pid
	wait $pid || true
	for _ in $(seq 50); do pgrep -f "sleep 1000" >/dev/null || break; sleep 0.1; done
	run pgrep -f "sleep 1000"
	assert_failure
	# Its empty cgroup is all that stays, until the next start removes it.
	ls -d /sys/fs/cgroup/launcher-$pid /sys/fs/cgroup/*/launcher-$pid 2>/dev/null | grep -q .
	run "$LAUNCHER" "$HELLO"
	assert_success
	run ls -d /sys/fs/cgroup/launcher-$pid /sys/fs/cgroup/*/launcher-$pid
	assert_failure
}

@test "bad flags fail with 125 and one line naming the flag" {
	run "$LAUNCHER" --bogus "$HELLO"
	assert_failure 125
	assert_output "launcher: unknown flag: --bogus (see --help)"
	run "$LAUNCHER" -v "$HELLO"
	assert_failure 125
	run "$LAUNCHER"
	assert_failure 125
	assert_output "launcher: no image given (see --help)"
	run "$LAUNCHER" --hostname
	assert_failure 125
	assert_output "launcher: flag --hostname needs NAME"
	run "$LAUNCHER" --help
	assert_success
	assert_output --partial "--entrypoint CMD"
}

@test "a missing, truncated or corrupt image fails with 125 and one line" {
	run "$LAUNCHER" /no/such.tar
	assert_failure 125
	assert_output "launcher: open image /no/such.tar: No such file or directory"

	head -c 100000 "$BUSYBOX" >"$BATS_TEST_TMPDIR/cut.tar"
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/cut.tar"
	assert_failure 125
	assert_output --regexp '^launcher: image .*cut.tar: truncated archive at byte [0-9]+$'

	# A layer cut short inside an otherwise valid archive: found while unpacking.
	dir=$BATS_TEST_TMPDIR/img
	mkdir "$dir"
	tar -xf "$BUSYBOX" -C "$dir"
	layer=$(ls "$dir"/*/layer.tar | head -1)
	head -c 70000 "$layer" >"$layer.cut" && mv "$layer.cut" "$layer"
	python3 tests/fixtures.py redigest "$dir"
	tar -C "$dir" -cf "$BATS_TEST_TMPDIR/badlayer.tar" .
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/badlayer.tar" true
	assert_failure 125
	assert_output --regexp '^launcher: layer [0-9] \(.*layer.tar\): truncated archive at byte [0-9]+$'

	printf '[{"Config": ' >"$dir/manifest.json"
	tar -C "$dir" -cf "$BATS_TEST_TMPDIR/badjson.tar" .
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/badjson.tar"
	assert_failure 125
	assert_output --regexp '^launcher: image .*: truncated JSON at byte 12 of manifest.json$'

	printf '[{"Config":"a.json","RepoTags":["one:1"]},{"Config":"b.json","RepoTags":["two:2"]}]' >"$dir/manifest.json"
	tar -C "$dir" -cf "$BATS_TEST_TMPDIR/several.tar" .
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/several.tar"
	assert_failure 125
	assert_output --regexp '^launcher: image .*: holds 2 images \(one:1, two:2\): choose one with --image or FILE:NAME$'

	printf '[{"Config":"missing.json","Layers":[]}]' >"$dir/manifest.json"
	tar -C "$dir" -cf "$BATS_TEST_TMPDIR/nocfg.tar" .
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/nocfg.tar"
	assert_failure 125
	assert_output --regexp '^launcher: image .*: missing.json is missing \(the image.s config\)$'

	run "$LAUNCHER" "$ROOT/Makefile"
	assert_failure 125
	assert_output --regexp '^launcher: image .*Makefile: '
}

@test "on a terminal the container gets no controlling terminal of the caller's, and Ctrl-C reaches the entrypoint once" {
	# script(1) gives the launcher a pseudo-terminal; ^C typed there signals the launcher,
	# which forwards it. The container runs in a session of its own, without a terminal.
	# script runs its command with $SHELL -c: exec, or a dash there takes the ^C itself.
	cat >"$BATS_TEST_TMPDIR/fg" <<-EOS
	exec "$LAUNCHER" -i "$BUSYBOX" sh -c 'read a b c d pgrp s tty tpgid rest < /proc/self/stat; echo tty=\$tty tpgid=\$tpgid; [ -t 0 ] && echo "stdin: a terminal"'
	EOS
	run script -qec "exec sh $BATS_TEST_TMPDIR/fg" /dev/null
	assert_success
	assert_output --partial "tty=0 tpgid=-1"
	assert_output --partial "stdin: a terminal"
	cat >"$BATS_TEST_TMPDIR/int" <<-EOS
	exec "$LAUNCHER" "$BUSYBOX" sh -c 'n=0; trap "n=\\\$((n+1))" INT; echo ready; sleep 2 & wait; sleep 0.3; echo ints=\$n; exit 3'
	EOS
	run bash -c "(sleep 1; printf '\003'; sleep 1) | script -qec 'exec sh $BATS_TEST_TMPDIR/int' /dev/null"
	assert_failure 3
	assert_output --partial "ints=1"
}
