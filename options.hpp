// options.hpp: the command line, as `docker run` spells it. Every flag is one row of
// `flags[]`; the usage text is printed from the same table. Parsing is pure: argv in,
// options out, and a one-line reason when the command line is wrong.
#pragma once
#include <cstdio>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace options {

enum class id {
	hostname, env, workdir, entrypoint, net, subnet, ip, netns, net_rm, cap_add, cap_drop, privileged,
	seccomp, security_opt, read_only, volume, memory, pids_limit, cpus, ulimit, userns, load_modules, storage, progress, verbose, rm, interactive, help, version,
	user, image, root, no_cache, cache_ls, cache_prune
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
	{"subnet", 0, "CIDR", id::subnet, "subnet of a new --net NAME (default: a free /24 of 10.88.0.0/16)"},
	{"ip", 0, "ADDR", id::ip, "fixed address on the --net NAME network"},
	{"netns", 0, "NAME|PATH", id::netns, "join an existing network namespace (ip netns NAME, or a path)"},
	{"net-rm", 0, "NAME", id::net_rm, "remove bridge network NAME, which no container may be using, and exit"},
	{"cap-add", 0, "CAP", id::cap_add, "add a capability to docker's default 14 (a name, or ALL)"},
	{"cap-drop", 0, "CAP", id::cap_drop, "drop a capability (a name, or ALL)"},
	{"privileged", 0, nullptr, id::privileged, "keep every capability; no seccomp filter, masked or read-only paths"},
	{"seccomp", 0, "unconfined", id::seccomp, "run without the seccomp filter"},
	{"security-opt", 0, "OPT", id::security_opt, "seccomp=unconfined, seccomp=PROFILE.json (docker's or OCI's format), no-new-privileges"},
	{"read-only", 0, nullptr, id::read_only, "mount the container's root file system read-only"},
	{"volume", 'v', "HOST:CTR[:ro]", id::volume, "bind mount a host path into the container"},
	{"memory", 'm', "BYTES", id::memory, "memory limit (k, m, g suffixes); exceeding it gets the container killed"},
	{"pids-limit", 0, "N", id::pids_limit, "at most N processes in the container"},
	{"cpus", 0, "N", id::cpus, "CPU time limit in cores, e.g. 0.5"},
	{"ulimit", 0, "NAME=SOFT[:HARD]", id::ulimit, "resource limit, e.g. nofile=1024:2048"},
	{"userns", 0, nullptr, id::userns, "map container root to an unprivileged host id (automatic when not root)"},
	{"storage", 0, "overlay|copy", id::storage, "stack layers with overlayfs (default; copy when the kernel has none) or merge copies"},
	{"data-root", 0, "DIR", id::root, "layer cache directory (default $LAUNCHER_ROOT or /var/lib/launcher)"},
	{"no-cache", 0, nullptr, id::no_cache, "unpack the layers into a tmpfs that dies with the container"},
	{"cache-ls", 0, nullptr, id::cache_ls, "list the cached layers and exit"},
	{"cache-prune", 0, nullptr, id::cache_prune, "remove the cached layers no container is using and exit"},
	{"load-modules", 0, nullptr, id::load_modules, "load overlay, veth and bridge (with their dependencies) first"},
	{"progress", 0, "auto|plain|none", id::progress, "a line per layer a first start unpacks: on a terminal (auto), always, never"},
	{"verbose", 0, nullptr, id::verbose, "print each step of the start with its time on stderr"},
	{"rm", 0, nullptr, id::rm, "accepted for docker compatibility: containers never outlive a run"},
	{"interactive", 'i', nullptr, id::interactive, "accepted for docker compatibility: stdin is always passed"},
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
	bool privileged = false, seccomp = true, read_only = false, userns = false, load_modules = false;
	const char *memory = nullptr, *pids_limit = nullptr, *cpus = nullptr, *storage = "overlay", *progress = "auto";
	bool verbose = false, help = false, version = false, no_cache = false, cache_ls = false, cache_prune = false;
	const char *user = nullptr, *image_ref = nullptr, *root = nullptr;
	const char *seccomp_profile = nullptr; // --security-opt seccomp=FILE
	char error[160] = "";
};

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

inline void apply(parsed &o, id what, const char *value)
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
	case id::privileged: o.privileged = true; break;
	case id::seccomp: o.seccomp = false; break;
	case id::security_opt: // checked by parse: seccomp=unconfined, seccomp=FILE, no-new-privileges
		if (strncmp(value, "seccomp=", 8) == 0 && strcmp(value + 8, "unconfined") == 0)
			o.seccomp = false, o.seccomp_profile = nullptr;
		else if (strncmp(value, "seccomp=", 8) == 0)
			o.seccomp = true, o.seccomp_profile = value + 8;
		break; // no-new-privileges: always so
	case id::read_only: o.read_only = true; break;
	case id::volume: o.volumes.push_back(value); break;
	case id::memory: o.memory = value; break;
	case id::pids_limit: o.pids_limit = value; break;
	case id::cpus: o.cpus = value; break;
	case id::ulimit: o.ulimits.push_back(value); break;
	case id::userns: o.userns = true; break;
	case id::load_modules: o.load_modules = true; break;
	case id::storage: o.storage = value; break;
	case id::progress: o.progress = value; break;
	case id::verbose: o.verbose = true; break;
	case id::help: o.help = true; break;
	case id::version: o.version = true; break;
	case id::user: o.user = value; break;
	case id::image: o.image_ref = value; break;
	case id::root: o.root = value; break;
	case id::no_cache: o.no_cache = true; break;
	case id::cache_ls: o.cache_ls = true; break;
	case id::cache_prune: o.cache_prune = true; break;
	case id::rm:
	case id::interactive: break;
	}
}

// Flags come before the image; every word after it belongs to the container's command.
// Accepts --flag VALUE, --flag=VALUE, -f VALUE, -fVALUE, and -- before the image.
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
		const flag *f;
		const char *value = nullptr;
		if (arg[1] == '-') {
			std::string_view name(arg + 2);
			size_t eq = name.find('=');
			if (eq != std::string_view::npos) {
				value = arg + 2 + eq + 1;
				name = name.substr(0, eq);
			}
			f = find_long(name);
		} else {
			f = find_short(arg[1]);
			if (f && arg[2])
				value = arg + 2;
		}
		if (!f) {
			snprintf(o.error, sizeof o.error, "unknown flag %s (see --help)", arg);
			return false;
		}
		if (!f->metavar && value) {
			snprintf(o.error, sizeof o.error, "flag --%s takes no value", f->long_name);
			return false;
		}
		if (f->metavar && !value) {
			if (i + 1 >= argc) {
				snprintf(o.error, sizeof o.error, "flag --%s needs %s", f->long_name, f->metavar);
				return false;
			}
			value = argv[++i];
		}
		if (f->what == id::storage && strcmp(value, "overlay") != 0 && strcmp(value, "copy") != 0) {
			snprintf(o.error, sizeof o.error, "flag --storage takes overlay or copy");
			return false;
		}
		if (f->what == id::progress && strcmp(value, "auto") != 0 && strcmp(value, "plain") != 0 && strcmp(value, "none") != 0) {
			snprintf(o.error, sizeof o.error, "flag --progress takes auto, plain or none");
			return false;
		}
		if (f->what == id::seccomp && strcmp(value, "unconfined") != 0) {
			snprintf(o.error, sizeof o.error, "flag --seccomp takes only \"unconfined\"");
			return false;
		}
		if (f->what == id::security_opt && !(strncmp(value, "seccomp=", 8) == 0 && value[8]) &&
		    strcmp(value, "no-new-privileges") != 0 && strcmp(value, "no-new-privileges=true") != 0 &&
		    strcmp(value, "no-new-privileges:true") != 0) {
			snprintf(o.error, sizeof o.error, "bad --security-opt %s: expected seccomp=unconfined, seccomp=PROFILE.json or no-new-privileges", value);
			return false;
		}
		apply(o, f->what, value);
	}
	if (o.help || o.version || o.net_rm || o.cache_ls || o.cache_prune)
		return true;
	if (i >= argc) {
		snprintf(o.error, sizeof o.error, "no image given (see --help)");
		return false;
	}
	o.image = argv[i++];
	o.command = {const_cast<const char *const *>(argv + i), size_t(argc - i)};
	bool bridge = strcmp(o.net, "none") != 0 && strcmp(o.net, "host") != 0;
	if (o.netns && strcmp(o.net, "none") != 0) {
		snprintf(o.error, sizeof o.error, "--netns and --net %s exclude each other", o.net);
		return false;
	}
	if ((o.subnet || o.ip) && !bridge) {
		snprintf(o.error, sizeof o.error, "--%s needs --net NAME (a bridge network)", o.subnet ? "subnet" : "ip");
		return false;
	}
	return true;
}

inline void usage(int fd)
{
	dprintf(fd, "%s", "Usage: launcher [FLAGS] ARCHIVE[:REF] [COMMAND [ARG...]]\n"
	      "       launcher --net-rm NAME | --cache-ls | --cache-prune\n"
	      "Run an image archive (docker save, podman save, skopeo: docker or OCI layout)\nas PID 1 of fresh namespaces.\n\nFlags:\n");
	for (const flag &f : flags) {
		char left[48];
		snprintf(left, sizeof left, "%c%c%s--%s%s%s", f.short_name ? '-' : ' ',
			 f.short_name ? f.short_name : ' ', f.short_name ? ", " : "  ", f.long_name,
			 f.metavar ? " " : "", f.metavar ? f.metavar : "");
		dprintf(fd, "  %-30s %s\n", left, f.help);
	}
	dprintf(fd, "%s", "\nExit status: the command's; 128+N if signal N killed it; 125 if the launcher\n"
			  "failed; 126 if the command cannot be executed; 127 if it is not found.\n");
}

} // namespace options
