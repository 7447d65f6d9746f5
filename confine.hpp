// confine.hpp: the privileges of the entrypoint (docker's capabilities, the user,
// no_new_privs, the seccomp filter) and of PID 1 itself once the entrypoint runs.
#pragma once
#include <linux/capability.h>
#include <span>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>

#include "container.hpp"
#include "seccomp.hpp"
#include "sys.hpp"

namespace confine {

using sys::die_errno;

// Capabilities of a process that keeps `keep`: the bounding set loses every other one of
// `held` (by default all; exec as root then yields exactly these), ambient ones are
// cleared. Each drop is a new set of credentials (about 1.2 us here): a caller that knows
// its bounding set already lost some passes what is left as `held`.
inline int drop_bounding(uint64_t keep, uint64_t held = ~uint64_t(0))
{
	for (int cap = 0; cap < 64; cap++)
		if ((held >> cap & 1) && !(keep >> cap & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break; // past the running kernel's last one: they are numbered without gaps
			return errno;
		}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return errno;
	return 0;
}

// The effective, permitted and inheritable sets exactly as `caps` gives them.
inline int set_caps(const uint64_t (&caps)[5])
{
	__user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
	__user_cap_data_struct data[2] = {};
	for (int i = 0; i < 2; i++) {
		data[i].effective = uint32_t(caps[security::effective] >> (32 * i));
		data[i].permitted = uint32_t(caps[security::permitted] >> (32 * i));
		data[i].inheritable = uint32_t(caps[security::inheritable] >> (32 * i));
	}
	return syscall(SYS_capset, &header, data) < 0 ? errno : 0;
}

// An id map written without the helpers denies setgroups: only the primary group remains.
inline int set_ids(const security::privileges &p, bool userns)
{
	// Past 2^31-1 (runc's limit): (uid_t)-1 would be setresuid's "no change" (an OCI process too).
	for (gid_t g : p.groups)
		if (g > 2147483647)
			return EINVAL;
	if (p.uid > 2147483647 || p.gid > 2147483647)
		return EINVAL;
	if (sys::set_groups(p.groups.size(), p.groups.data()) < 0 && !(userns && errno == EPERM))
		return errno;
	if (sys::set_gid(p.gid) < 0 || sys::set_uid(p.uid) < 0)
		return errno;
	return 0;
}

// A container process's privileges, just before exec, whichever front door described it
// (runc's order): the bounding set first (of `held`, what it still has); the ids with the
// capabilities kept across the change; then the sets exactly as described, the ambient
// ones raised; no_new_privs (no setuid binary regains any); and the seccomp filter (made
// on the host side before the clone), which needs no_new_privs or CAP_SYS_ADMIN: without
// the first it is loaded while the second is held.
inline int take_privileges(const security::privileges &p, const seccomp::program *filter, bool userns, uint64_t held = ~uint64_t(0))
{
	if (int err = drop_bounding(p.caps[security::bounding], held))
		return err;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return errno;
	if (filter && !p.no_new_privileges && (errno = seccomp::load(*filter)))
		return errno;
	if (int err = set_ids(p, userns))
		return err;
	if (int err = set_caps(p.caps))
		return err;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return errno;
	// An ambient capability must be inheritable too; runc passes over one that is not.
	for (int cap = 0; cap < 64; cap++)
		if (((p.caps[security::ambient] & p.caps[security::inheritable]) >> cap & 1) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return errno;
	if (p.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return errno;
	if (filter && p.no_new_privileges && (errno = seccomp::load(*filter)))
		return errno;
	return 0;
}

// A container's process that could not exec says so and exits as a shell would: 127 for
// a command not found, 126 for one that cannot run.
[[noreturn]] inline void exec_failed(const char *file, int err)
{
	dprintf(2, "launcher: exec %s: %s\n", file, strerror(err));
	_exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
}

constexpr uint64_t pid1_caps = uint64_t(1) << CAP_KILL;

// PID 1 before it forks the entrypoint: its bounding set narrowed to what either process
// keeps (the entrypoint's capabilities and PID 1's CAP_KILL), so that each drops only the
// rest of its own afterwards. With docker's default filter, which allows everything both
// do from here on (static_assert below), PID 1 also takes the entrypoint's very filter now
// and the fork hands it down: one filter made and loaded instead of two. Returns whether
// it did; a profile of the user's own is loaded by each, PID 1's with its loop allowed.
inline bool before_fork(const container_spec &spec)
{
	if (spec.privileged)
		return false;
	if (int err = drop_bounding(spec.proc.caps[security::bounding] | pid1_caps)) {
		errno = err;
		die_errno("narrow the bounding set");
	}
	if (!spec.has_filter || !spec.default_filter || !spec.proc.no_new_privileges) // no_new_privs is handed down too
		return false;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || (errno = seccomp::load(spec.filter)) != 0)
		die_errno("load the seccomp filter");
	return true;
}

// What PID 1 and the entrypoint call once they hold docker's default filter (before_fork):
// all of them in its group of syscalls allowed whatever the capabilities.
constexpr bool always_allowed(std::string_view names)
{
	for (size_t i = 0; i < names.size();) {
		size_t end = names.find(' ', i);
		if (end == names.npos)
			end = names.size();
		int nr = seccomp::number_of(names.substr(i, end - i));
		if (nr < 0 || !(seccomp::docker_numbers.always[nr / 64] >> nr % 64 & 1))
			return false;
		i = end + 1;
	}
	return true;
}
static_assert(always_allowed("setpgid rt_sigaction rt_sigprocmask close_range prctl setgroups setresgid setresuid "
			     "capset read write close execve exit exit_group rt_sigtimedwait wait4 kill clock_gettime getpid madvise"));

// The entrypoint's privileges as docker gives them (container.hpp's proc): its
// capabilities (or those --cap-add and --cap-drop leave), the user, no_new_privs, the
// seccomp filter (unless it came down from PID 1, `inherited`). --privileged keeps every
// capability and no filter, but still the user (docker's --privileged --user 1000).
inline int entrypoint(const container_spec &spec, bool inherited)
{
	if (spec.privileged)
		return set_ids(spec.proc, spec.userns);
	return take_privileges(spec.proc, spec.has_filter && !inherited ? &spec.filter : nullptr, spec.userns,
			       spec.proc.caps[security::bounding] | pid1_caps);
}

// PID 1 itself once the entrypoint runs. It only waits, reaps and signals from then on,
// so it keeps CAP_KILL alone (to signal an entrypoint of another uid), under the
// container's no_new_privs and the entrypoint's own filter: a process inside that may
// ptrace (--cap-add SYS_PTRACE) finds in PID 1 nothing it lacks itself. The filter lets
// through first the eight syscalls of PID 1's loop, which a --security-opt profile might
// refuse. It holds no host descriptor either.
inline void pid1(const container_spec &spec, bool filtered)
{
	constexpr uint64_t keep = pid1_caps;
	if (spec.privileged)
		return;
	seccomp::program filter;
	if (spec.has_filter && !filtered)
		filter = seccomp::allowing(spec.filter, {SYS_rt_sigtimedwait, SYS_wait4, SYS_kill, SYS_read, SYS_write,
							 SYS_close, SYS_exit_group, SYS_madvise});
	const uint64_t caps[5] = {keep, keep, 0, keep, 0};
	int err = drop_bounding(keep, spec.proc.caps[security::bounding] | keep);
	if (!err)
		err = set_caps(caps);
	if (!err && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		err = errno;
	if (!err && spec.has_filter && !filtered)
		err = seccomp::load(filter);
	if (err) {
		errno = err;
		die_errno("confine the container's PID 1");
	}
}

// runc's CVE-2019-5736: a container process opened /proc/PID/exe of the runtime and
// overwrote the host binary. PID 1 of our containers is the launcher, made non-dumpable
// before any other process of the container exists (container_main), and the kernel then
// lets a process follow its /proc/1/exe only with CAP_SYS_PTRACE in the launcher's user
// namespace (ptrace_may_access), or read its /proc/1/map_files with CAP_SYS_ADMIN or
// CAP_CHECKPOINT_RESTORE there. A container that may hold one of them (--privileged,
// --cap-add) gets a PID 1 run from a sealed copy (below), so that even then /proc/1/exe
// names a memfd no one can write, never the host binary. The re-exec costs a copy of the
// binary and a second exec, about 0.3 ms of a 3 ms start (BENCHMARKS.md): the others skip it.
inline bool pid1_exe_reachable(const container_spec &spec)
{
	constexpr uint64_t reach = uint64_t(1) << CAP_SYS_PTRACE | uint64_t(1) << CAP_SYS_ADMIN |
				   uint64_t(1) << CAP_CHECKPOINT_RESTORE;
	return spec.privileged || (spec.proc.caps[security::bounding] & reach);
}

// Re-executes the launcher from a sealed in-memory copy of itself (a no-op in the copy).
inline void reexec_from_sealed_copy(char **argv)
{
	sys::unique_fd self(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
	if (!self)
		die_errno("open /proc/self/exe");
	if (fcntl(self.get(), F_GET_SEALS) >= 0) {
		prctl(PR_SET_NAME, "launcher"); // exec named us "memfd:launcher"
		return; // already the sealed copy
	}
	struct stat st;
	if (fstat(self.get(), &st) < 0)
		die_errno("stat /proc/self/exe");
	sys::unique_fd copy(memfd_create("launcher", MFD_CLOEXEC | MFD_ALLOW_SEALING));
	if (!copy)
		die_errno("memfd_create");
	for (off_t done = 0; done < st.st_size;) {
		ssize_t n = sendfile(copy.get(), self.get(), &done, size_t(st.st_size - done));
		if (n <= 0)
			die_errno("copy /proc/self/exe");
	}
	if (fcntl(copy.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		die_errno("seal the copy of /proc/self/exe");
	fexecve(copy.get(), argv, environ);
	die_errno("re-execute the sealed copy");
}

// The arguments as the kernel keeps them: /proc/PID/cmdline reads this memory. The
// launcher works on a copy, so that the container's PID 1 can blank the original and no
// process inside reads the host's command line (paths, names) as /proc/1/cmdline.
inline std::span<char> kernel_args;

inline char **copy_arguments(int argc, char **argv)
{
	size_t bytes = 0;
	for (int i = 0; i < argc; i++)
		bytes += strlen(argv[i]) + 1;
	char **copy = static_cast<char **>(malloc(sizeof(char *) * size_t(argc + 1)));
	char *text = static_cast<char *>(malloc(bytes ? bytes : 1));
	if (!copy || !text)
		sys::die("out of memory");
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;
		copy[i] = static_cast<char *>(memcpy(text, argv[i], n));
		text += n;
	}
	copy[argc] = nullptr;
	if (argc > 0)
		kernel_args = {argv[0], bytes};
	return copy;
}

// The environment too: /proc/1/environ shows it to a process that may ptrace PID 1, and
// the host side has read all it needs of it (-e KEY, TMPDIR) before the clone.
inline void blank_kernel_args()
{
	for (char **e = environ; e && *e; e++)
		memset(*e, 0, strlen(*e));
	if (kernel_args.empty())
		return;
	memset(kernel_args.data(), 0, kernel_args.size());
	memcpy(kernel_args.data(), "launcher", std::min(kernel_args.size() - 1, sizeof "launcher" - 1));
}

} // namespace confine
