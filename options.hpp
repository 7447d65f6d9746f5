// options.hpp: the command line, as `docker run` spells it. Every flag is one row of
// `flags[]`; the usage text is printed from the same table. Parsing is pure: argv in,
// options out, and a one-line reason when the command line is wrong.
#pragma once
#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace options {

enum class id {
	hostname, env, workdir, entrypoint, net, subnet, ip, netns, net_rm, cap_add, cap_drop, privileged,
	seccomp, security_opt, read_only, volume, memory, pids_limit, cpus, ulimit, userns, load_modules, storage, progress, verbose, rm, interactive, help, version,
	user, image, root, no_cache, cache_ls, cache_prune, name, publish, publish_all, dns, dns_search, dns_option,
	network_alias,
	memory_swap, memory_reservation, oom_kill_disable, cpu_shares, cpuset_cpus, cpuset_mems, shm_size, sysctl,
	env_file, add_host, domainname, label, label_file, init, sig_proxy, stop_signal, stop_timeout, platform,
	pid, ipc, uts, cgroupns, tmpfs, mount, volumes_from, device, device_cgroup_rule, gpus, detach, tty, restart
};

struct flag {
	const char *long_name;
	char short_name;     // 0: none
	const char *metavar; // nullptr: takes no value
	id what;
	const char *help;
};

// -v is docker's --volume, so verbose output is --verbose alone.
constexpr flag flags[] = {
	{"hostname", 'h', "NAME", id::hostname, "container host name (default: 12 hex digits of the image id)"},
	{"env", 'e', "KEY[=VALUE]", id::env, "set an environment variable; KEY alone copies the host's value"},
	{"workdir", 'w', "DIR", id::workdir, "working directory inside the container (created if missing)"},
	{"entrypoint", 0, "CMD", id::entrypoint, "replace the image's Entrypoint (and drop its Cmd)"},
	{"user", 'u', "USER[:GROUP]", id::user, "run as this user (a name or uid of the image, with an optional group)"},
	{"image", 0, "REF", id::image, "which image of an archive holding several (also FILE:REF)"},
	{"net", 0, "MODE", id::net, "none (default: only lo), host (the host's network), or a bridge network NAME"},
	{"network", 0, "MODE", id::net, "same as --net"},
	{"subnet", 0, "CIDR", id::subnet, "subnet of a new --net NAME (default: a free /24 of 10.88.0.0/16, else of docker's pools)"},
	{"ip", 0, "ADDR", id::ip, "fixed address on the --net NAME network"},
	{"name", 0, "NAME", id::name, "name of the container; its peers on --net NAME resolve it"},
	{"network-alias", 0, "NAME", id::network_alias, "one more name the container's peers on --net NAME resolve"},
	{"publish", 'p', "[IP:]HOST:CTR[/PROTO]", id::publish, "publish a container port (tcp or udp; ranges HOST1-HOST2:CTR1-CTR2) on the host"},
	{"publish-all", 'P', nullptr, id::publish_all, "publish every port the image exposes (ExposedPorts) on a free host port"},
	{"dns", 0, "ADDR", id::dns, "nameserver of the container's /etc/resolv.conf (replaces the host's)"},
	{"dns-search", 0, "DOMAIN", id::dns_search, "search domain of /etc/resolv.conf (replaces the host's)"},
	{"dns-option", 0, "OPT", id::dns_option, "option of /etc/resolv.conf, e.g. ndots:2 (replaces the host's)"},
	{"netns", 0, "NAME|PATH", id::netns, "join an existing network namespace (ip netns NAME, or a path)"},
	{"net-rm", 0, "NAME", id::net_rm, "remove bridge network NAME, which no container may be using, and exit"},
	{"cap-add", 0, "CAP", id::cap_add, "add a capability to docker's default 14 (a name, or ALL)"},
	{"cap-drop", 0, "CAP", id::cap_drop, "drop a capability (a name, or ALL)"},
	{"privileged", 0, nullptr, id::privileged, "keep every capability; no seccomp filter, masked or read-only paths"},
	{"seccomp", 0, "unconfined", id::seccomp, "run without the seccomp filter"},
	{"security-opt", 0, "OPT", id::security_opt, "seccomp=unconfined, seccomp=PROFILE.json (docker's or OCI's format), no-new-privileges"},
	{"read-only", 0, nullptr, id::read_only, "mount the container's root file system read-only"},
	{"volume", 'v', "HOST:CTR[:ro]", id::volume, "bind mount a host path into the container"},
	{"memory", 'm', "BYTES", id::memory, "memory limit: b, k, m, g (fractions too: 1.5g, 512MiB); exceeding it gets the container killed"},
	{"pids-limit", 0, "N", id::pids_limit, "at most N processes in the container (-1 or 0: unlimited)"},
	{"cpus", 0, "N", id::cpus, "CPU time limit in cores, e.g. 0.5"},
	{"ulimit", 0, "NAME=SOFT[:HARD]", id::ulimit, "resource limit, e.g. nofile=1024:2048"},
	{"userns", 0, nullptr, id::userns, "map container root to an unprivileged host id (automatic when not root); =host: do not"},
	{"storage", 0, "overlay|copy", id::storage, "stack layers with overlayfs (default; copy when the kernel has none) or merge copies"},
	{"data-root", 0, "DIR", id::root, "layer cache directory (default $LAUNCHER_ROOT or /var/lib/launcher)"},
	{"no-cache", 0, nullptr, id::no_cache, "unpack the layers into a tmpfs that dies with the container"},
	{"cache-ls", 0, nullptr, id::cache_ls, "list the cached layers and exit"},
	{"cache-prune", 0, nullptr, id::cache_prune, "remove the cached layers no container is using and exit"},
	{"load-modules", 0, nullptr, id::load_modules, "load overlay, veth, bridge and nf_tables' (with their dependencies) first"},
	{"progress", 0, "auto|plain|none", id::progress, "a line per layer a first start unpacks: on a terminal (auto), always, never"},
	{"verbose", 0, nullptr, id::verbose, "print each step of the start with its time on stderr"},
	{"detach", 'd', nullptr, id::detach, "run in the background, output to the log (launcher logs), and print the id"},
	{"rm", 0, nullptr, id::rm, "remove the container (record, log, writable layer) when it exits"},
	{"interactive", 'i', nullptr, id::interactive, "attach stdin (without it the container reads /dev/null)"},
	{"tty", 't', nullptr, id::tty, "a terminal of the container's own devpts (with -i: the host's in raw mode)"},
	{"restart", 0, "POLICY", id::restart, "no, on-failure[:N], always or unless-stopped: the launcher starts the container again"},
	{"memory-swap", 0, "BYTES", id::memory_swap, "memory and swap together (-1: swap unlimited; default: no swap)"},
	{"memory-reservation", 0, "BYTES", id::memory_reservation, "soft memory limit (v2 memory.low, v1 memory.soft_limit_in_bytes)"},
	{"oom-kill-disable", 0, nullptr, id::oom_kill_disable, "the kernel does not kill for --memory (cgroup v1 only, as docker)"},
	{"cpu-shares", 'c', "N", id::cpu_shares, "relative CPU weight (default 1024)"},
	{"cpuset-cpus", 0, "LIST", id::cpuset_cpus, "CPUs the container may use, e.g. 0-2,4"},
	{"cpuset-mems", 0, "LIST", id::cpuset_mems, "memory nodes the container may use, e.g. 0"},
	{"shm-size", 0, "BYTES", id::shm_size, "size of /dev/shm (default 64m)"},
	{"sysctl", 0, "KEY=VALUE", id::sysctl, "a namespaced kernel parameter: kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*"},
	{"env-file", 0, "FILE", id::env_file, "read variables from FILE, a KEY=VALUE a line (# comments), before -e"},
	{"add-host", 0, "NAME:IP", id::add_host, "a line of /etc/hosts; IP host-gateway: the host's address on the network"},
	{"domainname", 0, "NAME", id::domainname, "NIS domain name inside the container"},
	{"label", 'l', "KEY[=VALUE]", id::label, "a label of the container (shown by inspect)"},
	{"label-file", 0, "FILE", id::label_file, "read labels from FILE, a KEY=VALUE a line"},
	{"init", 0, nullptr, id::init, "accepted for docker compatibility: the launcher is always the container's init"},
	{"sig-proxy", 0, nullptr, id::sig_proxy, "pass the launcher's signals on to the container (default true)"},
	{"stop-signal", 0, "SIGNAL", id::stop_signal, "signal that stops the container (default: the image's StopSignal, else SIGTERM)"},
	{"stop-timeout", 0, "SECONDS", id::stop_timeout, "seconds from the stop signal to SIGKILL (default 10)"},
	{"platform", 0, "OS/ARCH", id::platform, "refuse an image of another platform, e.g. linux/amd64"},
	{"pid", 0, "host|container:NAME", id::pid, "host, or a running container's: share its PID namespace"},
	{"ipc", 0, "MODE", id::ipc, "private (default), shareable (others may join it), host or container:NAME: whose IPC namespace and /dev/shm"},
	{"uts", 0, "host", id::uts, "host: share the host's host name (UTS namespace)"},
	{"cgroupns", 0, "host|private", id::cgroupns, "private (default): a cgroup namespace; host: the host's"},
	{"tmpfs", 0, "DIR[:OPTIONS]", id::tmpfs, "a tmpfs on DIR, e.g. /run:size=64m,mode=1777"},
	{"volumes-from", 0, "CONTAINER[:ro|rw]", id::volumes_from, "every volume and bind mount of a container (running or not), at its targets"},
	{"mount", 0, "type=T,...", id::mount, "bind, volume or tmpfs mount with docker's keys (source, target, readonly, ...)"},
	{"device", 0, "HOST[:CTR][:rwm]", id::device, "a host device inside the container, allowed in its device cgroup"},
	{"device-cgroup-rule", 0, "RULE", id::device_cgroup_rule, "allow devices by rule, e.g. 'c 10:229 rwm' or 'b *:* m'"},
	{"gpus", 0, "GPUS", id::gpus, "GPUs (refused with what is missing: no NVIDIA container toolkit here)"},
	{"help", 0, nullptr, id::help, "show this help"},
	{"version", 0, nullptr, id::version, "show the version"},
};

struct parsed {
	const char *image = nullptr;
	std::span<const char *const> command; // words after the image: replace the image's Cmd
	const char *hostname = nullptr;
	std::vector<const char *> env; // as given: KEY=VALUE or KEY
	const char *workdir = nullptr;
	const char *entrypoint = nullptr; // set (maybe "") when --entrypoint was given
	const char *net = "none", *subnet = nullptr, *ip = nullptr, *netns = nullptr, *net_rm = nullptr;
	std::vector<const char *> cap_add, cap_drop, volumes, ulimits;
	const char *name = nullptr;
	std::vector<const char *> publish, dns, dns_search, dns_option, network_alias;
	bool publish_all = false;
	bool privileged = false, seccomp = true, read_only = false, userns = false, load_modules = false;
	const char *memory = nullptr, *pids_limit = nullptr, *cpus = nullptr, *storage = "overlay", *progress = "auto";
	bool verbose = false, help = false, version = false, no_cache = false, cache_ls = false, cache_prune = false;
	bool rm = false, interactive = false, detach = false, tty = false;
	const char *restart = "no";
	const char *memory_swap = nullptr, *memory_reservation = nullptr, *cpu_shares = nullptr, *cpuset_cpus = nullptr,
		   *cpuset_mems = nullptr, *shm_size = nullptr;
	bool oom_kill_disable = false, sig_proxy = true, no_new_privileges = true, systempaths_unconfined = false;
	std::vector<const char *> sysctls, env_files, add_hosts, labels, label_files, tmpfs, mounts, devices, device_cgroup_rules,
		lsm_options; // --security-opt apparmor=, label=
	const char *domainname = nullptr, *stop_signal = nullptr, *stop_timeout = nullptr, *platform = nullptr, *gpus = nullptr;
	bool pid_host = false, ipc_host = false, uts_host = false, cgroupns_host = false;
	const char *pid_container = nullptr, *ipc_container = nullptr; // --pid, --ipc container:NAME
	const char *ipc_mode = "private";                              // as --ipc gave it (docker's default); the record keeps it
	std::vector<const char *> volumes_from;                        // CONTAINER[:MODES]
	const char *user = nullptr, *image_ref = nullptr, *root = nullptr;
	const char *seccomp_profile = nullptr; // --security-opt seccomp=FILE
	char error[256] = "";
};

[[gnu::format(printf, 2, 3)]] inline bool fail(parsed &o, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	vsnprintf(o.error, sizeof o.error, format, ap);
	va_end(ap);
	return false;
}

inline const flag *find_long(std::string_view name)
{
	for (const flag &f : flags)
		if (name == f.long_name)
			return &f;
	return nullptr;
}

inline const flag *find_short(char c)
{
	for (const flag &f : flags)
		if (f.short_name && f.short_name == c)
			return &f;
	return nullptr;
}

// Edit distance, for "did you mean": names are short, so one row of 64 suffices.
inline size_t distance(std::string_view a, std::string_view b)
{
	size_t row[64];
	if (b.size() >= std::size(row))
		return SIZE_MAX;
	for (size_t j = 0; j <= b.size(); j++)
		row[j] = j;
	for (size_t i = 1; i <= a.size(); i++) {
		size_t diagonal = row[0];
		row[0] = i;
		for (size_t j = 1; j <= b.size(); j++) {
			size_t above = row[j];
			row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
			diagonal = above;
		}
	}
	return row[b.size()];
}

// The known flag nearest an unknown name: one it begins, or a few edits away.
inline const flag *nearest(std::string_view name)
{
	const flag *best = nullptr;
	size_t best_d = std::max<size_t>(2, name.size() / 3) + 1;
	for (const flag &f : flags) {
		std::string_view known(f.long_name);
		size_t d = name.size() >= 3 && known.starts_with(name) ? 1 : distance(name, known);
		if (d < best_d)
			best = &f, best_d = d;
	}
	return best;
}

// Go's strconv.ParseBool, which pflag reads --flag=VALUE of a boolean with.
inline bool parse_bool(std::string_view s, bool &out)
{
	for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"})
		if (s == t)
			return out = true;
	for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"})
		if (s == f)
			return !(out = false);
	return false;
}

// Go's strconv.ParseInt(s, 0, 64), docker's reading of --pids-limit, --cpu-shares, ...:
// a sign, then decimal, 0x hex, 0o or leading-0 octal, or 0b binary.
inline bool parse_int(std::string_view s, int64_t &out)
{
	bool negative = !s.empty() && s[0] == '-';
	if (!s.empty() && (s[0] == '-' || s[0] == '+'))
		s.remove_prefix(1);
	unsigned base = 10;
	if (s.size() > 2 && s[0] == '0' && (s[1] | 0x20) == 'x')
		base = 16, s.remove_prefix(2);
	else if (s.size() > 2 && s[0] == '0' && (s[1] | 0x20) == 'o')
		base = 8, s.remove_prefix(2);
	else if (s.size() > 2 && s[0] == '0' && (s[1] | 0x20) == 'b')
		base = 2, s.remove_prefix(2);
	else if (s.size() > 1 && s[0] == '0')
		base = 8, s.remove_prefix(1);
	uint64_t v = 0;
	for (char c : s) {
		unsigned d = c >= '0' && c <= '9' ? unsigned(c - '0') : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? unsigned((c | 0x20) - 'a' + 10) : 99;
		if (d >= base || v > (uint64_t(INT64_MAX) + 1 - d) / base)
			return false;
		v = v * base + d;
	}
	if (s.empty() || v > uint64_t(INT64_MAX) + negative)
		return false;
	out = negative ? int64_t(0 - v) : int64_t(v);
	return true;
}

// go-units' RAMInBytes, docker's reading of --memory, --shm-size, tmpfs-size, ...: a
// number, fractions allowed, an optional space, then b, or k m g t p (powers of 1024)
// optionally followed by b or ib, in any case. "1.5g", "512MiB", "64 kb", "100".
// On failure `why` is go-units' reason, "invalid size: '...'" or "invalid suffix: '...'".
inline bool parse_size(std::string_view s, int64_t &out, char *why, size_t why_size)
{
	size_t sep = s.find_last_of("0123456789. ");
	if (sep == s.npos) {
		snprintf(why, why_size, "invalid size: '%.*s'", int(s.size()), s.data());
		return false;
	}
	std::string_view num = s.substr(0, s[sep] == ' ' ? sep : sep + 1), suffix = s.substr(sep + 1);
	// The number as Go's ParseFloat reads a decimal one: digits, a point, digits, an
	// exponent; kept exact as digits times a power of ten (no strtod: musl's pulls 6 kB of
	// float scanning into the binary). Digits past the 19th only move the exponent.
	uint64_t digits = 0;
	int exp10 = 0, seen = 0;
	bool point = false;
	size_t i = 0;
	for (; i < num.size(); i++) {
		char c = num[i];
		if (c == '.' && !point) {
			point = true;
		} else if (c >= '0' && c <= '9') {
			seen++;
			if (digits < 1000000000000000000ull)
				digits = digits * 10 + uint64_t(c - '0'), exp10 -= point;
			else
				exp10 += !point;
		} else {
			break;
		}
	}
	if (seen && i < num.size() && (num[i] | 0x20) == 'e') {
		size_t j = i + 1;
		bool negative = j < num.size() && num[j] == '-';
		j += j < num.size() && (num[j] == '-' || num[j] == '+');
		int e = 0;
		size_t from = j;
		for (; j < num.size() && num[j] >= '0' && num[j] <= '9'; j++)
			e = std::min(e * 10 + (num[j] - '0'), 10000);
		if (j > from)
			exp10 += negative ? -e : e, i = j;
	}
	if (!seen || i != num.size()) {
		snprintf(why, why_size, "invalid size: '%.*s'", int(s.size()), s.data());
		return false;
	}
	char lower[4] = "";
	for (size_t k = 0; k < suffix.size() && k < 3; k++)
		lower[k] = char(suffix[k] | 0x20);
	std::string_view sfx(lower, std::min<size_t>(suffix.size(), 3));
	constexpr std::string_view units = "kmgtp";
	size_t unit = sfx.empty() ? 0 : units.find(sfx[0]);
	bool ok = suffix.size() <= 3 && (sfx.empty() || sfx == "b" ||
					 (unit != units.npos && (sfx.size() == 1 || sfx.substr(1) == "b" || sfx.substr(1) == "ib")));
	if (!ok) {
		snprintf(why, why_size, "invalid suffix: '%.*s'", int(suffix.size()), suffix.data());
		return false;
	}
	// digits * 1024^(unit+1) * 10^exp10, truncated as Go's int64(float) does; at most
	// 2^63 - 2^53 or so (docker's float limit, 9.2e18).
	unsigned __int128 size = digits;
	if (!sfx.empty() && sfx != "b")
		size <<= 10 * (unit + 1);
	constexpr unsigned __int128 limit = 9200000000000000000ull;
	for (; exp10 > 0 && size && size < limit; exp10--)
		size *= 10;
	for (; exp10 < 0 && size; exp10++)
		size /= 10;
	if (size >= limit) {
		snprintf(why, why_size, "invalid size: '%.*s'", int(s.size()), s.data());
		return false;
	}
	out = int64_t(size);
	return true;
}

inline void apply(parsed &o, id what, const char *value, bool on)
{
	switch (what) {
	case id::hostname: o.hostname = value; break;
	case id::env: o.env.push_back(value); break;
	case id::workdir: o.workdir = value; break;
	case id::entrypoint: o.entrypoint = value; break;
	case id::net: o.net = value; break;
	case id::subnet: o.subnet = value; break;
	case id::ip: o.ip = value; break;
	case id::netns: o.netns = value; break;
	case id::net_rm: o.net_rm = value; break;
	case id::cap_add: o.cap_add.push_back(value); break;
	case id::cap_drop: o.cap_drop.push_back(value); break;
	case id::privileged: o.privileged = on; break;
	case id::seccomp: o.seccomp = false; break;
	case id::security_opt: // checked by check_value
		if (strcmp(value, "seccomp=unconfined") == 0 || strcmp(value, "seccomp:unconfined") == 0)
			o.seccomp = false, o.seccomp_profile = nullptr;
		else if (strncmp(value, "seccomp", 7) == 0)
			o.seccomp = true, o.seccomp_profile = value + 8;
		else if (strncmp(value, "no-new-privileges", 17) == 0)
			parse_bool(value[17] ? value + 18 : "true", o.no_new_privileges);
		else if (strcmp(value, "systempaths=unconfined") == 0)
			o.systempaths_unconfined = true;
		else
			o.lsm_options.push_back(value);
		break;
	case id::read_only: o.read_only = on; break;
	case id::volume: o.volumes.push_back(value); break;
	case id::memory: o.memory = value; break;
	case id::pids_limit: o.pids_limit = value; break;
	case id::cpus: o.cpus = value; break;
	case id::ulimit: o.ulimits.push_back(value); break;
	case id::userns: o.userns = on; break;
	case id::load_modules: o.load_modules = on; break;
	case id::storage: o.storage = value; break;
	case id::progress: o.progress = value; break;
	case id::verbose: o.verbose = on; break;
	case id::help: o.help = on; break;
	case id::version: o.version = on; break;
	case id::user: o.user = value; break;
	case id::image: o.image_ref = value; break;
	case id::root: o.root = value; break;
	case id::no_cache: o.no_cache = on; break;
	case id::cache_ls: o.cache_ls = on; break;
	case id::cache_prune: o.cache_prune = on; break;
	case id::memory_swap: o.memory_swap = value; break;
	case id::memory_reservation: o.memory_reservation = value; break;
	case id::oom_kill_disable: o.oom_kill_disable = on; break;
	case id::cpu_shares: o.cpu_shares = value; break;
	case id::cpuset_cpus: o.cpuset_cpus = value; break;
	case id::cpuset_mems: o.cpuset_mems = value; break;
	case id::shm_size: o.shm_size = value; break;
	case id::sysctl: o.sysctls.push_back(value); break;
	case id::env_file: o.env_files.push_back(value); break;
	case id::add_host: o.add_hosts.push_back(value); break;
	case id::domainname: o.domainname = value; break;
	case id::label: o.labels.push_back(value); break;
	case id::label_file: o.label_files.push_back(value); break;
	case id::init: break; // the launcher is the init
	case id::sig_proxy: o.sig_proxy = on; break;
	case id::stop_signal: o.stop_signal = value; break;
	case id::stop_timeout: o.stop_timeout = value; break;
	case id::platform: o.platform = value; break;
	case id::pid:
		o.pid_host = strcmp(value, "host") == 0;
		o.pid_container = strncmp(value, "container:", 10) == 0 ? value + 10 : nullptr;
		break;
	case id::ipc:
		o.ipc_host = strcmp(value, "host") == 0;
		o.ipc_container = strncmp(value, "container:", 10) == 0 ? value + 10 : nullptr;
		o.ipc_mode = *value ? value : "private";
		break;
	case id::volumes_from: o.volumes_from.push_back(value); break;
	case id::uts: o.uts_host = strcmp(value, "host") == 0; break;
	case id::cgroupns: o.cgroupns_host = strcmp(value, "host") == 0; break;
	case id::tmpfs: o.tmpfs.push_back(value); break;
	case id::mount: o.mounts.push_back(value); break;
	case id::device: o.devices.push_back(value); break;
	case id::device_cgroup_rule: o.device_cgroup_rules.push_back(value); break;
	case id::gpus: o.gpus = value; break;
	case id::rm: o.rm = on; break;
	case id::interactive: o.interactive = on; break;
	case id::name: o.name = value; break;
	case id::detach: o.detach = on; break;
	case id::tty: o.tty = on; break;
	case id::restart: o.restart = value; break;
	case id::publish: o.publish.push_back(value); break;
	case id::publish_all: o.publish_all = on; break;
	case id::dns: o.dns.push_back(value); break;
	case id::dns_search: o.dns_search.push_back(value); break;
	case id::dns_option: o.dns_option.push_back(value); break;
	case id::network_alias: o.network_alias.push_back(value); break;
	}
}

// A signal as docker reads --stop-signal: a number, or a name with or without SIG, in
// any case, SIGRTMIN+N and SIGRTMAX-N included; 0 when it names none.
inline int signal_number(std::string_view s)
{
	static constexpr std::pair<const char *, int> names[] = {
		{"HUP", 1}, {"INT", 2}, {"QUIT", 3}, {"ILL", 4}, {"TRAP", 5}, {"ABRT", 6}, {"IOT", 6}, {"BUS", 7},
		{"FPE", 8}, {"KILL", 9}, {"USR1", 10}, {"SEGV", 11}, {"USR2", 12}, {"PIPE", 13}, {"ALRM", 14},
		{"TERM", 15}, {"STKFLT", 16}, {"CHLD", 17}, {"CONT", 18}, {"STOP", 19}, {"TSTP", 20}, {"TTIN", 21},
		{"TTOU", 22}, {"URG", 23}, {"XCPU", 24}, {"XFSZ", 25}, {"VTALRM", 26}, {"PROF", 27}, {"WINCH", 28},
		{"IO", 29}, {"POLL", 29}, {"PWR", 30}, {"SYS", 31},
	};
	int64_t n;
	if (!s.empty() && s[0] >= '0' && s[0] <= '9')
		return parse_int(s, n) && n > 0 && n <= 64 ? int(n) : 0;
	char up[16];
	if (s.size() >= sizeof up)
		return 0;
	for (size_t i = 0; i < s.size(); i++)
		up[i] = s[i] >= 'a' && s[i] <= 'z' ? char(s[i] - 32) : s[i];
	std::string_view u(up, s.size());
	if (u.starts_with("SIG"))
		u.remove_prefix(3);
	for (auto [name, number] : names)
		if (u == name)
			return number;
	for (auto [base, sign, name] : {std::tuple{34, 1, "RTMIN+"}, std::tuple{64, -1, "RTMAX-"}})
		if (u.starts_with(name) && parse_int(u.substr(6), n) && n >= 0 && n <= 30)
			return base + sign * int(n);
	if (u == "RTMIN")
		return 34;
	if (u == "RTMAX")
		return 64;
	return 0;
}

// "-m, --memory" or "--memory": how docker names a flag in its errors.
inline const char *spelled(const flag &f)
{
	static char name[48];
	if (f.short_name)
		snprintf(name, sizeof name, "-%c, --%s", f.short_name, f.long_name);
	else
		snprintf(name, sizeof name, "--%s", f.long_name);
	return name;
}

// What a value must look like, flag by flag; docker's words where docker refuses it too.
inline bool check_value(parsed &o, const flag &f, const char *value)
{
	char why[96];
	int64_t n;
	auto refuse = [&](const char *reason) { return fail(o, "invalid argument \"%s\" for \"%s\" flag: %s", value, spelled(f), reason); };
	switch (f.what) {
	case id::env:
		if (value[0] == '=' || !value[0]) {
			snprintf(why, sizeof why, "invalid environment variable: %s", value);
			return refuse(why);
		}
		return true;
	case id::memory:
		if (!parse_size(value, n, why, sizeof why))
			return refuse(why);
		if (n > 0 && n < 6 << 20) // the daemon's minimum
			return fail(o, "bad --memory %s: the minimum memory limit allowed is 6MB", value);
		return true;
	case id::pids_limit:
		return parse_int(value, n) || refuse("expected a whole number (-1: unlimited)");
	case id::storage:
		return strcmp(value, "overlay") == 0 || strcmp(value, "copy") == 0 || fail(o, "flag --storage takes overlay or copy");
	case id::progress:
		return strcmp(value, "auto") == 0 || strcmp(value, "plain") == 0 || strcmp(value, "none") == 0 ||
		       fail(o, "flag --progress takes auto, plain or none");
	case id::seccomp:
		return strcmp(value, "unconfined") == 0 || fail(o, "flag --seccomp takes only \"unconfined\"");
	case id::security_opt: {
		// docker's keys, with '=' or the older ':' (no-new-privileges:true).
		std::string_view v(value), key = v.substr(0, v.find_first_of("=:")), arg = v.substr(std::min(v.size(), key.size() + 1));
		bool b;
		if (key == "seccomp" && !arg.empty() && key.size() < v.size())
			return true;
		if (key == "no-new-privileges" && (key.size() == v.size() || parse_bool(arg, b)))
			return true;
		if (key == "apparmor" && !arg.empty())
			return true;
		// SELinux's: label=disable, nested, or user:, role:, type:, level:, filetype: VALUE
		if (key == "label" && (arg == "disable" || arg == "nested" || arg.starts_with("user:") || arg.starts_with("role:") ||
				       arg.starts_with("type:") || arg.starts_with("level:") || arg.starts_with("filetype:")))
			return true;
		if (key == "systempaths" && arg == "unconfined")
			return true;
		return fail(o, "bad --security-opt %s: expected seccomp=unconfined|PROFILE.json, no-new-privileges[=true|false], "
			       "apparmor=PROFILE, label=..., systempaths=unconfined", value);
	}
	case id::restart:
		if (!strcmp(value, "no") || !strcmp(value, "always") || !strcmp(value, "unless-stopped") || !strcmp(value, "on-failure") ||
		    (!strncmp(value, "on-failure:", 11) && value[11] && strspn(value + 11, "0123456789") == strlen(value + 11)))
			return true;
		return fail(o, "bad --restart %.64s: expected no, on-failure[:N], always or unless-stopped", value);
	case id::name: // docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]*
		if (!*value || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", value[0]) || strlen(value) > 127 ||
		    strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(value))
			return fail(o, "bad --name %.64s: a letter or digit, then letters, digits, '_', '.' or '-'", value);
		return true;
	case id::dns:
		return (*value && strspn(value, "0123456789abcdefABCDEF.:") == strlen(value) && strpbrk(value, ".:")) ||
		       fail(o, "bad --dns %.64s: expected an IP address", value);
	case id::memory_swap:
		if (strcmp(value, "-1") == 0)
			return true;
		[[fallthrough]];
	case id::memory_reservation:
	case id::shm_size:
		return parse_size(value, n, why, sizeof why) || refuse(why);
	case id::cpu_shares:
	case id::stop_timeout:
		return parse_int(value, n) || refuse("expected a whole number");
	case id::sysctl:
		return (strchr(value, '=') && value[0] != '=') || refuse("expected KEY=VALUE");
	case id::add_host: {
		// docker's NAME:IP, and since 25 NAME=IP; IPv6 addresses hold colons, so the first one splits.
		const char *sep = strpbrk(value, ":=");
		return (sep && sep != value && sep[1]) || fail(o, "bad --add-host %s: expected NAME:IP (or NAME:host-gateway)", value);
	}
	case id::label:
		return (value[0] && value[0] != '=') || refuse("invalid label: an empty key");
	case id::pid:
		return strcmp(value, "host") == 0 || strcmp(value, "private") == 0 || strcmp(value, "") == 0 ||
		       (strncmp(value, "container:", 10) == 0 && value[10]) ||
		       fail(o, "bad --pid %s: expected host or container:NAME", value);
	case id::ipc:
		return strcmp(value, "host") == 0 || strcmp(value, "private") == 0 || strcmp(value, "shareable") == 0 || strcmp(value, "") == 0 ||
		       (strncmp(value, "container:", 10) == 0 && value[10]) ||
		       fail(o, "bad --ipc %s: expected private, shareable, host or container:NAME", value);
	case id::volumes_from: {
		// docker's ParseVolumesFrom: CONTAINER[:MODE], MODE ro or rw, z or Z, comma-separated,
		// at most one of each kind; no propagation, no nocopy (the donor's are kept).
		std::string_view v(value), name = v.substr(0, v.find(':')), mode = v.substr(std::min(v.size(), name.size() + 1));
		if (v.empty())
			return fail(o, "bad --volumes-from: volumes-from specification cannot be an empty string");
		if (name.empty())
			return fail(o, "bad --volumes-from %s: no container named", value);
		int rw = 0, label = 0;
		for (size_t start = 0; !mode.empty();) {
			size_t comma = mode.find(',', start);
			std::string_view m = mode.substr(start, comma == mode.npos ? mode.npos : comma - start);
			rw += m == "ro" || m == "rw";
			label += m == "z" || m == "Z";
			if ((m != "ro" && m != "rw" && m != "z" && m != "Z") || rw > 1 || label > 1)
				return fail(o, "bad --volumes-from %s: invalid mode: %.*s", value, int(mode.size()), mode.data());
			if (comma == mode.npos)
				break;
			start = comma + 1;
		}
		return true;
	}
	case id::uts:
		return strcmp(value, "host") == 0 || strcmp(value, "") == 0 || fail(o, "bad --uts %s: expected host", value);
	case id::cgroupns:
		return strcmp(value, "host") == 0 || strcmp(value, "private") == 0 || fail(o, "bad --cgroupns %s: expected host or private", value);
	case id::stop_signal:
		return signal_number(value) > 0 || fail(o, "bad --stop-signal %s: no such signal", value);
	case id::platform:
		return strchr(value, '/') || fail(o, "bad --platform %s: expected OS/ARCH[/VARIANT], e.g. linux/amd64", value);
	default:
		return true;
	}
}

// A flag's value is in hand (or, for a boolean, its word or none): check and apply it.
inline bool take(parsed &o, const flag &f, const char *value)
{
	bool on = true;
	if (!f.metavar && value) {
		if (f.what == id::userns && strcmp(value, "host") == 0)
			on = false; // docker's --userns=host: the host's ids
		else if (!parse_bool(value, on))
			return fail(o, "invalid argument \"%s\" for \"%s\" flag: expected true or false", value, spelled(f));
	}
	if (f.metavar && !check_value(o, f, value))
		return false;
	apply(o, f.what, value, on);
	return true;
}

// Flags come before the image; every word after it belongs to the container's command.
// Spelled as docker's parser (spf13/pflag) reads them: --flag VALUE, --flag=VALUE,
// a boolean --flag or --flag=true|false; short flags combine, -it, -ie A=1, and a short
// flag's value follows it, -eA=1, -e A=1 or -e=A=1 (all three: A=1); -- ends the flags.
inline bool parse(int argc, char *const *argv, parsed &o)
{
	int i = 1;
	for (; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (arg[0] != '-' || arg[1] == 0)
			break;
		if (arg[1] == '-') {
			std::string_view name(arg + 2);
			const char *value = nullptr;
			if (size_t eq = name.find('='); eq != name.npos)
				value = arg + 2 + eq + 1, name = name.substr(0, eq);
			const flag *f = find_long(name);
			if (!f) {
				const flag *near = nearest(name);
				return near ? fail(o, "unknown flag: --%.*s (did you mean --%s?)", int(name.size()), name.data(), near->long_name)
					    : fail(o, "unknown flag: --%.*s (see --help)", int(name.size()), name.data());
			}
			if (f->metavar && !value) {
				if (i + 1 >= argc)
					return fail(o, "flag --%s needs %s", f->long_name, f->metavar);
				value = argv[++i];
			}
			// docker's --userns=host, also as two words (no archive is named "host").
			if (f->what == id::userns && !value && i + 1 < argc && strcmp(argv[i + 1], "host") == 0)
				value = argv[++i];
			if (!take(o, *f, value))
				return false;
			continue;
		}
		for (const char *s = arg + 1; *s; s++) {
			const flag *f = find_short(*s);
			if (!f)
				return fail(o, "unknown shorthand flag: '%c' in %s (see --help)", *s, arg);
			const char *value = nullptr;
			if (s[1] == '=' && s[2]) // -e=A=1 is A=1: pflag drops the '=', of a boolean too (-d=false)
				value = s + 2;
			else if (!f->metavar) // a boolean: the next letter is a flag of its own
				value = nullptr;
			else if (s[1]) // -eA=1: the rest of the word
				value = s + 1;
			else if (i + 1 < argc)
				value = argv[++i];
			else
				return fail(o, "flag -%c needs %s", *s, f->metavar);
			if (!take(o, *f, value))
				return false;
			if (value && value != argv[i]) // it took the rest of this word
				break;
		}
	}
	if (o.help || o.version || o.net_rm || o.cache_ls || o.cache_prune)
		return true;
	if (i >= argc)
		return fail(o, "no image given (see --help)");
	o.image = argv[i++];
	o.command = {const_cast<const char *const *>(argv + i), size_t(argc - i)};
	bool bridge = strcmp(o.net, "none") != 0 && strcmp(o.net, "host") != 0;
	if (o.netns && strcmp(o.net, "none") != 0)
		return fail(o, "--netns and --net %s exclude each other", o.net);
	if ((o.subnet || o.ip) && !bridge)
		return fail(o, "--%s needs --net NAME (a bridge network)", o.subnet ? "subnet" : "ip");
	if ((!o.publish.empty() || o.publish_all || !o.network_alias.empty()) && !bridge)
		return fail(o, "--%s needs --net NAME (a bridge network)",
			    !o.publish.empty() ? "publish" : o.publish_all ? "publish-all" : "network-alias");
	return true;
}

inline void usage(int fd)
{
	dprintf(fd, "%s", "Usage: launcher [run] [FLAGS] ARCHIVE[:REF] [COMMAND [ARG...]]\n"
	      "       launcher ps [-a] [-q] | logs [-f] [--tail N] [-t] [--since T] CONTAINER\n"
	      "       launcher exec [-i] [-t] [-d] [-u USER[:GROUP]] [-e K=V] [-w DIR] CONTAINER COMMAND...\n"
	      "       launcher stop [-t N] CONTAINER... | kill [-s SIG] CONTAINER... | rm [-f] CONTAINER...\n"
	      "       launcher inspect CONTAINER... | images [-q] | system prune [-f]\n"
	      "       launcher --net-rm NAME | --cache-ls | --cache-prune\n"
	      "       launcher network ls | create [--subnet CIDR] NAME | rm NAME... | inspect NAME...\n"
	      "       launcher volume ls | rm NAME... | prune [-a]\n"
	      "Run an image archive (docker save, podman save, skopeo: docker or OCI layout)\nas PID 1 of fresh namespaces.\n\nFlags:\n");
	for (const flag &f : flags) {
		char left[48];
		snprintf(left, sizeof left, "%c%c%s--%s%s%s", f.short_name ? '-' : ' ',
			 f.short_name ? f.short_name : ' ', f.short_name ? ", " : "  ", f.long_name,
			 f.metavar ? " " : "", f.metavar ? f.metavar : "");
		dprintf(fd, "  %-30s %s\n", left, f.help);
	}
	dprintf(fd, "%s", "\nExamples:\n"
			  "  docker save busybox -o busybox.tar         make an archive (or: podman save, skopeo copy docker://busybox docker-archive:busybox.tar)\n"
			  "  launcher busybox.tar echo hi               run a command of the image\n"
			  "  launcher -i -e A=1 -v /srv:/srv:ro busybox.tar sh\n"
			  "  launcher -m 512m --cpus 1.5 --pids-limit 100 app.tar\n"
			  "  launcher -v data:/var/lib/db --tmpfs /run:size=64m db.tar   a named volume, a tmpfs\n"
			  "  launcher --net red -p 8080:80 --add-host db:10.0.0.5 web.tar\n"
			  "  launcher --security-opt seccomp=/usr/share/containers/seccomp.json app.tar\n"
			  "  launcher volume ls | volume rm NAME | volume prune\n");
	dprintf(fd, "%s", "\nExit status: the command's; 128+N if signal N killed it; 125 if the launcher\n"
			  "failed; 126 if the command cannot be executed; 127 if it is not found.\n");
}

} // namespace options
