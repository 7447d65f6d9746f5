// bundle.hpp: an OCI bundle's config.json (runtime-spec 1.1), read from bytes (no I/O)
// into the description of a container (description.hpp) the runtime mode runs: the
// process, the root, the mounts, namespaces, id maps, devices, sysctls, cgroup and
// resources, seccomp, masked and read-only paths, hooks. A field the launcher does not carry out is refused with
// its name (when it holds anything), never ignored: ignoring one could weaken what the
// engine asked for. `process` alone is also what `exec --process FILE` reads.
#pragma once
#include <algorithm>
#include <linux/capability.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "description.hpp"
#include "image.hpp"
#include "json.hpp"
#include "limits.hpp"
#include "security.hpp"
#include "users.hpp"

namespace bundle {

using image::problem;

namespace detail {

// The description's types (description.hpp), by their short names in the parser.
using container::description;
using container::device;
using container::hook;
using container::hook_kinds;
using container::hook_names;
using container::id_map;
using container::mount;
using container::process;
using container::resources;

using image::detail::strings;

inline problem bad(json::value v, const char *what) { return {what, v ? v.doc->tokens[v.i].start : 0}; }

// A number's digits, without overflow; a leading '-' is reported in neg.
inline bool digits(json::value v, uint64_t &out, bool &neg)
{
	if (!v.is(json::kind::number))
		return false;
	std::string_view s = v.raw();
	neg = !s.empty() && s[0] == '-';
	s.remove_prefix(neg);
	out = 0;
	for (char c : s) {
		if (c < '0' || c > '9' || out > (UINT64_MAX - uint64_t(c - '0')) / 10)
			return false;
		out = out * 10 + uint64_t(c - '0');
	}
	return !s.empty();
}

// A whole number within [lo, hi].
inline bool integer(json::value v, int64_t lo, int64_t hi, int64_t &out)
{
	uint64_t n;
	bool neg;
	if (!digits(v, n, neg) || n > uint64_t(INT64_MAX))
		return false;
	out = neg ? -int64_t(n) : int64_t(n);
	return out >= lo && out <= hi;
}

inline bool unsigned_integer(json::value v, uint64_t &out)
{
	bool neg;
	return digits(v, out, neg) && !neg;
}

// The keys of an object that the launcher knows; any other key holding a value that is
// not empty is refused by name.
inline problem only_known(json::value obj, const char *where, std::initializer_list<std::string_view> known)
{
	if (!obj)
		return {};
	if (!obj.is(json::kind::object))
		return bad(obj, where);
	size_t j = obj.i + 1;
	for (size_t n = 0; n < obj.size(); n++) {
		json::value key{obj.doc, j}, val{obj.doc, j + 1};
		j = obj.doc->tokens[j + 1].next;
		bool empty = val.is(json::kind::null) || ((val.is(json::kind::object) || val.is(json::kind::array)) && val.size() == 0) ||
			     (val.is(json::kind::string) && val.raw().empty()) || val.raw() == "false" || val.raw() == "0";
		if (empty || std::find(known.begin(), known.end(), key.raw()) != known.end())
			continue;
		static char text[96];
		snprintf(text, sizeof text, "%s.%.*s is not supported", where, int(std::min<size_t>(key.raw().size(), 40)), key.raw().data());
		return {text, obj.doc->tokens[j - 1].start};
	}
	return {};
}

struct option {
	const char *name;
	unsigned long set, clear, propagation;
};
// mount(8)'s words for mount flags and propagation; everything else is the file system's.
constexpr option mount_options[] = {
	{"ro", MS_RDONLY, 0, 0},           {"rw", 0, MS_RDONLY, 0},
	{"nosuid", MS_NOSUID, 0, 0},       {"suid", 0, MS_NOSUID, 0},
	{"nodev", MS_NODEV, 0, 0},         {"dev", 0, MS_NODEV, 0},
	{"noexec", MS_NOEXEC, 0, 0},       {"exec", 0, MS_NOEXEC, 0},
	{"sync", MS_SYNCHRONOUS, 0, 0},    {"async", 0, MS_SYNCHRONOUS, 0},
	{"dirsync", MS_DIRSYNC, 0, 0},     {"remount", MS_REMOUNT, 0, 0},
	{"mand", MS_MANDLOCK, 0, 0},       {"nomand", 0, MS_MANDLOCK, 0},
	{"atime", 0, MS_NOATIME, 0},       {"noatime", MS_NOATIME, 0, 0},
	{"diratime", 0, MS_NODIRATIME, 0}, {"nodiratime", MS_NODIRATIME, 0, 0},
	{"relatime", MS_RELATIME, 0, 0},   {"norelatime", 0, MS_RELATIME, 0},
	{"strictatime", MS_STRICTATIME, 0, 0}, {"nostrictatime", 0, MS_STRICTATIME, 0},
	{"bind", MS_BIND, 0, 0},           {"rbind", MS_BIND | MS_REC, 0, 0},
	{"private", 0, 0, MS_PRIVATE},     {"rprivate", 0, 0, MS_PRIVATE | MS_REC},
	{"shared", 0, 0, MS_SHARED},       {"rshared", 0, 0, MS_SHARED | MS_REC},
	{"slave", 0, 0, MS_SLAVE},         {"rslave", 0, 0, MS_SLAVE | MS_REC},
	{"unbindable", 0, 0, MS_UNBINDABLE}, {"runbindable", 0, 0, MS_UNBINDABLE | MS_REC},
	{"z", 0, 0, 0},                    {"Z", 0, 0, 0}, // SELinux relabelling: no SELinux here
};

inline problem parse_mount(json::value m, strings &st, mount &out)
{
	if (problem p = only_known(m, "mounts[]", {"destination", "type", "source", "options", "uidMappings", "gidMappings"}))
		return p;
	if (m["uidMappings"].size() || m["gidMappings"].size())
		return bad(m, "mounts[]: id-mapped mounts are not supported");
	if (!m["destination"].is(json::kind::string) || m["destination"].raw().empty())
		return bad(m, "mounts[].destination: expected a path");
	out.destination = st.dup(m["destination"]);
	if (out.destination[0] != '/')
		return bad(m["destination"], "mounts[].destination: must be absolute");
	if (problem p = image::detail::string_field(m["type"], st, out.type, "mounts[].type: expected a string"))
		return p;
	if (problem p = image::detail::string_field(m["source"], st, out.source, "mounts[].source: expected a string"))
		return p;
	problem p;
	size_t used = 0;
	m["options"].each([&](json::value o) {
		if (!o.is(json::kind::string)) {
			p = bad(o, "mounts[].options: expected strings");
			return;
		}
		std::string_view s = o.raw();
		if (s == "rro") {
			out.rro = true;
			out.flags |= MS_RDONLY;
			return;
		}
		for (const option &x : mount_options)
			if (s == x.name) {
				out.flags = (out.flags | x.set) & ~x.clear;
				out.propagation |= x.propagation;
				return;
			}
		if (used + s.size() + 2 > sizeof out.data) {
			p = bad(o, "mounts[].options: too long");
			return;
		}
		used += size_t(snprintf(out.data + used, sizeof out.data - used, "%s%.*s", used ? "," : "", int(s.size()), s.data()));
	});
	if (p)
		return p;
	if (!*out.type && (out.flags & MS_BIND))
		out.type = "bind";
	if (strcmp(out.type, "bind") == 0 || strcmp(out.type, "rbind") == 0)
		out.flags |= strcmp(out.type, "rbind") == 0 ? MS_BIND | MS_REC : MS_BIND;
	// A bind mount takes no file system options: one left over here (idmap, tmpcopyup,
	// rnoexec, ...) would be dropped by the kernel without a word, so it is refused.
	if ((out.flags & MS_BIND) && *out.data) {
		static char text[160];
		snprintf(text, sizeof text, "mounts[] %.40s: bind mount option %.40s is not supported", out.destination, out.data);
		return bad(m, text);
	}
	return {};
}

inline problem string_array(json::value v, strings &st, std::vector<const char *> &out, const char *what)
{
	return image::detail::string_list(v, st, out, what);
}

// The five capability sets, each a list of names such as "CAP_CHOWN".
inline problem parse_caps(json::value c, uint64_t (&caps)[5])
{
	if (problem p = only_known(c, "process.capabilities", {"bounding", "effective", "inheritable", "permitted", "ambient"}))
		return p;
	const char *sets[] = {"bounding", "effective", "inheritable", "permitted", "ambient"};
	problem p;
	for (int i = 0; i < 5; i++)
		c[sets[i]].each([&](json::value n) {
			std::string_view s = n.is(json::kind::string) ? n.raw() : "";
			uint64_t m = s.substr(0, 4) == "CAP_" ? security::cap_mask(s.substr(4)) : 0;
			// A capability this kernel's headers do not know cannot be granted: say so.
			if (!m || s.substr(4) == "ALL")
				p = bad(n, "process.capabilities: unknown capability");
			caps[i] |= m;
		});
	return p;
}

// "RLIMIT_NOFILE" to RLIMIT_NOFILE: --ulimit's names (limits.hpp), in capitals after RLIMIT_.
inline const limits::rlimit_name *rlimit_type(std::string_view type)
{
	if (!type.starts_with("RLIMIT_"))
		return nullptr;
	type.remove_prefix(7);
	for (const limits::rlimit_name &r : limits::rlimit_names) {
		std::string_view name = r.name;
		bool same = name.size() == type.size();
		for (size_t i = 0; same && i < name.size(); i++)
			same = type[i] == (name[i] & ~0x20);
		if (same)
			return &r;
	}
	return nullptr;
}

} // namespace detail

// config.json's `process`, or the file `exec --process` reads.
inline problem parse_process(json::value p, detail::strings &st, container::process &out)
{
	using namespace detail;
	if (!p.is(json::kind::object))
		return bad(p, "process: expected an object");
	if (problem e = only_known(p, "process", {"terminal", "consoleSize", "user", "args", "env", "cwd", "capabilities", "rlimits",
						   "noNewPrivileges", "oomScoreAdj", "apparmorProfile", "selinuxLabel", "commandLine"}))
		return e;
	// The runtime refuses a label where its security module is loaded (lsm_label).
	if (problem e = image::detail::string_field(p["apparmorProfile"], st, out.apparmor, "process.apparmorProfile: expected a string"))
		return e;
	if (problem e = image::detail::string_field(p["selinuxLabel"], st, out.selinux, "process.selinuxLabel: expected a string"))
		return e;
	out.terminal = p["terminal"].raw() == "true";
	int64_t n;
	if (json::value cs = p["consoleSize"]) {
		if (!integer(cs["height"], 0, 65535, n))
			return bad(cs, "process.consoleSize: expected height and width");
		out.rows = (unsigned short)n;
		if (!integer(cs["width"], 0, 65535, n))
			return bad(cs, "process.consoleSize: expected height and width");
		out.cols = (unsigned short)n;
	}
	json::value u = p["user"];
	if (problem e = only_known(u, "process.user", {"uid", "gid", "umask", "additionalGids", "username"}))
		return e;
	if (u) {
		if (!integer(u["uid"], 0, UINT32_MAX - 1, n))
			return bad(u, "process.user.uid: expected a number");
		out.uid = uid_t(n);
		if (!integer(u["gid"], 0, UINT32_MAX - 1, n))
			return bad(u, "process.user.gid: expected a number");
		out.gid = gid_t(n);
		if (u["umask"] && !u["umask"].is(json::kind::null)) {
			if (!integer(u["umask"], 0, 0777, n))
				return bad(u["umask"], "process.user.umask: expected 0 to 0777");
			out.umask = int(n);
		}
		problem e;
		u["additionalGids"].each([&](json::value g) {
			if (!integer(g, 0, UINT32_MAX - 1, n))
				e = bad(g, "process.user.additionalGids: expected numbers");
			out.groups.push_back(gid_t(n));
		});
		if (e)
			return e;
	}
	if (problem e = string_array(p["args"], st, out.args, "process.args: expected strings"))
		return e;
	if (problem e = string_array(p["env"], st, out.env, "process.env: expected strings"))
		return e;
	if (problem e = image::detail::string_field(p["cwd"], st, out.cwd, "process.cwd: expected a string"))
		return e;
	if (out.cwd[0] != '/')
		return bad(p["cwd"], "process.cwd: must be absolute");
	if (problem e = parse_caps(p["capabilities"], out.caps))
		return e;
	problem e;
	p["rlimits"].each([&](json::value r) {
		uint64_t hard, soft;
		const limits::rlimit_name *t = rlimit_type(r["type"].raw());
		if (!t || !unsigned_integer(r["hard"], hard) || !unsigned_integer(r["soft"], soft))
			e = bad(r, "process.rlimits: expected a known type with soft and hard numbers");
		else
			out.rlimits.push_back({t->resource, {rlim_t(soft), rlim_t(hard)}});
	});
	if (e)
		return e;
	out.no_new_privileges = p["noNewPrivileges"].raw() == "true";
	if (p["oomScoreAdj"]) {
		if (!integer(p["oomScoreAdj"], -1000, 1000, n))
			return bad(p["oomScoreAdj"], "process.oomScoreAdj: expected -1000 to 1000");
		out.oom_score_set = true, out.oom_score_adj = int(n);
	}
	return {};
}


namespace detail {

struct namespace_type {
	const char *name;
	unsigned long flag;
};
constexpr namespace_type namespace_types[] = {
	{"pid", CLONE_NEWPID},   {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},       {"ipc", CLONE_NEWIPC},
	{"uts", CLONE_NEWUTS},   {"user", CLONE_NEWUSER},   {"cgroup", CLONE_NEWCGROUP}, {"time", 0x80 /* CLONE_NEWTIME */},
};

inline problem parse_id_maps(json::value v, std::vector<id_map> &out, const char *what)
{
	problem p;
	v.each([&](json::value m) {
		int64_t in, outside, n;
		if (!integer(m["containerID"], 0, UINT32_MAX, in) || !integer(m["hostID"], 0, UINT32_MAX, outside) ||
		    !integer(m["size"], 1, UINT32_MAX, n))
			p = bad(m, what);
		else
			out.push_back({uint32_t(in), uint32_t(outside), uint32_t(n)});
	});
	return p;
}

inline problem parse_hooks(json::value h, strings &st, std::vector<hook> (&out)[hook_kinds])
{
	if (problem p = only_known(h, "hooks", {hook_names[0], hook_names[1], hook_names[2], hook_names[3], hook_names[4], hook_names[5]}))
		return p;
	problem p;
	for (int k = 0; k < hook_kinds; k++)
		h[hook_names[k]].each([&](json::value e) {
			hook x{};
			int64_t t = 0;
			if (!e["path"].is(json::kind::string) || e["path"].raw().substr(0, 1) != "/" ||
			    (e["timeout"] && !integer(e["timeout"], 1, 86400, t))) {
				p = bad(e, "hooks: each needs an absolute path and a timeout of at least 1 second");
				return;
			}
			x.path = st.dup(e["path"]);
			x.timeout = int(t);
			if (problem q = string_array(e["args"], st, x.args, "hooks[].args: expected strings"))
				p = q;
			if (problem q = string_array(e["env"], st, x.env, "hooks[].env: expected strings"))
				p = q;
			out[k].push_back(x);
		});
	return p;
}

inline problem parse_resources(json::value r, resources &out)
{
	if (problem p = only_known(r, "linux.resources", {"devices", "memory", "cpu", "pids", "blockIO", "hugepageLimits", "network", "rdma", "unified"}))
		return p;
	// Known, and held to empty: these limits are not applied by the launcher.
	for (const char *k : {"blockIO", "hugepageLimits", "network", "rdma", "unified"})
		if (problem p = only_known(r[k], k, {}))
			return p;
	problem p;
	r["devices"].each([&](json::value d) {
		security::device_rule x{'a', -1, -1, 0, d["allow"].raw() == "true"};
		std::string_view type = d["type"].is(json::kind::string) ? d["type"].raw() : "a";
		if (type != "a" && type != "c" && type != "b") {
			p = bad(d, "linux.resources.devices: type is a, c or b");
			return;
		}
		x.type = type[0];
		int64_t major = -1, minor = -1;
		if ((d["major"] && !d["major"].is(json::kind::null) && !integer(d["major"], 0, 4095, major)) ||
		    (d["minor"] && !d["minor"].is(json::kind::null) && !integer(d["minor"], 0, 1048575, minor))) {
			p = bad(d, "linux.resources.devices: bad major or minor");
			return;
		}
		x.major = int16_t(major), x.minor = int32_t(minor);
		std::string_view access = d["access"].is(json::kind::string) ? d["access"].raw() : "rwm";
		for (char c : access)
			x.access |= c == 'm' ? 1 : c == 'r' ? 2 : c == 'w' ? 4 : 8;
		if (x.access & 8) {
			p = bad(d, "linux.resources.devices: access is made of r, w and m");
			return;
		}
		out.devices.push_back(x);
	});
	if (p)
		return p;
	json::value m = r["memory"], c = r["cpu"];
	if ((p = only_known(m, "linux.resources.memory", {"limit", "reservation", "swap", "disableOOMKiller", "swappiness", "kernel", "kernelTCP", "useHierarchy", "checkBeforeUpdate"})))
		return p;
	if ((p = only_known(c, "linux.resources.cpu", {"shares", "quota", "period", "cpus", "mems", "realtimeRuntime", "realtimePeriod", "burst", "idle"})))
		return p;
	// The kernel's own answer to a kernel memory or realtime limit is its default: those
	// are ignored by runc too (cgroup v2 has none of them).
	auto limit = [&](json::value v, int64_t &field, const char *what) {
		if (v && !v.is(json::kind::null) && !integer(v, -1, INT64_MAX, field))
			p = bad(v, what);
	};
	limit(m["limit"], out.memory, "linux.resources.memory.limit: expected bytes");
	limit(m["reservation"], out.memory_reservation, "linux.resources.memory.reservation: expected bytes");
	limit(m["swap"], out.memory_swap, "linux.resources.memory.swap: expected bytes");
	limit(c["quota"], out.cpu_quota, "linux.resources.cpu.quota: expected microseconds");
	limit(r["pids"]["limit"], out.pids, "linux.resources.pids.limit: expected a number");
	if ((c["shares"] && !c["shares"].is(json::kind::null) && !unsigned_integer(c["shares"], out.cpu_shares)) ||
	    (c["period"] && !c["period"].is(json::kind::null) && !unsigned_integer(c["period"], out.cpu_period)))
		p = bad(c, "linux.resources.cpu: bad shares or period");
	if (m["disableOOMKiller"].raw() == "true")
		p = bad(m, "linux.resources.memory.disableOOMKiller is not supported");
	return p;
}

} // namespace detail

// config.json as engines write it. `store` receives every decoded string.
[[gnu::noipa]] inline problem parse_config(std::string_view text, std::vector<char> &store, std::vector<json::token> &tokens, container::description &out)
{
	using namespace detail;
	json::document doc;
	if (problem p = image::detail::load(text, tokens, doc))
		return p;
	strings st(store, text);
	json::value root{&doc, 0};
	if (problem p = only_known(root, "config", {"ociVersion", "process", "root", "hostname", "domainname", "mounts", "hooks", "annotations", "linux"}))
		return p;
	if (json::value v = root["ociVersion"]; !v.is(json::kind::string) || v.raw().substr(0, 2) != "1.")
		return bad(v, "ociVersion: expected 1.x");
	if (problem p = parse_process(root["process"], st, out.proc))
		return p;
	if (out.proc.args.empty())
		return bad(root["process"], "process.args: no command");
	json::value r = root["root"];
	if (problem p = only_known(r, "root", {"path", "readonly"}))
		return p;
	if (!r["path"].is(json::kind::string) || r["path"].raw().empty())
		return bad(r, "root.path: expected a path");
	out.root = st.dup(r["path"]);
	out.root_readonly = r["readonly"].raw() == "true";
	if (problem p = image::detail::string_field(root["hostname"], st, out.hostname, "hostname: expected a string"))
		return p;
	if (problem p = image::detail::string_field(root["domainname"], st, out.domainname, "domainname: expected a string"))
		return p;
	problem p;
	root["mounts"].each([&](json::value m) {
		mount x;
		if (!p && !(p = parse_mount(m, st, x)))
			out.mounts.push_back(x);
	});
	if (p || (p = parse_hooks(root["hooks"], st, out.hooks)))
		return p;
	if (json::value a = root["annotations"]) {
		if (!a.is(json::kind::object))
			return bad(a, "annotations: expected an object");
		out.annotations = a.raw();
	}
	json::value l = root["linux"];
	if ((p = only_known(l, "linux", {"namespaces", "uidMappings", "gidMappings", "devices", "sysctl", "cgroupsPath", "resources",
					 "seccomp", "maskedPaths", "readonlyPaths", "rootfsPropagation", "mountLabel"})))
		return p;
	if ((p = image::detail::string_field(l["mountLabel"], st, out.mount_label, "linux.mountLabel: expected a string")))
		return p;
	l["namespaces"].each([&](json::value n) {
		const auto *t = std::find_if(std::begin(namespace_types), std::end(namespace_types),
					     [&](const namespace_type &x) { return n["type"].raw() == x.name; });
		if (t == std::end(namespace_types) || !n["type"].is(json::kind::string)) {
			p = bad(n, "linux.namespaces: unknown type");
			return;
		}
		if (n["path"].is(json::kind::string) && !n["path"].raw().empty())
			out.joined.push_back({t->flag, st.dup(n["path"])});
		else
			out.new_namespaces |= t->flag;
	});
	if (p)
		return p;
	if ((p = parse_id_maps(l["uidMappings"], out.uid_maps, "linux.uidMappings: expected containerID, hostID and size")) ||
	    (p = parse_id_maps(l["gidMappings"], out.gid_maps, "linux.gidMappings: expected containerID, hostID and size")))
		return p;
	l["devices"].each([&](json::value d) {
		device x{};
		int64_t n;
		std::string_view type = d["type"].raw();
		if (!d["path"].is(json::kind::string) || d["path"].raw().substr(0, 5) != "/dev/" ||
		    (type != "c" && type != "b" && type != "u" && type != "p")) {
			p = bad(d, "linux.devices: expected a path under /dev and a type c, b, u or p");
			return;
		}
		x.path = st.dup(d["path"]);
		x.type = type[0];
		x.mode = 0666;
		if (type != "p" && (!integer(d["major"], 0, 4095, n) || (x.major = uint32_t(n), !integer(d["minor"], 0, 1048575, n)))) {
			p = bad(d, "linux.devices: expected major and minor numbers");
			return;
		}
		x.minor = uint32_t(n);
		if (d["fileMode"] && integer(d["fileMode"], 0, 07777, n))
			x.mode = uint32_t(n);
		if (d["uid"] && integer(d["uid"], 0, UINT32_MAX - 1, n))
			x.uid = uid_t(n);
		if (d["gid"] && integer(d["gid"], 0, UINT32_MAX - 1, n))
			x.gid = gid_t(n);
		out.devices.push_back(x);
	});
	if (p)
		return p;
	if (json::value sc = l["sysctl"]) {
		if (!sc.is(json::kind::object))
			return bad(sc, "linux.sysctl: expected an object");
		size_t j = sc.i + 1;
		for (size_t n = 0; n < sc.size(); n++, j = doc.tokens[j + 1].next) {
			json::value k{&doc, j}, v{&doc, j + 1};
			if (!v.is(json::kind::string))
				return bad(v, "linux.sysctl: expected string values");
			out.sysctls.push_back({st.dup(k), st.dup(v)});
		}
	}
	if ((p = image::detail::string_field(l["cgroupsPath"], st, out.cgroups_path, "linux.cgroupsPath: expected a string")) ||
	    (p = parse_resources(l["resources"], out.res)))
		return p;
	if (json::value sc = l["seccomp"]; sc && !sc.is(json::kind::null)) {
		if (!sc.is(json::kind::object))
			return bad(sc, "linux.seccomp: expected an object");
		out.seccomp = sc.raw();
	}
	if ((p = string_array(l["maskedPaths"], st, out.masked, "linux.maskedPaths: expected strings")) ||
	    (p = string_array(l["readonlyPaths"], st, out.readonly, "linux.readonlyPaths: expected strings")))
		return p;
	if (json::value rp = l["rootfsPropagation"]; rp.is(json::kind::string) && !rp.raw().empty()) {
		const auto *o = std::find_if(std::begin(mount_options), std::end(mount_options),
					     [&](const option &x) { return rp.raw() == x.name && x.propagation; });
		if (o == std::end(mount_options))
			return bad(rp, "linux.rootfsPropagation: expected private, shared, slave or unbindable (r...)");
		out.rootfs_propagation = o->propagation;
	}
	return {};
}

} // namespace bundle
