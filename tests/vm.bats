#!/usr/bin/env bats
# The launcher as a machine's /init: real VMs booted under qemu (software emulation,
# several seconds a boot). Each checks the console and that the VM powered itself off.

load helpers

setup_file() {
	export INITRAMFS=$BATS_FILE_TMPDIR/initramfs.cpio.gz
	"$ROOT/vm/mkinitramfs.sh" "$INITRAMFS"
}

setup() { common_setup; }
teardown() { common_teardown; }

# boot ARGS: boots, sets output to the console (control sequences and blank lines removed)
boot() {
	run "$ROOT/vm/boot.sh" "$INITRAMFS" "$@"
	output=$(printf '%s\n' "$output" | tr -d '\r' | sed 's/\x1bc//g; s/\x1b\[[0-9;?]*[a-zA-Z]//g; s/^Booting from ROM\.\.c\?//' | grep -v '^\s*$')
	mapfile -t lines <<<"$output"
	refute_output --partial "Kernel panic"
	assert_output --partial "reboot: Power down"
}

@test "vm: the hello image runs as /init's container and the VM powers off with status 0" {
	boot /images/hello.tar
	assert_success
	assert_output --partial "Hello from a container!"
	assert_line "launcher: exit status 0"
}

@test "vm: --verbose times the start from the kernel's word to the entrypoint's exec by the guest's clock, modules apart" {
	boot --verbose /images/hello.tar
	assert_success
	assert_output --partial "Hello from a container!"
	assert_line --regexp '^launcher: +[0-9]+\.[0-9]{3} ms  loaded module kernel/fs/overlayfs/overlay\.ko in [0-9]+\.[0-9]{3} ms$'
	assert_line --regexp "^launcher: +[0-9]+\.[0-9]{3} ms  the entrypoint's exec came [0-9]+\.[0-9]{3} ms after the kernel started /init \([0-9]+\.[0-9]{3} ms after boot\): [0-9]+\.[0-9]{3} ms loading modules, [0-9]+\.[0-9]{3} ms the start itself$"
	# Modules were loaded: their share is not nothing.
	refute_line --regexp "0\.000 ms loading modules"
}

@test "vm: a container exiting 3 prints its status, and launcher.args are split as a shell would" {
	# The kernel's own parser ends launcher.args at the next double quote: single quotes
	# and backslashes carry the rest.
	boot "--hostname 'my vm' -e GREETING=with\\ space /images/busybox.tar sh -c 'hostname; echo \$GREETING; exit 3'"
	assert_success
	assert_line "my vm"
	assert_line "with space"
	assert_line "launcher: exit status 3"
}

@test "vm: a missing image prints one line and powers off, no kernel panic" {
	boot /images/missing.tar
	assert_success
	assert_line --partial "launcher: open image /images/missing.tar: No such file or directory"
}

@test "vm: pivot_root's initramfs fallback is taken and the container cannot see the initramfs" {
	boot "--verbose /images/busybox.tar sh -c 'ls /; ls /init /images 2>&1; true'"
	assert_line --partial "pivot_root refused (initramfs): moved the new root over / instead"
	assert_line --partial "loaded module kernel/fs/overlayfs/overlay.ko"
	assert_line "bin   data  dev   etc   home  opt   proc  root  sys   tmp"
	assert_line "ls: /init: No such file or directory"
	assert_line "ls: /images: No such file or directory"
}

@test "vm: two containers on --net red ping each other, modules loaded by the launcher" {
	# The privileged container's /sys/fs/cgroup is writable (as docker's): the launchers
	# inside make their containers' cgroups there, for the device policy.
	boot "--privileged -v /init:/launcher:ro -v /images:/images -v /lib/modules:/lib/modules /images/busybox.tar sh -c '/launcher --verbose --net red /images/busybox.tar sleep 4 & sleep 2; /launcher --net red /images/busybox.tar ping -c1 -W2 10.88.0.2'"
	assert_success
	assert_line --partial "loaded module kernel/net/llc/llc.ko"
	assert_line --partial "loaded module kernel/net/bridge/bridge.ko"
	assert_line --partial "loaded module kernel/drivers/net/veth.ko"
	assert_line --partial "loaded module kernel/net/netfilter/nf_tables.ko"
	assert_line --partial "loaded module kernel/net/netfilter/nft_masq.ko"
	assert_line "1 packets transmitted, 1 packets received, 0% packet loss"
	assert_line "launcher: exit status 0"
}

@test "vm: without launcher.args, /etc/launcher.args from an appended archive" {
	# The kernel unpacks concatenated newc archives in order.
	dir=$BATS_TEST_TMPDIR/extra
	mkdir -p "$dir/etc"
	echo "/images/busybox.tar echo from-etc" >"$dir/etc/launcher.args"
	(cd "$dir" && find . | cpio -o -H newc --quiet | gzip -n) >"$BATS_TEST_TMPDIR/extra.cpio.gz"
	cat "$INITRAMFS" "$BATS_TEST_TMPDIR/extra.cpio.gz" >"$BATS_TEST_TMPDIR/both.cpio.gz"
	INITRAMFS=$BATS_TEST_TMPDIR/both.cpio.gz boot
	assert_line "from-etc"
	assert_line "launcher: exit status 0"
}

@test "vm: a kernel without overlayfs gets the copy storage automatically" {
	MODULES="veth bridge stp llc" "$ROOT/vm/mkinitramfs.sh" "$BATS_TEST_TMPDIR/no-overlay.cpio.gz"
	INITRAMFS=$BATS_TEST_TMPDIR/no-overlay.cpio.gz boot "--verbose /images/busybox.tar sh -c 'ls /opt/dir /data'"
	assert_line --partial "merged layer 2"
	refute_line --partial "mounted overlay"
	assert_line new.txt
	refute_line old.txt
	refute_line secret.txt
	assert_line "launcher: exit status 0"
}

@test "vm: an OCI archive with gzip layers runs as /init's container (no cache, inflated in the initramfs)" {
	dir=$BATS_TEST_TMPDIR/extra
	mkdir -p "$dir/images"
	python3 tests/fixtures.py oci "$BUSYBOX" "$dir/images/oci.tar" --gzip --nested
	(cd "$dir" && find . | cpio -o -H newc --quiet | gzip -n) >"$BATS_TEST_TMPDIR/extra.cpio.gz"
	cat "$INITRAMFS" "$BATS_TEST_TMPDIR/extra.cpio.gz" >"$BATS_TEST_TMPDIR/both.cpio.gz"
	INITRAMFS=$BATS_TEST_TMPDIR/both.cpio.gz boot "--verbose /images/oci.tar sh -c 'cat /data/hello.txt; ls /opt/dir'"
	assert_line --partial "read image /images/oci.tar docker.io/library/busybox:latest: 2 layers"
	assert_line --partial "unpacked layer 2"
	refute_line --partial "in the cache"
	assert_line "hello from layer 1"
	assert_line "new.txt"
	assert_line "launcher: exit status 0"
}

@test "vm: on a cgroup v2 only machine a device outside docker's list made with mknod cannot be opened" {
	# /dev/kmsg (1:11) and the serial console (4:64) exist in every such VM; /dev/null works.
	boot "--pids-limit 50 /images/busybox.tar sh -c 'cat /proc/self/cgroup
		mknod /tmp/kmsg c 1 11 && dd if=/dev/null of=/tmp/kmsg count=0
		mknod /tmp/ttyS0 c 4 64 && dd if=/tmp/ttyS0 of=/dev/null count=0
		echo x > /dev/null && echo null: ok'"
	assert_success
	assert_line "0::/"
	assert_line "dd: can't open '/tmp/kmsg': Operation not permitted"
	assert_line "dd: can't open '/tmp/ttyS0': Operation not permitted"
	assert_line "null: ok"
	assert_line "launcher: exit status 0"
}

# with_files: the files of $BATS_TEST_TMPDIR/extra appended to the initramfs (the kernel
# unpacks concatenated newc archives in order); sets INITRAMFS to the result.
with_files() {
	(cd "$BATS_TEST_TMPDIR/extra" && find . | cpio -o -H newc --quiet | gzip -n) >"$BATS_TEST_TMPDIR/extra.cpio.gz"
	cat "$INITRAMFS" "$BATS_TEST_TMPDIR/extra.cpio.gz" >"$BATS_TEST_TMPDIR/both.cpio.gz"
	INITRAMFS=$BATS_TEST_TMPDIR/both.cpio.gz
}

@test "vm: on cgroup v2, --memory, --pids-limit and --cpus take effect, read inside in /sys/fs/cgroup (read-only), and an OOM kill is reported" {
	mkdir -p "$BATS_TEST_TMPDIR/extra/images"
	cat >"$BATS_TEST_TMPDIR/extra/images/limits.sh" <<'EOF'
cat /proc/self/cgroup
echo memory.max $(cat /sys/fs/cgroup/memory.max) swap $(cat /sys/fs/cgroup/memory.swap.max)
echo pids.max $(cat /sys/fs/cgroup/pids.max) cpu.max $(cat /sys/fs/cgroup/cpu.max)
ls /sys/fs/cgroup | grep -c launcher- || true
touch /sys/fs/cgroup/x
(i=0; while [ $i -lt 60 ]; do sleep 30 & i=$((i+1)); done) 2>/dev/null # ash exits when a fork fails
read n </sys/fs/cgroup/pids.current; echo pids.current $n
kill -9 -1; wait
dd if=/dev/zero of=/dev/null bs=64M count=1
EOF
	with_files
	boot "--memory 32m --pids-limit 50 --cpus 0.5 -v /images:/images /images/busybox.tar sh /images/limits.sh"
	assert_success
	assert_line "0::/"
	assert_line "memory.max 33554432 swap 0"
	assert_line "pids.max 50 cpu.max 50000 100000"
	assert_line 0 # no cgroup of the host in sight
	assert_line "touch: /sys/fs/cgroup/x: Read-only file system"
	assert_line --regexp "^pids.current (49|50)$"
	assert_line "launcher: the container ran out of memory (--memory 32m): the kernel killed it"
	assert_line "launcher: exit status 137"
}

@test "vm: a launcher inside a container: its container's cgroup beside its own, which holds processes; gone after it ends, a SIGKILLed one's by the next start" {
	# The outer container is limited, so its cgroup has controllers: its own namespace's root
	# holds its processes, and the inner launcher cannot enable controllers under it ("no
	# internal processes"); its processes moved into /init (as docker-in-docker's entrypoint
	# does), the inner container's cgroup goes beside that. (The script is a file: the kernel's command
	# line cannot quote it.)
	dir=$BATS_TEST_TMPDIR/extra
	mkdir -p "$dir/scripts"
	cat >"$dir/scripts/nested.sh" <<'EOF'
/launcher --memory 16m /images/busybox.tar true; echo status $?
mkdir /sys/fs/cgroup/init
for p in $(cat /sys/fs/cgroup/cgroup.procs); do echo $p >/sys/fs/cgroup/init/cgroup.procs; done 2>/dev/null
/launcher --memory 16m --cpus 1 /images/busybox.tar sh -c 'cat /proc/self/cgroup /sys/fs/cgroup/memory.max; sleep 2' &
sleep 1
ls /sys/fs/cgroup | grep launcher-
cat /sys/fs/cgroup/launcher-*/memory.max /sys/fs/cgroup/launcher-*/cpu.max
wait $!; echo status $?
echo "after it ended: $(ls /sys/fs/cgroup | grep -c launcher-)"
/launcher --pids-limit 10 /images/busybox.tar sleep 30 &
sleep 1; kill -KILL $!; wait $!; sleep 0.5
echo "after a SIGKILL: $(ls /sys/fs/cgroup | grep -c launcher-)"
/launcher --pids-limit 10 /images/busybox.tar true; echo status $?
echo "after the next start: $(ls /sys/fs/cgroup | grep -c launcher-)"
EOF
	with_files
	boot "--privileged --pids-limit 100 -v /init:/launcher:ro -v /images:/images -v /scripts:/scripts /images/busybox.tar sh /scripts/nested.sh"
	assert_success
	assert_line "launcher: enable +memory in /sys/fs/cgroup/cgroup.subtree_control (it holds processes: move them into a child cgroup first): Resource busy"
	assert_line "status 125"
	assert_line "0::/"
	assert_line --regexp '^launcher-[0-9]+$'
	assert_line 16777216
	assert_line "100000 100000"
	assert_line "status 0"
	assert_line "after it ended: 0"
	assert_line "after a SIGKILL: 1" # nobody was left to remove it
	assert_line "after the next start: 0"
	assert_line "launcher: exit status 0"
}

@test "vm: on cgroup v2 a block device node shipped in an image layer cannot be opened; --privileged reaches its driver" {
	python3 - "$BATS_TEST_TMPDIR/layer.tar" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1], 'w') as t:
    for name, kind, major, minor in [('data/loop0', tarfile.BLKTYPE, 7, 0), ('data/sda', tarfile.BLKTYPE, 8, 0), ('data/kmsg', tarfile.CHRTYPE, 1, 11)]:
        i = tarfile.TarInfo(name); i.type = kind; i.mode = 0o666; i.mtime = 1700000000
        i.devmajor, i.devminor = major, minor
        t.addfile(i)
EOF
	hostile_image devnodes
	dir=$BATS_TEST_TMPDIR/extra
	mkdir -p "$dir/images"
	cp "$BATS_TEST_TMPDIR/devnodes.tar" "$dir/images/"
	(cd "$dir" && find . | cpio -o -H newc --quiet | gzip -n) >"$BATS_TEST_TMPDIR/extra.cpio.gz"
	cat "$INITRAMFS" "$BATS_TEST_TMPDIR/extra.cpio.gz" >"$BATS_TEST_TMPDIR/both.cpio.gz"
	script='ls -l /data/loop0 /data/sda /data/kmsg | cut -c1 | tr -d \\n; echo; dd if=/data/loop0 of=/dev/null count=1; dd if=/data/sda of=/dev/null count=1; dd if=/dev/null of=/data/kmsg count=0'
	INITRAMFS=$BATS_TEST_TMPDIR/both.cpio.gz boot "/images/devnodes.tar sh -c '$script'"
	assert_line cbb # ls sorts: kmsg, loop0, sda
	assert_line "dd: can't open '/data/loop0': Operation not permitted"
	assert_line "dd: can't open '/data/sda': Operation not permitted"
	assert_line "dd: can't open '/data/kmsg': Operation not permitted"
	refute_line --partial records
	INITRAMFS=$BATS_TEST_TMPDIR/both.cpio.gz boot "--privileged /images/devnodes.tar sh -c '$script'"
	refute_line --partial "Operation not permitted"
	assert_line --regexp "^dd: can't open '/data/sda': No such device( or address)?$"
}

@test "vm: the OCI mode's cgroup operations on cgroup v2: a systemd-form path, every resource, device rules, freeze, kill, removal" {
	# vm/cgroup-api.cpp, built as the launcher is (static, musl), run in a --privileged
	# container, whose writable /sys/fs/cgroup is the machine's (it has no cgroup of its own)
	mkdir -p "$BATS_TEST_TMPDIR/extra/t"
	cmd=$(make -n -B launcher | grep ' launcher.cpp' | head -1)
	eval "${cmd/-o launcher launcher.cpp/-o $BATS_TEST_TMPDIR/extra/t/cgroup-api vm/cgroup-api.cpp}"
	with_files
	boot "--privileged -v /t:/t /images/busybox.tar /t/cgroup-api"
	assert_success
	assert_line "path /machine.slice/machine-test.slice/vm-api.scope v2 1"
	assert_line "memory.max 67108864"
	assert_line "memory.low 16777216"
	assert_line "memory.swap.max 33554432" # memory and swap 96m: 32m of swap
	assert_line "cpu.weight 20"            # shares 512
	assert_line "cpu.max 20000 50000"
	assert_line "cpuset.cpus 0"
	assert_line "pids.max 20"
	assert_line "pids 1 the child"
	assert_line "devices: null rw ok, zero r ok, zero w Operation not permitted, full Operation not permitted"
	assert_line "frozen 1"
	assert_line "thawed 1"
	assert_line "killed by 9"
	assert_line "removed 1"
	assert_line "launcher: exit status 0"
}

@test "vm: AppArmor, active in Debian's kernel with no profile loaded: apparmor=unconfined runs, a profile the kernel lacks is refused in one line (both front doors), nothing left" {
	# The machine's kernel has AppArmor on by default (CONFIG_DEFAULT_SECURITY_APPARMOR):
	# a --privileged container mounts securityfs to show that no profile is loaded, and
	# runs the launcher inside. The OCI bundle is busybox's tree with runc's config.
	dir=$BATS_TEST_TMPDIR/extra
	mkdir -p "$dir/scripts" "$dir/bundle/rootfs"
	for layer in $(tar -xOf "$BUSYBOX" manifest.json | python3 -SI -c 'import json, sys; print(*json.load(sys.stdin)[0]["Layers"])'); do
		tar -xOf "$BUSYBOX" "$layer" | tar -x -C "$dir/bundle/rootfs"
	done
	(cd "$dir/bundle" && runc spec)
	for profile in unconfined nosuchprofile; do
		python3 -SI - "$dir/bundle/config.json" "$profile" <<-'EOF'
			import json, sys
			c = json.load(open(sys.argv[1]))
			c["process"].update(terminal=False, args=["cat", "/proc/self/attr/apparmor/current"], apparmorProfile=sys.argv[2])
			json.dump(c, open(sys.argv[1].replace("config.json", "config-" + sys.argv[2] + ".json"), "w"))
		EOF
	done
	cat >"$dir/scripts/apparmor.sh" <<'EOF'
mount -t securityfs securityfs /sys/kernel/security
echo "profiles loaded: $(wc -l </sys/kernel/security/apparmor/profiles)"
/launcher --rm --security-opt apparmor=unconfined /images/busybox.tar cat /proc/self/attr/apparmor/current; echo "status $?"
/launcher --rm --security-opt apparmor=unconfined -u 1000 /images/busybox.tar cat /proc/self/attr/apparmor/current; echo "status $?"
/launcher --rm --security-opt apparmor=nosuchprofile /images/busybox.tar echo ran; echo "status $?"
/launcher --rm --security-opt label=disable /images/busybox.tar true; echo "status $?"
cd /bundle
for p in unconfined nosuchprofile; do
	cp config-$p.json config.json
	/launcher --root /run/oci run oci-$p; echo "oci status $?"
done
echo "left: $(find /run/launcher /run/oci -mindepth 1 2>/dev/null | wc -l)"
EOF
	with_files
	boot "--privileged -v /init:/launcher:ro -v /images:/images -v /scripts:/scripts -v /bundle:/bundle /images/busybox.tar sh /scripts/apparmor.sh"
	assert_success
	assert_line "profiles loaded: 0"
	assert_line "unconfined"
	assert_equal "$(grep -c '^unconfined$' <<<"$output")" 3 # twice by the image's front door (root, uid 1000), once by OCI's
	assert_line "status 0"
	assert_line "launcher: --security-opt apparmor=nosuchprofile: the kernel holds no such AppArmor profile (load it with apparmor_parser first)"
	assert_line "status 125"
	refute_line ran
	assert_line "launcher: note: --security-opt label=disable: this host has no SELinux; the container runs without it"
	assert_line "oci status 0"
	assert_line "launcher: process.apparmorProfile nosuchprofile: the kernel holds no such AppArmor profile (load it with apparmor_parser first)"
	assert_line "oci status 1"
	assert_line "left: 0"
	assert_line "launcher: exit status 0"
}

@test "vm: a profile loaded into the kernel is entered by the entrypoint and by exec's processes, and what it denies is denied" {
	# Compiled on the host by Debian's apparmor_parser (package apparmor), loaded in the VM
	# through securityfs by a --privileged container, which then runs the launcher inside.
	dir=$BATS_TEST_TMPDIR/extra
	mkdir -p "$dir/scripts"
	printf '%s\n' 'profile launcher-test flags=(attach_disconnected,mediate_deleted) {' '  file,' '  capability,' \
		'  signal,' '  deny /etc/hostname r,' '}' >"$BATS_TEST_TMPDIR/profile"
	apparmor_parser -Q -S "$BATS_TEST_TMPDIR/profile" >"$dir/scripts/launcher-test.bin" 2>/dev/null
	cat >"$dir/scripts/profile.sh" <<'EOF'
mount -t securityfs securityfs /sys/kernel/security
cat /scripts/launcher-test.bin >/sys/kernel/security/apparmor/.load
cat /sys/kernel/security/apparmor/profiles
export LAUNCHER_STATE=/tmp/records # busybox's tree has no /run
/launcher --rm --security-opt apparmor=launcher-test /images/busybox.tar sh -c 'cat /proc/self/attr/apparmor/current; cat /etc/hostname || echo denied'; echo "status $?"
/launcher run -d --name confined --security-opt apparmor=launcher-test /images/busybox.tar sleep 30 >/dev/null
/launcher exec confined sh -c 'cat /proc/self/attr/apparmor/current; cat /etc/hostname || echo exec denied'
/launcher rm -f confined >/dev/null
/launcher --rm /images/busybox.tar cat /proc/self/attr/apparmor/current
EOF
	with_files
	boot "--privileged -v /init:/launcher:ro -v /images:/images -v /scripts:/scripts /images/busybox.tar sh /scripts/profile.sh"
	assert_success
	assert_line "launcher-test (enforce)"
	assert_equal "$(grep -c '^launcher-test (enforce)$' <<<"$output")" 3 # the list of profiles, the entrypoint, exec's
	assert_line "cat: can't open '/etc/hostname': Permission denied"
	assert_line denied
	assert_line "exec denied"
	assert_line "status 0"
	assert_line "unconfined" # without the option: none
	assert_line "launcher: exit status 0"
}

@test "vm: SELinux active (security=selinux, permissive without a policy): label=disable runs, another label is refused in one line, exit 125; AppArmor is then absent and noted" {
	mkdir -p "$BATS_TEST_TMPDIR/extra/scripts"
	cat >"$BATS_TEST_TMPDIR/extra/scripts/selinux.sh" <<'EOF'
mount -t selinuxfs selinuxfs /sys/fs/selinux && echo "enforce $(cat /sys/fs/selinux/enforce)"
/launcher --rm --security-opt label=disable /images/busybox.tar echo ran; echo "status $?"
/launcher --rm --security-opt label=type:spc_t /images/busybox.tar echo ran-type; echo "status $?"
/launcher --rm --security-opt apparmor=unconfined /images/busybox.tar true; echo "status $?"
EOF
	with_files
	VM_KERNEL_ARGS=security=selinux boot "--privileged -v /init:/launcher:ro -v /images:/images -v /scripts:/scripts /images/busybox.tar sh /scripts/selinux.sh"
	assert_success
	assert_line "enforce 0"
	assert_line ran
	assert_line "launcher: --security-opt label=type:spc_t: the launcher sets no SELinux labels; only label=disable is accepted"
	assert_line "status 125"
	refute_line ran-type
	assert_line "launcher: note: --security-opt apparmor=unconfined: this host has no AppArmor; the container runs without it"
	assert_equal "$(grep -c '^status 0$' <<<"$output")" 2
	assert_line "launcher: exit status 0"
}
