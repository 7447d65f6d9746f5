// spawn.hpp: the host side of a start, for either front door: the container's first
// process cloned from its description (description.hpp) into its new namespaces, born in
// its cgroup2 directory where the kernel can and in the PID namespace it joins; then,
// while it waits for the caller's word, given its id maps and moved into the rest of its
// cgroups. The cgroups are made before (limits.hpp), the word is the caller's to say.
#pragma once
#include <sched.h>
#include <sys/prctl.h>

#include "description.hpp"
#include "limits.hpp"
#include "sys.hpp"
#include "users.hpp"

namespace spawn {

using sys::die_errno;

// The namespaces the child makes itself, once the clone is done: a cgroup namespace once
// it is in its cgroups (their root is then the namespace's: a clone with CLONE_NEWCGROUP
// would root it at the launcher's cgroup, the kernel making the namespace before
// CLONE_INTO_CGROUP moves the child), and a time namespace (clone(2) has no room for
// CLONE_NEWTIME: 0x80 is its exit signal's).
constexpr unsigned long made_by_child = CLONE_NEWCGROUP | 0x80UL /* CLONE_NEWTIME */;

// fork()'s way: 0 in the child, its pid in the caller. A new PID namespace applies to the
// first child only, which is why the launcher clones instead of unsharing. `pid_ns`: a PID
// namespace to be born in (joined for the clone alone, ours taken back; `pid_ns_name` names
// it), -1 for the description's own or the host's; the caller stays non-dumpable meanwhile, so that no
// process of that namespace can ptrace the child before it holds nothing of the host.
// `made_elsewhere`: new namespaces the child joins instead (the launcher's network
// namespace helper's). `born` says whether the child was born in cg's cgroup2 directory.
inline pid_t clone_child(const container::description &d, const limits::cgroup &cg, int pid_ns, const char *pid_ns_name,
			 unsigned long made_elsewhere, bool &born)
{
	sys::unique_fd own_pid_ns(pid_ns >= 0 ? open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC) : -1);
	if (pid_ns >= 0 && (!own_pid_ns || prctl(PR_SET_DUMPABLE, 0) < 0 || setns(pid_ns, CLONE_NEWPID) < 0))
		die_errno("join the PID namespace of %s", pid_ns_name);
	pid_t pid = pid_t(sys::clone_fork_into((d.new_namespaces & ~(made_by_child | made_elsewhere)) | SIGCHLD, cg.fd, born));
	if (pid < 0)
		die_errno("clone the container's first process");
	if (pid > 0 && own_pid_ns && (setns(own_pid_ns.get(), CLONE_NEWPID) < 0 || prctl(PR_SET_DUMPABLE, 1) < 0))
		die_errno("return to the launcher's PID namespace");
	return pid;
}

// While the child waits: its uid and gid maps (through newuidmap and newgidmap with
// `map_helpers`), then every cgroup of cg it was not born in.
inline void admit(const container::description &d, limits::cgroup &cg, pid_t pid, bool born, bool map_helpers)
{
	if (d.new_namespaces & CLONE_NEWUSER)
		users::write_id_maps(pid, d.uid_maps, d.gid_maps, map_helpers);
	limits::enter(cg, pid, born); // (and closes cg.fd)
}

} // namespace spawn
