// security.hpp: what confines a container as docker's defaults do: the capability sets,
// a seccomp filter written as raw BPF, and the masked and read-only paths of /proc and /sys.
// The tables and the filter are data (testable); applying them is a few syscalls each.
#pragma once
#include <cstddef>
#include <cstdint>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <span>
#include <string_view>
#include <sys/syscall.h>

namespace security {

// ---- Capabilities ------------------------------------------------------------------------

struct capability {
	const char *name; // as docker spells it, without CAP_
	int number;
	bool docker_default;
};

constexpr capability capabilities[] = {
	{"CHOWN", CAP_CHOWN, true},
	{"DAC_OVERRIDE", CAP_DAC_OVERRIDE, true},
	{"DAC_READ_SEARCH", CAP_DAC_READ_SEARCH, false},
	{"FOWNER", CAP_FOWNER, true},
	{"FSETID", CAP_FSETID, true},
	{"KILL", CAP_KILL, true},
	{"SETGID", CAP_SETGID, true},
	{"SETUID", CAP_SETUID, true},
	{"SETPCAP", CAP_SETPCAP, true},
	{"LINUX_IMMUTABLE", CAP_LINUX_IMMUTABLE, false},
	{"NET_BIND_SERVICE", CAP_NET_BIND_SERVICE, true},
	{"NET_BROADCAST", CAP_NET_BROADCAST, false},
	{"NET_ADMIN", CAP_NET_ADMIN, false},
	{"NET_RAW", CAP_NET_RAW, true},
	{"IPC_LOCK", CAP_IPC_LOCK, false},
	{"IPC_OWNER", CAP_IPC_OWNER, false},
	{"SYS_MODULE", CAP_SYS_MODULE, false},
	{"SYS_RAWIO", CAP_SYS_RAWIO, false},
	{"SYS_CHROOT", CAP_SYS_CHROOT, true},
	{"SYS_PTRACE", CAP_SYS_PTRACE, false},
	{"SYS_PACCT", CAP_SYS_PACCT, false},
	{"SYS_ADMIN", CAP_SYS_ADMIN, false},
	{"SYS_BOOT", CAP_SYS_BOOT, false},
	{"SYS_NICE", CAP_SYS_NICE, false},
	{"SYS_RESOURCE", CAP_SYS_RESOURCE, false},
	{"SYS_TIME", CAP_SYS_TIME, false},
	{"SYS_TTY_CONFIG", CAP_SYS_TTY_CONFIG, false},
	{"MKNOD", CAP_MKNOD, true},
	{"LEASE", CAP_LEASE, false},
	{"AUDIT_WRITE", CAP_AUDIT_WRITE, true},
	{"AUDIT_CONTROL", CAP_AUDIT_CONTROL, false},
	{"SETFCAP", CAP_SETFCAP, true},
	{"MAC_OVERRIDE", CAP_MAC_OVERRIDE, false},
	{"MAC_ADMIN", CAP_MAC_ADMIN, false},
	{"SYSLOG", CAP_SYSLOG, false},
	{"WAKE_ALARM", CAP_WAKE_ALARM, false},
	{"BLOCK_SUSPEND", CAP_BLOCK_SUSPEND, false},
	{"AUDIT_READ", CAP_AUDIT_READ, false},
	{"PERFMON", CAP_PERFMON, false},
	{"BPF", CAP_BPF, false},
	{"CHECKPOINT_RESTORE", CAP_CHECKPOINT_RESTORE, false},
};
static_assert(std::size(capabilities) == CAP_LAST_CAP + 1, "one row per capability the headers know");

constexpr uint64_t all_caps = (uint64_t(1) << (CAP_LAST_CAP + 1)) - 1;

constexpr uint64_t docker_default_caps()
{
	uint64_t m = 0;
	for (const capability &c : capabilities)
		if (c.docker_default)
			m |= uint64_t(1) << c.number;
	return m;
}

// "NET_ADMIN", "CAP_NET_ADMIN", "net_admin" or "ALL" to a mask; 0 when unknown.
inline uint64_t cap_mask(std::string_view name)
{
	auto upper_eq = [](std::string_view a, std::string_view b) {
		if (a.size() != b.size())
			return false;
		for (size_t i = 0; i < a.size(); i++)
			if ((a[i] >= 'a' && a[i] <= 'z' ? a[i] - 32 : a[i]) != b[i])
				return false;
		return true;
	};
	if (name.size() > 4 && upper_eq(name.substr(0, 4), "CAP_"))
		name.remove_prefix(4);
	if (upper_eq(name, "ALL"))
		return all_caps;
	for (const capability &c : capabilities)
		if (upper_eq(name, c.name))
			return uint64_t(1) << c.number;
	return 0;
}

// docker's rule: --cap-add ALL starts from every capability, --cap-drop ALL from none;
// otherwise the default set; then the added ones join and the dropped ones leave.
struct cap_change {
	bool add;
	uint64_t mask;
};
inline uint64_t effective_caps(std::span<const cap_change> changes)
{
	uint64_t added = 0, dropped = 0;
	for (const cap_change &c : changes)
		(c.add ? added : dropped) |= c.mask;
	if (added == all_caps)
		return all_caps & ~(dropped == all_caps ? 0 : dropped);
	if (dropped == all_caps)
		return added;
	return (docker_default_caps() | added) & ~dropped;
}

// ---- Seccomp -------------------------------------------------------------------------------

// Syscalls docker's default profile refuses to a container without CAP_SYS_ADMIN (and the
// other capabilities they need), answered EPERM. Namespaces may not be made or joined from
// inside: unshare and setns always, clone with a CLONE_NEW* flag.
constexpr int denied_syscalls[] = {
	SYS_acct, SYS_add_key, SYS_bpf, SYS_clock_adjtime, SYS_clock_settime, SYS_create_module,
	SYS_delete_module, SYS_finit_module, SYS_init_module, SYS_get_kernel_syms, SYS_iopl, SYS_ioperm,
	SYS_kcmp, SYS_kexec_file_load, SYS_kexec_load, SYS_keyctl, SYS_request_key, SYS_lookup_dcookie,
	SYS_mount, SYS_umount2, SYS_move_mount, SYS_open_tree, SYS_fsopen, SYS_fsconfig, SYS_fsmount,
	SYS_fspick, SYS_mount_setattr, SYS_name_to_handle_at, SYS_open_by_handle_at, SYS_nfsservctl,
	SYS_perf_event_open, SYS_pivot_root, SYS_process_vm_readv, SYS_process_vm_writev, SYS_quotactl,
	SYS_reboot, SYS_settimeofday, SYS_swapon, SYS_swapoff, SYS_sysfs, SYS__sysctl, SYS_uselib,
	SYS_userfaultfd, SYS_ustat, SYS_syslog, SYS_unshare, SYS_setns, SYS_vhangup, SYS_io_uring_setup,
	SYS_io_uring_enter, SYS_io_uring_register, SYS_fanotify_init, SYS_move_pages, SYS_migrate_pages,
	SYS_afs_syscall, SYS_tuxcall, SYS_security, SYS_vserver,
};

constexpr uint32_t clone_new_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID |
				     CLONE_NEWNET | CLONE_NEWUSER | CLONE_NEWCGROUP;
constexpr uint32_t x32_syscall_bit = 0x40000000;
constexpr uint32_t ret_eperm = SECCOMP_RET_ERRNO | 1;   // EPERM
constexpr uint32_t ret_enosys = SECCOMP_RET_ERRNO | 38; // ENOSYS
constexpr uint32_t af_vsock = 40;      // AF_VSOCK: vsock is not namespaced (docker refuses it too)
constexpr uint32_t tiocsti = 0x5412;   // TIOCSTI: push input into a terminal (defence in depth:
				       // the container never has the caller's as its own)

// The filter, one instruction a line:
//    0  A = arch
//    1  A == x86_64 ? skip 1
//    2  kill                                 (another ABI's numbers mean other syscalls)
//    3  A = nr
//    4  A >= x32 bit ? EPERM                  (the x32 ABI of the same numbers)
//    5  A == denied[i] ? EPERM                (one line per denied syscall)
//  5+n  A == clone3 ? ENOSYS                  (its flags live in memory BPF cannot read;
//                                              libcs then fall back to clone, as with docker)
//  6+n  A == clone ? next : 9+n
//  7+n  A = args[0] (clone's flags)
//  8+n  A & CLONE_NEW* ? EPERM : ALLOW
//  9+n  A == socket ? next : 12+n
// 10+n  A = args[0] (the address family)
// 11+n  A == AF_VSOCK ? EPERM : ALLOW
// 12+n  A == ioctl ? next : ALLOW
// 13+n  A = low word of args[1] (the request: the kernel takes an unsigned int)
// 14+n  A == TIOCSTI ? EPERM : ALLOW
// 15+n  ALLOW   16+n EPERM   17+n ENOSYS
constexpr size_t n_denied = std::size(denied_syscalls);
constexpr size_t filter_length = 18 + n_denied;
constexpr size_t at_allow = 15 + n_denied, at_eperm = 16 + n_denied, at_enosys = 17 + n_denied;

struct filter {
	sock_filter code[filter_length];
};

constexpr filter make_filter()
{
	filter f{};
	size_t i = 0;
	auto to = [&](size_t target) { return uint8_t(target - (i + 1)); }; // jumps count from the next line
	auto put = [&](uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { f.code[i++] = {code, jt, jf, k}; };
	auto arg = [&](int n) { return uint32_t(offsetof(seccomp_data, args) + 8 * n); }; // low word (little-endian)
	put(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch), 0, 0);
	put(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	put(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0);
	put(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr), 0, 0);
	put(BPF_JMP | BPF_JGE | BPF_K, x32_syscall_bit, to(at_eperm), 0);
	for (int nr : denied_syscalls)
		put(BPF_JMP | BPF_JEQ | BPF_K, uint32_t(nr), to(at_eperm), 0);
	put(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, to(at_enosys), 0);
	put(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 2);
	put(BPF_LD | BPF_W | BPF_ABS, arg(0), 0, 0);
	put(BPF_JMP | BPF_JSET | BPF_K, clone_new_flags, to(at_eperm), to(at_allow));
	put(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 2);
	put(BPF_LD | BPF_W | BPF_ABS, arg(0), 0, 0);
	put(BPF_JMP | BPF_JEQ | BPF_K, af_vsock, to(at_eperm), to(at_allow));
	put(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, to(at_allow));
	put(BPF_LD | BPF_W | BPF_ABS, arg(1), 0, 0);
	put(BPF_JMP | BPF_JEQ | BPF_K, tiocsti, to(at_eperm), to(at_allow));
	put(BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
	put(BPF_RET | BPF_K, ret_eperm, 0, 0);
	put(BPF_RET | BPF_K, ret_enosys, 0, 0);
	return f;
}

// ---- Paths --------------------------------------------------------------------------------

// Hidden from the container (docker's masked paths): files get /dev/null bound over them,
// directories an empty read-only tmpfs.
constexpr const char *masked_paths[] = {
	"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/sched_debug", "/proc/scsi", "/proc/timer_list",
	"/proc/timer_stats", "/sys/firmware", "/sys/devices/virtual/powercap",
};

// Bound read-only over themselves (docker's read-only paths).
constexpr const char *readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

} // namespace security
