#!/bin/sh
# pack.sh OUTDIR [IMAGE...]: builds images as `docker save` archives (legacy layout:
# manifest.json, <config-sha256>.json, <layer-id>/{VERSION,json,layer.tar}, repositories).
# Every byte is fixed by this script: names sorted, owners numeric, times set to EPOCH, so
# two builds give identical archives.
#   IMAGE: hello, busybox (the demo images, the default), bench (busybox and the bench
#   tool), big (busybox and the tree in $BIG_LAYER_DIR, for the unpacking benchmark).
set -eu
out=$(cd "${1:-.}" && pwd)
shift || true
images=${*:-hello busybox}
src=$(cd "$(dirname "$0")" && pwd)
EPOCH=1704067200 # 2024-01-01T00:00:00Z
CREATED=2024-01-01T00:00:00Z
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 022

# tar_dir DIR OUT: a reproducible ustar archive of DIR's contents, without a "./" prefix.
tar_dir() {
	(cd "$1" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort) >"$work/list"
	tar --format=ustar --numeric-owner --mtime=@$EPOCH --no-recursion \
		-C "$1" -cf "$2" -T "$work/list"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# save NAME TAG CONFIG_JSON_FRAGMENT LAYERDIR...: writes OUT/NAME.tar.
save() {
	name=$1 tag=$2 cfg=$3
	shift 3
	img="$work/$name.img"
	mkdir -p "$img"
	diff_ids="" layers="" parent="" history=""
	for dir in "$@"; do
		tar_dir "$dir" "$work/layer.tar"
		diff=$(sha "$work/layer.tar")
		# The legacy layer id chains the parent's id and this layer's content.
		id=$(printf '%s %s' "$parent" "$diff" | sha256sum | cut -d' ' -f1)
		mkdir -p "$img/$id"
		mv "$work/layer.tar" "$img/$id/layer.tar"
		printf '1.0' >"$img/$id/VERSION"
		printf '{"id":"%s"%s,"created":"%s"}' "$id" "${parent:+,\"parent\":\"$parent\"}" "$CREATED" >"$img/$id/json"
		diff_ids="$diff_ids${diff_ids:+,}\"sha256:$diff\""
		layers="$layers${layers:+,}\"$id/layer.tar\""
		history="$history${history:+,}{\"created\":\"$CREATED\",\"created_by\":\"images/pack.sh\"}"
		parent=$id
	done
	printf '{"architecture":"amd64","os":"linux","created":"%s","config":%s,"rootfs":{"type":"layers","diff_ids":[%s]},"history":[%s]}' \
		"$CREATED" "$cfg" "$diff_ids" "$history" >"$work/config.json"
	config=$(sha "$work/config.json")
	mv "$work/config.json" "$img/$config.json"
	printf '[{"Config":"%s.json","RepoTags":["%s:%s"],"Layers":[%s]}]' "$config" "$name" "$tag" "$layers" >"$img/manifest.json"
	printf '{"%s":{"%s":"%s"}}' "$name" "$tag" "$parent" >"$img/repositories"
	find "$img" -exec touch -h -d @$EPOCH {} +
	tar_dir "$img" "$out/$name.tar.tmp"
	mv "$out/$name.tar.tmp" "$out/$name.tar"
}

# hello: one layer, one static binary without libc.
build_hello() {
	mkdir -p "$work/hello"
	gcc -Os -static -nostdlib -fno-pie -no-pie -fno-asynchronous-unwind-tables -fno-stack-protector \
		-Wl,--build-id=none -Wl,-n -s -o "$work/hello/hello" "$src/hello.c"
	save hello latest '{"Entrypoint":["/hello"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}' "$work/hello"
}

# busybox, layer 1: busybox-static and its applets, users, files to delete and hide.
busybox_layer1() {
	l1="$work/bb1"
	[ -d "$l1" ] && return
	mkdir -p "$l1/bin" "$l1/etc" "$l1/data" "$l1/opt/dir/sub" "$l1/home/user" "$l1/root" "$l1/tmp" \
		"$l1/proc" "$l1/sys" "$l1/dev"
	cp /bin/busybox "$l1/bin/busybox"
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -s busybox "$l1/bin/$applet"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$l1/etc/passwd"
	printf 'root:x:0:\ntty:x:5:\nusers:x:100:user\nuser:x:1000:\nnogroup:x:65534:\n' >"$l1/etc/group"
	printf 'hello from layer 1\n' >"$l1/data/hello.txt"
	ln "$l1/data/hello.txt" "$l1/data/hardlink.txt"
	ln -s hello.txt "$l1/data/symlink.txt"
	printf 'this file is deleted by layer 2\n' >"$l1/data/secret.txt"
	printf 'owned by user 1000\n' >"$l1/data/owned.txt"
	chown 1000:1000 "$l1/data/owned.txt" "$l1/home/user"
	chmod 0640 "$l1/data/owned.txt"
	printf 'old content, hidden by layer 2\n' >"$l1/opt/dir/old.txt"
	printf 'old content, hidden by layer 2\n' >"$l1/opt/dir/sub/old2.txt"
	chmod 0700 "$l1/root"
	chmod 1777 "$l1/tmp"
}

BUSYBOX_CONFIG='{"Env":["PATH=/bin:/usr/bin:/sbin:/usr/sbin","GREETING=hello from the image config"],"WorkingDir":"/data","Cmd":["sh"]}'

# busybox, layer 2: a whiteout and an opaque directory.
build_busybox() {
	busybox_layer1
	l2="$work/bb2"
	mkdir -p "$l2/data" "$l2/opt/dir"
	: >"$l2/data/.wh.secret.txt"
	: >"$l2/opt/dir/.wh..wh..opq"
	printf 'new content from layer 2\n' >"$l2/opt/dir/new.txt"
	save busybox latest "$BUSYBOX_CONFIG" "$l1" "$l2"
}

# bench: busybox and /benchtool (orphan reaping, SIGTERM latency).
build_bench() {
	busybox_layer1
	mkdir -p "$work/tool"
	musl-gcc -O2 -static -s -o "$work/tool/benchtool" "$src/../bench/benchtool.c"
	save bench latest "$BUSYBOX_CONFIG" "$l1" "$work/tool"
}

# big: busybox and a large generated tree, for the unpacking benchmark.
build_big() {
	busybox_layer1
	save big latest "$BUSYBOX_CONFIG" "$l1" "${BIG_LAYER_DIR:?BIG_LAYER_DIR names the tree}"
}

for image in $images; do
	"build_$image"
done
