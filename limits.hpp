// limits.hpp: resource limits, docker's --memory, --pids-limit, --cpus (cgroups) and
// --ulimit (rlimits), and the cgroup operations the OCI mode needs. Parsing and the
// mapping of resources to cgroup files are pure; the rest writes a few files.
//
// cgroups hold the limits and docker's device policy (security.hpp's table: a cgroup2
// device program, or the v1 devices controller's rules). On a cgroup v2 host (cgroup2 at
// /sys/fs/cgroup) the container gets OWN/launcher-PID for both, OWN being the launcher's
// own cgroup (or, where that holds processes and controllers are needed, its parent:
// place_v2); on a hybrid host (v1 controllers beside cgroup2 at /sys/fs/cgroup/unified, as
// here) one directory /launcher-PID per v1 controller a limit needs, and cgroup2's
// OWN/launcher-PID for the device program, which the kernel runs before the v1 devices
// controller (allowing all at its root); on a v1 host the devices controller's
// /launcher-PID. With no cgroup file system in sight (`ip netns exec`) the launcher mounts
// cgroup2 in a mount namespace of its own; if it cannot, no container starts. PID is the
// host-side launcher's. The directories are made before the clone; PID 1 is cloned into
// the cgroup2 one (CLONE_INTO_CGROUP) and moved into the others before the host's go
// message, so it runs nothing outside them; then it takes a cgroup namespace, whose root
// they are. They are removed when the container has ended (cgroup.kill first where the
// host side fails); directories of launchers killed with SIGKILL by the next start.
#pragma once
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <string_view>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <vector>

#include "security.hpp"
#include "sys.hpp"

namespace limits {

// Digits only, without overflow.
inline bool decimal(std::string_view s, uint64_t &out)
{
	out = 0;
	for (char c : s) {
		if (c < '0' || c > '9' || out > (UINT64_MAX - 9) / 10)
			return false;
		out = out * 10 + uint64_t(c - '0');
	}
	return !s.empty();
}

// "64m", "1g", "512k", "1048576" (bytes); false on junk or overflow.
inline bool parse_bytes(std::string_view s, uint64_t &out)
{
	uint64_t mul = 1;
	if (!s.empty()) {
		switch (s.back() | 0x20) {
		case 'k': mul = 1ull << 10; break;
		case 'm': mul = 1ull << 20; break;
		case 'g': mul = 1ull << 30; break;
		case 'b': mul = 1; break;
		}
		if (mul != 1 || (s.back() | 0x20) == 'b')
			s.remove_suffix(1);
	}
	if (!decimal(s, out) || out > UINT64_MAX / mul)
		return false;
	out *= mul;
	return out > 0;
}

constexpr uint64_t cpu_period_us = 100000;

// "0.5" cores to a quota per 100 ms period, in microseconds; "2" to 200000.
inline bool parse_cpus(std::string_view s, uint64_t &quota_us)
{
	uint64_t whole = 0, frac = 0, scale = 1;
	size_t i = 0;
	for (; i < s.size() && s[i] >= '0' && s[i] <= '9' && whole < 1000000; i++)
		whole = whole * 10 + uint64_t(s[i] - '0');
	if (i < s.size() && s[i] == '.')
		for (i++; i < s.size() && s[i] >= '0' && s[i] <= '9' && scale < 1000000; i++)
			frac = frac * 10 + uint64_t(s[i] - '0'), scale *= 10;
	if (i != s.size() || s.empty())
		return false;
	quota_us = whole * cpu_period_us + frac * cpu_period_us / scale;
	return quota_us >= 1000; // the kernel's minimum quota is 1 ms
}

// One resource limit of a container's process (docker's --ulimit, config.json's
// process.rlimits), set before it execs.
struct rlimit_entry {
	int resource;
	rlimit limit;
};

inline void set_rlimits(std::span<const rlimit_entry> limits)
{
	for (const rlimit_entry &r : limits)
		if (sys::set_rlimit(r.resource, r.limit) < 0)
			sys::die_errno("set rlimit %d", r.resource);
}

struct rlimit_name {
	const char *name;
	int resource;
};
constexpr rlimit_name rlimit_names[] = {
	{"core", RLIMIT_CORE},     {"cpu", RLIMIT_CPU},         {"data", RLIMIT_DATA},
	{"fsize", RLIMIT_FSIZE},   {"locks", RLIMIT_LOCKS},     {"memlock", RLIMIT_MEMLOCK},
	{"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},   {"nofile", RLIMIT_NOFILE},
	{"nproc", RLIMIT_NPROC},   {"rss", RLIMIT_RSS},         {"rtprio", RLIMIT_RTPRIO},
	{"rttime", RLIMIT_RTTIME}, {"sigpending", RLIMIT_SIGPENDING}, {"stack", RLIMIT_STACK},
	{"as", RLIMIT_AS},
};

// docker's --ulimit NAME=SOFT[:HARD]; -1 means unlimited.
inline bool parse_ulimit(std::string_view s, int &resource, rlimit &lim)
{
	size_t eq = s.find('=');
	if (eq == std::string_view::npos)
		return false;
	std::string_view name = s.substr(0, eq), values = s.substr(eq + 1);
	resource = -1;
	for (const rlimit_name &r : rlimit_names)
		if (name == r.name)
			resource = r.resource;
	auto value = [](std::string_view v, rlim_t &out) {
		if (v == "-1") {
			out = RLIM_INFINITY;
			return true;
		}
		uint64_t n;
		if (!decimal(v, n))
			return false;
		out = rlim_t(n);
		return true;
	};
	size_t colon = values.find(':');
	if (resource < 0 || !value(values.substr(0, colon), lim.rlim_cur))
		return false;
	if (colon == std::string_view::npos)
		lim.rlim_max = lim.rlim_cur;
	else if (!value(values.substr(colon + 1), lim.rlim_max))
		return false;
	return lim.rlim_cur <= lim.rlim_max;
}

// ---- cgroups: the pure parts -----------------------------------------------------------------

// The launcher's own cgroup2 path, from /proc/self/cgroup's "0::PATH" line; "" if none.
inline std::string_view own_cgroup(std::string_view text)
{
	for (size_t at = 0; at < text.size();) {
		size_t end = text.find('\n', at);
		std::string_view line = text.substr(at, end == text.npos ? text.npos : end - at);
		if (line.starts_with("0::/"))
			return line.substr(3);
		at = end == text.npos ? text.size() : end + 1;
	}
	return {};
}

// Appends part to out (a path of size bytes); false when it does not fit.
inline bool append(char *out, size_t size, std::string_view part)
{
	size_t n = strlen(out);
	if (n + part.size() >= size)
		return false;
	memcpy(out + n, part.data(), part.size());
	out[n + part.size()] = 0;
	return true;
}

// A name systemd or cgroupfs takes as one path component.
inline bool component(std::string_view s)
{
	return !s.empty() && s != "." && s != ".." && s.find('/') == s.npos && s.find('\n') == s.npos;
}

// An OCI cgroupsPath to a path below the hierarchy roots (the cgroup2 root, or each v1
// controller's): "/machine/abc" as it is, "machine/abc" as "/machine/abc"; systemd's form
// "SLICE:PREFIX:NAME" as systemd lays it out (runc's mapping): "machine-abc.slice:libpod:x"
// is /machine.slice/machine-abc.slice/libpod-x.scope, an empty slice system.slice, and a
// NAME ending in .slice names the unit itself. false on "..", empty parts, or overflow.
inline bool cgroup_path(std::string_view spec, char *out, size_t size)
{
	out[0] = 0;
	size_t c1 = spec.find(':');
	if (c1 == spec.npos) { // cgroupfs
		if (spec.empty() || spec.size() + 2 > size)
			return false;
		for (size_t at = 0; at < spec.size();) {
			size_t slash = spec.find('/', at);
			std::string_view part = spec.substr(at, slash == spec.npos ? spec.npos : slash - at);
			at = slash == spec.npos ? spec.size() : slash + 1;
			if (!part.empty() && (!component(part) || !append(out, size, "/") || !append(out, size, part)))
				return false; // (an empty part: a doubled, leading or trailing slash)
		}
		return out[0] != 0;
	}
	size_t c2 = spec.find(':', c1 + 1);
	if (c2 == spec.npos)
		return false;
	std::string_view slice = spec.substr(0, c1), prefix = spec.substr(c1 + 1, c2 - c1 - 1), name = spec.substr(c2 + 1);
	if (slice.empty())
		slice = "system.slice";
	if (!component(slice) || !slice.ends_with(".slice") || slice.size() == 6 || !component(name) || (!prefix.empty() && !component(prefix)))
		return false;
	// "a-b-c.slice" lives in /a.slice/a-b.slice/a-b-c.slice; "-.slice" is the root.
	if (slice != "-.slice") {
		std::string_view stem = slice.substr(0, slice.size() - 6);
		if (stem.starts_with('-') || stem.ends_with('-') || stem.find("--") != stem.npos)
			return false;
		for (size_t dash = stem.find('-'); dash != stem.npos; dash = stem.find('-', dash + 1))
			if (!append(out, size, "/") || !append(out, size, stem.substr(0, dash)) || !append(out, size, ".slice"))
				return false;
		if (!append(out, size, "/") || !append(out, size, slice))
			return false;
	}
	if (!append(out, size, "/"))
		return false;
	if (name.ends_with(".slice"))
		return append(out, size, name);
	return (prefix.empty() || (append(out, size, prefix) && append(out, size, "-"))) && append(out, size, name) &&
	       append(out, size, ".scope");
}

// docker's and runc's map from cgroup v1's cpu.shares (2 to 262144, 1024 the default) to
// cgroup v2's cpu.weight (1 to 10000, 100 the default).
constexpr uint64_t shares_to_weight(uint64_t shares)
{
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

// The resources of a container, as OCI's linux.resources and docker's flags give them.
// 0 leaves a value as the kernel has it; -1 is unlimited.
struct resources {
	int64_t memory = 0;             // bytes
	int64_t memory_reservation = 0; // bytes: the soft limit (v2 memory.low)
	int64_t memory_swap = 0;        // bytes of memory and swap together, as docker and OCI count
	uint64_t cpu_shares = 0;        // v1 cpu.shares, mapped to v2 cpu.weight
	int64_t cpu_quota = 0;          // microseconds per period
	uint64_t cpu_period = 0;        // microseconds (100000 unless given)
	const char *cpus = nullptr;     // cpuset lists: "0-3,5"
	const char *mems = nullptr;
	int64_t pids = 0;
	bool oom_kill_disable = false;  // v1 memory.oom_control; cgroup2 has none (docker ignores it there too)
	bool set_devices = false;       // devices holds the device rules (create_at attaches them)
	std::span<const security::device_rule> devices;
};

// One file a resources struct writes: its controller (which v1 hierarchy, which v2
// controller must be enabled), its name, the value.
struct setting {
	const char *controller, *file;
	char value[32];
};
constexpr size_t max_settings = 12;

// The files and values of r on cgroup v2 or v1, in the order they must be written; false
// (with why) when r is inconsistent. Pure: the unit tests read the mapping.
inline bool settings(const resources &r, bool v2, setting (&out)[max_settings], size_t &n, const char *&why)
{
	n = 0;
	why = nullptr;
	auto put = [&](const char *controller, const char *file, int64_t value, const char *unlimited) {
		setting &s = out[n++];
		s.controller = controller;
		s.file = file;
		if (value < 0)
			snprintf(s.value, sizeof s.value, "%s", unlimited);
		else
			snprintf(s.value, sizeof s.value, "%lld", (long long)value);
	};
	auto put_text = [&](const char *controller, const char *file, const char *text) {
		setting &s = out[n++];
		s.controller = controller;
		s.file = file;
		snprintf(s.value, sizeof s.value, "%s", text);
	};
	const char *unlimited = v2 ? "max" : "-1";
	if (r.memory_swap > 0 && r.memory > 0 && r.memory_swap < r.memory)
		return why = "memory and swap together below the memory limit", false;
	if (r.memory_swap > 0 && r.memory <= 0)
		return why = "a swap limit without a memory limit", false;
	if (r.memory)
		put("memory", v2 ? "memory.max" : "memory.limit_in_bytes", r.memory, unlimited);
	if (r.memory_reservation)
		put("memory", v2 ? "memory.low" : "memory.soft_limit_in_bytes", r.memory_reservation, unlimited);
	if (r.memory_swap)
		put("memory", v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes",
		    v2 && r.memory_swap > 0 ? r.memory_swap - r.memory : r.memory_swap, unlimited);
	if (r.cpu_shares) {
		if (v2)
			put("cpu", "cpu.weight", int64_t(shares_to_weight(r.cpu_shares)), "");
		else
			put("cpu", "cpu.shares", int64_t(r.cpu_shares), "");
	}
	if (r.cpu_quota || r.cpu_period) {
		int64_t period = r.cpu_period ? int64_t(r.cpu_period) : int64_t(cpu_period_us);
		if (period < 1000 || period > 1000000 || (r.cpu_quota > 0 && r.cpu_quota < 1000))
			return why = "a CPU period outside 1 ms to 1 s, or a quota under 1 ms", false;
		if (v2) {
			setting &s = out[n++];
			s = {"cpu", "cpu.max", ""};
			if (r.cpu_quota > 0)
				snprintf(s.value, sizeof s.value, "%lld %lld", (long long)r.cpu_quota, (long long)period);
			else
				snprintf(s.value, sizeof s.value, "max %lld", (long long)period);
		} else {
			put("cpu", "cpu.cfs_period_us", period, "");
			if (r.cpu_quota)
				put("cpu", "cpu.cfs_quota_us", r.cpu_quota, "-1");
		}
	}
	if (r.cpus && strlen(r.cpus) < sizeof out[0].value)
		put_text("cpuset", "cpuset.cpus", r.cpus);
	if (r.mems && strlen(r.mems) < sizeof out[0].value)
		put_text("cpuset", "cpuset.mems", r.mems);
	if ((r.cpus && strlen(r.cpus) >= sizeof out[0].value) || (r.mems && strlen(r.mems) >= sizeof out[0].value))
		return why = "a cpuset list over 31 characters", false;
	if (r.pids)
		put("pids", "pids.max", r.pids, "max");
	if (r.oom_kill_disable && !v2)
		put("memory", "memory.oom_control", 1, "");
	return true;
}

// A rule as the v1 devices controller spells it: "c 1:3 rwm", "c 136:* rwm", "a *:* m".
inline void v1_device_rule(const security::device_rule &r, char (&text)[40])
{
	char major[12] = "*", minor[12] = "*", access[4] = "";
	if (r.major >= 0)
		snprintf(major, sizeof major, "%d", r.major);
	if (r.minor >= 0)
		snprintf(minor, sizeof minor, "%d", r.minor);
	size_t n = 0;
	if (r.access & security::dev_r)
		access[n++] = 'r';
	if (r.access & security::dev_w)
		access[n++] = 'w';
	if (r.access & security::dev_m)
		access[n++] = 'm';
	snprintf(text, sizeof text, "%c %s:%s %s", r.type, major, minor, access);
}

// The pids of a cgroup.procs text, one a line; how many there were (out holds the first max).
inline size_t parse_pids(std::string_view text, pid_t *out, size_t max)
{
	size_t n = 0;
	uint64_t v;
	for (size_t at = 0; at < text.size();) {
		size_t end = text.find('\n', at);
		std::string_view line = text.substr(at, end == text.npos ? text.npos : end - at);
		at = end == text.npos ? text.size() : end + 1;
		if (decimal(line, v) && v <= INT32_MAX) {
			if (n < max)
				out[n] = pid_t(v);
			n++;
		}
	}
	return n;
}

// The value of "KEY N" in a flat-keyed cgroup file (memory.events, memory.oom_control,
// cgroup.events); 0 if absent.
inline uint64_t keyed_value(std::string_view text, std::string_view key)
{
	for (size_t at = 0; at < text.size();) {
		size_t end = text.find('\n', at);
		std::string_view line = text.substr(at, end == text.npos ? text.npos : end - at);
		at = end == text.npos ? text.size() : end + 1;
		uint64_t v;
		if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ' ' && decimal(line.substr(key.size() + 1), v))
			return v;
	}
	return 0;
}

// ---- cgroups: the file systems --------------------------------------------------------------

constexpr const char *cgroup_root = "/sys/fs/cgroup";
constexpr const char *hybrid_cgroup2 = "/sys/fs/cgroup/unified"; // cgroup2 beside the v1 controllers
constexpr const char *v1_devices = "/sys/fs/cgroup/devices";

// The v1 hierarchies a cgroup may have a directory in, one bit each.
constexpr const char *v1_controllers[] = {"memory", "pids", "cpu", "cpuset", "freezer", "devices"};
constexpr unsigned v1_bit(std::string_view name)
{
	for (size_t i = 0; i < std::size(v1_controllers); i++)
		if (name == v1_controllers[i])
			return 1u << i;
	return 0;
}

// One cgroup, at the same path below every root it lives in: cgroup2's (a v2 host's
// everything, or the hybrid host's device program) and the v1 controllers' it was made in.
struct cgroup {
	char path[256] = "";             // below cgroup2's root: "/launcher-123", "/machine/abc"
	char v1_path[256] = "";          // below each v1 controller's root
	const char *v2_root = nullptr;   // cgroup2's mount, where the cgroup has a directory; null: none
	bool v2 = false;                 // a v2 host: cgroup2 holds the controllers
	unsigned v1 = 0;                 // v1_bit of each controller it has a directory in
	int fd = -1;                     // its cgroup2 directory, to clone PID 1 into
	bool owned = false;              // ours to remove
};

inline void dir_of(const cgroup &cg, const char *controller, char (&dir)[PATH_MAX])
{
	if (cg.v2 || !controller)
		snprintf(dir, sizeof dir, "%s%s", cg.v2_root ? cg.v2_root : cgroup_root, cg.path);
	else
		snprintf(dir, sizeof dir, "%s/%s%s", cgroup_root, controller, cg.v1_path);
}

// Writes value to file of dir; -1 with errno on failure.
inline int try_write(const char *dir, const char *file, const char *value)
{
	char path[PATH_MAX + 40];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	sys::unique_fd fd(open(path, O_WRONLY | O_CLOEXEC));
	if (!fd || write(fd.get(), value, strlen(value)) < 0)
		return -1;
	return 0;
}

inline void write_value(const char *dir, const char *file, const char *value)
{
	if (try_write(dir, file, value) < 0)
		sys::die_errno("write %s to %s/%s", value, dir, file);
}

// Reads file of dir into text (NUL-terminated); its length, or -1.
inline ssize_t read_value(const char *dir, const char *file, char *text, size_t size)
{
	char path[PATH_MAX + 40];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	sys::unique_fd fd(open(path, O_RDONLY | O_CLOEXEC));
	size_t used = 0;
	ssize_t n = 0;
	while (fd && used + 1 < size && (n = read(fd.get(), text + used, size - 1 - used)) > 0)
		used += size_t(n);
	text[used] = 0;
	return !fd || n < 0 ? -1 : ssize_t(used);
}

inline bool mounted_as(const char *dir, unsigned long magic)
{
	struct statfs fs;
	return statfs(dir, &fs) == 0 && (unsigned long)fs.f_type == magic;
}

// Where cgroup2 is: a v2 host's /sys/fs/cgroup, else the hybrid host's unified tree.
inline void detect(cgroup &cg)
{
	cg.v2 = mounted_as(cgroup_root, CGROUP2_SUPER_MAGIC);
	cg.v2_root = cg.v2 ? cgroup_root : mounted_as(hybrid_cgroup2, CGROUP2_SUPER_MAGIC) ? hybrid_cgroup2 : nullptr;
}

// Whether each word of want (" +memory +pids") is in a cgroup.subtree_control text.
inline bool has_controllers(std::string_view enabled, std::string_view want)
{
	for (size_t at = 0; at < want.size();) {
		size_t end = want.find(' ', at);
		std::string_view w = want.substr(at, end == want.npos ? want.npos : end - at);
		at = end == want.npos ? want.size() : end + 1;
		if (w.starts_with('+'))
			w.remove_prefix(1);
		bool found = false;
		for (size_t e = 0; !w.empty() && e < enabled.size();) {
			size_t stop = enabled.find_first_of(" \n", e);
			found |= enabled.substr(e, stop == enabled.npos ? enabled.npos : stop - e) == w;
			e = stop == enabled.npos ? enabled.size() : stop + 1;
		}
		if (!w.empty() && !found)
			return false;
	}
	return true;
}

// cgroup2 gives a controller to a cgroup only where every parent has it in its
// cgroup.subtree_control: written here from the root down to `upto` (a path below root),
// where one of want is missing. -1 with errno (and the cgroup in refused) where it cannot
// be: EBUSY, that cgroup holds processes (the "no internal processes" rule).
inline int enable_controllers(const char *root, const char *upto, const char *want, char (&refused)[PATH_MAX])
{
	char dir[PATH_MAX], text[256];
	snprintf(dir, sizeof dir, "%s%s", root, upto);
	for (char *p = dir + strlen(root);; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;
		*p = 0;
		if (read_value(dir, "cgroup.subtree_control", text, sizeof text) < 0 || !has_controllers(text, want)) {
			// A cgroup with processes (but the root, which has no cgroup.type) takes no
			// domain controller (memory) for its children, and a threaded one alone (pids,
			// cpu) would make it a thread root, whose new children take no process at all.
			if (read_value(dir, "cgroup.type", text, sizeof text) > 0 && read_value(dir, "cgroup.procs", text, sizeof text) > 0) {
				snprintf(refused, sizeof refused, "%s", dir);
				errno = EBUSY;
				return -1;
			}
			// runc's way: every controller a container may want (so that a launcher inside
			// it has them too), else just those this one needs
			if (try_write(dir, "cgroup.subtree_control", strstr(want, "cpuset") ? "+cpu +memory +pids +cpuset" : "+cpu +memory +pids") < 0 &&
			    try_write(dir, "cgroup.subtree_control", want) < 0) {
				snprintf(refused, sizeof refused, "%s", dir);
				return -1;
			}
		}
		if (!(*p = c))
			return 0;
	}
}

// The controllers r needs, as cgroup.subtree_control takes them, and their v1 bits.
inline void needed_controllers(const resources &r, char (&want)[64], unsigned &v1)
{
	want[0] = 0;
	v1 = 0;
	setting s[max_settings];
	size_t n;
	const char *why;
	settings(r, true, s, n, why);
	if (r.oom_kill_disable) // a v1 setting only
		v1 |= v1_bit("memory"), snprintf(want, sizeof want, "+memory");
	for (size_t i = 0; i < n; i++)
		if (!(v1 & v1_bit(s[i].controller))) {
			v1 |= v1_bit(s[i].controller);
			snprintf(want + strlen(want), sizeof want - strlen(want), "%s+%s", want[0] ? " " : "", s[i].controller);
		}
}

// A v1 cpuset starts with no CPUs nor memory nodes, and takes no process so: each level of
// dir below the controller's root (at) takes its parent's where empty.
inline void inherit_cpuset(const char *dir, size_t at)
{
	char path[PATH_MAX], up[PATH_MAX], text[256];
	snprintf(path, sizeof path, "%s", dir);
	for (char *p = path + at + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;
		*p = 0;
		snprintf(up, sizeof up, "%s", path);
		*strrchr(up, '/') = 0;
		for (const char *f : {"cpuset.cpus", "cpuset.mems"})
			if (read_value(path, f, text, sizeof text) <= 1 && read_value(up, f, text, sizeof text) > 1)
				write_value(path, f, text);
		if (!(*p = c))
			return;
	}
}

// Makes the directory of cg (cg.path under cgroup2, cg.v1_path under each v1 controller of
// v1); parents too when `parents` (an OCI cgroupsPath), after enabling the controllers r
// needs on cgroup2.
inline void make(cgroup &cg, const resources &r, bool in_v2, unsigned v1, bool parents)
{
	char dir[PATH_MAX], want[64], refused[PATH_MAX];
	unsigned need;
	needed_controllers(r, want, need);
	if (in_v2 && cg.v2_root) {
		if (parents) {
			char parent[sizeof cg.path];
			snprintf(parent, sizeof parent, "%s", cg.path);
			*strrchr(parent, '/') = 0;
			char path[PATH_MAX];
			snprintf(path, sizeof path, "%s%s", cg.v2_root, parent);
			sys::mkdirs(path, 0755);
			if (cg.v2 && want[0] && enable_controllers(cg.v2_root, parent, want, refused) < 0)
				sys::die_errno("enable %s in %s/cgroup.subtree_control", want, refused);
		}
		dir_of(cg, nullptr, dir);
		if (mkdir(dir, 0755) < 0 && !(parents && errno == EEXIST))
			sys::die_errno("create cgroup %s", dir);
		cg.owned = true;
	}
	if (!cg.v2)
		for (size_t i = 0; i < std::size(v1_controllers); i++) {
			if (!((v1 | need) & (1u << i)))
				continue;
			dir_of(cg, v1_controllers[i], dir);
			if (parents)
				sys::mkdirs(dir, 0755);
			else if (mkdir(dir, 0755) < 0)
				sys::die_errno("create cgroup %s", dir);
			cg.v1 |= 1u << i;
			cg.owned = true;
			if (v1_controllers[i] == std::string_view("cpuset"))
				inherit_cpuset(dir, strlen(cgroup_root) + sizeof "/cpuset" - 1);
		}
}

// The device policy: on cgroup2 a BPF_PROG_TYPE_CGROUP_DEVICE program, loaded and attached
// with BPF_F_ALLOW_MULTI, as runc (a program below it could only refuse more).
inline void attach_device_program(const char *dir, const bpf_insn *code, size_t length)
{
	bpf_attr load = {};
	load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	load.insns = uint64_t(uintptr_t(code));
	load.insn_cnt = uint32_t(length);
	load.license = uint64_t(uintptr_t(""));
	sys::unique_fd prog(int(syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load)));
	if (!prog)
		sys::die_errno("load the device policy for %s", dir);
	sys::unique_fd target(open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	bpf_attr attach = {};
	attach.target_fd = uint32_t(target.get());
	attach.attach_bpf_fd = uint32_t(prog.get());
	attach.attach_type = BPF_CGROUP_DEVICE;
	attach.attach_flags = BPF_F_ALLOW_MULTI;
	if (!target || syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach) < 0)
		sys::die_errno("attach the device policy to %s", dir);
}

// On a v1 devices controller: deny all, then each rule as text, in order (the controller
// itself lets later rules override earlier ones). The controller takes each write as one
// rule: devices.allow and devices.deny are opened once each, not once per rule.
inline void write_device_rules(const char *dir, std::span<const security::device_rule> rules)
{
	sys::unique_fd files[2]; // deny, allow
	auto put = [&](bool allow, const char *rule) {
		const char *file = allow ? "devices.allow" : "devices.deny";
		char path[PATH_MAX + 40];
		snprintf(path, sizeof path, "%s/%s", dir, file);
		sys::unique_fd &fd = files[allow];
		if (!fd)
			fd.reset(open(path, O_WRONLY | O_CLOEXEC));
		if (!fd || write(fd.get(), rule, strlen(rule)) < 0)
			sys::die_errno("write %s to %s", rule, path);
	};
	put(false, "a");
	for (const security::device_rule &r : rules) {
		char rule[40];
		v1_device_rule(r, rule);
		put(r.allow, rule);
	}
}

// Writes r's limits into cg (the device rules: attach_devices).
inline void apply(const cgroup &cg, const resources &r)
{
	setting s[max_settings];
	size_t n;
	const char *why;
	if (!settings(r, cg.v2, s, n, why))
		sys::die("cgroup %s: %s", cg.path[0] ? cg.path : cg.v1_path, why);
	char dir[PATH_MAX];
	for (size_t i = 0; i < n; i++) {
		dir_of(cg, s[i].controller, dir);
		// without swap accounting the kernel has no swap file: no swap to limit
		if (try_write(dir, s[i].file, s[i].value) < 0 && !(errno == ENOENT && strstr(s[i].file, "sw")))
			sys::die_errno("write %s to %s/%s", s[i].value, dir, s[i].file);
	}
}

// The device rules of cg: cgroup2's program where cg has a cgroup2 directory, else the v1
// devices controller's text. code: the program made from rules.
inline void attach_devices(const cgroup &cg, std::span<const security::device_rule> rules, const bpf_insn *code, size_t length)
{
	char dir[PATH_MAX];
	if (cg.v2_root && cg.path[0]) {
		dir_of(cg, nullptr, dir);
		attach_device_program(dir, code, length);
	} else if (cg.v1 & v1_bit("devices")) {
		dir_of(cg, "devices", dir);
		write_device_rules(dir, rules);
	} else {
		sys::die("cgroup %s: no cgroup2 directory nor v1 devices controller for the device rules", cg.v1_path);
	}
}

// docker's device table, its program made at compile time.
inline void attach_default_devices(const cgroup &cg)
{
	static constexpr security::device_program program = security::make_device_program();
	attach_devices(cg, security::device_rules, program.code, std::size(program.code));
}

// A config's device rules, its program made now.
inline void attach_devices(const cgroup &cg, std::span<const security::device_rule> rules)
{
	security::device_program_of_rules program = security::make_device_program(rules);
	if (!program.length)
		sys::die("cgroup %s: more than %zu device rules, or an invalid one", cg.path, security::max_device_rules);
	attach_devices(cg, rules, program.code, program.length);
}

// ---- cgroups: the OCI mode's operations -------------------------------------------------------

// A cgroup at an OCI cgroupsPath (cgroupfs or systemd form), made with its parents, the
// controllers r needs enabled on the way (cgroup2), and r written; cg.fd opened on its
// cgroup2 directory, to clone into (sys::clone_fork_into), then enter() the rest.
inline void create_at(cgroup &cg, const char *spec, const resources &r)
{
	detect(cg);
	if (!cgroup_path(spec, cg.path, sizeof cg.path))
		sys::die("bad cgroupsPath %s", spec);
	snprintf(cg.v1_path, sizeof cg.v1_path, "%s", cg.path);
	// Every v1 controller, as runc makes them: a later `update` may set any limit.
	unsigned v1 = (1u << std::size(v1_controllers)) - 1;
	if (cg.v2_root && !r.set_devices)
		v1 &= ~v1_bit("devices");
	make(cg, r, cg.v2_root != nullptr, v1, true);
	apply(cg, r);
	if (r.set_devices)
		attach_devices(cg, r.devices);
	if (cg.v2_root) {
		char dir[PATH_MAX];
		dir_of(cg, nullptr, dir);
		if ((cg.fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			sys::die_errno("open cgroup %s", dir);
	}
}

// Freezes (or thaws) every process of cg: v2's cgroup.freeze, v1's freezer.state.
inline void freeze(const cgroup &cg, bool frozen)
{
	char dir[PATH_MAX];
	dir_of(cg, "freezer", dir);
	if (cg.v2)
		write_value(dir, "cgroup.freeze", frozen ? "1" : "0");
	else
		write_value(dir, "freezer.state", frozen ? "FROZEN" : "THAWED");
}

// Whether cg is frozen: v2's cgroup.events "frozen 1" (every process stopped), v1's
// freezer.state FROZEN (not FREEZING).
inline bool frozen(const cgroup &cg)
{
	char dir[PATH_MAX], text[256];
	dir_of(cg, "freezer", dir);
	if (cg.v2)
		return read_value(dir, "cgroup.events", text, sizeof text) > 0 && keyed_value(text, "frozen") == 1;
	return read_value(dir, "freezer.state", text, sizeof text) > 0 && std::string_view(text).starts_with("FROZEN");
}

// The pids in cg (its cgroup2 directory, else its first v1 one): how many; out holds max.
inline size_t pids(const cgroup &cg, pid_t *out, size_t max)
{
	char dir[PATH_MAX];
	static char text[65536];
	const char *controller = nullptr;
	for (size_t i = 0; !cg.v2 && !controller && i < std::size(v1_controllers); i++)
		if (cg.v1 & (1u << i))
			controller = v1_controllers[i];
	dir_of(cg, controller, dir);
	if (read_value(dir, "cgroup.procs", text, sizeof text) < 0)
		sys::die_errno("read %s/cgroup.procs", dir);
	return parse_pids(text, out, max);
}

// Kills every process of cg at once with cgroup.kill (cgroup2, Linux 5.14); false where
// there is none.
inline bool kill_v2(const cgroup &cg)
{
	char dir[PATH_MAX];
	if (!cg.v2_root || !cg.path[0])
		return false;
	dir_of(cg, nullptr, dir);
	return try_write(dir, "cgroup.kill", "1") == 0;
}

// Kills every process of cg: cgroup.kill, else SIGKILL to each pid of cgroup.procs until
// none is left (a fork may race one pass: the next catches it).
inline void kill_all(const cgroup &cg)
{
	if (kill_v2(cg))
		return;
	char dir[PATH_MAX];
	pid_t list[256];
	for (int pass = 0; pass < 100; pass++) {
		size_t n = pids(cg, list, std::size(list));
		if (n == 0)
			return;
		for (size_t i = 0; i < std::min(n, std::size(list)); i++)
			kill(list[i], SIGKILL);
		if (cg.v1 & v1_bit("freezer")) { // a frozen process dies only once thawed
			dir_of(cg, "freezer", dir);
			try_write(dir, "freezer.state", "THAWED");
		}
		usleep(1000);
	}
	sys::die("cgroup %s: processes left after 100 rounds of SIGKILL", cg.path);
}

// Whether the kernel's OOM killer killed in cg: memory.events' oom_kill (v2), or
// memory.oom_control's (v1); the same for every caller.
inline bool oom_killed(const cgroup &cg)
{
	if (!cg.owned || (!cg.v2 && !(cg.v1 & v1_bit("memory"))))
		return false;
	char dir[PATH_MAX], text[512];
	dir_of(cg, "memory", dir);
	return read_value(dir, cg.v2 ? "memory.events" : "memory.oom_control", text, sizeof text) > 0 && keyed_value(text, "oom_kill") > 0;
}

// rmdir of a cgroup, and first of the cgroups a process inside made below it (a
// --privileged container, a launcher inside one), as runc removes them.
inline void remove_tree(const char *dir, int depth = 0)
{
	if (rmdir(dir) == 0 || errno != EBUSY || depth > 16)
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	while (dirent *e = readdir(d)) {
		char sub[PATH_MAX];
		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) >= int(sizeof sub))
			continue;
		remove_tree(sub, depth + 1);
	}
	closedir(d);
	rmdir(dir);
}

// Removes cg's directories (its processes gone) with what was made below them; the
// parents of an OCI cgroupsPath stay (they may be shared).
inline void remove(cgroup &cg)
{
	if (!cg.owned)
		return;
	char dir[PATH_MAX];
	if (cg.v2_root && cg.path[0]) {
		dir_of(cg, nullptr, dir);
		remove_tree(dir);
	}
	for (size_t i = 0; !cg.v2 && i < std::size(v1_controllers); i++)
		if (cg.v1 & (1u << i)) {
			dir_of(cg, v1_controllers[i], dir);
			remove_tree(dir);
		}
	cg.owned = false;
}

// ---- cgroups: the launcher's containers ------------------------------------------------------

// What a container asks of its cgroups: docker's --memory, --pids-limit, --cpus, and its
// device policy.
struct request {
	uint64_t memory = 0, pids = 0, cpu_quota_us = 0; // 0: no limit
	int64_t memory_swap = 0;                         // 0: as memory (no swap); -1: swap unlimited
	uint64_t memory_reservation = 0, cpu_shares = 0;
	const char *cpus = nullptr, *mems = nullptr;     // cpuset lists
	bool oom_kill_disable = false;
	bool devices = false;                            // docker's device policy
	std::vector<security::device_rule> device_rules; // docker's defaults and --device's, when more than the defaults
	bool limited() const
	{
		return memory || pids || cpu_quota_us || memory_swap || memory_reservation || cpu_shares || cpus || mems || oom_kill_disable;
	}
	bool any() const { return limited() || devices; }
};

// docker's flags as resources: --memory with no swap beyond it (memory and swap together
// the same) unless --memory-swap says otherwise, --cpus as a quota per 100 ms,
// --pids-limit, --cpu-shares, --cpuset-*, --memory-reservation, --oom-kill-disable.
inline resources resources_of(const request &q)
{
	resources r;
	r.memory = int64_t(q.memory);
	r.memory_swap = q.memory_swap ? q.memory_swap : int64_t(q.memory);
	r.memory_reservation = int64_t(q.memory_reservation);
	r.cpu_shares = q.cpu_shares;
	r.cpu_quota = int64_t(q.cpu_quota_us);
	r.cpu_period = q.cpu_quota_us ? cpu_period_us : 0;
	r.cpus = q.cpus, r.mems = q.mems;
	r.pids = int64_t(q.pids);
	r.oom_kill_disable = q.oom_kill_disable;
	return r;
}

// Removes launcher-PID directories under base whose launcher is gone (SIGKILLed), their
// processes first where cgroup.kill can.
inline void remove_stale(const char *base)
{
	DIR *d = opendir(base);
	if (!d)
		return;
	while (dirent *e = readdir(d)) {
		std::string_view name(e->d_name);
		if (!name.starts_with("launcher-"))
			continue;
		pid_t pid = 0;
		for (char c : name.substr(9))
			pid = (c >= '0' && c <= '9' && pid < 100000000) ? pid * 10 + (c - '0') : -1;
		if (pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH)
			continue; // not ours, or its launcher lives
		char dir[PATH_MAX];
		snprintf(dir, sizeof dir, "%s/%s", base, e->d_name);
		remove_tree(dir);
		if (access(dir, F_OK) == 0 && try_write(dir, "cgroup.kill", "1") == 0)
			for (int i = 0; i < 100 && access(dir, F_OK) == 0; i++)
				remove_tree(dir), usleep(1000);
	}
	closedir(d);
}

// The launcher's own cgroup2 path (its view of it: a cgroup namespace's root reads "/").
inline void own_path(char (&out)[sizeof cgroup::path])
{
	char text[1024];
	std::string_view own = read_value("/proc/self", "cgroup", text, sizeof text) > 0 ? own_cgroup(text) : std::string_view();
	if (own.size() + 20 > sizeof out)
		sys::die("the launcher's cgroup %.*s: path too long", int(own.size()), own.data());
	if (own.find("/..") != own.npos) // moved out of its cgroup namespace's root after entering it
		sys::die("the launcher's cgroup %.*s lies outside its cgroup namespace", int(own.size()), own.data());
	snprintf(out, sizeof out, "%.*s", int(own == "/" ? 0 : own.size()), own.data());
}

// The container's cgroup2 directory goes under the launcher's own cgroup: OWN/launcher-PID.
// Where limits need controllers, they are enabled in cgroup.subtree_control from the root
// down to OWN; where OWN holds processes (the launcher's, its shell's) the kernel refuses
// that ("no internal processes": a cgroup with controllers for its children has no
// processes of its own), and the directory goes beside OWN instead, under its parent (as
// systemd-run --scope places a new scope), which we may enable them on. Where OWN is a
// cgroup namespace's root, there is no parent in sight: no start (docker-in-docker's
// entrypoint moves its processes into a child first: /init).
inline void place_v2(cgroup &cg, const resources &r)
{
	char own[sizeof cg.path], want[64], refused[PATH_MAX];
	unsigned v1;
	own_path(own);
	needed_controllers(r, want, v1);
	if (want[0] && cg.v2 && enable_controllers(cg.v2_root, own, want, refused) < 0) {
		if (errno != EBUSY || !own[0])
			sys::die_errno("enable %s in %s/cgroup.subtree_control%s", want, refused,
				       errno == EBUSY ? " (it holds processes: move them into a child cgroup first)" : "");
		*strrchr(own, '/') = 0;
		if (enable_controllers(cg.v2_root, own, want, refused) < 0)
			sys::die_errno("enable %s in %s/cgroup.subtree_control", want, refused);
	}
	char base[PATH_MAX];
	snprintf(base, sizeof base, "%s%s", cg.v2_root, own);
	remove_stale(base);
	if (snprintf(cg.path, sizeof cg.path, "%s/launcher-%d", own, getpid()) >= int(sizeof cg.path))
		sys::die("cgroup %s: path too long", own);
}

// Where no cgroup file system is in sight, as under `ip netns exec` (which mounts a fresh
// /sys in a mount namespace of its own), the launcher mounts cgroup2 for itself: in a mount
// namespace of its own too, so the host's mount table never shows it. Every cgroup2 mount
// shows the kernel's one hierarchy, so the cgroup is the one any other view sees.
inline bool mount_cgroup2_privately()
{
	if (unshare(CLONE_NEWNS) < 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0 ||
	    mount("cgroup2", cgroup_root, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0)
		return false;
	sys::step("no cgroup file system in sight: mounted cgroup2 on %s in a mount namespace of the launcher's own", cgroup_root);
	return true;
}

// Docker's device policy, or q's rules, on cg.
inline void attach_device_policy(const cgroup &cg, const request &q)
{
	if (q.devices && q.device_rules.empty())
		attach_default_devices(cg);
	else if (q.devices)
		attach_devices(cg, q.device_rules);
}

// Whether cg's device policy is cgroup2's program, attached in one call: then after the
// clone, while PID 1 builds its root (the host's work beside it on the other core), and
// before the word that lets the entrypoint exec. The v1 controller's rules are written one
// by one, "deny all" first: before the clone (create), or PID 1's mknod of /dev/null could
// fall in between and be refused.
inline bool device_policy_after_clone(const cgroup &cg) { return cg.v2_root && cg.path[0]; }

// Before the clone: the container's cgroups, its limits written, and the device policy
// where it is v1's (device_policy_after_clone). A v2 host: one cgroup2 directory
// (place_v2) for everything. A hybrid host: a directory
// /launcher-PID in each v1 controller a limit needs, and the device program on cgroup2's
// OWN/launcher-PID (the kernel asks cgroup2's programs first, then the v1 controller, which
// allows all at its root). A v1 host: the devices controller's /launcher-PID. None in
// sight: cgroup2 mounted privately; else no container starts unconfined.
inline void create(cgroup &cg, const request &q)
{
	resources r = resources_of(q);
	detect(cg);
	bool devices_v1 = false;
	if (!cg.v2_root && q.devices && !mounted_as(v1_devices, CGROUP_SUPER_MAGIC)) {
		bool v1_limits = q.limited() && mounted_as("/sys/fs/cgroup/memory", CGROUP_SUPER_MAGIC);
		if (v1_limits || !mount_cgroup2_privately())
			sys::die_errno("device policy: no cgroup file system in sight (%s, %s, %s), and cgroup2 could not be mounted",
				       cgroup_root, hybrid_cgroup2, v1_devices);
		detect(cg);
	}
	if (!cg.v2_root)
		devices_v1 = q.devices;
	snprintf(cg.v1_path, sizeof cg.v1_path, "/launcher-%d", getpid());
	if (cg.v2_root && (cg.v2 || q.devices))
		place_v2(cg, r);
	char want[64];
	unsigned v1 = 0;
	needed_controllers(r, want, v1);
	v1 |= devices_v1 ? v1_bit("devices") : 0;
	for (size_t i = 0; !cg.v2 && i < std::size(v1_controllers); i++) // stale ones of killed launchers first
		if (v1 & (1u << i)) {
			char base[PATH_MAX];
			snprintf(base, sizeof base, "%s/%s", cgroup_root, v1_controllers[i]);
			remove_stale(base);
		}
	make(cg, r, cg.v2 || q.devices, v1, false);
	apply(cg, r);
	if (!device_policy_after_clone(cg))
		attach_device_policy(cg, q);
	if (cg.path[0]) {
		char dir[PATH_MAX];
		dir_of(cg, nullptr, dir);
		if ((cg.fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			sys::die_errno("open cgroup %s", dir);
	}
}

// After the clone: moves process pid into every cgroup it was not born in.
inline void enter(cgroup &cg, pid_t pid, bool born_in_cgroup2)
{
	char pidtext[16], dir[PATH_MAX];
	snprintf(pidtext, sizeof pidtext, "%d", pid);
	if (cg.v2_root && cg.path[0] && !born_in_cgroup2) { // (a v1 host has no cgroup2 directory)
		dir_of(cg, nullptr, dir);
		write_value(dir, "cgroup.procs", pidtext);
	}
	for (size_t i = 0; !cg.v2 && i < std::size(v1_controllers); i++)
		if (cg.v1 & (1u << i)) {
			dir_of(cg, v1_controllers[i], dir);
			write_value(dir, "cgroup.procs", pidtext);
		}
	if (cg.fd >= 0)
		close(cg.fd);
	cg.fd = -1;
}

// In the cloned child: the cgroups are the host's to remove (what they are stays known,
// for the container's /sys/fs/cgroup).
inline void forget(cgroup &cg)
{
	if (cg.fd >= 0)
		close(cg.fd);
	cg.fd = -1;
	cg.owned = false;
}

// PID 1, in its cgroups: a cgroup namespace of its own, whose root they are, so the
// container reads "0::/" in /proc/self/cgroup and sees no host path. (A clone with
// CLONE_NEWCGROUP would root it at the launcher's cgroup: the kernel makes the namespace
// before CLONE_INTO_CGROUP moves the child, and the v1 directories are entered later.)
inline void enter_namespace()
{
	if (unshare(CLONE_NEWCGROUP) < 0)
		sys::die_errno("unshare the cgroup namespace");
}

} // namespace limits
