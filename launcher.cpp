// launcher: run an image archive (docker save, OCI layout) as PID 1 of fresh namespaces,
// with nothing else installed. One start, top to bottom:
//
//   main            parse flags, map the image archive, resolve it to one image (manifest
//                   or index, config), each document checked against its digest
//   prepare_layers  find each layer in the cache by digest, or check it (inflating a gzip
//                   layer) and unpack it there once
//   start           clone a child into new mount, UTS, IPC, PID and network namespaces;
//                   on a bridge network, lease an address and plug a veth into the child
//   supervise       (host side) forward signals to the container, exit with its status
//   container_main  (PID 1 inside) stack the layers with overlayfs over a private tmpfs
//                   (unpacking them there first with --no-cache), pivot_root into it,
//                   mount /proc /dev /sys, resolve the user, then act as init:
//   run_init        fork and exec the entrypoint (confined: docker's capabilities,
//                   no_new_privs, seccomp), forward signals, reap every child
//
// As the machine's own PID 1 (an initramfs's /init) it first mounts what an init mounts,
// reads its arguments from the kernel command line, and powers off at the end.
//
// Everything the container mounts and writes lives in its own mount namespace, so the
// kernel frees it when the namespace dies, even when the launcher is killed with SIGKILL.
// What stays on the host is the layer cache: image layers, unpacked once, by digest.
#include <csignal>
#include <cstdlib>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/sysmacros.h>
#include <poll.h>
#include <sys/wait.h>

#include "cache.hpp"
#include "gzip.hpp"
#include "image.hpp"
#include "limits.hpp"
#include "machine.hpp"
#include "network.hpp"
#include "options.hpp"
#include "runtime.hpp"
#include "security.hpp"
#include "sha256.hpp"
#include "sys.hpp"
#include "tar.hpp"
#include "unpack.hpp"

#ifndef LAUNCHER_VERSION
#define LAUNCHER_VERSION "0.1"
#endif

using sys::die;
using sys::die_errno;
using sys::step;

// ---- Tables -------------------------------------------------------------------------

// The namespaces of every container. A new PID namespace applies to the first child only,
// which is why the launcher clones instead of unsharing. The network namespace is left
// out for --net host and --netns (joined with setns instead).
constexpr unsigned long namespaces = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID;

// What the launcher does with each signal, as host-side supervisor and as PID 1.
enum class on_signal { forward, reap, ignore, fault };
struct signal_rule {
	int sig;
	on_signal action;
};
constexpr signal_rule signal_rules[] = {
	// A child changed state: reap it. Never forwarded (it concerns us, not the child).
	{SIGCHLD, on_signal::reap},
	// Job-control stops aimed at a background launcher: the container has its own group.
	{SIGTTIN, on_signal::ignore},
	{SIGTTOU, on_signal::ignore},
	// Faults of our own code stay unblocked, so a launcher bug dies loudly.
	{SIGSEGV, on_signal::fault},
	{SIGBUS, on_signal::fault},
	{SIGFPE, on_signal::fault},
	{SIGILL, on_signal::fault},
	{SIGTRAP, on_signal::fault},
	{SIGSYS, on_signal::fault},
	{SIGABRT, on_signal::fault},
	// Every other signal (TERM, INT, HUP, QUIT, USR1, USR2, WINCH, ...) is forwarded.
};

constexpr on_signal action_for(int sig)
{
	for (const signal_rule &r : signal_rules)
		if (r.sig == sig)
			return r.action;
	return on_signal::forward;
}

// Kernel file systems of the container, mounted before pivot_root, each on a directory the
// launcher made or checked inside the new root (own_directory): an image whose /dev is a
// symlink to / cannot redirect them. Targets under dev/ lie in the fresh tmpfs /dev.
constexpr sys::mount_rule container_mounts[] = {
	{"proc", "proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, nullptr},
	{"tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"},
	{"devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
	{"shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k"},
	{"mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, nullptr},
	{"sysfs", "sys", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, nullptr},
};

// The nodes of /dev (docker's six), by name in the container's fresh tmpfs.
struct device_node {
	const char *name;
	unsigned major, minor;
};
constexpr device_node devices[] = {
	{"null", 1, 3}, {"zero", 1, 5},    {"full", 1, 7},
	{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

struct dev_link {
	const char *name, *target;
};
constexpr dev_link dev_links[] = {
	{"ptmx", "pts/ptmx"},          {"fd", "/proc/self/fd"},
	{"stdin", "/proc/self/fd/0"},  {"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"},
};

constexpr const char *default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Where the container's private tmpfs is mounted, inside its own mount namespace only.
constexpr const char *scratch = "/tmp";

// ---- The image ----------------------------------------------------------------------

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
};

static std::string_view archive_name(std::string_view n)
{
	while (n.starts_with("./"))
		n.remove_prefix(2);
	return n;
}

static const member *find_member(const image_archive &img, std::string_view name)
{
	name = archive_name(name);
	for (const member &m : img.members)
		if (m.name == name)
			return &m;
	return nullptr;
}

// FILE or FILE:REF: the first prefix ending at a colon that names a file is the archive.
static const char *split_image_arg(char *arg, const char *&ref)
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

// Maps the archive (never copied), indexes its regular files and resolves it to one image:
// manifest, config and layers, each document checked against its digest.
static void open_image(image_archive &img, char *arg, const char *ref)
{
	const char *path = img.path = split_image_arg(arg, ref);
	sys::unique_fd fd(open(path, O_RDONLY | O_CLOEXEC));
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

	tar::reader r(img.bytes);
	tar::entry e;
	while (r.next(e))
		if (e.typeflag == tar::type::file)
			img.members.push_back({archive_name(e.path), e.data});
	if (r.err() != tar::error::none)
		die("image %s: %s at byte %zu", path, tar::error_text(r.err()), r.err_offset());
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

// ---- The layers ---------------------------------------------------------------------

static void check_digest(std::span<const unsigned char> b, std::string_view want, const char *what, const char *of)
{
	char got[65];
	sha256::digest(b, got);
	if (want != got)
		die("%s: %s has digest sha256:%s, expected sha256:%.*s", what, of, got, int(want.size()), want.data());
}

// Digests are taken by a forked helper on the other core while this process inflates or
// unpacks; it exits 0 when the bytes have the digest, and dies with the launcher.
static pid_t start_hasher(std::span<const unsigned char> b, std::string_view want, const char *what)
{
	pid_t parent = getpid();
	pid_t pid = pid_t(sys::clone_fork(SIGCHLD));
	if (pid < 0)
		die_errno("fork to hash %s", what);
	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(1);
		char got[65];
		sha256::digest(b, got);
		_exit(want == got ? 0 : 1);
	}
	return pid;
}

static void finish_hasher(pid_t pid, std::span<const unsigned char> b, std::string_view want, const char *what, const char *of)
{
	int status = 0;
	if (waitpid(pid, &status, 0) < 0 || status != 0)
		check_digest(b, want, what, of); // says which digest it has, and dies
}

// A gzip layer, inflated into an unnamed file of `dir` (nothing to clean up, whatever
// happens), then mapped.
static std::span<const unsigned char> inflate_layer(std::span<const unsigned char> gz, int dir, const char *what)
{
	sys::unique_fd out(openat(dir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
	if (!out && errno == EOPNOTSUPP) // a file system without unnamed files (ramfs)
		out.reset(memfd_create("layer", MFD_CLOEXEC));
	if (!out)
		die_errno("%s: create a temporary file to inflate into", what);
	gzip::inflater *in = new gzip::inflater(gz); // 100 KB: the heap, not the stack
	for (std::span<const unsigned char> chunk = in->next(); !chunk.empty(); chunk = in->next())
		for (size_t done = 0; done < chunk.size();) {
			ssize_t n = write(out.get(), chunk.data() + done, chunk.size() - done);
			if (n < 0)
				die_errno("%s: write the inflated layer", what);
			done += size_t(n);
		}
	if (in->err() != gzip::error::none)
		die("%s: %s at byte %zu of the compressed layer", what, gzip::error_text(in->err()), in->err_offset());
	size_t size = in->total();
	delete in;
	if (size == 0)
		return {};
	void *p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, out.get(), 0);
	if (p == MAP_FAILED)
		die_errno("%s: map the inflated layer", what);
	return {static_cast<const unsigned char *>(p), size};
}

// The layer's tar (inflated when gzip), its blob's digest checked (while it inflates).
// The tar's own digest, the config's diff_id, is the caller's to check, beside its unpacking.
static std::span<const unsigned char> layer_tar(image_archive &img, size_t i, int tmp_dir, const char *what)
{
	const image::layer_ref &l = img.res.layers[i];
	std::span<const unsigned char> blob = find_member(img, l.path)->data, tar = blob;
	std::string_view type(l.media_type);
	if (type.ends_with("zstd") || gzip::is_zstd(blob))
		die("%s is zstd-compressed (%s): not supported; recompress it with gzip", what, *l.media_type ? l.media_type : "by its magic bytes");
	bool gz = type.ends_with("gzip") || gzip::is_gzip(blob);
	if (!gz && type.find('+') != type.npos)
		die("%s: unsupported media type %s", what, l.media_type);
	pid_t blob_hasher = !l.blob.empty() && l.blob != l.diff_id ? start_hasher(blob, l.blob, what) : -1;
	if (gz) {
		img.layers[i].mapped = true;
		tar = inflate_layer(blob, tmp_dir, what);
	}
	if (blob_hasher > 0)
		finish_hasher(blob_hasher, blob, l.blob, what, "the blob");
	return tar;
}

// A layer being unpacked into the cache, removed again if the launcher dies meanwhile.
static struct {
	int cache = -1;
	std::string_view hex;
} unpacking;

static void abandon_partial_layer()
{
	if (unpacking.cache < 0)
		return;
	int cache = unpacking.cache;
	unpacking.cache = -1;
	cache::abandon(cache, unpacking.hex);
}

// Unpacks a layer into the cache: into HEX.partial, checked, then published as HEX. The
// tar is hashed by a forked helper while this process unpacks it.
static int unpack_into_cache(image_archive &img, size_t i, const char *what)
{
	std::string_view hex = img.res.layers[i].diff_id;
	cache::claim c = cache::begin(img.cache, hex);
	if (c.published) {
		step("%s: unpacked meanwhile by another launcher", what);
		return c.fd;
	}
	unpacking = {img.cache, hex};
	std::span<const unsigned char> tar = layer_tar(img, i, img.cache, what);
	pid_t hasher = start_hasher(tar, hex, what);
	unpack::stats s = unpack::layer(tar, c.fd, what);
	finish_hasher(hasher, tar, hex, what, img.layers[i].mapped ? "the uncompressed layer" : "the layer");
	cache::publish(img.cache, hex, c.fd, s);
	unpacking.cache = -1;
	if (img.layers[i].mapped && munmap(const_cast<unsigned char *>(tar.data()), tar.size()) < 0)
		die_errno("unmap %s", what);
	step("unpacked %s into the cache: %zu entries, %zu bytes", what, s.entries, s.bytes);
	return c.fd;
}

// Every layer made ready before the container exists: looked up in (or unpacked into)
// the cache, or, without the cache, left as a tar for the container to unpack into its own
// tmpfs while a helper checks its digest (see layers_checked).
static void prepare_layers(image_archive &img)
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

// ---- What the container runs --------------------------------------------------------

struct volume {
	const char *source, *target;
	bool read_only, is_dir;
	int source_fd; // opened by the container's PID 1, in its own mount namespace
};

struct container_spec {
	std::vector<const char *> argv, env;
	const char *workdir = "/";
	char hostname[65] = "";
	uint64_t caps = 0;
	bool privileged = false, seccomp = true, read_only = false;
	bool overlay = true; // else the layers are merged by copy
	const char *user = "";   // --user, else the image's User
	uid_t uid = 0;
	gid_t gid = 0, groups[32];
	size_t group_count = 0;
	std::vector<volume> volumes;
	std::pair<int, rlimit> ulimits[16] = {}; // one per kind of resource at most
	size_t ulimit_count = 0;
	limits::request cgroup;
	bool userns = false;      // container root is an unprivileged host id
	bool map_helpers = false; // the maps go through newuidmap and newgidmap
	char uid_map[64] = "", gid_map[64] = ""; // "INSIDE OUTSIDE COUNT ..." triples
};

constexpr const char *newuidmap = "/usr/bin/newuidmap", *newgidmap = "/usr/bin/newgidmap";

// -v HOST:CTR[:ro|rw]: checked now, so a missing host path fails before any namespace.
static volume parse_volume(const char *arg)
{
	char *copy = strdup(arg);
	char *target = copy ? strchr(copy, ':') : nullptr;
	if (!target)
		die("bad --volume %s: expected HOST:CONTAINER[:ro]", arg);
	*target++ = 0;
	char *mode = strchr(target, ':');
	if (mode)
		*mode++ = 0;
	if (copy[0] != '/' || target[0] != '/' || (mode && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0))
		die("bad --volume %s: both paths absolute, mode ro or rw", arg);
	struct stat st;
	if (stat(copy, &st) < 0)
		die_errno("open volume %s", copy);
	return {copy, target, mode && strcmp(mode, "ro") == 0, S_ISDIR(st.st_mode), -1};
}

// Calls f(ctx, fields) for each line "a:b:c:..." of /etc/passwd, /etc/group or
// /etc/subuid at `path` (the host's, or the image's after pivot_root) until f returns true;
// false if none did. One plain function for every caller: the binary carries one loop.
using etc_line_fn = bool (*)(void *ctx, std::string_view *fields);
[[gnu::noinline]] static bool each_etc_line(const char *path, etc_line_fn f, void *ctx)
{
	static char buf[65536];
	// An image's /etc/passwd may be a fifo or a device: only a regular file is read, and
	// opening never waits (O_NONBLOCK), so PID 1 cannot be made to hang here.
	sys::unique_fd fd(open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
	struct stat st;
	ssize_t n = fd && fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) ? read(fd.get(), buf, sizeof buf) : -1;
	for (std::string_view text(buf, n > 0 ? size_t(n) : 0); !text.empty();) {
		std::string_view line = text.substr(0, text.find('\n'));
		text.remove_prefix(std::min(text.size(), line.size() + 1));
		std::string_view fields[7];
		for (std::string_view &field : fields) {
			size_t colon = line.find(':');
			field = line.substr(0, colon);
			line.remove_prefix(colon == std::string_view::npos ? line.size() : colon + 1);
		}
		if (f(ctx, fields))
			return true;
	}
	return false;
}

template <class F> static bool each_etc_line(const char *path, F &&f)
{
	return each_etc_line(path, [](void *ctx, std::string_view *fields) { return (*static_cast<F *>(ctx))(fields); }, &f);
}

// A uid, gid or id range field: decimal, below 2^32.
static bool all_digits(std::string_view s)
{
	return !s.empty() && s.size() <= 10 && s.find_first_not_of("0123456789") == std::string_view::npos &&
	       (s.size() < 10 || s <= "4294967295");
}

static unsigned number_of(std::string_view s)
{
	unsigned v = 0;
	for (char c : s)
		v = v * 10 + unsigned(c - '0');
	return v;
}

// Field `field` of the /etc/passwd line ("name:x:uid:gid:gecos:home:shell") whose uid is `uid`.
static bool passwd_field(const char *path, unsigned uid, int field, char *out, size_t cap)
{
	char want[16];
	snprintf(want, sizeof want, "%u", uid);
	return each_etc_line(path, [&](std::string_view *f) {
		if (f[2] != want || f[field].empty() || f[field].size() >= cap)
			return false;
		snprintf(out, cap, "%.*s", int(f[field].size()), f[field].data());
		return true;
	});
}

// "NAME:START:COUNT" (or "ID:START:COUNT") in /etc/subuid or /etc/subgid.
static bool subordinate_range(const char *file, const char *name, unsigned id, unsigned long range[2])
{
	char by_id[16];
	snprintf(by_id, sizeof by_id, "%u", id);
	return each_etc_line(file, [&](std::string_view *f) {
		if ((f[0] != name && f[0] != by_id) || !all_digits(f[1]) || !all_digits(f[2]) || number_of(f[2]) == 0)
			return false;
		range[0] = number_of(f[1]), range[1] = number_of(f[2]);
		return true;
	});
}

// --userns, and always when not started by root: container root becomes an unprivileged
// host id. Root maps 65536 ids from its /etc/subuid and /etc/subgid ranges (100000 by
// default). Anyone else maps their own id to root and, with ranges of their own and the
// setuid newuidmap and newgidmap helpers (package uidmap), ids 1 and up to those ranges,
// as rootless podman does; without them only their own id exists inside.
static void user_namespace_spec(container_spec &spec, const options::parsed &o)
{
	spec.userns = o.userns || getuid() != 0;
	if (!spec.userns)
		return;
	unsigned long ur[2] = {100000, 65536}, gr[2] = {100000, 65536};
	if (getuid() == 0) {
		subordinate_range("/etc/subuid", "root", 0, ur);
		subordinate_range("/etc/subgid", "root", 0, gr);
		snprintf(spec.uid_map, sizeof spec.uid_map, "0 %lu %lu", ur[0], ur[1]);
		snprintf(spec.gid_map, sizeof spec.gid_map, "0 %lu %lu", gr[0], gr[1]);
		return;
	}
	if (strcmp(o.net, "none") != 0 || o.netns || spec.cgroup.limited())
		die("running as uid %d: --net, --netns and cgroup limits need root", getuid());
	// Nor a device policy: the kernel refuses mknod to a user namespace of anyone but
	// root, and every mount made inside it is nodev to the kernel (SB_I_NODEV).
	spec.cgroup.devices = false;
	char name[64] = "";
	passwd_field("/etc/passwd", getuid(), 0, name, sizeof name);
	spec.map_helpers = subordinate_range("/etc/subuid", name, getuid(), ur) &&
			   subordinate_range("/etc/subgid", name, getgid(), gr) &&
			   access(newuidmap, X_OK) == 0 && access(newgidmap, X_OK) == 0;
	if (spec.map_helpers) {
		snprintf(spec.uid_map, sizeof spec.uid_map, "0 %d 1 1 %lu %lu", getuid(), ur[0], ur[1]);
		snprintf(spec.gid_map, sizeof spec.gid_map, "0 %d 1 1 %lu %lu", getgid(), gr[0], gr[1]);
	} else {
		snprintf(spec.uid_map, sizeof spec.uid_map, "0 %d 1", getuid());
		snprintf(spec.gid_map, sizeof spec.gid_map, "0 %d 1", getgid());
	}
}

// Capabilities, limits and volumes, as docker run spells them.
static void confinement_spec(container_spec &spec, const options::parsed &o)
{
	security::cap_change changes[2] = {{true, 0}, {false, 0}}; // all adds, all drops
	for (auto [list, add] : {std::pair{&o.cap_add, true}, std::pair{&o.cap_drop, false}})
		for (const char *name : *list) {
			uint64_t m = security::cap_mask(name);
			if (!m)
				die("bad --cap-%s %s: no such capability", add ? "add" : "drop", name);
			changes[add ? 0 : 1].mask |= m;
		}
	spec.privileged = o.privileged;
	spec.caps = o.privileged ? security::all_caps : security::effective_caps(changes);
	spec.seccomp = o.seccomp && !o.privileged;
	spec.cgroup.devices = !o.privileged; // docker's device cgroup; --privileged has every device
	spec.read_only = o.read_only;
	for (const char *v : o.volumes)
		spec.volumes.push_back(parse_volume(v));
	if (o.ulimits.size() > std::size(spec.ulimits))
		die("too many --ulimit flags (%zu)", o.ulimits.size());
	for (const char *u : o.ulimits) {
		std::pair<int, rlimit> &r = spec.ulimits[spec.ulimit_count++];
		if (!limits::parse_ulimit(u, r.first, r.second))
			die("bad --ulimit %s: expected NAME=SOFT[:HARD], e.g. nofile=1024:2048", u);
	}
	if (o.memory && !limits::parse_bytes(o.memory, spec.cgroup.memory))
		die("bad --memory %s: expected bytes with an optional k, m or g", o.memory);
	if (o.pids_limit && (!limits::parse_bytes(o.pids_limit, spec.cgroup.pids) || strpbrk(o.pids_limit, "kKmMgGbB")))
		die("bad --pids-limit %s: expected a positive number", o.pids_limit);
	if (o.cpus && !limits::parse_cpus(o.cpus, spec.cgroup.cpu_quota_us))
		die("bad --cpus %s: expected a number of cores of at least 0.01", o.cpus);
	user_namespace_spec(spec, o);
}

// docker run's rules: words after the image replace Cmd; --entrypoint replaces the
// Entrypoint and drops Cmd. Env: the image's, then -e, then PATH if still missing.
static void make_spec(container_spec &spec, const options::parsed &o, const image_archive &img)
{
	const image::config &c = img.res.config;
	if (o.entrypoint) {
		if (*o.entrypoint)
			spec.argv.push_back(o.entrypoint);
	} else {
		spec.argv = c.entrypoint;
	}
	std::span<const char *const> cmd = !o.command.empty() || o.entrypoint ? o.command : std::span<const char *const>(c.cmd);
	spec.argv.insert(spec.argv.end(), cmd.begin(), cmd.end());
	if (spec.argv.empty())
		die("image %s: no command: the image has no Entrypoint or Cmd and none was given", img.path);
	spec.argv.push_back(nullptr);

	snprintf(spec.hostname, sizeof spec.hostname, "%.*s", 12, img.id.empty() ? "container" : img.id.data());
	if (o.hostname) {
		if (strlen(o.hostname) >= sizeof spec.hostname || !*o.hostname)
			die("bad --hostname %s: 1 to 64 characters", o.hostname);
		snprintf(spec.hostname, sizeof spec.hostname, "%s", o.hostname);
	}

	spec.env = c.env;
	for (const char *kv : o.env) {
		if (strchr(kv, '=')) {
			image::set_env(spec.env, kv);
		} else if (getenv(kv)) { // -e KEY copies the host's value, or nothing
			size_t n = strlen(kv) + 1 + strlen(getenv(kv)) + 1;
			char *copy = static_cast<char *>(malloc(n));
			if (!copy)
				die("out of memory");
			snprintf(copy, n, "%s=%s", kv, getenv(kv));
			image::set_env(spec.env, copy);
		}
	}
	if (!image::get_env(spec.env, "PATH")) {
		static char path_kv[128];
		snprintf(path_kv, sizeof path_kv, "PATH=%s", default_path);
		spec.env.push_back(path_kv);
	}
	static char host_kv[80];
	snprintf(host_kv, sizeof host_kv, "HOSTNAME=%s", spec.hostname);
	image::set_env(spec.env, host_kv);
	spec.workdir = o.workdir ? o.workdir : *c.workdir ? c.workdir : "/";
	spec.user = o.user ? o.user : c.user;
	if (spec.workdir[0] != '/')
		die("bad working directory %s: must be absolute", spec.workdir);
	confinement_spec(spec, o);
}

// ---- Inside: the root filesystem -----------------------------------------------------

static void mkdir_in(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		die_errno("create directory %s", path);
}

// Whether the kernel has overlayfs, loading its module first where there is no modprobe.
static bool overlay_available()
{
	for (int attempt = 0; attempt < 2; attempt++) {
		char buf[4096];
		sys::unique_fd fd(open("/proc/filesystems", O_RDONLY | O_CLOEXEC));
		ssize_t n = fd ? read(fd.get(), buf, sizeof buf) : -1;
		if (n > 0 && std::string_view(buf, size_t(n)).find("\toverlay\n") != std::string_view::npos)
			return true;
		if (attempt == 0 && !machine::load_module("overlay"))
			return false;
	}
	return false;
}

// The copy storage: every layer unpacked over one tree, each after its whiteouts deleted
// what they hide below; bound onto itself, as pivot_root wants a mount point.
static void merge_layers(const image_archive &img, const unpack::mode &m)
{
	mkdir_in("root", 0755);
	sys::unique_fd root(open("root", O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (!root)
		die_errno("open %s/root", scratch);
	for (size_t i = 0; i < img.layers.size(); i++) {
		const char *what = img.layers[i].name;
		unpack::apply_whiteouts(img.layers[i].tar, root.get(), what);
		unpack::stats s = unpack::layer(img.layers[i].tar, root.get(), what, {m.opaque_xattr, m.owners_optional, true});
		step("merged %s: %zu entries, %zu bytes", what, s.entries, s.bytes);
	}
	if (mount("root", "root", nullptr, MS_BIND | MS_REC, nullptr) < 0)
		die_errno("bind %s/root onto itself", scratch);
}

static bool layer_repeated_above(const image_archive &img, size_t i)
{
	for (size_t j = i + 1; j < img.layers.size(); j++)
		if (img.res.layers[j].diff_id == img.res.layers[i].diff_id)
			return true;
	return false;
}

// Stacks the layers with overlayfs, which takes the top layer first: the cache's
// directories, or else each layer unpacked into its own directory of the tmpfs. The upper
// and work dirs on the tmpfs make every write vanish with the container. Without overlayfs
// (or with --storage copy) the layers are merged by copy instead.
static void build_rootfs(const image_archive &img, bool userns, bool overlay)
{
	// Nothing we mount may propagate back to the host's mount table.
	if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
		die_errno("make / private");
	// overlayfs takes lower directories of this mount namespace only: the cache is opened
	// again here, before the tmpfs could hide it.
	sys::unique_fd cache(img.cache < 0 ? -1 : open(img.cache_path, O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (img.cache >= 0 && !cache)
		die_errno("open the layer cache %s", img.cache_path);
	if (mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
		die_errno("mount tmpfs on %s", scratch);
	if (chdir(scratch) < 0)
		die_errno("enter %s", scratch);
	step("mounted tmpfs on %s", scratch);

	unpack::mode m;
	if (userns)
		m = {"user.overlay.opaque", true};
	if (!overlay) {
		merge_layers(img, m);
		return;
	}
	// Each layer is l/N of the tmpfs: unpacked there, or a link to its directory in the
	// cache. Short names keep many layers within the page that mount options fit in.
	size_t n = img.layers.size();
	mkdir_in("l", 0700);
	for (size_t i = 0; i < n; i++) {
		char dir[32];
		snprintf(dir, sizeof dir, "l/%zu", i);
		if (cache) {
			char target[96];
			snprintf(target, sizeof target, "/proc/self/fd/%d/%.64s", cache.get(), img.res.layers[i].diff_id.data());
			if (symlink(target, dir) < 0)
				die_errno("link %s to the layer cache", dir);
			continue;
		}
		mkdir_in(dir, 0755);
		sys::unique_fd root(open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC));
		if (!root)
			die_errno("open %s", dir);
		unpack::stats s = unpack::layer(img.layers[i].tar, root.get(), img.layers[i].name, m);
		step("unpacked %s: %zu entries, %zu bytes", img.layers[i].name, s.entries, s.bytes);
	}
	char lowerdirs[4096] = "";
	size_t used = 0;
	for (size_t i = n; i-- > 0;) {
		// A layer listed twice (empty layers share one diff_id) is one directory of the
		// cache, which overlayfs refuses to stack twice ("Symbolic link loop"). Its
		// topmost use alone gives the same tree: the lower copy adds nothing it lacks.
		if (cache && layer_repeated_above(img, i))
			continue;
		int w = snprintf(lowerdirs + used, sizeof lowerdirs - used, "%sl/%zu", used ? ":" : "", i);
		if (w < 0 || size_t(w) >= sizeof lowerdirs - used)
			die("image %s: too many layers (%zu)", img.path, n);
		used += size_t(w);
	}
	mkdir_in("upper", 0755);
	mkdir_in("work", 0700);
	mkdir_in("root", 0755);
	char opts[4200];
	snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=upper,workdir=work%s", lowerdirs, userns ? ",userxattr" : "");
	if (mount("overlay", "root", "overlay", 0, opts) == 0) {
		step("mounted overlay of %zu layers%s", n, cache ? " from the cache" : "");
		return;
	}
	// A kernel may list overlayfs and still refuse this stack (a file system it cannot
	// stack on, say): the layers unpacked here are merged by copy instead.
	if (cache)
		die_errno("mount overlay on %s/root", scratch);
	step("overlay mount refused (%s): merging the layers by copy", strerror(errno));
	merge_layers(img, m);
}

// In a user namespace the kernel refuses mknod and a new sysfs: the devices and /sys are
// bound from the host's, opened before anything is mounted.
struct host_nodes {
	int device_fds[std::size(devices)];
	int sys;
};

static void open_host_nodes(host_nodes &h)
{
	char path[32];
	for (size_t i = 0; i < std::size(devices); i++) {
		snprintf(path, sizeof path, "/dev/%s", devices[i].name);
		if ((h.device_fds[i] = open(path, O_PATH | O_CLOEXEC)) < 0)
			die_errno("open %s", path);
	}
	if ((h.sys = open("/sys", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		die_errno("open /sys");
}

// How mount(2) is handed a file the launcher opened: "/proc/self/fd/N", never a joined
// path. The kernel takes the mount point exactly where the descriptor is.
struct fd_path {
	char s[32];
	explicit fd_path(int fd) { snprintf(s, sizeof s, "/proc/self/fd/%d", fd); }
};

static void bind_fd(int source, int target, const char *what)
{
	if (mount(fd_path(source).s, fd_path(target).s, nullptr, MS_BIND | MS_REC, nullptr) < 0)
		die_errno("bind %s", what);
}

// A bind mount's flags change only on the mount itself: `name` of `parent` is opened
// again, and now names the new mount rather than what it covers.
static void remount_read_only(int parent, const char *name, unsigned long extra, const char *what)
{
	sys::unique_fd t(openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
	if (!t || mount(nullptr, fd_path(t.get()).s, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | extra, nullptr) < 0)
		die_errno("make %s read-only", what);
}

// The directory `name` of `parent` (the new root, or the container's own /dev) that a
// kernel file system is mounted on. Whatever else the image put there, a symlink such as
// `dev -> /`, a file or a device, is replaced by an empty directory: a mount that followed
// the image's symlink would land outside the root (on the host's root, which pivot_root
// leaves above ours).
static int own_directory(int parent, const char *name, const char *what)
{
	struct stat st;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
		if (unlinkat(parent, name, 0) < 0)
			die_errno("replace the image's /%s", what);
		step("replaced the image's /%s (not a directory) by a directory", what);
	}
	if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
		die_errno("create directory /%s", what);
	int fd = openat(parent, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		die_errno("open directory /%s", what);
	return fd;
}

// `target` inside the new root, created if missing (directories on the way, then a
// directory or an empty file), every component resolved inside the root: an image's
// symlink, absolute or climbing, stays in it. A dangling symlink on the way is followed as
// the kernel would: what it names is created, inside the root.
static int open_in_root(int root, const char *target, bool dir)
{
	const uint64_t in_root = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	char path[PATH_MAX];
	if (snprintf(path, sizeof path, "%s", target) >= int(sizeof path))
		die("path %.64s... too long", target);
	for (int links = 0; links < 40; links++) {
		for (char *p = path + 1;; p++) {
			if (*p && *p != '/')
				continue;
			char end = *p; // '/' or the terminating 0
			*p = 0;
			int fd = sys::openat2(root, path, O_PATH | O_CLOEXEC, in_root);
			if (fd < 0 && errno != ENOENT)
				die_errno("open %s in the container", path);
			if (fd < 0) { // its parent exists: path's last component is missing, or a dangling symlink
				char *slash = strrchr(path, '/');
				*slash = 0;
				sys::unique_fd parent(sys::openat2(root, *path ? path : "/", O_PATH | O_DIRECTORY | O_CLOEXEC, in_root));
				*slash = '/';
				if (!parent)
					die_errno("open %s in the container", path);
				char link[PATH_MAX], next[PATH_MAX];
				ssize_t n = readlinkat(parent.get(), slash + 1, link, sizeof link - 1);
				if (n >= 0) {
					link[n] = 0;
					*p = end;
					int w = link[0] == '/' ? snprintf(next, sizeof next, "%s%s", link, p)
							       : snprintf(next, sizeof next, "%.*s/%s%s", int(slash - path), path, link, p);
					if (w >= int(sizeof next))
						die("path %.64s... too long", target);
					memcpy(path, next, size_t(w) + 1);
					break; // again, through what the link names
				}
				if (end || dir) {
					if (mkdirat(parent.get(), slash + 1, 0755) < 0 && errno != EEXIST)
						die_errno("create directory %s in the container", path);
				} else {
					sys::unique_fd f(openat(parent.get(), slash + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
					if (!f)
						die_errno("create %s in the container", path);
				}
				if ((fd = sys::openat2(root, path, O_PATH | O_CLOEXEC, in_root)) < 0)
					die_errno("open %s in the container", path);
			}
			if (!end)
				return fd;
			close(fd);
			*p = '/';
		}
	}
	die("open %s in the container: too many levels of symbolic links", target);
}

// /etc/hosts and /etc/hostname name the container and its address, as docker gives them:
// files of the container's own tmpfs, bound over the image's (created where missing). The
// launcher never writes through a path of the image, nor into a volume's files.
static void bind_etc_files(int root, const char *hostname, const network::inside_config &net)
{
	char hosts[256], addr[16] = "";
	if (net.addr)
		network::format_ipv4(net.addr, addr);
	snprintf(hosts, sizeof hosts, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s%s%s%s",
		 addr, net.addr ? "\t" : "", net.addr ? hostname : "", net.addr ? "\n" : "");
	char name_line[80];
	snprintf(name_line, sizeof name_line, "%s\n", hostname);
	for (auto [path, text] : {std::pair{"/etc/hosts", hosts}, std::pair{"/etc/hostname", name_line}}) {
		const char *name = path + 5; // in the tmpfs, beside root/
		sys::unique_fd f(open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
		size_t n = strlen(text);
		if (!f || write(f.get(), text, n) != ssize_t(n))
			die_errno("write %s/%s", scratch, name);
		sys::unique_fd target(open_in_root(root, path, false));
		bind_fd(f.get(), target.get(), path);
	}
}

// /proc, a fresh tmpfs /dev with its nodes and links, /dev/pts, /dev/shm, /dev/mqueue and a
// read-only /sys, all inside the new root before pivot_root.
static void mount_kernel_filesystems(int root, const host_nodes *userns)
{
	sys::unique_fd dev;
	for (const sys::mount_rule &m : container_mounts) {
		const char *slash = strchr(m.target, '/');
		sys::unique_fd at(own_directory(slash ? dev.get() : root, slash ? slash + 1 : m.target, m.target));
		if (userns && strcmp(m.fstype, "sysfs") == 0) {
			// The host's /sys comes with the host's mounts under it (cgroups, debugfs,
			// bpf, ...): each one read-only, and the host's cgroup tree hidden.
			bind_fd(userns->sys, at.get(), "host /sys");
			close(userns->sys);
			sys::unique_fd bound(openat(root, "sys", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
			if (!bound || sys::mount_setattr(bound.get(), "", AT_EMPTY_PATH | AT_RECURSIVE,
							 sys::mount_attr_rdonly | sys::mount_attr_nosuid | sys::mount_attr_nodev |
								 sys::mount_attr_noexec) < 0)
				die_errno("make the host's /sys read-only");
			sys::unique_fd cgroups(openat(bound.get(), "fs/cgroup", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
			if (cgroups && mount("tmpfs", fd_path(cgroups.get()).s, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0") < 0)
				die_errno("hide the host's /sys/fs/cgroup");
			continue;
		}
		// gid 5 (tty) may not exist in a user namespace's map
		const char *data = userns && strcmp(m.fstype, "devpts") == 0 ? "newinstance,ptmxmode=0666,mode=0620" : m.data;
		if (mount(m.source, fd_path(at.get()).s, m.fstype, m.flags, data) < 0)
			die_errno("mount %s on /%s", m.fstype, m.target);
		if (strcmp(m.target, "dev") == 0 && // the fresh tmpfs, now on root/dev
		    (dev.reset(openat(root, "dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)), !dev))
			die_errno("open the container's /dev");
	}
	for (size_t i = 0; i < std::size(devices); i++) {
		const device_node &d = devices[i];
		if (!userns) {
			if (mknodat(dev.get(), d.name, S_IFCHR | 0666, makedev(d.major, d.minor)) < 0)
				die_errno("create device /dev/%s", d.name);
			continue;
		}
		sys::unique_fd f(openat(dev.get(), d.name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
		if (!f)
			die_errno("create /dev/%s", d.name);
		bind_fd(userns->device_fds[i], f.get(), d.name);
		close(userns->device_fds[i]);
	}
	for (const dev_link &l : dev_links)
		if (symlinkat(l.target, dev.get(), l.name) < 0)
			die_errno("create symlink /dev/%s", l.name);
	step("mounted /proc, /dev, /sys");
}

// A bind mount's source must be a mount of the caller's own namespace, so PID 1 opens the
// host paths itself, before its tmpfs on /tmp could hide any of them.
static void open_volume_sources(container_spec &spec)
{
	for (volume &v : spec.volumes) {
		v.source_fd = open(v.source, O_PATH | O_CLOEXEC);
		if (v.source_fd < 0)
			die_errno("open volume %s", v.source);
	}
}

// Each volume on its target inside the new root (open_in_root): an image's symlink cannot
// point the mount at the host.
static void mount_volumes(const container_spec &spec, int root)
{
	for (const volume &v : spec.volumes) {
		sys::unique_fd t(open_in_root(root, v.target, v.is_dir));
		if (mount(fd_path(v.source_fd).s, fd_path(t.get()).s, nullptr, MS_BIND | MS_REC, nullptr) < 0)
			die_errno("bind volume %s onto %s", v.source, v.target);
		if (v.read_only) {
			t.reset(open_in_root(root, v.target, v.is_dir));
			if (!t || mount(nullptr, fd_path(t.get()).s, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) < 0)
				die_errno("make volume %s read-only", v.target);
		}
		close(v.source_fd);
	}
	if (!spec.volumes.empty())
		step("mounted %zu volumes", spec.volumes.size());
}

// docker's masked paths (files covered with /dev/null, directories with an empty read-only
// tmpfs) and read-only paths (bound read-only over themselves), last, as runc does, so no
// volume uncovers them. Each lies in the container's own /proc or /sys: no symlink is
// followed on the way.
static void mask_kernel_paths(int root)
{
	const uint64_t beneath = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
	sys::unique_fd null(openat(root, "dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC));
	if (!null)
		die_errno("open the container's /dev/null");
	for (const char *path : security::masked_paths) {
		sys::unique_fd at(sys::openat2(root, path + 1, O_PATH | O_CLOEXEC, beneath));
		struct stat st;
		if (!at && errno == ENOENT)
			continue; // this kernel has no such file
		if (!at || fstat(at.get(), &st) < 0)
			die_errno("open %s", path);
		int r = S_ISDIR(st.st_mode) ? mount("tmpfs", fd_path(at.get()).s, "tmpfs", MS_RDONLY, "size=0")
					    : mount(fd_path(null.get()).s, fd_path(at.get()).s, nullptr, MS_BIND, nullptr);
		if (r < 0)
			die_errno("mask %s", path);
	}
	for (const char *path : security::readonly_paths) {
		sys::unique_fd at(sys::openat2(root, path + 1, O_PATH | O_CLOEXEC, beneath));
		if (!at && errno == ENOENT)
			continue;
		if (!at)
			die_errno("open %s", path);
		bind_fd(at.get(), at.get(), path);
		remount_read_only(root, path + 1, MS_NOSUID | MS_NODEV | MS_NOEXEC, path);
	}
}

// After the old root is detached the container's mount table must hold exactly one mount
// on "/", its own: a second one would be the host's tree, still stacked above it.
static void check_single_root()
{
	static char table[65536];
	sys::unique_fd fd(open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC));
	size_t used = 0;
	ssize_t n = 0;
	while (fd && used < sizeof table && (n = read(fd.get(), table + used, sizeof table - used)) > 0)
		used += size_t(n);
	if (!fd || n < 0)
		die_errno("read the container's /proc/self/mountinfo");
	if (used == sizeof table)
		die("the container's /proc/self/mountinfo is over %zu bytes", sizeof table);
	int roots = 0;
	for (std::string_view text(table, used); !text.empty();) {
		std::string_view line = text.substr(0, text.find('\n'));
		text.remove_prefix(std::min(text.size(), line.size() + 1));
		// "ID PARENT MAJOR:MINOR ROOT MOUNTPOINT ...": the fifth field
		for (int field = 0; field < 4; field++)
			line.remove_prefix(std::min(line.size(), line.find(' ') + 1));
		roots += line.substr(0, line.find(' ')) == "/";
	}
	if (roots != 1)
		die("the container's root is not alone: %d mounts on / after detaching the host's", roots);
}

// pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves the
// container nothing of the host's tree, and check_single_root makes sure of it.
static void enter_rootfs(int root)
{
	if (fchdir(root) < 0)
		die_errno("enter %s/root", scratch);
	if (sys::pivot_root(".", ".") == 0) {
		if (umount2(".", MNT_DETACH) < 0)
			die_errno("detach the old root");
		if (chdir("/") < 0)
			die_errno("enter /");
		step("pivoted into the new root");
	} else {
		// The initramfs's rootfs can never be pivoted away (EINVAL). Do what switch_root
		// does: move the new root over "/" and chroot into it. The rootfs then lies under
		// our root mount, where no path reaches it.
		if (errno != EINVAL)
			die_errno("pivot_root into %s/root", scratch);
		if (mount(".", "/", nullptr, MS_MOVE, nullptr) < 0 || chroot(".") < 0 || chdir("/") < 0)
			die_errno("move the new root over /");
		step("pivot_root refused (initramfs): moved the new root over / instead");
	}
	check_single_root();
}

// mkdir -p of the working directory, inside the container (docker creates a missing one).
static void enter_workdir(const char *dir)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof path, "%s", dir) >= int(sizeof path))
		die("working directory too long");
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		mkdir_in(path, 0755);
		*p = '/';
	}
	mkdir_in(path, 0755);
	if (chdir(path) < 0)
		die_errno("enter working directory %s", path);
	// A cwd outside the root reads as "(unreachable)/..." or fails (CVE-2024-21626).
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd) || cwd[0] != '/')
		die("working directory %s lies outside the container", path);
}

// The user the command runs as, as docker resolves --user or the image's User through the
// image's own /etc/passwd and /etc/group: NAME or UID, then an optional :GROUP or :GID.
// A name must exist; a number need not (its group is then 0 and HOME "/"). Supplementary
// groups: the primary one and each group that lists the user's name. HOME comes from
// the passwd line unless the image or -e set it.
static void resolve_user(container_spec &spec)
{
	std::string_view user(spec.user), group;
	if (size_t colon = user.find(':'); colon != user.npos)
		group = user.substr(colon + 1), user = user.substr(0, colon);
	if (user.empty())
		user = "0";
	// Copied out: each_etc_line reuses its buffer for /etc/group.
	static char name[256], home[PATH_MAX]; // .bss: an initializer would put 4 KB in the binary
	home[0] = '/';
	bool found = each_etc_line("/etc/passwd", [&](std::string_view *f) {
		if (!(all_digits(user) ? f[2] == user : f[0] == user) || !all_digits(f[2]) || !all_digits(f[3]))
			return false;
		snprintf(name, sizeof name, "%.*s", int(f[0].size()), f[0].data());
		if (!f[5].empty())
			snprintf(home, sizeof home, "%.*s", int(f[5].size()), f[5].data());
		spec.uid = number_of(f[2]), spec.gid = number_of(f[3]);
		return true;
	});
	if (!found) {
		if (!all_digits(user))
			die("unable to find user %.*s: no matching entries in the image's /etc/passwd", int(user.size()), user.data());
		spec.uid = number_of(user), spec.gid = 0;
	}
	if (!group.empty() && !all_digits(group) &&
	    !each_etc_line("/etc/group", [&](std::string_view *f) {
		    if (f[0] != group || !all_digits(f[2]))
			    return false;
		    spec.gid = number_of(f[2]);
		    return true;
	    }))
		die("unable to find group %.*s: no matching entries in the image's /etc/group", int(group.size()), group.data());
	if (all_digits(group))
		spec.gid = number_of(group);
	spec.groups[spec.group_count++] = spec.gid;
	if (*name)
		each_etc_line("/etc/group", [&](std::string_view *f) {
			for (std::string_view members = f[3]; !members.empty();) {
				std::string_view m = members.substr(0, members.find(','));
				members.remove_prefix(std::min(members.size(), m.size() + 1));
				if (m == name && all_digits(f[2]) && spec.group_count < std::size(spec.groups)) {
					gid_t g = number_of(f[2]);
					if (std::find(spec.groups, spec.groups + spec.group_count, g) == spec.groups + spec.group_count)
						spec.groups[spec.group_count++] = g;
				}
			}
			return false;
		});
	if (!image::get_env(spec.env, "HOME")) {
		static char home_kv[PATH_MAX + 8]; // zero-filled: .bss, not 4 KB of the binary
		snprintf(home_kv, sizeof home_kv, "HOME=%s", home);
		spec.env.push_back(home_kv);
	}
}

// ---- Inside: PID 1 ------------------------------------------------------------------

static int status_code(int wstatus)
{
	return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

// execvpe with the container's PATH (musl's execvpe reads the caller's PATH instead).
// Like execvp: keep looking past ENOENT and EACCES, report EACCES if any entry had it.
static int exec_command(const container_spec &spec)
{
	char *const *argv = const_cast<char *const *>(spec.argv.data());
	char *const *envp = const_cast<char *const *>(spec.env.data());
	const char *file = argv[0];
	if (strchr(file, '/')) {
		execve(file, argv, envp);
		return errno;
	}
	const char *path = image::get_env(spec.env, "PATH");
	int err = ENOENT;
	for (const char *dir = path; dir && *dir;) {
		size_t len = strcspn(dir, ":");
		char full[PATH_MAX];
		if (len + 1 + strlen(file) < sizeof full) {
			snprintf(full, sizeof full, "%.*s%s%s", int(len), dir, len ? "/" : "", file);
			execve(full, argv, envp);
			if (errno == EACCES)
				err = EACCES;
			else if (errno != ENOENT && errno != ENOTDIR)
				return errno;
		}
		dir += len + (dir[len] == ':');
	}
	return err;
}

// Capabilities of a process that keeps `keep`: the bounding set loses every other one
// (exec as root then yields exactly these), ambient ones are cleared.
static int drop_bounding(uint64_t keep)
{
	for (int cap = 0; cap < 64; cap++)
		if (!(keep >> cap & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break; // past the running kernel's last one: they are numbered without gaps
			return errno;
		}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return errno;
	return 0;
}

// Effective and permitted sets exactly `caps`, inheritable empty; then no_new_privs (no
// setuid binary regains any) and the seccomp filter, which needs no_new_privs (or
// CAP_SYS_ADMIN) to be installed.
static int lock_down(uint64_t caps, bool seccomp)
{
	__user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
	__user_cap_data_struct data[2] = {};
	for (int i = 0; i < 2; i++)
		data[i].effective = data[i].permitted = uint32_t(caps >> (32 * i));
	if (syscall(SYS_capset, &header, data) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return errno;
	if (seccomp) {
		static constexpr security::filter filter = security::make_filter();
		sock_fprog prog = {uint16_t(security::filter_length), const_cast<sock_filter *>(filter.code)};
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
			return errno;
	}
	return 0;
}

// The entrypoint's privileges, set just before exec: docker's capabilities (or those
// --cap-add and --cap-drop leave), the user, no_new_privs, the seccomp filter. Leaving
// uid 0 empties the permitted set. --privileged keeps every capability and no filter, but
// still the user (docker's --privileged --user 1000).
static int confine(const container_spec &spec)
{
	if (int err = spec.privileged ? 0 : drop_bounding(spec.caps))
		return err;
	// An id map written without the helpers denies setgroups: only the primary group
	// remains then.
	if (sys::set_groups(spec.group_count, spec.groups) < 0 && !(spec.userns && errno == EPERM))
		return errno;
	if (sys::set_gid(spec.gid) < 0 || sys::set_uid(spec.uid) < 0)
		return errno;
	if (spec.privileged)
		return 0;
	return lock_down(spec.uid == 0 ? spec.caps : 0, spec.seccomp);
}

// PID 1 itself once the entrypoint runs. It only waits, reaps and signals from then on,
// so it keeps CAP_KILL alone (to signal an entrypoint of another uid), under the
// container's no_new_privs and filter: a process inside that may ptrace (--cap-add
// SYS_PTRACE) finds in PID 1 nothing it lacks itself. It holds no host descriptor either.
static void confine_init(const container_spec &spec)
{
	constexpr uint64_t keep = uint64_t(1) << CAP_KILL;
	if (spec.privileged)
		return;
	if (int err = drop_bounding(keep); err || (err = lock_down(keep, spec.seccomp))) {
		errno = err;
		die_errno("confine the container's PID 1");
	}
}

// Forks the entrypoint into its own process group. Exec failure comes back over a close-on-exec pipe, as posix_spawn does:
// reading 0 bytes means the exec worked.
static pid_t spawn_entrypoint(const container_spec &spec, int &exec_errno)
{
	int report[2];
	if (pipe2(report, O_CLOEXEC) < 0)
		die_errno("pipe");
	pid_t pid = pid_t(sys::clone_fork(SIGCHLD));
	if (pid < 0)
		die_errno("fork %s", spec.argv[0]);
	if (pid == 0) {
		close(report[0]);
		setpgid(0, 0);
		for (int sig = 1; sig < _NSIG; sig++)
			sys::default_action(sig);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, nullptr);
		sys::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		int err = confine(spec);
		if (err) {
			dprintf(2, "launcher: confine %s: %s\n", spec.argv[0], strerror(err));
			_exit(sys::exit_failure);
		}
		err = exec_command(spec);
		(void)!write(report[1], &err, sizeof err);
		_exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
	}
	setpgid(pid, pid); // both sides, so neither order of the two calls races
	close(report[1]);
	exec_errno = 0;
	ssize_t n;
	while ((n = read(report[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
	}
	close(report[0]);
	if (n <= 0)
		exec_errno = 0;
	return pid;
}

// PID 1 of the container: signals stay blocked and are taken with sigwaitinfo, so none
// is lost between two waits. When the entrypoint ends, whatever it left is killed and
// reaped, and PID 1 exits with the entrypoint's status.
[[noreturn]] static void run_init(const container_spec &spec, const sigset_t &blocked)
{
	int exec_errno;
	pid_t main_pid = spawn_entrypoint(spec, exec_errno);
	confine_init(spec);
	if (exec_errno)
		dprintf(2, "launcher: exec %s: %s\n", spec.argv[0], strerror(exec_errno));
	else
		step("started %s as pid %d", spec.argv[0], main_pid);
	bool main_done = false;
	int main_status = 0;
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&blocked, &si);
		if (sig < 0)
			continue; // EINTR: nothing to do
		switch (action_for(sig)) {
		case on_signal::forward:
			if (!main_done)
				kill(main_pid, sig);
			break;
		case on_signal::ignore:
		case on_signal::fault:
			break;
		case on_signal::reap:
			for (;;) {
				int ws;
				pid_t pid = waitpid(-1, &ws, WNOHANG);
				if (pid > 0) {
					if (pid == main_pid) {
						main_done = true;
						main_status = status_code(ws);
						// Orphans die with the entrypoint, as in docker (tini#236).
						kill(-1, SIGKILL);
					}
					continue;
				}
				if (pid < 0 && errno == ECHILD && main_done)
					_exit(main_status);
				break;
			}
		}
	}
}

// The arguments as the kernel keeps them: /proc/PID/cmdline reads this memory. The
// launcher works on a copy, so that the container's PID 1 can blank the original and no
// process inside reads the host's command line (paths, names) as /proc/1/cmdline.
static std::span<char> kernel_args;

static char **copy_arguments(int argc, char **argv)
{
	size_t bytes = 0;
	for (int i = 0; i < argc; i++)
		bytes += strlen(argv[i]) + 1;
	char **copy = static_cast<char **>(malloc(sizeof(char *) * size_t(argc + 1)));
	char *text = static_cast<char *>(malloc(bytes ? bytes : 1));
	if (!copy || !text)
		die("out of memory");
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;
		copy[i] = static_cast<char *>(memcpy(text, argv[i], n));
		text += n;
	}
	copy[argc] = nullptr;
	if (argc > 0)
		kernel_args = {argv[0], bytes};
	return copy;
}

static void blank_kernel_args()
{
	memset(kernel_args.data(), 0, kernel_args.size());
	memcpy(kernel_args.data(), "launcher", std::min(kernel_args.size(), sizeof "launcher") - 1);
}

// The host's word to its container: go, and this is your network.
struct go_message {
	network::inside_config net;
};

// The cloned child: PID 1 of the new namespaces.
[[noreturn]] static void container_main(const image_archive &img, container_spec &spec, const options::parsed &o,
					int go_fd, int netns_fd, const sigset_t &blocked)
{
	blank_kernel_args();
	go_message go;
	if (read(go_fd, &go, sizeof go) != sizeof go)
		_exit(sys::exit_failure);
	// The host has written our id maps: become the namespace's root. A change of
	// credentials clears the parent-death signal, so that comes after.
	if (spec.userns && (sys::set_gid(0) < 0 || sys::set_uid(0) < 0))
		die_errno("become root of the user namespace");
	// Die with the launcher. It holds the pipe's other end until it exits, so a hang-up
	// here means it died before the parent-death signal was armed.
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		die_errno("set parent-death signal");
	pollfd alive = {go_fd, 0, 0};
	if (poll(&alive, 1, 0) != 0 && (alive.revents & POLLHUP))
		_exit(sys::exit_failure);
	// A session of its own: the caller's terminal, if stdin is one, is never the
	// container's controlling terminal, so no process inside can push input into the
	// caller's shell (TIOCSTI) or take its foreground. ^C still reaches the entrypoint:
	// the terminal signals the launcher, which forwards it.
	if (setsid() < 0)
		die_errno("start a session");
	// No process of the container may read or ptrace PID 1, nor open its /proc/1/exe.
	if (prctl(PR_SET_DUMPABLE, 0) < 0)
		die_errno("make PID 1 non-dumpable");
	// Before /sys is mounted: sysfs shows the network namespace of whoever mounts it.
	if (netns_fd >= 0 && (setns(netns_fd, CLONE_NEWNET) < 0 || close(netns_fd) < 0))
		die_errno("join network namespace %s", o.netns);
	open_volume_sources(spec);
	host_nodes nodes;
	if (spec.userns)
		open_host_nodes(nodes);
	umask(0);
	build_rootfs(img, spec.userns, spec.overlay);
	// PID 1 idles for the container's life: give back the archive pages it read.
	if (munmap(const_cast<unsigned char *>(img.bytes.data()), img.bytes.size()) < 0)
		die_errno("unmap image %s", img.path);
	for (const layer &l : img.layers)
		if (l.mapped && l.tar.data() && munmap(const_cast<unsigned char *>(l.tar.data()), l.tar.size()) < 0)
			die_errno("unmap an inflated layer");
	// Every mount lands on a directory or file opened inside the new root, before
	// pivot_root: none follows a path of the image out of it.
	sys::unique_fd root(open("root", O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (!root)
		die_errno("open %s/root", scratch);
	bind_etc_files(root.get(), spec.hostname, go.net);
	mount_kernel_filesystems(root.get(), spec.userns ? &nodes : nullptr);
	mount_volumes(spec, root.get());
	if (!spec.privileged)
		mask_kernel_paths(root.get());
	enter_rootfs(root.get());
	root.reset();
	umask(022);
	if (sethostname(spec.hostname, strlen(spec.hostname)) < 0)
		die_errno("set hostname %s", spec.hostname);
	if (strcmp(o.net, "host") != 0 && !o.netns) {
		network::configure_inside(go.net);
		step("configured the network");
	}
	// Nothing of the image runs before the host has checked the layers' digests.
	char checked;
	if (read(go_fd, &checked, 1) != 1)
		_exit(sys::exit_failure);
	close(go_fd);
	// From here on PID 1 holds nothing of the host: the cache's directories (the host side
	// keeps their locks), the host's /sys in a user namespace, ... Only stdio stays.
	if (sys::close_range(3, ~0U, 0) < 0)
		die_errno("close the host's descriptors");
	resolve_user(spec);
	spec.env.push_back(nullptr);
	enter_workdir(spec.workdir);
	if (spec.read_only && mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) < 0)
		die_errno("make the root file system read-only");
	for (size_t i = 0; i < spec.ulimit_count; i++)
		if (sys::set_rlimit(spec.ulimits[i].first, spec.ulimits[i].second) < 0)
			die_errno("set --ulimit %s", o.ulimits[i]);
	run_init(spec, blocked);
}

// ---- Outside: the host side ----------------------------------------------------------

// The launcher on the host passes every signal on to the container's PID 1 and returns
// its status.
static int supervise(pid_t child, const sigset_t &blocked)
{
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&blocked, &si);
		if (sig < 0)
			continue;
		switch (action_for(sig)) {
		case on_signal::forward: kill(child, sig); break;
		case on_signal::ignore:
		case on_signal::fault: break;
		case on_signal::reap: {
			// As a machine's PID 1 every orphan of the machine is ours to reap too.
			int ws;
			for (pid_t p; (p = waitpid(-1, &ws, WNOHANG)) > 0;)
				if (p == child)
					return status_code(ws);
		}
		}
	}
}

static void block_signals(sigset_t &blocked)
{
	sigfillset(&blocked);
	for (const signal_rule &r : signal_rules)
		if (r.action == on_signal::fault)
			sigdelset(&blocked, r.sig);
	if (sigprocmask(SIG_SETMASK, &blocked, nullptr) < 0)
		die_errno("block signals");
}

// What the host side made for a container, given back however the launcher ends.
static network::attachment net_attachment;
static limits::cgroups container_cgroups;
static bool machine_init; // we are the machine's PID 1
static void release_host_resources()
{
	abandon_partial_layer();
	network::release(net_attachment.l);
	limits::remove(container_cgroups);
	if (machine_init)
		machine::power_off();
}

// Runs newuidmap or newgidmap PID MAP... and waits for it.
static void run_map_helper(const char *helper, pid_t child, const char *map)
{
	char words[64], pid[16];
	snprintf(words, sizeof words, "%s", map);
	snprintf(pid, sizeof pid, "%d", child);
	std::vector<char *> argv = {const_cast<char *>(helper), pid};
	for (char *w = strtok(words, " "); w; w = strtok(nullptr, " "))
		argv.push_back(w);
	argv.push_back(nullptr);
	pid_t h = pid_t(sys::clone_fork(SIGCHLD));
	if (h == 0) {
		char *no_env[] = {nullptr};
		execve(helper, argv.data(), no_env);
		_exit(127);
	}
	int ws;
	if (h < 0 || waitpid(h, &ws, 0) != h || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
		die("%s %s %s failed", helper, pid, map);
}

// The child's uid and gid maps. An unprivileged writer may map only its own ids, and
// must first give up setgroups; more than that goes through the setuid helpers.
static void write_id_maps(pid_t child, const container_spec &spec)
{
	if (spec.map_helpers) {
		run_map_helper(newuidmap, child, spec.uid_map);
		run_map_helper(newgidmap, child, spec.gid_map);
		return;
	}
	char path[48];
	struct {
		const char *file, *text;
	} writes[] = {{"setgroups", "deny"}, {"uid_map", spec.uid_map}, {"gid_map", spec.gid_map}};
	for (auto &w : writes) {
		if (getuid() == 0 && strcmp(w.file, "setgroups") == 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/%s", child, w.file);
		sys::unique_fd fd(open(path, O_WRONLY | O_CLOEXEC));
		if (!fd || write(fd.get(), w.text, strlen(w.text)) < 0)
			die_errno("write %s to %s", w.text, path);
	}
}

static int open_netns(const char *name)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, strchr(name, '/') ? "%s" : "/run/netns/%s", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_errno("open network namespace %s", path);
	return fd;
}

// Without the cache, the container unpacks its layers while helpers check their digests;
// its PID 1 waits for this word before it runs anything of the image.
static void layers_checked(const image_archive &img, int go_fd)
{
	for (size_t i = 0; i < img.layers.size(); i++)
		if (img.layers[i].hasher > 0)
			finish_hasher(img.layers[i].hasher, img.layers[i].tar, img.res.layers[i].diff_id, img.layers[i].name,
				      img.layers[i].mapped ? "the uncompressed layer" : "the layer");
	char checked = 1;
	(void)!write(go_fd, &checked, 1); // fails only when the container is gone already
}

[[noreturn]] static void start(const image_archive &img, container_spec &spec, const options::parsed &o)
{
	bool own_netns = strcmp(o.net, "host") != 0 && !o.netns;
	bool bridge = own_netns && strcmp(o.net, "none") != 0;
	if (bridge && !network::valid_name(o.net))
		die("bad --net %s: a network name has 1 to 15 letters, digits, '-', '_' or '.'", o.net);
	sys::unique_fd netns(o.netns ? open_netns(o.netns) : -1);
	sigset_t blocked;
	block_signals(blocked);
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		die_errno("pipe");
	// PID 1 is born in its cgroup2 directory where the kernel can, else moved in before the
	// go message: in its cgroups before it does anything.
	if (spec.cgroup.any()) {
		limits::create(container_cgroups, spec.cgroup);
		step("created cgroups%s", spec.cgroup.devices ? " with the device policy" : "");
	}
	bool born_in_cgroup;
	long pid = sys::clone_fork_into(namespaces | (own_netns ? CLONE_NEWNET : 0) | (spec.userns ? CLONE_NEWUSER : 0) | SIGCHLD,
					container_cgroups.cgroup2_fd, born_in_cgroup);
	if (pid < 0)
		die_errno("clone into new namespaces");
	if (pid == 0) {
		close(go[1]);
		limits::forget(container_cgroups); // the host's to remove
		container_main(img, spec, o, go[0], netns.get(), blocked);
	}
	close(go[0]);
	netns.reset();
	step("cloned container pid %ld%s", pid, born_in_cgroup ? " into its cgroup" : "");
	go_message msg = {};
	sys::at_die = release_host_resources;
	if (spec.userns)
		write_id_maps(pid_t(pid), spec);
	if (spec.cgroup.any())
		limits::enter(container_cgroups, pid_t(pid), born_in_cgroup);
	if (bridge) {
		network::attach(net_attachment, o.net, o.subnet, o.ip, pid_t(pid));
		msg.net = net_attachment.inside;
		step("attached to network %s as %s (%s)", o.net, net_attachment.l.name, net_attachment.host_if);
	}
	if (write(go[1], &msg, sizeof msg) != sizeof msg)
		die_errno("start container");
	layers_checked(img, go[1]);
	// go[1] stays open while we live: the container's PID 1 checks it for a hang-up.
	int status = supervise(pid_t(pid), blocked);
	if (limits::oom_killed(container_cgroups))
		dprintf(2, "launcher: the container ran out of memory (--memory %s): the kernel killed it\n", o.memory);
	if (machine_init)
		dprintf(2, "launcher: exit status %d\n", status);
	release_host_resources();
	exit(status);
}

// runc's CVE-2019-5736: a container process opened /proc/PID/exe of the runtime and
// overwrote the host binary. PID 1 of our containers is the launcher, so before anything
// else it re-executes itself from a sealed in-memory copy: /proc/1/exe then names a memfd
// that no one can write, and the host binary is never reachable from inside.
static void reexec_from_sealed_copy(char **argv)
{
	sys::unique_fd self(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
	if (!self)
		die_errno("open /proc/self/exe");
	if (fcntl(self.get(), F_GET_SEALS) >= 0) {
		prctl(PR_SET_NAME, "launcher"); // exec named us "memfd:launcher"
		return; // already the sealed copy
	}
	struct stat st;
	if (fstat(self.get(), &st) < 0)
		die_errno("stat /proc/self/exe");
	sys::unique_fd copy(memfd_create("launcher", MFD_CLOEXEC | MFD_ALLOW_SEALING));
	if (!copy)
		die_errno("memfd_create");
	for (off_t done = 0; done < st.st_size;) {
		ssize_t n = sendfile(copy.get(), self.get(), &done, size_t(st.st_size - done));
		if (n <= 0)
			die_errno("copy /proc/self/exe");
	}
	if (fcntl(copy.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		die_errno("seal the copy of /proc/self/exe");
	fexecve(copy.get(), argv, environ);
	die_errno("re-execute the sealed copy");
}

// The machine's PID 1 takes its arguments from the kernel command line,
// launcher.args="...", or else from /etc/launcher.args, split as a shell would.
static void machine_arguments(int &argc, char **&argv)
{
	static char text[4096];
	static std::vector<char *> words;
	words = {argv[0]};
	char cmdline[4096];
	sys::unique_fd fd(open("/proc/cmdline", O_RDONLY | O_CLOEXEC));
	ssize_t n = fd ? read(fd.get(), cmdline, sizeof cmdline - 1) : -1;
	bool found = n > 0 && machine::cmdline_value({cmdline, size_t(n)}, "launcher.args", text, sizeof text);
	if (!found) {
		sys::unique_fd file(open("/etc/launcher.args", O_RDONLY | O_CLOEXEC));
		ssize_t m = file ? read(file.get(), text, sizeof text - 1) : -1;
		if (m <= 0)
			die("no arguments: give launcher.args=\"...\" on the kernel command line or write /etc/launcher.args");
		text[m] = 0;
	}
	if (!machine::split_words(text, words))
		die("launcher.args: unterminated quote in %s", text);
	words.push_back(nullptr);
	argc = int(words.size() - 1);
	argv = words.data();
}

int main(int argc, char **argv)
{
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &sys::started);
	argv = copy_arguments(argc, argv);
	machine_init = getpid() == 1;
	sys::at_die = release_host_resources;
	char **original_argv = argv; // what to re-execute with
	if (machine_init) {
		machine::mount_early();
		network::configure_inside({}); // lo up
		machine_arguments(argc, argv);
	}
	// Nothing the caller left open reaches PID 1 or the container (CVE-2024-21626).
	if (sys::close_range(3, ~0U, 0) < 0)
		die_errno("close inherited descriptors");
	options::parsed o;
	if (!options::parse(argc, argv, o))
		die("%s", o.error);
	if (o.help || o.version) {
		if (o.help)
			options::usage(STDOUT_FILENO);
		else
			dprintf(STDOUT_FILENO, "launcher %s\n", LAUNCHER_VERSION);
		if (machine_init)
			machine::power_off();
		return 0;
	}
	sys::verbose = o.verbose;
	if (o.net_rm) {
		if (!network::valid_name(o.net_rm))
			die("bad network name %s", o.net_rm);
		network::remove(o.net_rm);
		if (machine_init)
			machine::power_off();
		return 0;
	}
	const char *cache_root = o.root ? o.root : getenv("LAUNCHER_ROOT") ? getenv("LAUNCHER_ROOT") : "/var/lib/launcher";
	if (o.cache_ls || o.cache_prune) {
		char path[PATH_MAX];
		int layers = cache::open_layers(cache_root, path);
		o.cache_ls ? cache::list(layers) : cache::prune(layers);
		return 0;
	}
	if (o.load_modules)
		for (const char *m : {"overlay", "veth", "bridge"})
			if (!machine::load_module(m))
				die_errno("load module %s", m);

	reexec_from_sealed_copy(machine_init ? original_argv : argv);
	image_archive img;
	open_image(img, const_cast<char *>(o.image), o.image_ref);
	step("read image %s%s%s: %zu layers", img.path, *img.res.name ? " " : "", img.res.name, img.layers.size());
	container_spec spec;
	make_spec(spec, o, img);
	// The cache holds layers as real root unpacks them, for overlayfs; a user namespace,
	// the copy storage and a machine's init (nothing outlives its boot) unpack afresh.
	spec.overlay = strcmp(o.storage, "copy") != 0 && overlay_available();
	if (spec.overlay && !spec.userns && !o.no_cache && !machine_init)
		img.cache = cache::open_layers(cache_root, img.cache_path);
	// overlayfs refuses to create whiteouts on itself (a launcher inside a container whose
	// root is an overlay): there the layers go to the container's tmpfs, as with --no-cache.
	struct statfs fs;
	if (img.cache >= 0 && fstatfs(img.cache, &fs) == 0 && fs.f_type == OVERLAYFS_SUPER_MAGIC) {
		step("the cache %s is on overlayfs, which cannot hold whiteouts: not using it", img.cache_path);
		close(img.cache);
		img.cache = -1;
	}
	mode_t mask = umask(0); // modes exactly as the layers give them
	prepare_layers(img);
	umask(mask);
	start(img, spec, o);
}
