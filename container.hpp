// container.hpp: the description of one container (container_spec), made from an image
// archive and docker run's flags: the command, environment, user, host name, volumes,
// capabilities, limits and id maps. resolve_user finishes it inside the container, from
// the image's own /etc/passwd and /etc/group.
#pragma once
#include <sys/stat.h>

#include "image.hpp"
#include "layers.hpp"
#include "limits.hpp"
#include "options.hpp"
#include "seccomp.hpp"
#include "security.hpp"
#include "sys.hpp"
#include "users.hpp"

struct volume {
	const char *source, *target;
	bool read_only, is_dir;
	int source_fd; // opened by the container's PID 1, in its own mount namespace
};

struct container_spec {
	std::vector<const char *> argv, env;
	const char *workdir = "/";
	char hostname[65] = "";
	uint64_t caps = 0;
	bool privileged = false, seccomp = true, read_only = false;
	seccomp::program filter; // the entrypoint's and PID 1's, when seccomp
	bool overlay = true; // else the layers are merged by copy
	const char *user = "";   // --user, else the image's User
	uid_t uid = 0;
	gid_t gid = 0, groups[32];
	size_t group_count = 0;
	std::vector<volume> volumes;
	std::pair<int, rlimit> ulimits[16] = {}; // one per kind of resource at most
	size_t ulimit_count = 0;
	limits::request cgroup;
	bool userns = false;      // container root is an unprivileged host id
	bool map_helpers = false; // the maps go through newuidmap and newgidmap
	char uid_map[64] = "", gid_map[64] = ""; // "INSIDE OUTSIDE COUNT ..." triples
};

namespace container {

using sys::die;
using sys::die_errno;

constexpr const char *default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

constexpr const char *newuidmap = "/usr/bin/newuidmap", *newgidmap = "/usr/bin/newgidmap";

// -v HOST:CTR[:ro|rw]: checked now, so a missing host path fails before any namespace.
inline volume parse_volume(const char *arg)
{
	char *copy = strdup(arg);
	char *target = copy ? strchr(copy, ':') : nullptr;
	if (!target)
		die("bad --volume %s: expected HOST:CONTAINER[:ro]", arg);
	*target++ = 0;
	char *mode = strchr(target, ':');
	if (mode)
		*mode++ = 0;
	if (copy[0] != '/' || target[0] != '/' || (mode && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0))
		die("bad --volume %s: both paths absolute, mode ro or rw", arg);
	if (strspn(target, "/.") == strlen(target)) // "/", "//", "/.", ...: docker refuses it too
		die("bad --volume %s: the container's root cannot be a volume", arg);
	struct stat st;
	if (stat(copy, &st) < 0)
		die_errno("open volume %s", copy);
	return {copy, target, mode && strcmp(mode, "ro") == 0, S_ISDIR(st.st_mode), -1};
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
		snprintf(spec.uid_map, sizeof spec.uid_map, "0 %lu %lu", ur[0], ur[1]);
		snprintf(spec.gid_map, sizeof spec.gid_map, "0 %lu %lu", gr[0], gr[1]);
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
			   access(newuidmap, X_OK) == 0 && access(newgidmap, X_OK) == 0;
	if (spec.map_helpers) {
		snprintf(spec.uid_map, sizeof spec.uid_map, "0 %d 1 1 %lu %lu", getuid(), ur[0], ur[1]);
		snprintf(spec.gid_map, sizeof spec.gid_map, "0 %d 1 1 %lu %lu", getgid(), gr[0], gr[1]);
	} else {
		snprintf(spec.uid_map, sizeof spec.uid_map, "0 %d 1", getuid());
		snprintf(spec.gid_map, sizeof spec.gid_map, "0 %d 1", getgid());
	}
}

// --security-opt seccomp=FILE: read and compiled on the host, before any namespace.
inline void seccomp_profile(container_spec &spec, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		die_errno("open seccomp profile %s", path);
	if (!S_ISREG(st.st_mode) || st.st_size > (4 << 20))
		die("seccomp profile %s: not a regular file of at most 4 MiB", path);
	std::vector<char> text(size_t(st.st_size));
	size_t got = 0;
	while (got < text.size()) {
		ssize_t n = read(fd, text.data() + got, text.size() - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno("read seccomp profile %s", path);
		if (n == 0)
			die("read seccomp profile %s: shorter than its size", path);
		got += size_t(n);
	}
	close(fd);
	char err[160];
	if (!seccomp::compile({text.data(), text.size()}, spec.caps, spec.filter, err, sizeof err, seccomp::kernel_version()))
		die("seccomp profile %s: %s", path, err);
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
	spec.caps = o.privileged ? security::all_caps : security::effective_caps(changes);
	spec.seccomp = o.seccomp && !o.privileged;
	// docker's filter follows the capabilities: the bounding set, whatever the user.
	if (spec.seccomp && o.seccomp_profile)
		seccomp_profile(spec, o.seccomp_profile);
	else if (spec.seccomp)
		spec.filter = seccomp::docker_default(spec.caps);
	spec.cgroup.devices = !o.privileged; // docker's device cgroup; --privileged has every device
	spec.read_only = o.read_only;
	for (const char *v : o.volumes)
		spec.volumes.push_back(parse_volume(v));
	if (o.ulimits.size() > std::size(spec.ulimits))
		die("too many --ulimit flags (%zu)", o.ulimits.size());
	for (const char *u : o.ulimits) {
		std::pair<int, rlimit> &r = spec.ulimits[spec.ulimit_count++];
		if (!limits::parse_ulimit(u, r.first, r.second))
			die("bad --ulimit %s: expected NAME=SOFT[:HARD], e.g. nofile=1024:2048", u);
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
	user_namespace_spec(spec, o);
}

// docker run's rules: words after the image replace Cmd; --entrypoint replaces the
// Entrypoint and drops Cmd. Env: the image's, then -e, then PATH if still missing.
inline void make_spec(container_spec &spec, const options::parsed &o, const image_archive &img)
{
	const image::config &c = img.res.config;
	if (o.entrypoint) {
		if (*o.entrypoint)
			spec.argv.push_back(o.entrypoint);
	} else {
		spec.argv = c.entrypoint;
	}
	std::span<const char *const> cmd = !o.command.empty() || o.entrypoint ? o.command : std::span<const char *const>(c.cmd);
	spec.argv.insert(spec.argv.end(), cmd.begin(), cmd.end());
	if (spec.argv.empty())
		die("image %s: no command: the image has no Entrypoint or Cmd and none was given", img.path);
	spec.argv.push_back(nullptr);

	snprintf(spec.hostname, sizeof spec.hostname, "%.*s", 12, img.id.empty() ? "container" : img.id.data());
	if (o.hostname) {
		if (strlen(o.hostname) >= sizeof spec.hostname || !*o.hostname)
			die("bad --hostname %s: 1 to 64 characters", o.hostname);
		snprintf(spec.hostname, sizeof spec.hostname, "%s", o.hostname);
	}

	// HOSTNAME first, as docker sets it: the image's Env and -e may replace it.
	static char host_kv[80];
	snprintf(host_kv, sizeof host_kv, "HOSTNAME=%s", spec.hostname);
	spec.env = {host_kv};
	for (const char *kv : c.env)
		image::set_env(spec.env, kv);
	for (const char *kv : o.env) {
		if (strchr(kv, '=')) {
			image::set_env(spec.env, kv);
		} else if (getenv(kv)) { // -e KEY copies the host's value, or nothing
			size_t n = strlen(kv) + 1 + strlen(getenv(kv)) + 1;
			char *copy = static_cast<char *>(malloc(n));
			if (!copy)
				die("out of memory");
			snprintf(copy, n, "%s=%s", kv, getenv(kv));
			image::set_env(spec.env, copy);
		}
	}
	if (!image::get_env(spec.env, "PATH")) {
		static char path_kv[128];
		snprintf(path_kv, sizeof path_kv, "PATH=%s", default_path);
		spec.env.push_back(path_kv);
	}
	spec.workdir = o.workdir ? o.workdir : *c.workdir ? c.workdir : "/";
	spec.user = o.user ? o.user : c.user;
	if (spec.workdir[0] != '/')
		die("bad working directory %s: must be absolute", spec.workdir);
	confinement_spec(spec, o);
}

// The user the command runs as, as docker resolves --user or the image's User through the
// image's own /etc/passwd and /etc/group: NAME or UID, then an optional :GROUP or :GID.
// A name must exist; a number need not (its group is then 0 and HOME "/"). Supplementary
// groups: the primary one and each group that lists the user's name. HOME comes from
// the passwd line unless the image or -e set it.
inline void resolve_user(container_spec &spec)
{
	std::string_view user(spec.user), group;
	if (size_t colon = user.find(':'); colon != user.npos)
		group = user.substr(colon + 1), user = user.substr(0, colon);
	if (user.empty())
		user = "0";
	// Copied out: each_etc_line reuses its buffer for /etc/group.
	static char name[256], home[PATH_MAX]; // .bss: an initializer would put 4 KB in the binary
	home[0] = '/';
	bool found = users::each_etc_line("/etc/passwd", [&](std::string_view *f) {
		if (!(users::all_digits(user) ? f[2] == user : f[0] == user) || !users::all_digits(f[2]) || !users::all_digits(f[3]))
			return false;
		snprintf(name, sizeof name, "%.*s", int(f[0].size()), f[0].data());
		if (!f[5].empty())
			snprintf(home, sizeof home, "%.*s", int(f[5].size()), f[5].data());
		spec.uid = users::number_of(f[2]), spec.gid = users::number_of(f[3]);
		return true;
	});
	if (!found) {
		if (!users::all_digits(user))
			die("unable to find user %.*s: no matching entries in the image's /etc/passwd", int(user.size()), user.data());
		spec.uid = users::number_of(user), spec.gid = 0;
	}
	if (!group.empty() && !users::all_digits(group) &&
	    !users::each_etc_line("/etc/group", [&](std::string_view *f) {
		    if (f[0] != group || !users::all_digits(f[2]))
			    return false;
		    spec.gid = users::number_of(f[2]);
		    return true;
	    }))
		die("unable to find group %.*s: no matching entries in the image's /etc/group", int(group.size()), group.data());
	if (users::all_digits(group))
		spec.gid = users::number_of(group);
	spec.groups[spec.group_count++] = spec.gid;
	if (*name)
		users::each_etc_line("/etc/group", [&](std::string_view *f) {
			for (std::string_view members = f[3]; !members.empty();) {
				std::string_view m = members.substr(0, members.find(','));
				members.remove_prefix(std::min(members.size(), m.size() + 1));
				if (m == name && users::all_digits(f[2]) && spec.group_count < std::size(spec.groups)) {
					gid_t g = users::number_of(f[2]);
					if (std::find(spec.groups, spec.groups + spec.group_count, g) == spec.groups + spec.group_count)
						spec.groups[spec.group_count++] = g;
				}
			}
			return false;
		});
	if (!image::get_env(spec.env, "HOME")) {
		static char home_kv[PATH_MAX + 8]; // zero-filled: .bss, not 4 KB of the binary
		snprintf(home_kv, sizeof home_kv, "HOME=%s", home);
		spec.env.push_back(home_kv);
	}
}

} // namespace container
