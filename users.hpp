// users.hpp: the lines of /etc/passwd, /etc/group and /etc/subuid as docker and shadow's
// tools read them: one reader for every caller, numbers checked; and a user namespace's id
// maps, written for either front door.
#pragma once
#include <span>
#include <string_view>
#include <sys/wait.h>
#include <vector>

#include "sys.hpp"

namespace users {

// Calls f(ctx, fields) for each line "a:b:c:..." of /etc/passwd, /etc/group or
// /etc/subuid at `path` (the host's, or the image's after pivot_root) until f returns true;
// false if none did. One plain function for every caller: the binary carries one loop.
using etc_line_fn = bool (*)(void *ctx, std::string_view *fields);

[[gnu::noinline]] inline bool each_etc_line(const char *path, etc_line_fn f, void *ctx)
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

template <class F> inline bool each_etc_line(const char *path, F &&f)
{
	return each_etc_line(path, [](void *ctx, std::string_view *fields) { return (*static_cast<F *>(ctx))(fields); }, &f);
}

// A uid, gid or id range field: decimal, below 2^32.
inline bool all_digits(std::string_view s)
{
	return !s.empty() && s.size() <= 10 && s.find_first_not_of("0123456789") == std::string_view::npos &&
	       (s.size() < 10 || s <= "4294967295");
}

inline unsigned number_of(std::string_view s)
{
	unsigned v = 0;
	for (char c : s)
		v = v * 10 + unsigned(c - '0');
	return v;
}

// Field `field` of the /etc/passwd line ("name:x:uid:gid:gecos:home:shell") whose uid is `uid`.
inline bool passwd_field(const char *path, unsigned uid, int field, char *out, size_t cap)
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
inline bool subordinate_range(const char *file, const char *name, unsigned id, unsigned long range[2])
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

// ---- A user namespace's id maps ------------------------------------------------------------

// One line of a uid_map or gid_map: `count` ids from `inside` are the host's from `outside`.
struct id_map {
	uint32_t inside, outside, count;
};

constexpr const char *newuidmap = "/usr/bin/newuidmap", *newgidmap = "/usr/bin/newgidmap";

// Runs newuidmap or newgidmap PID INSIDE OUTSIDE COUNT... and waits for it.
inline void run_map_helper(const char *helper, pid_t child, std::span<const id_map> maps)
{
	char words[16 * 3][11], pid[16];
	snprintf(pid, sizeof pid, "%d", child);
	std::vector<char *> argv = {const_cast<char *>(helper), pid};
	for (size_t i = 0; i < maps.size() && i < 16; i++)
		for (int k = 0; k < 3; k++) {
			const id_map &m = maps[i];
			snprintf(words[3 * i + k], sizeof words[0], "%u", k == 0 ? m.inside : k == 1 ? m.outside : m.count);
			argv.push_back(words[3 * i + k]);
		}
	argv.push_back(nullptr);
	pid_t h = pid_t(sys::clone_fork(SIGCHLD));
	if (h == 0) {
		char *no_env[] = {nullptr};
		execve(helper, argv.data(), no_env);
		_exit(127);
	}
	int ws;
	if (h < 0 || waitpid(h, &ws, 0) != h || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
		sys::die("%s %s failed", helper, pid);
}

// The child, once its maps are written: root of its user namespace.
inline void become_namespace_root()
{
	if (sys::set_gid(0) < 0 || sys::set_uid(0) < 0)
		sys::die_errno("become root of the user namespace");
}

// /proc/PID/FILE of a child, written in one write(2), as the kernel takes a map.
inline void write_proc_file(pid_t child, const char *file, const char *text, size_t n)
{
	char path[48];
	snprintf(path, sizeof path, "/proc/%d/%s", child, file);
	sys::unique_fd fd(open(path, O_WRONLY | O_CLOEXEC));
	if (!fd || write(fd.get(), text, n) != ssize_t(n))
		sys::die_errno("write %s", path);
}

// A child's uid and gid maps, written by the host side while the child waits. An
// unprivileged writer may map only its own ids, and must first give up setgroups; more
// than that goes through the setuid helpers (`helpers`).
inline void write_id_maps(pid_t child, std::span<const id_map> uids, std::span<const id_map> gids, bool helpers)
{
	if (helpers) {
		run_map_helper(newuidmap, child, uids);
		run_map_helper(newgidmap, child, gids);
		return;
	}
	if (getuid() != 0)
		write_proc_file(child, "setgroups", "deny", 4);
	for (auto [file, maps] : {std::pair{"uid_map", uids}, {"gid_map", gids}}) {
		char text[1024];
		size_t n = 0;
		for (const id_map &m : maps)
			n += size_t(snprintf(text + n, n < sizeof text ? sizeof text - n : 0, "%u %u %u\n", m.inside, m.outside, m.count));
		if (n >= sizeof text)
			sys::die("%s: too many id mappings", file);
		write_proc_file(child, file, text, n);
	}
}

} // namespace users
