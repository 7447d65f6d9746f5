// volumes.hpp: docker's storage flags. -v, --mount and --tmpfs read into one request each
// (pure parsers: text in, request out, a one-line reason when wrong); named volumes as
// docker keeps them, DATA_ROOT/volumes/NAME/_data, made on first use and seeded from the
// image's directory at the target; `launcher volume ls|rm|prune`.
#pragma once
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <cstring>
#include <vector>
#include <string_view>

#include "cache.hpp"
#include "options.hpp"
#include "sys.hpp"
#include "unpack.hpp"

namespace volumes {

using sys::die;
using sys::die_errno;

enum class kind { bind, volume, tmpfs };

// The named volumes' directory, the layer cache's: --data-root, $LAUNCHER_ROOT, docker's
// place for root, and for anyone else a directory of their own (cache::user_root).
inline const char *data_root(const options::parsed &o)
{
	static char user_root[PATH_MAX];
	if (o.root || getenv("LAUNCHER_ROOT") || getuid() == 0)
		return o.root ? o.root : getenv("LAUNCHER_ROOT") ? getenv("LAUNCHER_ROOT") : "/var/lib/launcher";
	if (!cache::user_root(user_root))
		die("named volumes: no data root: give --data-root, or set HOME or XDG_DATA_HOME");
	return user_root;
}

struct request {
	kind type = kind::bind;
	std::string_view source, target; // source: a host path, a volume name, or empty (anonymous)
	bool read_only = false, nocopy = false, recursive = true;
	unsigned long propagation = 0; // MS_SHARED, MS_SLAVE or MS_PRIVATE, with MS_REC for r...
	unsigned long tmpfs_flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	char tmpfs_data[128] = "";
};

// docker's rule for a local volume's name.
inline bool valid_name(std::string_view n)
{
	auto ok = [](char c, bool first) {
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (!first && (c == '_' || c == '.' || c == '-'));
	};
	if (n.size() < 2 || n.size() > 200)
		return false;
	for (size_t i = 0; i < n.size(); i++)
		if (!ok(n[i], i == 0))
			return false;
	return true;
}

struct propagation_name {
	const char *name;
	unsigned long flags;
};
constexpr propagation_name propagations[] = {
	{"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC}, {"shared", MS_SHARED},
	{"rshared", MS_SHARED | MS_REC}, {"slave", MS_SLAVE},       {"rslave", MS_SLAVE | MS_REC},
};

inline unsigned long propagation_of(std::string_view s)
{
	for (const propagation_name &p : propagations)
		if (s == p.name)
			return p.flags;
	return 0;
}

[[gnu::format(printf, 3, 4)]] inline bool refuse(char *err, size_t size, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	vsnprintf(err, size, format, ap);
	va_end(ap);
	return false;
}

inline bool check_target(std::string_view t, const char *flag, const char *arg, char *err, size_t size)
{
	if (t.empty() || t[0] != '/')
		return refuse(err, size, "bad %s %s: the container path must be absolute", flag, arg);
	if (t.find_first_not_of("/.") == t.npos) // "/", "//", "/.": docker refuses it too
		return refuse(err, size, "bad %s %s: the container's root cannot be a mount target", flag, arg);
	std::string_view d = t;
	while (d.starts_with("/") || d.starts_with("./")) // "//proc", "/./proc"
		d.remove_prefix(1);
	if (d == "proc" || d.starts_with("proc/")) // runc's rule (CVE-2019-16884): masked paths, sysctls, /proc/self/attr
		return refuse(err, size, "bad %s %s: a mount inside /proc is refused", flag, arg);
	return true;
}

inline bool is_mode_list(std::string_view modes)
{
	while (!modes.empty()) {
		std::string_view m = modes.substr(0, modes.find(','));
		modes.remove_prefix(std::min(modes.size(), m.size() + 1));
		if (m != "ro" && m != "rw" && m != "z" && m != "Z" && m != "nocopy" && !propagation_of(m))
			return false;
	}
	return true;
}

// -v [SOURCE:]TARGET[:MODES]: SOURCE an absolute host path (a bind) or a volume name;
// without it an anonymous volume. MODES, comma-separated: ro or rw, z or Z (SELinux
// relabelling: accepted, there is none here), a propagation, nocopy.
inline bool parse_volume(const char *arg, request &r, char *err, size_t size)
{
	std::string_view a(arg), parts[4];
	size_t n = 0;
	for (size_t start = 0;; n++) {
		size_t colon = a.find(':', start);
		if (n == 3)
			return refuse(err, size, "bad --volume %s: expected [SOURCE:]TARGET[:MODES]", arg);
		parts[n] = a.substr(start, colon == a.npos ? a.npos : colon - start);
		if (colon == a.npos) {
			n++;
			break;
		}
		start = colon + 1;
	}
	std::string_view modes;
	if (n == 1)
		r.target = parts[0];
	else if (n == 2 && is_mode_list(parts[1]))
		return refuse(err, size, "bad --volume %s: expected [SOURCE:]TARGET[:MODES]; an anonymous volume takes no mode", arg);
	else
		r.source = parts[0], r.target = parts[1], modes = n == 3 ? parts[2] : "";
	r.type = !r.source.empty() && r.source[0] == '/' ? kind::bind : kind::volume;
	if (n > 1 && r.source.empty())
		return refuse(err, size, "bad --volume %s: an empty source", arg);
	if (r.type == kind::volume && !r.source.empty() && !valid_name(r.source))
		return refuse(err, size, "bad --volume %s: \"%.*s\" is no volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+) nor an absolute host path",
			      arg, int(r.source.size()), r.source.data());
	bool rw_seen = false, label_seen = false;
	while (!modes.empty()) {
		std::string_view m = modes.substr(0, modes.find(','));
		modes.remove_prefix(std::min(modes.size(), m.size() + 1));
		if ((m == "ro" || m == "rw") && !rw_seen)
			r.read_only = m == "ro", rw_seen = true;
		else if ((m == "z" || m == "Z") && !label_seen)
			label_seen = true;
		else if (propagation_of(m) && !r.propagation)
			r.propagation = propagation_of(m);
		else if (m == "nocopy" && r.type == kind::volume)
			r.nocopy = true;
		else if (m == "delegated" || m == "cached" || m == "consistent")
			; // macOS's consistency hints: nothing on Linux, as docker
		else
			return refuse(err, size, "bad --volume %s: invalid mode: %.*s", arg, int(m.size()), m.data());
	}
	return check_target(r.target, "--volume", arg, err, size);
}

// tmpfs options as the mount takes them: flags by name, the rest (size, mode, uid, gid,
// nr_inodes, ...) passed on as data; a size is read as docker reads sizes.
inline bool tmpfs_options(std::string_view opts, request &r, const char *flag, const char *arg, char *err, size_t size)
{
	struct named_flag {
		const char *name;
		unsigned long set, clear;
	};
	static constexpr named_flag names[] = {
		{"ro", MS_RDONLY, 0}, {"rw", 0, MS_RDONLY}, {"exec", 0, MS_NOEXEC}, {"noexec", MS_NOEXEC, 0},
		{"suid", 0, MS_NOSUID}, {"nosuid", MS_NOSUID, 0}, {"dev", 0, MS_NODEV}, {"nodev", MS_NODEV, 0},
		{"atime", 0, MS_NOATIME}, {"noatime", MS_NOATIME, 0}, {"strictatime", MS_STRICTATIME, 0},
	};
	size_t used = strlen(r.tmpfs_data);
	while (!opts.empty()) {
		std::string_view o = opts.substr(0, opts.find(','));
		opts.remove_prefix(std::min(opts.size(), o.size() + 1));
		const named_flag *f = nullptr;
		for (const named_flag &x : names)
			if (o == x.name)
				f = &x;
		if (f) {
			r.tmpfs_flags = (r.tmpfs_flags | f->set) & ~f->clear;
			continue;
		}
		std::string_view key = o.substr(0, o.find('=')), value = o.substr(std::min(o.size(), key.size() + 1));
		if (key != "size" && key != "mode" && key != "uid" && key != "gid" && key != "nr_inodes" && key != "nr_blocks")
			return refuse(err, size, "bad %s %s: unknown tmpfs option %.*s", flag, arg, int(o.size()), o.data());
		int w;
		if (key == "size" && !value.ends_with('%')) {
			char why[96], text[32];
			int64_t bytes;
			snprintf(text, sizeof text, "%.*s", int(value.size()), value.data());
			if (value.size() >= sizeof text || !options::parse_size(text, bytes, why, sizeof why))
				return refuse(err, size, "bad %s %s: size: %s", flag, arg, why);
			w = snprintf(r.tmpfs_data + used, sizeof r.tmpfs_data - used, "%ssize=%lld", used ? "," : "", (long long)bytes);
		} else {
			w = snprintf(r.tmpfs_data + used, sizeof r.tmpfs_data - used, "%s%.*s", used ? "," : "", int(o.size()), o.data());
		}
		if (w < 0 || size_t(w) >= sizeof r.tmpfs_data - used)
			return refuse(err, size, "bad %s %s: options too long", flag, arg);
		used += size_t(w);
	}
	return true;
}

// --tmpfs TARGET[:OPTIONS], as docker: noexec, nosuid, nodev unless the options say otherwise.
inline bool parse_tmpfs(const char *arg, request &r, char *err, size_t size)
{
	std::string_view a(arg);
	size_t colon = a.find(':');
	r.type = kind::tmpfs;
	r.target = a.substr(0, colon);
	return check_target(r.target, "--tmpfs", arg, err, size) &&
	       tmpfs_options(colon == a.npos ? "" : a.substr(colon + 1), r, "--tmpfs", arg, err, size);
}

// --mount type=bind|volume|tmpfs,source=...,target=...,readonly,...: docker's keys.
inline bool parse_mount(const char *arg, request &r, char *err, size_t size)
{
	std::string_view a(arg);
	bool typed = false, bind_only = false, volume_only = false, tmpfs_only = false;
	char tmpfs_opts[96] = "";
	size_t tmpfs_used = 0;
	while (!a.empty()) {
		std::string_view field = a.substr(0, a.find(','));
		a.remove_prefix(std::min(a.size(), field.size() + 1));
		size_t eq = field.find('=');
		std::string_view key = field.substr(0, eq), value = eq == field.npos ? "" : field.substr(eq + 1);
		bool b = true;
		if (key == "type") {
			if (value == "bind")
				r.type = kind::bind;
			else if (value == "volume")
				r.type = kind::volume;
			else if (value == "tmpfs")
				r.type = kind::tmpfs;
			else
				return refuse(err, size, "bad --mount %s: type %.*s: expected bind, volume or tmpfs", arg, int(value.size()), value.data());
			typed = true;
		} else if (key == "source" || key == "src") {
			r.source = value;
		} else if (key == "target" || key == "destination" || key == "dst") {
			r.target = value;
		} else if (key == "readonly" || key == "ro") {
			if (eq != field.npos && !options::parse_bool(value, b))
				return refuse(err, size, "bad --mount %s: %.*s takes true or false", arg, int(key.size()), key.data());
			r.read_only = b;
		} else if (key == "bind-propagation") {
			if (!(r.propagation = propagation_of(value)))
				return refuse(err, size, "bad --mount %s: bind-propagation %.*s: expected [r]private, [r]shared or [r]slave", arg,
					      int(value.size()), value.data());
			bind_only = true;
		} else if (key == "bind-nonrecursive" || key == "bind-recursive") {
			if (eq != field.npos && !options::parse_bool(value, b) && !(key == "bind-recursive" && (value == "enabled" || value == "disabled")))
				return refuse(err, size, "bad --mount %s: %.*s takes true or false", arg, int(key.size()), key.data());
			r.recursive = key == "bind-nonrecursive" ? !b : value != "disabled";
			bind_only = true;
		} else if (key == "volume-nocopy") {
			if (eq != field.npos && !options::parse_bool(value, b))
				return refuse(err, size, "bad --mount %s: volume-nocopy takes true or false", arg);
			r.nocopy = b, volume_only = true;
		} else if (key == "volume-driver") {
			if (value != "local")
				return refuse(err, size, "bad --mount %s: volume-driver %.*s: only local volumes here", arg, int(value.size()), value.data());
			volume_only = true;
		} else if (key == "tmpfs-size" || key == "tmpfs-mode") {
			int w = snprintf(tmpfs_opts + tmpfs_used, sizeof tmpfs_opts - tmpfs_used, "%s%s=%.*s", tmpfs_used ? "," : "",
					 key == "tmpfs-size" ? "size" : "mode", int(value.size()), value.data());
			if (w < 0 || size_t(w) >= sizeof tmpfs_opts - tmpfs_used)
				return refuse(err, size, "bad --mount %s: options too long", arg);
			tmpfs_used += size_t(w), tmpfs_only = true;
		} else if (key == "consistency") {
			; // macOS's hint
		} else if (eq == field.npos) {
			return refuse(err, size, "bad --mount %s: invalid field '%.*s' must be a key=value pair", arg, int(field.size()), field.data());
		} else {
			return refuse(err, size, "bad --mount %s: unexpected key '%.*s'", arg, int(key.size()), key.data());
		}
	}
	if (!typed)
		return refuse(err, size, "bad --mount %s: type is required (bind, volume or tmpfs)", arg);
	if (r.target.empty())
		return refuse(err, size, "bad --mount %s: target is required", arg);
	if ((bind_only && r.type != kind::bind) || (volume_only && r.type != kind::volume) || (tmpfs_only && r.type != kind::tmpfs))
		return refuse(err, size, "bad --mount %s: an option of another type of mount", arg);
	if (r.type == kind::bind && (r.source.empty() || r.source[0] != '/'))
		return refuse(err, size, "bad --mount %s: a bind mount needs an absolute source", arg);
	if (r.type == kind::volume && !r.source.empty() && !valid_name(r.source))
		return refuse(err, size, "bad --mount %s: \"%.*s\" is no volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)", arg, int(r.source.size()),
			      r.source.data());
	if (r.type == kind::tmpfs && !r.source.empty())
		return refuse(err, size, "bad --mount %s: a tmpfs has no source", arg);
	if (r.type == kind::tmpfs) {
		r.tmpfs_flags = MS_NOSUID | MS_NODEV; // --mount type=tmpfs: exec allowed, as docker
		if (!tmpfs_options(tmpfs_opts, r, "--mount", arg, err, size))
			return false;
	}
	return check_target(r.target, "--mount", arg, err, size);
}

// ---- Named volumes on the host ----------------------------------------------------------

// DATA_ROOT/volumes, made if missing.
inline int open_root(const char *data_root)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/volumes", data_root);
	if (mkdir(data_root, 0700) < 0 && errno != EEXIST)
		die_errno("create %s", data_root);
	if (mkdir(path, 0701) < 0 && errno != EEXIST)
		die_errno("create %s", path);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die_errno("open %s", path);
	return fd;
}

// Volume `name` of the data root, made if missing (then `made`); its directory locked
// shared for as long as the returned descriptor is open, so rm and prune pass it over.
inline int use(int root, const char *name, bool &made, char (&data_path)[PATH_MAX], const char *data_root)
{
	made = false;
	if (mkdirat(root, name, 0701) == 0)
		made = true;
	else if (errno != EEXIST)
		die_errno("create volume %s", name);
	int dir = openat(root, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		die_errno("open volume %s", name);
	if (flock(dir, LOCK_SH) < 0)
		die_errno("lock volume %s", name);
	if (mkdirat(dir, "_data", 0755) == 0)
		made = true;
	else if (errno != EEXIST)
		die_errno("create volume %s", name);
	snprintf(data_path, sizeof data_path, "%s/volumes/%s/_data", data_root, name);
	return dir;
}

// A volume another container uses, by its DATA_ROOT/volumes/NAME/_data path: its
// directory locked shared, as use() locks it; -1 (errno set) when it is gone.
inline int hold(const char *data_path)
{
	std::string_view p(data_path);
	if (!p.ends_with("/_data") || p.size() >= PATH_MAX)
		return errno = EINVAL, -1;
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%.*s", int(p.size() - 6), p.data());
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_SH) < 0 || faccessat(fd, "_data", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return errno = err, -1;
	}
	return fd;
}

// The owner and mode of what the seed made, through its descriptor: by name, another
// container already using the volume could have put a symlink to a host file in its place
// (fchmodat follows one). An owner the user namespace does not map (rootless) stays the
// volume's (EINVAL).
inline void own(int fd, const struct stat &st, const char *n, const char *what)
{
	if ((fchown(fd, st.st_uid, st.st_gid) < 0 && errno != EINVAL) || fchmod(fd, st.st_mode & 07777) < 0)
		die_errno("seed volume %s: owner and mode of %s", what, n);
}

// Copies the tree below src into dst, an empty directory of a new volume, as docker seeds
// a volume from the image: modes, owners, symlinks as symlinks (never followed), devices
// and sockets passed over. The image's files alone: a directory of another file system
// (the container's /proc, /sys or /dev, mounted by now, or a volume) is passed over too,
// else PID 1, real root, would copy what the kernel shows root alone (kallsyms, firmware
// tables, masked paths) into a volume the container reads.
inline void copy_tree(int src, int dst, const char *what)
{
	struct stat here;
	if (fstat(src, &here) < 0)
		die_errno("seed volume %s: stat", what);
	DIR *d = fdopendir(dup(src));
	if (!d)
		die_errno("seed volume %s: read", what);
	while (dirent *e = readdir(d)) {
		const char *n = e->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(src, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
			die_errno("seed volume %s: stat %s", what, n);
		if (S_ISDIR(st.st_mode) && st.st_dev != here.st_dev) {
			continue;
		} else if (S_ISDIR(st.st_mode)) {
			if (mkdirat(dst, n, 0700) < 0)
				die_errno("seed volume %s: create %s", what, n);
			sys::unique_fd s(openat(src, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
			sys::unique_fd t(openat(dst, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
			if (!s || !t)
				die_errno("seed volume %s: open %s", what, n);
			copy_tree(s.get(), t.get(), what);
			own(t.get(), st, n, what);
		} else if (S_ISREG(st.st_mode)) {
			sys::unique_fd s(openat(src, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
			sys::unique_fd t(openat(dst, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
			if (!s || !t)
				die_errno("seed volume %s: copy %s", what, n);
			char buf[65536];
			for (ssize_t got; (got = read(s.get(), buf, sizeof buf)) != 0;) {
				if (got < 0 || write(t.get(), buf, size_t(got)) != got)
					die_errno("seed volume %s: copy %s", what, n);
			}
			own(t.get(), st, n, what);
		} else if (S_ISLNK(st.st_mode)) {
			char link[PATH_MAX];
			ssize_t len = readlinkat(src, n, link, sizeof link - 1);
			if (len < 0)
				die_errno("seed volume %s: read link %s", what, n);
			link[len] = 0;
			if (symlinkat(link, dst, n) < 0 || (fchownat(dst, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EINVAL))
				die_errno("seed volume %s: link %s", what, n);
		}
	}
	closedir(d);
}

// The volume's own directory takes the owner and mode of the image's, as docker's copy does.
inline void seed(int src, int dst, const char *what)
{
	struct stat st;
	if (fstat(src, &st) < 0 || (fchown(dst, st.st_uid, st.st_gid) < 0 && errno != EINVAL) || fchmod(dst, st.st_mode & 07777) < 0)
		die_errno("seed volume %s: owner and mode", what);
	copy_tree(src, dst, what);
}

// --rm: the anonymous volumes made for the container go with it (docker's rule), once the
// caller has let go of its own lock: one another container holds (--volumes-from) stays,
// in use, as docker leaves it, for prune.
inline void remove_anonymous(const char *data_root, const char *name)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/volumes", data_root);
	sys::unique_fd root(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	sys::unique_fd dir(root ? openat(root.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1);
	if (dir && flock(dir.get(), LOCK_EX | LOCK_NB) == 0)
		unpack::remove_tree(root.get(), name, "remove anonymous volume");
}

// An anonymous volume's name, as docker's: 64 hex digits.
inline bool anonymous(std::string_view n)
{
	return n.size() == 64 && n.find_first_not_of("0123456789abcdef") == n.npos;
}

// `launcher volume ls|rm NAME...|prune [-a]`: docker's verbs for the data root's volumes.
// prune removes the anonymous volumes no container holds (-a: every such volume), as docker
// 23 does. A volume a running container holds (its shared lock) is not removed.
// argv[0] is "volume"; the data root is $LAUNCHER_ROOT's or docker's place.
inline int verb_main(int argc, char **argv)
{
	const char *data_root = volumes::data_root({});
	const char *verb = argc > 1 ? argv[1] : "";
	bool all = argc > 2 && strcmp(verb, "prune") == 0 && (strcmp(argv[2], "-a") == 0 || strcmp(argv[2], "--all") == 0);
	if (strcmp(verb, "ls") != 0 && strcmp(verb, "rm") != 0 && strcmp(verb, "prune") != 0)
		die("usage: launcher volume ls | rm NAME... | prune [-a]");
	if (strcmp(verb, "rm") == 0 && argc < 3)
		die("volume rm: no volume named");
	sys::unique_fd root(open_root(data_root));
	auto remove = [&](const char *name, bool quiet_in_use) {
		sys::unique_fd dir(openat(root.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
		if (!dir)
			return errno == ENOENT ? (dprintf(2, "launcher: volume rm: no such volume: %s\n", name), false)
					       : (sys::die_errno("open volume %s", name), false);
		if (flock(dir.get(), LOCK_EX | LOCK_NB) < 0) {
			if (!quiet_in_use)
				dprintf(2, "launcher: volume rm: volume %s is in use by a running container\n", name);
			return false;
		}
		unpack::remove_tree(root.get(), name, "volume rm");
		dprintf(1, "%s\n", name);
		return true;
	};
	int status = 0;
	if (strcmp(verb, "rm") == 0) {
		for (int i = 2; i < argc; i++)
			if (!valid_name(argv[i]) || !remove(argv[i], false))
				status = 1;
		return status;
	}
	DIR *d = fdopendir(dup(root.get()));
	if (!d)
		die_errno("read %s/volumes", data_root);
	std::vector<char *> names; // by name, as docker lists them
	while (dirent *e = readdir(d))
		if (valid_name(e->d_name) && !names.emplace_back(strdup(e->d_name)))
			die("out of memory");
	closedir(d);
	std::sort(names.begin(), names.end(), [](const char *a, const char *b) { return strcmp(a, b) < 0; });
	if (strcmp(verb, "ls") == 0)
		dprintf(1, "DRIVER    VOLUME NAME\n");
	for (const char *n : names)
		if (strcmp(verb, "ls") == 0)
			dprintf(1, "local     %s\n", n);
		else if (all || anonymous(n))
			remove(n, true);
	return status;
}

} // namespace volumes
