// sys.hpp: what every part of the launcher that makes syscalls shares: the one-line error
// report, file descriptor ownership, and wrappers for the syscalls musl has no function for.
#pragma once
#include <climits>
#include <csignal>
#include <sys/resource.h>
#include <sys/stat.h>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace sys {

// The launcher's own failures exit 125, as docker run's do.
constexpr int exit_failure = 125;

// Run before the process dies of an error (removes what a start had made on the host).
inline void (*at_die)() = nullptr;
// Also given the error's line (the runtime mode's --log), and the status to exit with
// (runc's 1 in the runtime mode).
inline void (*on_error)(const char *line) = nullptr;
inline int failure_status = exit_failure;

[[noreturn]] inline void vdie(int err, int status, const char *fmt, va_list ap)
{
	char line[512];
	int n = vsnprintf(line, sizeof line, fmt, ap);
	if (n < 0)
		n = 0;
	if (size_t(n) >= sizeof line)
		n = sizeof line - 1;
	if (err)
		snprintf(line + n, sizeof line - size_t(n), ": %s", strerror(err));
	dprintf(2, "launcher: %s\n", line);
	if (on_error)
		on_error(line);
	// Once: a failure while giving back what the launcher made ends it there.
	if (void (*undo)() = at_die) {
		at_die = nullptr;
		undo();
	}
	_exit(status);
}

// "launcher: <what> <object>: <strerror(errno)>", then exit 125.
[[noreturn, gnu::format(printf, 1, 2)]] inline void die_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	vdie(err, failure_status, fmt, ap);
}

// "launcher: <what>", then exit 125.
[[noreturn, gnu::format(printf, 1, 2)]] inline void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdie(0, failure_status, fmt, ap);
}

// One mount, for the tables of mounts that an init and a container make.
struct mount_rule {
	const char *source, *target, *fstype;
	unsigned long flags;
	const char *data;
};

// Owns a file descriptor; close() errors on a descriptor we only read are not actionable.
class unique_fd {
public:
	unique_fd() = default;
	explicit unique_fd(int fd) : fd_(fd) {}
	unique_fd(unique_fd &&o) noexcept : fd_(o.release()) {}
	unique_fd &operator=(unique_fd &&o) noexcept
	{
		reset(o.release());
		return *this;
	}
	unique_fd(const unique_fd &) = delete;
	unique_fd &operator=(const unique_fd &) = delete;
	~unique_fd() { reset(); }
	int get() const { return fd_; }
	int release()
	{
		int fd = fd_;
		fd_ = -1;
		return fd;
	}
	void reset(int fd = -1)
	{
		if (fd_ >= 0)
			close(fd_);
		fd_ = fd;
	}
	explicit operator bool() const { return fd_ >= 0; }

private:
	int fd_ = -1;
};

inline int openat2(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = {};
	how.flags = uint64_t(flags);
	how.resolve = resolve;
	return int(syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

#ifndef RENAME_NOREPLACE // glibc's <stdio.h> has it, musl 1.2.3's headers do not
#define RENAME_NOREPLACE (1 << 0)
#endif

inline int renameat2(int old_dir, const char *old_name, int new_dir, const char *new_name, unsigned flags)
{
	return int(syscall(SYS_renameat2, old_dir, old_name, new_dir, new_name, flags));
}

inline int pivot_root(const char *new_root, const char *put_old)
{
	return int(syscall(SYS_pivot_root, new_root, put_old));
}

// mount_setattr(2) with the new mount API's attribute bits (linux/mount.h's MOUNT_ATTR_*,
// which clash with sys/mount.h if included): with AT_RECURSIVE, a whole tree at once.
constexpr uint64_t mount_attr_rdonly = 1, mount_attr_nosuid = 2, mount_attr_nodev = 4, mount_attr_noexec = 8;
inline int mount_setattr(int dirfd, const char *path, unsigned flags, uint64_t set)
{
	struct {
		uint64_t attr_set, attr_clr, propagation, userns_fd;
	} attr = {set, 0, 0, 0};
	return int(syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof attr));
}

// open_tree(2) and move_mount(2), linux/mount.h's constants (which clash likewise): a
// detached copy of a mount, and attaching one where a descriptor names.
constexpr unsigned open_tree_clone = 1, move_mount_f_empty_path = 4, move_mount_t_empty_path = 0x40;
inline int open_tree(int dirfd, const char *path, unsigned flags)
{
	return int(syscall(SYS_open_tree, dirfd, path, flags));
}
inline int move_mount(int from_dirfd, const char *from, int to_dirfd, const char *to, unsigned flags)
{
	return int(syscall(SYS_move_mount, from_dirfd, from, to_dirfd, to, flags));
}

inline int close_range(unsigned first, unsigned last, unsigned flags)
{
	return int(syscall(SYS_close_range, first, last, flags));
}

inline long clone_fork(unsigned long flags)
{
	// The raw syscall with no new stack behaves as fork(): the child runs on a copy of ours.
	return syscall(SYS_clone, flags, nullptr, nullptr, nullptr, 0);
}

// clone_fork, the child born in the cgroup2 directory cgroup_fd (clone3's CLONE_INTO_CGROUP,
// Linux 5.7): moving it in afterwards (cgroup.procs) waits for an RCU grace period, which
// is milliseconds. Where clone3 or the flag is unknown (ENOSYS, also a seccomp filter's
// answer; E2BIG, EINVAL) it is a plain clone_fork, and into says which happened.
inline long clone_fork_into(unsigned long flags, int cgroup_fd, bool &into)
{
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
			set_tid_size, cgroup;
	} args = {(flags & ~0xffUL) | 0x200000000ULL /* CLONE_INTO_CGROUP */, 0, 0, 0, flags & 0xff, 0, 0, 0, 0, 0,
		  uint64_t(cgroup_fd)};
	into = cgroup_fd >= 0;
	if (into) {
		long pid = syscall(SYS_clone3, &args, sizeof args);
		if (pid >= 0 || (errno != ENOSYS && errno != E2BIG && errno != EINVAL))
			return pid;
		into = false;
	}
	return clone_fork(flags);
}

// The digits at the start of s as a number (no sign, no overflow check beyond 64 bits);
// *end, when given, points past them. strtoul's job without musl's scanf machinery.
inline uint64_t leading_number(const char *s, const char **end = nullptr)
{
	uint64_t n = 0;
	for (; *s >= '0' && *s <= '9'; s++)
		n = n * 10 + uint64_t(*s - '0');
	if (end)
		*end = s;
	return n;
}

// realpath(3) by the kernel: the path of what `path` opens (symlinks followed), as
// /proc/self/fd shows it. false when it cannot be opened.
inline bool real_path(const char *path, char (&out)[PATH_MAX])
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return false;
	char link[32];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, out, sizeof out - 1);
	close(fd);
	if (n <= 0 || out[0] != '/')
		return errno = ENOENT, false;
	out[n] = 0;
	return true;
}

// mkdir -p: each missing directory of path made with mode. One call where the parent is
// there (a start's data root, made once).
inline void mkdirs(const char *path, mode_t mode)
{
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return;
	if (errno != ENOENT)
		die_errno("create directory %s", path);
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s", path);
	for (char *s = p + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = 0;
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			die_errno("create directory %s", p);
		if (!(*s = c))
			break;
	}
}

// Credentials and limits by raw syscall: musl's wrappers first synchronise every thread
// (__synccall), which the single-threaded launcher does not need, for 2 KB of the binary.
inline int set_groups(size_t n, const gid_t *groups) { return int(syscall(SYS_setgroups, n, groups)); }
inline int set_gid(gid_t g) { return int(syscall(SYS_setresgid, g, g, g)); }
inline int set_uid(uid_t u) { return int(syscall(SYS_setresuid, u, u, u)); }
inline int set_rlimit(int resource, const rlimit &r) { return int(syscall(SYS_prlimit64, 0, resource, &r, nullptr)); }

// Modes and times by raw syscall too: musl's fchmodat and utimensat carry fallbacks for
// kernels older than the ones openat2 needs anyway. set_times(fd, nullptr, ...) is futimens.
inline int chmod_at(int dir, const char *name, mode_t mode) { return int(syscall(SYS_fchmodat, dir, name, mode)); }
inline int set_times(int dir, const char *name, const timespec t[2], int flags)
{
	return int(syscall(SYS_utimensat, dir, name, t, flags));
}

// Signal disposition back to SIG_DFL, by raw syscall: the launcher never installs a handler
// (it takes signals with sigwaitinfo), so musl's sigaction machinery stays out.
inline void set_action(int sig, void (*handler)(int))
{
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)();
		uint64_t mask;
	} action = {handler, 0, nullptr, 0};
	syscall(SYS_rt_sigaction, sig, &action, nullptr, sizeof action.mask);
}
inline void default_action(int sig) { set_action(sig, SIG_DFL); }

// What a new program starts with: every signal's default action, none blocked.
inline void reset_signals()
{
	for (int sig = 1; sig < _NSIG; sig++)
		default_action(sig);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, nullptr);
}

// Time since the launcher started, for --verbose (the raw syscall: no vDSO lookup code).
inline timespec started;
inline bool verbose = false;

inline long elapsed_us()
{
	timespec now;
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &now);
	return (now.tv_sec - started.tv_sec) * 1000000L + (now.tv_nsec - started.tv_nsec) / 1000;
}

[[gnu::format(printf, 1, 2)]] inline void step(const char *fmt, ...)
{
	if (!verbose)
		return;
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	long us = elapsed_us();
	dprintf(2, "launcher: %4ld.%03ld ms  %s\n", us / 1000, us % 1000, line);
}

} // namespace sys
