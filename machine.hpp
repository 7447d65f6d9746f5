// machine.hpp: when the kernel starts the launcher as the machine's PID 1 (an initramfs's
// /init), it first does an init's job: mount the kernel file systems, find its arguments
// on the kernel command line, load the modules a start needs, and in the end power off.
// The parsers (command line, shell words, modules.dep) are pure.
#pragma once
#include <cerrno>
#include <cstring>
#include <span>
#include <string_view>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <vector>

#include "sys.hpp"

namespace machine {

// The value of KEY=VALUE on a kernel command line, as the kernel splits it: spaces
// separate parameters except inside double quotes, which are dropped.
// "console=ttyS0 launcher.args=\"--net red /images/hello.tar\"" -> "--net red /images/hello.tar"
inline bool cmdline_value(std::string_view cmdline, std::string_view key, char *out, size_t cap)
{
	size_t i = 0;
	while (i < cmdline.size()) {
		while (i < cmdline.size() && (cmdline[i] == ' ' || cmdline[i] == '\n' || cmdline[i] == '\t'))
			i++;
		size_t n = 0;
		bool quoted = false, matched = false;
		size_t start = i;
		for (; i < cmdline.size() && (quoted || (cmdline[i] != ' ' && cmdline[i] != '\n' && cmdline[i] != '\t')); i++) {
			if (cmdline[i] == '"') {
				quoted = !quoted;
				continue;
			}
			if (!matched && i - start == key.size() && cmdline[i] == '=' && cmdline.substr(start, key.size()) == key) {
				matched = true;
				n = 0;
				continue;
			}
			if (matched && n + 1 < cap)
				out[n++] = cmdline[i];
		}
		if (matched) {
			out[n] = 0;
			return true;
		}
	}
	return false;
}

// Splits text into words as a shell would: whitespace separates, 'single quotes' keep
// everything, "double quotes" keep all but \" and \\, a backslash escapes the next
// character. The words are written NUL-terminated into text's own bytes (they never
// grow), and pointers to them appended to words. False on an unterminated quote.
inline bool split_words(char *text, std::vector<char *> &words)
{
	char *in = text, *out = text;
	for (;;) {
		while (*in == ' ' || *in == '\t' || *in == '\n')
			in++;
		if (!*in)
			return true;
		char *word = out;
		while (*in && *in != ' ' && *in != '\t' && *in != '\n') {
			if (*in == '\'') {
				for (in++; *in != '\''; in++) {
					if (!*in)
						return false;
					*out++ = *in;
				}
				in++;
			} else if (*in == '"') {
				for (in++; *in != '"'; in++) {
					if (!*in)
						return false;
					if (*in == '\\' && (in[1] == '"' || in[1] == '\\'))
						in++;
					*out++ = *in;
				}
				in++;
			} else if (*in == '\\' && in[1]) {
				*out++ = in[1];
				in += 2;
			} else {
				*out++ = *in++;
			}
		}
		bool more = *in != 0;
		*out++ = 0;
		words.push_back(word);
		if (!more)
			return true;
		in++;
	}
}

// The dependencies of module NAME in modules.dep ("path/name.ko: dep.ko dep2.ko"), to load
// in order: the dependencies last listed first, the module itself last. Paths are views
// into dep. False when the module is not listed.
inline bool module_load_order(std::string_view dep, std::string_view name, std::vector<std::string_view> &order)
{
	while (!dep.empty()) {
		size_t eol = dep.find('\n');
		std::string_view line = dep.substr(0, eol);
		dep.remove_prefix(eol == std::string_view::npos ? dep.size() : eol + 1);
		size_t colon = line.find(':');
		if (colon == std::string_view::npos)
			continue;
		std::string_view path = line.substr(0, colon);
		std::string_view base = path.substr(path.rfind('/') + 1);
		if (base.size() != name.size() + 3 || !base.starts_with(name) || !base.ends_with(".ko"))
			continue;
		std::vector<std::string_view> deps;
		std::string_view rest = line.substr(colon + 1);
		while (!rest.empty()) {
			size_t sp = rest.find(' ');
			std::string_view d = rest.substr(0, sp);
			if (!d.empty())
				deps.push_back(d);
			rest.remove_prefix(sp == std::string_view::npos ? rest.size() : sp + 1);
		}
		for (size_t i = deps.size(); i-- > 0;)
			order.push_back(deps[i]);
		order.push_back(path);
		return true;
	}
	return false;
}

// As the machine's PID 1: the time the kernel took to boot to our /init (the guest's
// CLOCK_MONOTONIC when main began), and the time spent loading modules since, which
// --verbose shows apart from the start's own steps.
inline bool as_init = false;
inline long module_us = 0;

// Loads a module and its dependencies with finit_module, as modprobe would, from
// /lib/modules/RELEASE. A module already loaded (EEXIST) is fine. False with errno set
// when the module is unknown or a load fails.
inline bool load_module(const char *name)
{
	utsname u;
	if (uname(&u) < 0)
		return false;
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "/lib/modules/%s", u.release);
	sys::unique_fd root(open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC));
	sys::unique_fd depfd(root ? openat(root.get(), "modules.dep", O_RDONLY | O_CLOEXEC) : -1);
	if (!depfd)
		return false;
	std::vector<char> dep(1 << 20);
	ssize_t n = read(depfd.get(), dep.data(), dep.size());
	if (n <= 0)
		return false;
	std::vector<std::string_view> order;
	if (!module_load_order({dep.data(), size_t(n)}, name, order)) {
		errno = ENOENT;
		return false;
	}
	for (std::string_view path : order) {
		char rel[PATH_MAX];
		snprintf(rel, sizeof rel, "%.*s", int(path.size()), path.data());
		long since = sys::elapsed_us();
		sys::unique_fd ko(openat(root.get(), rel, O_RDONLY | O_CLOEXEC));
		if (!ko || (syscall(SYS_finit_module, ko.get(), "", 0) < 0 && errno != EEXIST))
			return false;
		long took = sys::elapsed_us() - since;
		module_us += took;
		sys::step("loaded module %s in %ld.%03ld ms", rel, took / 1000, took % 1000);
	}
	return true;
}

// The kernel file systems an init mounts; already mounted ones (after our own re-exec)
// are left alone.
constexpr sys::mount_rule early_mounts[] = {
	{"proc", "/proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, nullptr},
	{"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, nullptr},
	{"cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NOEXEC | MS_NODEV, nullptr}, // limits, device policy
	{"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
	{"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,ptmxmode=0666"},
	{"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"},
	{"tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
};

inline void mount_early()
{
	if (access("/proc/self", F_OK) == 0)
		return; // done before our re-exec
	for (const sys::mount_rule &m : early_mounts) {
		if (mkdir(m.target, 0755) < 0 && errno != EEXIST)
			sys::die_errno("create %s", m.target);
		if (mount(m.source, m.target, m.fstype, m.flags, m.data) < 0 && errno != EBUSY)
			sys::die_errno("mount %s on %s", m.fstype, m.target);
	}
}

// PID 1 of a machine must never exit (the kernel would panic): sync and power off.
[[noreturn]] inline void power_off()
{
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

// The machine's PID 1 takes its arguments from the kernel command line,
// launcher.args="...", or else from /etc/launcher.args, split as a shell would.
inline void arguments(int &argc, char **&argv)
{
	static char text[4096];
	static std::vector<char *> words;
	words = {argv[0]};
	char cmdline[4096];
	sys::unique_fd fd(open("/proc/cmdline", O_RDONLY | O_CLOEXEC));
	ssize_t n = fd ? read(fd.get(), cmdline, sizeof cmdline - 1) : -1;
	bool found = n > 0 && cmdline_value({cmdline, size_t(n)}, "launcher.args", text, sizeof text);
	if (!found) {
		sys::unique_fd file(open("/etc/launcher.args", O_RDONLY | O_CLOEXEC));
		ssize_t m = file ? read(file.get(), text, sizeof text - 1) : -1;
		if (m <= 0)
			sys::die("no arguments: give launcher.args=\"...\" on the kernel command line or write /etc/launcher.args");
		text[m] = 0;
	}
	if (!split_words(text, words))
		sys::die("launcher.args: unterminated quote in %s", text);
	words.push_back(nullptr);
	argc = int(words.size() - 1);
	argv = words.data();
}

} // namespace machine
