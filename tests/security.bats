#!/usr/bin/env bats
# Secure by default: each test is an attack or a check from inside the container.

load helpers

setup() { common_setup; }
teardown() {
	[ ! -e "$BATS_TEST_TMPDIR/loop" ] || losetup -d "$(cat "$BATS_TEST_TMPDIR/loop")"
	common_teardown
}

status_of() { grep "^$1:" | cut -f2; }

@test "capabilities: docker's 14 by default; --cap-add, --cap-drop and --privileged as docker" {
	run "$LAUNCHER" "$BUSYBOX" cat /proc/self/status
	assert_success
	assert_line "$(printf 'CapEff:\t00000000a80425fb')"
	assert_line "$(printf 'CapPrm:\t00000000a80425fb')"
	assert_line "$(printf 'CapBnd:\t00000000a80425fb')"
	assert_line "$(printf 'CapInh:\t0000000000000000')"
	assert_line "$(printf 'CapAmb:\t0000000000000000')"
	run "$LAUNCHER" --cap-add NET_ADMIN --cap-drop CAP_chown "$BUSYBOX" grep CapEff /proc/self/status
	assert_output "$(printf 'CapEff:\t00000000a80435fa')"
	run "$LAUNCHER" --cap-drop ALL --cap-add KILL "$BUSYBOX" grep CapEff /proc/self/status
	assert_output "$(printf 'CapEff:\t0000000000000020')"
	# --privileged keeps what the launcher itself has
	run "$LAUNCHER" --privileged "$BUSYBOX" grep -E 'CapEff|Seccomp:' /proc/self/status
	assert_line "$(printf 'CapEff:\t%s' "$(grep CapEff /proc/self/status | cut -f2)")"
	assert_line "$(printf 'Seccomp:\t0')"
	run "$LAUNCHER" --cap-add NO_SUCH "$BUSYBOX" true
	assert_failure 125
	assert_output "launcher: bad --cap-add NO_SUCH: no such capability"
}

@test "no_new_privs and seccomp: mount, unshare, keyctl and friends fail with EPERM" {
	run "$LAUNCHER" "$BUSYBOX" grep -E 'NoNewPrivs|Seccomp:' /proc/self/status
	assert_line "$(printf 'NoNewPrivs:\t1')"
	assert_line "$(printf 'Seccomp:\t2')"
	run "$LAUNCHER" "$BENCH" /benchtool syscalls
	assert_success
	for call in keyctl unshare mount umount2 setns clone-newuser bpf perf_event_open init_module kexec_load pivot_root ptrace-pid1 vsock tiocsti; do
		assert_line "$call: Operation not permitted"
	done
	run "$LAUNCHER" "$BUSYBOX" sh -c 'unshare -m true; mount -t tmpfs x /mnt'
	assert_failure
	assert_line --partial "Operation not permitted"
	# --seccomp unconfined (and docker's --security-opt seccomp=unconfined) lift the filter,
	# not the capabilities
	for flag in "--seccomp unconfined" "--security-opt seccomp=unconfined"; do
		run "$LAUNCHER" $flag "$BENCH" /benchtool syscalls
		assert_line "keyctl: allowed"
		assert_line "mount: Operation not permitted"
		run "$LAUNCHER" $flag "$BUSYBOX" grep Seccomp: /proc/self/status
		assert_output "$(printf 'Seccomp:\t0')"
	done
	run "$LAUNCHER" --seccomp=strict "$BUSYBOX" true
	assert_failure 125
}

# The probe's line for each call: refused by the filter (EPERM, or ENOSYS for what is
# newer than docker's profile and for clone3), or let through to the kernel (any other
# answer; EPERM only where the kernel itself wants a capability the container lacks).
refused() { for c in "$@"; do assert_line "$c: Operation not permitted"; done; }
enosys() { for c in "$@"; do assert_line "$c: Function not implemented"; done; }
passes() {
	for c in "$@"; do
		assert_line --regexp "^$c: "
		refute_line "$c: Operation not permitted"
		refute_line "$c: Function not implemented"
	done
}

@test "seccomp: the refused set is docker's default profile's, by default, with --cap-add SYS_ADMIN or SYS_PTRACE, and none with --privileged" {
	# docker refuses these by default, and #18 found them allowed by the old deny list
	mempolicy="get_mempolicy set_mempolicy mbind set_mempolicy_home_node"
	ptrace_group="kcmp pidfd_getfd process_madvise"
	admin_group="unshare mount umount2 setns clone-newuser bpf perf_event_open quotactl_fd lsm_list_modules"
	never="keyctl init_module kexec_load pivot_root vsock vsock-high-bits af_alg tiocsti personality-aslr-off userfaultfd io_uring_setup x32-getpid i386-getpid"
	newest="futex_waitv cachestat statmount listmount mseal getxattrat" # ENOSYS, as Debian's docker 20.10 answers them
	run "$LAUNCHER" "$BENCH" /benchtool syscalls
	assert_success
	refused $mempolicy $ptrace_group $admin_group $never ptrace-pid1
	enosys clone3 open_tree_attr file_getattr $newest
	# /dev/userfaultfd would give what the syscall refuses: the device policy refuses it
	assert_line "userfaultfd-dev: Operation not permitted"

	run "$LAUNCHER" --cap-add SYS_ADMIN "$BENCH" /benchtool syscalls
	assert_success
	passes $admin_group clone3
	refused $mempolicy $ptrace_group $never
	enosys open_tree_attr file_getattr $newest

	run "$LAUNCHER" --cap-add SYS_PTRACE "$BENCH" /benchtool syscalls
	assert_success
	passes $ptrace_group ptrace-pid1
	refused $mempolicy $admin_group $never
	enosys clone3 open_tree_attr file_getattr $newest

	run "$LAUNCHER" --cap-add SYS_NICE "$BENCH" /benchtool syscalls
	passes $mempolicy
	refused $ptrace_group

	# no filter: the kernel answers everything, with every capability
	run "$LAUNCHER" --privileged "$BENCH" /benchtool syscalls
	assert_success
	passes $mempolicy $ptrace_group $admin_group keyctl pivot_root personality-aslr-off userfaultfd io_uring_setup \
		clone3 open_tree_attr file_getattr i386-getpid $newest
}

@test "--security-opt seccomp=FILE: podman's profile and one of our own, in docker's format; a bad one is refused before the start" {
	podman=/usr/share/containers/seccomp.json
	[ -f "$podman" ] # package golang-github-containers-common (make deps-test)
	run "$LAUNCHER" --security-opt seccomp=$podman "$BENCH" /benchtool syscalls
	assert_success
	assert_line "keyctl: allowed"                              # podman allows what docker refuses
	assert_line "userfaultfd: Operation not permitted"         # ... and refuses by name
	assert_line "open_tree_attr: Function not implemented"     # ... and answers ENOSYS to the rest
	assert_line "mount: Operation not permitted"               # CAP_SYS_ADMIN's, which the container lacks
	cat >"$BATS_TEST_TMPDIR/no-mkdir.json" <<-'EOF'
	{"defaultAction": "SCMP_ACT_ALLOW",
	 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
	EOF
	run "$LAUNCHER" --security-opt seccomp="$BATS_TEST_TMPDIR/no-mkdir.json" "$BUSYBOX" sh -c 'mkdir /tmp/x || echo refused; grep Seccomp: /proc/self/status'
	assert_success
	assert_line --partial "Permission denied"
	assert_line refused
	assert_line "$(printf 'Seccomp:\t2')"
	printf '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]}' >"$BATS_TEST_TMPDIR/notify.json"
	run "$LAUNCHER" --security-opt seccomp="$BATS_TEST_TMPDIR/notify.json" "$HELLO"
	assert_failure 125
	assert_output "launcher: seccomp profile $BATS_TEST_TMPDIR/notify.json: syscalls[0]: SCMP_ACT_NOTIFY is not supported (no seccomp agent)"
	printf '{"defaultAction": ' >"$BATS_TEST_TMPDIR/cut.json"
	run "$LAUNCHER" --security-opt seccomp="$BATS_TEST_TMPDIR/cut.json" "$HELLO"
	assert_failure 125
	assert_output "launcher: seccomp profile $BATS_TEST_TMPDIR/cut.json: truncated JSON at byte 18"
	run "$LAUNCHER" --security-opt seccomp="$BATS_TEST_TMPDIR/none.json" "$HELLO"
	assert_failure 125
	assert_output "launcher: open seccomp profile $BATS_TEST_TMPDIR/none.json: No such file or directory"
	# a profile refusing what PID 1 waits and reaps with: PID 1 still ends the container
	printf '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["wait4", "rt_sigtimedwait", "kill"], "action": "SCMP_ACT_ERRNO"}]}' >"$BATS_TEST_TMPDIR/nowait.json"
	run timeout -k 1 20 "$LAUNCHER" --security-opt seccomp="$BATS_TEST_TMPDIR/nowait.json" "$BUSYBOX" sh -c 'kill -0 1 || echo refused; exit 3'
	assert_failure 3
	assert_line --partial "refused"
	run "$LAUNCHER" --security-opt seccomp="$BATS_TEST_TMPDIR" "$HELLO"
	assert_failure 125
	assert_output "launcher: seccomp profile $BATS_TEST_TMPDIR: not a regular file of at most 4 MiB"
	run "$LAUNCHER" --security-opt label=bogus "$HELLO"
	assert_failure 125
	assert_output --partial "bad --security-opt label=bogus"
}

@test "masked and read-only kernel paths; /sys is read-only" {
	run "$LAUNCHER" "$BUSYBOX" sh -c '
		head -c 1 /proc/kcore >/dev/null 2>&1 && echo kcore readable
		echo "keys: $(wc -c < /proc/keys) timer_list: $(wc -c < /proc/timer_list)"
		echo 1 > /proc/sys/kernel/panic 2>/dev/null || echo "proc/sys: read-only"
		echo 1 > /proc/sysrq-trigger 2>/dev/null || echo "sysrq-trigger: read-only"
		touch /sys/kernel/x 2>/dev/null || echo "sys: read-only"
		grep -E " /proc/sys | /sys " /proc/mounts | cut -d" " -f2,4 | cut -d, -f1'
	assert_success
	refute_line "kcore readable"
	assert_line "keys: 0 timer_list: 0"
	assert_line "proc/sys: read-only"
	assert_line "sysrq-trigger: read-only"
	assert_line "sys: read-only"
	assert_line "/sys ro"
	assert_line "/proc/sys ro"
}

@test "/proc/1/exe cannot be written or reopened, and the host binary is unchanged" {
	before=$(sha256sum <"$LAUNCHER")
	run "$LAUNCHER" "$BUSYBOX" sh -c '
		echo pwned > /proc/1/exe && echo "wrote exe"
		dd if=/dev/zero of=/proc/1/exe bs=1 count=1 conv=notrunc 2>/dev/null && echo "dd exe"
		readlink /proc/1/exe || echo "readlink denied"
		cat /proc/1/maps >/dev/null 2>&1 && echo "maps readable"
		true'
	refute_line "wrote exe"
	refute_line "dd exe"
	assert_line "readlink denied"
	refute_line "maps readable"
	# Even privileged, /proc/1/exe is a sealed in-memory copy, not the host binary.
	run "$LAUNCHER" --privileged "$BUSYBOX" sh -c 'readlink /proc/1/exe; echo pwned > /proc/1/exe || echo "write refused"'
	assert_line --regexp '^/memfd:launcher \(deleted\)$'
	assert_line "write refused"
	[ "$(sha256sum <"$LAUNCHER")" = "$before" ]
}

@test "a descriptor the caller leaked is not in the entrypoint's /proc/self/fd" {
	run bash -c "exec 7<'$ROOT/Makefile' 8<'$ROOT'; '$LAUNCHER' '$BUSYBOX' sh -c 'ls -l /proc/self/fd'"
	assert_success
	refute_output --partial Makefile
	refute_output --partial "$ROOT"
	refute_output --regexp ' [78] -> '
}

@test "a WORKDIR of /proc/self/fd/N is refused (CVE-2024-21626)" {
	config_image workdir '"WorkingDir":"/proc/self/fd/7"'
	run bash -c "exec 7<'$ROOT'; '$LAUNCHER' '$BATS_TEST_TMPDIR/workdir.tar' pwd"
	assert_failure 125
	# The launcher closes what its caller left open, so fd 7 is gone before the chdir; the
	# getcwd check behind it would refuse a directory outside the root all the same.
	assert_output --regexp '^launcher: (create directory|enter working directory|working directory) /proc/self/fd/7'
	run bash -c "exec 7<'$ROOT'; '$LAUNCHER' -w /proc/self/fd/7 '$BUSYBOX' pwd"
	assert_failure 125
}

@test "--read-only root; -v binds host paths, read-only with :ro" {
	run "$LAUNCHER" --read-only "$BUSYBOX" sh -c 'touch /data/x 2>&1; echo > /dev/shm/ok && echo shm writable'
	assert_line --partial "Read-only file system"
	assert_line "shm writable"
	host=$BATS_TEST_TMPDIR/vol
	mkdir "$host"
	echo from-host >"$host/in.txt"
	run "$LAUNCHER" -v "$host:/mnt/vol" -v "$host/in.txt:/data/ro.txt:ro" "$BUSYBOX" sh -c '
		cat /mnt/vol/in.txt; echo from-container > /mnt/vol/out.txt
		{ echo x > /data/ro.txt; } 2>/dev/null || echo "ro refused"; cat /data/ro.txt'
	assert_success
	assert_output "$(printf 'from-host\nro refused\nfrom-host')"
	[ "$(cat "$host/out.txt")" = from-container ]
	# :ro holds for the mounts below the host path too (docker 25's recursive read-only).
	mkdir "$host/sub"
	mount -t tmpfs launcher-test "$host/sub"
	run "$LAUNCHER" -v "$host:/mnt/vol:ro" "$BUSYBOX" sh -c 'touch /mnt/vol/sub/x 2>&1; touch /mnt/vol/x 2>&1'
	umount "$host/sub"
	assert_line "touch: /mnt/vol/sub/x: Read-only file system"
	assert_line "touch: /mnt/vol/x: Read-only file system"
	run "$LAUNCHER" -v ./relative:/x "$BUSYBOX" true # a bare name is a named volume, as docker's (tests/flags.bats)
	assert_failure 125
	run "$LAUNCHER" -v /no/such/dir:/x "$BUSYBOX" true
	assert_failure 125
	assert_output "launcher: bad volume /no/such/dir:/x: open /no/such/dir: No such file or directory"
	run "$LAUNCHER" -v "$host:/." "$BUSYBOX" true
	assert_failure 125
	assert_output "launcher: bad --volume $host:/.: the container's root cannot be a mount target"
}

@test "--pids-limit 50 stops a fork bomb and the host stays responsive" {
	"$LAUNCHER" --pids-limit 50 "$BUSYBOX" sh -c 'f(){ f|f& }; f; exec sleep 3' >/dev/null 2>&1 &
	pid=$!
	sleep 1.5
	cg=/sys/fs/cgroup/pids/launcher-$pid
	[ -e /sys/fs/cgroup/cgroup.controllers ] && cg=/sys/fs/cgroup/launcher-$pid # a cgroup v2 host
	[ "$(cat "$cg/pids.max")" = 50 ]
	[ "$(cat "$cg/pids.current")" -le 50 ]
	timeout 2 true # the host forks fine
	wait $pid
	[ ! -e "$cg" ] # removed when the container ended
}

@test "--memory 32m: a process allocating 64 MB is killed and the launcher says so (137)" {
	run "$LAUNCHER" --memory 32m "$BUSYBOX" dd if=/dev/zero of=/dev/null bs=64M count=1
	assert_failure 137
	assert_line "launcher: the container ran out of memory (--memory 32m): the kernel killed it"
	"$LAUNCHER" --memory 128m --cpus 0.5 "$BUSYBOX" dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null &
	pid=$!
	wait $pid
	run ls -d /sys/fs/cgroup/launcher-$pid /sys/fs/cgroup/*/launcher-$pid # removed when it ended
	assert_failure
	run "$LAUNCHER" --memory lots "$BUSYBOX" true
	assert_failure 125
	run "$LAUNCHER" --cpus 0 "$BUSYBOX" true
	assert_failure 125
}

@test "--ulimit sets soft and hard limits" {
	run "$LAUNCHER" --ulimit nofile=100:200 --ulimit core=0 "$BUSYBOX" sh -c 'ulimit -n; ulimit -Hn; ulimit -c'
	assert_success
	assert_output "$(printf '100\n200\n0')"
	run "$LAUNCHER" --ulimit nofile=10:5 "$BUSYBOX" true
	assert_failure 125
	run "$LAUNCHER" --ulimit bogus=1 "$BUSYBOX" true
	assert_failure 125
}

@test "--userns: uid 0 inside is an unprivileged id outside; layers, whiteouts and confinement still hold" {
	# The host's /sys is bound in: read-only all through, and its cgroup tree hidden.
	run "$LAUNCHER" --userns "$BUSYBOX" sh -c 'ls -A /sys/fs/cgroup | wc -l; touch /sys/kernel/x /sys/fs/cgroup/x 2>&1; grep -c " /sys[^ ]* rw" /proc/self/mountinfo'
	assert_line --index 0 0
	assert_line --index 1 --partial "Read-only file system"
	assert_line --index 2 --partial "Read-only file system"
	assert_line --index 3 0
	"$LAUNCHER" --userns "$BUSYBOX" sh -c 'id -u; cat /proc/self/uid_map; ls -ln /data/owned.txt; ls /opt/dir; grep CapEff /proc/self/status; echo ready; exec sleep 30' \
		>"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	wait_for "$BATS_TEST_TMPDIR/out" ready
	sleeper=$(pgrep -f "^sleep 30$" | head -1)
	[ "$(ps -o uid= -p "$sleeper" | tr -d ' ')" = 100000 ]
	kill $pid
	wait $pid || true
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --index 0 0
	assert_line --regexp '^ +0 +100000 +65536$'
	assert_line --regexp '^-rw-r----- +1 1000 +1000 .*/data/owned.txt$'
	assert_line new.txt
	refute_line old.txt
	assert_line "$(printf 'CapEff:\t00000000a80425fb')"
}

@test "started by an unprivileged user, the container is rootless automatically" {
	nobody_copies
	run as_nobody "$NOBODY/launcher" "$NOBODY/busybox.tar" sh -c 'id -u; cat /proc/self/uid_map; echo x > /data/new && cat /data/new'
	assert_success
	assert_output --regexp "^0
 +0 +65534 +1
x$"
	run as_nobody "$NOBODY/launcher" --memory 10m "$NOBODY/busybox.tar" true
	assert_failure 125
	assert_output "launcher: running as uid 65534: --net, --netns and cgroup limits need root"
	# a user its maps do not hold (no /etc/subuid range: only its own id, as root inside)
	run as_nobody "$NOBODY/launcher" --user nobody "$NOBODY/busybox.tar" true
	assert_failure 125
	assert_output "launcher: user nobody is uid 65534, gid 65534: not mapped in the container's user namespace (see /etc/subuid and /etc/subgid)"
	rm -rf "$NOBODY"
	run -125 "$LAUNCHER" --userns --user 70000:70000 "$BUSYBOX" true
	assert_output "launcher: user 70000:70000 is uid 70000, gid 70000: not mapped in the container's user namespace (see /etc/subuid and /etc/subgid)"
}

@test "an unprivileged user with subuid ranges gets them through newuidmap, as rootless podman" {
	for f in subuid subgid; do
		[ -e /etc/$f ] && cp /etc/$f "$BATS_TEST_TMPDIR/$f.saved"
		echo "nobody:300000:65536" >>/etc/$f
	done
	nobody_copies
	run as_nobody "$NOBODY/launcher" "$NOBODY/busybox.tar" sh -c 'cat /proc/self/uid_map /proc/self/gid_map; ls -ln /data/owned.txt'
	for f in subuid subgid; do
		if [ -e "$BATS_TEST_TMPDIR/$f.saved" ]; then cp "$BATS_TEST_TMPDIR/$f.saved" /etc/$f; else rm /etc/$f; fi
	done
	rm -rf "$NOBODY"
	assert_success
	assert_line --index 0 --regexp '^ +0 +65534 +1$'
	assert_line --index 1 --regexp '^ +1 +300000 +65536$'
	assert_line --index 3 --regexp '^ +1 +300000 +65536$'
	assert_line --regexp '^-rw-r----- +1 1000 +1000 .*/data/owned.txt$'
}

@test "rootless: a user's own layer cache (XDG_DATA_HOME): the second start unpacks nothing, --cache-ls and --cache-prune work, hostile layers stay confined" {
	nobody_copies
	data=$NOBODY/data
	mkdir "$data"
	chown 65534:65534 "$data"
	# (the suite's LAUNCHER_ROOT would name the cache instead)
	nb() { env -u LAUNCHER_ROOT XDG_DATA_HOME="$data" setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }
	run nb "$NOBODY/launcher" --verbose "$NOBODY/busybox.tar" ls /opt/dir
	assert_success
	assert_line --regexp '^launcher: +[0-9.]+ ms  unpacked layer 1 \(.*\) into the cache: [0-9]+ entries'
	assert_line --regexp '^launcher: +[0-9.]+ ms  unpacked layer 2 \(.*\) into the cache: [0-9]+ entries'
	assert_line new.txt
	refute_line old.txt
	# Unpacked as root of the user namespace: owned by the user, as its root maps to them.
	[ "$(stat -c %u "$data/launcher/layers/$(ls "$data/launcher/layers" | grep -v '\.' | head -1)")" = 65534 ]
	run nb "$NOBODY/launcher" --verbose "$NOBODY/busybox.tar" ls /opt/dir
	assert_success
	refute_line --regexp 'unpacked'
	assert_line --regexp '^launcher: +[0-9.]+ ms  layer 1 \(.*\): in the cache$'
	assert_line --regexp '^launcher: +[0-9.]+ ms  layer 2 \(.*\): in the cache$'
	assert_line new.txt
	refute_line old.txt
	run nb "$NOBODY/launcher" --cache-ls
	assert_success
	assert_equal "$(printf '%s\n' "$output" | grep -cE '^sha256:[0-9a-f]{64} +[0-9]+ +[0-9]+  unused$')" 2

	# Hostile layers, unpacked into the user's cache: a .. escape is refused and nothing of it
	# is cached; a file written through "evil -> /" lands in the layer's own /var/tmp.
	escape_images
	cp "$BATS_TEST_TMPDIR/dotdot.tar" "$BATS_TEST_TMPDIR/symlink.tar" "$NOBODY/"
	chmod 644 "$NOBODY/dotdot.tar" "$NOBODY/symlink.tar"
	run nb "$NOBODY/launcher" "$NOBODY/dotdot.tar" true
	assert_failure 125
	assert_output --regexp '^launcher: layer 2 \(.*\): entry \.\./\.\./\.\./\.\./var/tmp/launcher-escape at byte 0: path climbs out of the layer$'
	[ ! -e /var/tmp/launcher-escape ]
	[ "$(ls "$data/launcher/layers" | grep -c partial)" = 0 ]
	run nb "$NOBODY/launcher" "$NOBODY/symlink.tar" cat /var/tmp/launcher-pwned
	assert_success
	assert_output pwned
	[ ! -e /var/tmp/launcher-pwned ]

	run nb "$NOBODY/launcher" --cache-prune
	assert_success
	assert_line "3 removed, 0 in use"
	[ -z "$(ls -A "$data/launcher/layers")" ]
	# No home at all: a start unpacks afresh, and the cache verbs say why they cannot.
	run env -u LAUNCHER_ROOT -u HOME -u XDG_DATA_HOME setpriv --reuid 65534 --regid 65534 --clear-groups "$NOBODY/launcher" "$NOBODY/busybox.tar" ls /opt/dir
	assert_success
	assert_output new.txt
	run env -u LAUNCHER_ROOT -u HOME -u XDG_DATA_HOME setpriv --reuid 65534 --regid 65534 --clear-groups "$NOBODY/launcher" --cache-ls
	assert_failure 125
	assert_output "launcher: no cache of the user's own: neither XDG_DATA_HOME nor HOME is an absolute path"
	rm -rf "$NOBODY"
}


@test "hostile layers: a .. escape is refused, a symlink to / is confined; nothing lands on the host" {
	escape_images
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/dotdot.tar" true
	assert_failure 125
	assert_output --regexp '^launcher: layer 2 \(.*\): entry \.\./\.\./\.\./\.\./var/tmp/launcher-escape at byte 0: path climbs out of the layer$'
	[ ! -e /var/tmp/launcher-escape ]

	# "evil -> /", then a file written through it: it must land in the layer's own /var/tmp.
	for storage in overlay copy; do
		run "$LAUNCHER" --storage $storage "$BATS_TEST_TMPDIR/symlink.tar" cat /var/tmp/launcher-pwned
		assert_success
		assert_output pwned
		[ ! -e /var/tmp/launcher-pwned ]
	done
}

@test "cgroups left by a launcher killed with SIGKILL are removed by the next start with limits" {
	"$LAUNCHER" --pids-limit 20 "$BUSYBOX" sh -c 'echo ready; exec sleep 30' >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	wait_for "$BATS_TEST_TMPDIR/out" ready
	cg=/sys/fs/cgroup/pids/launcher-$pid
	[ -e /sys/fs/cgroup/cgroup.controllers ] && cg=/sys/fs/cgroup/launcher-$pid # a cgroup v2 host
	[ -d "$cg" ]
	kill -KILL $pid
	wait $pid || true
	for _ in $(seq 50); do [ "$(cat "$cg/cgroup.procs" 2>/dev/null)" = "" ] && break; sleep 0.1; done
	[ -d "$cg" ] # nobody was left to remove it
	run "$LAUNCHER" --pids-limit 20 "$BUSYBOX" true
	assert_success
	[ ! -e "$cg" ]
}

# symlink_image NAME LINK TARGET [LINK TARGET...]: busybox.tar whose second layer holds only
# these symlinks (consistent digests).
symlink_image() {
	name=$1
	shift
	src=$BATS_TEST_TMPDIR/links-$name
	mkdir -p "$src"
	links=()
	while [ $# -gt 0 ]; do
		ln -s "$2" "$src/$1"
		links+=("$1")
		shift 2
	done
	tar -C "$src" -cf "$BATS_TEST_TMPDIR/layer.tar" "${links[@]}"
	hostile_image "$name"
}

@test "an image's symlink in place of /dev, /proc, /sys or /tmp never reaches the host: every target, every storage mode" {
	# A sentinel only the host has; an escape reads it or writes beside it.
	echo host-only >/var/tmp/launcher-sentinel
	rm -f /var/tmp/launcher-pwned
	n=0
	for path in dev proc sys tmp; do
		for target in / ../../../ /proc/self/root /proc/1/root; do
			n=$((n + 1))
			symlink_image "case$n" "$path" "$target"
			for mode in "" --no-cache "--storage copy" --read-only --userns; do
				# shellcheck disable=SC2086
				run "$LAUNCHER" $mode "$BATS_TEST_TMPDIR/case$n.tar" sh -c "
					echo 'case: $path -> $target ${mode:-cache}'
					cat /bin/../var/tmp/launcher-sentinel /$path/var/tmp/launcher-sentinel /$path/../var/tmp/launcher-sentinel 2>/dev/null
					mkdir -p /var/tmp 2>/dev/null; echo pwned 2>/dev/null >/bin/../var/tmp/launcher-pwned
					echo roots: \$(awk '\$5 == \"/\"' /proc/self/mountinfo | wc -l)
					[ -c /dev/null ] && [ -r /proc/self/status ] && [ -d /sys/kernel ] && [ -c /dev/pts/ptmx ] && echo kernel fs: ok"
				assert_success
				refute_output --partial host-only
				assert_line "roots: 1"
				assert_line "kernel fs: ok"
				[ ! -e /var/tmp/launcher-pwned ]
				[ "$(cat /var/tmp/launcher-sentinel)" = host-only ]
			done
		done
	done
	rm -f /var/tmp/launcher-sentinel
}

@test "exec, exec -u and --ipc container: right after run -d join the container's root, never the host's (they wait for PID 1's pivot)" {
	# --storage copy and --no-cache start slowly enough that these come while PID 1 still
	# builds its root: its mount namespace's root was then a copy of the host's, and exec ran
	# on the host's files (an exec's `mv /etc ...` renamed the host's /etc).
	marker=/dev/shm/launcher-sec-$$
	: >"$marker"
	for storage in "--storage copy" --no-cache ""; do
		"$LAUNCHER" run -d --name "sec-early-$$" --ipc shareable $storage "$BUSYBOX" sleep 100 >/dev/null
		run "$LAUNCHER" exec "sec-early-$$" test -e "$BATS_TEST_TMPDIR"
		echo "$storage exec: $status $output"
		[ "$status" -eq 1 ] || { rm -f "$marker"; "$LAUNCHER" rm -f "sec-early-$$"; false; }
		"$LAUNCHER" rm -f "sec-early-$$" >/dev/null
		"$LAUNCHER" run -d --name "sec-early-$$" --ipc shareable $storage "$BUSYBOX" sleep 100 >/dev/null
		run "$LAUNCHER" exec -u nobody "sec-early-$$" sh -c "id -u; test -e $BATS_TEST_TMPDIR || echo inside"
		echo "$storage exec -u: $status $output"
		[ "$output" = "$(printf '65534\ninside')" ] || { rm -f "$marker"; "$LAUNCHER" rm -f "sec-early-$$"; false; }
		"$LAUNCHER" rm -f "sec-early-$$" >/dev/null
		"$LAUNCHER" run -d --name "sec-early-$$" --ipc shareable $storage "$BUSYBOX" sleep 100 >/dev/null
		run "$LAUNCHER" --ipc "container:sec-early-$$" "$BUSYBOX" ls /dev/shm
		echo "$storage --ipc: $status $output"
		[ "$status" -eq 0 ] && [ "$output" = "" ] || { rm -f "$marker"; "$LAUNCHER" rm -f "sec-early-$$"; false; }
		"$LAUNCHER" rm -f "sec-early-$$" >/dev/null
	done
	rm -f "$marker"
}

@test "/etc/hosts and /etc/hostname are bound from the container's tmpfs: never written through an image symlink or into a volume" {
	rm -rf /var/tmp/launcher-etc
	# etc -> ../var/tmp/launcher-etc and dev -> /: the old launcher wrote hosts and hostname
	# on the host through them, before the image ran.
	symlink_image etc etc ../var/tmp/launcher-etc dev /
	run "$LAUNCHER" --hostname box "$BATS_TEST_TMPDIR/etc.tar" sh -c 'cat /etc/hostname; grep -c localhost /etc/hosts'
	assert_success
	assert_output "$(printf 'box\n2')"
	[ ! -e /var/tmp/launcher-etc ]
	# A symlink loop in the way, or a volume target under a file: one line, nothing started.
	symlink_image loop etc etc2 etc2 etc
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/loop.tar" true
	assert_failure 125
	assert_output "launcher: open /etc in the container: Symbolic link loop"
	run "$LAUNCHER" -v "$BATS_TEST_TMPDIR:/etc/passwd/x" "$BUSYBOX" true
	assert_failure 125
	assert_output "launcher: open /etc/passwd/x in the container: Not a directory"

	# A volume over /etc, or over the file itself, wins, as in docker; its files stay as they were.
	dir=$BATS_TEST_TMPDIR/etc-dir
	mkdir "$dir"
	echo host-hosts >"$dir/hosts"
	echo host-hostname >"$dir/hostname"
	before=$(ls -l --time-style=full-iso "$dir")
	for ro in "" :ro; do
		run "$LAUNCHER" -v "$dir:/etc$ro" "$BUSYBOX" cat /etc/hosts /etc/hostname
		assert_success
		assert_output "$(printf 'host-hosts\nhost-hostname')"
		run "$LAUNCHER" -v "$dir/hosts:/etc/hosts$ro" --hostname box "$BUSYBOX" cat /etc/hosts /etc/hostname
		assert_success
		assert_output "$(printf 'host-hosts\nbox')"
	done
	[ "$(ls -l --time-style=full-iso "$dir")" = "$before" ]
	[ "$(cat "$dir/hosts" "$dir/hostname")" = "$(printf 'host-hosts\nhost-hostname')" ]
	# An empty directory over /etc gets no file of the launcher's.
	mkdir "$BATS_TEST_TMPDIR/empty"
	run "$LAUNCHER" -v "$BATS_TEST_TMPDIR/empty:/etc" "$BUSYBOX" ls -A /etc
	assert_success
	assert_output ""
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/empty")" ]
}

@test "TIOCSTI: a container on the caller's terminal cannot push a command into the caller's shell" {
	rm -f /var/tmp/launcher-tiocsti
	# An interactive shell on a pseudo-terminal runs the container; what the container
	# pushes into the terminal would be read and run by that shell once the container ends.
	# -i: the terminal is the container's stdin.
	for seccomp in "" "--seccomp unconfined"; do
		run bash -c "(printf '%s\n' \"'$LAUNCHER' -i $seccomp '$BENCH' /benchtool tiocsti 'touch /var/tmp/launcher-tiocsti
'\"; sleep 2; printf 'exit\n'; sleep 0.5) | script -qc 'bash --norc --noprofile -i' /dev/null"
		assert_output --partial "tiocsti: Operation not permitted"
		[ ! -e /var/tmp/launcher-tiocsti ]
	done
}

@test "--privileged keeps --user and the image's User" {
	run "$LAUNCHER" --privileged --user 1000:1000 "$BUSYBOX" sh -c 'id -u; id -g; grep CapEff /proc/self/status'
	assert_success
	assert_output "$(printf '1000\n1000\nCapEff:\t0000000000000000')"
	config_image user '"WorkingDir":"/data","User":"user"'
	run "$LAUNCHER" --privileged "$BATS_TEST_TMPDIR/user.tar" id -un
	assert_success
	assert_output user
}

@test "an image listing one layer twice (empty layers share a diff_id) starts from the cache, without it, and by copy" {
	dir=$BATS_TEST_TMPDIR/img
	mkdir "$dir" "$dir/empty"
	tar -xf "$BUSYBOX" -C "$dir"
	head -c 1024 /dev/zero >"$dir/empty/layer.tar"
	python3 - "$dir" <<-'PY'
	import json, sys
	d = sys.argv[1]
	m = json.load(open(d + '/manifest.json'))
	l1, l2 = m[0]['Layers']
	m[0]['Layers'] = ['empty/layer.tar', l1, 'empty/layer.tar', l2, 'empty/layer.tar']
	json.dump(m, open(d + '/manifest.json', 'w'))
	PY
	python3 tests/fixtures.py redigest "$dir"
	tar -C "$dir" -cf "$BATS_TEST_TMPDIR/twice.tar" .
	for mode in "" "" --no-cache "--storage copy"; do
		# shellcheck disable=SC2086
		run "$LAUNCHER" $mode "$BATS_TEST_TMPDIR/twice.tar" sh -c 'ls /opt/dir; cat /data/hello.txt'
		assert_success
		assert_line new.txt
		refute_line old.txt
	done
}

@test "a uid or gid past 2147483647 is refused as docker's: 4294967295, the kernel's \"no change\", would leave the process uid 0" {
	for user in 4294967295 2147483648 0:4294967295 1000:2147483648; do
		run -125 "$LAUNCHER" --user "$user" "$BUSYBOX" id
		assert_output "launcher: uids and gids must be in range 0-2147483647"
	done
	# the image's own passwd line
	src=$BATS_TEST_TMPDIR/ids
	mkdir -p "$src/etc"
	echo 'evil:x:4294967295:4294967295::/:/bin/sh' >"$src/etc/passwd"
	tar -C "$src" -cf "$BATS_TEST_TMPDIR/layer.tar" etc/passwd
	hostile_image ids
	run -125 "$LAUNCHER" --user evil "$BATS_TEST_TMPDIR/ids.tar" id
	assert_output "launcher: uids and gids must be in range 0-2147483647"
	# exec -u, by number and by the container's passwd
	"$LAUNCHER" run -d --name sec-ids "$BATS_TEST_TMPDIR/ids.tar" sleep 100 >/dev/null
	for user in 4294967295 evil; do
		run -126 "$LAUNCHER" exec -u "$user" sec-ids id -u
		assert_output "launcher: uids and gids must be in range 0-2147483647"
	done
	"$LAUNCHER" rm -f sec-ids >/dev/null
}

@test "an image whose /etc/passwd is a fifo or a device does not hang or feed PID 1" {
	src=$BATS_TEST_TMPDIR/fifo
	mkdir -p "$src/etc"
	mkfifo "$src/etc/passwd"
	mknod "$src/etc/group" c 1 5 # /dev/zero
	tar -C "$src" -cf "$BATS_TEST_TMPDIR/layer.tar" etc/passwd etc/group
	hostile_image fifo
	# (the image's own id(1) would wait on its fifo: the command here reads no passwd)
	run timeout 10 "$LAUNCHER" "$BATS_TEST_TMPDIR/fifo.tar" sh -c 'echo "uid $(stat -c %u /proc/self)"'
	assert_success
	assert_output "uid 0"
	run timeout 10 "$LAUNCHER" --user user "$BATS_TEST_TMPDIR/fifo.tar" true
	assert_failure 125
	assert_output "launcher: unable to find user user: no matching entries in the image's /etc/passwd"
}

@test "--cap-add SYS_PTRACE: PID 1 holds no host descriptor and nothing more than the container's confinement" {
	echo host-only >/var/tmp/launcher-sentinel
	for mode in "" --no-cache --userns; do
		# shellcheck disable=SC2086
		run "$LAUNCHER" $mode --cap-add SYS_PTRACE "$BUSYBOX" sh -c '
			echo fds: $(ls /proc/1/fd)
			grep -E "^(CapPrm|CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/1/status
			for fd in 3 4 5 6 7; do cat /proc/1/fd/$fd/../../../../var/tmp/launcher-sentinel; done 2>/dev/null
			true'
		assert_success
		# (in a user namespace the container's SYS_PTRACE does not reach PID 1 at all)
		if [ "$mode" = --userns ]; then assert_line "fds:"; else assert_line "fds: 0 1 2"; fi
		assert_line "$(printf 'CapPrm:\t0000000000000020')"
		assert_line "$(printf 'CapEff:\t0000000000000020')"
		assert_line "$(printf 'CapBnd:\t0000000000000020')"
		assert_line "$(printf 'NoNewPrivs:\t1')"
		assert_line "$(printf 'Seccomp:\t2')"
		refute_output --partial host-only
	done
	rm -f /var/tmp/launcher-sentinel
}

@test "--cap-add SYS_PTRACE: the entrypoint's first instruction already finds PID 1 confined" {
	# The entrypoint waits at a gate until PID 1 has dropped to CAP_KILL: no moment exists
	# in which a process of the image could attach to a PID 1 with every capability.
	for i in $(seq 30); do
		run "$LAUNCHER" --cap-add SYS_PTRACE "$BENCH" /benchtool pid1caps
		assert_success
		assert_output "$(printf 'CapEff:\t0000000000000020')"
	done
}

@test "the launcher's command line is not the container's /proc/1/cmdline" {
	run env HOST_SECRET=hostword "$LAUNCHER" --cap-add SYS_PTRACE --hostname secret-host-name -e SECRET=word "$BUSYBOX" sh -c '
		tr "\0" "\n" </proc/1/cmdline; ps -o args | head -2; echo "environ: $(tr "\0" " " </proc/1/environ)"'
	assert_success
	refute_output --partial secret
	refute_output --partial SECRET
	refute_output --partial hostword
	refute_output --partial busybox.tar
	assert_line launcher
	assert_line --regexp '^environ: *$'
}

@test "stdout and stderr are the caller's own files (the documented trade-off): reopened, they reach nothing else" {
	log=$BATS_TEST_TMPDIR/log
	echo "earlier line" >"$log"
	"$LAUNCHER" "$BUSYBOX" sh -c 'echo from-container; stat -L -c %i /proc/self/fd/1; ls /proc/self/fd/1/.. 2>&1 | head -1' >>"$log" 2>&1
	run cat "$log"
	assert_line --index 0 "earlier line"
	assert_line --index 1 from-container
	assert_line --index 2 "$(stat -c %i "$log")"
	assert_line --index 3 --partial "Not a directory"
}

# The device cgroup of a container: /sys/fs/cgroup/launcher-PID on a cgroup v2 host, the
# hybrid host's cgroup2 at /sys/fs/cgroup/unified/launcher-PID (this machine).
device_cgroup() {
	if [ -e /sys/fs/cgroup/cgroup.controllers ]; then echo "/sys/fs/cgroup/launcher-$1"; else echo "/sys/fs/cgroup/unified/launcher-$1"; fi
}

# A loop device over $BATS_TEST_TMPDIR/disk, which starts with a sentinel; sets LOOP,
# LOOP_MAJOR and LOOP_MINOR; teardown detaches it.
loop_with_sentinel() {
	printf launcher-sentinel >"$BATS_TEST_TMPDIR/disk"
	truncate -s 1M "$BATS_TEST_TMPDIR/disk"
	LOOP=$(losetup -f --show "$BATS_TEST_TMPDIR/disk")
	echo "$LOOP" >"$BATS_TEST_TMPDIR/loop"
	LOOP_MAJOR=$((0x$(stat -c %t "$LOOP"))) LOOP_MINOR=$((0x$(stat -c %T "$LOOP")))
}

sentinel() { head -c 17 "$BATS_TEST_TMPDIR/disk"; }

@test "devices: a host block device made with mknod can be neither read nor written; --privileged can read it" {
	loop_with_sentinel
	run "$LAUNCHER" "$BUSYBOX" sh -c "mknod /tmp/hd b $LOOP_MAJOR $LOOP_MINOR && echo made
		dd if=/tmp/hd of=/dev/null bs=17 count=1
		echo pwned | dd of=/tmp/hd conv=notrunc"
	assert_line made
	assert_line "dd: can't open '/tmp/hd': Operation not permitted"
	refute_line --partial "records"
	[ "$(sentinel)" = launcher-sentinel ]
	# docker's --privileged: no device policy
	run "$LAUNCHER" --privileged "$BUSYBOX" sh -c "mknod /tmp/hd b $LOOP_MAJOR $LOOP_MINOR && head -c 17 /tmp/hd"
	assert_success
	assert_output launcher-sentinel
}

@test "devices: host char devices outside docker's list (kmsg, kvm, userfaultfd, fuse) made with mknod cannot be opened" {
	script="" names=""
	for dev in /dev/kmsg /dev/kvm /dev/userfaultfd /dev/fuse; do
		[ -c "$dev" ] || continue
		n=${dev#/dev/}
		names="$names $n"
		# opened for writing: /dev/kmsg takes a line from anyone who may open it
		script="$script mknod /tmp/$n c $((0x$(stat -c %t "$dev"))) $((0x$(stat -c %T "$dev"))) && echo made $n
			dd if=/dev/null of=/tmp/$n count=0;"
	done
	[ -n "$names" ]
	run "$LAUNCHER" "$BUSYBOX" sh -c "$script"
	for n in $names; do
		assert_line "made $n"
		assert_line "dd: can't open '/tmp/$n': Operation not permitted"
	done
	refute_line --partial "records"
}

@test "devices: a device node shipped in an image layer cannot be opened, as root, --user 1000 or --cap-drop ALL" {
	loop_with_sentinel
	kmsg=$((0x$(stat -c %t /dev/kmsg))):$((0x$(stat -c %T /dev/kmsg)))
	python3 - "$BATS_TEST_TMPDIR/layer.tar" "$LOOP_MAJOR:$LOOP_MINOR" "$kmsg" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1], 'w') as t:
    for name, kind, dev in [('data/hd', tarfile.BLKTYPE, sys.argv[2]), ('data/kmsg', tarfile.CHRTYPE, sys.argv[3])]:
        i = tarfile.TarInfo(name); i.type = kind; i.mode = 0o666; i.mtime = 1700000000
        i.devmajor, i.devminor = map(int, dev.split(':'))
        t.addfile(i)
EOF
	hostile_image devnodes
	for flags in "" "--user 1000" "--cap-drop ALL" "--user 1000 --cap-drop ALL" "--no-cache --user 1000"; do
		run "$LAUNCHER" $flags "$BATS_TEST_TMPDIR/devnodes.tar" sh -c '
			ls -l /data/hd /data/kmsg | cut -c1 | tr -d "\n"; echo
			dd if=/data/hd of=/dev/null bs=17 count=1; echo pwned | dd of=/data/hd conv=notrunc
			dd if=/dev/null of=/data/kmsg count=0'
		assert_line bc
		assert_line "dd: can't open '/data/hd': Operation not permitted"
		assert_line "dd: can't open '/data/kmsg': Operation not permitted"
		refute_line --partial "records"
	done
	[ "$(sentinel)" = launcher-sentinel ]
}

@test "devices: docker's nodes still work: null, zero, full, random, urandom, tty, ptmx and pts, tun" {
	run "$LAUNCHER" "$BUSYBOX" sh -c '
		echo x > /dev/null && echo "null: ok"
		echo "zero: $(head -c 4 /dev/zero | wc -c)"
		echo x 2>/dev/null > /dev/full || echo "full: refused a write"
		echo "random: $(head -c 4 /dev/random | wc -c) urandom: $(head -c 4 /dev/urandom | wc -c)"
		(exec 3<>/dev/tty && echo "tty: opened") 2>&1
		exec 4<>/dev/ptmx && echo "ptmx: opened" && ls /dev/pts
		(exec 5<>/dev/pts/0) 2>&1
		mknod /tmp/tun c 10 200 && exec 6<>/tmp/tun && echo "tun: opened"'
	assert_success
	refute_output --partial "Operation not permitted"
	assert_line "null: ok"
	assert_line "zero: 4"
	assert_line "full: refused a write"
	assert_line "random: 4 urandom: 4"
	# without a terminal /dev/tty has nothing to open: the kernel's ENXIO, not the policy's EPERM
	assert_line --regexp '^(tty: opened|.*/dev/tty.*No such device or address)$'
	assert_line "ptmx: opened"
	assert_line 0
	# the new pts is locked until unlockpt: the tty driver's EIO, past the device check
	assert_line --regexp '^.*/dev/pts/0.*Input/output error$'
	assert_line "tun: opened"
}

@test "devices: the container's device cgroup holds PID 1 from its start, and goes when it ends or with the next start" {
	"$LAUNCHER" "$BUSYBOX" sh -c 'cat /proc/self/cgroup; echo ready; exec sleep 30' >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	wait_for "$BATS_TEST_TMPDIR/out" ready
	cg=$(device_cgroup $pid)
	[ -d "$cg" ]
	# inside, its own cgroup namespace: the cgroup is "/"; the host sees where it is
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line "0::/"
	refute_output --partial launcher-
	pid1=$(pgrep -P $pid | head -1)
	grep -qx "0::/launcher-$pid" /proc/$pid1/cgroup
	# the container's PID 1, the launcher's child, is in it
	[ "$(head -1 "$cg/cgroup.procs")" = "$pid1" ]
	kill -KILL $pid
	wait $pid || true
	for _ in $(seq 50); do [ "$(cat "$cg/cgroup.procs" 2>/dev/null)" = "" ] && break; sleep 0.1; done
	[ -d "$cg" ] # nobody was left to remove it
	run "$LAUNCHER" "$HELLO"
	assert_success
	[ ! -e "$cg" ]
	"$LAUNCHER" "$BUSYBOX" true &
	pid=$!
	wait $pid
	[ ! -e "$(device_cgroup $pid)" ] # removed when the container ended
}

@test "devices: with no cgroup file system in sight (ip netns exec) the launcher mounts cgroup2 for itself; where it cannot, no container starts; the v1 controller alone confines" {
	loop_with_sentinel
	# ip netns exec mounts a fresh /sys, without the cgroup file systems.
	ip netns add "lsec-$$"
	ip netns exec "lsec-$$" "$LAUNCHER" "$BUSYBOX" sh -c "
		mknod /tmp/hd b $LOOP_MAJOR $LOOP_MINOR && dd if=/tmp/hd of=/dev/null count=1; grep '^0::' /proc/self/cgroup" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	wait $pid || true
	ip netns del "lsec-$$"
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line "dd: can't open '/tmp/hd': Operation not permitted"
	assert_line "0::/"
	[ ! -e "$(device_cgroup $pid)" ] # removed when the container ended
	run unshare -m sh -c "mount -t tmpfs none /sys && '$LAUNCHER' '$HELLO'"
	assert_failure 125
	assert_output "launcher: device policy: no cgroup file system in sight (/sys/fs/cgroup, /sys/fs/cgroup/unified, /sys/fs/cgroup/devices), and cgroup2 could not be mounted: No such file or directory"
	run unshare -m sh -c "mount -t tmpfs none /sys && '$LAUNCHER' --privileged '$HELLO'"
	assert_success
	[ -d /sys/fs/cgroup/devices ] || skip "no v1 devices controller on this host"
	unshare -m sh -c "umount /sys/fs/cgroup/unified && exec '$LAUNCHER' '$BUSYBOX' sh -c '
		grep :devices: /proc/self/cgroup; ls /sys/fs/cgroup; mknod /tmp/hd b $LOOP_MAJOR $LOOP_MINOR && dd if=/tmp/hd of=/dev/null count=1
		echo x > /dev/null && echo null: ok'" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	wait $pid || true
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --regexp '^[0-9]+:devices:/$'
	assert_line devices # its /sys/fs/cgroup: the v1 controller it is in, no unified tree
	refute_line unified
	assert_line "dd: can't open '/tmp/hd': Operation not permitted"
	assert_line "null: ok"
	[ ! -e "/sys/fs/cgroup/devices/launcher-$pid" ] # removed when the container ended
}

@test "devices: started by an unprivileged user, the kernel itself refuses device nodes (no device cgroup is made)" {
	loop_with_sentinel
	nobody_copies
	run as_nobody "$NOBODY/launcher" "$NOBODY/busybox.tar" sh -c "
		mknod /tmp/hd b $LOOP_MAJOR $LOOP_MINOR; cat /proc/self/cgroup"
	rm -rf "$NOBODY"
	assert_success
	assert_line "mknod: /tmp/hd: Operation not permitted"
	refute_output --partial launcher-
}

@test "cgroups: the container has a cgroup namespace and a read-only /sys/fs/cgroup of its own cgroups, its limits readable there; --privileged may write, and what it makes goes with it" {
	run "$LAUNCHER" --memory 32m --pids-limit 40 --cpus 0.5 "$BUSYBOX" sh -c '
		grep -v ":/$" /proc/self/cgroup; echo cgroups read
		ls /sys/fs/cgroup | tr "\n" " "; echo
		if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
			cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max
		else
			cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us
			ls /sys/fs/cgroup/memory | grep -c launcher-; cat /sys/fs/cgroup/unified/cgroup.procs | head -1
		fi
		touch /sys/fs/cgroup/x; mkdir /sys/fs/cgroup/pids/x /sys/fs/cgroup/x 2>&1 | head -1'
	assert_success
	assert_line --index 0 "cgroups read" # every hierarchy reads "/"
	assert_line 33554432
	assert_line 40
	if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
		assert_line "50000 100000"
	else
		assert_line "cpu memory pids unified " # the v1 controllers it has a cgroup in, and cgroup2
		assert_line 50000
		assert_line 0 # no host cgroup in sight
		assert_line 1 # PID 1, as the container's pid namespace numbers it
	fi
	assert_line "touch: /sys/fs/cgroup/x: Read-only file system"
	assert_line --partial "Read-only file system"
	# without limits, on either host: cgroup2 alone, its root the container's own cgroup
	run "$LAUNCHER" "$BUSYBOX" sh -c 'head -1 /sys/fs/cgroup/cgroup.procs; ls /sys/fs/cgroup | grep -c launcher-; touch /sys/fs/cgroup/x'
	assert_line --index 0 1
	assert_line --index 1 0
	assert_line --index 2 "touch: /sys/fs/cgroup/x: Read-only file system"
	# --privileged: writable, as docker's; a cgroup made inside is removed with the container's
	"$LAUNCHER" --privileged --pids-limit 10 "$BUSYBOX" sh -c '
		d=/sys/fs/cgroup; [ -e $d/cgroup.controllers ] || d=/sys/fs/cgroup/pids
		mkdir $d/sub && echo made' >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	wait $pid
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output made
	run ls -d /sys/fs/cgroup/launcher-$pid /sys/fs/cgroup/*/launcher-$pid
	assert_failure
}

@test "cgroups: a launcher moved out of its cgroup namespace's root (its cgroup reads /../X) refuses to start" {
	cg=/sys/fs/cgroup/unified
	[ -e /sys/fs/cgroup/cgroup.controllers ] && cg=/sys/fs/cgroup # a cgroup v2 host
	mkdir "$cg/lt-a-$$" "$cg/lt-b-$$"
	mkfifo "$BATS_TEST_TMPDIR/go"
	# a shell in lt-a takes a cgroup namespace there, then waits while the host moves it to lt-b
	sh -c "echo \$\$ >'$cg/lt-a-$$/cgroup.procs' && exec unshare -C sh -c 'read x <\"$BATS_TEST_TMPDIR/go\"; grep ^0:: /proc/self/cgroup; exec \"$LAUNCHER\" \"$HELLO\"'" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	for _ in $(seq 50); do grep -q "lt-a-$$" /proc/$pid/cgroup 2>/dev/null && [ "$(readlink /proc/$pid/ns/cgroup)" != "$(readlink /proc/self/ns/cgroup)" ] && break; sleep 0.1; done
	echo $pid >"$cg/lt-b-$$/cgroup.procs"
	echo go >"$BATS_TEST_TMPDIR/go"
	wait $pid || status=$?
	rmdir "$cg/lt-a-$$" "$cg/lt-b-$$"
	[ "$status" = 125 ]
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output "0::/../lt-b-$$
launcher: the launcher's cgroup /../lt-b-$$ lies outside its cgroup namespace"
}
