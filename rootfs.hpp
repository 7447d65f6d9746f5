// rootfs.hpp: the container's root file system, built by its PID 1 in its own mount
// namespace: the layers stacked with overlayfs over a private tmpfs (or merged by copy),
// then every mount (/etc files, /proc, /dev, /sys, volumes, masks) made on a directory or
// file opened inside the new root, before pivot_root, so that nothing an image holds can
// redirect one; then pivot_root, the host's tree detached, and one mount on / checked.
#pragma once
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h> // ST_NOSUID, ST_NODEV, ST_NOEXEC: statfs's f_flags bits
#include <sys/vfs.h>
#include <sys/sysmacros.h>

#include "bundle.hpp"
#include "container.hpp"
#include "layers.hpp"
#include "limits.hpp"
#include "machine.hpp"
#include "network.hpp"
#include "security.hpp"
#include "sys.hpp"
#include "unpack.hpp"

namespace rootfs {

using sys::die;
using sys::die_errno;
using sys::step;

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

// Where the container's private tmpfs is mounted, inside its own mount namespace only.
constexpr const char *scratch = "/tmp";

inline void mkdir_in(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		die_errno("create directory %s", path);
}

// Whether the kernel has overlayfs, loading its module first where there is no modprobe.
inline bool overlay_available()
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
inline void merge_layers(const image_archive &img, const unpack::mode &m)
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

inline bool layer_repeated_above(const image_archive &img, size_t i)
{
	for (size_t j = i + 1; j < img.layers.size(); j++)
		if (img.res.layers[j].diff_id == img.res.layers[i].diff_id)
			return true;
	return false;
}

// Stacks the layers with overlayfs, which takes the top layer first: the cache's
// directories, or else each layer unpacked into its own directory of the tmpfs. The upper
// and work dirs are the container's on disk (img.upper_path, beside the cache) when the
// host made them, else on the tmpfs, where every write vanishes with the container.
// Without overlayfs (or with --storage copy) the layers are merged by copy instead.
inline void build(const image_archive &img, bool userns, bool overlay, bool receive = false)
{
	// Nothing we mount may propagate back to the host's mount table. A volume of slave
	// propagation (-v :slave) receives the host's mounts under its source: the tree is then
	// the host's slave instead (runc's rslave), so that a bind of it is one too.
	if (mount(nullptr, "/", nullptr, MS_REC | (receive ? MS_SLAVE : MS_PRIVATE), nullptr) < 0)
		die_errno("make / %s", receive ? "a slave" : "private");
	// overlayfs takes lower directories of this mount namespace only: the cache is opened
	// again here, before the tmpfs could hide it.
	sys::unique_fd cache(img.cache < 0 ? -1 : open(img.cache_path, O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (img.cache >= 0 && !cache)
		die_errno("open the layer cache %s", img.cache_path);
	// The writable layer on disk, when the host made one (its upper and work directories).
	sys::unique_fd writable(*img.upper_path ? open(img.upper_path, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1);
	if (*img.upper_path && !writable)
		die_errno("open the writable layer %s", img.upper_path);
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
		if (layer_repeated_above(img, i)) // stacked once, at its topmost use (below)
			continue;
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
		// cache, which overlayfs refuses to stack twice ("Symbolic link loop"), and is
		// unpacked once without the cache. Its topmost use alone gives the same tree: the
		// lower copy adds nothing it lacks.
		if (layer_repeated_above(img, i))
			continue;
		int w = snprintf(lowerdirs + used, sizeof lowerdirs - used, "%sl/%zu", used ? ":" : "", i);
		if (w < 0 || size_t(w) >= sizeof lowerdirs - used)
			die("image %s: too many layers (%zu)", img.path, n);
		used += size_t(w);
	}
	for (const char *dir : {"upper", "work"}) {
		char target[64];
		snprintf(target, sizeof target, "/proc/self/fd/%d/%s", writable.get(), dir);
		if (!writable)
			mkdir_in(dir, strcmp(dir, "upper") == 0 ? 0755 : 0700);
		else if (symlink(target, dir) < 0)
			die_errno("link %s to the writable layer", dir);
	}
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

// The archive's pages (and inflated layers') PID 1 read, given back once its root is built.
inline void unmap_image(const image_archive &img)
{
	if (munmap(const_cast<unsigned char *>(img.bytes.data()), img.bytes.size()) < 0)
		die_errno("unmap image %s", img.path);
	for (const layer &l : img.layers)
		if (l.mapped && l.tar.data() && munmap(const_cast<unsigned char *>(l.tar.data()), l.tar.size()) < 0)
			die_errno("unmap an inflated layer");
}

// How mount(2) is handed a file the launcher opened: "/proc/self/fd/N", never a joined
// path. The kernel takes the mount point exactly where the descriptor is.
struct fd_path {
	char s[32];
	explicit fd_path(int fd) { snprintf(s, sizeof s, "/proc/self/fd/%d", fd); }
};

inline void bind_fd(int source, int target, const char *what)
{
	if (mount(fd_path(source).s, fd_path(target).s, nullptr, MS_BIND | MS_REC, nullptr) < 0)
		die_errno("bind %s", what);
}

// A bind mount's flags change only on the mount itself: `name` of `parent` is opened
// again, and now names the new mount rather than what it covers.
inline void remount_read_only(int parent, const char *name, unsigned long extra, const char *what)
{
	sys::unique_fd t(sys::openat2(parent, name, O_PATH | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS));
	if (!t || mount(nullptr, fd_path(t.get()).s, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | extra, nullptr) < 0)
		die_errno("make %s read-only", what);
}

// The directory `name` of `parent` that a kernel file system is mounted on (a mount's
// `replace`). Whatever else the image put there, a symlink such as `dev -> /`, a file or a
// device, is replaced by an empty directory: a mount that followed the image's symlink
// would land outside the root (on the host's root, which pivot_root leaves above ours).
// (Made, then opened without following a link: two calls where the name is free or a
// directory already; only what is neither is looked at and replaced.)
inline int own_directory(int parent, const char *name, const char *what)
{
	if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
		die_errno("create directory /%s", what);
	int fd = openat(parent, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ENOTDIR || errno == ELOOP)) {
		if (unlinkat(parent, name, 0) < 0 || mkdirat(parent, name, 0755) < 0)
			die_errno("replace the image's /%s", what);
		step("replaced the image's /%s (not a directory) by a directory", what);
		fd = openat(parent, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		die_errno("open directory /%s", what);
	return fd;
}

// `target` inside the new root, created if missing (directories on the way, then a
// directory or an empty file), every component resolved inside the root: an image's
// symlink, absolute or climbing, stays in it. A dangling symlink on the way is followed as
// the kernel would: what it names is created, inside the root.
inline int open_in_root(int root, const char *target, bool dir)
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

// own_directory at `path` inside the root, its parent resolved inside it (open_in_root;
// the root itself for /proc, /dev and /sys: no call).
inline int own_directory_in_root(int root, const char *path)
{
	char parent[PATH_MAX];
	if (snprintf(parent, sizeof parent, "%s", path) >= int(sizeof parent))
		die("path %.64s... too long", path);
	char *slash = strrchr(parent, '/');
	*slash = 0;
	sys::unique_fd dir(*parent ? open_in_root(root, parent, true) : -1);
	return own_directory(*parent ? dir.get() : root, slash + 1, path + 1);
}

// The regular file `name` of the container's /etc, for a bind mount over it: whatever else
// the image put there (a symlink to its /etc/passwd, a directory, a device) is replaced by
// an empty file first, so the mount never lands where the image points.
inline int own_etc_file(int etc, const char *name)
{
	struct stat st;
	if (fstatat(etc, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
		if (unlinkat(etc, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
			die_errno("replace the image's /etc/%s", name);
		step("replaced the image's /etc/%s (not a file) by a file", name);
	}
	sys::unique_fd made(openat(etc, name, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
	int fd = made ? openat(etc, name, O_PATH | O_NOFOLLOW | O_CLOEXEC) : -1;
	if (fd < 0)
		die_errno("create /etc/%s in the container", name);
	return fd;
}

// --add-host lines, as docker writes them (after localhost, before the container's own);
// host-gateway is the host's address on the container's network (on --net host, the host
// itself).
inline size_t add_host_lines(const container_spec &spec, const network::inside_config &net, char *hosts, size_t n, size_t size)
{
	char gateway[16] = "127.0.0.1";
	if (net.gateway)
		network::format_ipv4(net.gateway, gateway);
	for (const char *h : spec.add_hosts) {
		size_t at = strcspn(h, ":=");
		const char *ip = h + at + 1;
		if (strcmp(ip, "host-gateway") == 0)
			ip = gateway;
		bool bracketed = ip[0] == '[';
		int w = snprintf(hosts + n, size - n, "%.*s\t%.*s\n", int(strcspn(ip, "]") - bracketed), ip + bracketed, int(at), h);
		if (w < 0 || size_t(w) >= size - n)
			die("--add-host: more lines than /etc/hosts holds here (%zu bytes)", size);
		n += size_t(w);
	}
	return n;
}

// /etc/hosts and /etc/hostname name the container and its address, as docker gives them,
// and /etc/resolv.conf its resolvers (dns.hpp): files of the container's own tmpfs, bound
// over the image's own files (made where missing). On a bridge network /etc/hosts is the
// network's hosts file instead (network.hpp's names), bound read-only: no member may
// rewrite its peers' names; with --add-host it is the container's own copy of that file
// as the start found it, with its lines added. The launcher never writes through a path
// of the image, nor into a volume's files.
// On a bridge network without --add-host, /etc/hosts may be left made and opened for
// later (later non-null): the host side makes the network's hosts file while PID 1 builds
// its root, and bind_network_hosts binds it on the file opened now, before any volume.
struct deferred_hosts {
	sys::unique_fd etc, target;
};

inline void bind_etc_files(int root, const container_spec &spec, const network::inside_config &net, const char *resolv,
			   int shared_hosts, deferred_hosts *later = nullptr)
{
	const char *hostname = spec.hostname;
	char hosts[8192], addr[16] = "", name[160];
	if (net.addr)
		network::format_ipv4(net.addr, addr);
	// docker's: NAME.DOMAIN NAME when --domainname is given.
	if (spec.domainname)
		snprintf(name, sizeof name, "%s.%s\t%s", hostname, spec.domainname, hostname);
	else
		snprintf(name, sizeof name, "%s", hostname);
	size_t n;
	if (shared_hosts >= 0 && !spec.add_hosts.empty()) {
		ssize_t got = pread(shared_hosts, hosts, sizeof hosts / 2, 0);
		if (got < 0)
			die_errno("read the network's hosts file");
		n = add_host_lines(spec, net, hosts, size_t(got), sizeof hosts);
		hosts[n] = 0;
		shared_hosts = -1;
	} else {
		n = size_t(snprintf(hosts, sizeof hosts, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"));
		n = add_host_lines(spec, net, hosts, n, sizeof hosts);
		if (net.addr && snprintf(hosts + n, sizeof hosts - n, "%s\t%s\n", addr, name) >= int(sizeof hosts - n))
			die("--add-host: more lines than /etc/hosts holds here (%zu bytes)", sizeof hosts);
	}
	char name_line[80];
	snprintf(name_line, sizeof name_line, "%s\n", hostname);
	sys::unique_fd etc(open_in_root(root, "/etc", true));
	for (auto [file, text] : {std::pair{"hosts", (const char *)hosts}, std::pair{"hostname", (const char *)name_line},
				  std::pair{"resolv.conf", resolv}}) {
		sys::unique_fd target(own_etc_file(etc.get(), file));
		if (later && strcmp(file, "hosts") == 0) {
			later->etc.reset(dup(etc.get()));
			later->target = std::move(target);
			if (!later->etc)
				die_errno("dup");
			continue;
		}
		if (shared_hosts >= 0 && strcmp(file, "hosts") == 0) {
			bind_fd(shared_hosts, target.get(), "the network's hosts file on /etc/hosts");
			remount_read_only(etc.get(), file, MS_NOSUID | MS_NODEV | MS_NOEXEC, "/etc/hosts");
			continue;
		}
		sys::unique_fd f(open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)); // in the tmpfs, beside root/
		size_t len = strlen(text);
		if (!f || write(f.get(), text, len) != ssize_t(len))
			die_errno("write %s/%s", scratch, file);
		bind_fd(f.get(), target.get(), file);
	}
}

inline void bind_network_hosts(deferred_hosts &later, int shared_hosts)
{
	bind_fd(shared_hosts, later.target.get(), "the network's hosts file on /etc/hosts");
	remount_read_only(later.etc.get(), "hosts", MS_NOSUID | MS_NODEV | MS_NOEXEC, "/etc/hosts");
	later = {};
}

// The container's /sys/fs/cgroup, as docker mounts it (read-only; --privileged: writable),
// on the directory of the container's fresh sysfs (`sys`), which no image reaches. PID 1 is in its
// cgroup namespace already, so each mount shows the container's own cgroup as its root.
// A v2 host: cgroup2. A hybrid host: as docker 20.10 there, a tmpfs with a directory per v1
// controller the container has a cgroup in (where its limits are, which programs read:
// memory/memory.limit_in_bytes, ...), and cgroup2 as unified/ (its device program's); a
// controller the container has no cgroup of is left out, rather than show the launcher's.
// Without limits it has no v1 cgroup at all: cgroup2 alone, as on a v2 host (one mount
// rather than four: a start's cost), which reads as the truth, no limit.
// A controller mounted together with another (cpu,cpuacct) is mounted as its host
// directory names it, with a symlink, as the host has it.
inline void mount_cgroups(int root, const limits::cgroup &known, bool writable)
{
	limits::cgroup cg = known;
	if (!cg.v2_root)
		limits::detect(cg); // no cgroup was made: the launcher's own is the namespace's root
	if (!cg.v2_root && !cg.v1)
		return;
	sys::unique_fd sys(openat(root, "sys", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)); // the fresh sysfs
	if (!sys)
		die_errno("open the container's /sys");
	sys::unique_fd at(openat(sys.get(), "fs/cgroup", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
	if (!at)
		die_errno("open the container's /sys/fs/cgroup");
	unsigned long ro = (writable ? 0 : MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	if (cg.v2 || !cg.v1) { // a hybrid host's container without v1 cgroups: its cgroup2 alone
		if (mount("cgroup2", fd_path(at.get()).s, "cgroup2", ro, nullptr) < 0)
			die_errno("mount cgroup2 on /sys/fs/cgroup");
		return;
	}
	if (mount("tmpfs", fd_path(at.get()).s, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=64k") < 0)
		die_errno("mount tmpfs on /sys/fs/cgroup");
	sys::unique_fd dir(openat(sys.get(), "fs/cgroup", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)); // the tmpfs
	if (!dir)
		die_errno("open the container's /sys/fs/cgroup");
	auto mount_in = [&](const char *name, const char *fstype, const char *options) {
		if (mkdirat(dir.get(), name, 0755) < 0)
			die_errno("create /sys/fs/cgroup/%s", name);
		sys::unique_fd d(openat(dir.get(), name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
		if (!d || mount("cgroup", fd_path(d.get()).s, fstype, ro, options) < 0)
			die_errno("mount %s on /sys/fs/cgroup/%s", fstype, name);
	};
	for (size_t i = 0; i < std::size(limits::v1_controllers); i++) {
		if (!(cg.v1 & (1u << i)))
			continue;
		const char *name = limits::v1_controllers[i];
		char host[64], joined[64];
		snprintf(host, sizeof host, "%s/%s", limits::cgroup_root, name);
		ssize_t n = readlink(host, joined, sizeof joined - 1);
		if (n > 0 && !memchr(joined, '/', size_t(n))) { // cpu -> cpu,cpuacct
			joined[n] = 0;
			mount_in(joined, "cgroup", joined);
			if (symlinkat(joined, dir.get(), name) < 0)
				die_errno("create symlink /sys/fs/cgroup/%s", name);
		} else {
			mount_in(name, "cgroup", name);
		}
	}
	if (cg.path[0])
		mount_in("unified", "cgroup2", nullptr);
	if (!writable && mount(nullptr, fd_path(dir.get()).s, nullptr, MS_REMOUNT | MS_BIND | ro, nullptr) < 0)
		die_errno("make /sys/fs/cgroup read-only");
}

// A device node at its path inside the root (a bundle's linux.devices, the default six,
// docker's --device and --privileged nodes): made with mknod, or, in a user namespace
// (where the kernel refuses mknod), the host's node of the same path bound onto an empty
// file. What the image had there is replaced.
// `name` of the directory `parent`, which lies at the node's path.
inline void make_device_at(int parent, const char *name, const container::device &d, bool userns)
{
	struct stat st;
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		die("device %s: not a file name", d.path);
	mode_t type = d.type == 'b' ? S_IFBLK : d.type == 'p' ? S_IFIFO : S_IFCHR;
	bool made = !userns && mknodat(parent, name, type | (d.mode & 07777), makedev(d.major, d.minor)) == 0; // a fresh /dev: one call
	if (!made && (userns || errno == EEXIST) && fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    unlinkat(parent, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
		die_errno("replace %s", d.path);
	if (userns) {
		sys::unique_fd host(open(d.path, O_PATH | O_CLOEXEC));
		sys::unique_fd f(openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
		if (!host || !f)
			die_errno("create device %s", d.path);
		bind_fd(host.get(), f.get(), d.path);
		return;
	}
	if ((!made && mknodat(parent, name, type | (d.mode & 07777), makedev(d.major, d.minor)) < 0) ||
	    fchownat(parent, name, d.uid, d.gid, AT_SYMLINK_NOFOLLOW) < 0)
		die_errno("create device %s", d.path);
}

inline void make_device(int root, const container::device &d, bool userns)
{
	char parent_path[PATH_MAX];
	snprintf(parent_path, sizeof parent_path, "%s", d.path);
	char *slash = strrchr(parent_path, '/');
	*slash = 0;
	sys::unique_fd parent(open_in_root(root, *parent_path ? parent_path : "/", true));
	make_device_at(parent.get(), slash + 1, d, userns);
}

// The default devices (docker's six, unless the bundle names them) and /dev's links.
inline void make_default_devices(int root, std::span<const container::device> given, bool userns)
{
	sys::unique_fd dev(open_in_root(root, "/dev", true));
	for (const device_node &n : devices) {
		char path[32];
		snprintf(path, sizeof path, "/dev/%s", n.name);
		if (std::none_of(given.begin(), given.end(), [&](const container::device &d) { return strcmp(d.path, path) == 0; }))
			make_device_at(dev.get(), n.name, {path, 'c', n.major, n.minor, 0666, 0, 0}, userns);
	}
	for (const dev_link &l : dev_links)
		if (symlinkat(l.target, dev.get(), l.name) < 0 && errno != EEXIST)
			die_errno("create symlink /dev/%s", l.name);
}

// A bind mount's source must be a mount of the caller's own namespace, so PID 1 opens the
// host paths itself, before its tmpfs on /tmp could hide any of them.
inline void open_volume_sources(container_spec &spec)
{
	for (volume &v : spec.volumes) {
		if (v.tmpfs)
			continue;
		v.source_fd = open(v.source, O_PATH | O_CLOEXEC);
		if (v.source_fd < 0)
			die_errno("open volume %s", v.source);
	}
}

// --ipc container:NAME: the donor's /dev/shm (a detached copy of its mount, made in its
// mount namespace: containers::donor_shm) attached over the container's own.
inline void attach_donor_shm(int root, int shm)
{
	sys::unique_fd target(open_in_root(root, "/dev/shm", true));
	if (sys::move_mount(shm, "", target.get(), "", sys::move_mount_f_empty_path | sys::move_mount_t_empty_path) < 0)
		die_errno("attach the /dev/shm of the --ipc container");
	close(shm);
}

// A destination in /proc is refused (runc's rule since CVE-2019-16884): a mount there
// could hide a masked path or point /proc/self at something else. proc on /proc itself is
// the exception.
inline bool in_proc(std::string_view dest)
{
	while (dest.starts_with("/") || dest.starts_with("./")) // "//proc", "/./proc"
		dest.remove_prefix(1);
	return dest == "proc" || dest.starts_with("proc/");
}

// One mount, a bundle's or a volume's, on its destination resolved inside the root
// (open_in_root: an image's symlink cannot point it at the host; created where missing: a
// directory, or a file when a bind mount's source is one). A bind's source is opened here,
// or was by the caller (`source_fd`: a volume's, opened before the container's tmpfs on
// /tmp could hide it, as a bind's source must be a mount of this namespace).
inline void mount_entry(int root, const container::mount &m, bool userns, bool cgroupns, int source_fd = -1)
{
	bool bind = m.flags & MS_BIND, proc_on_proc = strcmp(m.type, "proc") == 0 && strcmp(m.destination, "/proc") == 0;
	if (in_proc(m.destination) && !proc_on_proc)
		die("mount on %s: a mount inside /proc is refused", m.destination);
	sys::unique_fd opened(bind && source_fd < 0 ? open(m.source, O_PATH | O_CLOEXEC) : -1);
	int source = source_fd >= 0 ? source_fd : opened.get();
	struct stat st = {};
	if (bind && (source < 0 || fstat(source, &st) < 0))
		die_errno("open mount source %s", m.source);
	sys::unique_fd target(m.replace ? own_directory_in_root(root, m.destination)
					: open_in_root(root, m.destination, !bind || S_ISDIR(st.st_mode)));
	// The destination as resolved in the root: "..", or a symlink of the image, may lead
	// into a /proc mounted already.
	struct statfs fs;
	if (fstatfs(target.get(), &fs) < 0)
		die_errno("statfs %s", m.destination);
	if (fs.f_type == PROC_SUPER_MAGIC && !proc_on_proc)
		die("mount on %s: a mount inside /proc is refused", m.destination);
	unsigned long flags = m.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
	const char *type = m.type;
	bool all_read_only = m.rro;
	int r;
	if (bind) {
		r = mount(fd_path(source).s, fd_path(target.get()).s, nullptr, m.flags & (MS_BIND | MS_REC), nullptr);
	} else if (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0) {
		// The container's own tree where it has a cgroup namespace (cgroup2 shows the
		// namespace's root); without one, an empty read-only directory rather than
		// the host's whole tree.
		r = cgroupns ? mount("cgroup2", fd_path(target.get()).s, "cgroup2", flags, nullptr)
			     : mount("tmpfs", fd_path(target.get()).s, "tmpfs", flags | MS_RDONLY, "size=0");
	} else {
		r = mount(*m.source ? m.source : type, fd_path(target.get()).s, type, flags, *m.data ? m.data : nullptr);
		// No new sysfs in a user namespace that does not own the network namespace:
		// the host's, as runc does, but read-only all through (runc's remount leaves the
		// host's mounts under /sys, its cgroup tree among them, writable where the user
		// namespace may write), as docker's door binds it.
		if (r < 0 && errno == EPERM && userns && strcmp(type, "sysfs") == 0) {
			sys::unique_fd sys_fd(open("/sys", O_PATH | O_DIRECTORY | O_CLOEXEC));
			r = sys_fd ? mount(fd_path(sys_fd.get()).s, fd_path(target.get()).s, nullptr, MS_BIND | MS_REC, nullptr) : -1;
			flags |= MS_RDONLY;
			bind = all_read_only = true;
		}
	}
	if (r < 0)
		die_errno("mount %s on %s", type, m.destination);
	// A bind mount takes its flags in a remount.
	bool remount = bind && (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_RELATIME | MS_STRICTATIME));
	if (remount || m.propagation || all_read_only) {
		// The destination opened again names the new mount, not what it covers.
		target.reset(open_in_root(root, m.destination, !bind || S_ISDIR(st.st_mode)));
		// The flags the kernel locked on the source (nosuid, nodev, noexec) are kept, or a
		// user namespace's remount fails.
		struct statfs vfs; // f_flags: the mount's ST_* flags, as statvfs's f_flag
		if (remount && fstatfs(target.get(), &vfs) == 0 &&
		    mount(nullptr, fd_path(target.get()).s, nullptr,
			  MS_BIND | MS_REMOUNT | flags | (vfs.f_flags & ST_NOSUID ? MS_NOSUID : 0) | (vfs.f_flags & ST_NODEV ? MS_NODEV : 0) |
				  (vfs.f_flags & ST_NOEXEC ? MS_NOEXEC : 0),
			  nullptr) < 0)
			die_errno("remount %s with its options", m.destination);
		if (all_read_only && sys::mount_setattr(target.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, sys::mount_attr_rdonly) < 0)
			die_errno("make %s read-only all through", m.destination);
		if (m.propagation && mount(nullptr, fd_path(target.get()).s, nullptr, m.propagation, nullptr) < 0)
			die_errno("set the propagation of %s", m.destination);
	}
}

// A volume as config.json's mounts describe one: a bind of its source (all through unless
// docker's bind-recursive=disabled; :ro read-only all through, as docker 25 makes it) or a
// tmpfs with its flags and data.
inline container::mount mount_of(const volume &v)
{
	container::mount m;
	m.destination = v.target;
	m.propagation = v.propagation;
	if (v.tmpfs) {
		m.type = m.source = "tmpfs";
		m.flags = v.tmpfs_flags;
		snprintf(m.data, sizeof m.data, "%s", v.tmpfs_data ? v.tmpfs_data : "");
	} else {
		m.type = "bind", m.source = v.source;
		m.flags = MS_BIND | (v.recursive ? MS_REC : 0);
		m.rro = v.read_only;
	}
	return m;
}

// Each volume on its target inside the new root, as a bundle's mount is (mount_entry,
// below). They come after the kernel file systems, so a target under /dev, /proc or /sys
// lands on the container's own. A volume made for this start first takes a copy of what
// the image holds at its target, as docker seeds one.
inline void mount_volumes(const container_spec &spec, int root)
{
	const uint64_t in_root = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	for (const volume &v : spec.volumes) {
		if (v.seed) { // from the image's tree alone: never through a mount (RESOLVE_NO_XDEV)
			sys::unique_fd from(sys::openat2(root, v.target, O_RDONLY | O_DIRECTORY | O_CLOEXEC, in_root | RESOLVE_NO_XDEV));
			sys::unique_fd to(openat(v.source_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
			if (!to)
				die_errno("open volume %s", v.source);
			if (from)
				volumes::seed(from.get(), to.get(), v.target);
			else if (errno != ENOENT && errno != ENOTDIR && errno != EXDEV)
				die_errno("open %s in the container", v.target);
		}
		mount_entry(root, mount_of(v), false, false, v.source_fd);
		if (v.source_fd >= 0)
			close(v.source_fd);
	}
	if (!spec.volumes.empty())
		step("mounted %zu volumes", spec.volumes.size());
}

// docker's --device nodes, after the kernel file systems; --privileged: every device node
// of the host's /dev too, as docker gives them (read here, before pivot_root, where the
// host's /dev still is).
inline void copy_host_devices(int root, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		die_errno("read the host's %s", dir);
	while (dirent *e = readdir(d)) {
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		struct stat st;
		if (e->d_name[0] == '.' || lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && strcmp(path, "/dev/pts") != 0 && strcmp(path, "/dev/shm") != 0 && strcmp(path, "/dev/mqueue") != 0)
			copy_host_devices(root, path);
		else if ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) && strcmp(path, "/dev/console") != 0 && strcmp(path, "/dev/ptmx") != 0 &&
			 !sys::unique_fd(sys::openat2(root, path, O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS))) // not made yet
			make_device(root, container::device_of(path, st), false);
	}
	closedir(d);
}

// Every node of the container's /dev, once it is mounted: docker's six and /dev's links
// (`defaults`; a bundle that binds a /dev of its own has its nodes), then the description's.
inline void make_devices(int root, std::span<const container::device> devices, bool userns, bool defaults)
{
	if (defaults)
		make_default_devices(root, devices, userns);
	for (const container::device &d : devices)
		make_device(root, d, userns);
}

// A sysctl, written through the container's own /proc/sys before it is made read-only:
// '.' and '/' of the key swapped, as sysctl(8) reads them (container::sysctl_climbs), no
// symlink followed, nothing outside /proc/sys reached.
inline void write_sysctl(int root, std::string_view key, const char *value)
{
	char path[PATH_MAX] = "proc/sys/";
	if (key.size() + 10 > sizeof path)
		die("sysctl %.*s: too long", int(std::min<size_t>(key.size(), 64)), key.data());
	for (size_t i = 0; i < key.size(); i++)
		path[9 + i] = key[i] == '.' ? '/' : key[i] == '/' ? '.' : key[i];
	path[9 + key.size()] = 0;
	sys::unique_fd f(sys::openat2(root, path, O_WRONLY | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS));
	if (!f || write(f.get(), value, strlen(value)) != ssize_t(strlen(value)))
		die_errno("write sysctl %.*s=%s", int(key.size()), key.data(), value);
}

// The description's sysctls, through the container's own /proc, before its read-only
// paths cover /proc/sys: only those of a namespace the container has of its own
// (container::sysctl_namespace; docker's flags were refused with docker's words before
// the start): any other would change the host's kernel.
inline void write_sysctls(int root, const container::description &d)
{
	for (auto [key, value] : d.sysctls) {
		if (!(container::sysctl_namespace(key) & d.new_namespaces))
			die("sysctl %s: not in a namespace of the container", key);
		write_sysctl(root, key, value);
	}
}

// Every mount of the description, in order, inside the root (mount_entry). The container
// has a user namespace (`userns`) or a cgroup namespace of its own (`cgroupns`).
inline void mount_all(int root, const container::description &d, bool userns, bool cgroupns)
{
	for (const container::mount &m : d.mounts)
		mount_entry(root, m, userns, cgroupns);
}

// Masked paths (files covered with /dev/null, directories with an empty read-only tmpfs)
// and read-only paths (bound read-only over themselves), last, as runc does, so no volume
// uncovers them. Each is resolved inside the root (symlinks stay in it; no magic link of
// /proc is followed); one that does not exist is passed over.
inline void mask_paths(int root, std::span<const char *const> masked, std::span<const char *const> readonly)
{
	const uint64_t in_root = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	sys::unique_fd null(openat(root, "dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC));
	if (!null && !masked.empty())
		die_errno("open the container's /dev/null");
	for (const char *path : masked) {
		sys::unique_fd at(sys::openat2(root, path, O_PATH | O_CLOEXEC, in_root));
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
	for (const char *path : readonly) {
		sys::unique_fd at(sys::openat2(root, path, O_PATH | O_CLOEXEC, in_root));
		if (!at && errno == ENOENT)
			continue;
		if (!at)
			die_errno("open %s", path);
		bind_fd(at.get(), at.get(), path);
		at.reset(sys::openat2(root, path, O_PATH | O_CLOEXEC, in_root)); // the new mount
		if (!at || mount(nullptr, fd_path(at.get()).s, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0)
			die_errno("make %s read-only", path);
	}
}

// The kernel's directories among docker's masked paths (the others are files).
constexpr const char *masked_directories[] = {"/proc/acpi", "/proc/asound", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"};

// docker's masked and read-only paths where nothing but the container's fresh proc and sysfs
// lies under /proc and /sys (no volume, no mount of a bundle): each path is then the kernel's
// own, with no link of the image in it, and is mounted by its name from the root, one call a
// step (a file: /dev/null bound over it; a directory, as the kernel has it: an empty read-only
// tmpfs; a path this kernel lacks: ENOENT), rather than opened inside the root, examined and
// closed first (about 40 fewer system calls a start). A path of no such list, or outside
// /proc and /sys, takes mask_paths' way.
// (No mount is tried to learn a kind: a bind that fails once cloned is torn down through
// synchronize_rcu_expedited, dearer than the calls saved.)
inline void mask_kernel_mounts(int root, std::span<const char *const> masked, std::span<const char *const> readonly)
{
	auto kernel_path = [](const char *p) { return strncmp(p, "/proc/", 6) == 0 || strncmp(p, "/sys/", 5) == 0; };
	auto among = [](const char *p, std::span<const char *const> list) {
		return std::any_of(list.begin(), list.end(), [&](const char *d) { return strcmp(d, p) == 0; });
	};
	sys::unique_fd back(open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (!back || fchdir(root) < 0)
		die_errno("enter the new root");
	for (const char *path : masked) {
		if (!among(path, security::masked_paths)) { // its kind unknown
			mask_paths(root, std::span(&path, 1), {});
			continue;
		}
		const char *p = path + 1;
		int r = among(path, masked_directories) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0") : mount("dev/null", p, nullptr, MS_BIND, nullptr);
		if (r < 0 && errno != ENOENT)
			die_errno("mask %s", path);
	}
	for (const char *path : readonly) {
		if (!kernel_path(path)) {
			mask_paths(root, {}, std::span(&path, 1));
			continue;
		}
		const char *p = path + 1;
		if (mount(p, p, nullptr, MS_BIND | MS_REC, nullptr) < 0) {
			if (errno == ENOENT)
				continue;
			die_errno("bind %s", path);
		}
		if (mount(nullptr, p, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0)
			die_errno("make %s read-only", path);
	}
	if (fchdir(back.get()) < 0)
		die_errno("return to %s", scratch);
}

// After the old root is detached the container's mount table must hold exactly one mount
// on "/", its own: a second one would be the host's tree, still stacked above it.
// How many mounts of a /proc/self/mountinfo text sit on "/": each line reads
// "ID PARENT MAJOR:MINOR ROOT MOUNTPOINT ...", the mount point its fifth field (a space in
// it is written \040, so fields split on spaces alone).
inline int mounts_on_root(std::string_view mountinfo)
{
	int roots = 0;
	for (std::string_view text = mountinfo; !text.empty();) {
		std::string_view line = text.substr(0, text.find('\n'));
		text.remove_prefix(std::min(text.size(), line.size() + 1));
		for (int field = 0; field < 4 && !line.empty(); field++)
			line.remove_prefix(line.find(' ') == line.npos ? line.size() : line.find(' ') + 1);
		roots += !line.empty() && line.substr(0, line.find(' ')) == "/";
	}
	return roots;
}

inline void check_single_root()
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
	int roots = mounts_on_root({table, used});
	if (roots != 1)
		die("the container's root is not alone: %d mounts on / after detaching the host's", roots);
}

// pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves the
// container nothing of the host's tree, and check_single_root makes sure of it.
inline void enter(int root)
{
	sys::unique_fd old_root(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (!old_root)
		die_errno("open /");
	if (fchdir(root) < 0)
		die_errno("enter %s/root", scratch);
	if (sys::pivot_root(".", ".") == 0) {
		// The old root made a slave all through before it is detached: unmounting a
		// mount that is still a peer of the host's (a root made private alone keeps its
		// submounts shared) would unmount the host's copy too.
		if (fchdir(old_root.get()) < 0 || mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0)
			die_errno("make the old root a slave");
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
inline void enter_workdir(const char *dir, bool make = true)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof path, "%s", dir) >= int(sizeof path))
		die("working directory too long");
	if (make)
		sys::mkdirs(path, 0755);
	if (chdir(path) < 0)
		die_errno("enter working directory %s", path);
	// A cwd outside the root reads as "(unreachable)/..." or fails (CVE-2024-21626).
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd) || cwd[0] != '/')
		die("working directory %s lies outside the container", path);
}

// After pivot_root, for either door, in runc's order: the host and domain names (only in
// a UTS namespace of the container's, its own or joined; nullptr or "": left as the
// namespace has them), the working directory (made if missing, before the root can be
// read-only), the root read-only, the process's rlimits and OOM score.
inline void finish(const container::description &d)
{
	if (container::has_namespace(d, CLONE_NEWUTS)) {
		if (d.hostname && *d.hostname && sethostname(d.hostname, strlen(d.hostname)) < 0)
			die_errno("set the host name %s", d.hostname);
		if (d.domainname && *d.domainname && setdomainname(d.domainname, strlen(d.domainname)) < 0)
			die_errno("set the domain name %s", d.domainname);
	}
	enter_workdir(d.proc.cwd);
	if (d.root_readonly && mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) < 0)
		die_errno("make the root file system read-only");
	limits::set_rlimits(d.proc.rlimits);
	if (d.proc.oom_score_set) {
		sys::unique_fd fd(open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC));
		char text[16];
		int n = snprintf(text, sizeof text, "%d", d.proc.oom_score_adj);
		if (!fd || write(fd.get(), text, size_t(n)) != n)
			die_errno("write oom_score_adj %d", d.proc.oom_score_adj);
	}
}

} // namespace rootfs
