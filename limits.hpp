// limits.hpp: resource limits, docker's --memory, --pids-limit, --cpus (cgroups) and
// --ulimit (rlimits). Parsing is pure; the cgroup part writes a few files.
//
// cgroups hold the limits and docker's device policy (security.hpp's table: a cgroup2
// device program, or the v1 devices controller's rules). On a cgroup v2 host (cgroup2 at
// /sys/fs/cgroup) the container gets /sys/fs/cgroup/launcher-PID for both; on a hybrid
// host (v1 controllers beside cgroup2 at /sys/fs/cgroup/unified, as here) one directory
// launcher-PID per v1 controller a limit needs, and /sys/fs/cgroup/unified/launcher-PID for
// the device program, which the kernel runs before the v1 devices controller (allowing all
// at its root); on a v1 host the devices controller's launcher-PID. With no cgroup file
// system in sight (`ip netns exec`) the launcher mounts cgroup2 in a mount namespace of its
// own; if it cannot, no container starts. PID is the host-side
// launcher's. The directories are made before the clone; PID 1 is cloned into the cgroup2
// one (CLONE_INTO_CGROUP) and moved into the others before the host's go message, so it
// runs nothing outside them. They are removed when the container has ended; directories of
// launchers that were killed with SIGKILL are removed by the next start.
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

// ---- cgroups -------------------------------------------------------------------------------

struct request {
	uint64_t memory = 0, pids = 0, cpu_quota_us = 0; // 0: no limit
	bool devices = false;                            // docker's device policy
	bool limited() const { return memory || pids || cpu_quota_us; }
	bool any() const { return limited() || devices; }
};

struct cgroups {
	char dirs[4][PATH_MAX];
	size_t count = 0;
	bool v2 = false;
	char memory_dir[PATH_MAX] = "";
	int cgroup2_fd = -1;     // the cgroup2 directory among dirs, to clone PID 1 into
	size_t cgroup2_dir = 4;  // its index in dirs
};

constexpr const char *cgroup_root = "/sys/fs/cgroup";
constexpr const char *hybrid_cgroup2 = "/sys/fs/cgroup/unified"; // cgroup2 beside the v1 controllers
constexpr const char *v1_devices = "/sys/fs/cgroup/devices";

inline void write_value(const char *dir, const char *file, const char *value)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	sys::unique_fd fd(open(path, O_WRONLY | O_CLOEXEC));
	if (!fd || write(fd.get(), value, strlen(value)) < 0)
		sys::die_errno("write %s to %s", value, path);
}

inline bool mounted_as(const char *dir, unsigned long magic)
{
	struct statfs fs;
	return statfs(dir, &fs) == 0 && (unsigned long)fs.f_type == magic;
}

// Removes launcher-PID directories under base whose launcher is gone.
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
		unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

inline const char *make_dir(cgroups &cg, const char *base)
{
	remove_stale(base);
	char *dir = cg.dirs[cg.count];
	snprintf(dir, PATH_MAX, "%s/launcher-%d", base, getpid());
	if (mkdir(dir, 0755) < 0)
		sys::die_errno("create cgroup %s", dir);
	cg.count++;
	return dir;
}

// The device policy on cgroup2: security.hpp's program, loaded and attached to dir.
// BPF_F_ALLOW_MULTI, as runc: a program below it could only refuse more, never allow.
inline void attach_device_program(const char *dir)
{
	static constexpr security::device_program program = security::make_device_program();
	bpf_attr load = {};
	load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	load.insns = uint64_t(uintptr_t(program.code));
	load.insn_cnt = uint32_t(std::size(program.code));
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

// A rule as the v1 devices controller spells it: "c 1:3 rwm", "c 136:* rwm", "b *:* m".
inline void v1_device_rule(const security::device_rule &r, char (&text)[40])
{
	char major[12] = "*", minor[12] = "*";
	if (r.major >= 0)
		snprintf(major, sizeof major, "%d", r.major);
	if (r.minor >= 0)
		snprintf(minor, sizeof minor, "%d", r.minor);
	snprintf(text, sizeof text, "%c %s:%s %s", r.type, major, minor, r.access == security::dev_rwm ? "rwm" : "m");
}

// The device policy on a v1 devices controller: deny all, then the same table as text.
inline void write_device_rules(const char *dir)
{
	write_value(dir, "devices.deny", "a");
	for (const security::device_rule &r : security::device_rules) {
		char rule[40];
		v1_device_rule(r, rule);
		write_value(dir, "devices.allow", rule);
	}
}

inline void write_limits_v2(cgroups &cg, const request &r, const char *dir)
{
	char value[48];
	if (r.memory) {
		snprintf(value, sizeof value, "%llu", (unsigned long long)r.memory);
		write_value(dir, "memory.max", value);
		write_value(dir, "memory.swap.max", "0");
		snprintf(cg.memory_dir, sizeof cg.memory_dir, "%s", dir);
	}
	if (r.pids) {
		snprintf(value, sizeof value, "%llu", (unsigned long long)r.pids);
		write_value(dir, "pids.max", value);
	}
	if (r.cpu_quota_us) {
		snprintf(value, sizeof value, "%llu %llu", (unsigned long long)r.cpu_quota_us,
			 (unsigned long long)cpu_period_us);
		write_value(dir, "cpu.max", value);
	}
}

// One directory per v1 controller a limit needs.
inline void create_limits_v1(cgroups &cg, const request &r)
{
	char value[48];
	struct v1 {
		const char *controller;
		bool wanted;
	} controllers[] = {{"memory", r.memory != 0}, {"pids", r.pids != 0}, {"cpu", r.cpu_quota_us != 0}};
	for (const v1 &c : controllers) {
		if (!c.wanted)
			continue;
		char base[PATH_MAX];
		snprintf(base, sizeof base, "%s/%s", cgroup_root, c.controller);
		const char *dir = make_dir(cg, base);
		if (c.controller[0] == 'm') {
			snprintf(value, sizeof value, "%llu", (unsigned long long)r.memory);
			write_value(dir, "memory.limit_in_bytes", value);
			char swap[PATH_MAX];
			snprintf(swap, sizeof swap, "%s/memory.memsw.limit_in_bytes", dir);
			if (access(swap, F_OK) == 0) // no swap beyond the limit, as docker's default
				write_value(dir, "memory.memsw.limit_in_bytes", value);
			snprintf(cg.memory_dir, sizeof cg.memory_dir, "%s", dir);
		} else if (c.controller[0] == 'p') {
			snprintf(value, sizeof value, "%llu", (unsigned long long)r.pids);
			write_value(dir, "pids.max", value);
		} else {
			snprintf(value, sizeof value, "%llu", (unsigned long long)cpu_period_us);
			write_value(dir, "cpu.cfs_period_us", value);
			snprintf(value, sizeof value, "%llu", (unsigned long long)r.cpu_quota_us);
			write_value(dir, "cpu.cfs_quota_us", value);
		}
	}
}

inline void open_cgroup2(cgroups &cg)
{
	cg.cgroup2_dir = cg.count - 1;
	cg.cgroup2_fd = open(cg.dirs[cg.cgroup2_dir], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg.cgroup2_fd < 0)
		sys::die_errno("open cgroup %s", cg.dirs[cg.cgroup2_dir]);
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

// The device policy beside v1 controllers: the program on the hybrid host's cgroup2 (the
// kernel asks cgroup2's programs first, then the v1 controller, which allows all at its
// root), else the v1 devices controller. Neither: no container starts unconfined.
inline void create_device_policy_v1(cgroups &cg)
{
	if (mounted_as(hybrid_cgroup2, CGROUP2_SUPER_MAGIC)) {
		attach_device_program(make_dir(cg, hybrid_cgroup2));
		open_cgroup2(cg);
	} else if (mounted_as(v1_devices, CGROUP_SUPER_MAGIC)) {
		write_device_rules(make_dir(cg, v1_devices));
	} else if (cg.count == 0 && mount_cgroup2_privately()) { // (over no v1 directory of ours)
		cg.v2 = true;
		attach_device_program(make_dir(cg, cgroup_root));
		open_cgroup2(cg);
	} else {
		sys::die_errno("device policy: no cgroup file system in sight (%s, %s, %s), and cgroup2 could not be mounted",
			       cgroup_root, hybrid_cgroup2, v1_devices);
	}
}

// Before the clone: creates the cgroups and writes the limits and the device policy.
inline void create(cgroups &cg, const request &r)
{
	cg.v2 = mounted_as(cgroup_root, CGROUP2_SUPER_MAGIC);
	if (cg.v2) {
		// Controllers must be enabled for the children of the root first.
		if (r.limited())
			write_value(cgroup_root, "cgroup.subtree_control", "+memory +pids +cpu");
		const char *dir = make_dir(cg, cgroup_root);
		write_limits_v2(cg, r, dir);
		if (r.devices)
			attach_device_program(dir);
		open_cgroup2(cg);
		return;
	}
	create_limits_v1(cg, r);
	if (r.devices)
		create_device_policy_v1(cg);
}

// After the clone: moves process pid into every cgroup it was not born in.
inline void enter(cgroups &cg, pid_t pid, bool born_in_cgroup2)
{
	char pidtext[16];
	snprintf(pidtext, sizeof pidtext, "%d", pid);
	for (size_t i = 0; i < cg.count; i++)
		if (!born_in_cgroup2 || i != cg.cgroup2_dir)
			write_value(cg.dirs[i], "cgroup.procs", pidtext);
	if (cg.cgroup2_fd >= 0)
		close(cg.cgroup2_fd);
	cg.cgroup2_fd = -1;
}

// Whether the kernel's OOM killer killed anything in the container's memory cgroup: the
// "oom_kill N" line of memory.events (v2) or memory.oom_control (v1).
inline bool oom_killed(const cgroups &cg)
{
	if (!cg.memory_dir[0])
		return false;
	char path[PATH_MAX + 32], text[512];
	snprintf(path, sizeof path, "%s/%s", cg.memory_dir, cg.v2 ? "memory.events" : "memory.oom_control");
	sys::unique_fd fd(open(path, O_RDONLY | O_CLOEXEC));
	ssize_t n = fd ? read(fd.get(), text, sizeof text - 1) : -1;
	if (n <= 0)
		return false;
	std::string_view events(text, size_t(n));
	size_t at = events.find("oom_kill ");
	return at != std::string_view::npos && at + 9 < events.size() && events[at + 9] >= '1' && events[at + 9] <= '9';
}

// In the cloned child: the cgroups are the host's to remove.
inline void forget(cgroups &cg)
{
	if (cg.cgroup2_fd >= 0)
		close(cg.cgroup2_fd);
	cg.cgroup2_fd = -1;
	cg.count = 0;
}

// Called when the container has ended: its processes are gone, so the directories are empty.
inline void remove(cgroups &cg)
{
	for (size_t i = 0; i < cg.count; i++)
		rmdir(cg.dirs[i]);
	cg.count = 0;
}

} // namespace limits
