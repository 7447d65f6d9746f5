// spawn.hpp: the host side of a start, for either front door: the container's first
// process cloned from its description (description.hpp) into its new namespaces, born in
// its cgroup2 directory where the kernel can and in the PID namespace it joins; then,
// while it waits for the caller's word, given its id maps and moved into the rest of its
// cgroups. The cgroups are made before (limits.hpp), the word is the caller's to say.
#pragma once
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>

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

// Runs fn in a child that is root of a new user namespace with the container's id maps, and
// waits for it: a rootless cache's layers are unpacked (and pruned) there, so that their
// owners are what the container's user namespace maps them to. The child's failure is the
// launcher's, with its status (its own line said why).
inline void as_root_of_user_namespace(const container::description &d, bool map_helpers, void (*fn)(void *), void *ctx)
{
	int sync[2];
	if (pipe2(sync, O_CLOEXEC) < 0)
		die_errno("pipe");
	pid_t h = pid_t(sys::clone_fork(CLONE_NEWUSER | SIGCHLD));
	if (h < 0)
		die_errno("clone into a user namespace");
	if (h == 0) {
		close(sync[1]);
		char mapped;
		if (read(sync[0], &mapped, 1) != 1)
			_exit(sys::exit_failure);
		users::become_namespace_root();
		// Dies with the launcher, which holds the pipe open until we end.
		pollfd alive = {sync[0], 0, 0};
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || (poll(&alive, 1, 0) != 0 && (alive.revents & POLLHUP)))
			_exit(sys::exit_failure);
		fn(ctx);
		_exit(0);
	}
	close(sync[0]);
	users::write_id_maps(h, d.uid_maps, d.gid_maps, map_helpers);
	if (write(sync[1], "", 1) != 1)
		die_errno("start the user namespace's child");
	int ws;
	while (waitpid(h, &ws, 0) < 0)
		if (errno != EINTR)
			die_errno("wait for the user namespace's child");
	close(sync[1]);
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
		exit(WIFEXITED(ws) ? WEXITSTATUS(ws) : sys::exit_failure);
}

// The namespace of `type` the description joins by path, opened by the host side (docker's
// --netns, which PID 1 joins before it mounts /sys); -1: none.
inline int open_joined(const container::description &d, unsigned long type, const char *what)
{
	for (const container::description::join &j : d.joined)
		if (j.type == type) {
			int fd = open(j.path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				die_errno("open %s namespace %s", what, j.path);
			return fd;
		}
	return -1;
}

} // namespace spawn
