// nfnetlink.hpp: nf_tables over a raw NETLINK_NETFILTER socket, the part of `nft` the
// launcher needs: tables, base chains, and rules of payload, meta, ct, fib, bitwise, cmp,
// immediate, nat, masq and counter expressions.
//
// Requests are netlink.hpp's batches (pure, testable without a socket): nf_tables changes
// go between a BATCH_BEGIN and a BATCH_END, which the kernel applies as one transaction
// (all or nothing) and answers with one ACK per request. Every nf_tables attribute number
// is big-endian (the kernel reads them with ntohl); addresses and ports are in network
// order, as they sit in the packet. The launcher touches only tables it named, "launcher-*",
// never the host's own firewall.
#pragma once
#include <cstdint>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "netlink.hpp"

namespace nft {

using netlink::batch;

constexpr uint32_t be32(uint32_t v) { return __builtin_bswap32(v); }
constexpr uint16_t msg(uint16_t type) { return uint16_t(NFNL_SUBSYS_NFTABLES << 8 | type); }

// The nfgenmsg every request starts with: family, version 0, and (for the batch markers)
// the subsystem the batch is for.
inline void begin(batch &b, uint16_t type, uint16_t flags, uint8_t family, const char *what, bool ack = true)
{
	nfgenmsg &g = b.begin<nfgenmsg>(type, flags, what, ack);
	g.nfgen_family = family;
	g.version = NFNETLINK_V0;
	if (type == NFNL_MSG_BATCH_BEGIN || type == NFNL_MSG_BATCH_END)
		g.res_id = __builtin_bswap16(NFNL_SUBSYS_NFTABLES);
}

inline void batch_begin(batch &b) { begin(b, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, "begin nf_tables batch", false), b.end(); }
inline void batch_end(batch &b) { begin(b, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, "end nf_tables batch", false), b.end(); }

// A table of the IPv4 family. owned: the kernel deletes it, with its chains and rules,
// when the netlink socket that made it closes (NFT_TABLE_F_OWNER, Linux 5.12): when the
// launcher ends, however it ends.
inline void new_table(batch &b, const char *name, bool owned, const char *what)
{
	begin(b, msg(NFT_MSG_NEWTABLE), NLM_F_CREATE, NFPROTO_IPV4, what);
	b.attr_str(NFTA_TABLE_NAME, name);
	b.attr_u32(NFTA_TABLE_FLAGS, be32(owned ? NFT_TABLE_F_OWNER : 0));
	b.end();
}

// Asks for one table (outside a batch): its NEWTABLE reply and an ACK, or ENOENT.
inline void get_table(batch &b, const char *name, const char *what)
{
	begin(b, msg(NFT_MSG_GETTABLE), 0, NFPROTO_IPV4, what);
	b.attr_str(NFTA_TABLE_NAME, name);
	b.end();
}

inline void del_table(batch &b, const char *name, const char *what)
{
	begin(b, msg(NFT_MSG_DELTABLE), 0, NFPROTO_IPV4, what);
	b.attr_str(NFTA_TABLE_NAME, name);
	b.end();
}

// A base chain on hook (NF_INET_*) at priority, of type "nat" or "filter", policy accept.
inline void new_chain(batch &b, const char *table, const char *name, uint32_t hook, int32_t priority, const char *type,
		      const char *what)
{
	begin(b, msg(NFT_MSG_NEWCHAIN), NLM_F_CREATE, NFPROTO_IPV4, what);
	b.attr_str(NFTA_CHAIN_TABLE, table);
	b.attr_str(NFTA_CHAIN_NAME, name);
	size_t h = b.nest_begin(NLA_F_NESTED | NFTA_CHAIN_HOOK);
	b.attr_u32(NFTA_HOOK_HOOKNUM, be32(hook));
	b.attr_u32(NFTA_HOOK_PRIORITY, be32(uint32_t(priority)));
	b.nest_end(h);
	b.attr_u32(NFTA_CHAIN_POLICY, be32(NF_ACCEPT));
	b.attr_str(NFTA_CHAIN_TYPE, type);
	b.end();
}

// A rule appended to chain: rule_begin, its expressions, rule_end.
inline size_t rule_begin(batch &b, const char *table, const char *chain, const char *what)
{
	begin(b, msg(NFT_MSG_NEWRULE), NLM_F_CREATE | NLM_F_APPEND, NFPROTO_IPV4, what);
	b.attr_str(NFTA_RULE_TABLE, table);
	b.attr_str(NFTA_RULE_CHAIN, chain);
	return b.nest_begin(NLA_F_NESTED | NFTA_RULE_EXPRESSIONS);
}

inline void rule_end(batch &b, size_t exprs)
{
	b.nest_end(exprs);
	b.end();
}

// ---- Expressions: each a list element of its name and its data ---------------------------

struct expr {
	batch &b;
	size_t elem, data;
	expr(batch &to, const char *name) : b(to)
	{
		elem = b.nest_begin(NLA_F_NESTED | NFTA_LIST_ELEM);
		b.attr_str(NFTA_EXPR_NAME, name);
		data = b.nest_begin(NLA_F_NESTED | NFTA_EXPR_DATA);
	}
	~expr()
	{
		b.nest_end(data);
		b.nest_end(elem);
	}
	void u32(uint16_t type, uint32_t v) { b.attr_u32(type, be32(v)); }
	void value(uint16_t type, const void *p, size_t n)
	{
		size_t d = b.nest_begin(NLA_F_NESTED | type);
		b.attr(NFTA_DATA_VALUE, p, n);
		b.nest_end(d);
	}
};

// Loads len bytes at offset of the network (NFT_PAYLOAD_NETWORK_HEADER) or transport
// header into register 1.
inline void payload(batch &b, uint32_t base, uint32_t offset, uint32_t len)
{
	expr e(b, "payload");
	e.u32(NFTA_PAYLOAD_DREG, NFT_REG_1);
	e.u32(NFTA_PAYLOAD_BASE, base);
	e.u32(NFTA_PAYLOAD_OFFSET, offset);
	e.u32(NFTA_PAYLOAD_LEN, len);
}

inline void meta(batch &b, uint32_t key)
{
	expr e(b, "meta");
	e.u32(NFTA_META_KEY, key);
	e.u32(NFTA_META_DREG, NFT_REG_1);
}

inline void ct(batch &b, uint32_t key)
{
	expr e(b, "ct");
	e.u32(NFTA_CT_KEY, key);
	e.u32(NFTA_CT_DREG, NFT_REG_1);
}

// The type of the route to the destination (RTN_LOCAL: one of this namespace's addresses).
inline void fib_daddr_type(batch &b)
{
	expr e(b, "fib");
	e.u32(NFTA_FIB_DREG, NFT_REG_1);
	e.u32(NFTA_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	e.u32(NFTA_FIB_FLAGS, NFTA_FIB_F_DADDR);
}

// Register 1 = (register 1 & mask) ^ 0, over len bytes.
inline void bitwise_and(batch &b, const void *mask, size_t len)
{
	static constexpr unsigned char zero[16] = {};
	expr e(b, "bitwise");
	e.u32(NFTA_BITWISE_SREG, NFT_REG_1);
	e.u32(NFTA_BITWISE_DREG, NFT_REG_1);
	e.u32(NFTA_BITWISE_LEN, uint32_t(len));
	e.value(NFTA_BITWISE_MASK, mask, len);
	e.value(NFTA_BITWISE_XOR, zero, len);
}

// Register 1 against data: NFT_CMP_EQ, NFT_CMP_NEQ; a false comparison ends the rule.
inline void cmp(batch &b, uint32_t op, const void *data, size_t len)
{
	expr e(b, "cmp");
	e.u32(NFTA_CMP_SREG, NFT_REG_1);
	e.u32(NFTA_CMP_OP, op);
	e.value(NFTA_CMP_DATA, data, len);
}

inline void immediate(batch &b, uint32_t reg, const void *data, size_t len)
{
	expr e(b, "immediate");
	e.u32(NFTA_IMMEDIATE_DREG, reg);
	e.value(NFTA_IMMEDIATE_DATA, data, len);
}

// NF_ACCEPT or NF_DROP: the rule's verdict.
inline void verdict(batch &b, uint32_t code)
{
	expr e(b, "immediate");
	e.u32(NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
	size_t d = b.nest_begin(NLA_F_NESTED | NFTA_IMMEDIATE_DATA);
	size_t v = b.nest_begin(NLA_F_NESTED | NFTA_DATA_VERDICT);
	b.attr_u32(NFTA_VERDICT_CODE, be32(code));
	b.nest_end(v);
	b.nest_end(d);
}

inline void counter(batch &b) { expr e(b, "counter"); }
inline void masquerade(batch &b) { expr e(b, "masq"); }

// Destination NAT to the address in register 1 and the port in register 2.
inline void dnat(batch &b)
{
	expr e(b, "nat");
	e.u32(NFTA_NAT_TYPE, NFT_NAT_DNAT);
	e.u32(NFTA_NAT_FAMILY, NFPROTO_IPV4);
	e.u32(NFTA_NAT_REG_ADDR_MIN, NFT_REG_1);
	e.u32(NFTA_NAT_REG_PROTO_MIN, NFT_REG_2);
}

// ---- Matches made of those ------------------------------------------------------------

// ip saddr (offset 12) or daddr (16) in, or not in, net/prefix (network order).
inline void match_addr(batch &b, uint32_t offset, uint32_t net, unsigned prefix, bool in)
{
	payload(b, NFT_PAYLOAD_NETWORK_HEADER, offset, 4);
	if (prefix < 32) {
		uint32_t m = be32(prefix == 0 ? 0 : ~uint32_t(0) << (32 - prefix));
		bitwise_and(b, &m, 4);
	}
	cmp(b, in ? NFT_CMP_EQ : NFT_CMP_NEQ, &net, 4);
}
constexpr uint32_t saddr = 12, daddr = 16;

// iifname or oifname (NFT_META_IIFNAME, NFT_META_OIFNAME) is, or is not, name.
inline void match_ifname(batch &b, uint32_t key, const char *name, bool is)
{
	char padded[IFNAMSIZ] = {};
	strncpy(padded, name, sizeof padded - 1);
	meta(b, key);
	cmp(b, is ? NFT_CMP_EQ : NFT_CMP_NEQ, padded, sizeof padded);
}

// ct state (NFT_CT_STATE) or status (NFT_CT_STATUS) has one of bits.
inline void match_ct_bits(batch &b, uint32_t key, uint32_t bits)
{
	static constexpr uint32_t zero = 0;
	ct(b, key);
	bitwise_and(b, &bits, 4);
	cmp(b, NFT_CMP_NEQ, &zero, 4);
}

// The layer-4 protocol (IPPROTO_TCP, IPPROTO_UDP) and its destination port (host order).
inline void match_dport(batch &b, uint8_t proto, uint16_t port)
{
	meta(b, NFT_META_L4PROTO);
	cmp(b, NFT_CMP_EQ, &proto, 1);
	uint16_t p = __builtin_bswap16(port);
	payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	cmp(b, NFT_CMP_EQ, &p, 2);
}

} // namespace nft
