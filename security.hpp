// security.hpp: what confines a container as docker's defaults do: the capability sets
// (the seccomp filter is seccomp.hpp's), the device policy (a table, and the cgroup device
// program made from it, eBPF), and the masked and read-only paths of /proc and /sys.
// The tables and the programs are data (testable); applying them is a few syscalls each.
#pragma once
#include <cstddef>
#include <cstdint>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <span>
#include <string_view>
#include <sys/types.h>
#include <vector>

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

// The capabilities this process's bounding set still holds (a new user namespace inherits
// it): what --privileged can give, as a host without CAP_SYS_RESOURCE cannot.
inline uint64_t bounding_caps()
{
	uint64_t m = 0;
	for (const capability &c : capabilities)
		if (prctl(PR_CAPBSET_READ, c.number, 0, 0, 0) == 1)
			m |= uint64_t(1) << c.number;
	return m;
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

// What a container's process runs as, whichever front door described it (container.hpp
// from docker's flags, bundle.hpp from config.json): its ids and the five capability sets,
// in the runtime-spec's order, and no_new_privs. confine.hpp takes them, just before exec.
enum cap_set { bounding, effective, inheritable, permitted, ambient };

struct privileges {
	uid_t uid = 0;
	gid_t gid = 0;
	std::vector<gid_t> groups;
	uint64_t caps[5] = {};
	bool no_new_privileges = false;
};

// ---- Devices ------------------------------------------------------------------------------

// docker's device cgroup: moby's default spec (null, zero, urandom, random, tty, console)
// joined by runc's built-in list (mknod of any device; null, random, full, tty, zero,
// urandom, pts, ptmx, and tun, which runc 1.2.0 to 1.2.3 left out and 1.2.4 restored).
// Every other device is refused (EPERM) to open for reading or writing.
constexpr uint8_t dev_m = BPF_DEVCG_ACC_MKNOD;
constexpr uint8_t dev_r = BPF_DEVCG_ACC_READ;
constexpr uint8_t dev_w = BPF_DEVCG_ACC_WRITE;
constexpr uint8_t dev_rwm = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;

// One rule as an OCI config's linux.resources.devices writes it: allow or deny, type 'a'
// (any), 'c' or 'b', major and minor (-1: any), access a subset of rwm.
struct device_rule {
	char type;      // 'a', 'c' or 'b'
	int16_t major;  // -1: any
	int32_t minor;  // -1: any
	uint8_t access; // BPF_DEVCG_ACC_* bits
	bool allow = true;
};
constexpr device_rule device_rules[] = {
	{'c', -1, -1, dev_m},    {'b', -1, -1, dev_m},  // mknod of any device
	{'c', 1, 3, dev_rwm},    {'c', 1, 5, dev_rwm},  // null, zero
	{'c', 1, 7, dev_rwm},    {'c', 1, 8, dev_rwm},  // full, random
	{'c', 1, 9, dev_rwm},    {'c', 5, 0, dev_rwm},  // urandom, tty
	{'c', 5, 1, dev_rwm},    {'c', 5, 2, dev_rwm},  // console, ptmx
	{'c', 136, -1, dev_rwm}, {'c', 10, 200, dev_rwm}, // pts, tun
};

// What the program can say: a type, a major, a minor, each or any; an access subset. The
// kernel's majors have 12 bits, its minors 20 (dev_t).
constexpr bool valid_device_rule(const device_rule &r)
{
	return (r.type == 'a' || r.type == 'c' || r.type == 'b') && r.major >= -1 && r.major < 4096 &&
	       r.minor >= -1 && r.minor < (1 << 20) && r.access != 0 && (r.access & ~dev_rwm) == 0;
}
static_assert([] {
	for (const device_rule &r : device_rules)
		if (!valid_device_rule(r) || r.type == 'a' || (r.major < 0 && r.minor >= 0) || (r.access != dev_m && r.access != dev_rwm))
			return false;
	return true;
}(), "the default table: whole types, majors or devices; mknod only or everything");

constexpr int device_type(const device_rule &r) { return r.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR; }

// The BPF_PROG_TYPE_CGROUP_DEVICE program: the kernel asks it for every mknod and every
// open of a device node by a process of the cgroup; 1 allows, 0 refuses (EPERM). The rules
// are tested last first, and the first that matches decides: the last match wins, as runc
// reads a config's list; none matching refuses. Each rule is a chain of single tests that
// skip to the next rule, on a key made once, then its answer: the verifier checks such a
// chain several times faster than nested tests (about 70 us against 300 here):
//    0  r2 = ctx->access_type                  (access << 16 | type)
//    1  r3 = r2 & 0xffff                       type: BPF_DEVCG_DEV_BLOCK or _CHAR
//    3  r2 >>= 16                              access: BPF_DEVCG_ACC_* bits
//    4  r4 = ctx->major   5  r5 = ctx->minor
//    6  r6 = r3 << 32 | r4 << 20 | r5          the device: type, major, minor (12 + 20 bits)
//   12  r7 = r6 >> 20                          type and major
//   then per rule:  r2 & ~access ? next rule   (when the rule is not rwm)
//                   r3, r7, r6 (through r8, a 64-bit constant), r4 or r5 != the rule's ? next rule
//                   r0 = allow or deny; exit
//   none matched:   r0 = 0; exit               (left out after a rule that matches all)
constexpr uint64_t device_key(int type, int major, int minor)
{
	return uint64_t(type) << 32 | uint64_t(major) << 20 | uint64_t(minor);
}

constexpr size_t device_prologue_length = 14;

// Whether a rule matches every device and access: the rules before it are never asked.
constexpr bool matches_all(const device_rule &r) { return r.type == 'a' && r.major < 0 && r.minor < 0 && r.access == dev_rwm; }

// Writes the program for rules to out, or only counts it (out null); returns its length.
constexpr size_t emit_device_program(std::span<const device_rule> rules, bpf_insn *out)
{
	size_t i = 0;
	auto put = [&](uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
		if (out)
			out[i] = {code, dst, src, off, imm};
		i++;
	};
	auto skip = [&](uint8_t code, uint8_t dst, uint8_t src, size_t target, int32_t imm) {
		put(BPF_JMP | code, dst, src, int16_t(target - (i + 1)), imm); // offsets count from the next line
	};
	auto alu = [&](uint8_t op, uint8_t dst, int32_t imm) { put(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm); };
	auto alu_reg = [&](uint8_t op, uint8_t dst, uint8_t src) { put(BPF_ALU64 | op | BPF_X, dst, src, 0, 0); };
	auto load = [&](uint8_t dst, size_t field) { put(BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_1, int16_t(field), 0); };
	load(BPF_REG_2, offsetof(bpf_cgroup_dev_ctx, access_type));
	alu_reg(BPF_MOV, BPF_REG_3, BPF_REG_2);
	alu(BPF_AND, BPF_REG_3, 0xffff);
	alu(BPF_RSH, BPF_REG_2, 16);
	load(BPF_REG_4, offsetof(bpf_cgroup_dev_ctx, major));
	load(BPF_REG_5, offsetof(bpf_cgroup_dev_ctx, minor));
	alu_reg(BPF_MOV, BPF_REG_6, BPF_REG_3);
	alu(BPF_LSH, BPF_REG_6, 32);
	alu_reg(BPF_MOV, BPF_REG_8, BPF_REG_4);
	alu(BPF_LSH, BPF_REG_8, 20);
	alu_reg(BPF_OR, BPF_REG_6, BPF_REG_8);
	alu_reg(BPF_OR, BPF_REG_6, BPF_REG_5);
	alu_reg(BPF_MOV, BPF_REG_7, BPF_REG_6);
	alu(BPF_RSH, BPF_REG_7, 20);
	for (size_t k = rules.size(); k-- > 0;) {
		const device_rule &r = rules[k];
		bool typed = r.type != 'a', major = r.major >= 0, minor = r.minor >= 0;
		// the tests this rule needs, each one line but the 64-bit constant's two
		size_t tests = (r.access != dev_rwm) +
			       (typed && major && minor ? 3 : typed && major ? 1 : typed + major + minor);
		size_t next = i + tests + 2;
		if (r.access != dev_rwm)
			skip(BPF_JSET | BPF_K, BPF_REG_2, 0, next, dev_rwm & ~r.access);
		if (typed && major && minor) {
			uint64_t key = device_key(device_type(r), r.major, r.minor);
			put(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_8, 0, 0, int32_t(uint32_t(key))); // two lines
			put(0, 0, 0, 0, int32_t(uint32_t(key >> 32)));
			skip(BPF_JNE | BPF_X, BPF_REG_6, BPF_REG_8, next, 0);
		} else if (typed && major) {
			skip(BPF_JNE | BPF_K, BPF_REG_7, 0, next, int32_t(device_key(device_type(r), r.major, 0) >> 20));
		} else {
			if (typed)
				skip(BPF_JNE | BPF_K, BPF_REG_3, 0, next, device_type(r));
			if (major)
				skip(BPF_JNE | BPF_K, BPF_REG_4, 0, next, r.major);
			if (minor)
				skip(BPF_JNE | BPF_K, BPF_REG_5, 0, next, r.minor);
		}
		alu(BPF_MOV, BPF_REG_0, r.allow);
		put(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		if (matches_all(r))
			return i;
	}
	alu(BPF_MOV, BPF_REG_0, 0); // none matched: refuse
	put(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return i;
}

constexpr size_t device_program_length(std::span<const device_rule> rules) { return emit_device_program(rules, nullptr); }

// The default table's program, made at compile time.
struct device_program {
	bpf_insn code[device_program_length(device_rules)];
};

constexpr device_program make_device_program()
{
	device_program p{};
	emit_device_program(device_rules, p.code);
	return p;
}
static_assert(make_device_program().code[device_program_length(device_rules) - 1].code == (BPF_JMP | BPF_EXIT),
	      "emit_device_program counts every line it writes");

// A program from rules known at run time (an OCI config's), at most max_device_rules.
constexpr size_t max_device_rules = 256;
struct device_program_of_rules {
	bpf_insn code[device_prologue_length + 6 * max_device_rules + 2];
	size_t length = 0; // 0: too many rules, or an invalid one
};
static_assert(device_prologue_length == [] {
	bpf_insn code[device_prologue_length + 2];
	return emit_device_program({}, code) - 2;
}(), "device_prologue_length counts the prologue");

inline device_program_of_rules make_device_program(std::span<const device_rule> rules)
{
	device_program_of_rules p;
	bool valid = rules.size() <= max_device_rules;
	for (const device_rule &r : rules)
		valid &= valid_device_rule(r);
	if (valid)
		p.length = emit_device_program(rules, p.code);
	return p;
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
