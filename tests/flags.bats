#!/usr/bin/env bats
# docker run's flags as docker spells and means them (issue 14), each checked from inside
# the container: /proc/self/mountinfo, /proc/self/status, cgroup files, /etc/hosts, env.

load helpers

setup_file() {
	# An image with what the flags act on: Volumes (one seeded from the image), Labels, a
	# StopSignal, and symlinks that point out of the root, absolute and climbing.
	local dir=$BATS_FILE_TMPDIR/image
	mkdir -p "$dir"
	tar -xf "$BUSYBOX" -C "$dir"
	python3 - "$dir" <<-'EOF'
	import io, json, os, sys, tarfile
	d = sys.argv[1]
	layer = io.BytesIO()
	with tarfile.open(fileobj=layer, mode='w', format=tarfile.USTAR_FORMAT) as t:
	    def add(name, kind, data=b'', target='', mode=0o755, uid=0):
	        i = tarfile.TarInfo(name)
	        i.type, i.mode, i.uid = kind, mode, uid
	        if kind == tarfile.SYMTYPE:
	            i.linkname = target
	        i.size = len(data)
	        t.addfile(i, io.BytesIO(data) if data else None)
	    add('seeded', tarfile.DIRTYPE, mode=0o750, uid=7)
	    add('seeded/file', tarfile.REGTYPE, b'from the image\n', mode=0o640, uid=7)
	    add('seeded/link', tarfile.SYMTYPE, target='/etc/passwd')
	    add('escape', tarfile.SYMTYPE, target='/tmp/launcher-flags-sentinel')
	    add('climb', tarfile.SYMTYPE, target='../../../../../tmp/launcher-flags-sentinel')
	os.makedirs(os.path.join(d, 'flags'), exist_ok=True)
	open(os.path.join(d, 'flags/layer.tar'), 'wb').write(layer.getvalue())
	m = json.load(open(os.path.join(d, 'manifest.json')))
	m[0]['Layers'].append('flags/layer.tar')
	json.dump(m, open(os.path.join(d, 'manifest.json'), 'w'))
	path = os.path.join(d, m[0]['Config'])
	c = json.load(open(path))
	c['config']['Volumes'] = {'/seeded': {}}
	c['config']['Labels'] = {'org.example.from': 'image'}
	c['config']['StopSignal'] = 'SIGUSR1'
	json.dump(c, open(path, 'w'))
	EOF
	python3 "$BATS_TEST_DIRNAME/fixtures.py" redigest "$dir"
	tar -C "$dir" -cf "$BATS_FILE_TMPDIR/flags.tar" .
}

setup() {
	common_setup
	IMAGE=$BATS_FILE_TMPDIR/flags.tar
	SENTINEL=/tmp/launcher-flags-sentinel
	mkdir -p "$SENTINEL"
	echo untouched >"$SENTINEL/mark"
}

teardown() {
	rm -rf "$SENTINEL"
	# the detached donors a failed test left running
	[ ! -d "$LAUNCHER_STATE" ] || "$LAUNCHER" rm -f $("$LAUNCHER" ps -aq) >/dev/null 2>&1 || true
	common_teardown
}

@test "spellings: -e=A=1, -ie A=1, --rm=false, --privileged=true, -m 1.5g, --pids-limit -1, a misspelt flag" {
	run -0 "$LAUNCHER" -e=A=1 -ie B=2 --rm=false --env=C=3 "$BUSYBOX" sh -c 'echo "$A $B $C"'
	assert_output "1 2 3"
	run -0 "$LAUNCHER" --privileged=true "$BUSYBOX" grep CapEff /proc/self/status
	assert_output "$(grep CapEff /proc/self/status)"
	run -0 "$LAUNCHER" --privileged=false "$BUSYBOX" grep CapEff /proc/self/status
	assert_output "$(printf 'CapEff:\t00000000a80425fb')"
	run -0 "$LAUNCHER" -m 1.5g --pids-limit -1 "$BUSYBOX" sh -c \
		'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'
	assert_output 1610612736
	run -0 "$LAUNCHER" --memory=512MiB --pids-limit=100 "$BUSYBOX" sh -c \
		'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max'
	assert_output "$(printf '536870912\n100')"
	run -125 "$LAUNCHER" -e =x "$BUSYBOX" true
	assert_output 'launcher: invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x'
	run -125 "$LAUNCHER" --privleged "$BUSYBOX" true
	assert_output 'launcher: unknown flag: --privleged (did you mean --privileged?)'
	run -125 "$LAUNCHER" --rm=yes "$BUSYBOX" true
	assert_output 'launcher: invalid argument "yes" for "--rm" flag: expected true or false'
	run -125 "$LAUNCHER" -m 1x "$BUSYBOX" true
	assert_output "launcher: invalid argument \"1x\" for \"-m, --memory\" flag: invalid suffix: 'x'"
}

@test "-e HOSTNAME=h is kept; --env-file in docker's format, before -e; a bad one is refused" {
	run -0 "$LAUNCHER" -e HOSTNAME=h "$BUSYBOX" sh -c 'echo $HOSTNAME; hostname'
	assert_line --index 0 h
	printf '# a comment\n\n  A=1 2 \nFROM_HOST\nMISSING\nB=x=y\n' >"$BATS_TEST_TMPDIR/env"
	FROM_HOST=hv run -0 "$LAUNCHER" --env-file "$BATS_TEST_TMPDIR/env" -e B=over "$BUSYBOX" env
	assert_line "A=1 2 "
	assert_line "FROM_HOST=hv"
	assert_line "B=over"
	refute_line --partial MISSING
	printf 'A B=1\n' >"$BATS_TEST_TMPDIR/bad"
	run -125 "$LAUNCHER" --env-file "$BATS_TEST_TMPDIR/bad" "$BUSYBOX" true
	assert_output "launcher: bad --env-file $BATS_TEST_TMPDIR/bad: line 1: variable 'A B' contains whitespaces"
	run -125 "$LAUNCHER" --env-file "$BATS_TEST_TMPDIR/none" "$BUSYBOX" true
	assert_output "launcher: open --env-file $BATS_TEST_TMPDIR/none: No such file or directory"
}

@test "-v: :ro, :z, :Z, propagation; targets under /dev and /sys land on the container's own, under /proc are refused" {
	mkdir "$BATS_TEST_TMPDIR/src"
	echo hello >"$BATS_TEST_TMPDIR/src/f"
	run -0 "$LAUNCHER" -v "$BATS_TEST_TMPDIR/src:/a:ro,z" -v "$BATS_TEST_TMPDIR/src:/b:Z,rshared" -v "$BATS_TEST_TMPDIR/src:/c:rw,private" \
		"$BUSYBOX" sh -c 'grep -E " /(a|b|c) " /proc/self/mountinfo | cut -d" " -f5,6,7; touch /a/x 2>&1; cat /b/f'
	assert_line --regexp '^/a ro,'
	assert_line --regexp '^/b rw,[^ ]* shared:[0-9]+$'
	assert_line --regexp '^/c rw,[^ ]* -?$|^/c rw,[a-z,]*$'
	assert_line --partial "Read-only file system"
	assert_line hello
	run -0 "$LAUNCHER" -v /dev/fuse:/dev/fuse -v "$BATS_TEST_TMPDIR/src:/dev/volume" \
		-v "$BATS_TEST_TMPDIR/src:/sys/kernel/debug" "$BUSYBOX" sh -c \
		'grep -E " /dev/fuse | /dev/volume | /sys/kernel/debug " /proc/self/mountinfo | cut -d" " -f5 | sort; cat /dev/volume/f /sys/kernel/debug/f'
	assert_output "$(printf '/dev/fuse\n/dev/volume\n/sys/kernel/debug\nhello\nhello')"
	# :slave: a mount the host makes under a shared source after the start reaches the container
	shared=$BATS_TEST_TMPDIR/shared
	mkdir -p "$shared/sub"
	mount --bind "$shared" "$shared" && mount --make-shared "$shared"
	"$LAUNCHER" -v "$shared:/s:slave" "$BUSYBOX" sh -c 'echo ready >/s/ready; for _ in $(seq 100); do [ -e /s/sub/mark ] && break; sleep 0.1; done
		cat /s/sub/mark; grep " /s " /proc/self/mountinfo | grep -o " master:[0-9]*"' >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null &
	wait_for "$shared/ready" ready
	mount -t tmpfs none "$shared/sub" && echo from-host >"$shared/sub/mark"
	wait $! || true
	umount "$shared/sub"
	umount "$shared"
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output --regexp $'^from-host\n master:[0-9]+$'
	run -125 "$LAUNCHER" -v "$BATS_TEST_TMPDIR/src/f:/proc/cpuinfo" "$BUSYBOX" true # runc's rule (CVE-2019-16884)
	assert_output "launcher: bad --volume $BATS_TEST_TMPDIR/src/f:/proc/cpuinfo: a mount inside /proc is refused"
	run -125 "$LAUNCHER" -v "$BATS_TEST_TMPDIR/src:/b:bogus" "$BUSYBOX" true
	assert_output "launcher: bad --volume $BATS_TEST_TMPDIR/src:/b:bogus: invalid mode: bogus"
	run -125 "$LAUNCHER" -v "$BATS_TEST_TMPDIR/none:/b" "$BUSYBOX" true
	assert_output "launcher: bad volume $BATS_TEST_TMPDIR/none:/b: open $BATS_TEST_TMPDIR/none: No such file or directory"
}

@test "a volume target through an image symlink that points out of the root lands inside; the host's sentinel is untouched" {
	mkdir "$BATS_TEST_TMPDIR/src"
	echo bound >"$BATS_TEST_TMPDIR/src/f"
	run -0 "$LAUNCHER" -v "$BATS_TEST_TMPDIR/src:/escape/sub" -v "$BATS_TEST_TMPDIR/src:/climb/other" --tmpfs /escape/t \
		"$IMAGE" sh -c 'cat /escape/sub/f /climb/other/f; grep -E " /tmp/launcher-flags-sentinel/(sub|other|t) " /proc/self/mountinfo | cut -d" " -f5 | sort'
	assert_output "$(printf 'bound\nbound\n/tmp/launcher-flags-sentinel/other\n/tmp/launcher-flags-sentinel/sub\n/tmp/launcher-flags-sentinel/t')"
	run ls -A "$SENTINEL"
	assert_output mark
	run cat "$SENTINEL/mark"
	assert_output untouched
	run grep -c launcher-flags-sentinel /proc/self/mountinfo
	assert_output 0
}

@test "named volumes: made on first use under the data root, seeded from the image, kept; volume ls, rm, prune" {
	run -0 "$LAUNCHER" -v flagsdata:/seeded "$IMAGE" sh -c 'cat /seeded/file; stat -c "%a %u" /seeded /seeded/file; readlink /seeded/link; echo kept >/seeded/new'
	assert_output "$(printf 'from the image\n750 7\n640 7\n/etc/passwd')"
	[ -f "$LAUNCHER_ROOT/volumes/flagsdata/_data/new" ]
	[ -L "$LAUNCHER_ROOT/volumes/flagsdata/_data/link" ]
	run -0 "$LAUNCHER" --mount type=volume,source=flagsdata,target=/x "$BUSYBOX" cat /x/new /x/file
	assert_output "$(printf 'kept\nfrom the image')"
	# nocopy: a new volume stays empty
	run -0 "$LAUNCHER" -v empty1:/seeded:nocopy "$IMAGE" ls -A /seeded
	assert_output ""
	run -0 "$LAUNCHER" volume ls
	assert_output "$(printf 'DRIVER    VOLUME NAME\nlocal     empty1\nlocal     flagsdata')"
	# in use: not removed
	"$LAUNCHER" -v flagsdata:/x "$BUSYBOX" sh -c 'echo ready; exec sleep 30' >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null &
	pid=$!
	for _ in $(seq 100); do grep -q ready "$BATS_TEST_TMPDIR/out" && break; sleep 0.1; done
	run -1 "$LAUNCHER" volume rm flagsdata
	assert_output "launcher: volume rm: volume flagsdata is in use by a running container"
	kill $pid
	wait $pid || true
	run -0 "$LAUNCHER" volume rm flagsdata empty1
	assert_output "$(printf 'flagsdata\nempty1')"
	run -1 "$LAUNCHER" volume rm flagsdata
	assert_output "launcher: volume rm: no such volume: flagsdata"
	run -125 "$LAUNCHER" -v ./rel:/x "$BUSYBOX" true
	assert_output --partial 'is no volume name'
	[ ! -e "$LAUNCHER_ROOT/volumes/rel" ]
}

@test "the image's Volumes: an anonymous volume each, seeded; --rm removes it, else volume prune does" {
	run -0 "$LAUNCHER" "$IMAGE" sh -c 'cat /seeded/file; grep " /seeded " /proc/self/mountinfo | cut -d" " -f4'
	assert_line "from the image"
	assert_line --regexp '^/.*/volumes/[0-9a-f]{64}/_data$'
	run -0 ls "$LAUNCHER_ROOT/volumes"
	assert_output --regexp '^[0-9a-f]{64}$'
	run -0 "$LAUNCHER" volume prune
	assert_output --regexp '^[0-9a-f]{64}$'
	run -0 ls -A "$LAUNCHER_ROOT/volumes"
	assert_output ""
	run -0 "$LAUNCHER" --rm "$IMAGE" cat /seeded/file
	run -0 ls -A "$LAUNCHER_ROOT/volumes"
	assert_output ""
	# a flag's mount on the same path replaces it
	run -0 "$LAUNCHER" --rm --tmpfs /seeded "$IMAGE" ls -A /seeded
	assert_output ""
}

@test "--tmpfs and --mount: docker's keys, seen in mountinfo; bad ones refused in one line" {
	mkdir "$BATS_TEST_TMPDIR/src"
	run -0 "$LAUNCHER" --tmpfs /run:size=64m,mode=1770 --tmpfs /scratch --mount type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=700 \
		--mount "type=bind,source=$BATS_TEST_TMPDIR/src,target=/b,readonly,bind-propagation=rslave" "$BUSYBOX" sh -c \
		'grep -E " /(run|scratch|t|b) " /proc/self/mountinfo | awk "{ for (i = 7; \$i != \"-\"; i++); print \$5, \$6, (\$(i + 1) == \"tmpfs\" ? \$(i + 3) : \"\") }" | sort; stat -c %a /run /t'
	assert_output "$(printf '/b ro,relatime \n/run rw,nosuid,nodev,noexec,relatime rw,size=65536k,mode=1770\n/scratch rw,nosuid,nodev,noexec,relatime rw\n/t rw,nosuid,nodev,relatime rw,size=1024k,mode=700\n1770\n700')"
	run -125 "$LAUNCHER" --mount type=bind,target=/b "$BUSYBOX" true
	assert_output "launcher: bad --mount type=bind,target=/b: a bind mount needs an absolute source"
	run -125 "$LAUNCHER" --mount type=tmpfs,target=/t,tmpfs-size=lots "$BUSYBOX" true
	assert_output "launcher: bad --mount type=tmpfs,target=/t,tmpfs-size=lots: size: invalid size: 'lots'"
	run -125 "$LAUNCHER" --tmpfs /run:bogus "$BUSYBOX" true
	assert_output "launcher: bad --tmpfs /run:bogus: unknown tmpfs option bogus"
}

@test "--device, --device-cgroup-rule, --privileged's host devices, --gpus" {
	run -0 "$LAUNCHER" --device /dev/fuse "$BUSYBOX" sh -c 'stat -c "%t:%T %a" /dev/fuse; exec 3</dev/fuse && echo opened'
	assert_output "$(printf 'a:e5 666\nopened')"
	run -0 "$LAUNCHER" --device /dev/fuse:/dev/myfuse:r "$BUSYBOX" sh -c \
		'exec 3</dev/myfuse && echo read; (exec 4>/dev/myfuse) 2>/dev/null || echo no write'
	assert_output "$(printf 'read\nno write')"
	run -0 "$LAUNCHER" "$BUSYBOX" sh -c 'mknod /dev/f c 10 229; (exec 3</dev/f) 2>/dev/null && echo opened || echo refused'
	assert_output refused
	run -0 "$LAUNCHER" --device-cgroup-rule 'c 10:229 rwm' "$BUSYBOX" sh -c 'mknod /dev/f c 10 229; exec 3</dev/f && echo opened'
	assert_output opened
	disk=$(lsblk -dnpo NAME | head -1)
	run -0 "$LAUNCHER" --privileged "$BUSYBOX" stat -c "%t:%T %a" "$disk"
	assert_output "$(stat -c '%t:%T %a' "$disk")"
	run -0 "$LAUNCHER" "$BUSYBOX" sh -c "[ ! -e $disk ] && echo absent"
	assert_output absent
	run -125 "$LAUNCHER" --device /etc/passwd "$BUSYBOX" true
	assert_output "launcher: bad --device /etc/passwd: /etc/passwd is not a device node"
	run -125 "$LAUNCHER" --device-cgroup-rule 'c 10 rwm' "$BUSYBOX" true
	assert_output --partial "bad --device-cgroup-rule c 10 rwm: expected TYPE MAJOR:MINOR ACCESS"
	run -125 "$LAUNCHER" --gpus all "$BUSYBOX" true
	assert_output --regexp '^launcher: --gpus all: the launcher has no GPU support: no GPU \(/dev/nvidia0\)'
}

@test "--add-host (host-gateway too), --hostname and --domainname in /etc/hosts and the UTS namespace" {
	run -0 "$LAUNCHER" --add-host db:10.1.2.3 --add-host=v6=fd00::1 --add-host gw:host-gateway --net host "$BUSYBOX" cat /etc/hosts
	assert_line "$(printf '10.1.2.3\tdb')"
	assert_line "$(printf 'fd00::1\tv6')"
	assert_line "$(printf '127.0.0.1\tgw')"
	run -0 "$LAUNCHER" -h box --domainname example.org "$BUSYBOX" sh -c 'hostname; cat /proc/sys/kernel/domainname'
	assert_output "$(printf 'box\nexample.org')"
	run -125 "$LAUNCHER" --add-host gw:host-gateway "$BUSYBOX" true
	assert_output "launcher: bad --add-host gw:host-gateway: host-gateway needs a network (--net NAME or --net host)"
	run -125 "$LAUNCHER" --add-host db:10.1.2 "$BUSYBOX" true
	assert_output "launcher: bad --add-host db:10.1.2: invalid IP address 10.1.2"
}

@test "resources: --memory-swap, --memory-reservation, --oom-kill-disable, --cpu-shares, --cpuset-*, --shm-size, --sysctl" {
	run -0 "$LAUNCHER" -m 64m --memory-swap 128m --memory-reservation 32m --oom-kill-disable --cpu-shares 512 \
		--cpuset-cpus 0 --cpuset-mems 0 --shm-size 1.5m --sysctl kernel.shmmax=1000000 --sysctl net.ipv4.ip_forward=1 \
		"$BUSYBOX" sh -c 'cd /sys/fs/cgroup
		if [ -d memory ]; then
			cat memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes memory/memory.soft_limit_in_bytes cpu/cpu.shares cpuset/cpuset.cpus cpuset/cpuset.mems
			grep oom_kill_disable memory/memory.oom_control
		else
			cat memory.max memory.swap.max memory.low cpu.weight cpuset.cpus cpuset.mems # (cgroup2 has no oom_kill_disable: docker ignores it there too)
		fi
		cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_forward; grep " /dev/shm " /proc/self/mountinfo | awk "{ print \$NF }"'
	if [ -d /sys/fs/cgroup/memory ]; then
		assert_output "$(printf '67108864\n134217728\n33554432\n512\n0\n0\noom_kill_disable 1\n1000000\n1\nrw,size=1536k')"
	else
		assert_output "$(printf '67108864\n67108864\n33554432\n20\n0\n0\n1000000\n1\nrw,size=1536k')"
	fi
	run -125 "$LAUNCHER" --memory-swap 64m "$BUSYBOX" true
	assert_output "launcher: --memory-swap 64m: you should always set the memory limit (--memory) when using the memory-swap limit"
	run -125 "$LAUNCHER" -m 64m --memory-swap 32m "$BUSYBOX" true
	assert_output "launcher: --memory-swap 32m: the minimum memory-swap limit should be larger than the memory limit"
	run -125 "$LAUNCHER" --sysctl kernel.pid_max=100 "$BUSYBOX" true
	assert_output "launcher: bad --sysctl kernel.pid_max=100: not in a namespace of the container's own: it would change the host's"
	run -125 "$LAUNCHER" --net host --sysctl net.ipv4.ip_forward=1 "$BUSYBOX" true
	assert_output "launcher: bad --sysctl net.ipv4.ip_forward=1: not allowed in the host's network namespace (--net host)"
	run -125 "$LAUNCHER" --cpuset-cpus 0-a "$BUSYBOX" true
	assert_output "launcher: bad --cpuset-cpus 0-a: expected a list such as 0-3,5"
}

@test "--volumes-from: a stopped or running donor's volumes and binds at its targets, its modes or :ro; -v wins; bad ones refused" {
	mkdir "$BATS_TEST_TMPDIR/src" "$BATS_TEST_TMPDIR/other"
	echo bound >"$BATS_TEST_TMPDIR/src/f"
	echo other >"$BATS_TEST_TMPDIR/other/f"
	run -0 "$LAUNCHER" run --name vf-donor -v "$BATS_TEST_TMPDIR/src:/a:ro" -v vfdata:/b -v "$BATS_TEST_TMPDIR/src:/c:rshared" \
		--tmpfs /t "$BUSYBOX" sh -c 'echo written >/b/y'
	mounts='grep -E " /(a|b|c|t) " /proc/self/mountinfo | cut -d" " -f5,6 | sort'
	# the donor has ended: its mounts at its targets, /a read-only, /c rshared as it was; not its tmpfs
	run -0 "$LAUNCHER" --rm --volumes-from vf-donor "$BUSYBOX" sh -c "$mounts; cat /a/f /b/y; touch /c/new && echo writable"
	assert_output "$(printf '/a ro,relatime\n/b rw,relatime\n/c rw,relatime\nbound\nwritten\nwritable')"
	run -0 "$LAUNCHER" --rm --volumes-from vf-donor "$BUSYBOX" sh -c 'grep " /c " /proc/self/mountinfo'
	assert_output --regexp ' shared:[0-9]+ '
	[ -f "$BATS_TEST_TMPDIR/src/new" ]
	# :ro makes every one read-only; :rw cannot make the donor's read-only one writable (docker's rule)
	run -0 "$LAUNCHER" --rm --volumes-from vf-donor:ro "$BUSYBOX" sh -c "$mounts"
	assert_output "$(printf '/a ro,relatime\n/b ro,relatime\n/c ro,relatime')"
	run -0 "$LAUNCHER" --rm --volumes-from vf-donor:rw,z "$BUSYBOX" sh -c "$mounts"
	assert_output "$(printf '/a ro,relatime\n/b rw,relatime\n/c rw,relatime')"
	# a flag's mount on a donor's target wins; a deeper one stays visible under a donor's
	run -0 "$LAUNCHER" --rm --volumes-from vf-donor -v "$BATS_TEST_TMPDIR/other:/a" -v "$BATS_TEST_TMPDIR/other:/b/sub" "$BUSYBOX" \
		cat /a/f /b/sub/f /b/y
	assert_output "$(printf 'other\nother\nwritten')"
	# a running donor, named by a prefix of its id; its volume stays held while the taker runs
	"$LAUNCHER" run -d --name vf-running -v vfdata:/data "$BUSYBOX" sh -c 'echo live >/data/live; exec sleep 300' >/dev/null
	id=$(readlink "$LAUNCHER_STATE/.name.vf-running")
	run -0 "$LAUNCHER" exec vf-running cat /data/live
	"$LAUNCHER" run -d --name vf-taker --volumes-from "${id:0:12}" "$BUSYBOX" sleep 300 >/dev/null
	run "$LAUNCHER" exec vf-taker cat /data/live /data/y
	assert_success
	assert_output "$(printf 'live\nwritten')"
	"$LAUNCHER" rm -f vf-running >/dev/null
	run -1 "$LAUNCHER" volume rm vfdata
	assert_output "launcher: volume rm: volume vfdata is in use by a running container"
	"$LAUNCHER" rm -f vf-taker >/dev/null
	# refused in one line, exit 125, nothing made: no record, no volume
	run -125 "$LAUNCHER" --volumes-from vf-nosuch "$BUSYBOX" true
	assert_output "launcher: No such container: vf-nosuch"
	LAUNCHER_STATE=$BATS_TEST_TMPDIR/no-state run -125 "$LAUNCHER" --volumes-from vf-nosuch "$BUSYBOX" true
	assert_output "launcher: No such container: vf-nosuch"
	[ ! -e "$BATS_TEST_TMPDIR/no-state" ] # no state root made for it either
	for mode in rshared nocopy ro,rw bogus; do
		run -125 "$LAUNCHER" --volumes-from "vf-donor:$mode" "$BUSYBOX" true
		assert_output "launcher: bad --volumes-from vf-donor:$mode: invalid mode: $mode"
	done
	"$LAUNCHER" run --name vf-bare "$BUSYBOX" true # no mounts: nothing to take
	run -0 "$LAUNCHER" --rm --volumes-from vf-bare "$BUSYBOX" sh -c 'grep -c " /[abc] " /proc/self/mountinfo || true'
	assert_output 0
	"$LAUNCHER" rm vf-bare >/dev/null
	run -125 "$LAUNCHER" --volumes-from "" "$BUSYBOX" true
	assert_output "launcher: bad --volumes-from: volumes-from specification cannot be an empty string"
	"$LAUNCHER" rm vf-donor >/dev/null
	run -0 ls -A "$LAUNCHER_STATE"
	assert_output ""
	run -0 "$LAUNCHER" volume rm vfdata
	run -0 ls -A "$LAUNCHER_ROOT/volumes"
	assert_output ""
}

@test "--volumes-from a --rm donor: its anonymous volume outlives it while a taker holds it (docker's: in use), and goes with prune after" {
	"$LAUNCHER" run -d --rm --name vf-rmdonor -v /anon "$BUSYBOX" sh -c 'echo kept >/anon/f; while [ ! -e /anon/go ]; do sleep 0.1; done' >/dev/null
	for _ in $(seq 100); do [ -n "$(ls "$LAUNCHER_ROOT/volumes" 2>/dev/null)" ] && break; sleep 0.1; done
	"$LAUNCHER" run -d --name vf-rmtaker --volumes-from vf-rmdonor "$BUSYBOX" sleep 300 >/dev/null
	run -0 "$LAUNCHER" exec vf-rmtaker sh -c 'cat /anon/f && touch /anon/go'
	for _ in $(seq 100); do "$LAUNCHER" ps -a | grep -q vf-rmdonor || break; sleep 0.1; done
	run -0 "$LAUNCHER" ps -aq --no-trunc
	assert_output "$(readlink "$LAUNCHER_STATE/.name.vf-rmtaker")" # the donor is gone
	run -0 "$LAUNCHER" exec vf-rmtaker cat /anon/f
	assert_output kept
	"$LAUNCHER" rm -f vf-rmtaker >/dev/null
	run -0 "$LAUNCHER" volume prune
	run -0 ls -A "$LAUNCHER_ROOT/volumes"
	assert_output ""
}

@test "--pid and --ipc container:NAME join a running container's PID and IPC namespaces and /dev/shm; stopped, unknown and non-shareable donors refused" {
	"$LAUNCHER" run -d --name ns-donor --ipc shareable "$BUSYBOX" sh -c 'echo from-donor >/dev/shm/mark; exec sleep 300' >/dev/null
	for _ in $(seq 100); do "$LAUNCHER" exec ns-donor cat /dev/shm/mark >/dev/null 2>&1 && break; sleep 0.1; done
	run -0 "$LAUNCHER" exec ns-donor sh -c 'for n in pid ipc; do readlink /proc/self/ns/$n; done'
	donor_ns=$output
	pid=$("$LAUNCHER" inspect ns-donor | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["State"]["Pid"])')
	nsenter -t "$pid" --ipc ipcmk -M 4096 >/dev/null # a System V segment of the donor's namespace
	run -0 "$LAUNCHER" --rm --pid container:ns-donor --ipc container:ns-donor "$BUSYBOX" sh -c \
		'for n in pid ipc; do readlink /proc/self/ns/$n; done; echo "pid $$"; ps -o args | grep -c "^sleep 300"; cat /dev/shm/mark; tail -n +2 /proc/sysvipc/shm | wc -l'
	assert_output "$(printf '%s\npid %s\n1\nfrom-donor\n1' "$donor_ns" "$(sed -n 's/^pid \(.*\)/\1/p' <<<"$output")")"
	refute_line "pid 1" # not PID 1 of that namespace: the donor's is
	# an orphan of the taker dies with it; the donor and its processes live on
	run -0 "$LAUNCHER" --rm --pid container:ns-donor "$BUSYBOX" sh -c 'sleep 1234 & echo started'
	run -0 "$LAUNCHER" exec ns-donor sh -c 'ps -o args | grep -c "^sleep" ; true'
	assert_output 1
	# without --ipc container the namespace and /dev/shm are its own
	run -0 "$LAUNCHER" --rm --pid container:ns-donor "$BUSYBOX" sh -c 'readlink /proc/self/ns/ipc; ls /dev/shm'
	refute_line "$(tail -n 1 <<<"$donor_ns")"
	refute_line mark
	# docker's refusals, exit 125, and nothing left of the refused container
	"$LAUNCHER" run --name ns-stopped "$BUSYBOX" true
	stopped_id=$(readlink "$LAUNCHER_STATE/.name.ns-stopped")
	"$LAUNCHER" run -d --name ns-private "$BUSYBOX" sleep 300 >/dev/null # docker's default: private
	run -125 "$LAUNCHER" --pid container:ns-stopped "$BUSYBOX" true
	assert_output "launcher: container $stopped_id is not running"
	run -125 "$LAUNCHER" --ipc container:ns-stopped "$BUSYBOX" true
	assert_output "launcher: container ns-stopped is not running"
	run -0 "$LAUNCHER" inspect ns-donor ns-private
	run -0 python3 -c 'import json,sys; print(*[c["HostConfig"]["IpcMode"] for c in json.load(sys.stdin)])' <<<"$output"
	assert_output "shareable private" # each record keeps its IPC mode
	run -125 "$LAUNCHER" --ipc container:ns-private "$BUSYBOX" true
	assert_output "launcher: container ns-private: non-shareable IPC (hint: use IpcMode:shareable for the donor container)"
	"$LAUNCHER" run -d --name ns-private2 --ipc private "$BUSYBOX" sleep 300 >/dev/null
	run -125 "$LAUNCHER" --ipc container:ns-private2 "$BUSYBOX" true
	assert_output "launcher: container ns-private2: non-shareable IPC (hint: use IpcMode:shareable for the donor container)"
	run -125 "$LAUNCHER" --pid container:ns-nosuch "$BUSYBOX" true
	assert_output "launcher: No such container: ns-nosuch"
	run -125 "$LAUNCHER" --ipc container:ns-nosuch "$BUSYBOX" true
	assert_output "launcher: No such container: ns-nosuch"
	run -125 "$LAUNCHER" --pid container: "$BUSYBOX" true
	assert_output "launcher: bad --pid container:: expected host or container:NAME"
	run -125 "$LAUNCHER" --userns --pid container:ns-donor "$BUSYBOX" true
	assert_output "launcher: --pid container:NAME needs root without --userns"
	# a record whose pid is now another process's (its start time differs) is never joined
	"$LAUNCHER" run -d --name ns-reused --ipc shareable "$BUSYBOX" sleep 300 >/dev/null
	reused_id=$(readlink "$LAUNCHER_STATE/.name.ns-reused")
	cp "$LAUNCHER_STATE/$reused_id/state.json" "$BATS_TEST_TMPDIR/state.json"
	sed -i 's/"startTime":[0-9]*/"startTime":1/' "$LAUNCHER_STATE/$reused_id/state.json"
	run -125 "$LAUNCHER" --pid container:ns-reused "$BUSYBOX" true
	assert_output "launcher: container $reused_id is not running"
	run -125 "$LAUNCHER" --ipc container:ns-reused "$BUSYBOX" true
	assert_output "launcher: container ns-reused is not running"
	cp "$BATS_TEST_TMPDIR/state.json" "$LAUNCHER_STATE/$reused_id/state.json"
	"$LAUNCHER" rm -f ns-reused >/dev/null
	run -0 "$LAUNCHER" ps -aq
	assert_equal "$(wc -l <<<"$output")" 4
	"$LAUNCHER" rm -f ns-donor ns-stopped ns-private ns-private2 >/dev/null
}

@test "--pid, --ipc, --uts, --cgroupns, --userns host share the host's; --platform, --stop-signal, --init, --sig-proxy=false" {
	run -0 "$LAUNCHER" --pid host --ipc host --uts host --cgroupns host --userns=host "$BUSYBOX" sh -c \
		'cat /proc/1/comm; for ns in ipc uts cgroup; do readlink /proc/self/ns/$ns; done; hostname; grep -c " /dev/shm " /proc/self/mountinfo'
	assert_output "$(printf '%s\n%s\n%s\n%s\n%s\n2' "$(cat /proc/1/comm)" "$(readlink /proc/self/ns/ipc)" "$(readlink /proc/self/ns/uts)" \
		"$(readlink /proc/self/ns/cgroup)" "$(hostname)")"
	run -0 "$LAUNCHER" --ipc private --cgroupns private "$BUSYBOX" sh -c 'readlink /proc/self/ns/ipc; readlink /proc/self/ns/cgroup'
	refute_line "$(readlink /proc/self/ns/ipc)"
	refute_line "$(readlink /proc/self/ns/cgroup)"
	# an orphan of a --pid host container dies with it, and nothing else does
	run -0 "$LAUNCHER" --pid host "$BUSYBOX" sh -c 'sleep 1234 & echo $!'
	! kill -0 "$output" 2>/dev/null
	run -125 "$LAUNCHER" --uts host -h box "$BUSYBOX" true
	assert_output "launcher: conflicting options: --hostname and --uts host"
	run -0 "$LAUNCHER" --rm --platform linux/amd64 --init --stop-signal SIGRTMIN+3 --stop-timeout 5 "$IMAGE" true
	# the image's Labels and StopSignal in inspect, after which --label and --stop-signal,
	# --stop-timeout; stop uses them: a container that ignores its stop signal is killed
	"$LAUNCHER" run -d --name fl-img --label team=x "$IMAGE" sleep 300 >/dev/null
	"$LAUNCHER" run -d --name fl-flag --label org.example.from=flag --stop-signal SIGUSR2 --stop-timeout 1 "$IMAGE" \
		sh -c 'trap "" USR2; echo ready; sleep 300 & wait' >/dev/null
	inspect() { "$LAUNCHER" inspect "$1" | python3 -c 'import json,sys; c=json.load(sys.stdin)[0]["Config"]; print(sorted(c["Labels"].items()), c["StopSignal"], c["StopTimeout"])'; }
	run -0 inspect fl-img
	assert_output "[('org.example.from', 'image'), ('team', 'x')] SIGUSR1 10"
	run -0 inspect fl-flag
	assert_output "[('org.example.from', 'flag')] SIGUSR2 1"
	for _ in $(seq 100); do "$LAUNCHER" logs fl-flag 2>/dev/null | grep -q ready && break; sleep 0.1; done
	run -0 "$LAUNCHER" stop fl-flag
	run -0 "$LAUNCHER" inspect fl-flag
	run -0 python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["State"]["ExitCode"])' <<<"$output"
	assert_output 137 # the trap held off SIGUSR2: SIGKILL after the second
	"$LAUNCHER" rm -f fl-img fl-flag >/dev/null
	run -125 "$LAUNCHER" --platform linux/arm64 "$IMAGE" true
	assert_output "launcher: image $IMAGE is linux/amd64, not the --platform linux/arm64 asked for"
	run -125 "$LAUNCHER" --stop-signal SIGBOGUS "$IMAGE" true
	assert_output "launcher: bad --stop-signal SIGBOGUS: no such signal"
	# --sig-proxy=false: SIGTERM ends the launcher and the container, the trap never runs
	"$LAUNCHER" --sig-proxy=false "$BUSYBOX" sh -c 'trap "echo trapped" TERM; echo ready; sleep 30 & wait' >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null &
	pid=$!
	for _ in $(seq 100); do grep -q ready "$BATS_TEST_TMPDIR/out" && break; sleep 0.1; done
	kill -TERM $pid
	rc=0
	wait $pid || rc=$?
	assert_equal "$rc" 143
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output ready
}

@test "security options: no-new-privileges[:true|false], apparmor= and label= noted, systempaths=unconfined" {
	run -0 "$LAUNCHER" --security-opt no-new-privileges=false "$BUSYBOX" grep NoNewPrivs /proc/self/status
	assert_output "$(printf 'NoNewPrivs:\t0')"
	run -0 "$LAUNCHER" --security-opt no-new-privileges:true "$BUSYBOX" grep -E 'NoNewPrivs|Seccomp:' /proc/self/status
	assert_output "$(printf 'NoNewPrivs:\t1\nSeccomp:\t2')"
	run -0 "$LAUNCHER" --security-opt no-new-privileges=false -u 1000 "$BUSYBOX" grep -E 'NoNewPrivs|Seccomp:' /proc/self/status
	assert_output "$(printf 'NoNewPrivs:\t0\nSeccomp:\t2')"
	run -0 "$LAUNCHER" --security-opt apparmor=unconfined --security-opt label=disable "$BUSYBOX" true
	# (where AppArmor or SELinux is active, tests/vm.bats checks what they do)
	cat /proc/self/attr/apparmor/current >/dev/null 2>&1 || assert_line "launcher: note: --security-opt apparmor=unconfined: this host has no AppArmor; the container runs without it"
	[ -e /sys/fs/selinux/enforce ] || assert_line "launcher: note: --security-opt label=disable: this host has no SELinux; the container runs without it"
	run -0 "$LAUNCHER" "$BUSYBOX" sh -c 'grep -cE " /proc/kcore | /sys/firmware " /proc/self/mountinfo'
	refute_output 0
	run -0 "$LAUNCHER" --security-opt systempaths=unconfined "$BUSYBOX" sh -c 'grep -cE " /proc/kcore | /sys/firmware " /proc/self/mountinfo || true'
	assert_output 0
}

@test "--security-opt seccomp=podman's profile (golang-github-containers-common) loads, and a syscall it refuses is refused" {
	podman=/usr/share/containers/seccomp.json
	[ -f "$podman" ]
	run -0 "$LAUNCHER" --security-opt seccomp=$podman "$BENCH" /benchtool syscalls
	assert_line "userfaultfd: Operation not permitted"
	run -0 "$LAUNCHER" --security-opt seccomp=$podman "$BUSYBOX" grep Seccomp: /proc/self/status
	assert_output "$(printf 'Seccomp:\t2')"
}

@test "errors that teach: a text file is not a tar archive; a bare image name says how to make an archive; --help has examples" {
	echo "just text" >"$BATS_TEST_TMPDIR/notes.txt"
	run -125 "$LAUNCHER" "$BATS_TEST_TMPDIR/notes.txt"
	assert_output "launcher: image $BATS_TEST_TMPDIR/notes.txt: not a tar archive (docker save, podman save or skopeo copy make one; gzip and zstd ones too)"
	for name in busybox alpine:3.19 docker.io/library/nginx; do
		run -125 "$LAUNCHER" "$name" true
		assert_output "launcher: open image $name: No such file or directory: the launcher runs image archives, not registry names; make one with \`docker save $name -o image.tar\`, \`podman save $name -o image.tar\` or \`skopeo copy docker://$name docker-archive:image.tar\`"
	done
	run -125 "$LAUNCHER" "$BATS_TEST_TMPDIR/missing.tar"
	assert_output "launcher: open image $BATS_TEST_TMPDIR/missing.tar: No such file or directory"
	run -0 "$LAUNCHER" --help
	assert_line --partial "docker save busybox -o busybox.tar"
	assert_line --partial "launcher volume ls"
}

@test "--add-host NAME:host-gateway on a bridge network is the bridge's address, beside the network's names; --domainname's HOST.DOMAIN" {
	ns=lflags-$BATS_TEST_NUMBER-$$
	ip netns add "$ns"
	export LAUNCHER_RUN=$BATS_TEST_TMPDIR/run
	run nsenter --net=/run/netns/"$ns" "$LAUNCHER" --net red --name web -h box --domainname example.org --add-host gw:host-gateway --add-host db:10.9.8.7 "$BUSYBOX" \
		sh -c 'ip route | sed -n "s/^default via \([0-9.]*\).*/via=\1/p"; cat /etc/hosts'
	ip netns del "$ns"
	assert_success
	gateway=$(sed -n 's/^via=//p' <<<"$output")
	[ -n "$gateway" ]
	assert_line "$(printf '%s\tgw' "$gateway")"
	assert_line "$(printf '10.9.8.7\tdb')"
	assert_line --regexp $'^10\\.[0-9.]+\tbox\\.example\\.org box web$' # docker's HOST.DOMAIN HOST
}
