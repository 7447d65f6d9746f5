// layers.hpp: the image archive, mapped and resolved to one image (image.hpp: manifest or
// index, config, each document checked against its digest), and its layers made ready for a
// container: found in the layer cache by digest, or checked (a gzip layer inflated on the
// way) and unpacked there once; without the cache, left as tars for the container to
// unpack into its tmpfs while forked helpers check their digests on the other core.
#pragma once
#include <climits>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "cache.hpp"
#include "gzip.hpp"
#include "image.hpp"
#include "sha256.hpp"
#include "sys.hpp"
#include "tar.hpp"
#include "unpack.hpp"
#include "zstd.hpp"

struct member {
	std::string_view name;
	std::span<const unsigned char> data;
};

// One layer as the container gets it: a published directory of the cache, or a tar to
// unpack into its own tmpfs.
struct layer {
	std::span<const unsigned char> tar; // uncompressed (a member, or an inflated temporary file)
	int cached = -1;                    // the cache's directory of it, held shared for our life
	bool mapped = false;                // tar is a mapping of its own (inflated)
	pid_t hasher = -1;                  // checking tar's digest while the container unpacks it
	char name[160];                     // "layer N (path)", as errors and --verbose call it
};

struct image_archive {
	const char *path;
	std::span<const unsigned char> bytes;
	std::vector<member> members;
	image::resolution res;
	std::vector<layer> layers;
	std::string_view id; // hex digest of the config
	int cache = -1;      // ROOT/layers, or -1 when the container unpacks into its tmpfs
	char cache_path[PATH_MAX];
	unpack::mode cache_mode; // a rootless cache's: user.overlay.opaque, owners as the user namespace maps them
	char upper_path[PATH_MAX] = ""; // the container's writable layer: DIR/upper and DIR/work, on disk; empty: on its tmpfs
};

namespace layers {

using sys::die;
using sys::die_errno;
using sys::step;

inline std::string_view archive_name(std::string_view n)
{
	while (n.starts_with("./"))
		n.remove_prefix(2);
	return n;
}

inline const member *find_member(const image_archive &img, std::string_view name)
{
	name = archive_name(name);
	for (const member &m : img.members)
		if (m.name == name)
			return &m;
	return nullptr;
}

// FILE or FILE:REF: the first prefix ending at a colon that names a file is the archive.
// A missing "busybox", "alpine:3.19" or "docker.io/library/nginx": a name as docker run
// takes one, rather than a path to an archive (which names a directory or an extension).
inline bool looks_like_reference(std::string_view s)
{
	for (std::string_view ext : {".tar", ".tgz", ".gz", ".zst", ".tar.gz", ".oci"})
		if (s.ends_with(ext))
			return false;
	return !s.empty() && s[0] != '/' && s[0] != '.' && s[0] != '~' &&
	       s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-/:@") == s.npos;
}

inline const char *split_image_arg(char *arg, const char *&ref)
{
	struct stat st;
	if (stat(arg, &st) == 0)
		return arg;
	for (char *c = strchr(arg, ':'); c; c = strchr(c + 1, ':')) {
		*c = 0;
		if (stat(arg, &st) == 0 && S_ISREG(st.st_mode)) {
			if (!ref)
				ref = c + 1;
			return arg;
		}
		*c = ':';
	}
	return arg;
}

// Progress of the layers a first start unpacks into the cache (--progress): none, a line
// per layer when it is done, or, on a terminal, also a line redrawn while it is
// decompressed. Layers under 1 MiB are not shown.
enum class show { none, lines, live };
inline show progress = show::none;
constexpr size_t shown_from = 1 << 20;

// "12.3" for a byte count in MB (the launcher's printf has no floating point).
struct megabytes {
	char text[24];
	explicit megabytes(uint64_t n) { snprintf(text, sizeof text, "%llu.%llu", (unsigned long long)(n >> 20), (unsigned long long)((n & 0xfffff) * 10 >> 20)); }
};

// "layer 1 (...): decompressed 12.3 of 45.6 MB, 120 MB/s" (redrawn), or, when the layer
// is done, "layer 1 (...): unpacked 91.2 MB, 80 MB/s" (its whole time, digests included).
inline void progress_line(const char *what, uint64_t done, uint64_t total, long since_us)
{
	long us = sys::elapsed_us() - since_us;
	megabytes d(done), t(total);
	unsigned long long speed = us > 0 ? (done * 1000000 / uint64_t(us)) >> 20 : 0;
	if (total)
		dprintf(2, "\r\033[Klauncher: %s: decompressed %s of %s MB, %llu MB/s", what, d.text, t.text, speed);
	else
		dprintf(2, "%slauncher: %s: unpacked %s MB, %llu MB/s\n", progress == show::live ? "\r\033[K" : "", what, d.text, speed);
}

// A compressed layer or archive, decoded into an unnamed file of `dir` (nothing to clean
// up, whatever happens), then mapped. `of` names it in errors: "layer", "archive".
template <class Decoder>
inline std::span<const unsigned char> decompress(std::span<const unsigned char> in, int dir, const char *what, const char *of)
{
	sys::unique_fd out(openat(dir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
	if (!out && errno == EOPNOTSUPP) // a file system without unnamed files (ramfs)
		out.reset(memfd_create("layer", MFD_CLOEXEC));
	if (!out)
		die_errno("%s: create a temporary file to decompress into", what);
	Decoder *d = new Decoder(in); // 100-260 KB: the heap, not the stack
	long since = sys::elapsed_us(), shown = since - 100000; // the first chunk shows at once
	for (std::span<const unsigned char> chunk = d->next(); !chunk.empty(); chunk = d->next()) {
		if (progress == show::live && in.size() >= shown_from && sys::elapsed_us() - shown >= 100000) {
			shown = sys::elapsed_us();
			progress_line(what, d->consumed(), in.size(), since);
		}
		for (size_t done = 0; done < chunk.size();) {
			ssize_t n = write(out.get(), chunk.data() + done, chunk.size() - done);
			if (n < 0)
				die_errno("%s: write the decompressed %s", what, of);
			done += size_t(n);
		}
	}
	if (progress == show::live && in.size() >= shown_from)
		dprintf(2, "\r\033[K");
	if (d->err() != decltype(d->err())::none)
		die("%s: %s at byte %zu of the compressed %s", what, error_text(d->err()), d->err_offset(), of);
	size_t size = d->total();
	delete d;
	if (size == 0)
		return {};
	void *p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, out.get(), 0);
	if (p == MAP_FAILED)
		die_errno("%s: map the decompressed %s", what, of);
	return {static_cast<const unsigned char *>(p), size};
}

// Decoded by its magic bytes, or by what its media type says; the bytes themselves when
// neither names a compression.
inline bool decompressed(std::span<const unsigned char> &b, std::string_view type, int dir, const char *what, const char *of)
{
	if (zstd::is_zstd(b) || type.ends_with("zstd"))
		b = decompress<zstd::decoder>(b, dir, what, of);
	else if (gzip::is_gzip(b) || type.ends_with("gzip"))
		b = decompress<gzip::inflater>(b, dir, what, of);
	else
		return false;
	return true;
}

// A symlink or hard link in the archive: docker save writes `<id>/layer.tar ->
// ../<other id>/layer.tar` for a layer that two saved images share.
struct archive_link {
	std::string_view name, target;
	bool hard; // target is an archive path, not relative to the link's directory
};

// The archive path a link names, with "." and ".." taken lexically (false when it
// climbs above the archive's root or does not fit).
inline bool link_target(const archive_link &l, char (&out)[PATH_MAX])
{
	std::string_view dir = l.hard || l.target.starts_with('/') ? "" : l.name.substr(0, l.name.rfind('/') + 1);
	size_t n = 0;
	for (std::string_view part : {dir, l.target})
		while (!part.empty()) {
			std::string_view c = part.substr(0, part.find('/'));
			part.remove_prefix(c.size() < part.size() ? c.size() + 1 : c.size());
			if (c.empty() || c == ".")
				continue;
			if (c == "..") {
				if (n == 0)
					return false;
				while (n > 0 && out[--n] != '/') {}
				continue;
			}
			if (n + c.size() + 2 > sizeof out)
				return false;
			if (n)
				out[n++] = '/';
			memcpy(out + n, c.data(), c.size()), n += c.size();
		}
	out[n] = 0;
	return n > 0;
}

// Each link that ends (within a few hops) at a regular member reads as that member.
inline void follow_links(image_archive &img, const std::vector<archive_link> &links)
{
	for (const archive_link &l : links) {
		const archive_link *at = &l;
		char target[PATH_MAX];
		for (int hop = 0; hop < 16 && at && link_target(*at, target); hop++) {
			if (const member *m = find_member(img, target)) {
				img.members.push_back({archive_name(l.name), m->data});
				break;
			}
			const archive_link *next = nullptr;
			for (const archive_link &o : links)
				if (archive_name(o.name) == std::string_view(target))
					next = &o;
			at = next;
		}
	}
}

// Maps the archive (never copied; decompressed into an unnamed file when it is gzip or
// zstd), indexes its regular files and the links to them, and resolves it to one image:
// manifest, config and layers, each document checked against its digest.
inline void open_image(image_archive &img, char *arg, const char *ref)
{
	const char *path = img.path = split_image_arg(arg, ref);
	sys::unique_fd fd(open(path, O_RDONLY | O_CLOEXEC));
	if (!fd && errno == ENOENT && looks_like_reference(path))
		die("open image %s: No such file or directory: the launcher runs image archives, not registry names; make one with "
		    "`docker save %s -o image.tar`, `podman save %s -o image.tar` or `skopeo copy docker://%s docker-archive:image.tar`",
		    path, path, path, path);
	if (!fd)
		die_errno("open image %s", path);
	struct stat st;
	if (fstat(fd.get(), &st) < 0)
		die_errno("stat image %s", path);
	if (!S_ISREG(st.st_mode) || st.st_size == 0)
		die("image %s: not a tar archive", path);
	void *p = mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd.get(), 0);
	if (p == MAP_FAILED)
		die_errno("map image %s", path);
	img.bytes = {static_cast<const unsigned char *>(p), size_t(st.st_size)};
	if (gzip::is_gzip(img.bytes) || zstd::is_zstd(img.bytes)) {
		const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
		sys::unique_fd dir(open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC));
		if (!dir)
			die_errno("open %s", tmp);
		char what[PATH_MAX + 8];
		snprintf(what, sizeof what, "image %s", path);
		decompressed(img.bytes, "", dir.get(), what, "archive");
		if (munmap(p, size_t(st.st_size)) < 0)
			die_errno("unmap image %s", path);
		if (img.bytes.empty())
			die("image %s: not a tar archive", path);
	}

	tar::reader r(img.bytes);
	tar::entry e;
	std::vector<archive_link> links;
	while (r.next(e))
		if (e.typeflag == tar::type::file)
			img.members.push_back({archive_name(e.path), e.data});
		else if (e.typeflag == tar::type::symlink || e.typeflag == tar::type::hardlink)
			links.push_back({e.path, e.linkpath, e.typeflag == tar::type::hardlink});
	if (r.err() != tar::error::none && r.err_offset() == 0)
		die("image %s: not a tar archive (docker save, podman save or skopeo copy make one; gzip and zstd ones too)", path);
	if (r.err() != tar::error::none)
		die("image %s: %s at byte %zu", path, tar::error_text(r.err()), r.err_offset());
	follow_links(img, links);
	auto find = [&](std::string_view name) {
		const member *m = find_member(img, name);
		return m ? m->data : std::span<const unsigned char>{};
	};
	if (!image::resolve(find, ref, sha256::digest, img.res))
		die("image %s: %s", path, img.res.why);
	img.id = image::digest_hex(img.res.config_path);
	img.layers = std::vector<layer>(img.res.layers.size());
	for (size_t i = 0; i < img.layers.size(); i++)
		snprintf(img.layers[i].name, sizeof img.layers[i].name, "layer %zu (%s)", i + 1, img.res.layers[i].path);
}

inline void check_digest(std::span<const unsigned char> b, std::string_view want, const char *what, const char *of)
{
	char got[65];
	sha256::digest(b, got);
	if (want != got)
		die("%s: %s has digest sha256:%s, expected sha256:%.*s", what, of, got, int(want.size()), want.data());
}

// A helper forked to work on the other core (0 in it, as fork's): it dies with the
// launcher, and leaves what the launcher made to the launcher, even when it fails.
inline pid_t fork_helper(const char *to, const char *what)
{
	pid_t parent = getpid();
	pid_t pid = pid_t(sys::clone_fork(SIGCHLD));
	if (pid < 0)
		die_errno("fork to %s %s", to, what);
	if (pid == 0) {
		sys::at_die = nullptr;
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(1);
	}
	return pid;
}

// Digests are taken by a forked helper on the other core while this process inflates or
// unpacks; it exits 0 when the bytes have the digest.
inline pid_t start_hasher(std::span<const unsigned char> b, std::string_view want, const char *what)
{
	pid_t pid = fork_helper("hash", what);
	if (pid == 0) {
		char got[65];
		sha256::digest(b, got);
		_exit(want == got ? 0 : 1);
	}
	return pid;
}

inline void finish_hasher(pid_t pid, std::span<const unsigned char> b, std::string_view want, const char *what, const char *of)
{
	int status = 0;
	if (waitpid(pid, &status, 0) < 0 || status != 0)
		check_digest(b, want, what, of); // says which digest it has, and dies
}

// The layer's tar (decompressed when gzip or zstd). Its digest, the config's diff_id, is
// the caller's to check, beside its unpacking: that is the check that counts, as docker
// load's. The compressed blob's own digest (its name in an OCI layout) is not taken: what
// enters the cache or the container is the decoded tar, checked in full against the
// diff_id (the cache's key, anchored by the config's digest), so it would add nothing
// but a hash of the blob (a fifth of a core over a first start).
inline std::span<const unsigned char> layer_tar(image_archive &img, size_t i, int tmp_dir, const char *what)
{
	const image::layer_ref &l = img.res.layers[i];
	std::span<const unsigned char> tar = find_member(img, l.path)->data;
	std::string_view type(l.media_type);
	bool compressed = gzip::is_gzip(tar) || zstd::is_zstd(tar) || type.ends_with("gzip") || type.ends_with("zstd");
	if (!compressed && type.find('+') != type.npos)
		die("%s: unsupported media type %s", what, l.media_type);
	img.layers[i].mapped = decompressed(tar, type, tmp_dir, what, "layer");
	return tar;
}

// ---- A compressed layer unpacked while it is decoded, on both cores -----------------------
// A forked child decodes the layer into a ring: 8 MiB of shared memory (a memfd) mapped
// twice, back to back, so that any run of up to 8 MiB of the decoded stream lies whole at
// base + offset % size. This process unpacks each entry as soon as its bytes are there (a
// file of 1 MiB or more as its data comes), a second child hashes the bytes as they come,
// and the decoder writes only over what both are done with. Its pages are allocated once
// and stay warm in the cache: the decoded layer never goes to a file system. A shared page
// says how far each one got.
struct decoding {
	uint64_t decoded;    // bytes of output written so far
	uint64_t consumed;   // of the input, for the progress line
	uint64_t done[2];    // how far the unpacker [0] and the hasher [1] are done with the ring
	uint32_t seq;        // futex word, bumped at each published step and at the end
	uint32_t state;      // one of decoder_*
	uint32_t room;       // futex word the decoder waits on for room, bumped when some is freed
	uint32_t waiting;    // the decoder waits (or is about to) for room
	const char *why;     // the decoder's error: a static string, the same in every process
	uint64_t why_offset; // of the compressed input
	char digest[65];     // what the hasher found
};
enum : uint32_t { decoder_running, decoder_done, decoder_failed };
constexpr size_t ring_size = 8 << 20;
constexpr size_t ring_piece = 256 << 10;     // the decoder writes at most this much at a time
constexpr uint64_t stream_from = 1 << 20;    // files this large are written as they come
constexpr uint64_t decode_step = 1 << 20;    // the others are woken every MiB

inline void publish(decoding *d, uint64_t decoded, uint32_t state)
{
	__atomic_store_n(&d->decoded, decoded, __ATOMIC_RELEASE);
	if (state != decoder_running)
		__atomic_store_n(&d->state, state, __ATOMIC_RELEASE);
	__atomic_add_fetch(&d->seq, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &d->seq, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

// A consumer (0: the unpacker, 1: the hasher) is done with the ring up to `upto`; the
// decoder is woken if it waits for that room.
inline void free_ring(decoding *d, int who, uint64_t upto)
{
	if (upto <= __atomic_load_n(&d->done[who], __ATOMIC_RELAXED))
		return;
	__atomic_store_n(&d->done[who], upto, __ATOMIC_SEQ_CST);
	if (__atomic_exchange_n(&d->waiting, 0, __ATOMIC_SEQ_CST)) {
		__atomic_add_fetch(&d->room, 1, __ATOMIC_SEQ_CST);
		syscall(SYS_futex, &d->room, FUTEX_WAKE, 1, nullptr, nullptr, 0);
	}
}

// The decoder: waits until the ring has room for the stream up to `end`, having published
// all it wrote (what the others wait for, to make that room).
inline void await_room(decoding *d, uint64_t end, uint64_t n, uint64_t &published)
{
	for (;;) {
		uint32_t room = __atomic_load_n(&d->room, __ATOMIC_SEQ_CST);
		__atomic_store_n(&d->waiting, 1, __ATOMIC_SEQ_CST);
		uint64_t freed = std::min(__atomic_load_n(&d->done[0], __ATOMIC_SEQ_CST), __atomic_load_n(&d->done[1], __ATOMIC_SEQ_CST));
		if (freed >= end || end - freed <= ring_size) {
			__atomic_store_n(&d->waiting, 0, __ATOMIC_RELAXED);
			return;
		}
		if (n > published)
			publish(d, published = n, decoder_running);
		syscall(SYS_futex, &d->room, FUTEX_WAIT, room, nullptr, nullptr, 0); // EAGAIN: freed meanwhile
	}
}

// Waits until more than `have` bytes are decoded or the decoder has ended, and returns
// how many are. With `decoder`, a decoder or hasher that died without a word is noticed too.
inline uint64_t await_decoded(decoding *d, uint64_t have, uint32_t &state, pid_t decoder = -1, pid_t hasher = -1)
{
	for (;;) {
		uint32_t seq = __atomic_load_n(&d->seq, __ATOMIC_ACQUIRE);
		state = __atomic_load_n(&d->state, __ATOMIC_ACQUIRE); // before decoded: then it is final
		uint64_t n = __atomic_load_n(&d->decoded, __ATOMIC_ACQUIRE);
		if (n > have || state != decoder_running)
			return n;
		timespec tick = {0, 100 * 1000000};
		if (syscall(SYS_futex, &d->seq, FUTEX_WAIT, seq, decoder > 0 ? &tick : nullptr, nullptr, 0) < 0 &&
		    errno != EAGAIN && errno != EINTR && errno != ETIMEDOUT)
			die_errno("wait for the decoder");
		int status;
		if (decoder > 0 && __atomic_load_n(&d->seq, __ATOMIC_ACQUIRE) == seq &&
		    (waitpid(decoder, &status, WNOHANG) == decoder || waitpid(hasher, &status, WNOHANG) == hasher))
			die("the %s ended without a word", waitpid(decoder, nullptr, WNOHANG) == 0 ? "hasher" : "decoder");
	}
}

template <class Decoder>
[[noreturn]] inline void decode_into(std::span<const unsigned char> in, unsigned char *ring, decoding *d)
{
	Decoder *dec = new Decoder(in);
	uint64_t n = 0, published = 0;
	auto decoded = [&] {
		__atomic_store_n(&d->consumed, dec->consumed(), __ATOMIC_RELAXED);
		if (n - published >= decode_step)
			publish(d, published = n, decoder_running);
	};
	if constexpr (requires { dec->next_into(ring, ring_piece); }) {
		// Inflate writes into the ring itself, its history the ring's bytes before (the
		// second mapping's, near the start): no copy, no history moved.
		for (;;) {
			await_room(d, n + ring_piece, n, published); // the piece and the slack it may write past
			size_t at = size_t(n % ring_size);
			std::span<const unsigned char> chunk =
				dec->next_into(ring + at + (at < Decoder::history ? ring_size : 0), ring_piece - Decoder::slack);
			if (chunk.empty())
				break;
			n += chunk.size();
			decoded();
		}
	} else {
		for (std::span<const unsigned char> chunk = dec->next(); !chunk.empty(); chunk = dec->next()) {
			while (!chunk.empty()) {
				size_t piece = std::min(chunk.size(), ring_piece);
				await_room(d, n + piece, n, published);
				memcpy(ring + n % ring_size, chunk.data(), piece); // whole: the ring is mapped twice over
				chunk = chunk.subspan(piece);
				n += piece;
			}
			decoded();
		}
	}
	if (dec->err() != decltype(dec->err())::none) {
		d->why = error_text(dec->err()), d->why_offset = dec->err_offset();
		publish(d, n, decoder_failed);
		_exit(1);
	}
	publish(d, n, decoder_done);
	_exit(0);
}

// The child that hashes the decoded bytes as they come; it exits 0 when they have the
// digest, and leaves what they have in d->digest.
inline pid_t start_arriving_hasher(const unsigned char *ring, decoding *d, std::string_view want, const char *what)
{
	pid_t pid = fork_helper("hash", what);
	if (pid == 0) {
		sha256::hasher h;
		uint32_t state = decoder_running;
		for (uint64_t have = 0; state == decoder_running;) {
			uint64_t n = await_decoded(d, have, state);
			while (have < n) { // a run of the ring, whole
				size_t run = size_t(std::min<uint64_t>(n - have, ring_size - have % ring_size));
				h.update({ring + have % ring_size, run});
				have += run;
				free_ring(d, 1, have);
			}
		}
		free_ring(d, 1, UINT64_MAX);
		h.finish(d->digest);
		_exit(state == decoder_done && want == d->digest ? 0 : 1);
	}
	return pid;
}

// The ring: a memfd of ring_size mapped twice, back to back; null where that cannot be.
inline unsigned char *map_ring()
{
	sys::unique_fd fd(memfd_create("layer", MFD_CLOEXEC));
	if (!fd || ftruncate(fd.get(), ring_size) < 0)
		return nullptr;
	void *at = mmap(nullptr, 2 * ring_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (at == MAP_FAILED)
		return nullptr;
	auto *base = static_cast<unsigned char *>(at);
	for (unsigned char *half : {base, base + ring_size})
		if (mmap(half, ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd.get(), 0) == MAP_FAILED) {
			munmap(base, 2 * ring_size);
			return nullptr;
		}
	return base;
}

// Unpacks compressed layer i into `into` while a child decodes it. False, with nothing
// done, where no ring can be made (then the layer is decoded first).
template <class Decoder>
inline bool unpack_decoding(image_archive &img, size_t i, int into, const char *what, unpack::stats &s, size_t &tar_size)
{
	const image::layer_ref &l = img.res.layers[i];
	std::span<const unsigned char> blob = find_member(img, l.path)->data;
	rlimit fsize;
	if (getrlimit(RLIMIT_FSIZE, &fsize) < 0 || fsize.rlim_cur < ring_size) // the memfd's size, else SIGXFSZ
		return false;
	unsigned char *ring = map_ring();
	if (!ring)
		return false;
	auto *d = static_cast<decoding *>(mmap(nullptr, sizeof(decoding), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
	if (d == MAP_FAILED)
		die_errno("%s: map a shared page", what);
	pid_t decoder = fork_helper("decompress", what);
	if (decoder == 0)
		decode_into<Decoder>(blob, ring, d);
	if (mprotect(ring, 2 * ring_size, PROT_READ) < 0) // the decoder's alone to write
		die_errno("%s: protect the ring", what);
	pid_t hasher = start_arriving_hasher(ring, d, l.diff_id, what);
	long since = sys::elapsed_us(), shown = since - 100000;
	bool live = progress == show::live && blob.size() >= shown_from;
	auto more = [&](size_t from, size_t have, bool &final) {
		if (have != SIZE_MAX && have - from >= ring_size - ring_piece) // starved, and the ring can hold no more of it
			die("%s: entry at byte %zu: its headers take over %zu MiB", what, from, (ring_size - ring_piece) >> 20);
		free_ring(d, 0, from);
		uint32_t state;
		uint64_t n = have;
		do
			n = await_decoded(d, have == SIZE_MAX ? n : have, state, decoder, hasher);
		while (have == SIZE_MAX && state == decoder_running);
		if (state == decoder_failed)
			die("%s: %s at byte %llu of the compressed layer", what, d->why, (unsigned long long)d->why_offset);
		if (live && sys::elapsed_us() - shown >= 100000) {
			shown = sys::elapsed_us();
			progress_line(what, __atomic_load_n(&d->consumed, __ATOMIC_RELAXED), blob.size(), since);
		}
		final = state == decoder_done;
		tar_size = size_t(n);
		if (from >= n)
			return std::span<const unsigned char>{};
		return std::span<const unsigned char>(ring + from % ring_size, size_t(n - from));
	};
	s = unpack::layer_arriving(into, what, more, img.cache_mode, stream_from);
	bool final;
	more(SIZE_MAX, SIZE_MAX, final); // the decoder may still be at the padding
	if (live)
		dprintf(2, "\r\033[K");
	int status;
	if (waitpid(decoder, &status, 0) != decoder || status != 0)
		die("%s: the decoder failed", what);
	if (waitpid(hasher, &status, 0) != hasher || status != 0)
		die("%s: the uncompressed layer has digest sha256:%s, expected sha256:%.*s", what, d->digest, int(l.diff_id.size()),
		    l.diff_id.data());
	if (munmap(ring, 2 * ring_size) < 0 || munmap(d, sizeof(decoding)) < 0)
		die_errno("%s: unmap the ring", what);
	return true;
}

// A layer being unpacked into the cache, removed again if the launcher dies meanwhile.
struct partial_layer {
	int cache = -1;
	std::string_view hex;
};
inline partial_layer unpacking;

inline void abandon_partial_layer()
{
	if (unpacking.cache < 0)
		return;
	int cache = unpacking.cache;
	unpacking.cache = -1;
	unpack::stop_helper(); // before what it wrote is removed
	cache::abandon(cache, unpacking.hex);
}

// Unpacks a layer into the cache: into HEX.partial, checked, then published as HEX. The
// tar is hashed by a forked helper while this process unpacks it.
inline int unpack_into_cache(image_archive &img, size_t i, const char *what)
{
	std::string_view hex = img.res.layers[i].diff_id;
	cache::claim c = cache::begin(img.cache, hex);
	if (c.published) {
		step("%s: unpacked meanwhile by another launcher", what);
		return c.fd;
	}
	unpacking = {img.cache, hex};
	long since = sys::elapsed_us();
	unpack::stats s;
	size_t tar_size = 0;
	std::span<const unsigned char> blob = find_member(img, img.res.layers[i].path)->data;
	std::string_view type(img.res.layers[i].media_type);
	bool arriving = (zstd::is_zstd(blob) || type.ends_with("zstd")) ? unpack_decoding<zstd::decoder>(img, i, c.fd, what, s, tar_size)
			: (gzip::is_gzip(blob) || type.ends_with("gzip"))  ? unpack_decoding<gzip::inflater>(img, i, c.fd, what, s, tar_size)
									    : false;
	if (!arriving) {
		std::span<const unsigned char> tar = layer_tar(img, i, img.cache, what);
		pid_t hasher = start_hasher(tar, hex, what);
		s = unpack::layer(tar, c.fd, what, img.cache_mode);
		tar_size = tar.size();
		finish_hasher(hasher, tar, hex, what, img.layers[i].mapped ? "the uncompressed layer" : "the layer");
		if (img.layers[i].mapped && munmap(const_cast<unsigned char *>(tar.data()), tar.size()) < 0)
			die_errno("unmap %s", what);
	}
	cache::publish(img.cache, hex, c.fd, s);
	unpacking.cache = -1;
	step("unpacked %s into the cache%s: %zu entries, %zu bytes", what,
	     arriving ? " as it was decoded" : s.shared ? " by two processes" : "", s.entries, s.bytes);
	if (progress != show::none && tar_size >= shown_from)
		progress_line(what, tar_size, 0, since);
	return c.fd;
}

// The first layer of the image with layer i's blob and diff_id (empty layers share one).
inline size_t first_listing(const image_archive &img, size_t i)
{
	size_t j = 0;
	while (img.res.layers[j].diff_id != img.res.layers[i].diff_id || strcmp(img.res.layers[j].path, img.res.layers[i].path))
		j++;
	return j;
}

// Every layer made ready before the container exists: looked up in (or unpacked into)
// the cache, or, without the cache, left as a tar for the container to unpack into its own
// tmpfs while a helper checks its digest (see wait_checked).
inline void prepare(image_archive &img)
{
	int tmp_dir = img.cache;
	if (tmp_dir < 0) {
		const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
		if ((tmp_dir = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			die_errno("open %s", tmp);
	}
	for (size_t i = 0; i < img.layers.size(); i++) {
		const char *what = img.layers[i].name;
		if (img.cache < 0) {
			if (size_t j = first_listing(img, i); j < i) { // decompressed and checked once
				img.layers[i].tar = img.layers[j].tar;
				continue;
			}
			std::span<const unsigned char> tar = img.layers[i].tar = layer_tar(img, i, tmp_dir, what);
			img.layers[i].hasher = start_hasher(tar, img.res.layers[i].diff_id, what);
			continue;
		}
		img.layers[i].cached = cache::hold(img.cache, img.res.layers[i].diff_id);
		if (img.layers[i].cached >= 0)
			step("%s: in the cache", what);
		else
			img.layers[i].cached = unpack_into_cache(img, i, what);
	}
	if (img.cache < 0)
		close(tmp_dir);
}

// A rootless cache: each layer found in it held; true when all were. The rest are unpacked
// by unpack_missing, as root of a user namespace with the container's id maps, and then
// held here too, where the launcher lives.
inline bool hold_cached(image_archive &img)
{
	bool all = true;
	for (size_t i = 0; i < img.layers.size(); i++) {
		if (img.layers[i].cached < 0 && (img.layers[i].cached = cache::hold(img.cache, img.res.layers[i].diff_id)) >= 0)
			step("%s: in the cache", img.layers[i].name);
		all = all && img.layers[i].cached >= 0;
	}
	return all;
}

inline void unpack_missing(image_archive &img)
{
	for (size_t i = 0; i < img.layers.size(); i++)
		if (img.layers[i].cached < 0)
			img.layers[i].cached = unpack_into_cache(img, i, img.layers[i].name);
}

// Without the cache, the container unpacks its layers while helpers check their digests;
// its PID 1 waits for this word before it runs anything of the image.
inline void wait_checked(const image_archive &img, int go_fd)
{
	for (size_t i = 0; i < img.layers.size(); i++)
		if (img.layers[i].hasher > 0)
			finish_hasher(img.layers[i].hasher, img.layers[i].tar, img.res.layers[i].diff_id, img.layers[i].name,
				      img.layers[i].mapped ? "the uncompressed layer" : "the layer");
	char checked = 1;
	(void)!write(go_fd, &checked, 1); // fails only when the container is gone already
}

} // namespace layers
