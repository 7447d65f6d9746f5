# The OCI runtime mode's helpers (tests/oci.bats): a busybox bundle made once per file,
# config.json edited by a line of python, runc's command line against a state root of the
# test's own, and the after-every-test check widened to what a runtime leaves: its cgroups
# (/launcher.ID under every hierarchy), its records, the processes in those cgroups.

# Once per file: busybox.tar's layers extracted in order (a docker-save archive) into
# $BATS_FILE_TMPDIR/rootfs, and runc's default config.json beside it. Ids start with
# $OCI_PREFIX, so that this file's cgroups are told from another agent's.
oci_setup_file() {
	export OCI_FILE=$BATS_FILE_TMPDIR
	export OCI_PREFIX=cf$$
	mkdir "$OCI_FILE/rootfs"
	local layer
	for layer in $(tar -xOf "$BUSYBOX" manifest.json | python3 -SI -c 'import json, sys; print(*json.load(sys.stdin)[0]["Layers"])'); do
		tar -xOf "$BUSYBOX" "$layer" | tar -x -C "$OCI_FILE/rootfs"
	done
	(cd "$OCI_FILE" && runc spec)
	# No terminal, a writable root: each test asks for more where it checks it. The
	# template's args are a word make_bundle replaces.
	oci_edit "$OCI_FILE" 'c["process"]["terminal"] = False; c["root"]["readonly"] = False'
	python3 -SI - "$OCI_FILE" <<-'EOF'
		import json, sys
		d = sys.argv[1]
		c = json.load(open(d + "/config.json"))
		c["process"]["args"] = "@ARGS@"
		text = json.dumps(c, indent=1).replace('"args": "@ARGS@"', '"args": @ARGS@')
		open(d + "/config.template", "w").write(text + "\n")
	EOF
	# The first `ip netns add` on a machine mounts /run/netns and leaves it (check.sh does
	# the same): done here, before any test takes its picture of the host.
	ip netns add "$OCI_PREFIX-probe" && ip netns delete "$OCI_PREFIX-probe"
}

# oci_edit DIR PYTHON: runs PYTHON with c bound to DIR/config.json's object, writes it back.
# A second argument is given as `arg` (a string) for values that hold quotes.
oci_edit() {
	python3 -SI - "$1/config.json" "$2" "${3-}" <<-'EOF'
		import json, sys
		path, code, arg = sys.argv[1:4]
		with open(path) as f:
		    c = json.load(f)
		exec(code)
		with open(path, "w") as f:
		    json.dump(c, f, indent=1)
	EOF
}

# json_string TEXT: TEXT as a JSON string, quotes included (no python: even with -SI it takes 0.1 s to
# start on a loaded machine, and most tests need no more than this).
json_string() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\n'/\\n}
	s=${s//$'\t'/\\t}
	printf '"%s"' "$s"
}

# make_bundle DIR [SCRIPT]: a bundle of its own (the rootfs copied, so a test may change
# it), its process `sh -c SCRIPT` when one is given.
make_bundle() {
	mkdir -p "$1"
	cp -a "$OCI_FILE/rootfs" "$1/rootfs"
	if [ $# -lt 2 ]; then
		cp "$OCI_FILE/config.json" "$1/config.json"
	else
		oci_args "$1" sh -c "$2"
	fi
}

# oci_args DIR ARGS...: config.json made again with the process's args exactly these
# words (before any oci_edit of DIR: it starts from the template).
oci_args() {
	local dir=$1 args="" w text
	shift
	for w in "$@"; do args+=${args:+,}$(json_string "$w"); done
	text=$(<"$OCI_FILE/config.template")
	printf '%s\n' "${text/@ARGS@/"[$args]"}" >"$dir/config.json"
}

oci_setup() {
	common_setup
	STATE=$BATS_TEST_TMPDIR/state
	B=$BATS_TEST_TMPDIR/bundle
	ID=$OCI_PREFIX-$BATS_TEST_NUMBER
}

# run_refused PYTHON WORDS: $B's config.json edited by PYTHON (as oci_edit), then `run`
# refused: exit 1, WORDS in its line.
run_refused() {
	oci_edit "$B" "$1"
	run -1 rt run --bundle "$B" "$ID"
	assert_output --partial "$2"
}

# rt ARGS...: the launcher as runc, on this test's state root.
rt() { "$LAUNCHER" --root "$STATE" "$@"; }

# oci_create ID [FLAGS...]: create from $B, the process's stdio in $BATS_TEST_TMPDIR/ID.out
# (a pipe would keep `run` waiting for as long as the container lives).
oci_create() {
	local id=$1
	shift
	rt create --bundle "$B" "$@" "$id" </dev/null >"$BATS_TEST_TMPDIR/$id.out" 2>&1
}

# state_field ID FIELD: a number or string field of what `state` prints.
state_field() {
	local s
	s=$(rt state "$1") || return 1
	[[ $s =~ \"$2\":\"?([^\",]*) ]] || { echo "no $2 in $s" >&2; return 1; }
	echo "${BASH_REMATCH[1]}"
}

status_of() { state_field "$1" status; }

# wait_status ID STATUS: at most 10 s.
wait_status() {
	local s
	for _ in $(seq 100); do
		s=$(status_of "$1")
		[ "$s" = "$2" ] && return 0
		sleep 0.1
	done
	echo "container $1 is $s, not $2" >&2
	return 1
}

# cgroup_dir CONTROLLER ID: the container's directory of a v1 controller (or "unified").
cgroup_dir() { echo "/sys/fs/cgroup/$1/launcher.$2"; }

# What a runtime leaves on the host beyond host_state's picture: this file's cgroups, the
# processes still in them.
oci_leftovers() {
	ls -d /sys/fs/cgroup/launcher."$OCI_PREFIX"-* /sys/fs/cgroup/*/launcher."$OCI_PREFIX"-* 2>/dev/null || true
	grep -l "/launcher.$OCI_PREFIX-" /proc/[0-9]*/cgroup 2>/dev/null | sed 's|/cgroup$||' || true
}

oci_teardown() {
	local failed=0 id left
	# A record left is a failure; it is deleted so that the next test starts clean.
	if [ -n "$(ls "$STATE" 2>/dev/null)" ]; then
		echo "records left under $STATE: $(ls "$STATE")" >&2
		failed=1
		for id in $(ls "$STATE"); do
			"$LAUNCHER" --root "$STATE" delete --force "$id" >/dev/null 2>&1 || true
		done
	fi
	for _ in $(seq 30); do
		left=$(oci_leftovers)
		[ -z "$left" ] && break
		sleep 0.1
	done
	if [ -n "$left" ]; then
		echo "left on the host: $left" >&2
		failed=1
	fi
	common_teardown || failed=1
	return "$failed"
}

# console_receiver SOCKET OUT: the engine's end of --console-socket (python, for recv_fds):
# takes one message with one descriptor, writes "fds N name NAME ptn N" to OUT (TIOCGPTN
# answers on a pty's master only), then everything read from the master, until the last
# slave closes. OUT.ready says it listens.
console_receiver() {
	python3 -SI - "$1" "$2" <<-'EOF'
		import fcntl, os, socket, struct, sys
		path, out = sys.argv[1:3]
		s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		s.bind(path)
		s.listen(1)
		open(out + ".ready", "w").close()
		c, _ = s.accept()
		msg, fds, _, _ = socket.recv_fds(c, 1024, 4)
		log = open(out, "w")
		# TIOCGPTN answers on a pty's master only.
		ptn = struct.unpack("I", fcntl.ioctl(fds[0], 0x80045430, b"\0" * 4))[0]
		log.write(f"fds {len(fds)} name {msg.decode()} ptn {ptn}\n")
		log.flush()
		while True:
		    try:
		        data = os.read(fds[0], 4096)
		    except OSError:
		        break
		    if not data:
		        break
		    log.write(data.decode(errors="replace").replace("\r", ""))
		    log.flush()
	EOF
}

# wait_file PATH: at most 10 s.
wait_file() {
	for _ in $(seq 200); do [ -e "$1" ] && return 0; sleep 0.05; done
	echo "timed out waiting for $1" >&2
	return 1
}
