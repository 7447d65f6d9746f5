// cache.hpp: unpacked layers kept by content digest, shared by every launcher of a host.
//
//   ROOT/layers/HEX          a published layer: the tree of the tar whose sha256 is HEX
//   ROOT/layers/HEX.partial  a layer being unpacked (or left by a crash: never trusted)
//   ROOT/layers/HEX.info     "BYTES ENTRIES" of a published layer, for --cache-ls
//   ROOT/layers/HEX.removing a layer being pruned (or left by a crash: never used)
//
// Locks are flock()s on the directories themselves, so the cache holds no lock files:
// - whoever unpacks HEX holds HEX.partial exclusively, then renames it to HEX (atomic:
//   a layer is either complete under its digest or not there at all);
//   a second launcher polls that lock until it finds HEX published;
// - every launcher holds each layer it uses shared for its whole life, so a prune, which
//   takes a layer exclusively without waiting, passes over the layers in use;
// - a prune renames a layer it holds from HEX to HEX.removing before removing it (atomic:
//   a prune killed midway leaves HEX whole or gone, never half removed). A launcher that
//   waited for HEX's lock meanwhile finds HEX no longer names what it holds, and unpacks
//   the layer again.
#pragma once
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "sys.hpp"
#include "unpack.hpp"

namespace cache {

inline bool is_hex_name(std::string_view n)
{
	if (n.size() != 64)
		return false;
	for (char c : n)
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	return true;
}

struct name {
	char s[80];
	name(std::string_view hex, const char *suffix = "") { snprintf(s, sizeof s, "%.*s%s", int(hex.size()), hex.data(), suffix); }
};

inline int lock(int fd, int how)
{
	int r;
	while ((r = flock(fd, how)) < 0 && errno == EINTR) {
	}
	return r;
}

// Whether fd is still what `dir`/n names (not renamed away or removed meanwhile).
inline bool still_named(int dir, const char *n, int fd)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && fstatat(dir, n, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

// ROOT/layers, made (mode 0700) when missing; path receives its name.
inline int open_layers(const char *root, char (&path)[PATH_MAX])
{
	snprintf(path, sizeof path, "%s/layers", root);
	sys::mkdirs(path, 0700);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		sys::die_errno("open cache %s", path);
	return fd;
}

// Whether no one but the caller (and root) could change what the directory fd holds: it
// and every directory above it owned by the caller or root and writable by no one else
// (group or world, unless sticky), as ssh's StrictModes asks of ~/.ssh. Else another user
// who made $XDG_DATA_HOME/launcher first (a shared or world-writable home) could swap the
// caller's cached layers, which are trusted by name.
inline bool only_ours(int fd)
{
	sys::unique_fd dir(dup(fd));
	for (struct stat st, up;;) {
		if (!dir || fstat(dir.get(), &st) < 0)
			return false;
		if ((st.st_uid != 0 && st.st_uid != getuid()) || ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)))
			return false;
		sys::unique_fd parent(openat(dir.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
		if (!parent || fstat(parent.get(), &up) < 0)
			return false;
		if (up.st_dev == st.st_dev && up.st_ino == st.st_ino)
			return true; // the root
		dir = std::move(parent);
	}
}

// A user's own cache (rootless): ROOT/layers and the directories on its way made (0700)
// where missing, and opened; -1 with errno where that cannot be (no home, say), EPERM where
// another user could change it (only_ours).
inline int try_open_layers(const char *root, char (&path)[PATH_MAX])
{
	if (snprintf(path, sizeof path, "%s/layers", root) >= int(sizeof path))
		return errno = ENAMETOOLONG, -1;
	for (char *s = path + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = 0;
		if (!c) { // ROOT is there: ours alone, before anything is made in it
			char *slash = strrchr(path, '/');
			*slash = 0;
			sys::unique_fd root_dir(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
			*slash = '/';
			if (!root_dir || !only_ours(root_dir.get()))
				return root_dir ? (errno = EPERM, -1) : -1;
		}
		int made = mkdir(path, 0700);
		*s = c;
		if (made < 0 && errno != EEXIST)
			return -1;
		if (!c)
			break;
	}
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && !only_ours(fd)) {
		close(fd);
		return errno = EPERM, -1;
	}
	return fd;
}

// Where a user other than root keeps their cache: $XDG_DATA_HOME/launcher, else
// $HOME/.local/share/launcher (as rootless podman keeps ~/.local/share/containers).
inline bool user_root(char (&root)[PATH_MAX])
{
	const char *data = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	if (data && data[0] == '/')
		return snprintf(root, sizeof root, "%s/launcher", data) < int(sizeof root);
	return home && home[0] == '/' && snprintf(root, sizeof root, "%s/.local/share/launcher", home) < int(sizeof root);
}

// The published layer, held shared for the caller's life; -1 when it is not there.
inline int hold(int layers, std::string_view hex)
{
	name n(hex);
	int fd = openat(layers, n.s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			sys::die_errno("open cached layer %s", n.s);
		return -1;
	}
	if (lock(fd, LOCK_SH) < 0)
		sys::die_errno("lock cached layer %s", n.s);
	if (still_named(layers, n.s, fd))
		return fd;
	close(fd); // pruned while we waited
	return -1;
}

struct claim {
	int fd;         // held: the published layer (shared) or HEX.partial (exclusive)
	bool published; // someone else unpacked it meanwhile
};

// Either the published layer, or HEX.partial, empty and ours to unpack into. The caller
// has looked for HEX already; it may be published between that look and our claim.
inline claim begin(int layers, std::string_view hex)
{
	name partial(hex, ".partial");
	for (;;) {
		if (mkdirat(layers, partial.s, 0755) < 0 && errno != EEXIST)
			sys::die_errno("create %s in the cache", partial.s);
		int fd = openat(layers, partial.s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)
				continue; // published or abandoned meanwhile
			sys::die_errno("open %s in the cache", partial.s);
		}
		// Another launcher is unpacking it: look again shortly. Blocking here instead
		// would queue us on a directory that becomes the published layer, which every
		// running container holds shared: we would wait for them all to end.
		if (lock(fd, LOCK_EX | LOCK_NB) < 0) {
			if (errno != EWOULDBLOCK)
				sys::die_errno("lock %s in the cache", partial.s);
			close(fd);
			if (int held = hold(layers, hex); held >= 0)
				return {held, true};
			timespec pause = {0, 5000000};
			nanosleep(&pause, nullptr);
			continue;
		}
		if (!still_named(layers, partial.s, fd)) {
			close(fd); // published or removed meanwhile
			continue;
		}
		// Ours, but HEX may have been published just before we made this HEX.partial:
		// then ours is a stray, and the published layer is the one to use.
		if (int held = hold(layers, hex); held >= 0) {
			unpack::remove_tree(layers, partial.s, "cache");
			close(fd);
			return {held, true};
		}
		// Anything inside was left by a launcher that died mid-unpack.
		DIR *d = fdopendir(fcntl(fd, F_DUPFD_CLOEXEC, 0));
		if (!d)
			sys::die_errno("read %s in the cache", partial.s);
		while (dirent *e = readdir(d))
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
				unpack::remove_tree(dirfd(d), e->d_name, partial.s);
		closedir(d);
		return {fd, false};
	}
}

// HEX.partial becomes HEX; the caller's exclusive hold becomes a shared one.
inline void publish(int layers, std::string_view hex, int fd, const unpack::stats &s)
{
	name partial(hex, ".partial"), published(hex), info(hex, ".info");
	if (renameat(layers, partial.s, layers, published.s) < 0)
		sys::die_errno("publish layer %s in the cache", published.s);
	sys::unique_fd f(openat(layers, info.s, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
	if (!f || dprintf(f.get(), "%zu %zu\n", s.bytes, s.entries) < 0)
		sys::die_errno("write %s in the cache", info.s);
	if (lock(fd, LOCK_SH) < 0)
		sys::die_errno("lock cached layer %s", published.s);
}

// Removes HEX.partial after a failed unpack (the caller holds it).
inline void abandon(int layers, std::string_view hex)
{
	name partial(hex, ".partial");
	unpack::remove_tree(layers, partial.s, "cache");
}

// The three kinds of layer directory: HEX, HEX.partial, HEX.removing.
enum class kind { published, partial, removing };

inline const char *suffix(kind k)
{
	return k == kind::partial ? ".partial" : k == kind::removing ? ".removing" : "";
}

// Whether n names a layer directory, and of which kind.
inline bool kind_of(std::string_view n, kind &k)
{
	if (n.size() < 64 || !is_hex_name(n.substr(0, 64)))
		return false;
	for (kind c : {kind::published, kind::partial, kind::removing})
		if (n.substr(64) == suffix(c)) {
			k = c;
			return true;
		}
	return false;
}

// Calls f(ctx, hex, kind, busy) for each layer directory, held exclusively during the
// call unless busy (some launcher holds it).
using layer_fn = void (*)(void *ctx, int layers, std::string_view hex, kind k, bool busy);
inline void each_layer(int layers, layer_fn f, void *ctx)
{
	int fd = fcntl(layers, F_DUPFD_CLOEXEC, 0);
	DIR *d = fd < 0 || lseek(fd, 0, SEEK_SET) < 0 ? nullptr : fdopendir(fd);
	if (!d)
		sys::die_errno("read the cache");
	while (dirent *e = readdir(d)) {
		kind k;
		if (!kind_of(e->d_name, k))
			continue;
		sys::unique_fd held(openat(layers, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
		if (!held)
			continue;
		bool busy = lock(held.get(), LOCK_EX | LOCK_NB) < 0;
		if (!busy && !still_named(layers, e->d_name, held.get()))
			continue; // published, pruned or removed since we opened it
		f(ctx, layers, std::string_view(e->d_name, 64), k, busy);
	}
	closedir(d);
}

inline void list(int layers)
{
	dprintf(STDOUT_FILENO, "%-71s %12s %8s  %s\n", "LAYER", "BYTES", "ENTRIES", "STATE");
	each_layer(layers, [](void *, int layers, std::string_view hex, kind k, bool busy) {
		static const char *const state[][2] = {
			{"unused", "in use"}, {"left by a crash", "unpacking"}, {"left by a crash", "being removed"}};
		bool whole = k == kind::published; // the others have no .info
		char buf[64] = "? ?";
		name info(hex, ".info");
		sys::unique_fd f(openat(layers, info.s, O_RDONLY | O_CLOEXEC));
		ssize_t n = f ? read(f.get(), buf, sizeof buf - 1) : -1;
		if (n > 0)
			buf[n] = 0;
		char *space = strchr(buf, ' ');
		if (space)
			*space++ = 0;
		dprintf(STDOUT_FILENO, "sha256:%.*s %12s %8.*s  %s\n", int(hex.size()), hex.data(), whole ? buf : "-",
			whole ? int(strcspn(space ? space : "", "\n")) : 1, whole ? space ? space : "" : "-", state[int(k)][busy]);
	}, nullptr);
}

inline void say_removed(std::string_view hex, kind k)
{
	dprintf(STDOUT_FILENO, "removed sha256:%.*s%s\n", int(hex.size()), hex.data(),
		k == kind::partial ? " (partial)" : k == kind::removing ? " (half removed)" : "");
}

// Takes HEX.removing out of the way of HEX's rename: a prune killed midway left it (we
// remove it), or another prune is removing it (we wait for its end).
inline void clear_removing(int layers, std::string_view hex, size_t &removed)
{
	name n(hex, ".removing");
	sys::unique_fd fd(openat(layers, n.s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
	if (!fd) {
		if (errno != ENOENT)
			sys::die_errno("prune: open %s", n.s);
		return;
	}
	if (lock(fd.get(), LOCK_EX) < 0)
		sys::die_errno("prune: lock %s", n.s);
	if (!still_named(layers, n.s, fd.get()))
		return; // the other prune's, removed
	unpack::remove_tree(layers, n.s, "prune");
	say_removed(hex, kind::removing);
	removed++;
}

// Removes the published layer HEX, which the caller holds exclusively: renamed out of
// every start's sight first, so that a prune killed midway leaves HEX.removing, never a
// half-removed HEX. Only a prune holding HEX makes HEX.removing, so once cleared it stays
// free until our rename.
inline void remove_published(int layers, std::string_view hex, size_t &removed)
{
	name n(hex), removing(hex, ".removing"), info(hex, ".info");
	clear_removing(layers, hex, removed);
	if (unlinkat(layers, info.s, 0) < 0 && errno != ENOENT)
		sys::die_errno("prune: remove %s", info.s);
	if (sys::renameat2(layers, n.s, layers, removing.s, RENAME_NOREPLACE) < 0)
		sys::die_errno("prune: rename %s to %s", n.s, removing.s);
	unpack::remove_tree(layers, removing.s, "prune");
}

// Removes every layer no launcher holds, and what crashed unpacks and prunes left.
inline void prune(int layers)
{
	size_t counts[2] = {0, 0}; // removed, kept
	each_layer(layers, [](void *ctx, int layers, std::string_view hex, kind k, bool busy) {
		size_t *counts = static_cast<size_t *>(ctx);
		if (busy) {
			counts[1] += k != kind::removing; // another prune's
			return;
		}
		if (k == kind::published) {
			remove_published(layers, hex, counts[0]);
		} else {
			name n(hex, suffix(k));
			unpack::remove_tree(layers, n.s, "prune");
		}
		say_removed(hex, k);
		counts[0]++;
	}, counts);
	dprintf(STDOUT_FILENO, "%zu removed, %zu in use\n", counts[0], counts[1]);
}

} // namespace cache
