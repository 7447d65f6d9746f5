// network.hpp: bridge networks, `--net NAME`, as docker's user-defined networks.
//
// A network is a bridge NAME in the launcher's network namespace, its gateway (the subnet's
// first address) on the bridge, and a state directory RUN/net/NAME/ (RUN is $LAUNCHER_RUN
// or /run/launcher) holding `subnet` and one lease file per address in use. A lease is a
// file named by the address, created with O_CREAT and held with flock() for the life of
// its launcher, the owner's pid written inside for people to read: a launcher killed with
// SIGKILL drops the lock with its last descriptor, so the next start reclaims the address,
// and no two live launchers ever hold the same one. `lock` serialises creating and removing
// the network itself; a remover unlinks it, and whoever waited on it starts again.
//
// The launcher uses and removes only a bridge it made: NAME's state directory records a
// subnet, and the link NAME is a bridge (its IFLA_INFO_KIND). Any other link of that name,
// a NIC or another tool's dummy or bridge (whose forwarding may be on), is refused and left
// as it was, and so is a state directory that records nothing. The subnet is recorded
// before the bridge is made: a launcher killed in between leaves state without a bridge,
// which the next start makes again from that subnet, and never a bridge nobody owns.
//
// A network reaches the world through the host: IPv4 forwarding is on (the host's and the
// bridge's), and the network's own nf_tables table `ip launcher-NAME` (nfnetlink.hpp), made
// where missing (again whole with its bridge) and deleted by --net-rm, masquerades what leaves the subnet
// and keeps networks apart: nothing is forwarded onto the bridge from elsewhere but
// replies and published ports (DNAT), so a container on red never reaches blue. The host's
// own firewall, and every table not named launcher-*, is never touched.
#pragma once
#include <climits>
#include <cstdint>
#include <cstdio>
#include <dirent.h>
#include <span>
#include <string_view>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "machine.hpp"
#include "netlink.hpp"
#include "nfnetlink.hpp"
#include "sys.hpp"

namespace network {

// An IPv4 network; addresses in host byte order for arithmetic.
struct cidr {
	uint32_t addr = 0;
	unsigned prefix = 0;
};

constexpr uint32_t mask(unsigned prefix) { return prefix == 0 ? 0 : ~uint32_t(0) << (32 - prefix); }
constexpr uint32_t base(cidr c) { return c.addr & mask(c.prefix); }
constexpr uint32_t broadcast(cidr c) { return base(c) | ~mask(c.prefix); }
constexpr uint32_t gateway(cidr c) { return base(c) + 1; }

// Where a new network's /24 comes from, in turn: podman's 10.88.0.0/16, then docker's
// default pools (172.17.0.0/16 to 172.31.0.0/16, then 192.168.0.0/16), so that a host
// where podman's (or docker's) network holds the first still gets one.
constexpr cidr pools[] = {{10u << 24 | 88u << 16, 16}, {172u << 24 | 17u << 16, 16}, {172u << 24 | 18u << 16, 15},
			  {172u << 24 | 20u << 16, 14}, {172u << 24 | 24u << 16, 13}, {192u << 24 | 168u << 16, 16}};
constexpr const char *pools_text = "10.88.0.0/16, 172.17.0.0/16-172.31.0.0/16 or 192.168.0.0/16";

inline bool parse_ipv4(std::string_view s, uint32_t &out)
{
	out = 0;
	for (int part = 0; part < 4; part++) {
		size_t digits = 0;
		unsigned v = 0;
		while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9' && digits < 3)
			v = v * 10 + unsigned(s[digits++] - '0');
		if (digits == 0 || v > 255 || (digits > 1 && s[0] == '0'))
			return false;
		s.remove_prefix(digits);
		out = out << 8 | v;
		if (part < 3) {
			if (s.empty() || s[0] != '.')
				return false;
			s.remove_prefix(1);
		}
	}
	return s.empty();
}

// "10.88.3.0/24"; the prefix must leave room for a gateway and one container (<= 30).
inline bool parse_cidr(std::string_view s, cidr &out)
{
	size_t slash = s.find('/');
	if (slash == std::string_view::npos || !parse_ipv4(s.substr(0, slash), out.addr))
		return false;
	std::string_view p = s.substr(slash + 1);
	if (p.empty() || p.size() > 2 || p[0] < '0' || p[0] > '9' || (p.size() == 2 && (p[1] < '0' || p[1] > '9')))
		return false;
	out.prefix = unsigned(p[0] - '0') * (p.size() == 2 ? 10 : 1) + (p.size() == 2 ? unsigned(p[1] - '0') : 0);
	if (out.prefix < 8 || out.prefix > 30)
		return false;
	out.addr = base(out);
	return true;
}

inline void format_ipv4(uint32_t a, char (&out)[16])
{
	snprintf(out, sizeof out, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
}

inline bool overlaps(cidr a, cidr b)
{
	unsigned p = a.prefix < b.prefix ? a.prefix : b.prefix;
	return (a.addr & mask(p)) == (b.addr & mask(p));
}

// The first /24 of the pools that overlaps nothing in used (routes, other networks).
inline bool pick_subnet(std::span<const cidr> used, cidr &out)
{
	for (const cidr &pool : pools)
		for (uint32_t i = 0; i < (1u << (24 - pool.prefix)); i++) {
			cidr c = {pool.addr + (i << 8), 24};
			bool free = true;
			for (const cidr &u : used)
				free = free && !overlaps(c, u);
			if (free) {
				out = c;
				return true;
			}
		}
	return false;
}

// Interface names are shorter than IFNAMSIZ; "none" and "host" are modes, not networks.
inline bool valid_name(std::string_view n)
{
	if (n.empty() || n.size() >= IFNAMSIZ || n == "none" || n == "host" || n == "." || n == "..")
		return false;
	for (char c : n)
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return false;
	return true;
}

// ---- State on the host ---------------------------------------------------------------

inline const char *run_dir()
{
	const char *d = getenv("LAUNCHER_RUN");
	return d && *d ? d : "/run/launcher";
}

// A network's state directory, open, with its lock held.
struct state {
	char dir[PATH_MAX];
	const char *name;
	sys::unique_fd dirfd, lock;
};

// Made if missing. A remover unlinks `lock` and the directory while it holds the lock: who
// waited then holds a lock no longer named, or finds the directory gone, and starts again.
inline void open_state(state &st, const char *name)
{
	st.name = name;
	snprintf(st.dir, sizeof st.dir, "%s/net/%s", run_dir(), name);
	char lock_path[PATH_MAX + 8];
	snprintf(lock_path, sizeof lock_path, "%s/lock", st.dir);
	for (;;) {
		sys::mkdirs(st.dir, 0755);
		st.dirfd.reset(open(st.dir, O_PATH | O_DIRECTORY | O_CLOEXEC));
		if (!st.dirfd && errno == ENOENT)
			continue;
		if (!st.dirfd)
			sys::die_errno("open %s", st.dir);
		st.lock.reset(openat(st.dirfd.get(), "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644));
		if (!st.lock && errno == ENOENT) // the directory was removed since we opened it
			continue;
		if (!st.lock || flock(st.lock.get(), LOCK_EX) < 0)
			sys::die_errno("lock network %s", name);
		struct stat held, named;
		if (fstat(st.lock.get(), &held) < 0)
			sys::die_errno("stat %s", lock_path);
		if (stat(lock_path, &named) == 0) {
			if (named.st_dev == held.st_dev && named.st_ino == held.st_ino)
				return;
		} else if (errno != ENOENT) {
			sys::die_errno("stat %s", lock_path);
		}
	}
}

// Undoes open_state where no subnet is recorded: the lock and the directory go, unless the
// directory holds something more (an unreadable subnet), which stays as it is.
inline void forget_state(state &st)
{
	if (unlinkat(st.dirfd.get(), "lock", 0) < 0 && errno != ENOENT)
		sys::die_errno("remove %s/lock", st.dir);
	// Once the lock is unlinked, a launcher that came meanwhile may make a new lock in the
	// directory (not empty) or make and remove one there (gone): both are theirs.
	if (rmdir(st.dir) < 0 && errno != ENOTEMPTY && errno != ENOENT)
		sys::die_errno("remove %s", st.dir);
}

// Removes the state, its record of the subnet first, while holding its lock.
inline void remove_state(state &st)
{
	for (const char *file : {"subnet", "bridge", "hosts", "lock"})
		if (unlinkat(st.dirfd.get(), file, 0) < 0 && errno != ENOENT)
			sys::die_errno("remove %s/%s", st.dir, file);
	if (rmdir(st.dir) < 0)
		sys::die_errno("remove %s", st.dir);
}

inline bool read_subnet(int dirfd, cidr &out)
{
	char buf[32] = {};
	sys::unique_fd fd(openat(dirfd, "subnet", O_RDONLY | O_CLOEXEC));
	ssize_t n = fd ? read(fd.get(), buf, sizeof buf - 1) : -1;
	if (n <= 0)
		return false;
	std::string_view s(buf, size_t(n));
	while (!s.empty() && s.back() == '\n')
		s.remove_suffix(1);
	return parse_cidr(s, out);
}

inline void write_file_at(int dirfd, const char *name, const char *text, const char *what)
{
	char tmp[64];
	snprintf(tmp, sizeof tmp, "%s.%d", name, getpid());
	sys::unique_fd fd(openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
	if (!fd || write(fd.get(), text, strlen(text)) != ssize_t(strlen(text)) || renameat(dirfd, tmp, dirfd, name) < 0)
		sys::die_errno("write %s", what);
}

// Subnets in use: every IPv4 route of this namespace but the default, and every other
// launcher network (its bridge may live in another namespace).
inline size_t used_subnets(netlink::socket &nl, cidr *out, size_t cap)
{
	netlink::batch b;
	netlink::dump_routes(b, "list routes");
	static netlink::replies r;
	r = {};
	const char *what;
	if (int err = nl.run(b, r, &what)) {
		errno = err;
		sys::die_errno("%s", what);
	}
	size_t n = 0;
	for (size_t i = 0; i < r.route_count && n < cap; i++)
		if (r.routes[i].prefix > 0)
			out[n++] = {__builtin_bswap32(r.routes[i].dst), r.routes[i].prefix};
	char nets[PATH_MAX];
	snprintf(nets, sizeof nets, "%s/net", run_dir());
	if (DIR *d = opendir(nets)) {
		while (dirent *e = readdir(d)) {
			if (e->d_name[0] == '.' || n >= cap)
				continue;
			sys::unique_fd sub(openat(dirfd(d), e->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC));
			if (sub && read_subnet(sub.get(), out[n]))
				n++;
		}
		closedir(d);
	}
	return n;
}

inline void run_or_die(netlink::socket &nl, netlink::batch &b, netlink::replies &r)
{
	const char *what;
	if (int err = nl.run(b, r, &what)) {
		errno = err;
		sys::die_errno("%s", what);
	}
}

// Creating a link of a kind the kernel lacks fails with EOPNOTSUPP where there is no
// modprobe (an initramfs): load the kind's module and try once more, with a batch built
// afresh (new sequence numbers: the kernel still answered the first one's later requests).
// Returns 0, or the errno with *what naming the request that failed.
template <class Build> int try_loading(netlink::socket &nl, Build build, netlink::replies &r, const char *module,
				       const char **what)
{
	netlink::batch first;
	build(first);
	int err = nl.run(first, r, what);
	if (err == EOPNOTSUPP && machine::load_module(module)) {
		netlink::batch again;
		build(again);
		r = {};
		err = nl.run(again, r, what);
	}
	return err;
}

template <class Build> void run_loading(netlink::socket &nl, Build build, netlink::replies &r, const char *module)
{
	const char *what;
	if (int err = try_loading(nl, build, r, module, &what)) {
		errno = err;
		sys::die_errno("%s", what);
	}
}

// The link called name in this namespace, if any.
struct link_info {
	bool exists = false;
	uint32_t index = 0, flags = 0;
	char kind[16] = "";
};

inline link_info look_up_link(netlink::socket &nl, const char *name)
{
	char what[64];
	snprintf(what, sizeof what, "look up link %s", name);
	netlink::batch b;
	netlink::get_link(b, name, what);
	netlink::replies r;
	const char *failed;
	int err = nl.run(b, r, &failed);
	if (err == ENODEV)
		return {};
	if (err) {
		errno = err;
		sys::die_errno("%s", what);
	}
	link_info l = {true, r.link_index, r.link_flags, ""};
	memcpy(l.kind, r.link_kind, sizeof l.kind);
	return l;
}

// Which bridge the launcher made for a network: "INDEX NETNS" in the state's `bridge`
// file, the link's index and its network namespace's inode. A bridge of the same name
// made later by another tool, after ours was deleted, differs in one or the other.
struct bridge_record {
	uint32_t index = 0;
	uint64_t netns = 0;
};

inline uint64_t this_netns()
{
	struct stat st;
	if (stat("/proc/self/ns/net", &st) < 0)
		sys::die_errno("stat /proc/self/ns/net");
	return uint64_t(st.st_ino);
}

inline bool read_bridge_record(int dirfd, bridge_record &out)
{
	char text[48] = "";
	sys::unique_fd fd(openat(dirfd, "bridge", O_RDONLY | O_CLOEXEC));
	ssize_t n = fd ? read(fd.get(), text, sizeof text - 1) : -1;
	uint64_t v[2] = {0, 0};
	const char *p = text;
	for (uint64_t &x : v) {
		if (n <= 0 || *p < '0' || *p > '9')
			return false;
		for (; *p >= '0' && *p <= '9'; p++)
			x = x * 10 + uint64_t(*p - '0');
		p += *p == ' ';
	}
	out = {uint32_t(v[0]), v[1]};
	return true;
}

inline void write_bridge_record(int dirfd, uint32_t index)
{
	char text[48];
	snprintf(text, sizeof text, "%u %llu\n", index, (unsigned long long)this_netns());
	write_file_at(dirfd, "bridge", text, "network bridge record");
}

// Dies unless link l, called name, is missing or the bridge of a network whose state
// records a subnet (recorded) and, where the state says which bridge it made (dirfd's
// record; older states have none), that very one.
inline void refuse_foreign(const char *name, bool recorded, const link_info &l, int dirfd = -1)
{
	if (!l.exists)
		return;
	if (!recorded)
		sys::die("network %s: a link of that name exists and was not made by the launcher", name);
	if (strcmp(l.kind, "bridge") != 0)
		sys::die("network %s: the link of that name is not the launcher's bridge (%s%s)", name,
			 l.kind[0] ? "kind " : "no kind", l.kind);
	bridge_record made;
	if (dirfd >= 0 && read_bridge_record(dirfd, made) && (made.index != l.index || made.netns != this_netns()))
		sys::die("network %s: the bridge of that name is not the one the launcher made (index %u, not %u, or "
			 "another network namespace)", name, l.index, made.index);
}

// A new bridge's index. One that cannot be made takes a network recorded just now (fresh)
// with it.
inline uint32_t create_bridge(netlink::socket &nl, state &st, bool fresh)
{
	char what[64], create[64];
	snprintf(what, sizeof what, "look up link %s", st.name);
	snprintf(create, sizeof create, "create bridge %s", st.name);
	netlink::replies r;
	const char *failed;
	if (int err = try_loading(nl, [&](netlink::batch &b) {
		netlink::new_bridge(b, st.name, create);
		netlink::get_link(b, st.name, what);
	}, r, "bridge", &failed)) {
		if (fresh)
			remove_state(st);
		errno = err;
		sys::die_errno("%s", failed);
	}
	return r.link_index;
}

// The gateway address on (again: no error if it is there), and up, last.
inline void finish_bridge(netlink::socket &nl, const char *name, uint32_t index, cidr subnet)
{
	char gw[16], addr_what[64], up[64];
	format_ipv4(gateway(subnet), gw);
	snprintf(addr_what, sizeof addr_what, "add address %s to %s", gw, name);
	snprintf(up, sizeof up, "bring up bridge %s", name);
	netlink::batch c;
	netlink::add_address(c, index, __builtin_bswap32(gateway(subnet)), subnet.prefix, addr_what, true);
	netlink::set_up(c, index, nullptr, true, up);
	netlink::replies r;
	run_or_die(nl, c, r);
}

// Index of the bridge: l, or one created when missing. A bridge is brought up last, so one
// of ours found down may be half made (its launcher was killed, or failed, while making
// it, and forwarding may still be on): it is finished now.
inline uint32_t ensure_bridge(netlink::socket &nl, state &st, const link_info &l, cidr subnet, bool fresh)
{
	if (l.exists && (l.flags & IFF_UP))
		return l.index;
	uint32_t index = l.exists ? l.index : create_bridge(nl, st, fresh);
	finish_bridge(nl, st.name, index, subnet);
	return index;
}

// ---- Routing and NAT ------------------------------------------------------------------------

inline void write_sysctl(const char *path, const char *value, const char *what)
{
	sys::unique_fd fd(open(path, O_WRONLY | O_CLOEXEC));
	if (!fd || write(fd.get(), value, strlen(value)) != ssize_t(strlen(value)))
		sys::die_errno("%s (%s)", what, path);
}

// IPv4 forwarding on, for the host (written only when off: a write that changes it sets
// every link's forwarding) and for the bridge; route_localnet on the bridge, so that a
// connection to 127.0.0.1's published port, turned towards the container by the output
// hook's DNAT, may leave through it (its source masqueraded; the table drops anything
// arriving on the bridge for 127/8).
inline void route_through(const char *name)
{
	char on = '0';
	sys::unique_fd all(open("/proc/sys/net/ipv4/ip_forward", O_RDONLY | O_CLOEXEC));
	if (!all || read(all.get(), &on, 1) != 1)
		sys::die_errno("read /proc/sys/net/ipv4/ip_forward");
	if (on != '1')
		write_sysctl("/proc/sys/net/ipv4/ip_forward", "1", "turn on IPv4 forwarding");
	char path[96];
	for (const char *key : {"forwarding", "route_localnet"}) {
		snprintf(path, sizeof path, "/proc/sys/net/ipv4/conf/%s/%s", name, key);
		write_sysctl(path, "1", "turn on routing through the bridge");
	}
}

inline void table_name(const char *network, char (&out)[32]) { snprintf(out, sizeof out, "launcher-%s", network); }

// The network's table, in one transaction; with replace, made again whole (create, delete,
// create: exactly so, whatever an earlier launcher or a person left of it):
//   postrouting (nat): masquerade from the subnet to anything but the subnet; from the
//                      subnet to the subnet when DNAT turned it there (a container reaching
//                      a peer through a host port, so the reply comes back the same way);
//                      from 127/8 onto the bridge (the host's own 127.0.0.1:PORT)
//   forward (filter):  onto the bridge only replies and DNAT'ed connections from elsewhere
//   prerouting (raw):  nothing for 127/8 from the bridge (route_localnet must not open the
//                      host's loopback services to containers)
inline void build_network_table(netlink::batch &b, const char *name, cidr subnet, bool replace)
{
	char table[32];
	table_name(name, table);
	uint32_t net = __builtin_bswap32(subnet.addr), loopback = __builtin_bswap32(127u << 24);
	nft::batch_begin(b);
	if (replace) {
		nft::new_table(b, table, false, "create the network's nf_tables table");
		nft::del_table(b, table, "delete the network's nf_tables table");
	}
	nft::new_table(b, table, false, "create the network's nf_tables table");
	nft::new_chain(b, table, "postrouting", NF_INET_POST_ROUTING, 100, "nat", "create its postrouting chain (nat)");
	nft::new_chain(b, table, "forward", NF_INET_FORWARD, 0, "filter", "create its forward chain");
	nft::new_chain(b, table, "prerouting", NF_INET_PRE_ROUTING, -300, "filter", "create its prerouting chain");

	size_t r = nft::rule_begin(b, table, "postrouting", "add the masquerade rule");
	nft::match_addr(b, nft::saddr, net, subnet.prefix, true);
	nft::match_addr(b, nft::daddr, net, subnet.prefix, false);
	nft::masquerade(b);
	nft::rule_end(b, r);
	r = nft::rule_begin(b, table, "postrouting", "add the hairpin masquerade rule");
	nft::match_addr(b, nft::saddr, net, subnet.prefix, true);
	nft::match_addr(b, nft::daddr, net, subnet.prefix, true);
	nft::match_ct_bits(b, NFT_CT_STATUS, IPS_DST_NAT);
	nft::masquerade(b);
	nft::rule_end(b, r);
	r = nft::rule_begin(b, table, "postrouting", "add the loopback masquerade rule");
	nft::match_ifname(b, NFT_META_OIFNAME, name, true);
	nft::match_addr(b, nft::saddr, loopback, 8, true);
	nft::masquerade(b);
	nft::rule_end(b, r);

	r = nft::rule_begin(b, table, "forward", "add the replies rule");
	nft::match_ifname(b, NFT_META_OIFNAME, name, true);
	nft::match_ct_bits(b, NFT_CT_STATE, NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED));
	nft::verdict(b, NF_ACCEPT);
	nft::rule_end(b, r);
	r = nft::rule_begin(b, table, "forward", "add the published ports rule");
	nft::match_ifname(b, NFT_META_OIFNAME, name, true);
	nft::match_ct_bits(b, NFT_CT_STATUS, IPS_DST_NAT);
	nft::verdict(b, NF_ACCEPT);
	nft::rule_end(b, r);
	r = nft::rule_begin(b, table, "forward", "add the isolation rule");
	nft::match_ifname(b, NFT_META_OIFNAME, name, true);
	nft::match_ifname(b, NFT_META_IIFNAME, name, false);
	nft::counter(b);
	nft::verdict(b, NF_DROP);
	nft::rule_end(b, r);

	r = nft::rule_begin(b, table, "prerouting", "add the loopback guard rule");
	nft::match_ifname(b, NFT_META_IIFNAME, name, true);
	nft::match_addr(b, nft::daddr, loopback, 8, true);
	nft::verdict(b, NF_DROP);
	nft::rule_end(b, r);
	nft::batch_end(b);
}

// nf_tables, the nat chain type and the expressions of the launcher's rules, as modules
// (crc32c first: libcrc32c, which nf_tables needs, asks the crypto API for it). Where the
// kernel has no modprobe to call (an initramfs) the launcher loads them itself, as it does
// bridge and veth; one built in, or unknown to modules.dep, is left to the kernel.
constexpr const char *nf_modules[] = {"crc32c_generic", "nfnetlink", "nft_chain_nat", "nft_masq", "nft_nat", "nft_ct", "nft_fib_ipv4"};

inline void load_nf_modules()
{
	for (const char *m : nf_modules)
		machine::load_module(m);
}

inline void open_netfilter(netlink::socket &nf)
{
	if (!nf.open(NETLINK_NETFILTER) && errno == EPROTONOSUPPORT) {
		load_nf_modules();
		nf.open(NETLINK_NETFILTER);
	}
	if (!nf.fd())
		sys::die_errno("open nfnetlink socket");
}

// Runs the nf_tables batch build(b) makes. A chain type or expression the kernel has as a
// module it could not load fails the whole transaction with ENOENT (or EOPNOTSUPP): the
// modules are loaded and the batch, built afresh, runs once more.
template <class Build> void run_nf_or_die(netlink::socket &nf, Build build)
{
	static netlink::batch b; // 16 kB: off the stack
	static netlink::replies r;
	const char *what;
	b = {}, r = {};
	build(b);
	int err = nf.run(b, r, &what);
	if (err == ENOENT || err == EOPNOTSUPP) {
		load_nf_modules();
		b = {}, r = {};
		build(b);
		err = nf.run(b, r, &what);
	}
	if (err) {
		errno = err;
		sys::die_errno("%s", what);
	}
}

// The network's table: made again whole where the bridge was made (or finished) just now;
// else made only where it is missing. A transaction is all or nothing, so a table that is
// there is whole; and a start that deletes nothing keeps off the kernel's slow path (the
// socket's release waits for a deletion's deferred destruction, an RCU grace period: 10 ms
// on a busy machine).
inline void install_network_table(const char *name, cidr subnet, bool replace)
{
	netlink::socket nf;
	open_netfilter(nf);
	if (!replace) {
		char table[32];
		table_name(name, table);
		netlink::batch b;
		nft::get_table(b, table, "look up the network's nf_tables table");
		netlink::replies r;
		const char *what;
		if (nf.run(b, r, &what) == 0)
			return;
	}
	run_nf_or_die(nf, [&](netlink::batch &b) { build_network_table(b, name, subnet, replace); });
}

// Deletes the network's table; none there is no error (a network of an older launcher).
inline void remove_network_table(const char *name)
{
	char table[32];
	table_name(name, table);
	netlink::socket nf;
	open_netfilter(nf);
	netlink::batch b;
	nft::batch_begin(b);
	nft::del_table(b, table, "delete the network's nf_tables table");
	nft::batch_end(b);
	netlink::replies r;
	const char *what;
	if (int err = nf.run(b, r, &what); err && err != ENOENT) {
		errno = err;
		sys::die_errno("%s %s", what, table);
	}
}

// ---- Leases -----------------------------------------------------------------------------

struct lease {
	sys::unique_fd fd;
	int dirfd = -1;
	char name[16] = ""; // the address, dotted
};

// Takes the lease of addr if no live launcher holds it. A holder that is releasing may
// unlink the file between our open and our lock: then the inode we locked is no longer
// the one named, and we try again.
inline bool try_lease(int dirfd, uint32_t addr, lease &l)
{
	format_ipv4(addr, l.name);
	for (;;) {
		sys::unique_fd fd(openat(dirfd, l.name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
		if (!fd)
			sys::die_errno("open lease %s", l.name);
		if (flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
			if (errno == EWOULDBLOCK)
				return false;
			sys::die_errno("lock lease %s", l.name);
		}
		struct stat held, named;
		if (fstat(fd.get(), &held) < 0)
			sys::die_errno("stat lease %s", l.name);
		if (fstatat(dirfd, l.name, &named, AT_SYMLINK_NOFOLLOW) < 0 || named.st_ino != held.st_ino)
			continue;
		char pid[16];
		int n = snprintf(pid, sizeof pid, "%d\n", getpid());
		if (ftruncate(fd.get(), 0) < 0 || pwrite(fd.get(), pid, size_t(n), 0) != n)
			sys::die_errno("write lease %s", l.name);
		l.fd = std::move(fd);
		l.dirfd = dirfd;
		return true;
	}
}

inline void release(lease &l)
{
	if (!l.fd)
		return;
	unlinkat(l.dirfd, l.name, 0); // before unlocking, so nobody locks a named stale file
	l.fd.reset();
}

// ---- Names ---------------------------------------------------------------------------------
//
// Containers of one network resolve each other through one hosts file, NAME/hosts, bound
// read-only over every member's /etc/hosts: no daemon, and every resolver reads it (musl,
// glibc, busybox). It is made again from the leases that live launchers hold, each lease
// file naming its container on its second line (host name, --name, --network-alias), by
// every launcher that joins or leaves, under the network's lock, and written in place (the
// bind mounts hold its inode): new content over the old, then cut to length, so a reader
// never finds it empty. A SIGKILLed launcher's lease is stale (unlocked): the next start or
// end on the network removes it, and its names with it.

inline void write_lease_names(lease &l, std::span<const char *const> names)
{
	char text[512] = "";
	for (const char *name : names) {
		if (!name || !*name || strlen(text) + strlen(name) + 2 >= sizeof text)
			continue;
		if (*text)
			strcat(text, " ");
		strcat(text, name);
	}
	strcat(text, "\n");
	char pid[16];
	off_t at = snprintf(pid, sizeof pid, "%d\n", getpid()); // after try_lease's first line
	if (pwrite(l.fd.get(), text, strlen(text), at) != ssize_t(strlen(text)))
		sys::die_errno("write lease %s", l.name);
}

// Rewrites dirfd's hosts file from the live leases (stale ones are removed). false, errno
// set, when it cannot.
inline bool update_hosts(int dirfd)
{
	static char text[1 << 16];
	size_t n = size_t(snprintf(text, sizeof text, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"));
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : nullptr;
	if (!d)
		return false;
	while (dirent *e = readdir(d)) {
		uint32_t ip;
		if (!parse_ipv4(e->d_name, ip))
			continue;
		lease stale;
		if (try_lease(dirfd, ip, stale)) {
			release(stale); // its launcher died
			continue;
		}
		char buf[600];
		sys::unique_fd l(openat(dirfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
		ssize_t got = l ? read(l.get(), buf, sizeof buf - 1) : -1;
		if (got <= 0)
			continue; // released meanwhile, or its names not written yet (its launcher updates after)
		buf[got] = 0;
		char *names = strchr(buf, '\n');
		char *end = names ? strchr(names + 1, '\n') : nullptr;
		if (!end || end == names + 1)
			continue;
		*end = 0;
		int w = snprintf(text + n, sizeof text - n, "%s\t%s\n", e->d_name, names + 1);
		if (w > 0 && size_t(w) < sizeof text - n)
			n += size_t(w);
	}
	closedir(d);
	sys::unique_fd hosts(openat(dirfd, "hosts", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
	return hosts && pwrite(hosts.get(), text, n, 0) == ssize_t(n) && ftruncate(hosts.get(), off_t(n)) == 0;
}

// ---- Attaching a container ----------------------------------------------------------------

// What the host side tells the container's PID 1 about its network.
struct inside_config {
	uint32_t addr = 0, gateway = 0; // host byte order; 0: no bridge network
	unsigned prefix = 0;
};

struct attachment {
	state st;
	lease l;
	inside_config inside;
	char host_if[IFNAMSIZ] = "";
};

// The network, made on first use (or again, where its bridge is gone or half made), its
// state open and locked in st: its subnet, and its bridge's index.
inline uint32_t ensure_network(netlink::socket &nl, state &st, const char *name, const char *subnet_flag, cidr &subnet,
			       bool *created = nullptr)
{
	cidr wanted;
	if (subnet_flag && !parse_cidr(subnet_flag, wanted))
		sys::die("bad --subnet %s: expected an IPv4 CIDR with a prefix of 8 to 30", subnet_flag);
	open_state(st, name);

	bool known = read_subnet(st.dirfd.get(), subnet);
	if (created)
		*created = !known;
	link_info l = look_up_link(nl, name);
	if (l.exists && !known)
		forget_state(st); // made just now, or left by a launcher killed before it wrote a subnet
	refuse_foreign(name, known, l, st.dirfd.get());
	if (known && subnet_flag && (wanted.addr != subnet.addr || wanted.prefix != subnet.prefix))
		sys::die("network %s exists with another subnet (see %s/subnet)", name, st.dir);
	if (!known) {
		static cidr used[512];
		size_t n = used_subnets(nl, used, std::size(used));
		if (subnet_flag)
			subnet = wanted;
		else if (!pick_subnet({used, n}, subnet)) {
			forget_state(st);
			sys::die("network %s: no free /24 left in %s", name, pools_text);
		}
		char text[32], a4[16];
		format_ipv4(subnet.addr, a4);
		snprintf(text, sizeof text, "%s/%u\n", a4, subnet.prefix);
		write_file_at(st.dirfd.get(), "subnet", text, "network subnet"); // before the bridge: see the top
	}
	bool made_now = !l.exists || !(l.flags & IFF_UP);
	uint32_t bridge = ensure_bridge(nl, st, l, subnet, !known);
	bridge_record made;
	if (!read_bridge_record(st.dirfd.get(), made) || made.index != bridge)
		write_bridge_record(st.dirfd.get(), bridge); // made now, made again, or a state without one
	route_through(name);
	install_network_table(name, subnet, made_now);
	return bridge;
}

// Host side of `--net NAME`: the network (created on first use), an address lease, and a
// veth pair whose peer is created as eth0 directly in the container's namespace.
inline void attach(attachment &a, const char *name, const char *subnet_flag, const char *ip_flag, pid_t container,
		   std::span<const char *const> names)
{
	netlink::socket nl;
	if (!nl.open())
		sys::die_errno("open rtnetlink socket");
	cidr subnet;
	uint32_t bridge = ensure_network(nl, a.st, name, subnet_flag, subnet);

	if (ip_flag) {
		uint32_t ip;
		if (!parse_ipv4(ip_flag, ip))
			sys::die("bad --ip %s: expected an IPv4 address", ip_flag);
		if (base({ip, subnet.prefix}) != subnet.addr || ip <= gateway(subnet) || ip >= broadcast(subnet))
			sys::die("--ip %s is not a container address of network %s", ip_flag, name);
		if (!try_lease(a.st.dirfd.get(), ip, a.l))
			sys::die("--ip %s is in use on network %s", ip_flag, name);
	} else {
		for (uint32_t ip = gateway(subnet) + 1; ip < broadcast(subnet) && !a.l.fd; ip++)
			try_lease(a.st.dirfd.get(), ip, a.l);
		if (!a.l.fd)
			sys::die("network %s is full: every address of its subnet is leased", name);
	}
	uint32_t ip;
	parse_ipv4(a.l.name, ip);
	a.inside = {ip, gateway(subnet), subnet.prefix};
	write_lease_names(a.l, names);
	if (!update_hosts(a.st.dirfd.get()))
		sys::die_errno("update %s/hosts", a.st.dir);
	a.st.lock.reset(); // the lease is held: --net-rm will see it

	uint32_t tag;
	if (getrandom(&tag, sizeof tag, 0) != sizeof tag)
		sys::die_errno("getrandom");
	snprintf(a.host_if, sizeof a.host_if, "ve-%08x", tag);
	char create[64], up[64];
	snprintf(create, sizeof create, "create veth %s", a.host_if);
	snprintf(up, sizeof up, "bring up %s", a.host_if);
	netlink::replies r;
	run_loading(nl, [&](netlink::batch &b) {
		netlink::new_veth(b, a.host_if, bridge, "eth0", uint32_t(container), create);
		netlink::set_up(b, 0, a.host_if, true, up);
	}, r, "veth");
}

// The container leaves: its lease goes, and its names with it. Never dies (it runs on the
// way out of a failure too): a hosts file it cannot update keeps the names until the next
// start or end on the network.
inline void leave(attachment &a)
{
	if (!a.l.fd)
		return;
	release(a.l);
	sys::unique_fd lock(openat(a.st.dirfd.get(), "lock", O_RDWR | O_CLOEXEC));
	if (lock && flock(lock.get(), LOCK_EX) == 0)
		update_hosts(a.st.dirfd.get());
}

// `--net-rm NAME`: removes a network that no live launcher uses: its bridge, if it is one
// the launcher made, and its state.
// How many containers hold a lease of the network; a stale lease (its launcher died) is
// released on the way.
inline size_t leases_in_use(state &st)
{
	DIR *d = opendir(st.dir);
	if (!d)
		sys::die_errno("open %s", st.dir);
	size_t in_use = 0;
	while (dirent *e = readdir(d)) {
		uint32_t ip;
		if (!parse_ipv4(e->d_name, ip))
			continue;
		lease l;
		if (try_lease(dirfd(d), ip, l))
			release(l);
		else
			in_use++;
	}
	closedir(d);
	return in_use;
}

inline void remove(const char *name)
{
	netlink::socket nl;
	if (!nl.open())
		sys::die_errno("open rtnetlink socket");
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/net/%s", run_dir(), name);
	if (access(dir, F_OK) < 0) {
		int err = errno;
		if (err == ENOENT)
			refuse_foreign(name, false, look_up_link(nl, name));
		errno = err;
		sys::die_errno("network %s", name);
	}
	state st;
	open_state(st, name);
	cidr subnet;
	bool known = read_subnet(st.dirfd.get(), subnet);
	link_info l = look_up_link(nl, name);
	refuse_foreign(name, known, l, st.dirfd.get());
	size_t in_use = leases_in_use(st);
	if (in_use)
		sys::die("network %s is in use by %zu container%s", name, in_use, in_use == 1 ? "" : "s");
	if (known)
		remove_network_table(name);
	if (l.exists) {
		char what[64];
		snprintf(what, sizeof what, "delete bridge %s", name);
		netlink::batch b;
		netlink::del_link(b, l.index, what);
		netlink::replies r;
		const char *failed;
		int err = nl.run(b, r, &failed);
		if (err && err != ENODEV) {
			errno = err;
			sys::die_errno("%s", what);
		}
	}
	remove_state(st); // the state goes when the bridge is gone, never before
}

// Container side, in its own network namespace: lo up and, on a bridge network, eth0's
// address, eth0 up and the default route via the gateway. Loopback is ifindex 1 in every
// network namespace (registered first).
inline void configure_inside(const inside_config &c)
{
	netlink::socket nl;
	if (!nl.open())
		sys::die_errno("open rtnetlink socket");
	netlink::batch b;
	netlink::set_up(b, 1, nullptr, true, "bring up lo");
	if (c.addr)
		netlink::get_link(b, "eth0", "look up eth0");
	netlink::replies r;
	run_or_die(nl, b, r);
	if (!c.addr)
		return;
	uint32_t eth0 = r.link_index;
	char addr_what[48], a4[16];
	format_ipv4(c.addr, a4);
	snprintf(addr_what, sizeof addr_what, "add address %s to eth0", a4);
	netlink::batch e;
	netlink::add_address(e, eth0, __builtin_bswap32(c.addr), c.prefix, addr_what);
	netlink::set_up(e, eth0, nullptr, true, "bring up eth0");
	netlink::add_default_route(e, __builtin_bswap32(c.gateway), eth0, "add default route");
	r = {};
	run_or_die(nl, e, r);
}

// ---- `launcher network ls|create|rm|inspect`, as docker's verbs ---------------------------

// A name peers resolve: letters, digits, '-', '_', '.', as a hosts file and docker take it.
inline bool valid_host_name(std::string_view n)
{
	if (n.empty() || n.size() > 63 || n[0] == '-' || n[0] == '.')
		return false;
	for (char c : n)
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return false;
	return true;
}

// The live containers of a network: lease files whose lock is held, with their names.
template <class F> void each_member(int dirfd, F &&f)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : nullptr;
	if (!d)
		sys::die_errno("read network state");
	while (dirent *e = readdir(d)) {
		uint32_t ip;
		if (!parse_ipv4(e->d_name, ip))
			continue;
		sys::unique_fd l(openat(dirfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
		if (!l || flock(l.get(), LOCK_SH | LOCK_NB) == 0)
			continue; // gone, or stale (its launcher died)
		char buf[600] = "";
		ssize_t got = read(l.get(), buf, sizeof buf - 1);
		buf[got > 0 ? got : 0] = 0;
		char *names = strchr(buf, '\n');
		if (names) {
			names++;
			names[strcspn(names, "\n")] = 0;
		}
		f(e->d_name, names ? names : (char *)"");
	}
	closedir(d);
}

// The names of the networks with a state directory, sorted.
inline size_t network_names(char (&names)[256][IFNAMSIZ])
{
	char nets[PATH_MAX];
	snprintf(nets, sizeof nets, "%s/net", run_dir());
	DIR *d = opendir(nets);
	if (!d && errno != ENOENT)
		sys::die_errno("open %s", nets);
	size_t n = 0;
	while (dirent *e = d ? readdir(d) : nullptr)
		if (e->d_name[0] != '.' && valid_name(e->d_name) && n < std::size(names))
			snprintf(names[n++], IFNAMSIZ, "%s", e->d_name);
	if (d)
		closedir(d);
	qsort(names, n, IFNAMSIZ, [](const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); });
	return n;
}

// docker's network prune: every network no container uses is removed; their names printed.
inline int verb_prune()
{
	static char names[256][IFNAMSIZ];
	for (size_t i = 0, n = network_names(names); i < n; i++) {
		size_t in_use;
		{
			state st;
			open_state(st, names[i]);
			in_use = leases_in_use(st);
		} // (its lock is remove's to take)
		if (in_use)
			continue;
		remove(names[i]);
		dprintf(1, "%s\n", names[i]);
	}
	return 0;
}

inline int verb_ls()
{
	char nets[PATH_MAX];
	snprintf(nets, sizeof nets, "%s/net", run_dir());
	static char names[256][IFNAMSIZ];
	size_t n = network_names(names);
	dprintf(1, "%-16s %-18s %s\n", "NAME", "SUBNET", "CONTAINERS");
	for (size_t i = 0; i < n; i++) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof dir, "%s/%s", nets, names[i]);
		sys::unique_fd fd(open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC));
		cidr c;
		if (!fd || !read_subnet(fd.get(), c))
			continue;
		size_t members = 0;
		each_member(fd.get(), [&](const char *, const char *) { members++; });
		char a4[16], sub[24];
		format_ipv4(c.addr, a4);
		snprintf(sub, sizeof sub, "%s/%u", a4, c.prefix);
		dprintf(1, "%-16s %-18s %zu\n", names[i], sub, members);
	}
	return 0;
}

inline int verb_create(const char *name, const char *subnet_flag)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/net/%s/subnet", run_dir(), name);
	if (access(dir, F_OK) == 0)
		sys::die("network %s already exists", name);
	netlink::socket nl;
	if (!nl.open())
		sys::die_errno("open rtnetlink socket");
	state st;
	cidr subnet;
	ensure_network(nl, st, name, subnet_flag, subnet);
	dprintf(1, "%s\n", name);
	return 0;
}

// docker's shape, in part: Name, Driver, IPAM's subnet and gateway, and the containers by
// address with their names.
inline int verb_inspect(std::span<char *const> names)
{
	auto open_network = [](const char *name, cidr &c) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof dir, "%s/net/%s", run_dir(), name);
		sys::unique_fd fd(valid_name(name) ? open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1);
		if (!fd || !read_subnet(fd.get(), c))
			sys::die("network %s not found", name);
		return fd;
	};
	cidr c;
	for (const char *name : names) // every one exists before anything is printed
		open_network(name, c);
	dprintf(1, "[");
	for (size_t i = 0; i < names.size(); i++) {
		sys::unique_fd fd = open_network(names[i], c);
		char a4[16], gw[16];
		format_ipv4(c.addr, a4);
		format_ipv4(gateway(c), gw);
		dprintf(1, "%s\n  {\n    \"Name\": \"%s\",\n    \"Driver\": \"bridge\",\n    \"IPAM\": {\"Config\": [{\"Subnet\": \"%s/%u\", "
		       "\"Gateway\": \"%s\"}]},\n    \"Containers\": {", i ? "," : "", names[i], a4, c.prefix, gw);
		bool first = true;
		each_member(fd.get(), [&](const char *addr, char *members) {
			dprintf(1, "%s\n      \"%s\": {\"IPv4Address\": \"%s/%u\", \"Names\": [", first ? "" : ",", addr, addr, c.prefix);
			bool one = true;
			for (char *w = strtok(members, " "); w; w = strtok(nullptr, " "), one = false)
				dprintf(1, "%s\"%s\"", one ? "" : ", ", w); // names are valid_host_name: nothing to escape
			dprintf(1, "]}");
			first = false;
		});
		dprintf(1, "%s}\n  }", first ? "" : "\n    ");
	}
	dprintf(1, "\n]\n");
	return 0;
}

[[noreturn]] inline void verb_usage()
{
	sys::die("usage: launcher network ls | create [--subnet CIDR] NAME | rm NAME... | inspect NAME... | prune");
}

// argv[0] is "network".
inline int verb_main(int argc, char **argv)
{
	if (argc < 2)
		verb_usage();
	std::string_view v = argv[1];
	if ((v == "ls" || v == "list") && argc == 2)
		return verb_ls();
	if (v == "create") {
		const char *subnet = nullptr, *name = nullptr;
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--subnet") == 0 && i + 1 < argc)
				subnet = argv[++i];
			else if (strncmp(argv[i], "--subnet=", 9) == 0)
				subnet = argv[i] + 9;
			else if (argv[i][0] != '-' && !name)
				name = argv[i];
			else
				verb_usage();
		}
		if (!name)
			verb_usage();
		if (!valid_name(name))
			sys::die("bad network name %s: a network name has 1 to 15 letters, digits, '-', '_' or '.'", name);
		return verb_create(name, subnet);
	}
	if ((v == "rm" || v == "remove") && argc > 2) {
		for (int i = 2; i < argc; i++) {
			if (!valid_name(argv[i]))
				sys::die("bad network name %s", argv[i]);
			remove(argv[i]);
			dprintf(1, "%s\n", argv[i]);
		}
		return 0;
	}
	if (v == "inspect" && argc > 2)
		return verb_inspect({argv + 2, size_t(argc - 2)});
	if (v == "prune" && argc == 2)
		return verb_prune();
	verb_usage();
}

// --net none or a bridge's, as root: the network namespace, lo up, made by a helper on the other core
// from the moment the container is described, while the launcher finds the layers, makes
// the cgroup and clones PID 1 (the kernel's setup of a network namespace is the costliest
// step of a start, BENCHMARKS.md). PID 1 joins it as it joins --netns's, before it mounts
// /sys, then lets the helper go; a helper that failed said why and closed `ready`.
struct netns_helper {
	pid_t pid = -1;            // until PID 1 is cloned: then the helper ends by itself
	int ready = -1, hold = -1; // PID 1 reads the helper's word on one, and closes the other
};
inline void start_netns_helper(netns_helper &h)
{
	int ready[2], hold[2];
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(hold, O_CLOEXEC) < 0)
		sys::die_errno("pipe");
	h.pid = pid_t(sys::clone_fork(SIGCHLD));
	if (h.pid < 0)
		sys::die_errno("fork the network namespace's helper");
	if (h.pid == 0) {
		sys::at_die = nullptr;
		sigset_t all; // the terminal's ^C is the launcher's to pass on, not ours to die of
		sigfillset(&all);
		sigprocmask(SIG_SETMASK, &all, nullptr);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			_exit(sys::exit_failure);
		close(ready[0]);
		close(hold[1]);
		if (unshare(CLONE_NEWNET) < 0)
			sys::die_errno("make a network namespace");
		configure_inside({}); // lo up
		if (write(ready[1], "\0", 2) != 2) // PID 1's word, and the host side's (a bridge's veth goes in)
			_exit(sys::exit_failure);
		char none; // until PID 1 has joined, or is gone
		while (read(hold[0], &none, 1) < 0 && errno == EINTR) {
		}
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	h.ready = ready[0];
	h.hold = hold[1];
}

inline void join_netns_helper(const netns_helper &h)
{
	char word, path[40];
	if (read(h.ready, &word, 1) != 1)
		_exit(sys::exit_failure);
	snprintf(path, sizeof path, "/proc/%d/ns/net", h.pid); // the host's /proc, still
	sys::unique_fd ns(open(path, O_RDONLY | O_CLOEXEC));
	if (!ns || setns(ns.get(), CLONE_NEWNET) < 0)
		sys::die_errno("join the network namespace of %s", path);
	close(h.ready);
	close(h.hold);
}

} // namespace network
