// ports.hpp: published ports, `-p [IP:]HOST:CTR[/tcp|udp]` and `-P`, as docker's.
//
// A container's ports are DNAT rules in a table of its own, `ip launcher-NET-ADDR`, with a
// prerouting chain (connections from elsewhere: other machines, other containers through
// the host's address) and an output chain (connections the host itself makes, 127.0.0.1
// included: network.hpp's route_localnet and loopback masquerade carry those). Each rule
// matches a destination that is one of the host's own addresses (fib daddr type local),
// or the -p's IP, and the port, and turns it to the container's address and port.
//
// The table is made owned (NFT_TABLE_F_OWNER) by a netlink socket the launcher holds for
// the container's life: when the launcher ends, however it ends, SIGKILL included, the
// kernel deletes the table with the socket. A host port is held like an address lease: a
// file RUN/ports/PROTO-PORT locked with flock() while published, so that a second
// container asking for it is refused, and a SIGKILLed launcher's port is free again.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

#include "network.hpp"
#include "nfnetlink.hpp"

namespace ports {

struct mapping {
	uint32_t host_ip = 0; // host byte order; 0: every address of the host
	uint16_t host_port = 0, ctr_port = 0; // host_port 0: a free one is picked
	uint8_t proto = IPPROTO_TCP;
};

constexpr size_t max_mappings = 256;
constexpr uint16_t first_free_port = 49153; // docker's ephemeral range, 49153-65535

inline bool parse_port(std::string_view s, uint16_t &out)
{
	if (s.empty() || s.size() > 5 || s[0] == '0')
		return false;
	unsigned v = 0;
	for (char c : s) {
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + unsigned(c - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	out = uint16_t(v);
	return true;
}

// "80", "8080-8090"; one port is a range of one.
inline bool parse_range(std::string_view s, uint16_t &first, uint16_t &last)
{
	size_t dash = s.find('-');
	if (dash == std::string_view::npos)
		return parse_port(s, first) && (last = first, true);
	return parse_port(s.substr(0, dash), first) && parse_port(s.substr(dash + 1), last) && first <= last;
}

// One -p value: [IP:][HOST[-HOST2]:]CTR[-CTR2][/tcp|/udp], appended to out[n...]; host
// and container ranges are of one length; an empty or missing HOST picks free ports.
// Pure. false: not such a value, or more than cap mappings.
inline bool parse_publish(std::string_view s, mapping *out, size_t cap, size_t &n)
{
	mapping m;
	size_t slash = s.find('/');
	if (slash != std::string_view::npos) {
		std::string_view p = s.substr(slash + 1);
		if (p == "udp")
			m.proto = IPPROTO_UDP;
		else if (p != "tcp")
			return false;
		s = s.substr(0, slash);
	}
	std::string_view ip, host, ctr = s;
	size_t last = s.rfind(':');
	if (last != std::string_view::npos) {
		ctr = s.substr(last + 1);
		host = s.substr(0, last);
		size_t first = host.rfind(':');
		if (first != std::string_view::npos) {
			ip = host.substr(0, first);
			host = host.substr(first + 1);
			if (!network::parse_ipv4(ip, m.host_ip))
				return false;
		}
	}
	uint16_t h1 = 0, h2 = 0, c1, c2;
	if (!parse_range(ctr, c1, c2) || (!host.empty() && !parse_range(host, h1, h2)))
		return false;
	if (!host.empty() && h2 - h1 != c2 - c1)
		return false;
	for (unsigned i = 0; i <= unsigned(c2 - c1); i++) {
		if (n == cap)
			return false;
		m.ctr_port = uint16_t(c1 + i);
		m.host_port = host.empty() ? 0 : uint16_t(h1 + i);
		out[n++] = m;
	}
	return true;
}

inline const char *proto_name(uint8_t proto) { return proto == IPPROTO_UDP ? "udp" : "tcp"; }

// The DNAT rule of mapping m to the container at ctr (host order) in chain of table.
inline void add_dnat_rule(netlink::batch &b, const char *table, const char *chain, const mapping &m, uint32_t ctr)
{
	static constexpr uint32_t local = RTN_LOCAL;
	size_t r = nft::rule_begin(b, table, chain, "add a published port's rule");
	nft::fib_daddr_type(b);
	nft::cmp(b, NFT_CMP_EQ, &local, 4);
	if (m.host_ip)
		nft::match_addr(b, nft::daddr, __builtin_bswap32(m.host_ip), 32, true);
	nft::match_dport(b, m.proto, m.host_port);
	uint32_t addr = __builtin_bswap32(ctr);
	uint16_t port = __builtin_bswap16(m.ctr_port);
	nft::immediate(b, NFT_REG_1, &addr, 4);
	nft::immediate(b, NFT_REG_2, &port, 2);
	nft::dnat(b);
	nft::rule_end(b, r);
}

// The container's table with its two chains, in one batch (pure).
inline void build_table(netlink::batch &b, const char *table)
{
	nft::batch_begin(b);
	nft::new_table(b, table, true, "create the container's nf_tables table");
	nft::new_chain(b, table, "prerouting", NF_INET_PRE_ROUTING, -100, "nat", "create its prerouting chain (nat)");
	nft::new_chain(b, table, "output", NF_INET_LOCAL_OUT, -100, "nat", "create its output chain (nat)");
	nft::batch_end(b);
}

// ---- On the host ------------------------------------------------------------------------

struct published {
	netlink::socket nf; // owns the table: closing it deletes the rules
	sys::unique_fd leases[max_mappings];
	mapping maps[max_mappings];
	size_t count = 0;
	char table[48] = "";
};

// Whether a process of the host listens on (or holds) port/proto, on m's address or any:
// binding it fails then (SO_REUSEADDR passes over a closed connection's TIME_WAIT, never a
// listener). A DNAT rule would hide that service, as docker's proxy refuses to.
inline bool host_holds(const mapping &m, unsigned port)
{
	sys::unique_fd s(socket(AF_INET, (m.proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
	int one = 1;
	sockaddr_in a = {};
	a.sin_family = AF_INET;
	a.sin_port = __builtin_bswap16(uint16_t(port));
	a.sin_addr.s_addr = __builtin_bswap32(m.host_ip);
	if (!s || setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
		sys::die_errno("socket");
	return bind(s.get(), reinterpret_cast<sockaddr *>(&a), sizeof a) < 0 && errno == EADDRINUSE;
}

// Takes the lease of m's host port (picking a free one when it has none); false if a live
// launcher holds it (*by_host: a process of the host does).
inline bool lease_port(int dir, mapping &m, sys::unique_fd &held, bool *by_host)
{
	*by_host = false;
	bool pick = m.host_port == 0;
	for (unsigned port = pick ? first_free_port : m.host_port; port <= 65535; port++) {
		char name[16];
		snprintf(name, sizeof name, "%s-%u", proto_name(m.proto), port);
		if (host_holds(m, port)) {
			*by_host = true;
			if (!pick)
				return false;
			continue;
		}
		for (;;) {
			sys::unique_fd fd(openat(dir, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
			if (!fd)
				sys::die_errno("open port lease %s/ports/%s", network::run_dir(), name);
			if (flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
				if (errno != EWOULDBLOCK)
					sys::die_errno("lock port lease %s", name);
				break;
			}
			struct stat a, b;
			if (fstat(fd.get(), &a) < 0 || fstatat(dir, name, &b, AT_SYMLINK_NOFOLLOW) < 0 || a.st_ino != b.st_ino)
				continue; // released meanwhile: the name is another file now
			char pid[16];
			int n = snprintf(pid, sizeof pid, "%d\n", getpid());
			if (ftruncate(fd.get(), 0) < 0 || pwrite(fd.get(), pid, size_t(n), 0) != n)
				sys::die_errno("write port lease %s", name);
			m.host_port = uint16_t(port);
			held = std::move(fd);
			return true;
		}
		if (!pick)
			return false;
	}
	return false;
}

// Publishes maps for the container at addr (host order) on network net: the ports leased,
// then the table and its rules, in batches of the owning socket.
inline void publish(published &p, const char *net, uint32_t addr, std::span<const mapping> maps)
{
	if (maps.empty())
		return;
	char dir_path[PATH_MAX];
	snprintf(dir_path, sizeof dir_path, "%s/ports", network::run_dir());
	sys::mkdirs(dir_path, 0755);
	sys::unique_fd dir(open(dir_path, O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (!dir)
		sys::die_errno("open %s", dir_path);
	for (const mapping &m : maps) {
		p.maps[p.count] = m;
		bool by_host;
		if (!lease_port(dir.get(), p.maps[p.count], p.leases[p.count], &by_host)) {
			if (m.host_port && by_host)
				sys::die("host port %u/%s is in use by a process of the host", m.host_port, proto_name(m.proto));
			if (m.host_port)
				sys::die("host port %u/%s is already published by another container", m.host_port, proto_name(m.proto));
			sys::die("no free host port left for %u/%s", m.ctr_port, proto_name(m.proto));
		}
		p.count++;
	}
	char a4[16];
	network::format_ipv4(addr, a4);
	snprintf(p.table, sizeof p.table, "launcher-%s-%s", net, a4);
	network::open_netfilter(p.nf);
	network::run_nf_or_die(p.nf, [&](netlink::batch &b) { build_table(b, p.table); });
	constexpr size_t per_batch = (netlink::batch::max_requests - 2) / 2;
	for (size_t i = 0; i < p.count; i += per_batch)
		network::run_nf_or_die(p.nf, [&](netlink::batch &b) {
			nft::batch_begin(b);
			for (size_t j = i; j < p.count && j < i + per_batch; j++)
				for (const char *chain : {"prerouting", "output"})
					add_dnat_rule(b, p.table, chain, p.maps[j], addr);
			nft::batch_end(b);
		});
}

// The rules go with the socket, then the ports' leases (unlinked while still locked, so
// nobody locks a stale name).
inline void release(published &p)
{
	p.nf.close();
	char dir_path[PATH_MAX];
	snprintf(dir_path, sizeof dir_path, "%s/ports", network::run_dir());
	for (size_t i = 0; i < p.count; i++) {
		char name[PATH_MAX + 32];
		snprintf(name, sizeof name, "%s/%s-%u", dir_path, proto_name(p.maps[i].proto), p.maps[i].host_port);
		unlink(name);
		p.leases[i].reset();
	}
	p.count = 0;
}

} // namespace ports
