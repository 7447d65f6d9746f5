// lsm.hpp: the Linux security modules docker's --security-opt and the OCI process's
// apparmorProfile name. AppArmor's profile is applied as runc applies it: "exec PROFILE"
// written to the process's own attr/exec just before execve, so the kernel moves it into
// that profile at the exec. The launcher loads no profile and composes no SELinux context:
// a profile must be one the kernel already holds (or "unconfined").
#pragma once
#include <fcntl.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "sys.hpp"

namespace lsm {

// Whether AppArmor is an active LSM: the kernel answers a read of our own AppArmor label
// (/proc/self/attr/apparmor/current, Linux 5.1; EINVAL where AppArmor is built but not
// active), or, on older kernels, the module says it is enabled.
inline bool apparmor_enabled()
{
	char text[8];
	for (const char *path : {"/proc/self/attr/apparmor/current", "/sys/module/apparmor/parameters/enabled"}) {
		sys::unique_fd fd(open(path, O_RDONLY | O_CLOEXEC));
		ssize_t n = fd ? read(fd.get(), text, sizeof text) : -1;
		if (n > 0)
			return path[1] == 'p' || text[0] == 'Y';
		if (fd) // there, and refused: not active
			return false;
	}
	return false;
}

inline bool selinux_enabled()
{
	return access("/sys/fs/selinux/enforce", F_OK) == 0;
}

// "exec PROFILE" into the calling thread's attr/exec: the next execve enters PROFILE.
// The file is found in the procfs at /proc (checked to be one: inside a container /proc is
// the container's own mount); /proc/self/attr/exec where the kernel has no per-LSM
// directory (before 5.1). 0, or the errno: ENOENT for a profile the kernel does not hold.
inline int apparmor_exec(const char *profile)
{
	int fd = open("/proc/thread-self/attr/apparmor/exec", O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		fd = open("/proc/self/attr/exec", O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno;
	sys::unique_fd attr(fd);
	struct statfs fs;
	if (fstatfs(fd, &fs) < 0)
		return errno;
	if (fs.f_type != PROC_SUPER_MAGIC)
		return EXDEV;
	char text[4096];
	int n = snprintf(text, sizeof text, "exec %s", profile);
	if (n < 0 || size_t(n) >= sizeof text)
		return ENAMETOOLONG;
	return write(fd, text, size_t(n)) == n ? 0 : errno;
}

// Whether the kernel holds PROFILE, asked before anything of the container exists: a
// throwaway child writes it (the kernel looks the profile up at the write) and exits
// without exec, so nothing of ours changes. 0, or the errno the write met.
inline int apparmor_check(const char *profile)
{
	pid_t pid = pid_t(sys::clone_fork(SIGCHLD));
	if (pid < 0)
		return errno;
	if (pid == 0)
		_exit(apparmor_exec(profile) & 0xff);
	int ws;
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return errno;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : EIO;
}

// One line for a profile the kernel refused.
inline const char *why_refused(int err)
{
	return err == ENOENT ? "the kernel holds no such AppArmor profile (load it with apparmor_parser first)" : strerror(err);
}

} // namespace lsm
