// container.hpp: the description of one container (container_spec), made from an image
// archive and docker run's flags: the command, environment, user, host name, volumes,
// capabilities, limits and id maps. resolve_user finishes it inside the container, from
// the image's own /etc/passwd and /etc/group.
#pragma once
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "description.hpp"
#include "image.hpp"
#include "layers.hpp"
#include "limits.hpp"
#include "lsm.hpp"
#include "options.hpp"
#include "seccomp.hpp"
#include "security.hpp"
#include "sys.hpp"
#include "users.hpp"
#include "network.hpp"
#include "ports.hpp"
#include "volumes.hpp"

struct volume {
	const char *source, *target;
	bool read_only, is_dir;
	int source_fd; // opened by the container's PID 1, in its own mount namespace
	unsigned long propagation = 0; // MS_SHARED, MS_SLAVE, MS_PRIVATE (| MS_REC)
	bool recursive = true;
	bool seed = false;             // a volume made for this start: the image's files at target copied in
	bool tmpfs = false;            // a tmpfs, with these flags and data; no source
	unsigned long tmpfs_flags = 0;
	const char *tmpfs_data = nullptr;
	const char *name = nullptr;    // a named or anonymous volume's name (inspect's Mounts)
};

// A container as docker run describes one: the description both front doors make
// (description.hpp: the entrypoint as its process, the host and domain names, the
// read-only root, devices, sysctls, id maps, namespaces, masked and read-only paths),
// and what docker's flags ask beyond it: the layers' storage, volumes (seeded, named,
// anonymous), the cgroup request, --add-host lines, labels, the stop signal.
struct container_spec : container::description {
	// proc: the entrypoint, as config.json's process describes one: args, env, cwd, the
	// user's ids (resolve_user), the capability sets (bounding: docker's set),
	// no_new_privs, rlimits (--ulimit), terminal (-t: its stdio is a pty, its controlling
	// terminal), apparmor (--security-opt apparmor=PROFILE, where AppArmor is active).
	bool privileged = false, has_filter = true; // has_filter: the entrypoint and PID 1 run under filter
	seccomp::program filter; // docker's default profile, or --security-opt seccomp=FILE
	bool default_filter = false; // filter is docker's default profile (not --security-opt seccomp=FILE)
	bool overlay = true; // else the layers are merged by copy
	const char *user = "";   // --user, else the image's User: proc's ids, once resolved inside
	std::vector<volume> volumes;
	limits::request cgroup;
	bool userns = false;      // container root is an unprivileged host id
	bool map_helpers = false; // the maps go through newuidmap and newgidmap
	bool ipc_host = false, sig_proxy = true;
	// --pid, --ipc container:NAME: a pidfd of that container's PID 1 (its namespaces), and
	// for IPC its /dev/shm, a detached copy of its mount (containers::join_namespaces).
	int pid_join = -1, ipc_join = -1, shm_join = -1;
	const char *ipc_mode = "private";   // the record keeps it: a donor must not be private
	std::vector<volume> inherited;      // --volumes-from's (containers::inherit_volumes)
	std::vector<const char *> add_hosts; // NAME:IP, NAME=IP or NAME:host-gateway
	std::span<const ports::mapping> ports; // -p, -P: published on a bridge network
	int64_t shm_size = 0;                // bytes of /dev/shm; 0: docker's 64m
	std::vector<security::device_rule> device_rules; // beside docker's defaults
	// What inspect shows: the image's Labels, then --label-file's, then --label's; the stop signal.
	std::vector<std::pair<const char *, const char *>> labels;
	const char *stop_signal = "SIGTERM";
	int stop_timeout = 10;
	std::vector<int> volume_locks;         // held by the host side: rm and prune pass these over
	std::vector<const char *> anonymous;   // anonymous volumes made for this start (--rm removes them)
	const char *data_root = "";
};

namespace container {

using sys::die;
using sys::die_errno;

constexpr size_t max_groups = 32; // supplementary groups resolve_user gives the entrypoint

constexpr const char *default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

inline const char *data_root(const options::parsed &o) { return volumes::data_root(o); }

inline const char *copy_of(std::string_view s)
{
	char *c = strndup(s.data(), s.size());
	if (!c)
		die("out of memory");
	return c;
}

// A named or anonymous volume of the data root, made (and then seeded) on first use.
inline void volume_source(container_spec &spec, std::string_view name, volume &v, bool nocopy)
{
	static int root = -1;
	if (root < 0)
		root = volumes::open_root(spec.data_root);
	char anon[65], path[PATH_MAX];
	if (name.empty()) {
		unsigned char r[32];
		if (getrandom(r, sizeof r, 0) != ssize_t(sizeof r))
			die_errno("name an anonymous volume");
		for (size_t i = 0; i < sizeof r; i++)
			snprintf(anon + 2 * i, 3, "%02x", r[i]);
		name = anon;
	}
	const char *n = copy_of(name);
	v.name = n;
	bool made;
	spec.volume_locks.push_back(volumes::use(root, n, made, path, spec.data_root));
	if (name.data() == anon)
		spec.anonymous.push_back(n);
	v.source = copy_of(path);
	v.is_dir = true;
	v.seed = made && !nocopy;
}

// A -v, --mount or --tmpfs request as a volume of the spec; a bind's host path checked now,
// so a missing one fails before any namespace.
inline void add_volume(container_spec &spec, const volumes::request &r, const char *arg)
{
	volume v = {nullptr, copy_of(r.target), r.read_only, true, -1};
	v.propagation = r.propagation;
	v.recursive = r.recursive;
	if (r.type == volumes::kind::tmpfs) {
		v.tmpfs = true;
		v.tmpfs_flags = r.tmpfs_flags | (r.read_only ? MS_RDONLY : 0);
		v.tmpfs_data = copy_of(r.tmpfs_data);
	} else if (r.type == volumes::kind::volume) {
		volume_source(spec, r.source, v, r.nocopy);
	} else {
		v.source = copy_of(r.source);
		struct stat st;
		if (stat(v.source, &st) < 0)
			die_errno("bad volume %s: open %s", arg, v.source);
		v.is_dir = S_ISDIR(st.st_mode);
	}
	for (const volume &other : spec.volumes)
		if (strcmp(other.target, v.target) == 0)
			die("bad volume %s: duplicate mount point %s", arg, v.target);
	spec.volumes.push_back(v);
}

// --userns, and always when not started by root: container root becomes an unprivileged
// host id. Root maps 65536 ids from its /etc/subuid and /etc/subgid ranges (100000 by
// default). Anyone else maps their own id to root and, with ranges of their own and the
// setuid newuidmap and newgidmap helpers (package uidmap), ids 1 and up to those ranges,
// as rootless podman does; without them only their own id exists inside.
inline void user_namespace_spec(container_spec &spec, const options::parsed &o)
{
	spec.userns = o.userns || getuid() != 0;
	if (!spec.userns)
		return;
	unsigned long ur[2] = {100000, 65536}, gr[2] = {100000, 65536};
	if (getuid() == 0) {
		users::subordinate_range("/etc/subuid", "root", 0, ur);
		users::subordinate_range("/etc/subgid", "root", 0, gr);
		spec.uid_maps = {{0, uint32_t(ur[0]), uint32_t(ur[1])}};
		spec.gid_maps = {{0, uint32_t(gr[0]), uint32_t(gr[1])}};
		return;
	}
	if (strcmp(o.net, "none") != 0 || o.netns || spec.cgroup.limited())
		die("running as uid %d: --net, --netns and cgroup limits need root", getuid());
	// Nor a device policy: the kernel refuses mknod to a user namespace of anyone but
	// root, and every mount made inside it is nodev to the kernel (SB_I_NODEV).
	spec.cgroup.devices = false;
	char name[64] = "";
	users::passwd_field("/etc/passwd", getuid(), 0, name, sizeof name);
	spec.map_helpers = users::subordinate_range("/etc/subuid", name, getuid(), ur) &&
			   users::subordinate_range("/etc/subgid", name, getgid(), gr) &&
			   access(users::newuidmap, X_OK) == 0 && access(users::newgidmap, X_OK) == 0;
	spec.uid_maps = {{0, getuid(), 1}};
	spec.gid_maps = {{0, getgid(), 1}};
	if (spec.map_helpers) {
		spec.uid_maps.push_back({1, uint32_t(ur[0]), uint32_t(ur[1])});
		spec.gid_maps.push_back({1, uint32_t(gr[0]), uint32_t(gr[1])});
	}
}

// A small file given on the command line (a seccomp profile, an env file), read whole.
inline std::vector<char> read_small_file(const char *path, const char *what)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		die_errno("open %s %s", what, path);
	if (!S_ISREG(st.st_mode) || st.st_size > (4 << 20))
		die("%s %s: not a regular file of at most 4 MiB", what, path);
	std::vector<char> text(size_t(st.st_size));
	size_t got = 0;
	while (got < text.size()) {
		ssize_t n = read(fd, text.data() + got, text.size() - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno("read %s %s", what, path);
		if (n == 0)
			die("read %s %s: shorter than its size", what, path);
		got += size_t(n);
	}
	close(fd);
	return text;
}

// --security-opt seccomp=FILE: read and compiled on the host, before any namespace.
inline void seccomp_profile(container_spec &spec, const char *path)
{
	std::vector<char> text = read_small_file(path, "seccomp profile");
	char err[160];
	if (!seccomp::compile({text.data(), text.size()}, spec.proc.caps[security::bounding], spec.filter, err, sizeof err, seccomp::kernel_version()))
		die("seccomp profile %s: %s", path, err);
}

// docker's --env-file and --label-file format: a KEY=VALUE or KEY a line, the value as
// written (no quotes removed); leading blanks, empty lines and # comments passed over; a
// UTF-8 byte-order mark at the start dropped. Pure: each line's text into out.
inline bool key_value_lines(std::string_view text, std::vector<std::string_view> &out, char *err, size_t size)
{
	if (text.starts_with("\xEF\xBB\xBF"))
		text.remove_prefix(3);
	for (size_t number = 1; !text.empty(); number++) {
		std::string_view line = text.substr(0, text.find('\n'));
		text.remove_prefix(std::min(text.size(), line.size() + 1));
		if (line.ends_with('\r'))
			line.remove_suffix(1);
		line.remove_prefix(std::min(line.size(), line.find_first_not_of(" \t\v\f\r")));
		if (line.empty() || line[0] == '#')
			continue;
		std::string_view key = line.substr(0, line.find('='));
		if (key.empty())
			return snprintf(err, size, "line %zu: no variable name", number), false;
		if (key.find_first_of(" \t\v\f\r") != key.npos)
			return snprintf(err, size, "line %zu: variable '%.*s' contains whitespaces", number, int(key.size()), key.data()), false;
		out.push_back(line);
	}
	return true;
}

// The lines of each --env-file or --label-file.
inline std::vector<const char *> lines_of_files(const std::vector<const char *> &files, const char *what)
{
	std::vector<const char *> lines;
	for (const char *path : files) {
		std::vector<char> text = read_small_file(path, what);
		std::vector<std::string_view> found;
		char err[160];
		if (!key_value_lines({text.data(), text.size()}, found, err, sizeof err))
			die("bad %s %s: %s", what, path, err);
		for (std::string_view l : found)
			lines.push_back(copy_of(l));
	}
	return lines;
}

// A sysctl's key becomes a path of /proc/sys with '.' and '/' swapped (rootfs::write_sysctl,
// as sysctl(8) reads net/ipv4/conf/eth0.100/forwarding): a part "/" or "//" would be a
// component "." or "..", and net.//.kernel.panic the host's kernel/panic.
inline bool sysctl_climbs(std::string_view key)
{
	for (std::string_view rest = key;;) {
		std::string_view part = rest.substr(0, rest.find('.'));
		if (part == "/" || part == "//")
			return true;
		if (part.size() == rest.size())
			return false;
		rest.remove_prefix(part.size() + 1);
	}
}

// The namespace of the container's that a sysctl belongs to (docker's and runc's list):
// CLONE_NEWIPC, CLONE_NEWNET or CLONE_NEWUTS; 0 for any other, which would change the
// host's kernel, and for a key that climbs.
inline unsigned long sysctl_namespace(std::string_view key)
{
	static constexpr std::string_view ipc[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
						   "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
	if (sysctl_climbs(key))
		return 0;
	if (key.starts_with("fs.mqueue.") || std::find(std::begin(ipc), std::end(ipc), key) != std::end(ipc))
		return CLONE_NEWIPC;
	if (key.starts_with("net."))
		return CLONE_NEWNET;
	if (key == "kernel.domainname" || key == "kernel.hostname")
		return CLONE_NEWUTS;
	return 0;
}

// docker's namespaced sysctls; nullptr when allowed, else why not.
inline const char *sysctl_refusal(std::string_view key, bool net_host, bool ipc_host, bool uts_host)
{
	if (sysctl_climbs(key))
		return "a part . or .. of the path in /proc/sys it names";
	switch (sysctl_namespace(key)) {
	case CLONE_NEWIPC: return ipc_host ? "not allowed with --ipc host or container:NAME" : nullptr;
	case CLONE_NEWNET: return net_host ? "not allowed in the host's network namespace (--net host)" : nullptr;
	case CLONE_NEWUTS: return uts_host ? "not allowed with --uts host" : nullptr;
	}
	return "not in a namespace of the container's own: it would change the host's";
}

// --device-cgroup-rule, as docker's: "TYPE MAJOR:MINOR ACCESS", TYPE a, b or c, each
// number or *, ACCESS of r, w and m.
inline bool parse_device_rule(std::string_view s, security::device_rule &r)
{
	if (s.size() < 7 || (s[0] != 'a' && s[0] != 'b' && s[0] != 'c') || s[1] != ' ')
		return false;
	r = {s[0], -1, -1, 0};
	s.remove_prefix(2);
	size_t colon = s.find(':'), space = s.find(' ');
	if (colon == s.npos || space == s.npos || colon > space)
		return false;
	auto number = [](std::string_view n, int64_t limit, int64_t &out) {
		if (n == "*")
			return out = -1, true;
		uint64_t v;
		return limits::decimal(n, v) && int64_t(v) < limit && (out = int64_t(v), true);
	};
	int64_t major, minor;
	if (!number(s.substr(0, colon), 4096, major) || !number(s.substr(colon + 1, space - colon - 1), 1 << 20, minor))
		return false;
	r.major = int16_t(major), r.minor = int32_t(minor);
	std::string_view access = s.substr(space + 1);
	if (access.empty() || access.size() > 3)
		return false;
	for (char c : access) {
		uint8_t bit = c == 'r' ? security::dev_r : c == 'w' ? security::dev_w : c == 'm' ? security::dev_m : 0;
		if (!bit || (r.access & bit))
			return false;
		r.access |= bit;
	}
	return true;
}

// A node of the host's as config.json's linux.devices describes one: its type, numbers,
// mode and owner as the host has them, at `path` in the container.
inline container::device device_of(const char *path, const struct stat &st)
{
	return {path, S_ISBLK(st.st_mode) ? 'b' : 'c', major(st.st_rdev), minor(st.st_rdev), st.st_mode & 07777, st.st_uid, st.st_gid};
}

// --device HOST[:CONTAINER][:PERMISSIONS]: a device node of the host, made at CONTAINER
// (default the same path) in the container's /dev, allowed in its device cgroup.
inline void add_device(container_spec &spec, const char *arg)
{
	std::string_view a(arg), parts[3];
	size_t n = 0;
	for (size_t start = 0; n < 3; n++) {
		size_t colon = a.find(':', start);
		parts[n] = a.substr(start, colon == a.npos ? a.npos : colon - start);
		if (colon == a.npos) {
			n++;
			break;
		}
		start = colon + 1;
		if (n == 2)
			die("bad --device %s: expected HOST[:CONTAINER][:PERMISSIONS]", arg);
	}
	auto perms = [](std::string_view p) { return !p.empty() && p.size() <= 3 && p.find_first_not_of("rwm") == p.npos; };
	std::string_view host = parts[0], path = parts[0], access = "rwm";
	if (n == 2 && perms(parts[1]))
		access = parts[1];
	else if (n >= 2)
		path = parts[1], access = n == 3 ? parts[2] : "rwm";
	if (!perms(access))
		die("bad --device %s: invalid permissions %.*s: r, w and m", arg, int(access.size()), access.data());
	if (path.empty() || path[0] != '/')
		die("bad --device %s: the container path must be absolute", arg);
	const char *host_path = copy_of(host);
	struct stat st;
	if (stat(host_path, &st) < 0)
		die_errno("bad --device %s: %s", arg, host_path);
	if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
		die("bad --device %s: %s is not a device node", arg, host_path);
	spec.devices.push_back(device_of(copy_of(path), st));
	security::device_rule r = {S_ISCHR(st.st_mode) ? 'c' : 'b', int16_t(major(st.st_rdev)), int32_t(minor(st.st_rdev)), 0};
	for (char c : access)
		r.access |= c == 'r' ? security::dev_r : c == 'w' ? security::dev_w : security::dev_m;
	spec.device_rules.push_back(r);
}

// --gpus: the launcher has no GPU support; the line says what a GPU would need here.
[[noreturn]] inline void refuse_gpus(const char *value)
{
	struct stat st;
	char missing[160] = "";
	for (auto [found, what] : {std::pair{stat("/dev/nvidia0", &st) == 0, "no GPU (/dev/nvidia0)"},
				   std::pair{stat("/proc/driver/nvidia", &st) == 0, "no NVIDIA driver (/proc/driver/nvidia)"},
				   std::pair{access("/usr/bin/nvidia-container-cli", X_OK) == 0, "no NVIDIA container toolkit (nvidia-container-cli)"}})
		if (!found)
			snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s", *missing ? ", " : "", what);
	die("--gpus %s: the launcher has no GPU support%s%s; give a GPU's nodes with --device /dev/nvidia0 ... instead", value,
	    *missing ? ": " : "", missing);
}

// The rest of docker's resource flags, checked with docker's words.
inline void resources_spec(container_spec &spec, const options::parsed &o)
{
	char why[96];
	int64_t n;
	limits::request &q = spec.cgroup;
	if (o.memory_swap && strcmp(o.memory_swap, "-1") == 0)
		q.memory_swap = -1;
	else if (o.memory_swap && options::parse_size(o.memory_swap, n, why, sizeof why))
		q.memory_swap = n;
	if (q.memory_swap && !q.memory)
		die("--memory-swap %s: you should always set the memory limit (--memory) when using the memory-swap limit", o.memory_swap);
	if (q.memory_swap > 0 && uint64_t(q.memory_swap) < q.memory)
		die("--memory-swap %s: the minimum memory-swap limit should be larger than the memory limit", o.memory_swap);
	if (o.memory_reservation && options::parse_size(o.memory_reservation, n, why, sizeof why))
		q.memory_reservation = uint64_t(n);
	if (q.memory && q.memory_reservation > q.memory)
		die("--memory-reservation %s: the memory limit cannot be less than the memory reservation", o.memory_reservation);
	if (o.cpu_shares && options::parse_int(o.cpu_shares, n)) {
		if (n < 0 || (n > 0 && n < 2) || n > 262144)
			die("bad --cpu-shares %s: from 2 to 262144 (0: the default)", o.cpu_shares);
		q.cpu_shares = uint64_t(n);
	}
	for (auto [list, flag] : {std::pair{o.cpuset_cpus, "--cpuset-cpus"}, std::pair{o.cpuset_mems, "--cpuset-mems"}})
		if (list && (!*list || strspn(list, "0123456789,-") != strlen(list) || strlen(list) > 31))
			die("bad %s %s: expected a list such as 0-3,5", flag, list);
	q.cpus = o.cpuset_cpus, q.mems = o.cpuset_mems;
	q.oom_kill_disable = o.oom_kill_disable;
	if (o.shm_size && options::parse_size(o.shm_size, n, why, sizeof why)) {
		if (n <= 0)
			die("bad --shm-size %s: must be greater than 0", o.shm_size);
		spec.shm_size = n;
	}
}

// --device, --device-cgroup-rule: nodes made in the container, rules beside docker's.
inline void devices_spec(container_spec &spec, const options::parsed &o)
{
	if (o.gpus)
		refuse_gpus(o.gpus);
	for (const char *d : o.devices)
		add_device(spec, d);
	for (const char *r : o.device_cgroup_rules) {
		security::device_rule rule;
		if (!parse_device_rule(r, rule))
			die("bad --device-cgroup-rule %s: expected TYPE MAJOR:MINOR ACCESS, e.g. 'c 10:229 rwm' (TYPE a, b or c; * for any number)", r);
		spec.device_rules.push_back(rule);
	}
	if (!spec.devices.empty() && (o.userns || getuid() != 0))
		die("--device needs root without --userns: the kernel refuses mknod in a user namespace");
	if (spec.device_rules.empty() || !spec.cgroup.devices)
		return;
	spec.cgroup.device_rules.assign(std::begin(security::device_rules), std::end(security::device_rules));
	spec.cgroup.device_rules.insert(spec.cgroup.device_rules.end(), spec.device_rules.begin(), spec.device_rules.end());
	if (spec.cgroup.device_rules.size() > security::max_device_rules)
		die("too many --device and --device-cgroup-rule flags (%zu)", spec.device_rules.size());
}

// An IPv6 address as inet_pton reads one (in brackets too, as docker allows): groups of
// 1 to 4 hex digits, 8 of them or fewer around one "::", the last two maybe an IPv4 one.
inline bool valid_ipv6(std::string_view s)
{
	if (s.size() > 2 && s.front() == '[' && s.back() == ']')
		s = s.substr(1, s.size() - 2);
	size_t groups = 0;
	bool gap = false;
	if (s.starts_with("::"))
		gap = true, s.remove_prefix(2);
	while (!s.empty()) {
		std::string_view g = s.substr(0, s.find(':'));
		uint32_t v4;
		if (g.size() == s.size() && g.find('.') != g.npos && network::parse_ipv4(g, v4)) {
			groups += 2;
			break;
		}
		if (g.empty() || g.size() > 4 || g.find_first_not_of("0123456789abcdefABCDEF") != g.npos)
			return false;
		groups++;
		s.remove_prefix(g.size());
		if (s.starts_with("::")) {
			if (gap)
				return false;
			gap = true, s.remove_prefix(2);
		} else if (s.starts_with(':')) {
			s.remove_prefix(1);
			if (s.empty())
				return false;
		}
	}
	return gap ? groups <= 7 : groups == 8;
}

// Namespaces shared with the host, docker's security options, sysctls, hosts lines.
inline void isolation_spec(container_spec &spec, const options::parsed &o)
{
	spec.ipc_host = o.ipc_host;
	spec.sig_proxy = o.sig_proxy;
	spec.proc.no_new_privileges = o.no_new_privileges;
	if (o.uts_host && o.hostname)
		die("conflicting options: --hostname and --uts host");
	if (o.uts_host && o.domainname)
		die("conflicting options: --domainname and --uts host");
	if ((o.pid_host || o.ipc_host || o.uts_host || o.cgroupns_host) && (o.userns || getuid() != 0))
		die("--pid, --ipc, --uts and --cgroupns host need root without --userns");
	if ((o.pid_container || o.ipc_container) && (o.userns || getuid() != 0))
		die("--%s container:NAME needs root without --userns", o.pid_container ? "pid" : "ipc");
	spec.ipc_mode = o.ipc_mode;
	if (o.domainname && (strlen(o.domainname) > 64 || !*o.domainname))
		die("bad --domainname %s: 1 to 64 characters", o.domainname);
	spec.domainname = o.domainname;
	// AppArmor: the profile, which the kernel must hold, is the entrypoint's (and exec's).
	// SELinux: label=disable is what the launcher does anyway; it composes no context, so
	// any other label is refused rather than silently not applied. A host without the LSM
	// gets a note, as docker's daemon runs there without it.
	for (const char *opt : o.lsm_options) {
		bool apparmor = strncmp(opt, "apparmor", 8) == 0;
		const char *value = opt + (apparmor ? 9 : 6);
		if (apparmor && lsm::apparmor_enabled()) {
			if (int err = lsm::apparmor_check(value))
				die("--security-opt %s: %s", opt, lsm::why_refused(err));
			spec.proc.apparmor = value;
		} else if (!apparmor && lsm::selinux_enabled()) {
			if (strcmp(value, "disable") != 0)
				die("--security-opt %s: the launcher sets no SELinux labels; only label=disable is accepted", opt);
		} else {
			dprintf(2, "launcher: note: --security-opt %s: this host has no %s; the container runs without it\n", opt,
				apparmor ? "AppArmor" : "SELinux");
		}
	}
	bool net_host = strcmp(o.net, "host") == 0;
	for (const char *kv : o.sysctls) {
		std::string_view key(kv, strcspn(kv, "="));
		if (o.netns && key.starts_with("net.")) // another's namespace, maybe the host's (/proc/self/ns/net)
			die("bad --sysctl %s: not allowed in a network namespace the container joins (--netns)", kv);
		if (const char *why = sysctl_refusal(key, net_host, o.ipc_host || o.ipc_container, o.uts_host))
			die("bad --sysctl %s: %s", kv, why);
		spec.sysctls.push_back({copy_of(key), kv + key.size() + 1});
	}
	for (const char *h : o.add_hosts) {
		const char *sep = strpbrk(h, ":=");
		const char *ip = sep + 1;
		uint32_t v4;
		bool gateway = strcmp(ip, "host-gateway") == 0;
		if (!gateway && !network::parse_ipv4(ip, v4) && !valid_ipv6(ip))
			die("bad --add-host %s: invalid IP address %s", h, ip);
		if (gateway && strcmp(o.net, "none") == 0 && !o.netns)
			die("bad --add-host %s: host-gateway needs a network (--net NAME or --net host)", h);
		spec.add_hosts.push_back(h);
	}
}

// The namespaces of the container: new ones, but those it shares with the host (--pid,
// --ipc, --uts, --cgroupns host, --net host) or with another container (--pid, --ipc
// container:NAME: joined through its PID 1's pidfd, containers::join_namespaces) or joins
// by path (--netns). docker's masked and read-only paths of /proc and /sys, unless
// --privileged or --security-opt systempaths=unconfined.
inline void namespaces_spec(container_spec &spec, const options::parsed &o)
{
	bool net_host = strcmp(o.net, "host") == 0;
	spec.new_namespaces = CLONE_NEWNS | (o.uts_host ? 0 : CLONE_NEWUTS) | (o.ipc_host || o.ipc_container ? 0 : CLONE_NEWIPC) |
			      (o.pid_host || o.pid_container ? 0 : CLONE_NEWPID) | (net_host || o.netns ? 0 : CLONE_NEWNET) |
			      (spec.userns ? CLONE_NEWUSER : 0) | (o.cgroupns_host ? 0 : CLONE_NEWCGROUP);
	if (o.netns) {
		static char path[PATH_MAX];
		snprintf(path, sizeof path, strchr(o.netns, '/') ? "%s" : "/run/netns/%s", o.netns);
		spec.joined.push_back({CLONE_NEWNET, path});
	}
	if (!o.privileged && !o.systempaths_unconfined) {
		spec.masked.assign(std::begin(security::masked_paths), std::end(security::masked_paths));
		spec.readonly.assign(std::begin(security::readonly_paths), std::end(security::readonly_paths));
	}
}

// docker's kernel file systems, as moby's default spec lists them: /proc, a tmpfs /dev, its
// devpts, shm (--shm-size) and mqueue, a read-only /sys (PID 1 adds its /sys/fs/cgroup:
// rootfs::mount_cgroups). Each replaces what the image has at its path: a mount that
// followed an image's `dev -> /` would land outside the root, on the host's (which
// pivot_root leaves above ours).
inline void kernel_mounts_spec(container_spec &spec)
{
	struct kernel_mount {
		const char *destination, *type, *source;
		unsigned long flags;
		const char *data;
	};
	static constexpr kernel_mount table[] = {
		{"/proc", "proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, ""},
		{"/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"},
		{"/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
		{"/dev/shm", "tmpfs", "shm", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k"},
		{"/dev/mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, ""},
		{"/sys", "sysfs", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, ""},
	};
	for (const kernel_mount &k : table) {
		container::mount m;
		m.destination = k.destination, m.type = k.type, m.source = k.source, m.flags = k.flags, m.replace = true;
		snprintf(m.data, sizeof m.data, "%s", k.data);
		spec.mounts.push_back(m);
	}
	if (spec.userns) {
		// gid 5 (tty) may not exist in a user namespace's map
		snprintf(spec.mounts[2].data, sizeof spec.mounts[2].data, "newinstance,ptmxmode=0666,mode=0620");
		// The host's /sys bound instead (the kernel refuses a new sysfs to a user namespace
		// that does not own the network namespace), with the host's mounts under it
		// (cgroups, debugfs, bpf, ...): read-only all through, the host's cgroup tree hidden.
		container::mount &sys = spec.mounts[5], hide;
		sys.type = "bind", sys.source = "/sys", sys.flags |= MS_BIND | MS_REC, sys.rro = true;
		hide.destination = "/sys/fs/cgroup", hide.type = hide.source = "tmpfs";
		hide.flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
		snprintf(hide.data, sizeof hide.data, "size=0");
		spec.mounts.push_back(hide);
	}
	if (spec.shm_size)
		snprintf(spec.mounts[3].data, sizeof spec.mounts[3].data, "mode=1777,size=%lld", (long long)spec.shm_size);
}

// Capabilities, limits and volumes, as docker run spells them.
inline void confinement_spec(container_spec &spec, const options::parsed &o)
{
	security::cap_change changes[2] = {{true, 0}, {false, 0}}; // all adds, all drops
	for (auto [list, add] : {std::pair{&o.cap_add, true}, std::pair{&o.cap_drop, false}})
		for (const char *name : *list) {
			uint64_t m = security::cap_mask(name);
			if (!m)
				die("bad --cap-%s %s: no such capability", add ? "add" : "drop", name);
			changes[add ? 0 : 1].mask |= m;
		}
	spec.privileged = o.privileged;
	// Held while the entrypoint is root (resolve_user empties them for any other user).
	uint64_t caps = o.privileged ? security::bounding_caps() : security::effective_caps(changes);
	spec.proc.caps[security::bounding] = spec.proc.caps[security::effective] = spec.proc.caps[security::permitted] = caps;
	spec.has_filter = o.seccomp && !o.privileged;
	// docker's filter follows the capabilities: the bounding set, whatever the user.
	if (spec.has_filter && o.seccomp_profile)
		seccomp_profile(spec, o.seccomp_profile);
	else if (spec.has_filter)
		spec.filter = seccomp::docker_default(caps), spec.default_filter = true;
	spec.cgroup.devices = !o.privileged; // docker's device cgroup; --privileged has every device
	spec.root_readonly = o.read_only;
	for (const char *u : o.ulimits) {
		limits::rlimit_entry r;
		if (!limits::parse_ulimit(u, r.resource, r.limit))
			die("bad --ulimit %s: expected NAME=SOFT[:HARD], e.g. nofile=1024:2048", u);
		spec.proc.rlimits.push_back(r);
	}
	char why[96];
	int64_t n;
	// Both checked by options::parse; 0 is docker's "no limit", and so is -1 for pids.
	if (o.memory && options::parse_size(o.memory, n, why, sizeof why))
		spec.cgroup.memory = uint64_t(n);
	if (o.pids_limit && options::parse_int(o.pids_limit, n))
		spec.cgroup.pids = n > 0 ? uint64_t(n) : 0;
	if (o.cpus && !limits::parse_cpus(o.cpus, spec.cgroup.cpu_quota_us))
		die("bad --cpus %s: expected a number of cores of at least 0.01", o.cpus);
	resources_spec(spec, o);
	devices_spec(spec, o);
	user_namespace_spec(spec, o);
}

// --platform OS/ARCH[/VARIANT] (or ARCH): the image's must match; docker's names for the
// kernel's (x86_64 is amd64, aarch64 arm64).
inline void check_platform(const options::parsed &o, const image_archive &img)
{
	if (!o.platform)
		return;
	const image::config &c = img.res.config;
	std::string_view p(o.platform), parts[3];
	size_t n = 0;
	while (n < 3) {
		parts[n++] = p.substr(0, p.find('/'));
		if (p.find('/') == p.npos)
			break;
		p.remove_prefix(p.find('/') + 1);
	}
	auto normal = [](std::string_view a) -> std::string_view { return a == "x86_64" ? "amd64" : a == "aarch64" ? "arm64" : a; };
	std::string_view os = n == 1 ? "linux" : parts[0], arch = normal(parts[n == 1 ? 0 : 1]), variant = n == 3 ? parts[2] : "";
	std::string_view has_os = *c.os ? c.os : "linux", has_arch = normal(c.architecture);
	if (os != has_os || (!has_arch.empty() && arch != has_arch) || (!variant.empty() && *c.variant && variant != c.variant))
		die("image %s is %.*s/%.*s%s%s, not the --platform %s asked for", img.path, int(has_os.size()), has_os.data(),
		    int(has_arch.size()), has_arch.data(), *c.variant ? "/" : "", c.variant, o.platform);
}

// A bridge network's names, and the ports -p and -P publish on it (docker's -P: every
// port the image exposes, on a free host port).
inline void network_spec(container_spec &spec, const options::parsed &o, const image_archive &img)
{
	bool bridge = strcmp(o.net, "host") != 0 && strcmp(o.net, "none") != 0 && !o.netns;
	if (bridge && !network::valid_name(o.net))
		die("bad --net %s: a network name has 1 to 15 letters, digits, '-', '_' or '.'", o.net);
	for (const char *n : o.network_alias)
		if (!network::valid_host_name(n))
			die("bad --network-alias %s: a name has 1 to 63 letters, digits, '-', '_' or '.'", n);
	if (bridge && o.name && !network::valid_host_name(o.name))
		die("bad --name %s: a name has 1 to 63 letters, digits, '-', '_' or '.'", o.name);
	struct mapping_table { ports::mapping at[ports::max_mappings]; }; // on the heap: as a static its
	auto &maps = (new mapping_table)->at;                             // defaults would fill the binary
	size_t n = 0;
	for (const char *p : o.publish)
		if (!ports::parse_publish(p, maps, std::size(maps), n))
			die("bad --publish %s: expected [IP:][HOST[-HOST2]:]CTR[-CTR2][/tcp|/udp] (at most %zu ports)", p, std::size(maps));
	if (o.publish_all)
		for (const char *p : img.res.config.exposed_ports)
			if (!ports::parse_publish(p, maps, std::size(maps), n))
				die("-P: the image's ExposedPorts holds %s, not PORT[/tcp|/udp] (or more than %zu ports)", p, std::size(maps));
	spec.ports = {maps, n};
}

// docker run's rules: words after the image replace Cmd; --entrypoint replaces the
// Entrypoint and drops Cmd. Env: the image's, then -e, then PATH if still missing.
inline void make_spec(container_spec &spec, const options::parsed &o, const image_archive &img)
{
	const image::config &c = img.res.config;
	std::vector<const char *> &argv = spec.proc.args, &env = spec.proc.env;
	if (o.entrypoint) {
		if (*o.entrypoint)
			argv.push_back(o.entrypoint);
	} else {
		argv = c.entrypoint;
	}
	std::span<const char *const> cmd = !o.command.empty() || o.entrypoint ? o.command : std::span<const char *const>(c.cmd);
	argv.insert(argv.end(), cmd.begin(), cmd.end());
	if (argv.empty())
		die("image %s: no command: the image has no Entrypoint or Cmd and none was given", img.path);

	static char hostname[65];
	spec.hostname = hostname;
	snprintf(hostname, sizeof hostname, "%.*s", 12, img.id.empty() ? "container" : img.id.data());
	if (o.uts_host && gethostname(hostname, sizeof hostname - 1) < 0)
		die_errno("read the host's name");
	if (o.hostname) {
		if (strlen(o.hostname) >= sizeof hostname || !*o.hostname)
			die("bad --hostname %s: 1 to 64 characters", o.hostname);
		snprintf(hostname, sizeof hostname, "%s", o.hostname);
	}

	// HOSTNAME first, as docker sets it: the image's Env and -e may replace it.
	static char host_kv[80];
	snprintf(host_kv, sizeof host_kv, "HOSTNAME=%s", spec.hostname);
	env = {host_kv};
	for (const char *kv : c.env)
		image::set_env(env, kv);
	std::vector<const char *> given = lines_of_files(o.env_files, "--env-file"); // then -e
	given.insert(given.end(), o.env.begin(), o.env.end());
	for (const char *kv : given) {
		if (strchr(kv, '=')) {
			image::set_env(env, kv);
		} else if (getenv(kv)) { // -e KEY copies the host's value, or nothing
			size_t n = strlen(kv) + 1 + strlen(getenv(kv)) + 1;
			char *copy = static_cast<char *>(malloc(n));
			if (!copy)
				die("out of memory");
			snprintf(copy, n, "%s=%s", kv, getenv(kv));
			image::set_env(env, copy);
		}
	}
	if (!image::get_env(env, "PATH")) {
		static char path_kv[128];
		snprintf(path_kv, sizeof path_kv, "PATH=%s", default_path);
		env.push_back(path_kv);
	}
	spec.proc.cwd = o.workdir ? o.workdir : *c.workdir ? c.workdir : "/";
	spec.user = o.user ? o.user : c.user;
	if (spec.proc.cwd[0] != '/')
		die("bad working directory %s: must be absolute", spec.proc.cwd);
	check_platform(o, img);
	spec.labels = c.labels;
	std::vector<const char *> labels = lines_of_files(o.label_files, "--label-file");
	labels.insert(labels.end(), o.labels.begin(), o.labels.end());
	for (const char *kv : labels) {
		const char *eq = strchr(kv, '=');
		std::pair<const char *, const char *> l = {eq ? copy_of({kv, size_t(eq - kv)}) : kv, eq ? eq + 1 : ""};
		auto same = std::find_if(spec.labels.begin(), spec.labels.end(), [&](auto &x) { return strcmp(x.first, l.first) == 0; });
		if (same != spec.labels.end())
			*same = l;
		else
			spec.labels.push_back(l);
	}
	spec.stop_signal = o.stop_signal ? o.stop_signal : *c.stop_signal ? c.stop_signal : "SIGTERM";
	if (!options::signal_number(spec.stop_signal))
		die("image %s: bad StopSignal %s: no such signal", img.path, spec.stop_signal);
	int64_t timeout;
	if (o.stop_timeout && options::parse_int(o.stop_timeout, timeout))
		spec.stop_timeout = int(std::clamp<int64_t>(timeout, -1, 86400));
	isolation_spec(spec, o);
	network_spec(spec, o, img);
	confinement_spec(spec, o);
	namespaces_spec(spec, o);
	kernel_mounts_spec(spec);
	// Volumes last: a named one is made on the host, so every check has passed first.
	if (!o.volumes.empty() || !o.mounts.empty() || !c.volumes.empty()) // a named or anonymous volume may be made
		spec.data_root = data_root(o);
	if (o.ipc_host)
		add_volume(spec, {volumes::kind::bind, "/dev/shm", "/dev/shm"}, "--ipc host");
	char err[256];
	for (auto [list, parse] : {std::pair{&o.volumes, &volumes::parse_volume}, std::pair{&o.mounts, &volumes::parse_mount},
				   std::pair{&o.tmpfs, &volumes::parse_tmpfs}})
		for (const char *arg : *list) {
			volumes::request r;
			if (!parse(arg, r, err, sizeof err))
				die("%s", err);
			add_volume(spec, r, arg);
		}
	// --volumes-from's where no flag mounted that target (docker's: -v and --mount win).
	for (const volume &v : spec.inherited)
		if (std::none_of(spec.volumes.begin(), spec.volumes.end(), [&](const volume &w) { return strcmp(v.target, w.target) == 0; }))
			spec.volumes.push_back(v);
	// The image's Volumes that no flag mounted: an anonymous volume each, as docker makes.
	for (const char *path : c.volumes) {
		volumes::request r;
		r.type = volumes::kind::volume;
		r.target = path;
		if (path[0] == '/' && !volumes::check_target(path, "image volume", path, err, sizeof err))
			die("%s", err);
		if (path[0] == '/' && std::none_of(spec.volumes.begin(), spec.volumes.end(), [&](const volume &v) {
			    return std::string_view(v.target) == std::string_view(path).substr(0, std::string_view(path).find_last_not_of('/') + 1);
		    }))
			add_volume(spec, r, path);
	}
	// Shallower targets first, as docker sorts them: /data before /data/sub, whichever flag
	// (or donor) gave them, so that none hides another.
	auto depth = [](const char *t) {
		size_t n = 0;
		for (const char *p = t; *p; p++)
			n += *p != '/' && (p == t || p[-1] == '/');
		return n;
	};
	std::vector<volume> &v = spec.volumes; // an insertion sort: stable, and without std::nothrow
	for (size_t i = 1; i < v.size(); i++)
		for (size_t j = i; j > 0 && depth(v[j - 1].target) > depth(v[j].target); j--)
			std::swap(v[j - 1], v[j]);
}

// The user the command runs as, as docker resolves --user or the image's User through the
// image's own /etc/passwd and /etc/group: NAME or UID, then an optional :GROUP or :GID.
// A name must exist; a number need not (its group is then 0 and HOME "/"). Supplementary
// groups: the primary one and each group that lists the user's name. HOME comes from
// the passwd line unless the image or -e set it.
constexpr uint32_t max_id = 2147483647;
constexpr const char *out_of_range = "uids and gids must be in range 0-2147483647";

// find_user fills p's uid, gid and groups from this root's files and says which part was
// not found (nullptr: none; "range": an id past max_id); home gets the passwd line's directory. PID 1 calls it for the
// entrypoint, and exec's helper in the container's mount namespace for the container's
// user (docker's exec runs as the container's user unless -u says otherwise).
inline const char *find_user(std::string_view user, container::process &p, char (&home)[PATH_MAX])
{
	std::string_view group;
	if (size_t colon = user.find(':'); colon != user.npos)
		group = user.substr(colon + 1), user = user.substr(0, colon);
	if (user.empty())
		user = "0";
	// Copied out: each_etc_line reuses its buffer for /etc/group.
	static char name[256]; // .bss: an initializer would put it in the binary
	name[0] = 0;
	home[0] = '/', home[1] = 0;
	bool found = users::each_etc_line("/etc/passwd", [&](std::string_view *f) {
		if (!(users::all_digits(user) ? f[2] == user : f[0] == user) || !users::all_digits(f[2]) || !users::all_digits(f[3]))
			return false;
		snprintf(name, sizeof name, "%.*s", int(f[0].size()), f[0].data());
		if (!f[5].empty())
			snprintf(home, sizeof home, "%.*s", int(f[5].size()), f[5].data());
		p.uid = users::number_of(f[2]), p.gid = users::number_of(f[3]);
		return true;
	});
	if (!found) {
		if (!users::all_digits(user))
			return "user";
		p.uid = users::number_of(user), p.gid = 0;
	}
	if (!group.empty() && !users::all_digits(group) &&
	    !users::each_etc_line("/etc/group", [&](std::string_view *f) {
		    if (f[0] != group || !users::all_digits(f[2]))
			    return false;
		    p.gid = users::number_of(f[2]);
		    return true;
	    }))
		return "group";
	if (users::all_digits(group))
		p.gid = users::number_of(group);
	p.groups = {p.gid};
	if (*name)
		users::each_etc_line("/etc/group", [&](std::string_view *f) {
			for (std::string_view members = f[3]; !members.empty();) {
				std::string_view m = members.substr(0, members.find(','));
				members.remove_prefix(std::min(members.size(), m.size() + 1));
				if (m == name && users::all_digits(f[2]) && p.groups.size() < max_groups) {
					gid_t g = users::number_of(f[2]);
					if (std::find(p.groups.begin(), p.groups.end(), g) == p.groups.end())
						p.groups.push_back(g);
				}
			}
			return false;
		});
	// runc's range, docker's: (uid_t)-1 would be setresuid's "no change", uid 0 kept.
	for (gid_t g : p.groups)
		if (g > max_id)
			return "range";
	return p.uid > max_id || p.gid > max_id ? "range" : nullptr;
}

inline void resolve_user(container_spec &spec)
{
	container::process &p = spec.proc;
	static char home[PATH_MAX];
	std::string_view user(spec.user);
	if (const char *missing = find_user(user, p, home)) {
		if (strcmp(missing, "range") == 0)
			die("%s", out_of_range);
		std::string_view part = strcmp(missing, "user") == 0 ? user.substr(0, user.find(':')) : user.substr(user.find(':') + 1);
		die("unable to find %s %.*s: no matching entries in the image's /etc/%s", missing, int(part.size()), part.data(),
		    strcmp(missing, "user") == 0 ? "passwd" : "group");
	}
	// In a user namespace only its maps' ids exist (setresuid would say EINVAL).
	auto mapped = [](const std::vector<users::id_map> &maps, uint32_t id) {
		return std::any_of(maps.begin(), maps.end(), [&](const users::id_map &m) { return id >= m.inside && id - m.inside < m.count; });
	};
	if (spec.userns && (!mapped(spec.uid_maps, p.uid) || !mapped(spec.gid_maps, p.gid)))
		die("user %s is uid %u, gid %u: not mapped in the container's user namespace (see /etc/subuid and /etc/subgid)", spec.user, p.uid,
		    p.gid);
	if (!image::get_env(p.env, "HOME")) {
		static char home_kv[PATH_MAX + 8]; // zero-filled: .bss, not 4 KB of the binary
		snprintf(home_kv, sizeof home_kv, "HOME=%s", home);
		p.env.push_back(home_kv);
	}
	// Leaving uid 0 empties the permitted set: a user other than root holds no capability.
	if (p.uid != 0)
		p.caps[security::effective] = p.caps[security::permitted] = 0;
}

} // namespace container
