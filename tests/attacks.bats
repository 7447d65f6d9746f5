#!/usr/bin/env bats
# The launcher attacked from inside: a container process (tests/attack.c, built static) or
# an image's contents trying to reach the host through what the launcher made for it. Each
# test fails on a binary where the attack works; where the defence holds, it guards it.

load helpers
load oci

setup_file() {
	oci_setup_file
	# Where a container's root in a user namespace (an unprivileged host id) may read it too.
	ATK=$(mktemp -d /tmp/launcher-attack.XXXXXX)
	chmod 755 "$ATK"
	musl-gcc -static -O2 -o "$ATK/attack" "$BATS_TEST_DIRNAME/attack.c"
	export ATK
}
teardown_file() { rm -rf "$ATK"; }
setup() { oci_setup; }
teardown() { oci_teardown; }

# The host binary's device and inode, as a process inside would see them by stat.
host_binary() { stat -L -c 'dev %d ino %i' "$LAUNCHER"; }

@test "attacks: PID 1's exe, mem, root and map_files never lead to the host binary (default caps, --userns)" {
	for flags in "" "--userns"; do
		run "$LAUNCHER" $flags -v "$ATK:/atk:ro" "$BUSYBOX" /atk/attack pid1-exe 1
		echo "$output"; [ "$status" -eq 0 ]
		assert_line 'exe read: refused (Permission denied)'
		assert_line 'exe path: refused (Permission denied)'
		assert_line 'mem: refused (Permission denied)'
		assert_line 'root: refused (Permission denied)'
		assert_line 'map_files: 0 opened'
	done
}

@test "attacks: where PID 1's exe can be followed (SYS_PTRACE, --privileged) it is a sealed copy, never the host binary" {
	for flags in "--cap-add SYS_PTRACE" "--cap-add SYS_ADMIN" "--cap-add CHECKPOINT_RESTORE" "--privileged"; do
		run "$LAUNCHER" $flags -v "$ATK:/atk:ro" "$BUSYBOX" sh -c '/atk/attack pid1-exe 1; readlink /proc/1/exe || true'
		echo "$output"; [ "$status" -eq 0 ]
		refute_output --partial "$(host_binary)"
		refute_line --partial 'exe write: opened'
		if [[ $output == *"exe read: opened"* ]]; then assert_line '/memfd:launcher (deleted)'; fi
	done
}

@test "attacks: a process of the container never finds an exec'd process in the host's root or with more capabilities (CVE-2016-9962)" {
	sentinel=$BATS_TEST_TMPDIR/host-only-sentinel
	echo host >"$sentinel"
	make_bundle "$B" "/attack watch-root ${sentinel#/} 8"
	cp "$ATK/attack" "$B/rootfs/attack"
	oci_edit "$B" 'for s in c["process"]["capabilities"].values(): s.append("CAP_SYS_PTRACE")'
	oci_create "$ID"
	rt start "$ID"
	for _ in $(seq 60); do rt exec "$ID" true; done
	for _ in $(seq 100); do [ "$(status_of "$ID")" = stopped ] && break; sleep 0.1; done
	cat "$BATS_TEST_TMPDIR/$ID.out"
	run -0 cat "$BATS_TEST_TMPDIR/$ID.out"
	assert_line --partial watched
	refute_output --partial reached
	refute_output --partial privileged
	rt delete --force "$ID"
}

@test "attacks: no volume lands inside /proc (flags, the image's Volumes, a climbing path) and nothing is seeded from /proc, /sys or /dev" {
	for flag in "-v x1:/proc/sys" "-v /tmp:/proc/self/attr" "--tmpfs /proc/sys/kernel" "--mount type=tmpfs,target=//proc/x" "-v x2:/x/../proc/sys"; do
		run "$LAUNCHER" $flag "$BUSYBOX" true
		[ "$status" -eq 125 ] || { echo "$flag: status $status: $output" >&2; return 1; }
		assert_output --partial 'a mount inside /proc is refused'
	done
	for vol in /proc/sys/kernel /proc /; do
		config_image "vol${vol//\//-}" "\"WorkingDir\":\"/data\",\"Volumes\":{\"$vol\":{}}"
		run -125 "$LAUNCHER" "$BATS_TEST_TMPDIR/vol${vol//\//-}.tar" true
		assert_output --regexp "bad image volume $vol: (a mount inside /proc is refused|the container's root cannot be a mount target)"
	done
	[ -z "$(ls "$LAUNCHER_ROOT/volumes" | grep -v '^x2$')" ] # refused before any volume is made (x2: named, kept as docker's)
	# Seeded as PID 1 (real root) sees them, the kernel's file systems would show what only
	# root may read (kallsyms, firmware tables) to a container that reads its volume.
	for target in /sys/kernel /dev /sys; do
		run "$LAUNCHER" -v "seed${target//\//-}:$target" "$BUSYBOX" true
		run -0 ls -A "$LAUNCHER_ROOT/volumes/seed${target//\//-}/_data"
		assert_output ''
	done
}

@test "attacks: a --sysctl key whose path climbs out of its namespaced place (net.//.kernel.panic), or net.* with --netns, is refused; the host's value stays" {
	panic=$(cat /proc/sys/kernel/panic)
	for key in net.//.kernel.panic fs.mqueue.//.//kernel.panic net.ipv4.//.//.//kernel.panic net./.ipv4.ip_forward; do
		run "$LAUNCHER" --sysctl "$key=$((panic + 7))" "$BUSYBOX" true
		now=$(cat /proc/sys/kernel/panic)
		echo "$panic" >/proc/sys/kernel/panic
		[ "$now" = "$panic" ] || { echo "$key changed the host's kernel.panic" >&2; return 1; }
		[ "$status" -eq 125 ]
		assert_output "launcher: bad --sysctl $key=$((panic + 7)): a part . or .. of the path in /proc/sys it names"
	done
	# --netns joins a namespace not the container's own: the host's, through /proc/self/ns/net.
	martians=$(cat /proc/sys/net/ipv4/conf/lo/log_martians)
	run "$LAUNCHER" --netns /proc/self/ns/net --sysctl "net.ipv4.conf.lo.log_martians=$((1 - martians))" "$BUSYBOX" true
	now=$(cat /proc/sys/net/ipv4/conf/lo/log_martians)
	echo "$martians" >/proc/sys/net/ipv4/conf/lo/log_martians
	[ "$now" = "$martians" ]
	[ "$status" -eq 125 ]
	assert_output --partial 'not allowed in a network namespace the container joins (--netns)'
	# The runtime mode makes every '.' a '/': no key of it names a "..".
	for key in net./../kernel.panic net.ipv4/../../kernel/panic; do
		make_bundle "$B" 'echo ran'
		oci_edit "$B" 'c["linux"]["sysctl"] = {arg: "9"}' "$key"
		run rt run --bundle "$B" "$ID"
		now=$(cat /proc/sys/kernel/panic)
		echo "$panic" >/proc/sys/kernel/panic
		[ "$now" = "$panic" ] || { echo "runtime mode: $key changed the host's kernel.panic" >&2; return 1; }
		rt delete --force "$ID"
		rm -rf "$B"
	done
}

@test "attacks: a container already using a volume cannot turn its seed's chmod onto a host file (a symlink swapped in as each file is written)" {
	# Outside /tmp: PID 1's scratch tmpfs there hides the host's /tmp from it.
	sentinel=$(mktemp /var/tmp/launcher-sentinel.XXXXXX)
	echo host >"$sentinel"
	chmod 600 "$sentinel"
	python3 - "$BATS_TEST_TMPDIR/layer.tar" <<-'PY'
		import io, sys, tarfile
		with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
		    d = tarfile.TarInfo("data"); d.type = tarfile.DIRTYPE; d.mode = 0o755; t.addfile(d)
		    for i in range(400):
		        f = tarfile.TarInfo("data/f%03d" % i); f.mode = 0o6777; f.size = 4096
		        t.addfile(f, io.BytesIO(b"x" * 4096))
	PY
	hostile_image seeds
	mkdir -p "$LAUNCHER_ROOT/volumes/shared"
	"$LAUNCHER" -v "$ATK:/atk:ro" -v "$LAUNCHER_ROOT/volumes/shared:/vol" "$BUSYBOX" \
		/atk/attack swap-on-close /vol/_data "$sentinel" 6 </dev/null >"$BATS_TEST_TMPDIR/x.out" 2>&1 &
	wait_for "$BATS_TEST_TMPDIR/x.out" ready
	run "$LAUNCHER" -v shared:/data "$BATS_TEST_TMPDIR/seeds.tar" true
	wait
	cat "$BATS_TEST_TMPDIR/x.out"
	mode=$(stat -c %a "$sentinel")
	rm -f "$sentinel"
	assert_equal "$mode" 600
}

@test "attacks: a rootless cache directory another user made (a shared home) is not used: nothing is unpacked into it, the start unpacks afresh" {
	nb=$(mktemp -d /var/tmp/launcher-nobody.XXXXXX)
	chmod 755 "$nb"
	cp "$LAUNCHER" "$BUSYBOX" "$nb/"
	chmod 644 "$nb/busybox.tar"
	mkdir -m 1777 "$nb/shared"
	mkdir -m 777 "$nb/shared/launcher" # planted by uid 4242, for nobody's $XDG_DATA_HOME/launcher
	chown 4242:4242 "$nb/shared/launcher"
	run env -u LAUNCHER_ROOT XDG_DATA_HOME="$nb/shared" setpriv --reuid 65534 --regid 65534 --clear-groups \
		"$nb/launcher" --verbose "$nb/busybox.tar" cat /opt/dir/new.txt
	planted=$(ls -A "$nb/shared/launcher")
	rm -rf "$nb"
	assert_success
	assert_line 'new content from layer 2'
	assert_line --regexp "no cache of the user's own at .*/shared/launcher \(Operation not permitted\): the layers are unpacked afresh$"
	assert_equal "$planted" ""
}

@test "attacks: exec of a command the container made \"#!/proc/self/exe\" never gives it the host binary to rewrite (CVE-2019-5736)" {
	# A copy of the binary, which the attack may rewrite; the container holds CAP_SYS_PTRACE,
	# so that its own launcher runs from a sealed copy and nothing else runs this file.
	bin=$(mktemp -d /var/tmp/launcher-binary.XXXXXX)
	cp "$LAUNCHER" "$bin/launcher"
	before=$(sha256sum <"$bin/launcher")
	"$bin/launcher" run -d --name "atk-$$" --cap-add SYS_PTRACE -v "$ATK:/atk:ro" "$BUSYBOX" sh -c \
		'mkfifo /fifo; printf "#!/proc/self/exe /fifo\n" >/bin/true.new; chmod 755 /bin/true.new; mv /bin/true.new /bin/x
		 /atk/attack overwrite-exe launcher 6 & sleep 2; echo >/fifo; wait' </dev/null >/dev/null
	sleep 0.5
	run "$bin/launcher" exec "atk-$$" x
	sleep 6
	run -0 "$bin/launcher" logs "atk-$$"
	after=$(sha256sum <"$bin/launcher")
	"$bin/launcher" rm -f "atk-$$"
	rm -rf "$bin"
	assert_line ready
	refute_line --partial wrote
	assert_equal "$after" "$before"
}

@test "attacks: a detached container's name never climbs the state root, its log is capped, its writable layer is root's alone" {
	for name in ../x .x a/b -x; do
		run -125 "$LAUNCHER" run -d --name "$name" "$BUSYBOX" true
		assert_output --partial "bad --name $name"
	done
	[ -z "$(ls -A "$LAUNCHER_STATE" 2>/dev/null)" ]
	# 40 MB of output: at most the file and one rotation of 10 MiB each stay.
	id=$("$LAUNCHER" run -d --name "flood-$$" "$BUSYBOX" sh -c \
		'yes 0123456789012345678901234567890123456789 | head -c 40000000; chmod 4755 /bin/busybox; echo done' </dev/null)
	for _ in $(seq 300); do
		[[ $("$LAUNCHER" ps -a) == *Exited* ]] && break
		sleep 0.1
	done
	run -0 "$LAUNCHER" logs --tail 1 "flood-$$"
	assert_output --partial done
	data=$LAUNCHER_ROOT/containers/$id
	total=$(cat "$data"/*-json.log* | wc -c)
	[ "$total" -le $((2 * 10 * 1024 * 1024)) ] || { echo "$total bytes of log" >&2; return 1; }
	# The setuid busybox the container made lies in its writable layer: no host user reaches it.
	[ "$(stat -c %a "$data")" = 700 ] && [ "$(stat -c %a "$LAUNCHER_ROOT/containers")" = 700 ]
	"$LAUNCHER" rm "flood-$$"
}

@test "attacks: a host name with a newline adds no line to its peers' hosts file" {
	# In a network namespace of the test's own, its state under a run directory of its own,
	# as tests/net.bats does: nothing of the host's networks is touched.
	ns=latk-$$
	ip netns add "$ns"
	export LAUNCHER_RUN=$BATS_TEST_TMPDIR/run
	nsenter --net=/run/netns/"$ns" "$LAUNCHER" --net red --hostname "$(printf 'evil\n6.6.6.6 victim')" "$BUSYBOX" \
		sh -c 'echo up; sleep 3' </dev/null >"$BATS_TEST_TMPDIR/a.out" 2>&1 &
	wait_for "$BATS_TEST_TMPDIR/a.out" up
	run nsenter --net=/run/netns/"$ns" "$LAUNCHER" --net red "$BUSYBOX" cat /etc/hosts
	wait
	nsenter --net=/run/netns/"$ns" "$LAUNCHER" --net-rm red
	ip netns del "$ns"
	assert_success
	refute_output --partial victim
	refute_output --partial 6.6.6.6
}

@test "attacks: a --device or --tmpfs path that climbs (.., /proc/1/root) lands inside the container; the host's /tmp gets nothing" {
	node=/tmp/launcher-atk-node-$$ mnt=/tmp/launcher-atk-tmpfs-$$
	run -0 "$LAUNCHER" --device "/dev/null:/dev/../../../..$node" "$BUSYBOX" ls -l "$node"
	assert_output --regexp '^crw-rw-rw- .* 1, +3 '
	[ ! -e "$node" ]
	run -125 "$LAUNCHER" --device "/dev/null:/proc/1/root$node" "$BUSYBOX" true
	[ ! -e "$node" ]
	run -0 "$LAUNCHER" --tmpfs "/dev/../..$mnt" "$BUSYBOX" grep -c " $mnt tmpfs " /proc/mounts
	assert_output 1
	[ ! -e "$mnt" ]
}

@test "attacks: every capability of a user namespace made inside (seccomp unconfined) still cannot follow PID 1's exe" {
	run -0 "$LAUNCHER" --security-opt seccomp=unconfined -v "$ATK:/atk:ro" "$BUSYBOX" sh -c \
		'unshare -Ur grep CapEff /proc/self/status; unshare -Ur /atk/attack pid1-exe 1'
	assert_line --regexp '^CapEff:.*ffffffff$'
	assert_line 'exe read: refused (Permission denied)'
	assert_line 'exe path: refused (Permission denied)'
	assert_line 'mem: refused (Permission denied)'
}

@test "attacks: a --pid host container's /etc made a link through a host process's /proc/PID/root never feeds exec -u a host file" {
	# The container (a writable root of its own: --storage copy renames /etc) points /etc at
	# a host directory through the root of a host process, which root of the host may follow.
	mkdir "$BATS_TEST_TMPDIR/hostetc"
	echo 'atk-hostonly:x:4242:4242::/:/bin/sh' >"$BATS_TEST_TMPDIR/hostetc/passwd"
	sleep 300 </dev/null >/dev/null 2>&1 &
	host=$!
	"$LAUNCHER" run -d --name "atk-etc-$$" --storage copy --pid host "$BUSYBOX" sleep 300 >/dev/null
	run -0 "$LAUNCHER" exec "atk-etc-$$" /bin/busybox sh -c "mv /etc /etc.image && /bin/busybox ln -s /proc/$host/root$BATS_TEST_TMPDIR/hostetc /etc"
	run "$LAUNCHER" exec -u atk-hostonly "atk-etc-$$" /bin/busybox id -u
	kill $host
	"$LAUNCHER" rm -f "atk-etc-$$" >/dev/null
	assert_failure 126
	assert_output "launcher: unable to find user atk-hostonly: no matching entries in the container's /etc/passwd"
}

@test "attacks: a tree deeper than the descriptors a remover may hold (mkdir d; cd d; ...) is removed all the same by rm, volume rm and volume prune" {
	# A container's depth is unbounded; the old removal held a descriptor a level, and
	# failed midway at the limit ("No file descriptors available"): the writable layer,
	# record and volume stayed, half removed, for good.
	deep='mkdir .deep.0 .deep.1; i=0; while [ $i -lt 400 ]; do mkdir d && cd d || exit 1; i=$((i+1)); done; echo x >f; ln -s / up; mkdir .deep.0'
	run -0 "$LAUNCHER" run --name "deep-$$" -v "deep-$$:/v" -v /v2 "$BUSYBOX" sh -c "cd /v && ($deep) && cd /v2 && ($deep) && cd / && ($deep) && echo made"
	assert_output made
	(ulimit -n 128 && "$LAUNCHER" rm "deep-$$" && "$LAUNCHER" volume rm "deep-$$" && "$LAUNCHER" volume prune)
	[ -z "$(ls -A "$LAUNCHER_ROOT/containers")" ] && [ -z "$(ls -A "$LAUNCHER_ROOT/volumes")" ] && [ -z "$(ls -A "$LAUNCHER_STATE")" ]
}

@test "attacks: a container that may hold CAP_SYS_PTRACE is refused as a --pid container:NAME donor: its processes would reach the joiner's PID 1 in the host's root" {
	# The joiner's PID 1 is born in the donor's PID namespace and builds its root there,
	# from the host's: a donor's process with CAP_SYS_PTRACE (non-dumpable is no bar to it)
	# opened the host's files through /proc/PID/root, and saw PID 1's full capabilities.
	sentinel=$BATS_TEST_TMPDIR/host-only-sentinel
	echo host >"$sentinel"
	for flag in "--cap-add SYS_PTRACE" --privileged; do
		"$LAUNCHER" run -d --name "atk-donor-$$" $flag -v "$ATK:/atk:ro" "$BUSYBOX" /atk/attack watch-root "${sentinel#/}" 4 >/dev/null
		for storage in "" "--storage copy"; do
			run -125 "$LAUNCHER" run --rm --pid "container:atk-donor-$$" $storage "$BUSYBOX" true
			assert_output "launcher: --pid container:atk-donor-$$: that container may hold CAP_SYS_PTRACE (--cap-add, --privileged): its processes could reach this one's first process before it enters its root"
		done
		for _ in $(seq 100); do [[ $("$LAUNCHER" ps -a) == *Exited* ]] && break; sleep 0.1; done
		run -0 "$LAUNCHER" logs "atk-donor-$$"
		assert_line --partial watched
		refute_output --partial reached
		"$LAUNCHER" rm -f "atk-donor-$$" >/dev/null
	done
	# A donor without it is joined (flags.bats), and nothing of the host is reached.
	"$LAUNCHER" run -d --name "atk-donor-$$" -v "$ATK:/atk:ro" "$BUSYBOX" /atk/attack watch-root "${sentinel#/}" 4 >/dev/null
	for _ in 1 2 3; do run -0 "$LAUNCHER" run --rm --pid "container:atk-donor-$$" --storage copy "$BUSYBOX" true; done
	for _ in $(seq 100); do [[ $("$LAUNCHER" ps -a) == *Exited* ]] && break; sleep 0.1; done
	run -0 "$LAUNCHER" logs "atk-donor-$$"
	assert_line --partial watched
	refute_output --partial reached
	"$LAUNCHER" rm -f "atk-donor-$$" >/dev/null
}
