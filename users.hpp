// users.hpp: the lines of /etc/passwd, /etc/group and /etc/subuid as docker and shadow's
// tools read them: one reader for every caller, numbers checked.
#pragma once
#include <string_view>

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

} // namespace users
