// description.hpp: the description of one container, in the runtime-spec's terms (its
// config.json, runtime-spec 1.1): the process, the root, the mounts, namespaces, id maps,
// devices, sysctls, cgroup and resources, masked and read-only paths, hooks. Both front
// doors make one: bundle.hpp parses a bundle's config.json into it, and container.hpp's
// make_spec fills it (as container_spec, which adds what docker's flags ask beyond it)
// from an image archive and docker run's flags. Types only: no parser, no I/O.
#pragma once
#include <string_view>
#include <utility>
#include <vector>

#include "limits.hpp"
#include "security.hpp"
#include "users.hpp"

namespace container {

struct mount {
	const char *destination = "", *type = "", *source = "";
	unsigned long flags = 0, propagation = 0;
	bool rro = false;  // read-only all through (mount_setattr AT_RECURSIVE)
	// docker's kernel file systems: whatever the image has at the destination, a symlink
	// such as dev -> / too, is replaced by an empty directory rather than followed.
	bool replace = false;
	char data[256] = ""; // what is not a flag: mode=755,size=65536k, ...
};

using users::id_map;

struct device {
	const char *path;
	char type; // c, b, u (also c), p
	uint32_t major, minor, mode;
	uid_t uid;
	gid_t gid;
};

struct hook {
	const char *path;
	std::vector<const char *> args, env;
	int timeout; // seconds, 0: none
};

enum hook_kind { prestart, create_runtime, create_container, start_container, poststart, poststop, hook_kinds };
constexpr const char *hook_names[] = {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};

using limits::rlimit_entry;

// The process: its privileges (user, additionalGids, the five capability sets,
// noNewPrivileges: security.hpp's, as confine.hpp takes them), then the rest.
struct process : security::privileges {
	bool terminal = false;
	unsigned short rows = 0, cols = 0;
	int umask = -1; // -1: 022, as runc
	std::vector<const char *> args, env;
	const char *cwd = "/";
	std::vector<rlimit_entry> rlimits;
	bool oom_score_set = false;
	int oom_score_adj = 0;
	const char *apparmor = "", *selinux = "";
};
using enum security::cap_set;

struct resources {
	int64_t memory = 0, memory_reservation = 0, memory_swap = 0; // 0: unset, -1: unlimited
	uint64_t cpu_shares = 0, cpu_period = 0;
	int64_t cpu_quota = 0;
	const char *cpus = "", *mems = "";
	int64_t pids = 0;
	std::vector<security::device_rule> devices; // in order, the last match wins
};

struct description {
	process proc;
	const char *root = "";        // a bundle's root.path; an image's root is its layers
	bool root_readonly = false;
	const char *hostname = nullptr, *domainname = nullptr;
	std::vector<mount> mounts;
	unsigned long new_namespaces = 0; // CLONE_NEW* made fresh
	struct join {
		unsigned long type;
		const char *path;
	};
	std::vector<join> joined; // namespaces entered by path
	std::vector<id_map> uid_maps, gid_maps;
	std::vector<device> devices;
	std::vector<std::pair<const char *, const char *>> sysctls; // KEY, VALUE
	const char *cgroups_path = "";
	resources res;
	std::string_view seccomp; // the linux.seccomp object's text, compiled by seccomp.hpp
	std::vector<const char *> masked, readonly;
	unsigned long rootfs_propagation = 0;
	std::string_view annotations; // the object's text, as `state` repeats it
	const char *mount_label = ""; // SELinux: refused where it is loaded
	std::vector<hook> hooks[hook_kinds];
};

// Whether the container has a namespace of this type, its own or one it joins by path.
inline bool has_namespace(const description &d, unsigned long type)
{
	if (d.new_namespaces & type)
		return true;
	for (const description::join &j : d.joined)
		if (j.type == type)
			return true;
	return false;
}

} // namespace container
