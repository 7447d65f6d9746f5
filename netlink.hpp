// netlink.hpp: a small rtnetlink client, the part of `ip` the launcher needs.
//
// Requests are encoded into a batch buffer (pure: testable without a socket), sent in one
// sendmsg, and every reply is matched to its request by sequence number; the first
// NLMSG_ERROR names the object of the request that failed. Layouts follow the kernel's
// UAPI headers: every message and attribute 4-byte aligned, a nest's length patched after
// its children, the veth peer's payload starting with its own ifinfomsg.
#pragma once
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <span>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>

namespace netlink {

constexpr size_t align(size_t n) { return (n + 3) & ~size_t(3); }

// A batch of requests, each remembered with the object it concerns for error lines.
class batch {
public:
	// Room for an nf_tables batch of a network's table (nfnetlink.hpp) and its rules.
	static constexpr size_t capacity = 16384, max_requests = 48;

	// Starts a request; body is the fixed header (ifinfomsg, ifaddrmsg, rtmsg, nfgenmsg).
	// Without ack, the kernel answers nothing (nfnetlink's batch begin and end markers).
	template <class Body> Body &begin(uint16_t type, uint16_t flags, const char *what, bool ack = true)
	{
		static Body spare; // written to, and discarded, when the batch is full
		if (count_ == max_requests)
			overflow_ = true;
		if (overflow_)
			return spare = {};
		start_ = len_;
		nlmsghdr h = {};
		h.nlmsg_type = type;
		h.nlmsg_flags = uint16_t(NLM_F_REQUEST | (ack ? NLM_F_ACK : 0) | flags);
		h.nlmsg_seq = first_seq_ + uint32_t(count_);
		put(&h, sizeof h);
		size_t at = len_;
		Body zero = {};
		put(&zero, sizeof zero);
		if (overflow_)
			return spare = {};
		whats_[count_++] = what;
		unacked_ += !ack;
		return *reinterpret_cast<Body *>(buf_ + at);
	}
	// Ends the request: its length covers the header, body and attributes.
	void end()
	{
		if (!overflow_)
			header().nlmsg_len = uint32_t(len_ - start_);
	}

	void attr(uint16_t type, const void *data, size_t n)
	{
		nlattr a = {uint16_t(NLA_HDRLEN + n), type};
		put(&a, sizeof a);
		put(data, n);
	}
	void attr_str(uint16_t type, const char *s) { attr(type, s, strlen(s) + 1); }
	void attr_u32(uint16_t type, uint32_t v) { attr(type, &v, sizeof v); }
	size_t nest_begin(uint16_t type)
	{
		size_t at = len_;
		nlattr a = {0, type};
		put(&a, sizeof a);
		return at;
	}
	void nest_end(size_t at) { reinterpret_cast<nlattr *>(buf_ + at)->nla_len = uint16_t(len_ - at); }
	template <class T> void raw(const T &v) { put(&v, sizeof v); }

	std::span<const unsigned char> bytes() const { return {buf_, len_}; }
	size_t requests() const { return count_ - unacked_; } // the answers to wait for
	const char *what(uint32_t seq) const { return owns(seq) ? whats_[seq - first_seq_] : "request"; }
	bool owns(uint32_t seq) const { return seq >= first_seq_ && seq - first_seq_ < count_; }
	bool overflowed() const { return overflow_; }

private:
	nlmsghdr &header() { return *reinterpret_cast<nlmsghdr *>(buf_ + start_); }
	void put(const void *p, size_t n)
	{
		size_t padded = align(n);
		if (len_ + padded > capacity) {
			overflow_ = true;
			return;
		}
		memcpy(buf_ + len_, p, n);
		memset(buf_ + len_ + n, 0, padded - n);
		len_ += padded;
	}
	alignas(4) unsigned char buf_[capacity];
	size_t len_ = 0, start_ = 0, count_ = 0, unacked_ = 0;
	bool overflow_ = false;
	const char *whats_[max_requests];
	// Sequence numbers run on across batches, so a late reply never matches a new request.
	static inline uint32_t next_first_seq_ = 1;
	uint32_t first_seq_ = (next_first_seq_ += max_requests) - max_requests;
};

// ---- Requests ----------------------------------------------------------------------

inline void link_kind(batch &b, const char *kind)
{
	size_t info = b.nest_begin(IFLA_LINKINFO);
	b.attr_str(IFLA_INFO_KIND, kind);
	b.nest_end(info);
}

inline void new_bridge(batch &b, const char *name, const char *what)
{
	b.begin<ifinfomsg>(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, what);
	b.attr_str(IFLA_IFNAME, name);
	link_kind(b, "bridge");
	b.end();
}

// A veth pair: `name` here, enslaved to `master` (0: none); its peer `peer` created
// directly in the network namespace of process `peer_pid`.
inline void new_veth(batch &b, const char *name, uint32_t master, const char *peer, uint32_t peer_pid,
		     const char *what)
{
	b.begin<ifinfomsg>(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, what);
	b.attr_str(IFLA_IFNAME, name);
	if (master)
		b.attr_u32(IFLA_MASTER, master);
	size_t info = b.nest_begin(IFLA_LINKINFO);
	b.attr_str(IFLA_INFO_KIND, "veth");
	size_t data = b.nest_begin(IFLA_INFO_DATA);
	size_t p = b.nest_begin(VETH_INFO_PEER);
	b.raw(ifinfomsg{});
	b.attr_str(IFLA_IFNAME, peer);
	b.attr_u32(IFLA_NET_NS_PID, peer_pid);
	b.nest_end(p);
	b.nest_end(data);
	b.nest_end(info);
	b.end();
}

// Up or down, by index or (index 0) by name.
inline void set_up(batch &b, uint32_t index, const char *name, bool up, const char *what)
{
	ifinfomsg &i = b.begin<ifinfomsg>(RTM_NEWLINK, 0, what);
	i.ifi_index = int(index);
	i.ifi_flags = up ? IFF_UP : 0;
	i.ifi_change = IFF_UP;
	if (!index)
		b.attr_str(IFLA_IFNAME, name);
	b.end();
}

// By index: the link looked up and checked, not whatever has its name by now.
inline void del_link(batch &b, uint32_t index, const char *what)
{
	ifinfomsg &i = b.begin<ifinfomsg>(RTM_DELLINK, 0, what);
	i.ifi_index = int(index);
	b.end();
}

// Asks for one link by name; the reply (RTM_NEWLINK) carries its index.
inline void get_link(batch &b, const char *name, const char *what)
{
	b.begin<ifinfomsg>(RTM_GETLINK, 0, what);
	b.attr_str(IFLA_IFNAME, name);
	b.end();
}

// An IPv4 address (network byte order) with its prefix on link index; with replace, the
// address being there already is no error.
inline void add_address(batch &b, uint32_t index, uint32_t addr, unsigned prefix, const char *what, bool replace = false)
{
	ifaddrmsg &a = b.begin<ifaddrmsg>(RTM_NEWADDR, uint16_t(NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL)), what);
	a.ifa_family = AF_INET;
	a.ifa_prefixlen = uint8_t(prefix);
	a.ifa_scope = RT_SCOPE_UNIVERSE;
	a.ifa_index = index;
	uint32_t host_mask = prefix >= 32 ? 0 : ~uint32_t(0) >> prefix;
	uint32_t broadcast = addr | __builtin_bswap32(host_mask);
	b.attr(IFA_LOCAL, &addr, 4);
	b.attr(IFA_ADDRESS, &addr, 4);
	if (prefix < 31)
		b.attr(IFA_BROADCAST, &broadcast, 4);
	b.end();
}

// The default route via gateway (network byte order) out of link index.
inline void add_default_route(batch &b, uint32_t gateway, uint32_t index, const char *what)
{
	rtmsg &r = b.begin<rtmsg>(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, what);
	r.rtm_family = AF_INET;
	r.rtm_table = RT_TABLE_MAIN;
	r.rtm_protocol = RTPROT_BOOT;
	r.rtm_scope = RT_SCOPE_UNIVERSE;
	r.rtm_type = RTN_UNICAST;
	b.attr(RTA_GATEWAY, &gateway, 4);
	b.attr_u32(RTA_OIF, index);
	b.end();
}

// Every IPv4 route of every table (a dump: replies end with NLMSG_DONE).
inline void dump_routes(batch &b, const char *what)
{
	rtmsg &r = b.begin<rtmsg>(RTM_GETROUTE, NLM_F_DUMP, what);
	r.rtm_family = AF_INET;
	b.end();
}

// ---- Replies -------------------------------------------------------------------------

struct route {
	uint32_t dst; // network byte order
	unsigned prefix;
};

// What a batch of replies said: the first error and its request, links' indexes, routes.
struct replies {
	int error = 0;         // positive errno of the first failed request
	uint32_t failed_seq = 0;
	size_t acked = 0;      // requests that ended (ACK, error, or NLMSG_DONE of a dump)
	uint32_t link_index = 0; // from an RTM_NEWLINK reply to get_link
	uint32_t link_flags = 0; // its IFF_* flags
	char link_kind[16] = ""; // its IFLA_INFO_KIND ("bridge", "dummy"); empty: none (a NIC, lo)
	route routes[256];
	size_t route_count = 0;
	bool malformed = false;
};

// The payload of the first attribute of type in attrs (the nest flags masked off); false
// when there is none, or a length runs past the end before it.
inline bool find_attr(std::span<const unsigned char> attrs, uint16_t type, std::span<const unsigned char> &out)
{
	size_t a = 0;
	while (attrs.size() - a >= sizeof(nlattr)) {
		nlattr at;
		memcpy(&at, attrs.data() + a, sizeof at);
		if (at.nla_len < sizeof at || at.nla_len > attrs.size() - a)
			return false;
		if ((at.nla_type & NLA_TYPE_MASK) == type) {
			out = attrs.subspan(a + sizeof at, at.nla_len - sizeof at);
			return true;
		}
		a += align(at.nla_len);
		if (a > attrs.size())
			return false;
	}
	return false;
}

// A link's kind from the attributes that follow the ifinfomsg of its RTM_NEWLINK: the
// IFLA_INFO_KIND inside IFLA_LINKINFO (not IFLA_INFO_SLAVE_KIND, a port's master's kind).
// Empty when the link has none or the attributes are malformed: never "bridge" by mistake.
inline void parse_link_kind(std::span<const unsigned char> attrs, char (&kind)[16])
{
	kind[0] = 0;
	std::span<const unsigned char> info, k;
	if (!find_attr(attrs, IFLA_LINKINFO, info) || !find_attr(info, IFLA_INFO_KIND, k))
		return;
	size_t n = strnlen(reinterpret_cast<const char *>(k.data()), k.size());
	if (n >= sizeof kind)
		return;
	memcpy(kind, k.data(), n);
	kind[n] = 0;
}

// Reads one buffer of replies to batch b (pure). Messages that answer no request of b are
// ignored; lengths are checked against the buffer before anything is read.
inline void parse_replies(const batch &b, std::span<const unsigned char> buf, replies &r)
{
	size_t off = 0;
	while (buf.size() - off >= sizeof(nlmsghdr)) {
		nlmsghdr h;
		memcpy(&h, buf.data() + off, sizeof h);
		if (h.nlmsg_len < sizeof h || h.nlmsg_len > buf.size() - off) {
			r.malformed = true;
			return;
		}
		const unsigned char *body = buf.data() + off + sizeof h;
		size_t body_len = h.nlmsg_len - sizeof h;
		off += align(h.nlmsg_len);
		if (!b.owns(h.nlmsg_seq))
			continue;
		if (h.nlmsg_type == NLMSG_ERROR) {
			nlmsgerr e;
			if (body_len < sizeof e) {
				r.malformed = true;
				return;
			}
			memcpy(&e, body, sizeof e);
			r.acked++;
			if (e.error && !r.error) {
				r.error = -e.error;
				r.failed_seq = h.nlmsg_seq;
			}
		} else if (h.nlmsg_type == NLMSG_DONE) {
			r.acked++;
		} else if (h.nlmsg_type == RTM_NEWLINK && body_len >= sizeof(ifinfomsg)) {
			ifinfomsg i;
			memcpy(&i, body, sizeof i);
			r.link_index = uint32_t(i.ifi_index);
			r.link_flags = i.ifi_flags;
			parse_link_kind({body + sizeof i, body_len - sizeof i}, r.link_kind);
		} else if (h.nlmsg_type == RTM_NEWROUTE && body_len >= sizeof(rtmsg)) {
			rtmsg m;
			memcpy(&m, body, sizeof m);
			route rt = {0, m.rtm_dst_len};
			size_t a = align(sizeof m);
			while (a + sizeof(nlattr) <= body_len) {
				nlattr at;
				memcpy(&at, body + a, sizeof at);
				if (at.nla_len < sizeof at || at.nla_len > body_len - a)
					break;
				if (at.nla_type == RTA_DST && at.nla_len >= sizeof at + 4)
					memcpy(&rt.dst, body + a + sizeof at, 4);
				a += align(at.nla_len);
			}
			if (m.rtm_family == AF_INET && r.route_count < std::size(r.routes))
				r.routes[r.route_count++] = rt;
		}
	}
}

// ---- The socket ----------------------------------------------------------------------

class socket {
public:
	// Opens a route (or NETLINK_NETFILTER) socket in the caller's network namespace; false
	// with errno set.
	bool open(int protocol = NETLINK_ROUTE)
	{
		fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
		return fd_ >= 0;
	}
	~socket() { close(); }
	bool fd() const { return fd_ >= 0; }
	void close()
	{
		if (fd_ >= 0)
			::close(fd_);
		fd_ = -1;
	}

	// Sends the batch in one write and reads until every request is answered. Returns 0,
	// or an errno with *what naming the request that failed. Each request asks for an
	// ACK, so a dump's multi-part reply and a get's answer both end with one message.
	int run(batch &b, replies &r, const char **what)
	{
		*what = "netlink";
		if (b.overflowed())
			return EMSGSIZE;
		sockaddr_nl kernel = {};
		kernel.nl_family = AF_NETLINK;
		std::span<const unsigned char> out = b.bytes();
		if (sendto(fd_, out.data(), out.size(), 0, reinterpret_cast<sockaddr *>(&kernel), sizeof kernel) < 0)
			return errno;
		alignas(4) unsigned char in[32768];
		while (r.acked < b.requests() && !r.error) {
			sockaddr_nl from = {};
			socklen_t from_len = sizeof from;
			ssize_t n = recvfrom(fd_, in, sizeof in, 0, reinterpret_cast<sockaddr *>(&from), &from_len);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return errno;
			}
			if (from.nl_pid != 0) // only the kernel answers requests
				continue;
			parse_replies(b, {in, size_t(n)}, r);
			if (r.malformed)
				return EBADMSG;
		}
		if (r.error)
			*what = b.what(r.failed_seq);
		return r.error;
	}

private:
	int fd_ = -1;
};

} // namespace netlink
