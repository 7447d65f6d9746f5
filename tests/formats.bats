#!/usr/bin/env bats
# Image archives as other tools write them (skopeo, Docker 25+, OCI layouts with nested
# indexes, several images in one archive), gzip layers, digests, users and the layer cache.
load helpers

setup() { common_setup; }
teardown() {
	! mountpoint -q "$BATS_TEST_TMPDIR/small" || umount "$BATS_TEST_TMPDIR/small" # a failed "full cache" test's
	common_teardown
}

# What docker run shows of the busybox image: its Env and WorkingDir, the whiteouts of
# layer 2, the files of layer 1.
assert_busybox_semantics() {
	run "$LAUNCHER" "$@" sh -c 'echo "$GREETING"; pwd; ls /data; ls /opt/dir; id'
	assert_success
	assert_line "hello from the image config"
	assert_line "/data"
	assert_line "hello.txt"
	assert_line "new.txt"
	refute_output --partial secret.txt
	refute_output --partial old.txt
	assert_line --partial "uid=0(root) gid=0(root)"
}

@test "skopeo's oci-archive (gzip layers) and docker-archive run as docker would run them" {
	skopeo copy -q docker-archive:"$BUSYBOX" oci-archive:"$BATS_TEST_TMPDIR/oci.tar:busybox:latest"
	skopeo copy -q docker-archive:"$BUSYBOX" docker-archive:"$BATS_TEST_TMPDIR/docker.tar:busybox:latest"
	tar -xOf "$BATS_TEST_TMPDIR/oci.tar" index.json | grep -q 'image.manifest'
	run "$LAUNCHER" --verbose "$BATS_TEST_TMPDIR/oci.tar" true
	assert_success
	assert_output --partial "read image $BATS_TEST_TMPDIR/oci.tar busybox:latest: 2 layers"
	assert_busybox_semantics "$BATS_TEST_TMPDIR/oci.tar"
	assert_busybox_semantics "$BATS_TEST_TMPDIR/docker.tar"
	assert_busybox_semantics --no-cache "$BATS_TEST_TMPDIR/oci.tar"
	assert_busybox_semantics --storage copy "$BATS_TEST_TMPDIR/oci.tar"
}

@test "umoci's OCI layout: its gzip layers and the whiteouts of its own diff run as docker would" {
	cd "$BATS_TEST_TMPDIR"
	umoci init --layout oci
	umoci new --image oci:t
	umoci unpack --image oci:t b1 >/dev/null
	layer1=$(tar -xOf "$BUSYBOX" manifest.json | sed 's/.*"Layers":\["\([^"]*\)".*/\1/')
	tar -xOf "$BUSYBOX" "$layer1" | tar -x -C b1/rootfs
	umoci repack --image oci:t b1
	umoci unpack --image oci:t b2 >/dev/null
	# umoci writes the second layer's deletions as whiteouts, the replaced directory as opaque
	rm b2/rootfs/data/secret.txt
	rm -r b2/rootfs/opt/dir && mkdir b2/rootfs/opt/dir && echo new >b2/rootfs/opt/dir/new.txt
	umoci repack --image oci:t b2
	umoci config --image oci:t --config.env GREETING=umoci --config.workingdir /data --config.user user --config.cmd sh
	tar -C oci -cf umoci.tar .
	cd "$ROOT"
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/umoci.tar" sh -c 'echo "$GREETING"; pwd; id -un; ls /data /opt/dir'
	assert_success
	assert_output "$(printf 'umoci\n/data\nuser\n/data:\nhardlink.txt\nhello.txt\nowned.txt\nsymlink.txt\n\n/opt/dir:\nnew.txt')"
}

@test "Docker 25+ archives and OCI layouts with a nested index pick linux/amd64" {
	python3 tests/fixtures.py oci "$BUSYBOX" "$BATS_TEST_TMPDIR/d25.tar" --docker25
	tar -tf "$BATS_TEST_TMPDIR/d25.tar" | grep -qx manifest.json
	tar -tf "$BATS_TEST_TMPDIR/d25.tar" | grep -qx oci-layout
	assert_busybox_semantics "$BATS_TEST_TMPDIR/d25.tar"
	python3 tests/fixtures.py oci "$BUSYBOX" "$BATS_TEST_TMPDIR/nested.tar" --nested --gzip
	assert_busybox_semantics "$BATS_TEST_TMPDIR/nested.tar"
	assert_busybox_semantics --image busybox:latest "$BATS_TEST_TMPDIR/nested.tar"
	run "$LAUNCHER" --image docker.io/library/busybox "$BATS_TEST_TMPDIR/nested.tar" true
	assert_success
}

@test "several images in one archive: FILE:REF or --image chooses, and the choices are listed" {
	python3 tests/fixtures.py multi "$BATS_TEST_TMPDIR/two.tar" "$BUSYBOX:busybox:1" "$HELLO:hello:2"
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/two.tar"
	assert_failure 125
	assert_output "launcher: image $BATS_TEST_TMPDIR/two.tar: holds 2 images (busybox:1, hello:2): choose one with --image or FILE:NAME"
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/two.tar:hello:2"
	assert_success
	assert_output --partial "Hello from a container"
	run "$LAUNCHER" --image busybox:1 "$BATS_TEST_TMPDIR/two.tar" echo chosen
	assert_output "chosen"
	run "$LAUNCHER" --image nginx "$BATS_TEST_TMPDIR/two.tar"
	assert_failure 125
	assert_output "launcher: image $BATS_TEST_TMPDIR/two.tar: has no image nginx (it holds busybox:1, hello:2)"
}

@test "digests: a layer or config that differs from its digest is refused, and nothing is cached" {
	dir=$BATS_TEST_TMPDIR/img
	mkdir "$dir"
	tar -xf "$BUSYBOX" -C "$dir"
	layer2=$(tar -xOf "$BUSYBOX" manifest.json | sed 's/.*"Layers":\["[^"]*","\([^"]*\)".*/\1/')
	tar -C "$dir" -cf "$dir/$layer2" --owner=0 --group=0 manifest.json # a valid tar, other content
	tar -C "$dir" -cf "$BATS_TEST_TMPDIR/lying.tar" .
	mkdir "$BATS_TEST_TMPDIR/out"
	for flags in "" "--no-cache" "--storage copy"; do
		# Without the cache the container unpacks while the host hashes: its command must
		# not run all the same.
		run "$LAUNCHER" $flags -v "$BATS_TEST_TMPDIR/out:/out" "$BATS_TEST_TMPDIR/lying.tar" touch /out/ran
		assert_failure 125
		assert_output --regexp "^launcher: layer 2 \(.*layer.tar\): the layer has digest sha256:[0-9a-f]{64}, expected sha256:[0-9a-f]{64}$"
		[ ! -e "$BATS_TEST_TMPDIR/out/ran" ]
	done
	[ -z "$(ls "$LAUNCHER_ROOT/layers" | grep -v "$(tar -xOf "$BUSYBOX" "$(image_id "$BUSYBOX").json" | grep -o 'sha256:[0-9a-f]*' | head -1 | cut -c8-)")" ]

	python3 tests/fixtures.py oci "$BUSYBOX" "$BATS_TEST_TMPDIR/oci.tar" --gzip
	mkdir "$BATS_TEST_TMPDIR/o" && tar -xf "$BATS_TEST_TMPDIR/oci.tar" -C "$BATS_TEST_TMPDIR/o"
	cfg=$(ls -S "$BATS_TEST_TMPDIR"/o/blobs/sha256 | tail -1)
	for blob in "$BATS_TEST_TMPDIR"/o/blobs/sha256/*; do
		grep -q '"diff_ids"' "$blob" 2>/dev/null && sed -i 's/image config/imagE config/' "$blob"
	done
	tar -C "$BATS_TEST_TMPDIR/o" -cf "$BATS_TEST_TMPDIR/badcfg.tar" .
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/badcfg.tar" true
	assert_failure 125
	assert_output --regexp "^launcher: image .*: blobs/sha256/[0-9a-f]{64}: content has digest sha256:[0-9a-f]{64}, its name says [0-9a-f]{64}$"

	# A manifest naming a blob the archive lacks.
	rm -rf "$BATS_TEST_TMPDIR/o" && mkdir "$BATS_TEST_TMPDIR/o" && tar -xf "$BATS_TEST_TMPDIR/oci.tar" -C "$BATS_TEST_TMPDIR/o"
	rm "$(ls -S "$BATS_TEST_TMPDIR"/o/blobs/sha256/* | head -1)"
	tar -C "$BATS_TEST_TMPDIR/o" -cf "$BATS_TEST_TMPDIR/noblob.tar" .
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/noblob.tar" true
	assert_failure 125
	assert_output --regexp "^launcher: image .*: blobs/sha256/[0-9a-f]{64} is missing \(named by digest sha256:[0-9a-f]{64}\)$"
}

@test "digests: a compressed layer is checked by its decoded tar against its diff_id, not by its blob's digest, as docker load" {
	# A blob under its manifest digest that decodes to another tar (a file's byte changed):
	# refused with one line, by the uncompressed tar's digest; nothing cached.
	for z in --gzip --zstd; do
		python3 tests/fixtures.py reblob "$BUSYBOX" "$BATS_TEST_TMPDIR/other.tar" other $z
		for flags in "" "--no-cache"; do
			rm -rf "$LAUNCHER_ROOT"
			run "$LAUNCHER" $flags "$BATS_TEST_TMPDIR/other.tar" true
			assert_failure 125
			assert_output --regexp "^launcher: layer 1 \(blobs/sha256/[0-9a-f]{64}\): the uncompressed layer has digest sha256:[0-9a-f]{64}, expected sha256:[0-9a-f]{64}$"
			[ -z "$(ls -A "$LAUNCHER_ROOT/layers" 2>/dev/null)" ]
		done
	done
	# A blob whose digest is not the manifest's but that decodes to the diff_id (another
	# mtime in the gzip header): run, and cached under its diff_id, as docker load does
	# (it checks diff_ids only): what enters the cache is the tar its config names.
	python3 tests/fixtures.py reblob "$BUSYBOX" "$BATS_TEST_TMPDIR/header.tar" header
	rm -rf "$LAUNCHER_ROOT"
	assert_busybox_semantics "$BATS_TEST_TMPDIR/header.tar"
	assert_busybox_semantics --no-cache "$BATS_TEST_TMPDIR/header.tar"
	run -0 "$LAUNCHER" --verbose "$BATS_TEST_TMPDIR/header.tar" true
	assert_line --regexp '^launcher: +[0-9.]+ ms  layer 1 \(blobs/sha256/[0-9a-f]{64}\): in the cache$'
}

@test "gzip and others: a corrupt gzip layer, an unknown compression fail with one line" {
	python3 tests/fixtures.py oci "$BUSYBOX" "$BATS_TEST_TMPDIR/oci.tar" --gzip
	mkdir "$BATS_TEST_TMPDIR/o" && tar -xf "$BATS_TEST_TMPDIR/oci.tar" -C "$BATS_TEST_TMPDIR/o"
	big=$(ls -S "$BATS_TEST_TMPDIR"/o/blobs/sha256/* | head -1)
	# Flip a byte in the middle, then rename the blob (and its descriptors) to its new digest,
	# so that only inflate can tell.
	old=$(basename "$big")
	printf 'x' | dd of="$big" bs=1 seek=300000 conv=notrunc status=none
	new=$(sha256sum "$big" | cut -c1-64)
	mv "$big" "$BATS_TEST_TMPDIR/o/blobs/sha256/$new"
	for m in "$BATS_TEST_TMPDIR"/o/blobs/sha256/*; do
		grep -q "$old" "$m" 2>/dev/null || continue
		sed -i "s/$old/$new/" "$m"
		nm=$(sha256sum "$m" | cut -c1-64); om=$(basename "$m")
		mv "$m" "$BATS_TEST_TMPDIR/o/blobs/sha256/$nm"
		sed -i "s/$om/$nm/" "$BATS_TEST_TMPDIR/o/index.json"
	done
	tar -C "$BATS_TEST_TMPDIR/o" -cf "$BATS_TEST_TMPDIR/badgz.tar" .
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/badgz.tar" true
	assert_failure 125
	assert_output --regexp "^launcher: layer 1 \(blobs/sha256/$new\): (bad Huffman code|bad deflate block|back-reference before the start of the data|CRC-32 mismatch|length mismatch) at byte [0-9]+ of the compressed layer$"

	python3 tests/fixtures.py media "$BUSYBOX" "$BATS_TEST_TMPDIR/bzip2.tar" application/vnd.oci.image.layer.v1.tar+bzip2
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/bzip2.tar" true
	assert_failure 125
	assert_output --regexp '^launcher: layer 2 \(blobs/sha256/[0-9a-f]{64}\): unsupported media type application/vnd.oci.image.layer.v1.tar\+bzip2$'
}

# An image of busybox and a layer of one 40 MB file of zeros and a small one, compressed.
big_zero_image() {
	mkdir -p "$BATS_TEST_TMPDIR/tree/z"
	head -c 40000000 /dev/zero >"$BATS_TEST_TMPDIR/tree/z/zeros"
	echo small >"$BATS_TEST_TMPDIR/tree/z/small"
	BIG_LAYER_DIR=$BATS_TEST_TMPDIR/tree images/pack.sh "$BATS_TEST_TMPDIR" big
	python3 tests/fixtures.py oci "$BATS_TEST_TMPDIR/big.tar" "$BATS_TEST_TMPDIR/bigz.tar" --gzip
	python3 tests/fixtures.py oci "$BATS_TEST_TMPDIR/big.tar" "$BATS_TEST_TMPDIR/bigzst.tar" --zstd
}

@test "both cores: a compressed layer is unpacked as it is decoded; decoded first under a file size limit; a full cache fails with one line" {
	big_zero_image
	for img in bigz bigzst; do
		rm -rf "$LAUNCHER_ROOT"
		run -0 "$LAUNCHER" --verbose "$BATS_TEST_TMPDIR/$img.tar" sh -c 'wc -c </z/zeros; cat /z/small'
		assert_line --regexp '^launcher: +[0-9.]+ ms  unpacked layer 2 \(blobs/sha256/[0-9a-f]{64}\) into the cache as it was decoded: [0-9]+ entries, 40000006 bytes$'
		assert_line 40000000
		assert_line small
	done
	# RLIMIT_FSIZE below the decoder's ring (a memfd of 8 MiB) would be SIGXFSZ: the layer is
	# decoded into its temporary file first, as before.
	rm -rf "$LAUNCHER_ROOT"
	python3 tests/fixtures.py oci "$BUSYBOX" "$BATS_TEST_TMPDIR/busyboxz.tar" --gzip
	run -0 bash -c 'ulimit -f 4096 && exec "$@"' sh "$LAUNCHER" --verbose "$BATS_TEST_TMPDIR/busyboxz.tar" echo ran
	assert_line --regexp 'unpacked layer 2 \(blobs/sha256/[0-9a-f]{64}\) into the cache: [0-9]+ entries'
	assert_line ran
	# A cache too small for the layer: one line naming the file that did not fit (the
	# decoded stream never goes to the cache's file system), nothing of layer 2 kept.
	mkdir "$BATS_TEST_TMPDIR/small"
	mount -t tmpfs -o size=16m launcher-test-small "$BATS_TEST_TMPDIR/small"
	for img in bigz bigzst; do
		LAUNCHER_ROOT=$BATS_TEST_TMPDIR/small/cache run -125 "$LAUNCHER" "$BATS_TEST_TMPDIR/$img.tar" true
		assert_output --regexp '^launcher: layer 2 \(blobs/sha256/[0-9a-f]{64}\): write /z/zeros: No space left on device$'
		[ "$(ls "$BATS_TEST_TMPDIR/small/cache/layers" | grep -vc '\.info$')" = 1 ] # busybox's layer alone
		rm -rf "$BATS_TEST_TMPDIR/small/cache"
	done
	umount "$BATS_TEST_TMPDIR/small"
}

@test "both cores: an entry whose headers would not fit in the decoder's ring is refused with one line, nothing of it cached" {
	dir=$BATS_TEST_TMPDIR/img
	mkdir "$dir"
	tar -xf "$BUSYBOX" -C "$dir"
	layer2=$(tar -xOf "$BUSYBOX" manifest.json | sed 's/.*"Layers":\["[^"]*","\([^"]*\)".*/\1/')
	python3 -c '
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    i = tarfile.TarInfo("big-headers")
    i.size = 1
    i.pax_headers = {"comment": "x" * (9 << 20)}
    t.addfile(i, io.BytesIO(b"y"))
' "$dir/$layer2"
	hex=$(sha256sum "$dir/$layer2" | cut -c1-64)
	python3 tests/fixtures.py redigest "$dir"
	tar -C "$dir" -cf "$BATS_TEST_TMPDIR/headers.tar" .
	for c in gzip zstd; do
		python3 tests/fixtures.py oci "$BATS_TEST_TMPDIR/headers.tar" "$BATS_TEST_TMPDIR/headers-$c.tar" --$c
		run -125 "$LAUNCHER" "$BATS_TEST_TMPDIR/headers-$c.tar" true
		assert_output --regexp '^launcher: layer 2 \(blobs/sha256/[0-9a-f]{64}\): entry at byte 0: its headers take over 7 MiB$'
		[ -z "$(ls "$LAUNCHER_ROOT/layers" | grep "$hex")" ]
	done
}

@test "both cores: a big plain layer, unpacked by two processes, is the tree GNU tar makes of it" {
	gcc -O2 -o "$BATS_TEST_TMPDIR/genlayer" bench/genlayer.c
	t=$BATS_TEST_TMPDIR/tree
	"$BATS_TEST_TMPDIR/genlayer" "$t" 600 12 >/dev/null # 12 MB: over the 8 MiB from which two unpack
	# Owners, set-id bits, a read-only directory with files, hard links across directories
	# (the other process's files among their targets), symlinks, whiteouts and an opaque
	# directory.
	chown -R 1234:567 "$t/d001"
	chown 0:42 "$t/d002/f00002" && chmod 4755 "$t/d002/f00002"
	chmod 2755 "$t/d002/f00202"
	for f in d004/f00004 d104/f00104 d004/f00204 d104/f00304; do ln "$t/$f" "$t/d005/hard-${f#*/}"; done
	ln -s ../d006/f00006 "$t/d007/sym" && ln -s /nowhere "$t/d007/dangling"
	touch "$t/d008/.wh.gone" "$t/d009/.wh..wh..opq"
	chmod 0555 "$t/d003"
	find "$t" -exec touch -h -d @1600000000 {} +
	tar --format=pax --numeric-owner -C "$t" -cf "$BATS_TEST_TMPDIR/layer.tar" .
	chmod 0755 "$t/d003"
	hostile_image split
	rm -rf "$LAUNCHER_ROOT"
	run -0 "$LAUNCHER" --verbose "$BATS_TEST_TMPDIR/split.tar" true
	assert_line --regexp 'unpacked layer 2 \([0-9a-f]{64}/layer.tar\) into the cache by two processes: 8[0-9]{2} entries, [0-9]+ bytes$'
	mkdir "$BATS_TEST_TMPDIR/ref"
	tar --numeric-owner -xpf "$BATS_TEST_TMPDIR/layer.tar" -C "$BATS_TEST_TMPDIR/ref"
	layer=$LAUNCHER_ROOT/layers/$(sha256sum "$BATS_TEST_TMPDIR/layer.tar" | cut -c1-64)
	listing() { # all but the whiteouts, which differ in form (below)
		cd "$1"
		find . -mindepth 1 ! -type d ! -name '.wh.*' ! -name gone -printf '%p %y %m %U %G %s %T@ %l %n\n' | LC_ALL=C sort
		find . -mindepth 1 -type d -printf '%p %m %U %G %T@\n' | LC_ALL=C sort
		find . -type f ! -name '.wh.*' -print0 | LC_ALL=C sort -z | xargs -0 md5sum
	}
	diff <(listing "$BATS_TEST_TMPDIR/ref") <(listing "$layer")
	[ -c "$layer/d008/gone" ] && [ ! -e "$layer/d008/.wh.gone" ] && [ ! -e "$layer/d009/.wh..wh..opq" ]
	[ "$(python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "trusted.overlay.opaque"))' "$layer/d009")" = "b'y'" ]
	# A cache too small for it: one line, whichever of the two ran out of room, nothing kept.
	mkdir "$BATS_TEST_TMPDIR/small"
	mount -t tmpfs -o size=10m launcher-test-small "$BATS_TEST_TMPDIR/small"
	LAUNCHER_ROOT=$BATS_TEST_TMPDIR/small/cache run -125 "$LAUNCHER" "$BATS_TEST_TMPDIR/split.tar" true
	assert_output --regexp '^launcher: layer 2 \([0-9a-f]{64}/layer.tar\): write /d[0-9]{3}/f[0-9]{5}: No space left on device$'
	[ "$(ls "$BATS_TEST_TMPDIR/small/cache/layers" | grep -vc '\.info$')" = 1 ] # busybox's layer alone
	umount "$BATS_TEST_TMPDIR/small"
}

@test "zstd: skopeo's oci-archive with zstd layers runs as docker would run it" {
	skopeo copy -q --dest-compress --dest-compress-format zstd docker-archive:"$BUSYBOX" oci-archive:"$BATS_TEST_TMPDIR/oci.tar:busybox:latest"
	magics=$(for b in $(tar -tf "$BATS_TEST_TMPDIR/oci.tar" | grep blobs/sha256/.); do
		tar -xOf "$BATS_TEST_TMPDIR/oci.tar" "$b" | od -An -N4 -tx1 | tr -d ' '
	done)
	[ "$(grep -c '^28b52ffd$' <<<"$magics")" = 2 ] # both layers are zstd
	run "$LAUNCHER" --verbose "$BATS_TEST_TMPDIR/oci.tar" true
	assert_success
	assert_output --regexp "unpacked layer 1 \(blobs/sha256/[0-9a-f]{64}\) into the cache"
	assert_busybox_semantics "$BATS_TEST_TMPDIR/oci.tar"
	assert_busybox_semantics --no-cache "$BATS_TEST_TMPDIR/oci.tar"
	assert_busybox_semantics --storage copy "$BATS_TEST_TMPDIR/oci.tar"
}

@test "zstd: levels 19 with --long and 1, two frames around a skippable one (zstd:chunked) run" {
	python3 tests/fixtures.py zstd "$BUSYBOX" "$BATS_TEST_TMPDIR/zstd.tar"
	assert_busybox_semantics --no-cache "$BATS_TEST_TMPDIR/zstd.tar"
	assert_busybox_semantics "$BATS_TEST_TMPDIR/zstd.tar"
}

@test "zstd: a corrupt layer (magic, table, checksum, truncated) is refused with the offset, and nothing cached" {
	for kind in magic table checksum truncated; do
		python3 tests/fixtures.py zstd "$BUSYBOX" "$BATS_TEST_TMPDIR/$kind.tar" $kind
	done
	for flags in "" "--no-cache"; do
		run "$LAUNCHER" $flags "$BATS_TEST_TMPDIR/magic.tar" true
		assert_failure 125
		assert_output --regexp '^launcher: layer 1 \(blobs/sha256/[0-9a-f]{64}\): not zstd data at byte 0 of the compressed layer$'
		run "$LAUNCHER" $flags "$BATS_TEST_TMPDIR/table.tar" true
		assert_failure 125
		assert_output --regexp '^launcher: layer 1 \(blobs/sha256/[0-9a-f]{64}\): bad zstd FSE or Huffman table at byte [1-9][0-9]* of the compressed layer$'
		run "$LAUNCHER" $flags "$BATS_TEST_TMPDIR/checksum.tar" true
		assert_failure 125
		assert_output --regexp '^launcher: layer 1 \(blobs/sha256/[0-9a-f]{64}\): zstd content checksum mismatch at byte [1-9][0-9]* of the compressed layer$'
		run "$LAUNCHER" $flags "$BATS_TEST_TMPDIR/truncated.tar" true
		assert_failure 125
		assert_output --regexp '^launcher: layer 1 \(blobs/sha256/[0-9a-f]{64}\): truncated zstd data at byte [1-9][0-9]* of the compressed layer$'
	done
	[ -z "$(ls "$LAUNCHER_ROOT/layers")" ]
}

@test "compressed archives: docker save | gzip and | zstd run as the plain archive; a corrupt one fails with one line" {
	gzip -c "$BUSYBOX" >"$BATS_TEST_TMPDIR/busybox.tar.gz"
	zstd -q -c "$BUSYBOX" >"$BATS_TEST_TMPDIR/busybox.tar.zst"
	assert_busybox_semantics "$BATS_TEST_TMPDIR/busybox.tar.gz"
	assert_busybox_semantics --no-cache "$BATS_TEST_TMPDIR/busybox.tar.zst"
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/busybox.tar.zst:busybox:latest" true
	assert_success
	head -c 100000 "$BATS_TEST_TMPDIR/busybox.tar.gz" >"$BATS_TEST_TMPDIR/cut.tar.gz"
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/cut.tar.gz" true
	assert_failure 125
	assert_output "launcher: image $BATS_TEST_TMPDIR/cut.tar.gz: truncated gzip data at byte 100000 of the compressed archive"
	gzip -c /dev/null >"$BATS_TEST_TMPDIR/empty.tar.gz"
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/empty.tar.gz" true
	assert_failure 125
	assert_output "launcher: image $BATS_TEST_TMPDIR/empty.tar.gz: not a tar archive"
}

@test "shared layers: a layer stored as a symlink or hard link to another image's runs; a layer listed twice is unpacked once" {
	python3 tests/fixtures.py shared "$BUSYBOX" "$BATS_TEST_TMPDIR/shared.tar"
	tar -tvf "$BATS_TEST_TMPDIR/shared.tar" | grep -q '^l.* -> \.\./[0-9a-f]*/layer.tar$'
	tar -tvf "$BATS_TEST_TMPDIR/shared.tar" | grep -q '^h.* link to [0-9a-f]*/layer.tar$'
	for flags in "--no-cache" "" "--storage copy"; do
		assert_busybox_semantics $flags "$BATS_TEST_TMPDIR/shared.tar:a:latest"
		assert_busybox_semantics $flags "$BATS_TEST_TMPDIR/shared.tar:b:latest"
		assert_busybox_semantics $flags "$BATS_TEST_TMPDIR/shared.tar:c:latest"
		run "$LAUNCHER" $flags "$BATS_TEST_TMPDIR/shared.tar:b:latest" sh -c 'echo $IMAGE'
		assert_output b
	done
	rm -rf "$LAUNCHER_ROOT"
	run "$LAUNCHER" --verbose "$BATS_TEST_TMPDIR/shared.tar:c:latest" true
	assert_success
	[ "$(grep -c 'unpacked layer .* into the cache' <<<"$output")" = 2 ]
	assert_output --regexp "layer 3 \([0-9a-f]{64}/layer.tar\): in the cache"
	run "$LAUNCHER" --verbose --no-cache "$BATS_TEST_TMPDIR/shared.tar:c:latest" true
	assert_success
	[ "$(grep -c 'unpacked layer' <<<"$output")" = 2 ]
	refute_output --partial "unpacked layer 2"
	# A link that climbs out of the archive, or names nothing in it, leaves the layer missing.
	mkdir "$BATS_TEST_TMPDIR/x" && tar -xf "$BATS_TEST_TMPDIR/shared.tar" -C "$BATS_TEST_TMPDIR/x"
	ln -sfn ../../../etc/passwd "$BATS_TEST_TMPDIR/x/$(printf '%064x' 1)/layer.tar"
	tar -C "$BATS_TEST_TMPDIR/x" -cf "$BATS_TEST_TMPDIR/climb.tar" .
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/climb.tar:b:latest" true
	assert_failure 125
	assert_output "launcher: image $BATS_TEST_TMPDIR/climb.tar: $(printf '%064x' 1)/layer.tar is missing (layer 1)"
}

@test "progress: a first start shows a line per layer on a terminal, none on a pipe unless --progress plain" {
	python3 tests/fixtures.py oci "$BUSYBOX" "$BATS_TEST_TMPDIR/oci.tar" --zstd # layer 1: 2 MB; layer 2: too small to show
	run script -qec "exec $LAUNCHER $BATS_TEST_TMPDIR/oci.tar true" /dev/null
	assert_success
	assert_output --regexp 'launcher: layer 1 \(blobs/sha256/[0-9a-f]{64}\): unpacked 2\.0 MB, [0-9]+ MB/s'
	refute_output --partial "layer 2"
	run script -qec "exec $LAUNCHER $BATS_TEST_TMPDIR/oci.tar true" /dev/null # in the cache: nothing to show
	assert_success
	refute_output --partial unpacked
	rm -rf "$LAUNCHER_ROOT"
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/oci.tar" true # stderr is a pipe
	assert_success
	assert_output ""
	rm -rf "$LAUNCHER_ROOT"
	run "$LAUNCHER" --progress plain "$BATS_TEST_TMPDIR/oci.tar" true
	assert_success
	assert_output --regexp '^launcher: layer 1 \(blobs/sha256/[0-9a-f]{64}\): unpacked 2\.0 MB, [0-9]+ MB/s$'
	rm -rf "$LAUNCHER_ROOT"
	run script -qec "exec $LAUNCHER --progress none $BATS_TEST_TMPDIR/oci.tar true" /dev/null
	assert_success
	assert_output ""
	run "$LAUNCHER" --progress bar "$BATS_TEST_TMPDIR/oci.tar" true
	assert_failure 125
	assert_output "launcher: flag --progress takes auto, plain or none"
	# A big gzip layer: while it inflates, its line is redrawn with the compressed bytes done.
	gcc -O2 -o "$BATS_TEST_TMPDIR/genlayer" bench/genlayer.c
	"$BATS_TEST_TMPDIR/genlayer" "$BATS_TEST_TMPDIR/tree" 300 30 >/dev/null
	tar -C "$BATS_TEST_TMPDIR/tree" -cf "$BATS_TEST_TMPDIR/big.tar" .
	mkdir "$BATS_TEST_TMPDIR/img" && tar -xf "$BUSYBOX" -C "$BATS_TEST_TMPDIR/img"
	layer2=$(tar -xOf "$BUSYBOX" manifest.json | sed 's/.*"Layers":\["[^"]*","\([^"]*\)".*/\1/')
	gzip -1 -c "$BATS_TEST_TMPDIR/big.tar" >"$BATS_TEST_TMPDIR/img/$layer2"
	python3 tests/fixtures.py redigest "$BATS_TEST_TMPDIR/img"
	tar -C "$BATS_TEST_TMPDIR/img" -cf "$BATS_TEST_TMPDIR/bigimg.tar" .
	rm -rf "$LAUNCHER_ROOT"
	run script -qec "exec $LAUNCHER $BATS_TEST_TMPDIR/bigimg.tar true" /dev/null
	assert_success
	assert_output --regexp $'\r\033\\[Klauncher: layer 2 \\([0-9a-f]{64}/layer.tar\\): decompressed [0-9]+\\.[0-9] of [0-9]+\\.[0-9] MB, [0-9]+ MB/s'
	assert_output --regexp 'launcher: layer 2 \([0-9a-f]{64}/layer.tar\): unpacked 30\.[0-9] MB, [0-9]+ MB/s'
}

@test "tar dialects: PAX and GNU long names, base-256 ids, devices, fifos, hard links and xattrs" {
	python3 - "$BATS_TEST_TMPDIR/layer.tar" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as t:
    def add(name, type=tarfile.REGTYPE, data=b'', pax=None, **kw):
        i = tarfile.TarInfo(name); i.type = type; i.size = len(data); i.mtime = 1700000000
        for k, v in kw.items(): setattr(i, k, v)
        if pax: i.pax_headers = pax
        t.addfile(i, io.BytesIO(data) if data else None)
    add('deep/' + 'd' * 120 + '/file', data=b'pax path\n')
    add('data/dev/fifo', tarfile.FIFOTYPE, mode=0o600)
    add('data/dev/null2', tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666)
    add('data/dev/loop9', tarfile.BLKTYPE, devmajor=7, devminor=9, mode=0o660)
    add('bin/ping2', data=b'#!/bin/sh\necho capable\n', mode=0o755,
        pax={'SCHILY.xattr.security.capability': '\x01\x00\x00\x02\x00\x20\x00\x00' + '\x00' * 12,
             'SCHILY.xattr.user.note': 'kept'})
    add('data/orig', data=b'linked\n')
    add('data/link', tarfile.LNKTYPE, linkname='data/orig')
# A GNU member: a long name (L record) and a uid only base-256 can hold.
gnu = io.BytesIO()
with tarfile.open(fileobj=gnu, mode='w', format=tarfile.GNU_FORMAT) as t:
    i = tarfile.TarInfo('gnu/' + 'g' * 150); i.size = 4; i.uid = 3000000000; i.gid = 5
    t.addfile(i, io.BytesIO(b'gnu\n'))
data = open(sys.argv[1], 'rb').read().rstrip(b'\0')
data = data + b'\0' * (-len(data) % 512)
open(sys.argv[1], 'wb').write(data + gnu.getvalue())
EOF
	hostile_image dialects
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/dialects.tar" sh -c '
		cat /deep/d*/file; stat -c "%F %t,%T %a" /data/dev/fifo /data/dev/null2 /data/dev/loop9 | sort
		stat -c "%h" /data/link; cat /data/link; cat /gnu/g*; stat -c "%u %g" /gnu/g*'
	assert_success
	assert_output "$(printf 'pax path\nblock special file 7,9 660\ncharacter special file 1,3 666\nfifo 0,0 600\n2\nlinked\ngnu\n3000000000 5')"
	# The xattrs, read on the host from the cached layer: security.capability and user.note.
	layer=$(ls "$LAUNCHER_ROOT"/layers/*/bin/ping2)
	run python3 -c "import os, sys; print(os.getxattr(sys.argv[1], 'user.note').decode()); print(os.getxattr(sys.argv[1], 'security.capability').hex())" "$layer"
	assert_output "$(printf 'kept\n0100000200200000000000000000000000000000')"
}

@test "users: the image's User, -u NAME, UID, NAME:GROUP, UID:GID, and supplementary groups" {
	run "$LAUNCHER" -u user "$BUSYBOX" sh -c 'id; echo $HOME'
	assert_success
	assert_line "uid=1000(user) gid=1000(user) groups=100(users),1000(user)"
	assert_line "/home/user"
	run "$LAUNCHER" -u 1000 "$BUSYBOX" id
	assert_output "uid=1000(user) gid=1000(user) groups=100(users),1000(user)"
	run "$LAUNCHER" -u user:nogroup "$BUSYBOX" id -g
	assert_output "65534"
	run "$LAUNCHER" -u 4242:4343 "$BUSYBOX" sh -c 'id -u; id -g; echo $HOME'
	assert_output "$(printf '4242\n4343\n/')"
	run "$LAUNCHER" -u nosuchuser "$BUSYBOX" true
	assert_failure 125
	assert_output "launcher: unable to find user nosuchuser: no matching entries in the image's /etc/passwd"
	run "$LAUNCHER" -u user:nosuchgroup "$BUSYBOX" true
	assert_failure 125
	assert_output "launcher: unable to find group nosuchgroup: no matching entries in the image's /etc/group"
	# As a user, no capability is effective: reading /root (0700, root's) is refused.
	run "$LAUNCHER" -u user "$BUSYBOX" sh -c 'ls /root; grep CapEff /proc/self/status'
	assert_output --partial "Permission denied"
	assert_output --partial "CapEff:	0000000000000000"

	# The image's own User applies unless -u overrides it.
	config_image user '"WorkingDir":"/data","User":"user"'
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/user.tar" id -u
	assert_output "1000"
	run "$LAUNCHER" -u root "$BATS_TEST_TMPDIR/user.tar" id -u
	assert_output "0"
}

@test "the cache: a second start unpacks nothing; --no-cache leaves it alone; ls and prune" {
	run "$LAUNCHER" --verbose "$BUSYBOX" true
	assert_success
	assert_output --partial "unpacked layer 1"
	assert_output --partial "into the cache"
	run "$LAUNCHER" --verbose "$BUSYBOX" true
	assert_success
	refute_output --partial "unpacked"
	assert_output --partial "layer 1 ("
	assert_output --partial "): in the cache"
	assert_output --partial "mounted overlay of 2 layers from the cache"

	run "$LAUNCHER" --cache-ls
	assert_success
	assert_equal "$(grep -c '^sha256:[0-9a-f]\{64\} .* unused$' <<<"$output")" 2

	# --no-cache and another --data-root: nothing new under LAUNCHER_ROOT.
	before=$(ls -R "$LAUNCHER_ROOT")
	run "$LAUNCHER" --verbose --no-cache "$HELLO"
	assert_success
	assert_output --partial "unpacked layer 1"
	refute_output --partial "cache"
	run "$LAUNCHER" --data-root "$BATS_TEST_TMPDIR/other" "$HELLO"
	assert_success
	[ "$(ls "$BATS_TEST_TMPDIR/other/layers" | grep -c '\.info$')" = 1 ]
	[ "$(ls -R "$LAUNCHER_ROOT")" = "$before" ]

	# A running container's layers are in use: prune passes over them.
	"$LAUNCHER" "$BUSYBOX" sh -c 'echo up; sleep 30' >"$BATS_TEST_TMPDIR/out" &
	pid=$!
	wait_for "$BATS_TEST_TMPDIR/out" up
	run "$LAUNCHER" --cache-ls
	assert_equal "$(grep -c ' in use$' <<<"$output")" 2
	run "$LAUNCHER" --cache-prune
	assert_output "0 removed, 2 in use"
	kill -TERM $pid
	wait $pid || true
	run "$LAUNCHER" --cache-prune
	assert_line "2 removed, 0 in use"
	[ -z "$(ls "$LAUNCHER_ROOT/layers")" ]
}

@test "the cache: two concurrent first starts both succeed; a crash's leftovers are never trusted" {
	# Each keeps running: one that waited for another's unpack must not wait for its end.
	for i in 1 2 3; do
		"$LAUNCHER" "$BUSYBOX" sh -c 'cat /data/hello.txt; exec sleep 30' >"$BATS_TEST_TMPDIR/out$i" 2>&1 &
		pids="$pids $!"
	done
	for i in 1 2 3; do wait_for "$BATS_TEST_TMPDIR/out$i" "hello from layer 1"; done
	kill -TERM $pids
	for p in $pids; do wait "$p" || true; done
	for i in 1 2 3; do assert_equal "$(cat "$BATS_TEST_TMPDIR/out$i")" "hello from layer 1"; done
	[ "$(ls "$LAUNCHER_ROOT/layers" | grep -c '\.info$')" = 2 ]

	# A launcher killed mid-unpack leaves HEX.partial: the next start empties and redoes it.
	"$LAUNCHER" --cache-prune >/dev/null
	hex=$(tar -xOf "$BUSYBOX" "$(image_id "$BUSYBOX").json" | grep -o 'sha256:[0-9a-f]*' | head -1 | cut -c8-)
	mkdir -p "$LAUNCHER_ROOT/layers/$hex.partial/bin"
	echo planted >"$LAUNCHER_ROOT/layers/$hex.partial/bin/planted"
	run "$LAUNCHER" "$BUSYBOX" sh -c 'ls /bin/planted 2>/dev/null || echo absent; cat /data/hello.txt'
	assert_success
	assert_output --partial "hello from layer 1"
	assert_line absent
	[ ! -e "$LAUNCHER_ROOT/layers/$hex.partial" ]

	# --cache-ls names such leftovers, and --cache-prune removes them.
	mkdir "$LAUNCHER_ROOT/layers/$hex.partial"
	run "$LAUNCHER" --cache-ls
	assert_line --regexp "^sha256:$hex +- +-  left by a crash$"
	run "$LAUNCHER" --cache-prune
	assert_line "removed sha256:$hex (partial)"
	[ ! -e "$LAUNCHER_ROOT/layers/$hex.partial" ]
}

@test "the cache: twenty concurrent first starts, twenty rounds over, all succeed" {
	# A launcher that looked for a layer just before another published it must use the
	# published one, not unpack a second copy that it then cannot publish.
	for round in $(seq 20); do
		export LAUNCHER_ROOT=$BATS_TEST_TMPDIR/cache$round
		for i in $(seq 20); do "$LAUNCHER" "$BUSYBOX" cat /data/hello.txt >"$BATS_TEST_TMPDIR/out$i" 2>&1 & done
		wait
		for i in $(seq 20); do assert_equal "round $round: $(cat "$BATS_TEST_TMPDIR/out$i")" "round $round: hello from layer 1"; done
		[ "$(ls "$LAUNCHER_ROOT/layers")" = "$(ls "$BATS_TEST_TMPDIR/cache1/layers")" ]
	done
}

@test "the cache: a prune killed midway leaves no half-removed layer under its digest" {
	# A layer of 100,000 empty files, so that removing it takes a while.
	python3 - "$BATS_TEST_TMPDIR/layer.tar" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1], 'w') as t:
    for d in range(100):
        i = tarfile.TarInfo('big/d%02d' % d); i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)
        for f in range(1000):
            i = tarfile.TarInfo('big/d%02d/f%03d' % (d, f)); i.mode = 0o644; t.addfile(i)
EOF
	hostile_image big
	hex=$(sha256sum "$BATS_TEST_TMPDIR/layer.tar" | cut -c1-64)
	layers=$LAUNCHER_ROOT/layers
	count() { find "$@" 2>/dev/null | wc -l; }
	# Rounds until the kill lands while the big layer is being removed (not before its
	# removal began, not after it ended).
	for round in 1 2 3 4 5; do
		run "$LAUNCHER" "$BATS_TEST_TMPDIR/big.tar" true
		assert_success
		[ "$(count "$layers/$hex" -type f)" = 100000 ]
		full=$(count "$layers")
		"$LAUNCHER" --cache-prune >"$BATS_TEST_TMPDIR/prune.out" 2>&1 &
		pid=$!
		# Begun: fewer files than busybox's own layer could account for.
		while kill -0 $pid 2>/dev/null && [ "$(count "$layers")" -gt $((full - 5000)) ]; do :; done
		kill -KILL $pid 2>/dev/null || true
		wait $pid || true
		left=$(count "$layers/$hex" "$layers/$hex.removing" -type f)
		echo "# round $round: $left of 100000 files left" >&3
		[ -e "$layers/$hex.removing" ] && break
		[ -e "$layers/$hex" ] && [ "$left" != 100000 ] && break
	done
	# The published name holds the whole layer or nothing.
	[ ! -e "$layers/$hex" ] || [ "$(count "$layers/$hex" -type f)" = 100000 ]
	[ -e "$layers/$hex.removing" ]
	run "$LAUNCHER" --cache-ls
	assert_success
	assert_line --regexp "^sha256:$hex +- +-  left by a crash$"
	# A start needing the layer unpacks it again, and every file is there.
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/big.tar" sh -c 'find /big -type f | wc -l'
	assert_success
	assert_output 100000
	[ "$(count "$layers/$hex" -type f)" = 100000 ]
	run "$LAUNCHER" --cache-prune
	assert_success
	assert_line "removed sha256:$hex (half removed)"
	assert_line "removed sha256:$hex"
	[ -z "$(ls "$layers")" ]
}

@test "hostile archives: absolute paths, dot symlinks, hard links and whiteouts outside the root" {
	rm -f /var/tmp/launcher-abs /var/tmp/launcher-link
	touch /var/tmp/launcher-sentinel
	src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src"
	echo x >"$src/x"
	# An absolute path lands inside the root (the leading / is dropped, as docker does).
	tar -P -C "$src" -cf "$BATS_TEST_TMPDIR/layer.tar" --transform 's,^x,/var/tmp/launcher-abs,' x
	hostile_image abs
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/abs.tar" cat /var/tmp/launcher-abs
	assert_success
	assert_output x
	[ ! -e /var/tmp/launcher-abs ]

	# A hard link to a file outside the root is refused.
	python3 - "$BATS_TEST_TMPDIR/layer.tar" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1], 'w') as t:
    i = tarfile.TarInfo('link'); i.type = tarfile.LNKTYPE; i.linkname = '../../../../var/tmp/launcher-sentinel'; t.addfile(i)
EOF
	hostile_image hardlink
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/hardlink.tar" true
	assert_failure 125
	assert_output --regexp '^launcher: layer 2 \(.*\): entry link at byte 0: hard link target climbs out of the layer$'

	# A whiteout naming a path outside the root is refused; the sentinel stays.
	python3 - "$BATS_TEST_TMPDIR/layer.tar" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1], 'w') as t:
    t.addfile(tarfile.TarInfo('../../../../var/tmp/.wh.launcher-sentinel'))
EOF
	hostile_image whiteout
	for flags in "" "--storage copy"; do
		run "$LAUNCHER" $flags "$BATS_TEST_TMPDIR/whiteout.tar" true
		assert_failure 125
		assert_output --regexp 'path climbs out of the layer$'
	done
	[ -e /var/tmp/launcher-sentinel ]

	# A symlink named "." is refused (CVE-2021-29136); one named "/" is the root itself.
	python3 - "$BATS_TEST_TMPDIR/layer.tar" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1], 'w') as t:
    i = tarfile.TarInfo('.'); i.type = tarfile.SYMTYPE; i.linkname = '/var/tmp'; t.addfile(i)
    i = tarfile.TarInfo('launcher-dot'); i.size = 0; t.addfile(i)
EOF
	hostile_image dot
	run "$LAUNCHER" "$BATS_TEST_TMPDIR/dot.tar" true
	assert_failure 125
	assert_output --regexp 'the root may only be a directory$'
	[ ! -e /var/tmp/launcher-dot ]
	rm -f /var/tmp/launcher-sentinel
}
