// state.hpp: the record of a container the runtime mode made, kept under the state root
// (runc's --root: /run/launcher by default) as ROOT/ID/state.json, beside the bundle's
// config.json as it was at create and the exec.fifo that `start` opens. The record outlives
// the container's process: `state` answers "stopped" until `delete` removes the directory.
// A pid is believed only with the start time the kernel gave it (/proc/PID/stat field 22),
// so a reused pid is never taken for the container.
#pragma once
#include <dirent.h>
#include <sys/stat.h>

#include "image.hpp"
#include "json.hpp"
#include "sys.hpp"

namespace state {

using sys::die;
using sys::die_errno;

struct record {
	char id[128] = "";
	pid_t pid = 0;
	uint64_t start_time = 0;          // of pid, in clock ticks since boot
	char bundle[PATH_MAX] = "", rootfs[PATH_MAX] = "", created[40] = "";
	char cgroups[PATH_MAX] = "";      // the cgroup path under each hierarchy
	std::string_view annotations;     // an object's text, or empty
	bool systemd = false;
};

// runc's rule for ids: letters, digits, and _ + - . ; not "." or "..".
inline bool valid_id(std::string_view id)
{
	if (id.empty() || id.size() >= sizeof record::id || id == "." || id == "..")
		return false;
	for (char c : id)
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
		      c == '-' || c == '.'))
			return false;
	return true;
}

// A JSON string of s, quotes included, appended at out[used...].
inline size_t put_json_string(char *out, size_t cap, size_t used, std::string_view s)
{
	auto put = [&](char c) {
		if (used + 1 < cap)
			out[used] = c;
		used++;
	};
	put('"');
	for (unsigned char c : s) {
		if (c == '"' || c == '\\') {
			put('\\');
			put(char(c));
		} else if (c < 0x20) {
			char esc[8];
			snprintf(esc, sizeof esc, "\\u%04x", c);
			for (char *e = esc; *e; e++)
				put(*e);
		} else {
			put(char(c));
		}
	}
	put('"');
	if (used < cap)
		out[used] = 0;
	else if (cap)
		out[cap - 1] = 0;
	return used;
}

// The OCI state (runtime-spec's "state"), with the record's own fields when `full`.
inline size_t format(const record &r, const char *status, bool full, char *out, size_t cap)
{
	size_t n = size_t(snprintf(out, cap, "{\"ociVersion\":\"1.1.0\",\"id\":"));
	n = put_json_string(out, cap, n, r.id);
	n += size_t(snprintf(out + n, n < cap ? cap - n : 0, ",\"pid\":%d,\"status\":\"%s\",\"bundle\":",
			     strcmp(status, "stopped") == 0 && !full ? 0 : r.pid, status));
	n = put_json_string(out, cap, n, r.bundle);
	n += size_t(snprintf(out + n, n < cap ? cap - n : 0, ",\"rootfs\":"));
	n = put_json_string(out, cap, n, r.rootfs);
	n += size_t(snprintf(out + n, n < cap ? cap - n : 0, ",\"created\":\"%s\",\"owner\":\"\"", r.created));
	if (!r.annotations.empty() && r.annotations != "{}")
		n += size_t(snprintf(out + n, n < cap ? cap - n : 0, ",\"annotations\":%.*s", int(r.annotations.size()), r.annotations.data()));
	if (full) {
		n += size_t(snprintf(out + n, n < cap ? cap - n : 0, ",\"startTime\":%llu,\"systemd\":%s,\"cgroups\":",
				     (unsigned long long)r.start_time, r.systemd ? "true" : "false"));
		n = put_json_string(out, cap, n, r.cgroups);
	}
	n += size_t(snprintf(out + n, n < cap ? cap - n : 0, "}"));
	return n;
}

// Reads a record written by format(..., full = true); false when it is not one.
inline bool parse(std::string_view text, std::vector<json::token> &tokens, record &r)
{
	json::document doc;
	if (image::detail::load(text, tokens, doc))
		return false;
	json::value v{&doc, 0};
	auto copy = [&](const char *key, char *out, size_t cap) {
		json::value s = v[key];
		if (!s.is(json::kind::string) || s.raw().size() >= cap)
			return false;
		json::unescape(s.raw(), out);
		return true;
	};
	auto number = [&](const char *key, uint64_t &out) {
		json::value s = v[key];
		out = 0;
		for (char c : s.is(json::kind::number) ? s.raw() : "-")
			if (c < '0' || c > '9' || out > UINT64_MAX / 10 - 9)
				return false;
			else
				out = out * 10 + uint64_t(c - '0');
		return true;
	};
	uint64_t pid;
	if (!copy("id", r.id, sizeof r.id) || !copy("bundle", r.bundle, sizeof r.bundle) || !copy("rootfs", r.rootfs, sizeof r.rootfs) ||
	    !copy("created", r.created, sizeof r.created) || !copy("cgroups", r.cgroups, sizeof r.cgroups) ||
	    !number("pid", pid) || !number("startTime", r.start_time))
		return false;
	r.pid = pid_t(pid);
	r.systemd = v["systemd"].raw() == "true";
	if (json::value a = v["annotations"]; a.is(json::kind::object))
		r.annotations = a.raw();
	return true;
}

// The kernel's start time of pid (field 22 of /proc/PID/stat) and whether it is a zombie
// (field 3 is Z or X): 0 when there is no such process.
inline uint64_t process_start(pid_t pid, bool &dead)
{
	char path[32], text[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	sys::unique_fd fd(open(path, O_RDONLY | O_CLOEXEC));
	ssize_t n = fd ? read(fd.get(), text, sizeof text - 1) : -1;
	dead = true;
	if (n <= 0)
		return 0;
	text[n] = 0;
	char *p = strrchr(text, ')'); // the command may hold spaces and parentheses
	if (!p || p[1] != ' ')
		return 0;
	dead = p[2] == 'Z' || p[2] == 'X';
	p += 2; // field 3
	for (int field = 3; field < 22 && p; field++)
		if ((p = strchr(p, ' ')))
			p++;
	return p ? sys::leading_number(p) : 0;
}

// Whether the record's process is still the container's, and alive.
inline bool alive(const record &r)
{
	bool dead;
	return r.pid > 0 && process_start(r.pid, dead) == r.start_time && !dead;
}

// The text of a small file under dir; false when it cannot be read.
inline bool read_file(int dir, const char *name, std::vector<char> &out)
{
	sys::unique_fd fd(openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
	struct stat st;
	if (!fd || fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (16 << 20))
		return false;
	out.resize(size_t(st.st_size));
	size_t done = 0;
	while (done < out.size()) {
		ssize_t n = read(fd.get(), out.data() + done, out.size() - done);
		if (n <= 0)
			return false;
		done += size_t(n);
	}
	return true;
}

// Writes a file of dir by a temporary name and a rename, so a reader never sees half.
inline void write_file(int dir, const char *name, std::string_view text, const char *what)
{
	char tmp[64];
	snprintf(tmp, sizeof tmp, ".%s.tmp", name);
	sys::unique_fd fd(openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
	if (!fd || write(fd.get(), text.data(), text.size()) != ssize_t(text.size()) || renameat(dir, tmp, dir, name) < 0)
		die_errno("write %s", what);
}

// Removes dir's files and then dir (the record's directory holds no subdirectory).
inline void remove_dir(int root, const char *id)
{
	sys::unique_fd fd(openat(root, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
	if (DIR *d = fd ? fdopendir(fd.release()) : nullptr) {
		while (dirent *e = readdir(d))
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	if (unlinkat(root, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
		die_errno("remove the state of container %s", id);
}

} // namespace state
