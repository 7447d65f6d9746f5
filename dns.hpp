// dns.hpp: the container's /etc/resolv.conf, by docker's rules (pure: text in, text out).
//
// The host's file is the start. With --net host the container shares the host's resolvers,
// so the file is taken as it is. In a network namespace of its own, a nameserver on the
// host's loopback (127.x, ::1: systemd-resolved's 127.0.0.53, a local dnsmasq) cannot be
// reached, so it is dropped; when none is left, docker's defaults (Google's 8.8.8.8 and
// 8.8.4.4) stand in. --dns replaces every nameserver, --dns-search the search and domain
// lines, --dns-option the options line; anything else of the host's file stays.
#pragma once
#include <cstring>
#include <span>
#include <string_view>

namespace dns {

// Where systemd-resolved keeps the real upstream servers, when the host's file names
// only its stub 127.0.0.53 (docker reads it then, as the stub is unreachable).
constexpr const char *resolved_upstream = "/run/systemd/resolve/resolv.conf";

inline bool is_loopback(std::string_view addr)
{
	return addr.substr(0, 4) == "127." || addr == "::1" || addr == "0:0:0:0:0:0:0:1";
}

// Splits "KEYWORD rest" off a line (leading blanks skipped).
inline std::string_view keyword(std::string_view line, std::string_view &rest)
{
	size_t s = line.find_first_not_of(" \t");
	if (s == std::string_view::npos) {
		rest = {};
		return {};
	}
	line.remove_prefix(s);
	size_t e = line.find_first_of(" \t");
	std::string_view k = line.substr(0, e);
	rest = e == std::string_view::npos ? std::string_view{} : line.substr(e);
	size_t r = rest.find_first_not_of(" \t");
	rest = r == std::string_view::npos ? std::string_view{} : rest.substr(r);
	while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t' || rest.back() == '\r'))
		rest.remove_suffix(1);
	return k;
}

// True when the host's file names nameservers, all of them on its loopback.
inline bool only_loopback_servers(std::string_view host)
{
	bool any = false;
	while (!host.empty()) {
		size_t nl = host.find('\n');
		std::string_view line = host.substr(0, nl), rest;
		host.remove_prefix(nl == std::string_view::npos ? host.size() : nl + 1);
		if (keyword(line, rest) == "nameserver") {
			if (!is_loopback(rest))
				return false;
			any = true;
		}
	}
	return any;
}

struct settings {
	std::span<const char *const> servers, search, options; // --dns, --dns-search, --dns-option
	bool host_network = false;
};

// Writes the container's resolv.conf into out (NUL-terminated); false if it does not fit.
inline bool resolv_conf(std::string_view host, const settings &s, char *out, size_t cap)
{
	size_t n = 0;
	bool fits = true;
	auto put = [&](std::string_view a) {
		if (n + a.size() >= cap) {
			fits = false;
			return;
		}
		memcpy(out + n, a.data(), a.size());
		n += a.size();
	};
	auto put_line = [&](std::string_view k, std::span<const char *const> words) {
		put(k);
		for (const char *w : words)
			put(" "), put(w);
		put("\n");
	};
	size_t servers = 0;
	while (!host.empty()) {
		size_t nl = host.find('\n');
		std::string_view line = host.substr(0, nl), rest;
		host.remove_prefix(nl == std::string_view::npos ? host.size() : nl + 1);
		std::string_view k = keyword(line, rest);
		if (k == "nameserver" && (!s.servers.empty() || (!s.host_network && is_loopback(rest))))
			continue;
		if ((k == "search" || k == "domain") && !s.search.empty())
			continue;
		if (k == "options" && !s.options.empty())
			continue;
		servers += k == "nameserver";
		put(line), put("\n");
	}
	if (!s.servers.empty())
		for (const char *d : s.servers)
			put("nameserver "), put(d), put("\n");
	else if (servers == 0 && !s.host_network)
		put("nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
	if (!s.search.empty())
		put_line("search", s.search);
	if (!s.options.empty())
		put_line("options", s.options);
	if (cap)
		out[n < cap ? n : cap - 1] = 0;
	return fits;
}

} // namespace dns
