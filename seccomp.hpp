// seccomp.hpp: seccomp profiles compiled to classic BPF for x86_64. The input is docker's
// profile format or the OCI runtime spec's `linux.seccomp` object; docker's default
// profile is built in as a table of names resolved at compile time. Parsing and
// compiling are pure (bytes in, a program out, a one-line reason when the profile is
// wrong); load() is the one syscall.
//
// The program: the architecture (x86_64 alone; x32 numbers and i386 calls are refused),
// then a binary search over intervals of syscall numbers that share an outcome, so a
// syscall costs about log2(intervals) jumps instead of one per named syscall. Outcomes
// are a return, or a block of argument checks for the few syscalls that have them.
#pragma once
#include <cerrno>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string_view>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <vector>

#include "json.hpp"
#include "security.hpp"

#if !defined(__x86_64__)
#error "seccomp.hpp knows x86_64's syscall numbers only"
#endif

namespace seccomp {

// ---- Syscall names (x86_64) ----------------------------------------------------------------

struct syscall_name {
	const char *name;
	uint16_t nr;
};

// Every __NR_ of the build's kernel headers (the Makefile makes the list from
// build/uapi/asm/unistd_64.h).
constexpr syscall_name header_names[] = {
#include "build/syscalls_x86_64.inc"
};

// Newer than the headers of Debian 12 (Linux 6.1): numbers from the kernel's
// arch/x86/entry/syscalls/syscall_64.tbl, up to Linux 6.18. A name the headers know
// already is taken from them.
constexpr syscall_name newer_names[] = {
	{"uretprobe", 335},         {"cachestat", 451},         {"fchmodat2", 452},     {"map_shadow_stack", 453},
	{"futex_wake", 454},        {"futex_wait", 455},        {"futex_requeue", 456}, {"statmount", 457},
	{"listmount", 458},         {"lsm_get_self_attr", 459}, {"lsm_set_self_attr", 460},
	{"lsm_list_modules", 461},  {"mseal", 462},             {"setxattrat", 463},    {"getxattrat", 464},
	{"listxattrat", 465},       {"removexattrat", 466},     {"open_tree_attr", 467},
	{"file_getattr", 468},      {"file_setattr", 469},
};

constexpr size_t max_nr = 511; // numbers above are never named (x86_64 has 470)

constexpr int compare_names(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return int(uint8_t(*a)) - int(uint8_t(*b));
}

// Which of newer_names the headers lack.
constexpr auto newer_missing = [] {
	struct {
		bool v[std::size(newer_names)];
	} r{};
	for (size_t i = 0; i < std::size(newer_names); i++) {
		r.v[i] = true;
		for (const syscall_name &h : header_names)
			if (compare_names(h.name, newer_names[i].name) == 0)
				r.v[i] = false;
	}
	return r;
}();

// What the binary keeps of the names (3 KB): the names sorted, each entry a byte of how
// many leading characters it shares with the one before (0 at each new first letter)
// with bit 7 the number's bit 8, a byte of the number's low bits, and the rest of the
// name, its last character's bit 7 set; and where each first letter ('_' to 'z') starts.
constexpr char first_letter = '_', last_letter = 'z';

constexpr size_t all_count = [] {
	size_t n = std::size(header_names);
	for (bool missing : newer_missing.v)
		n += missing;
	return n;
}();

struct sorted_names {
	syscall_name v[all_count];
};

// Sorted one first letter at a time, so that compile-time evaluation stays well inside
// the compilers' step limits.
constexpr sorted_names sort_names()
{
	sorted_names all{};
	size_t count = 0;
	for (char letter = first_letter; letter <= last_letter; letter++) {
		size_t from = count;
		auto take = [&](const syscall_name &s) {
			if (s.name[0] != letter)
				return;
			size_t j = count++;
			for (; j > from && compare_names(s.name, all.v[j - 1].name) < 0; j--)
				all.v[j] = all.v[j - 1];
			all.v[j] = s;
		};
		for (const syscall_name &s : header_names)
			take(s);
		for (size_t i = 0; i < std::size(newer_names); i++)
			if (newer_missing.v[i])
				take(newer_names[i]);
	}
	return all;
}

constexpr sorted_names sorted = sort_names();

// At compile time, by binary search over the sorted names: -1 when x86_64 has none.
constexpr int compile_time_number(std::string_view name)
{
	size_t lo = 0, hi = all_count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		std::string_view m(sorted.v[mid].name);
		if (m == name)
			return sorted.v[mid].nr;
		if (m < name)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

constexpr size_t shared_prefix(std::string_view a, std::string_view b)
{
	size_t p = 0;
	if (a.empty() || b.empty() || a[0] != b[0])
		return 0;
	while (p < a.size() && p < b.size() && a[p] == b[p])
		p++;
	return p;
}

constexpr size_t name_text_size = [] {
	size_t n = 0;
	std::string_view prev;
	for (const syscall_name &s : sorted.v) {
		std::string_view name(s.name);
		n += 2 + name.size() - shared_prefix(prev, name);
		prev = name;
	}
	return n;
}();

struct name_table {
	unsigned char text[name_text_size];
	uint16_t start[last_letter - first_letter + 2];
};

constexpr name_table make_name_table()
{
	name_table t{};
	size_t at = 0;
	char letter = first_letter;
	std::string_view prev;
	for (const syscall_name &s : sorted.v) {
		std::string_view name(s.name);
		while (letter <= name[0])
			t.start[letter++ - first_letter] = uint16_t(at);
		size_t p = shared_prefix(prev, name);
		t.text[at++] = uint8_t(p | (s.nr >> 8) << 7);
		t.text[at++] = uint8_t(s.nr);
		for (size_t i = p; i < name.size(); i++)
			t.text[at++] = uint8_t(name[i] | (i + 1 == name.size() ? 0x80 : 0));
		prev = name;
	}
	while (letter <= last_letter + 1)
		t.start[letter++ - first_letter] = uint16_t(at);
	return t;
}

constexpr name_table names = make_name_table();
static_assert(name_text_size < 65536, "offsets fit 16 bits");
static_assert([] {
	for (const syscall_name &s : sorted.v)
		if (std::string_view(s.name).size() > 31 || s.nr > max_nr)
			return false;
	return true;
}(), "number_of's buffer holds every name; every number fits the tables");

// A syscall's number, or -1 when x86_64 has no such syscall.
constexpr int number_of(std::string_view name)
{
	if (name.empty() || name.size() > 31 || name[0] < first_letter || name[0] > last_letter)
		return -1;
	char buf[32] = {};
	size_t at = names.start[name[0] - first_letter], end = names.start[name[0] - first_letter + 1];
	while (at < end) {
		size_t len = names.text[at] & 0x7f;
		int nr = (names.text[at] >> 7) << 8 | names.text[at + 1];
		at += 2;
		bool last = false;
		while (!last) {
			last = names.text[at] & 0x80;
			buf[len++] = char(names.text[at++] & 0x7f);
		}
		if (std::string_view(buf, len) == name)
			return nr;
	}
	return -1;
}

static_assert(number_of("read") == 0 && number_of("set_mempolicy_home_node") == 450 &&
	      number_of("open_tree_attr") == 467 && number_of("uretprobe") == 335 && number_of("nope") == -1);

// ---- The profile, as the compiler takes it -------------------------------------------------

enum class op : uint8_t { eq, ne, lt, le, gt, ge, masked_eq };

struct compare {
	uint8_t index; // argument 0 to 5
	op how;
	bool low32;    // the kernel reads an int: compare the low 32 bits alone
	uint64_t value, value_two; // masked_eq: (arg & value) == value_two
};

// A rule with arguments: its action when every compare holds.
struct conditional {
	uint16_t nr;
	uint32_t action;
	uint8_t count;
	compare args[6];
};

// A syscall's outcome: its conditional rules in the profile's order, the first that
// holds giving its action; then its unconditional action, if any; then the default.
// Numbers above every one the profile names answer ENOSYS (as runc makes docker's
// filters answer), so a program probing a syscall newer than the profile falls back.
constexpr uint32_t unset = 0xffffffff; // no valid action has every bit

constexpr size_t max_rules = 256; // with arguments; the kernel's 4096 instructions hold about 600

struct profile {
	uint32_t default_action = SECCOMP_RET_ERRNO | EPERM;
	uint32_t unconditional[max_nr + 1];
	conditional rules[max_rules];
	size_t rule_count = 0;
	unsigned flags = 0; // SECCOMP_FILTER_FLAG_*
	profile() { memset(unconditional, 0xff, sizeof unconditional); }
	bool add(const conditional &r)
	{
		if (rule_count == max_rules)
			return false;
		rules[rule_count++] = r;
		return true;
	}
};

struct program {
	std::vector<sock_filter> code;
	unsigned flags = 0; // SECCOMP_FILTER_FLAG_* for seccomp(2)
};

constexpr uint32_t x32_bit = 0x40000000; // __X32_SYSCALL_BIT
constexpr size_t max_instructions = 4096; // BPF_MAXINSNS

// ---- The compiler ----------------------------------------------------------------------------

namespace detail {

constexpr uint32_t arg_low(int i) { return uint32_t(offsetof(seccomp_data, args) + 8 * i); } // little-endian
constexpr uint32_t arg_high(int i) { return arg_low(i) + 4; }

inline bool refuses(uint32_t action)
{
	uint32_t a = action & SECCOMP_RET_ACTION_FULL;
	return a != SECCOMP_RET_ALLOW && a != SECCOMP_RET_LOG && a != SECCOMP_RET_TRACE;
}

struct emitter {
	std::vector<sock_filter> &code;
	size_t fails[12], nfails = 0; // jumps to the end of the current rule, patched there (2 a compare)
	bool fail_on_true[12];

	size_t put(uint16_t c, uint32_t k, uint8_t jt = 0, uint8_t jf = 0)
	{
		code.push_back({c, jt, jf, k});
		return code.size() - 1;
	}
	void load(uint32_t off) { put(BPF_LD | BPF_W | BPF_ABS, off); }
	void jump_fail(uint16_t c, uint32_t k, bool on_true, uint8_t other)
	{
		fail_on_true[nfails] = on_true;
		fails[nfails++] = put(BPF_JMP | c | BPF_K, k, on_true ? 0 : other, on_true ? other : 0);
	}
	// One compare: falls through when it holds, jumps to the rule's end when it does not.
	void check(const compare &c)
	{
		uint32_t vl = uint32_t(c.value), vh = uint32_t(c.value >> 32);
		uint32_t wl = uint32_t(c.value_two), wh = uint32_t(c.value_two >> 32);
		bool wide = !c.low32;
		switch (c.how) {
		case op::eq:
			if (wide)
				load(arg_high(c.index)), jump_fail(BPF_JEQ, vh, false, 0);
			load(arg_low(c.index)), jump_fail(BPF_JEQ, vl, false, 0);
			break;
		case op::ne: // holds when either half differs
			if (wide)
				load(arg_high(c.index)), put(BPF_JMP | BPF_JEQ | BPF_K, vh, 0, 2);
			load(arg_low(c.index)), jump_fail(BPF_JEQ, vl, true, 0);
			break;
		case op::gt:
		case op::ge:
			if (wide) {
				load(arg_high(c.index));
				put(BPF_JMP | BPF_JGT | BPF_K, vh, 3, 0); // high above: holds
				jump_fail(BPF_JEQ, vh, false, 0);         // high below: fails
			}
			load(arg_low(c.index)), jump_fail(c.how == op::gt ? BPF_JGT : BPF_JGE, vl, false, 0);
			break;
		case op::lt:
		case op::le:
			if (wide) {
				load(arg_high(c.index));
				put(BPF_JMP | BPF_JGE | BPF_K, vh, 0, 3); // high below: holds
				jump_fail(BPF_JEQ, vh, false, 0);         // high above: fails
			}
			load(arg_low(c.index)), jump_fail(c.how == op::lt ? BPF_JGE : BPF_JGT, vl, true, 0);
			break;
		case op::masked_eq:
			if (wide) {
				load(arg_high(c.index));
				put(BPF_ALU | BPF_AND | BPF_K, vh);
				jump_fail(BPF_JEQ, wh, false, 0);
			}
			load(arg_low(c.index));
			put(BPF_ALU | BPF_AND | BPF_K, vl);
			jump_fail(BPF_JEQ, wl, false, 0);
			break;
		}
	}
	void rule(const conditional &r)
	{
		nfails = 0;
		for (size_t i = 0; i < r.count; i++)
			check(r.args[i]);
		put(BPF_RET | BPF_K, r.action);
		for (size_t i = 0; i < nfails; i++) { // a rule is at most 6 * 6 + 1 lines: short jumps
			uint8_t off = uint8_t(code.size() - (fails[i] + 1));
			(fail_on_true[i] ? code[fails[i]].jt : code[fails[i]].jf) = off;
		}
	}
};

// Where syscall numbers from `low` on (up to the next interval's) end up: a return, or
// the argument block of syscall `nr`.
struct interval {
	uint32_t low;
	bool block;
	uint32_t value; // the return, or the syscall number
};

inline size_t tree_size(const interval *v, size_t n)
{
	if (n == 1)
		return 1;
	size_t left = tree_size(v, n / 2);
	return 1 + (left > 255) + left + tree_size(v + n / 2, n - n / 2);
}

// A = nr. Each node: nr >= the right half's first number ? right : left. A leaf returns,
// or jumps to its syscall's block: `ja to_block | nr` until the blocks are placed.
constexpr uint32_t to_block = 0x80000000;

inline void tree(std::vector<sock_filter> &code, const interval *v, size_t n)
{
	if (n == 1) {
		code.push_back({uint16_t(v->block ? BPF_JMP | BPF_JA : BPF_RET | BPF_K), 0, 0, v->block ? to_block | v->value : v->value});
		return;
	}
	size_t left = tree_size(v, n / 2);
	if (left > 255) {
		code.push_back({BPF_JMP | BPF_JGE | BPF_K, 0, 1, v[n / 2].low});
		code.push_back({BPF_JMP | BPF_JA, 0, 0, uint32_t(left)});
	} else {
		code.push_back({BPF_JMP | BPF_JGE | BPF_K, uint8_t(left), 0, v[n / 2].low});
	}
	tree(code, v, n / 2);
	tree(code, v + n / 2, n - n / 2);
}

} // namespace detail

// The profile to BPF. false (and a reason) only when the program would exceed what the
// kernel loads.
inline bool emit(const profile &p, program &out, char *err, size_t errlen)
{
	using namespace detail;
	bool has_rules[max_nr + 1] = {};
	int highest = -1;
	for (size_t i = 0; i < p.rule_count; i++)
		has_rules[p.rules[i].nr] = true;
	for (int nr = 0; nr <= int(max_nr); nr++)
		if (p.unconditional[nr] != unset || has_rules[nr])
			highest = nr;
	uint32_t refused = refuses(p.default_action) ? p.default_action : SECCOMP_RET_ERRNO | EPERM;
	uint32_t beyond = refuses(p.default_action) ? SECCOMP_RET_ERRNO | ENOSYS : p.default_action;
	interval spans[max_nr + 3];
	size_t n = 0;
	auto add = [&](uint32_t low, bool block, uint32_t value) {
		if (!n || block || spans[n - 1].block || spans[n - 1].value != value)
			spans[n++] = {low, block, value};
	};
	for (int nr = 0; nr <= highest; nr++)
		add(nr, has_rules[nr], has_rules[nr] ? nr : p.unconditional[nr] != unset ? p.unconditional[nr] : p.default_action);
	add(uint32_t(highest + 1), false, beyond);
	add(x32_bit, false, refused);

	std::vector<sock_filter> &code = out.code;
	code.clear();
	out.flags = p.flags;
	code.push_back({BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(seccomp_data, arch)});
	code.push_back({BPF_JMP | BPF_JEQ | BPF_K, 1, 0, AUDIT_ARCH_X86_64});
	code.push_back({BPF_RET | BPF_K, 0, 0, refused}); // i386 (int 0x80) and any other ABI
	code.push_back({BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(seccomp_data, nr)});
	tree(code, spans, n);
	size_t tree_end = code.size();
	emitter e{code};
	for (int nr = 0; nr <= highest; nr++) {
		if (!has_rules[nr])
			continue;
		for (size_t at = 4; at < tree_end; at++)
			if (code[at].code == (BPF_JMP | BPF_JA) && code[at].k == (to_block | nr))
				code[at].k = uint32_t(code.size() - (at + 1));
		for (size_t i = 0; i < p.rule_count; i++)
			if (p.rules[i].nr == nr)
				e.rule(p.rules[i]);
		e.put(BPF_RET | BPF_K, p.unconditional[nr] != unset ? p.unconditional[nr] : p.default_action);
	}
	if (code.size() > max_instructions) {
		snprintf(err, errlen, "the profile compiles to %zu instructions, more than the kernel's %zu", code.size(), max_instructions);
		return false;
	}
	return true;
}

// ---- Docker's default profile -------------------------------------------------------------

// moby's profiles/seccomp/default.json, read for x86_64 (the names of other
// architectures left out): what it allows, and with which capability. The default
// action is EPERM; syscalls above the highest named (open_tree_attr, file_getattr, ...)
// answer ENOSYS.
enum class when : uint8_t { always, with_cap, without_cap };

struct group {
	when w;
	uint8_t cap;
	const char *names;
	uint32_t action = SECCOMP_RET_ALLOW;
};

constexpr group docker_groups[] = {
	{when::always, 0,
	 "accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown clock_adjtime "
	 "clock_getres clock_gettime clock_nanosleep close close_range connect copy_file_range creat dup dup2 dup3 "
	 "epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd "
	 "eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64 fallocate fanotify_mark fchdir fchmod "
	 "fchmodat fchown fchownat fcntl fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat "
	 "fstatfs fsync ftruncate futex futimesat getcpu getcwd getdents "
	 "getdents64 getegid geteuid getgid getgroups getitimer getpeername getpgid getpgrp getpid getppid getpriority "
	 "getrandom getresgid getresuid getrlimit get_robust_list getrusage getsid getsockname getsockopt get_thread_area "
	 "gettid gettimeofday getuid getxattr inotify_add_watch inotify_init inotify_init1 inotify_rm_watch "
	 "io_cancel ioctl io_destroy io_getevents io_pgetevents ioprio_get ioprio_set io_setup io_submit kill "
	 "landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lgetxattr link linkat listen "
	 "listxattr llistxattr lremovexattr lseek lsetxattr lstat madvise membarrier "
	 "memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mprotect mq_getsetattr "
	 "mq_notify mq_open mq_timedreceive mq_timedsend mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock "
	 "munlockall munmap name_to_handle_at nanosleep newfstatat open openat openat2 pause pidfd_open pidfd_send_signal "
	 "pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll prctl pread64 preadv preadv2 prlimit64 "
	 "process_mrelease pselect6 pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recvfrom recvmmsg "
	 "recvmsg remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir rseq "
	 "rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait "
	 "rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min "
	 "sched_getscheduler sched_rr_get_interval sched_setaffinity sched_setattr sched_setparam sched_setscheduler "
	 "sched_yield seccomp select semctl semget semop semtimedop sendfile sendmmsg sendmsg sendto setfsgid setfsuid "
	 "setgid setgroups setitimer setpgid setpriority setregid setresgid setresuid setreuid setrlimit set_robust_list "
	 "setsid setsockopt set_thread_area set_tid_address setuid setxattr shmat shmctl shmdt shmget shutdown "
	 "sigaltstack signalfd signalfd4 socketpair splice stat statfs statx symlink symlinkat sync "
	 "sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime "
	 "timer_settime timerfd_create timerfd_gettime timerfd_settime times tkill truncate umask uname unlink unlinkat "
	 "uretprobe utime utimensat utimes vfork vmsplice wait4 waitid write writev"},
	{when::always, 0, "process_vm_readv process_vm_writev ptrace"}, // minKernel 4.8: the kernel checks ptrace access
	{when::always, 0, "arch_prctl modify_ldt"}, // amd64
	{when::with_cap, CAP_DAC_READ_SEARCH, "open_by_handle_at"},
	{when::with_cap, CAP_SYS_ADMIN,
	 "bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie lsm_get_self_attr lsm_list_modules "
	 "lsm_set_self_attr mount mount_setattr move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname "
	 "sethostname setns syslog umount2 unshare"},
	{when::with_cap, CAP_SYS_BOOT, "reboot"},
	{when::with_cap, CAP_SYS_CHROOT, "chroot"},
	{when::with_cap, CAP_SYS_MODULE, "delete_module init_module finit_module"},
	{when::with_cap, CAP_SYS_PACCT, "acct"},
	{when::with_cap, CAP_SYS_PTRACE, "kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace"},
	{when::with_cap, CAP_SYS_RAWIO, "iopl ioperm"},
	{when::with_cap, CAP_SYS_TIME, "settimeofday clock_settime"},
	{when::with_cap, CAP_SYS_TTY_CONFIG, "vhangup"},
	{when::with_cap, CAP_SYS_NICE, "get_mempolicy mbind set_mempolicy set_mempolicy_home_node"},
	{when::with_cap, CAP_SYSLOG, "syslog"},
	{when::with_cap, CAP_BPF, "bpf"},
	{when::with_cap, CAP_PERFMON, "perf_event_open"},
	// clone3's flags live in memory BPF cannot read: ENOSYS, so libcs fall back to clone,
	// whose flags the rule below checks.
	{when::without_cap, CAP_SYS_ADMIN, "clone3", SECCOMP_RET_ERRNO | ENOSYS},
	// The newest syscalls, which moby's latest profile allows and the docker of this
	// machine's engines (Debian's 20.10, with runc) answers ENOSYS, as numbers above its
	// profile's highest: refused as that docker refuses them (issue 18), ENOSYS so that a
	// libc falls back to the older call (fchmodat2 to fchmodat, futex_waitv to futex).
	{when::always, 0, "cachestat fchmodat2 futex_requeue futex_wait futex_waitv futex_wake getxattrat listmount "
			  "listxattrat map_shadow_stack mseal removexattrat setxattrat statmount", SECCOMP_RET_ERRNO | ENOSYS},
};

// The rules with an argument, one compare each, in the order they are tried. The
// kernel reads each of these arguments as an int, so the low 32 bits are compared
// (docker's 64-bit compares let socket(1 << 32 | AF_VSOCK) through).
struct arg_rule {
	const char *name;
	when w;
	uint8_t cap;
	uint32_t action;
	compare c;
};

constexpr uint32_t clone_new_flags = 0x7e020000; // CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
constexpr uint32_t tiocsti = 0x5412;             // TIOCSTI: push input into a terminal (ours, not docker's)
constexpr uint32_t ok = SECCOMP_RET_ALLOW;

constexpr arg_rule docker_arg_rules[] = {
	{"ioctl", when::always, 0, SECCOMP_RET_ERRNO | EPERM, {1, op::eq, true, tiocsti, 0}},
	{"socket", when::always, 0, ok, {0, op::lt, true, 38, 0}}, // AF_ALG (38) and AF_VSOCK (40) refused:
	{"socket", when::always, 0, ok, {0, op::eq, true, 39, 0}}, // the kernel's crypto API, and vsock,
	{"socket", when::always, 0, ok, {0, op::gt, true, 40, 0}}, // which no namespace confines
	{"personality", when::always, 0, ok, {0, op::eq, true, 0, 0}},          // PER_LINUX
	{"personality", when::always, 0, ok, {0, op::eq, true, 8, 0}},          // UNAME26
	{"personality", when::always, 0, ok, {0, op::eq, true, 0x20000, 0}},    // PER_LINUX32
	{"personality", when::always, 0, ok, {0, op::eq, true, 0x20008, 0}},    // PER_LINUX32 | UNAME26
	{"personality", when::always, 0, ok, {0, op::eq, true, 0xffffffff, 0}}, // query
	{"clone", when::without_cap, CAP_SYS_ADMIN, ok, {0, op::masked_eq, true, clone_new_flags, 0}},
};

// Each name of the groups, as its number, at compile time: a name x86_64 lacks fails the
// build.
void unknown_syscall_name(); // never defined: calling it stops constant evaluation

constexpr size_t count_words(std::string_view s)
{
	size_t n = 0;
	for (size_t i = 0; i < s.size(); i++)
		n += s[i] != ' ' && (i == 0 || s[i - 1] == ' ');
	return n;
}

// The groups always allowed become one bitmap (64 bytes for some 340 names); the others
// lists of numbers.
constexpr bool in_bitmap(const group &g) { return g.w == when::always && g.action == SECCOMP_RET_ALLOW; }

constexpr size_t group_words = [] {
	size_t n = 0;
	for (const group &g : docker_groups)
		n += in_bitmap(g) ? 0 : count_words(g.names);
	return n;
}();

struct resolved_groups {
	uint64_t always[(max_nr + 1) / 64];
	uint16_t nr[group_words];
	uint16_t count[std::size(docker_groups)];
	uint16_t arg_nr[std::size(docker_arg_rules)];
};

constexpr resolved_groups resolve_groups()
{
	resolved_groups r{};
	size_t k = 0;
	for (size_t g = 0; g < std::size(docker_groups); g++) {
		std::string_view s(docker_groups[g].names);
		while (!s.empty()) {
			size_t sp = s.find(' ');
			std::string_view word = s.substr(0, sp);
			s.remove_prefix(sp == s.npos ? s.size() : sp + 1);
			if (word.empty())
				continue;
			int nr = compile_time_number(word);
			if (nr < 0)
				unknown_syscall_name();
			if (in_bitmap(docker_groups[g])) {
				r.always[nr / 64] |= uint64_t(1) << nr % 64;
			} else {
				r.nr[k++] = uint16_t(nr);
				r.count[g]++;
			}
		}
	}
	for (size_t i = 0; i < std::size(docker_arg_rules); i++) {
		int nr = compile_time_number(docker_arg_rules[i].name);
		if (nr < 0)
			unknown_syscall_name();
		r.arg_nr[i] = uint16_t(nr);
	}
	return r;
}

constexpr resolved_groups docker_numbers = resolve_groups();

// What the tables need of each group and rule at run time (their names stay behind).
struct condition {
	when w;
	uint8_t cap;
};
constexpr auto group_conditions = [] {
	struct {
		condition c[std::size(docker_groups)];
		uint32_t action[std::size(docker_groups)];
	} r{};
	for (size_t i = 0; i < std::size(docker_groups); i++)
		r.c[i] = {docker_groups[i].w, docker_groups[i].cap}, r.action[i] = docker_groups[i].action;
	return r;
}();
constexpr auto arg_rule_bodies = [] {
	struct {
		condition c[std::size(docker_arg_rules)];
		uint32_t action[std::size(docker_arg_rules)];
		compare cmp[std::size(docker_arg_rules)];
	} r{};
	for (size_t i = 0; i < std::size(docker_arg_rules); i++)
		r.c[i] = {docker_arg_rules[i].w, docker_arg_rules[i].cap}, r.action[i] = docker_arg_rules[i].action,
		r.cmp[i] = docker_arg_rules[i].c;
	return r;
}();

constexpr bool holds(condition c, uint64_t caps)
{
	bool has = caps >> c.cap & 1;
	return c.w == when::always || (c.w == when::with_cap ? has : !has);
}

inline void docker_profile(uint64_t caps, profile &p)
{
	p.default_action = SECCOMP_RET_ERRNO | EPERM;
	for (size_t nr = 0; nr <= max_nr; nr++)
		if (docker_numbers.always[nr / 64] >> nr % 64 & 1)
			p.unconditional[nr] = SECCOMP_RET_ALLOW;
	const uint16_t *nr = docker_numbers.nr;
	for (size_t g = 0; g < std::size(docker_groups); nr += docker_numbers.count[g++])
		if (holds(group_conditions.c[g], caps))
			for (size_t i = 0; i < docker_numbers.count[g]; i++)
				if (p.unconditional[nr[i]] == unset)
					p.unconditional[nr[i]] = group_conditions.action[g];
	for (size_t i = 0; i < std::size(docker_arg_rules); i++)
		if (holds(arg_rule_bodies.c[i], caps))
			p.add({docker_numbers.arg_nr[i], arg_rule_bodies.action[i], 1, {arg_rule_bodies.cmp[i]}});
}

// ---- Docker's and the OCI format ---------------------------------------------------------

namespace detail {

struct action_name {
	const char *name;
	uint32_t ret; // SECCOMP_RET_* without data
	bool takes_data; // errnoRet: the errno, or the tracer's message
};
constexpr action_name actions[] = {
	{"SCMP_ACT_ALLOW", SECCOMP_RET_ALLOW, false},
	{"SCMP_ACT_ERRNO", SECCOMP_RET_ERRNO, true},
	{"SCMP_ACT_KILL", SECCOMP_RET_KILL_THREAD, false}, // libseccomp's meaning of KILL
	{"SCMP_ACT_KILL_THREAD", SECCOMP_RET_KILL_THREAD, false},
	{"SCMP_ACT_KILL_PROCESS", SECCOMP_RET_KILL_PROCESS, false},
	{"SCMP_ACT_TRAP", SECCOMP_RET_TRAP, false},
	{"SCMP_ACT_TRACE", SECCOMP_RET_TRACE, true},
	{"SCMP_ACT_LOG", SECCOMP_RET_LOG, false},
};

struct op_name {
	const char *name;
	op how;
};
constexpr op_name ops[] = {
	{"SCMP_CMP_EQ", op::eq}, {"SCMP_CMP_NE", op::ne}, {"SCMP_CMP_LT", op::lt}, {"SCMP_CMP_LE", op::le},
	{"SCMP_CMP_GT", op::gt}, {"SCMP_CMP_GE", op::ge}, {"SCMP_CMP_MASKED_EQ", op::masked_eq},
};

struct flag_name {
	const char *name;
	unsigned flag;
};
constexpr flag_name filter_flags[] = {
	{"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
	{"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
	{"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
};

struct reader {
	char *err;
	size_t errlen;
	uint64_t caps;
	uint32_t kernel; // major << 16 | minor; 0: every minKernel is met

	[[gnu::format(printf, 2, 3)]] bool fail(const char *fmt, ...)
	{
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		return false;
	}

	// A string's text, unescaped into buf when it has escapes (longer ones are left raw:
	// no name or action is that long).
	static std::string_view text(json::value v, char (&buf)[64])
	{
		std::string_view raw = v.raw();
		if (raw.find('\\') == raw.npos || raw.size() >= sizeof buf)
			return raw;
		return json::unescape(raw, buf);
	}

	static bool number(json::value v, uint64_t &out)
	{
		if (!v.is(json::kind::number))
			return false;
		std::string_view s = v.raw();
		uint64_t n = 0;
		for (char c : s) {
			if (c < '0' || c > '9' || n > (UINT64_MAX - (c - '0')) / 10)
				return false; // negative, fractional, exponent, or past 64 bits
			n = n * 10 + uint64_t(c - '0');
		}
		out = n;
		return true;
	}

	bool errno_value(json::value v, const char *what, uint32_t &out)
	{
		uint64_t n;
		if (!number(v, n) || n > 4095)
			return fail("%s: expected an errno from 0 to 4095", what);
		out = uint32_t(n);
		return true;
	}

	bool action(json::value v, json::value errno_ret, uint32_t errno_default, const char *what, uint32_t &out)
	{
		char buf[64];
		if (!v.is(json::kind::string))
			return fail("%s: expected an action such as SCMP_ACT_ERRNO", what);
		std::string_view name = text(v, buf);
		if (name == "SCMP_ACT_NOTIFY")
			return fail("%s: SCMP_ACT_NOTIFY is not supported (no seccomp agent)", what);
		for (const action_name &a : actions)
			if (name == a.name) {
				uint32_t data = a.ret == SECCOMP_RET_ERRNO ? errno_default : 0;
				if (a.takes_data && errno_ret && !errno_ret.is(json::kind::null) && !errno_value(errno_ret, what, data))
					return false;
				out = a.ret | data;
				return true;
			}
		return fail("%s: unknown action %.*s", what, int(name.size() > 40 ? 40 : name.size()), name.data());
	}

	// docker's includes and excludes: capabilities (all needed / any excludes),
	// architectures (docker's names: amd64 is ours), the kernel version.
	bool applies(json::value inc, json::value exc, const char *what, bool &yes)
	{
		yes = true;
		for (bool including : {true, false}) {
			json::value f = including ? inc : exc;
			if (!f || f.is(json::kind::null))
				continue;
			if (!f.is(json::kind::object))
				return fail("%s: includes and excludes are objects", what);
			json::value caps_v = f["caps"], arches = f["arches"], min_kernel = f["minKernel"];
			bool bad = false;
			bool any_cap = false, all_caps = true;
			caps_v.each([&](json::value c) {
				char buf[64];
				if (!c.is(json::kind::string)) {
					bad = true;
					return;
				}
				uint64_t m = security::cap_mask(text(c, buf));
				bool has = m && m != security::all_caps && (caps & m) == m;
				any_cap |= has;
				all_caps &= has;
			});
			bool arch = false, listed = false;
			arches.each([&](json::value a) {
				char buf[64];
				if (!a.is(json::kind::string)) {
					bad = true;
					return;
				}
				listed = true;
				arch |= text(a, buf) == "amd64";
			});
			if (bad || (caps_v && !caps_v.is(json::kind::array) && !caps_v.is(json::kind::null)) ||
			    (arches && !arches.is(json::kind::array) && !arches.is(json::kind::null)))
				return fail("%s: caps and arches are lists of strings", what);
			if (including) {
				if (caps_v.size() && !all_caps)
					yes = false;
				if (listed && !arch)
					yes = false;
				if (min_kernel && !min_kernel.is(json::kind::null)) {
					uint32_t v;
					if (!kernel_version_of(min_kernel, v))
						return fail("%s: minKernel: expected a version such as \"4.8\"", what);
					if (kernel && kernel < v)
						yes = false;
				}
			} else if (any_cap || arch) {
				yes = false;
			}
		}
		return true;
	}

	static bool kernel_version_of(json::value v, uint32_t &out)
	{
		if (!v.is(json::kind::string))
			return false;
		std::string_view s = v.raw();
		uint32_t part[2] = {0, 0};
		size_t k = 0, digits = 0;
		for (char c : s) {
			if (c == '.' && digits && k == 0) {
				k = 1, digits = 0;
			} else if (c >= '0' && c <= '9' && digits < 5) {
				part[k] = part[k] * 10 + uint32_t(c - '0'), digits++;
			} else {
				return false;
			}
		}
		if (!digits)
			return false;
		out = part[0] << 16 | (part[1] > 0xffff ? 0xffff : part[1]);
		return true;
	}

	bool arg(json::value a, const char *what, compare &c)
	{
		uint64_t index, value = 0, value_two = 0;
		char buf[64];
		if (!a.is(json::kind::object))
			return fail("%s: expected an object {index, value, valueTwo, op}", what);
		if (!number(a["index"], index) || index > 5)
			return fail("%s: index: expected 0 to 5", what);
		if (!number(a["value"], value))
			return fail("%s: value: expected an unsigned 64-bit number", what);
		json::value two = a["valueTwo"];
		if (two && !two.is(json::kind::null) && !number(two, value_two))
			return fail("%s: valueTwo: expected an unsigned 64-bit number", what);
		json::value o = a["op"];
		if (!o.is(json::kind::string))
			return fail("%s: op: expected an operator such as SCMP_CMP_EQ", what);
		std::string_view name = text(o, buf);
		for (const op_name &n : ops)
			if (name == n.name) {
				c = {uint8_t(index), n.how, false, value, value_two};
				return true;
			}
		return fail("%s: unknown operator %.*s", what, int(name.size() > 40 ? 40 : name.size()), name.data());
	}

	bool syscall_rule(json::value s, size_t i, profile &p)
	{
		char what[48];
		snprintf(what, sizeof what, "syscalls[%zu]", i);
		if (!s.is(json::kind::object))
			return fail("%s: expected an object", what);
		bool yes;
		if (!applies(s["includes"], s["excludes"], what, yes))
			return false;
		uint32_t act;
		if (!action(s["action"], s["errnoRet"], EPERM, what, act)) // defaultErrnoRet is the default's alone, as in runc
			return false;
		conditional r{0, act, 0, {}};
		json::value args = s["args"];
		if (args && !args.is(json::kind::null) && !args.is(json::kind::array))
			return fail("%s: args: expected a list", what);
		if (args.size() > 6)
			return fail("%s: args: at most 6", what);
		bool ok = true;
		size_t k = 0;
		args.each([&](json::value a) {
			char at[64];
			snprintf(at, sizeof at, "%s.args[%zu]", what, k);
			ok = ok && arg(a, at, r.args[k++]);
		});
		if (!ok)
			return false;
		r.count = uint8_t(k);
		json::value names = s["names"], name = s["name"];
		if (names && !names.is(json::kind::null) && !names.is(json::kind::array))
			return fail("%s: names: expected a list of syscall names", what);
		if (!names.size() && !name.is(json::kind::string))
			return fail("%s: no names", what);
		if (!yes)
			return true;
		auto add = [&](json::value n) {
			char buf[64];
			if (!n.is(json::kind::string))
				return fail("%s: names: expected strings", what);
			int nr = number_of(text(n, buf));
			if (nr < 0)
				return true; // another architecture's, or newer than we know: ignored, as runc and crun do
			if (r.count) {
				r.nr = uint16_t(nr);
				if (!p.add(r))
					return fail("%s: more than %zu rules with arguments", what, max_rules);
			} else if (p.unconditional[nr] == unset) {
				p.unconditional[nr] = act;
			}
			return true;
		};
		if (name.is(json::kind::string) && !add(name))
			return false;
		names.each([&](json::value n) { ok = ok && add(n); });
		return ok;
	}

	bool read(std::string_view text_in, profile &p)
	{
		json::result counted = json::parse(text_in, {});
		if (counted.err != json::error::none)
			return fail("%s at byte %zu", json::error_text(counted.err), counted.offset);
		std::vector<json::token> tokens(counted.count);
		json::parse(text_in, tokens);
		json::document doc{text_in, tokens};
		json::value root{&doc, 0};
		if (!root.is(json::kind::object))
			return fail("expected an object with defaultAction and syscalls");
		json::value listener = root["listenerPath"];
		if (listener.is(json::kind::string) && listener.raw().size())
			return fail("listenerPath: SCMP_ACT_NOTIFY is not supported (no seccomp agent)");
		uint32_t errno_default = EPERM;
		json::value der = root["defaultErrnoRet"];
		if (der && !der.is(json::kind::null) && !errno_value(der, "defaultErrnoRet", errno_default))
			return false;
		if (!root["defaultAction"])
			return fail("defaultAction: missing");
		if (!action(root["defaultAction"], der, errno_default, "defaultAction", p.default_action))
			return false;
		json::value flags = root["flags"];
		if (flags && !flags.is(json::kind::null) && !flags.is(json::kind::array))
			return fail("flags: expected a list");
		bool ok = true;
		flags.each([&](json::value f) {
			char buf[64];
			std::string_view name = f.is(json::kind::string) ? text(f, buf) : "";
			for (const flag_name &n : filter_flags)
				if (ok && name == n.name) {
					p.flags |= n.flag;
					return;
				}
			ok = ok && fail("flags: unknown flag %.*s", int(name.size() > 40 ? 40 : name.size()), name.data());
		});
		for (const char *key : {"architectures", "archMap"}) {
			json::value v = root[key];
			if (v && !v.is(json::kind::null) && !v.is(json::kind::array))
				ok = ok && fail("%s: expected a list", key);
		}
		json::value calls = root["syscalls"];
		if (calls && !calls.is(json::kind::null) && !calls.is(json::kind::array))
			return fail("syscalls: expected a list");
		size_t i = 0;
		calls.each([&](json::value s) { ok = ok && syscall_rule(s, i++, p); });
		return ok;
	}
};

} // namespace detail

// A profile (docker's or OCI's format) for a process holding capabilities `caps` (a bit
// per CAP_*, as security.hpp's masks); `kernel` (major << 16 | minor, kernel_version())
// decides docker's minKernel, 0 meets every one. false and a one-line reason in err on a
// bad profile. Architectures are x86_64's alone: x32 and i386 calls are refused whatever
// the profile lists.
inline bool compile(std::string_view profile_json, uint64_t caps, program &out, char *err, size_t errlen, uint32_t kernel = 0)
{
	profile p;
	detail::reader r{err, errlen, caps, kernel};
	return r.read(profile_json, p) && emit(p, out, err, errlen);
}

// The built-in default: docker's default profile for a process holding `caps`, with
// TIOCSTI refused too.
inline program docker_default(uint64_t caps)
{
	profile p;
	docker_profile(caps, p);
	program out;
	char err[8];
	emit(p, out, err, sizeof err); // ~150 instructions: never near the limit
	return out;
}

// The program with the x86_64 syscalls `nrs` allowed before it: what the container's
// PID 1 needs of any profile to go on waiting, reaping and signalling (a profile that
// refused sigtimedwait would leave it spinning). Past the kernel's limit: p as it is.
inline program allowing(const program &p, std::initializer_list<uint16_t> nrs)
{
	const size_t n = nrs.size();
	if (p.code.size() + n + 5 > max_instructions || n > 250)
		return p;
	program out;
	out.flags = p.flags;
	out.code.push_back({BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(seccomp_data, arch)});
	out.code.push_back({BPF_JMP | BPF_JEQ | BPF_K, 0, uint8_t(n + 3), AUDIT_ARCH_X86_64}); // else p decides
	out.code.push_back({BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(seccomp_data, nr)});
	size_t i = 0;
	for (uint16_t nr : nrs)
		out.code.push_back({BPF_JMP | BPF_JEQ | BPF_K, uint8_t(n - i++), 0, nr});
	out.code.push_back({BPF_JMP | BPF_JA, 0, 0, 1}); // none of them: p decides
	out.code.push_back({BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW});
	out.code.insert(out.code.end(), p.code.begin(), p.code.end());
	return out;
}

// major << 16 | minor of the running kernel, for compile().
inline uint32_t kernel_version()
{
	utsname u;
	if (uname(&u) < 0)
		return 0;
	unsigned major = 0, minor = 0;
	const char *s = u.release;
	while (*s >= '0' && *s <= '9')
		major = major * 10 + unsigned(*s++ - '0');
	if (*s == '.')
		while (*++s >= '0' && *s <= '9')
			minor = minor * 10 + unsigned(*s - '0');
	return major << 16 | (minor > 0xffff ? 0xffff : minor);
}

// Installs the program on the calling thread (with no_new_privs or CAP_SYS_ADMIN);
// returns errno or 0.
inline int load(const program &p)
{
	sock_fprog prog = {uint16_t(p.code.size()), const_cast<sock_filter *>(p.code.data())};
	long r = p.flags ? syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p.flags, &prog)
			 : prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
	return r < 0 ? errno : 0;
}

} // namespace seccomp
