// state.hpp: the record of a container the runtime mode made, kept under the state root
// (runc's --root: /run/launcher by default) as ROOT/ID/state.json, beside the bundle's
// config.json as it was at create and the exec.fifo that `start` opens. The record outlives
// the container's process: `state` answers "stopped" until `delete` removes the directory.
// A pid is believed only with the start time the kernel gave it (/proc/PID/stat field 22),
// so a reused pid is never taken for the container.
#pragma once
#include <dirent.h>
#include <cstdarg>
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
	// A container of `launcher run` (name set; empty for a bundle's): what ps, logs, stop,
	// rm and inspect show and use. Its supervisor is the launcher that waits for it.
	char name[128] = "", image[PATH_MAX] = "", command[1024] = "", finished[40] = "";
	char log_path[PATH_MAX] = "", data_dir[PATH_MAX] = "", network[32] = "", address[20] = "", restart[32] = "";
	int exit_code = -1;               // -1: not exited (yet)
	pid_t supervisor = 0;
	uint64_t supervisor_start = 0;
	int stop_signal = 15;             // --stop-signal, else the image's StopSignal, else SIGTERM
	int stop_timeout = 10;            // --stop-timeout: seconds from it to SIGKILL
	unsigned restart_count = 0;
	bool auto_remove = false, tty = false, interactive = false;
	char ipc_mode[144] = "private"; // --ipc as given: another may join it unless "private"
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
		} else if (c == '\n' || c == '\t' || c == '\r') {
			put('\\');
			put(c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
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

// A growing text (libstdc++'s <string> does not build against musl's headers).
struct text {
	std::vector<char> b;
	text &add(std::string_view s)
	{
		b.insert(b.end(), s.begin(), s.end());
		return *this;
	}
	[[gnu::format(printf, 2, 3)]] text &addf(const char *fmt, ...)
	{
		char buf[512];
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(buf, sizeof buf, fmt, ap);
		va_end(ap);
		return add({buf, n < 0 ? 0 : std::min(size_t(n), sizeof buf - 1)});
	}
	text &json(std::string_view s)
	{
		size_t need = s.size() * 6 + 3, at = b.size();
		b.resize(at + need);
		size_t n = put_json_string(b.data() + at, need, 0, s);
		b.resize(at + std::min(n, need - 1));
		return *this;
	}
	std::string_view view() const { return {b.data(), b.size()}; }
};

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
	if (full && *r.name) {
		for (auto [key, value] : {std::pair{"name", r.name}, {"image", r.image}, {"command", r.command}, {"finishedAt", r.finished},
					  {"logPath", r.log_path}, {"dataDir", r.data_dir}, {"network", r.network},
					  {"address", r.address}, {"restart", r.restart}, {"ipcMode", r.ipc_mode}}) {
			n += size_t(snprintf(out + n, n < cap ? cap - n : 0, ",\"%s\":", key));
			n = put_json_string(out, cap, n, value);
		}
		n += size_t(snprintf(out + n, n < cap ? cap - n : 0,
				     ",\"exitCode\":%d,\"supervisorPid\":%d,\"supervisorStart\":%llu,\"stopSignal\":%d,\"stopTimeout\":%d,"
				     "\"restartCount\":%u,\"autoRemove\":%s,\"tty\":%s,\"interactive\":%s",
				     r.exit_code, r.supervisor, (unsigned long long)r.supervisor_start, r.stop_signal, r.stop_timeout, r.restart_count,
				     r.auto_remove ? "true" : "false", r.tty ? "true" : "false", r.interactive ? "true" : "false"));
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
	auto copy = [&](const char *key, char *out, size_t cap, bool cut = false) {
		json::value s = v[key];
		if (!s.is(json::kind::string) || (s.raw().size() >= cap && !cut))
			return false;
		if (s.raw().size() < cap) {
			json::unescape(s.raw(), out);
			return true;
		}
		// The command, shown only: as many whole characters as fit (its escapes made the
		// written text longer than what was kept of it).
		std::vector<char> all(s.raw().size() + 1);
		size_t n = std::min(json::unescape(s.raw(), all.data()).size(), cap - 1);
		while (n && (all[n] & 0xc0) == 0x80)
			n--;
		memcpy(out, all.data(), n);
		out[n] = 0;
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
	if (v["name"].is(json::kind::string)) {
		uint64_t sup = 0, code = 0, sig = 0, count = 0, timeout = 0;
		bool exited = v["exitCode"].raw() != "-1", forever = v["stopTimeout"].raw() == "-1"; // --stop-timeout -1: never kill
		if (!copy("name", r.name, sizeof r.name) || !copy("image", r.image, sizeof r.image) ||
		    !copy("command", r.command, sizeof r.command, true) || !copy("finishedAt", r.finished, sizeof r.finished) ||
		    !copy("logPath", r.log_path, sizeof r.log_path) || !copy("dataDir", r.data_dir, sizeof r.data_dir) ||
		    !copy("network", r.network, sizeof r.network) || !copy("address", r.address, sizeof r.address) ||
		    !copy("restart", r.restart, sizeof r.restart) || !number("supervisorPid", sup) ||
		    !number("supervisorStart", r.supervisor_start) || !number("stopSignal", sig) || (!forever && !number("stopTimeout", timeout)) || !number("restartCount", count) ||
		    (exited && !number("exitCode", code)))
			return false;
		r.exit_code = exited ? int(code) : -1;
		r.supervisor = pid_t(sup);
		r.stop_signal = int(sig);
		r.stop_timeout = forever ? -1 : int(timeout);
		r.restart_count = unsigned(count);
		r.auto_remove = v["autoRemove"].raw() == "true";
		r.tty = v["tty"].raw() == "true";
		r.interactive = v["interactive"].raw() == "true";
		if (v["ipcMode"].is(json::kind::string)) // (a record of an earlier launcher has none)
			copy("ipcMode", r.ipc_mode, sizeof r.ipc_mode);
	}
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

// Whether the launcher that supervises a `launcher run` container still lives.
inline bool supervised(const record &r)
{
	bool dead;
	return r.supervisor > 0 && process_start(r.supervisor, dead) == r.supervisor_start && !dead;
}

// RFC 3339 with nanoseconds, UTC: 2026-12-01T17:05:03.123456789Z.
inline void rfc3339(char (&out)[40], const timespec *at = nullptr)
{
	timespec now;
	if (at)
		now = *at;
	else
		syscall(SYS_clock_gettime, CLOCK_REALTIME, &now);
	// Days since 1970 to a civil date (Howard Hinnant's algorithm), then the time of day.
	long days = now.tv_sec / 86400, secs = now.tv_sec % 86400;
	long z = days + 719468, era = z / 146097, doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153, day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
	long year = yoe + era * 400 + (month <= 2);
	snprintf(out, sizeof out, "%04ld-%02ld-%02ldT%02ld:%02ld:%02ld.%09ldZ", year, month, day, secs / 3600, secs / 60 % 60,
		 secs % 60, now.tv_nsec);
}

// The state root both modes share: runc's --root, else $LAUNCHER_STATE, else
// $XDG_RUNTIME_DIR/launcher for a user other than root, else /run/launcher.
inline void state_root_path(const char *given, char (&out)[PATH_MAX])
{
	const char *runtime_dir = getenv("XDG_RUNTIME_DIR"), *env = getenv("LAUNCHER_STATE");
	if (given)
		snprintf(out, sizeof out, "%s", given);
	else if (env && *env)
		snprintf(out, sizeof out, "%s", env);
	else if (getuid() != 0 && runtime_dir && *runtime_dir)
		snprintf(out, sizeof out, "%s/launcher", runtime_dir);
	else
		snprintf(out, sizeof out, "/run/launcher");
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
	char tmp[96]; // one of this process's own: two launchers may write one file at once
	snprintf(tmp, sizeof tmp, ".%s.%d.tmp", name, getpid());
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
