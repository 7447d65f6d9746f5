// unpack.hpp: a layer tar into a directory, safely, with whiteouts in overlayfs form.
//
// Safety: no host path is ever built by joining strings. Each entry's parent directory is
// opened with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) below the layer's root fd,
// so a symlink met on the way (even one named "." or "/") resolves inside the root; the
// last component is created with *at() calls that never follow it (O_EXCL|O_NOFOLLOW,
// mkdirat, symlinkat, mknodat, linkat without AT_SYMLINK_FOLLOW). A name whose ".."
// climbs above the root is refused, as Docker refuses it; a leading "/" is dropped, as
// Docker drops it; "." as anything but a directory is refused (CVE-2021-29136).
//
// Whiteouts (OCI image-spec): ".wh.NAME" becomes a 0:0 character device NAME, and
// ".wh..wh..opq" sets trusted.overlay.opaque=y on its directory. In the copy storage
// (no overlayfs: every layer unpacked over one tree) apply_whiteouts() deletes instead,
// before the layer is unpacked, so a whiteout never touches its own layer's entries.
#pragma once
#include <climits>
#include <dirent.h>
#include <span>
#include <string_view>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <vector>

#include "sys.hpp"
#include "tar.hpp"

namespace unpack {

constexpr std::string_view whiteout_prefix = ".wh.";
constexpr std::string_view opaque_marker = ".wh..wh..opq";
constexpr std::string_view xattr_prefix = "SCHILY.xattr.";

// Lexically cleans an entry's path into out (capacity PATH_MAX): drops a leading "/",
// "." components and repeated slashes; applies "..". Returns false if ".." climbs above the
// root. The root itself cleans to "".
inline bool clean_path(std::string_view in, char *out, size_t cap, size_t &len)
{
	len = 0;
	while (!in.empty()) {
		size_t slash = in.find('/');
		std::string_view c = in.substr(0, slash);
		in.remove_prefix(slash == std::string_view::npos ? in.size() : slash + 1);
		if (c.empty() || c == ".")
			continue;
		if (c == "..") {
			if (len == 0)
				return false;
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--; // the slash before the dropped component
			continue;
		}
		if (len + (len ? 1 : 0) + c.size() + 1 > cap)
			return false;
		if (len)
			out[len++] = '/';
		memcpy(out + len, c.data(), c.size());
		len += c.size();
	}
	out[len] = 0;
	return true;
}

struct stats {
	size_t entries = 0, bytes = 0;
	bool shared = false; // unpacked by two processes
};

// How a layer is written: as real root, or as root of a user namespace, where overlayfs
// reads its markers from user.* xattrs (mount option userxattr) and a single-id mapping
// leaves other owners unrepresentable (they stay the container's root).
struct mode {
	const char *opaque_xattr = "trusted.overlay.opaque";
	bool owners_optional = false;
	bool merged = false; // copy storage: whiteouts were applied by deletion, skip them
};

class layer_writer {
public:
	layer_writer(int root, const char *what, mode m) : root_(root), what_(what), mode_(m) {}

	void entry(const tar::entry &e)
	{
		size_t len;
		if (!clean_path(e.path, path_, sizeof path_, len))
			fail_entry(e, "path climbs out of the layer");
		if (len == 0) {
			if (e.typeflag != tar::type::directory)
				fail_entry(e, "the root may only be a directory");
			dirs_.push_back({store(""), e.mtime});
			fix_mode(root_, ".", e, true);
			return;
		}
		char *slash = strrchr(path_, '/');
		const char *name = slash ? slash + 1 : path_;
		int parent = parent_fd(slash ? std::string_view(path_, size_t(slash - path_)) : "");

		std::string_view n(name);
		if (n == opaque_marker)
			return mode_.merged ? void() : mark_opaque(parent, e);
		if (n.starts_with(whiteout_prefix))
			return whiteout(parent, n.substr(whiteout_prefix.size()), e);

		switch (e.typeflag) {
		case tar::type::file: return write_file(parent, name, e);
		case tar::type::directory: return make_dir(parent, name, e);
		case tar::type::symlink: return make_symlink(parent, name, e);
		case tar::type::hardlink: return make_hardlink(parent, name, e);
		case tar::type::chardev:
		case tar::type::blockdev:
		case tar::type::fifo: return make_node(parent, name, e);
		default: fail_entry(e, "unsupported entry type");
		}
	}

	// Directory times last: creating children changed them.
	void finish()
	{
		for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
			const char *p = pool_.data() + it->path;
			sys::unique_fd fd(sys::openat2(root_, *p ? p : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC,
						       RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS));
			if (!fd)
				sys::die_errno("%s: open directory /%s", what_, p);
			timespec t[2] = {{it->mtime, 0}, {it->mtime, 0}};
			if (sys::set_times(fd.get(), nullptr, t, 0) < 0)
				sys::die_errno("%s: set times of /%s", what_, p);
		}
	}

	// A file handed out streamed (tar::entry::streamed: its data arrives in pieces): entry()
	// created it, file_data() writes each piece, end_file() finishes it. The data of a
	// streamed entry that is no file of ours (a whiteout) is passed over.
	void file_data(std::span<const unsigned char> piece)
	{
		if (streamed_.fd)
			write_data(streamed_.fd.get(), streamed_.name, piece);
	}
	void end_file()
	{
		if (streamed_.fd)
			finish_file(streamed_.fd.get(), streamed_.name, streamed_.e);
		streamed_.fd.reset();
	}

	stats counts;

private:
	struct dir_time {
		size_t path; // offset in pool_
		int64_t mtime;
	};

	[[noreturn]] void fail_entry(const tar::entry &e, const char *why)
	{
		sys::die("%s: entry %.*s at byte %zu: %s", what_, int(e.path.size()), e.path.data(), e.offset, why);
	}
	[[noreturn]] void fail_errno(const char *op, const char *name)
	{
		sys::die_errno("%s: %s /%s%s%s", what_, op, parent_path_, *parent_path_ ? "/" : "", name);
	}

	size_t store(std::string_view s)
	{
		size_t at = pool_.size();
		pool_.resize(at + s.size() + 1);
		memcpy(pool_.data() + at, s.data(), s.size());
		return at;
	}

	// The parent directory of the current entry, opened inside the root, created when the
	// archive did not list it (mode 0755, as Docker does). Consecutive entries of one
	// directory reuse the open descriptor: an entry only ever changes children of its
	// parent, so the cached descriptor cannot go stale.
	int parent_fd(std::string_view dir)
	{
		if (parent_ && dir == std::string_view(parent_path_))
			return parent_.get();
		memcpy(parent_path_, dir.data(), dir.size());
		parent_path_[dir.size()] = 0;
		parent_.reset(open_dir(parent_path_));
		if (!parent_) {
			if (errno != ENOENT)
				sys::die_errno("%s: open directory /%s", what_, parent_path_);
			make_parents(dir);
			parent_.reset(open_dir(parent_path_));
			if (!parent_)
				sys::die_errno("%s: open directory /%s", what_, parent_path_);
		}
		return parent_.get();
	}

	int open_dir(const char *p)
	{
		return sys::openat2(root_, *p ? p : ".", O_PATH | O_DIRECTORY | O_CLOEXEC,
				    RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	}

	void make_parents(std::string_view dir)
	{
		char partial[PATH_MAX];
		for (size_t end = 0; end <= dir.size(); end++) {
			if (end < dir.size() && dir[end] != '/')
				continue;
			memcpy(partial, dir.data(), end);
			partial[end] = 0;
			sys::unique_fd fd(open_dir(partial));
			if (fd)
				continue;
			if (errno != ENOENT)
				sys::die_errno("%s: open directory /%s", what_, partial);
			char *slash = strrchr(partial, '/');
			const char *name = slash ? slash + 1 : partial;
			if (slash)
				*slash = 0;
			sys::unique_fd up(open_dir(slash ? partial : ""));
			if (!up || (mkdirat(up.get(), name, 0755) < 0 && errno != EEXIST))
				sys::die_errno("%s: create directory /%.*s", what_, int(end), dir.data());
		}
	}

	// Makes room for a new entry: an existing directory stays when the entry is one too;
	// anything else in the way is removed (later entries of a tar replace earlier ones).
	// Returns true when an existing directory was kept.
	bool clear_way(int parent, const char *name, bool want_dir)
	{
		struct stat st;
		if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				return false;
			fail_errno("stat", name);
		}
		if (S_ISDIR(st.st_mode)) {
			if (want_dir)
				return true;
			if (unlinkat(parent, name, AT_REMOVEDIR) < 0)
				fail_errno("replace directory", name);
		} else if (unlinkat(parent, name, 0) < 0) {
			fail_errno("replace", name);
		}
		return false;
	}

	// Owner first: chown clears set-id bits, so the mode is set after it. We unpack as
	// root, so a new entry is already owned by 0:0.
	void fix_mode(int parent, const char *name, const tar::entry &e, bool existed)
	{
		if ((e.uid || e.gid) && fchownat(parent, name, uid_t(e.uid), gid_t(e.gid), AT_SYMLINK_NOFOLLOW) < 0 && !unmapped())
			fail_errno("chown", name);
		if ((existed || (e.uid || e.gid) || (e.mode & (S_ISUID | S_ISGID))) &&
		    sys::chmod_at(parent, name, e.mode) < 0)
			fail_errno("chmod", name);
	}

	void write_file(int parent, const char *name, const tar::entry &e)
	{
		int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
		sys::unique_fd fd(openat(parent, name, flags, e.mode));
		if (!fd && errno == EEXIST) {
			clear_way(parent, name, false);
			fd.reset(openat(parent, name, flags, e.mode));
		}
		if (!fd)
			fail_errno("create", name);
		if (e.streamed) { // its data comes through file_data; the rest once it is all there
			streamed_.fd = std::move(fd);
			streamed_.name = name;
			streamed_.e = e;
			streamed_.text.assign(e.path.begin(), e.path.end());
			streamed_.text.insert(streamed_.text.end(), e.pax.begin(), e.pax.end());
			streamed_.e.path = {streamed_.text.data(), e.path.size()};
			streamed_.e.pax = {streamed_.text.data() + e.path.size(), e.pax.size()};
			return;
		}
		write_data(fd.get(), name, e.data);
		finish_file(fd.get(), name, e);
	}

	void write_data(int fd, const char *name, std::span<const unsigned char> data)
	{
		const unsigned char *p = data.data();
		size_t left = data.size();
		while (left > 0) {
			ssize_t n = write(fd, p, left);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				fail_errno("write", name);
			}
			p += n;
			left -= size_t(n);
		}
		counts.bytes += data.size();
	}

	// After the data: chown and a write both clear set-id bits and security.capability.
	void finish_file(int fd, const char *name, const tar::entry &e)
	{
		if ((e.uid || e.gid) && fchown(fd, uid_t(e.uid), gid_t(e.gid)) < 0 && !unmapped())
			fail_errno("chown", name);
		if ((e.uid || e.gid) && (e.mode & (S_ISUID | S_ISGID)) && fchmod(fd, e.mode) < 0)
			fail_errno("chmod", name);
		set_xattrs(fd, name, e);
		timespec t[2] = {{e.mtime, 0}, {e.mtime, 0}};
		if (sys::set_times(fd, nullptr, t, 0) < 0)
			fail_errno("set times of", name);
	}

	void make_dir(int parent, const char *name, const tar::entry &e)
	{
		bool existed = false;
		if (mkdirat(parent, name, e.mode) < 0) {
			if (errno != EEXIST)
				fail_errno("create directory", name);
			existed = clear_way(parent, name, true);
			if (!existed && mkdirat(parent, name, e.mode) < 0)
				fail_errno("create directory", name);
		}
		fix_mode(parent, name, e, existed);
		if (!e.pax.empty()) {
			sys::unique_fd fd(openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
			if (!fd)
				fail_errno("open directory", name);
			set_xattrs(fd.get(), name, e);
		}
		dirs_.push_back({store(path_), e.mtime});
	}

	void make_symlink(int parent, const char *name, const tar::entry &e)
	{
		char target[PATH_MAX];
		if (e.linkpath.empty() || e.linkpath.size() >= sizeof target)
			fail_entry(e, "bad symlink target");
		memcpy(target, e.linkpath.data(), e.linkpath.size());
		target[e.linkpath.size()] = 0;
		if (symlinkat(target, parent, name) < 0) {
			if (errno != EEXIST)
				fail_errno("create symlink", name);
			clear_way(parent, name, false);
			if (symlinkat(target, parent, name) < 0)
				fail_errno("create symlink", name);
		}
		if ((e.uid || e.gid) && fchownat(parent, name, uid_t(e.uid), gid_t(e.gid), AT_SYMLINK_NOFOLLOW) < 0 && !unmapped())
			fail_errno("chown", name);
		timespec t[2] = {{e.mtime, 0}, {e.mtime, 0}};
		if (sys::set_times(parent, name, t, AT_SYMLINK_NOFOLLOW) < 0)
			fail_errno("set times of", name);
	}

	void make_hardlink(int parent, const char *name, const tar::entry &e)
	{
		char target[PATH_MAX];
		size_t len;
		if (!clean_path(e.linkpath, target, sizeof target, len) || len == 0)
			fail_entry(e, "hard link target climbs out of the layer");
		char *slash = strrchr(target, '/');
		const char *tname = slash ? slash + 1 : target;
		if (slash)
			*slash = 0;
		sys::unique_fd tdir(open_dir(slash ? target : ""));
		if (!tdir)
			fail_entry(e, "hard link target's directory is missing");
		if (linkat(tdir.get(), tname, parent, name, 0) < 0) {
			if (errno != EEXIST)
				fail_errno("hard link", name);
			clear_way(parent, name, false);
			if (linkat(tdir.get(), tname, parent, name, 0) < 0)
				fail_errno("hard link", name);
		}
	}

	void make_node(int parent, const char *name, const tar::entry &e)
	{
		mode_t type = e.typeflag == tar::type::chardev ? S_IFCHR : e.typeflag == tar::type::blockdev ? S_IFBLK : S_IFIFO;
		dev_t dev = makedev(e.devmajor, e.devminor);
		if (mknodat(parent, name, type | e.mode, dev) < 0) {
			if (errno != EEXIST)
				fail_errno("create node", name);
			clear_way(parent, name, false);
			if (mknodat(parent, name, type | e.mode, dev) < 0)
				fail_errno("create node", name);
		}
		fix_mode(parent, name, e, false);
		timespec t[2] = {{e.mtime, 0}, {e.mtime, 0}};
		if (sys::set_times(parent, name, t, AT_SYMLINK_NOFOLLOW) < 0)
			fail_errno("set times of", name);
	}

	// The whiteout hides NAME of lower layers; an entry NAME of this same layer already
	// hides them, so an existing one stays (a whiteout never applies to its own layer).
	void whiteout(int parent, std::string_view target, const tar::entry &e)
	{
		if (target.empty() || target == "." || target == ".." || target.find('/') != target.npos)
			fail_entry(e, "bad whiteout name");
		if (mode_.merged)
			return; // applied by deletion before this layer was unpacked
		char name[NAME_MAX + 1];
		memcpy(name, target.data(), target.size());
		name[target.size()] = 0;
		if (mknodat(parent, name, S_IFCHR | 0, makedev(0, 0)) < 0 && errno != EEXIST)
			fail_errno("create whiteout", name);
	}

	void mark_opaque(int parent, const tar::entry &)
	{
		char proc[sizeof "/proc/self/fd/" + 12];
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", parent);
		if (setxattr(proc, mode_.opaque_xattr, "y", 1, 0) < 0)
			fail_errno("mark opaque", ".");
	}

	// SCHILY.xattr.NAME records; BuildKit writes some with empty values, which mean none.
	void set_xattrs(int fd, const char *name, const tar::entry &e)
	{
		if (e.pax.empty())
			return;
		tar::for_each_pax(e.pax, [&](std::string_view k, std::string_view v) {
			if (!k.starts_with(xattr_prefix) || v.empty())
				return;
			char key[256]; // XATTR_NAME_MAX + 1
			k.remove_prefix(xattr_prefix.size());
			if (k.size() >= sizeof key)
				fail_entry(e, "xattr name too long");
			memcpy(key, k.data(), k.size());
			key[k.size()] = 0;
			if (fsetxattr(fd, key, v.data(), v.size(), 0) < 0)
				fail_errno("set xattr on", name);
		});
	}

	// An owner the user namespace cannot represent (EINVAL) is dropped when allowed.
	bool unmapped() const { return mode_.owners_optional && errno == EINVAL; }

	int root_;
	const char *what_;
	mode mode_;
	char path_[PATH_MAX];
	char parent_path_[PATH_MAX] = "";
	sys::unique_fd parent_;
	std::vector<char> pool_;
	std::vector<dir_time> dirs_;
	struct {
		sys::unique_fd fd;
		const char *name; // in path_, until the next entry
		tar::entry e;      // path and pax records copied into text: the window moves on
		std::vector<char> text;
	} streamed_;
};

// How deep remove_tree enters a tree, a descriptor a level: a directory below is moved up
// to the top of the tree instead, and removed by a later pass over the top. A container
// makes a tree as deep as it likes (mkdir d; cd d; ...), deeper than the descriptors a
// process may hold: entered whole, its removal failed midway, for good.
constexpr int remove_depth = 32;

namespace detail {
inline void remove_below(int top, int dir, const char *name, const char *what, int depth, unsigned &moved)
{
	if (unlinkat(dir, name, 0) == 0 || errno == ENOENT)
		return;
	if (errno != EISDIR && errno != EPERM)
		sys::die_errno("%s: remove %s", what, name);
	while (depth >= remove_depth) { // by descriptors only: nothing leaves the tree
		char up[32];
		snprintf(up, sizeof up, ".deep.%u", moved++);
		if (sys::renameat2(dir, name, top, up, RENAME_NOREPLACE) == 0 || errno == ENOENT)
			return;
		if (errno != EEXIST)
			sys::die_errno("%s: move %s up", what, name);
	}
	sys::unique_fd sub(openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
	if (!sub && errno == ENOENT)
		return; // another remover's (two rm of one container at once, rm and system prune)
	if (!sub)
		sys::die_errno("%s: open %s", what, name);
	DIR *d = fdopendir(sub.release());
	if (!d)
		sys::die_errno("%s: read %s", what, name);
	while (dirent *e = readdir(d))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			remove_below(top < 0 ? dirfd(d) : top, dirfd(d), e->d_name, what, depth + 1, moved);
	closedir(d);
	if (depth == 0)
		return; // remove_tree removes the top once a pass finds it empty
	if (unlinkat(dir, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		sys::die_errno("%s: remove directory %s", what, name);
}
} // namespace detail

// Removes name below dir, a whole tree if a directory, never following a symlink, by
// passes over its top until none finds anything there (what was moved up is removed by
// the next).
inline void remove_tree(int dir, const char *name, const char *what)
{
	for (unsigned moved = 0, idle = 0;;) {
		if (unlinkat(dir, name, 0) == 0 || errno == ENOENT)
			return;
		if (errno != EISDIR && errno != EPERM)
			sys::die_errno("%s: remove %s", what, name);
		unsigned before = moved;
		detail::remove_below(-1, dir, name, what, 0, moved);
		if (moved != before)
			continue;
		// Not empty yet: another remover of the same tree moved a deep part up meanwhile.
		if (unlinkat(dir, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
			return;
		if (errno != ENOTEMPTY || ++idle == 100)
			sys::die_errno("%s: remove directory %s", what, name);
	}
}

// Copy storage: what the layer's whiteouts hide of the layers below, deleted from the
// merged tree before the layer itself is unpacked. Opaque markers first (they apply
// wherever they stand in the tar), then the single whiteouts; paths resolve inside root.
inline void apply_whiteouts(std::span<const unsigned char> bytes, int root, const char *what)
{
	for (bool opaque_pass : {true, false}) {
		tar::reader r(bytes);
		tar::entry e;
		while (r.next(e)) {
			char path[PATH_MAX];
			size_t len;
			if (!clean_path(e.path, path, sizeof path, len) || len == 0)
				continue; // refused by the unpacking pass, with its message
			char *slash = strrchr(path, '/');
			std::string_view name(slash ? slash + 1 : path);
			if (name.starts_with(whiteout_prefix) == false || (name == opaque_marker) != opaque_pass)
				continue;
			if (slash)
				*slash = 0;
			sys::unique_fd dir(sys::openat2(root, slash ? path : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC,
							RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS));
			if (!dir)
				continue; // nothing below to hide
			if (opaque_pass) {
				DIR *d = fdopendir(fcntl(dir.get(), F_DUPFD_CLOEXEC, 0));
				if (!d)
					sys::die_errno("%s: read /%s", what, slash ? path : "");
				while (dirent *c = readdir(d))
					if (strcmp(c->d_name, ".") != 0 && strcmp(c->d_name, "..") != 0)
						remove_tree(dirfd(d), c->d_name, what);
				closedir(d);
				continue;
			}
			std::string_view target = name.substr(whiteout_prefix.size());
			if (target.empty() || target == "." || target == "..")
				continue; // refused by the unpacking pass
			char t[NAME_MAX + 1];
			snprintf(t, sizeof t, "%.*s", int(target.size()), target.data());
			remove_tree(dir.get(), t, what);
		}
	}
}

// Unpacks a layer into the directory `root` while its bytes arrive: more(from, have, final)
// waits until more than `have` bytes have arrived in all (or no more will come: final) and
// returns those from archive offset `from` on; the unpacker never needs the bytes before
// `from` again (a ring may reuse their room). more(SIZE_MAX, SIZE_MAX, final) needs none
// and waits for the end. A file of `stream_from` bytes or more is not waited for whole: it
// is written as its data arrives. `what` names the layer in errors.
template <class More>
inline stats layer_arriving(int root, const char *what, More &&more, mode m = {}, uint64_t stream_from = UINT64_MAX)
{
	layer_writer w(root, what, m);
	tar::reader r({});
	r.stream_from(stream_from);
	tar::entry e;
	bool final = false, streaming = false;
	for (size_t have = 0;;) {
		size_t from = r.position();
		std::span<const unsigned char> bytes = more(from, have, final);
		have = from + bytes.size();
		r.grow(bytes, !final, from);
		for (;;) {
			if (streaming) {
				std::span<const unsigned char> piece = r.piece();
				if (!piece.empty()) {
					w.file_data(piece);
					r.consume(piece.size());
					continue;
				}
				if (r.starved() || r.err() != tar::error::none)
					break;
				w.end_file();
				streaming = false;
			}
			if (!r.next(e))
				break;
			w.entry(e);
			w.counts.entries++;
			streaming = e.streamed > 0;
		}
		if (!r.starved())
			break;
	}
	if (r.err() != tar::error::none) {
		more(SIZE_MAX, SIZE_MAX, final); // waits for all: a decoder's own error says more than the tar's
		sys::die("%s: %s at byte %zu", what, tar::error_text(r.err()), r.err_offset());
	}
	w.finish();
	return w.counts;
}

// ---- A plain layer unpacked by two processes ------------------------------------------------
// A big layer's regular files are shared out by directory (so that the two rarely want one
// directory's lock): a forked helper writes its share while this process writes everything
// else, hard links last, once both are done. That is the same tree only when the order of
// entries cannot matter between the two: no path listed twice, and no entry but a
// directory on the way to another (a symlink "a" and a file "a/x": the file must come after
// the link). Every entry still goes through layer_writer, resolved inside the root.

// A set of cleaned paths (open addressing over FNV-1a hashes, the strings in one pool).
class path_set {
public:
	explicit path_set(size_t expected)
	{
		size_t n = 64;
		while (n < expected * 2)
			n <<= 1;
		slots_.assign(n, 0);
	}
	bool insert(std::string_view p) // false when p was in the set already
	{
		for (size_t i = hash(p) & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
			if (slots_[i] == 0) {
				slots_[i] = pool_.size() + 1;
				pool_.insert(pool_.end(), p.begin(), p.end());
				pool_.push_back(0);
				if (++count_ * 2 > slots_.size())
					grow();
				return true;
			}
			if (at(slots_[i]) == p)
				return false;
		}
	}
	bool contains(std::string_view p) const
	{
		for (size_t i = hash(p) & (slots_.size() - 1); slots_[i]; i = (i + 1) & (slots_.size() - 1))
			if (at(slots_[i]) == p)
				return true;
		return false;
	}

private:
	static size_t hash(std::string_view p)
	{
		uint64_t h = 0xcbf29ce484222325ull;
		for (unsigned char c : p)
			h = (h ^ c) * 0x100000001b3ull;
		return size_t(h ^ (h >> 29));
	}
	std::string_view at(size_t slot) const { return pool_.data() + slot - 1; }
	void grow()
	{
		std::vector<size_t> old(slots_.size() * 2, 0);
		old.swap(slots_);
		for (size_t s : old)
			if (s)
				for (size_t i = hash(at(s)) & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1))
					if (slots_[i] == 0) {
						slots_[i] = s;
						break;
					}
	}
	std::vector<size_t> slots_;
	std::vector<char> pool_;
	size_t count_ = 0;
};

// Whether the helper writes entry e: a regular file (not a whiteout), by its directory.
inline bool helpers_share(const tar::entry &e)
{
	if (e.typeflag != tar::type::file)
		return false;
	std::string_view p = e.path;
	size_t slash = p.rfind('/');
	if (p.substr(slash == p.npos ? 0 : slash + 1).starts_with(whiteout_prefix))
		return false;
	uint32_t h = 2166136261u;
	for (unsigned char c : p.substr(0, slash == p.npos ? 0 : slash))
		h = (h ^ c) * 16777619u;
	return (h >> 7) & 1;
}

// See above: no path twice, no non-directory that another entry's path goes through.
inline bool can_split(std::span<const unsigned char> bytes)
{
	tar::reader r(bytes);
	tar::entry e;
	path_set paths(1024), dirs(256);
	std::vector<char> leaves; // the non-directories' paths, each ended by a NUL
	char clean[PATH_MAX], last_dir[PATH_MAX] = "";
	size_t len;
	while (r.next(e)) {
		if (!clean_path(e.path, clean, sizeof clean, len) || !paths.insert({clean, len}))
			return false; // refused, or listed twice
		if (e.typeflag != tar::type::directory)
			leaves.insert(leaves.end(), clean, clean + len + 1);
		char *slash = strrchr(clean, '/');
		if (!slash)
			continue;
		*slash = 0;
		if (strcmp(clean, last_dir) == 0)
			continue;
		snprintf(last_dir, sizeof last_dir, "%s", clean);
		for (;;) { // each directory on the way, until one already known
			if (!dirs.insert(clean))
				break;
			char *up = strrchr(clean, '/');
			if (!up)
				break;
			*up = 0;
		}
	}
	if (r.err() != tar::error::none)
		return false; // the one-process path says where
	for (size_t at = 0; at < leaves.size(); at += strlen(leaves.data() + at) + 1)
		if (dirs.contains(leaves.data() + at))
			return false;
	return true;
}

// The helper of the layer being unpacked, stopped (before what it wrote is removed) when
// this process dies.
inline pid_t helper = -1;
inline void stop_helper()
{
	if (helper > 0 && kill(helper, SIGKILL) == 0)
		waitpid(helper, nullptr, 0);
	helper = -1;
}

// Unpacks the layer `bytes` into the directory `root`; one of 8 MiB or more by two
// processes when it can be (see above).
inline stats layer(std::span<const unsigned char> bytes, int root, const char *what, mode m = {})
{
	auto whole = [&](size_t from, size_t, bool &final) {
		final = true;
		return bytes.subspan(std::min(from, bytes.size()));
	};
	constexpr size_t split_from = 8 << 20;
	if (bytes.size() < split_from || !can_split(bytes))
		return layer_arriving(root, what, whole, m);
	static char *why; // the helper's error line, on a page shared with it
	why = static_cast<char *>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
	if (why == MAP_FAILED)
		sys::die_errno("%s: map a shared page", what);
	pid_t parent = getpid();
	helper = pid_t(sys::clone_fork(SIGCHLD));
	if (helper < 0)
		sys::die_errno("%s: fork to unpack", what);
	if (helper == 0) { // its error line goes to the page, for the parent to say
		sys::at_die = nullptr;
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(1);
		sys::on_error = [](const char *line) { snprintf(why, 4096, "%s", line); };
		int discard = memfd_create("unpack-stderr", MFD_CLOEXEC); // the line goes to the page instead
		if (discard < 0 || dup2(discard, 2) < 0)
			_exit(1);
		layer_writer w(root, what, m);
		tar::reader r(bytes);
		tar::entry e;
		while (r.next(e))
			if (helpers_share(e))
				w.entry(e);
		_exit(0);
	}
	layer_writer w(root, what, m);
	tar::reader r(bytes);
	tar::entry e;
	size_t links = 0;
	while (r.next(e)) {
		w.counts.entries++;
		if (e.typeflag == tar::type::hardlink) { // once both are done: its target may be the helper's
			links++;
			continue;
		}
		if (helpers_share(e))
			w.counts.bytes += e.data.size();
		else
			w.entry(e);
	}
	if (r.err() != tar::error::none) // can_split read it whole
		sys::die("%s: %s at byte %zu", what, tar::error_text(r.err()), r.err_offset());
	int status;
	if (waitpid(helper, &status, 0) != helper)
		sys::die_errno("%s: wait for the unpacking helper", what);
	helper = -1;
	if (status != 0 && *why)
		sys::die("%s", why); // its own line
	if (status != 0)
		sys::die("%s: the unpacking helper ended without a word", what);
	munmap(why, 4096);
	tar::reader again(bytes); // a pass over the headers only when there are links to make
	while (links && again.next(e))
		if (e.typeflag == tar::type::hardlink)
			w.entry(e);
	w.finish();
	w.counts.shared = true;
	return w.counts;
}

} // namespace unpack
