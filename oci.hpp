// oci.hpp: the launcher as an OCI runtime, runc's drop-in for podman, docker and
// containerd. runc's command line (global flags, then a verb), the runtime-spec lifecycle
// (create builds everything and leaves the process waiting; start lets it exec; state,
// kill, delete; exec into a running container), a bundle's config.json read by
// bundle.hpp, the record kept by state.hpp, the root built by rootfs.hpp's functions.
//
// A create, step by step:
//   host side   parse config.json, make the state directory and its exec.fifo, the cgroup,
//               clone the container's first process into fresh (or joined) namespaces,
//               write its id maps, run the createRuntime and prestart hooks, say go
//   container   bind the root, make every mount and device inside it, the console, the
//               masks, run createContainer hooks, pivot_root, hostname, sysctls, find the
//               executable, tell the host it is ready, wait on exec.fifo
//   host side   write the record and the pid file, exit: the process stays a child of
//               whoever called create (conmon, the containerd shim are subreapers)
//   start       opens exec.fifo and writes a byte: the process runs startContainer hooks,
//               takes its user, capabilities, no_new_privs and seccomp filter, and execs.
#pragma once
#include <csignal>
#include <poll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>

#include "attach.hpp"
#include "bundle.hpp"
#include "confine.hpp"
#include "init.hpp"
#include "limits.hpp"
#include "lsm.hpp"
#include "rootfs.hpp"
#include "seccomp.hpp"
#include "spawn.hpp"
#include "state.hpp"
#include "sys.hpp"

#ifndef LAUNCHER_VERSION
#define LAUNCHER_VERSION "0.1"
#endif

namespace oci {

using sys::die;
using sys::die_errno;
using sys::step;

// ---- The command line: runc's ----------------------------------------------------------

enum class verb { none, create, start, state, kill, del, exec, ps, run, pause, resume, update, features, list };

struct verb_name {
	const char *name;
	verb v;
};
constexpr verb_name verbs[] = {
	{"create", verb::create}, {"start", verb::start},   {"state", verb::state},   {"kill", verb::kill},
	{"delete", verb::del},    {"exec", verb::exec},     {"ps", verb::ps},         {"run", verb::run},
	{"pause", verb::pause},   {"resume", verb::resume}, {"update", verb::update}, {"features", verb::features},
	{"list", verb::list},
};

// Every flag of every verb, one row each; `verbs` says where it is accepted. runc takes
// --flag VALUE, --flag=VALUE and the same with one dash.
enum class opt {
	root, log, log_format, systemd_cgroup, debug, rootless, criu, bundle, console_socket, pid_file, no_pivot,
	no_new_keyring, preserve_fds, all, force, process, detach, tty, cwd, env, user, cap, additional_gids, no_new_privs,
	format, resources, keep, process_label, apparmor, ignore_paused, cgroup, quiet
};

constexpr unsigned global = 1u << 31;
constexpr unsigned of(verb v) { return 1u << unsigned(v); }
constexpr unsigned making = of(verb::create) | of(verb::run);

struct option {
	const char *name;
	char short_name;
	bool takes_value;
	opt what;
	unsigned where;
};
constexpr option options[] = {
	{"root", 0, true, opt::root, global},
	{"log", 0, true, opt::log, global},
	{"log-format", 0, true, opt::log_format, global},
	{"systemd-cgroup", 0, false, opt::systemd_cgroup, global},
	{"debug", 0, false, opt::debug, global},
	{"rootless", 0, true, opt::rootless, global},
	{"criu", 0, true, opt::criu, global},
	{"bundle", 'b', true, opt::bundle, making},
	{"console-socket", 0, true, opt::console_socket, making | of(verb::exec)},
	{"pid-file", 0, true, opt::pid_file, making | of(verb::exec)},
	{"no-pivot", 0, false, opt::no_pivot, making},
	{"no-new-keyring", 0, false, opt::no_new_keyring, making},
	{"preserve-fds", 0, true, opt::preserve_fds, making | of(verb::exec)},
	{"all", 'a', false, opt::all, of(verb::kill)},
	{"force", 'f', false, opt::force, of(verb::del)},
	{"process", 'p', true, opt::process, of(verb::exec)},
	{"detach", 'd', false, opt::detach, of(verb::exec) | of(verb::run)},
	{"tty", 't', false, opt::tty, of(verb::exec)},
	{"cwd", 0, true, opt::cwd, of(verb::exec)},
	{"env", 'e', true, opt::env, of(verb::exec)},
	{"user", 'u', true, opt::user, of(verb::exec)},
	{"cap", 'c', true, opt::cap, of(verb::exec)},
	{"additional-gids", 'g', true, opt::additional_gids, of(verb::exec)},
	{"no-new-privs", 0, false, opt::no_new_privs, of(verb::exec)},
	{"process-label", 0, true, opt::process_label, of(verb::exec)},
	{"apparmor", 0, true, opt::apparmor, of(verb::exec)},
	{"ignore-paused", 0, false, opt::ignore_paused, of(verb::exec)},
	{"cgroup", 0, true, opt::cgroup, of(verb::exec)},
	{"format", 'f', true, opt::format, of(verb::ps) | of(verb::list)},
	{"quiet", 'q', false, opt::quiet, of(verb::list)},
	{"resources", 'r', true, opt::resources, of(verb::update)},
	{"keep", 0, false, opt::keep, of(verb::run)},
};

struct command {
	verb v = verb::none;
	const char *root = nullptr, *log = nullptr, *bundle = ".", *console_socket = nullptr, *pid_file = nullptr;
	const char *process = nullptr, *cwd = nullptr, *user = nullptr, *format = "table", *resources = nullptr;
	bool json_log = false, systemd = false, all = false, force = false, detach = false, tty = false, keep = false;
	bool no_new_privs = false, quiet = false;
	unsigned preserve_fds = 0;
	std::vector<const char *> env, caps, gids, words; // words: the id, then the signal or command
	char error[160] = "";
};

inline bool is_verb(const char *word)
{
	return std::any_of(std::begin(verbs), std::end(verbs), [&](const verb_name &v) { return strcmp(word, v.name) == 0; });
}

// Whether argv (after the program name) is runc's: global flags, then a verb. A flag that
// is not runc's global one is runc's mistake when a verb follows it (`--bogus state ID`),
// and parse reports it as runc does; before anything else it belongs to the image command
// line.
inline bool is_runtime_call(int argc, char *const *argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-')
			return is_verb(a);
		std::string_view name(a + (a[1] == '-' ? 2 : 1));
		name = name.substr(0, name.find('='));
		const option *o = std::find_if(std::begin(options), std::end(options), [&](const option &x) { return (x.where & global) && name == x.name; });
		if (o == std::end(options))
			return i + 1 < argc && is_verb(argv[i + 1]);
		if (o->takes_value && !strchr(a, '='))
			i++;
	}
	return false;
}

inline bool parse(int argc, char *const *argv, command &c)
{
	unsigned where = global;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (c.v == verb::exec && !c.words.empty()) { // the command, with its own flags
			c.words.push_back(a);
			continue;
		}
		if (strcmp(a, "--") == 0) {
			while (++i < argc)
				c.words.push_back(argv[i]);
			break;
		}
		if (a[0] != '-' || !a[1]) {
			if (c.v != verb::none) {
				c.words.push_back(a);
				continue;
			}
			for (const verb_name &v : verbs)
				if (strcmp(a, v.name) == 0)
					c.v = v.v;
			if (c.v == verb::none) {
				snprintf(c.error, sizeof c.error, "unknown command %s", a);
				return false;
			}
			where = of(c.v);
			continue;
		}
		std::string_view name(a + (a[1] == '-' ? 2 : 1));
		const char *value = nullptr;
		if (size_t eq = name.find('='); eq != name.npos)
			value = name.data() + eq + 1, name = name.substr(0, eq);
		const option *o = nullptr;
		for (const option &x : options)
			if ((x.where & where) && (name == x.name || (a[1] != '-' && name.size() == 1 && name[0] == x.short_name)))
				o = &x;
		if (!o) {
			snprintf(c.error, sizeof c.error, "flag provided but not defined: %.*s", int(strcspn(a, "=")), a);
			return false;
		}
		if (o->takes_value && !value) {
			if (i + 1 >= argc) {
				snprintf(c.error, sizeof c.error, "flag needs an argument: %s", a);
				return false;
			}
			value = argv[++i];
		}
		bool on = !value || strcmp(value, "false") != 0; // --detach=false
		switch (o->what) {
		case opt::root: c.root = value; break;
		case opt::log: c.log = value; break;
		case opt::log_format:
			if (strcmp(value, "json") != 0 && strcmp(value, "text") != 0) {
				snprintf(c.error, sizeof c.error, "invalid log-format: %s", value);
				return false;
			}
			c.json_log = strcmp(value, "json") == 0;
			break;
		case opt::systemd_cgroup: c.systemd = on; break;
		case opt::debug: sys::verbose = on; break;
		case opt::bundle: c.bundle = value; break;
		case opt::console_socket: c.console_socket = value; break;
		case opt::pid_file: c.pid_file = value; break;
		case opt::preserve_fds: c.preserve_fds = unsigned(sys::leading_number(value)); break;
		case opt::all: c.all = on; break;
		case opt::force: c.force = on; break;
		case opt::process: c.process = value; break;
		case opt::detach: c.detach = on; break;
		case opt::tty: c.tty = on; break;
		case opt::cwd: c.cwd = value; break;
		case opt::env: c.env.push_back(value); break;
		case opt::user: c.user = value; break;
		case opt::cap: c.caps.push_back(value); break;
		case opt::additional_gids: c.gids.push_back(value); break;
		case opt::no_new_privs: c.no_new_privs = on; break;
		case opt::format: c.format = value; break;
		case opt::quiet: c.quiet = on; break;
		case opt::resources: c.resources = value; break;
		case opt::keep: c.keep = on; break;
		case opt::process_label:
		case opt::apparmor:
			if (*value) {
				snprintf(c.error, sizeof c.error, "--%s: no AppArmor or SELinux label can be applied here", o->name);
				return false;
			}
			break;
		case opt::cgroup:
			snprintf(c.error, sizeof c.error, "--cgroup is not supported");
			return false;
		case opt::rootless:
		case opt::criu:
		case opt::no_pivot: // pivot_root always: the fallback for an initramfs is automatic
		case opt::no_new_keyring:
		case opt::ignore_paused: break;
		}
	}
	if (c.v == verb::none) {
		snprintf(c.error, sizeof c.error, "no command given");
		return false;
	}
	bool needs_id = c.v != verb::features && c.v != verb::list;
	if (needs_id && (c.words.empty() || !state::valid_id(c.words[0]))) {
		snprintf(c.error, sizeof c.error, c.words.empty() ? "%s: a container id is needed" : "%s: invalid container id", verbs[int(c.v) - 1].name);
		return false;
	}
	return true;
}

// ---- Errors: one line on stderr, and one JSON object in --log ------------------------------

inline int log_fd = -1;
inline bool log_json = false;

using state::rfc3339;

inline void log_line(const char *line)
{
	if (log_fd < 0)
		return;
	char text[1024], when[40];
	rfc3339(when);
	size_t n;
	if (log_json) {
		n = size_t(snprintf(text, sizeof text, "{\"level\":\"error\",\"msg\":"));
		n = state::put_json_string(text, sizeof text, n, line);
		n += size_t(snprintf(text + n, n < sizeof text ? sizeof text - n : 0, ",\"time\":\"%s\"}\n", when));
	} else {
		n = size_t(snprintf(text, sizeof text, "time=\"%s\" level=error msg=\"%s\"\n", when, line));
	}
	(void)!write(log_fd, text, std::min(n, sizeof text - 1));
}

// ---- The signals kill takes ----------------------------------------------------------------

constexpr const char *signal_names[] = {
	"",     "HUP",  "INT",  "QUIT", "ILL",  "TRAP", "ABRT", "BUS",    "FPE",  "KILL",   "USR1",
	"SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN",
	"TTOU", "URG",  "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO",  "PWR",  "SYS",
};

// "9", "KILL", "SIGKILL", "kill", "RTMIN+3"; 0 when unknown.
inline int signal_number(std::string_view s)
{
	if (s.size() > 3 && (s.substr(0, 3) == "SIG" || s.substr(0, 3) == "sig"))
		s.remove_prefix(3);
	int n = 0;
	if (!s.empty() && s.find_first_not_of("0123456789") == s.npos && s.size() < 4) {
		for (char c : s)
			n = n * 10 + (c - '0');
		return n > 0 && n < _NSIG ? n : 0;
	}
	for (int i = 1; i < int(std::size(signal_names)); i++) {
		std::string_view name = signal_names[i];
		bool same = name.size() == s.size();
		for (size_t k = 0; same && k < s.size(); k++)
			same = (s[k] >= 'a' && s[k] <= 'z' ? s[k] - 32 : s[k]) == name[k]; // USR1's digit stays a digit
		if (same)
			return i;
	}
	if (s.substr(0, 6) == "RTMIN+" && s.size() < 9)
		return n = int(sys::leading_number(s.data() + 6)), SIGRTMIN + n < _NSIG ? SIGRTMIN + n : 0;
	return 0;
}


// ---- cgroups: the bundle's cgroupsPath, through limits.hpp -------------------------------

// The path below the hierarchies' roots: cgroupsPath (cgroupfs or systemd's
// slice:prefix:name form), else /launcher.ID (a leaf of its own, nothing to share).
inline void cgroup_spec(const container::description &cfg, const char *id, bool systemd, char (&out)[PATH_MAX])
{
	if (*cfg.cgroups_path)
		snprintf(out, sizeof out, "%s", cfg.cgroups_path);
	else
		snprintf(out, sizeof out, systemd ? ":launcher:%s" : "/launcher.%s", id);
}

// The cgroup of a record, as create made it: cgroup2's directory and each v1 one that is there.
inline void cgroup_of_record(const state::record &r, limits::cgroup &cg)
{
	limits::detect(cg);
	snprintf(cg.path, sizeof cg.path, "%s", r.cgroups);
	snprintf(cg.v1_path, sizeof cg.v1_path, "%s", r.cgroups);
	char dir[PATH_MAX];
	for (size_t i = 0; !cg.v2 && i < std::size(limits::v1_controllers); i++) {
		cg.v1 |= 1u << i;
		limits::dir_of(cg, limits::v1_controllers[i], dir);
		if (access(dir, F_OK) < 0)
			cg.v1 &= ~(1u << i);
	}
	cg.owned = true;
}

// The bundle's resources as limits.hpp takes them.
inline limits::resources resources_of(const container::resources &b)
{
	limits::resources r;
	r.memory = b.memory, r.memory_reservation = b.memory_reservation, r.memory_swap = b.memory_swap;
	r.cpu_shares = b.cpu_shares, r.cpu_quota = b.cpu_quota, r.cpu_period = b.cpu_period;
	r.cpus = *b.cpus ? b.cpus : nullptr, r.mems = *b.mems ? b.mems : nullptr;
	r.pids = b.pids;
	r.set_devices = true;
	r.devices = b.devices;
	return r;
}

inline std::vector<pid_t> cgroup_pids(const limits::cgroup &cg)
{
	static pid_t list[4096];
	size_t n = limits::pids(cg, list, std::size(list));
	return std::vector<pid_t>(list, list + std::min(n, std::size(list)));
}

// ---- Hooks ------------------------------------------------------------------------------

// Runs one hook with the container's state on its stdin, within its timeout: 0, or why not.
inline int run_hook(const container::hook &h, std::string_view state_json, char (&why)[160])
{
	int in[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		die_errno("pipe");
	std::vector<const char *> argv = h.args, env = h.env;
	if (argv.empty())
		argv.push_back(h.path);
	argv.push_back(nullptr);
	env.push_back(nullptr);
	pid_t pid = pid_t(sys::clone_fork(SIGCHLD));
	if (pid == 0) {
		dup2(in[0], 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, nullptr);
		execve(h.path, const_cast<char *const *>(argv.data()), const_cast<char *const *>(env.data()));
		dprintf(2, "launcher: hook %s: %s\n", h.path, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	if (pid < 0)
		die_errno("run hook %s", h.path);
	sys::set_action(SIGPIPE, SIG_IGN); // a hook need not read its stdin
	(void)!write(in[1], state_json.data(), state_json.size());
	close(in[1]);
	sys::unique_fd pidfd(int(syscall(SYS_pidfd_open, pid, 0)));
	pollfd p = {pidfd.get(), POLLIN, 0};
	int ws = 0;
	if (pidfd && poll(&p, 1, h.timeout ? h.timeout * 1000 : -1) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &ws, 0);
		snprintf(why, sizeof why, "hook %s: timed out after %d s", h.path, h.timeout);
		return ETIMEDOUT;
	}
	if (waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
		snprintf(why, sizeof why, "hook %s: exited with status %d", h.path, init::status_code(ws));
		return ECHILD;
	}
	return 0;
}

// The hooks of one kind, in order; the first to fail ends the create (die), except
// poststart and poststop, whose failures are warnings.
inline void run_hooks(const container::description &cfg, container::hook_kind k, const state::record &r, const char *status)
{
	if (cfg.hooks[k].empty())
		return;
	static char text[PATH_MAX * 3 + 8192];
	state::format(r, status, false, text, sizeof text);
	for (const container::hook &h : cfg.hooks[k]) {
		char why[160];
		if (run_hook(h, text, why) == 0)
			continue;
		if (k == container::poststart || k == container::poststop)
			dprintf(2, "launcher: warning: %s hook: %s\n", container::hook_names[k], why);
		else
			die("%s hook: %s", container::hook_names[k], why);
	}
}

// ---- The container's first process ------------------------------------------------------

// Where the executable of args[0] is, looked up at create as runc does, in the PATH of
// the process's own environment: a missing one fails the create (engines map the words
// "executable file not found" to exit 127).
inline const char *find_executable(const container::process &p, char (&out)[PATH_MAX])
{
	const char *file = p.args[0];
	struct stat st;
	auto runnable = [&](const char *path) { return stat(path, &st) == 0 && S_ISREG(st.st_mode); };
	if (strchr(file, '/')) {
		if (!runnable(file))
			die("exec: \"%s\": stat %s: no such file or directory", file, file);
		return file;
	}
	const char *path = image::get_env(p.env, "PATH");
	for (const char *dir = path ? path : container::default_path; *dir;) {
		size_t len = strcspn(dir, ":");
		snprintf(out, sizeof out, "%.*s%s%s", int(len), dir, len ? "/" : "", file);
		if (runnable(out))
			return out;
		dir += len + (dir[len] == ':');
	}
	die("exec: \"%s\": executable file not found in $PATH", file);
}

// The first process's terminal is also the container's /dev/console.
inline int make_console(int root, int sock, const container::process &p)
{
	int slave = attach::make_pty(root, sock, p);
	sys::unique_fd console(rootfs::open_in_root(root, "/dev/console", false));
	rootfs::bind_fd(slave, console.get(), "/dev/console");
	return slave;
}

inline void use_terminal(int slave)
{
	if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
		die_errno("make the terminal the process's own");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			die_errno("give the terminal as stdio");
}


inline uint64_t ns_inode(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

// Closes every descriptor from 3 up but `keep` (and the --preserve-fds ones, 3 to 3+N-1).
inline void keep_only(std::initializer_list<int> keep, unsigned preserve)
{
	int sorted[8], n = 0;
	for (int fd : keep)
		if (fd >= int(3 + preserve))
			sorted[n++] = fd;
	for (int i = 1; i < n; i++) // insertion sort: a handful of descriptors
		for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--)
			std::swap(sorted[j - 1], sorted[j]);
	unsigned from = 3 + preserve;
	for (int i = 0; i < n; from = unsigned(sorted[i++]) + 1)
		if (unsigned(sorted[i]) > from && sys::close_range(from, unsigned(sorted[i]) - 1, 0) < 0)
			die_errno("close the runtime's descriptors");
	if (sys::close_range(from, ~0U, 0) < 0)
		die_errno("close the runtime's descriptors");
}

// What the host side tells the container's first process: go, you are this pid.
struct go_message {
	pid_t host_pid;
};

// Everything create hands the child, made on the host side before the clone.
struct child_setup {
	const container::description *cfg;
	state::record *rec;
	const seccomp::program *filter; // nullptr: none
	int go, ready, fifo, console;   // pipe ends, exec.fifo (read side), console socket
	unsigned long own_ns;           // the namespaces the container has of its own
	unsigned preserve_fds;
};

// Execs the process: after exec.fifo, startContainer hooks, the umask, the fds, the
// privileges. Only stdio (and --preserve-fds) reach it.
// For an exec (`born` >= 0): the process that takes the privileges is not yet in the
// container's pid namespace, and the one that execs is forked into it, already confined,
// its pid written to `born`; it takes `slave` as its terminal, or `null_stdio` as its stdio
// (the first child kept the caller's, to say why it failed).
[[noreturn]] inline void exec_process(const container::process &p, const char *file, const seccomp::program *filter, bool userns,
				      unsigned preserve_fds, int born = -1, int slave = -1, int null_stdio = -1)
{
	umask(p.umask < 0 ? 022 : mode_t(p.umask));
	if (sys::close_range(3 + preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		die_errno("close the runtime's descriptors");
	sys::reset_signals();
	std::vector<const char *> argv = p.args, env = p.env;
	argv.push_back(nullptr);
	env.push_back(nullptr);
	if (int err = confine::take_privileges(p, filter, userns)) {
		errno = err;
		die_errno("set the process's user and capabilities");
	}
	if (born >= 0) {
		pid_t pid = pid_t(sys::clone_fork(CLONE_PARENT | SIGCHLD));
		if (pid < 0)
			die_errno("fork into the container");
		if (pid > 0)
			_exit(write(born, &pid, sizeof pid) == sizeof pid ? 0 : 1);
		if (slave >= 0)
			use_terminal(slave);
		for (int fd = 0; null_stdio >= 0 && fd < 3; fd++)
			if (dup2(null_stdio, fd) < 0)
				die_errno("open /dev/null");
		if (sys::close_range(3 + preserve_fds, ~0U, 0) < 0) // the console socket, the log
			die_errno("close the runtime's descriptors");
	}
	if (*p.apparmor && lsm::apparmor_enabled())
		if (int err = lsm::apparmor_exec(p.apparmor))
			die("apply AppArmor profile %s: %s", p.apparmor, lsm::why_refused(err));
	execve(file, const_cast<char *const *>(argv.data()), const_cast<char *const *>(env.data()));
	confine::exec_failed(file, errno);
}

[[noreturn]] inline void container_main(child_setup &s)
{
	const container::description &cfg = *s.cfg;
	sys::at_die = nullptr; // what the host made is the host's to undo
	// No process of the container may ptrace this one or open its /proc/PID/exe while it
	// holds the runtime's privileges (exec makes the process dumpable again).
	if (prctl(PR_SET_DUMPABLE, 0) < 0)
		die_errno("make the container's first process non-dumpable");
	go_message go;
	if (read(s.go, &go, sizeof go) != sizeof go)
		_exit(1);
	s.rec->pid = go.host_pid;
	// Only what the process needs stays open: a host directory left open (the state root,
	// the cgroup's) could become its cwd through /proc/self/fd (CVE-2024-21626).
	keep_only({s.go, s.ready, s.fifo, s.console, log_fd}, s.preserve_fds);
	bool userns = s.own_ns & CLONE_NEWUSER;
	if (userns)
		users::become_namespace_root();
	for (int pass = 0; pass < 2; pass++) // a user namespace first: it owns the others
		for (const container::description::join &j : cfg.joined) {
			if ((j.type == CLONE_NEWUSER) != (pass == 0) || j.type == CLONE_NEWPID)
				continue;
			sys::unique_fd ns(open(j.path, O_RDONLY | O_CLOEXEC));
			if (!ns || setns(ns.get(), int(j.type)) < 0)
				die_errno("join namespace %s", j.path);
		}
	if ((s.own_ns & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		die_errno("make the cgroup namespace");
	// A new time namespace holds this process's children, and this process from its execve.
	if ((s.own_ns & 0x80) && unshare(0x80 /* CLONE_NEWTIME */) < 0)
		die_errno("make a time namespace");
	// Nothing mounted here propagates to the host; the host's mounts still reach us
	// (runc's default, rslave), unless the bundle says private.
	unsigned long propagation = cfg.rootfs_propagation ? cfg.rootfs_propagation : MS_SLAVE | MS_REC;
	if (propagation & MS_SHARED)
		die("linux.rootfsPropagation: shared is not supported");
	if (mount(nullptr, "/", nullptr, propagation, nullptr) < 0)
		die_errno("set the propagation of /");
	if (mount(s.rec->rootfs, s.rec->rootfs, nullptr, MS_BIND | MS_REC, nullptr) < 0)
		die_errno("bind the root %s", s.rec->rootfs);
	sys::unique_fd root(open(s.rec->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (!root)
		die_errno("open the root %s", s.rec->rootfs);
	umask(0);
	rootfs::mount_all(root.get(), cfg, userns, s.own_ns & CLONE_NEWCGROUP);
	bool dev_bound = std::any_of(cfg.mounts.begin(), cfg.mounts.end(),
				     [](const container::mount &m) { return strcmp(m.destination, "/dev") == 0 && (m.flags & MS_BIND); });
	rootfs::make_devices(root.get(), cfg.devices, userns, !dev_bound);
	int terminal = cfg.proc.terminal ? make_console(root.get(), s.console, cfg.proc) : -1;
	if (s.console >= 0)
		close(s.console);
	rootfs::write_sysctls(root.get(), cfg);
	rootfs::mask_paths(root.get(), cfg.masked, cfg.readonly);
	run_hooks(cfg, container::create_container, *s.rec, "creating"); // create has not finished
	rootfs::enter(root.get());
	root.reset();
	umask(022);
	rootfs::finish(cfg); // (create refused a host name without a UTS namespace)
	static char file_buf[PATH_MAX];
	const char *file = find_executable(cfg.proc, file_buf);
	if (terminal >= 0)
		use_terminal(terminal);
	// Ready: create returns. The process waits for start's byte on exec.fifo.
	if (write(s.ready, "r", 1) != 1)
		_exit(1);
	close(s.ready);
	close(s.go);
	pollfd p = {s.fifo, POLLIN, 0};
	char byte;
	while (poll(&p, 1, -1) < 0 && errno == EINTR) {
	}
	if (read(s.fifo, &byte, 1) != 1)
		_exit(1); // opened and closed without a word: no start
	close(s.fifo);
	run_hooks(cfg, container::start_container, *s.rec, "created"); // the process has not run yet (runc's status too)
	exec_process(cfg.proc, file, s.filter, userns, s.preserve_fds);
}


// ---- The verbs --------------------------------------------------------------------------

struct context {
	command cmd;
	int root = -1;                // the state root
	char root_path[PATH_MAX] = "";
	// exec of a `launcher run` container (containers.hpp): its process and filter as the
	// run saved them, the pty's socket, and how to wait for the process.
	const container::process *process = nullptr;
	const seccomp::program *filter = nullptr;
	int console = -1;
	int (*wait)(pid_t, const sigset_t &) = nullptr;
	int detached_stdio = -1; // docker's exec -d: /dev/null, the process's stdio once forked into the container
};

inline void open_state_root(context &x)
{
	state::state_root_path(x.cmd.root, x.root_path);
	sys::mkdirs(x.root_path, 0700);
	if ((x.root = open(x.root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die_errno("open the state root %s", x.root_path);
}

// A container's record, its directory open, and whether its process lives.
struct container_ref {
	state::record rec;
	sys::unique_fd dir;
	std::vector<char> text;
	std::vector<json::token> tokens;
	limits::cgroup cg;
};

inline bool load(context &x, const char *id, container_ref &c)
{
	c.dir.reset(openat(x.root, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
	if (!c.dir)
		return false;
	// A record whose create was killed before it wrote state.json is no container (runc's
	// rule too): `state` and `delete` say it does not exist, `list` passes over it.
	if (faccessat(c.dir.get(), "state.json", F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		return false;
	if (!state::read_file(c.dir.get(), "state.json", c.text) || !state::parse({c.text.data(), c.text.size()}, c.tokens, c.rec))
		die("container %s: its state %s/%s/state.json cannot be read", id, x.root_path, id);
	cgroup_of_record(c.rec, c.cg);
	return true;
}

inline void load_or_die(context &x, const char *id, container_ref &c)
{
	if (!load(x, id, c))
		die("container \"%s\" does not exist", id);
}

inline const char *status_of(const container_ref &c)
{
	if (!state::alive(c.rec))
		return "stopped";
	struct stat st;
	if (fstatat(c.dir.get(), "exec.fifo", &st, AT_SYMLINK_NOFOLLOW) == 0)
		return "created";
	return limits::frozen(c.cg) ? "paused" : "running";
}

// The bundle's config.json as create saved it (hooks for delete, the process for exec).
inline void load_config(container_ref &c, std::vector<char> &text, std::vector<char> &store, std::vector<json::token> &tokens, container::description &cfg)
{
	if (!state::read_file(c.dir.get(), "config.json", text))
		die_errno("container %s: read its saved config.json", c.rec.id);
	if (image::problem p = bundle::parse_config({text.data(), text.size()}, store, tokens, cfg))
		die("container %s: saved config.json: %s at byte %zu", c.rec.id, p.what, p.offset);
}

inline void write_pid_file(const char *path, pid_t pid)
{
	char text[16], tmp[PATH_MAX];
	int n = snprintf(text, sizeof text, "%d", pid); // no newline: engines parse it with Atoi
	snprintf(tmp, sizeof tmp, "%s.launcher-tmp", path);
	sys::unique_fd fd(open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
	if (!fd || write(fd.get(), text, size_t(n)) != n || rename(tmp, path) < 0)
		die_errno("write the pid file %s", path);
}

inline int connect_console(const char *path)
{
	sockaddr_un a = {};
	a.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof a.sun_path)
		die("console socket %s: path too long", path);
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) < 0)
		die_errno("connect to the console socket %s", path);
	return fd;
}

// What a failing create leaves behind, given back (sys::at_die).
inline struct {
	pid_t child = -1;
	limits::cgroup *cg = nullptr;
	int root = -1;
	const char *id = nullptr;
} undo;

inline void undo_create()
{
	if (undo.child > 0 && kill(undo.child, SIGKILL) == 0)
		waitpid(undo.child, nullptr, 0);
	if (undo.cg) {
		limits::cgroup *cg = undo.cg;
		undo.cg = nullptr;
		limits::remove(*cg);
	}
	if (undo.id)
		state::remove_dir(undo.root, undo.id);
	undo = {};
}

inline void read_bundle(const char *bundle_dir, char (&abs)[PATH_MAX], std::vector<char> &text, std::vector<char> &store,
			std::vector<json::token> &tokens, container::description &cfg)
{
	if (!sys::real_path(bundle_dir, abs))
		die_errno("bundle %s", bundle_dir);
	sys::unique_fd dir(open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (!dir || !state::read_file(dir.get(), "config.json", text))
		die_errno("read %s/config.json", abs);
	if (image::problem p = bundle::parse_config({text.data(), text.size()}, store, tokens, cfg))
		die("%s/config.json: %s at byte %zu", abs, p.what, p.offset);
}

// process.apparmorProfile where AppArmor is active: one the kernel holds, applied at the
// exec (exec_process); where it is not, there is nothing to apply (runc's too). An SELinux
// label is refused where SELinux is active: the launcher composes no context.
inline void check_labels(const container::description &cfg)
{
	if (*cfg.proc.apparmor && lsm::apparmor_enabled())
		if (int err = lsm::apparmor_check(cfg.proc.apparmor))
			die("process.apparmorProfile %s: %s", cfg.proc.apparmor, lsm::why_refused(err));
	if ((*cfg.proc.selinux || *cfg.mount_label) && lsm::selinux_enabled())
		die("SELinux labels are not supported");
}

// create, and run's first half: everything from config.json, the process left waiting.
inline pid_t create(context &x, const char *id, std::vector<char> &config_text, container::description &cfg, state::record &rec,
		    limits::cgroup &cg, seccomp::program &filter)
{
	static char bundle_abs[PATH_MAX];
	std::vector<char> store;
	std::vector<json::token> tokens;
	read_bundle(x.cmd.bundle, bundle_abs, config_text, store, tokens, cfg);
	check_labels(cfg);
	// A host name without a UTS namespace of the container's would be the host's (runc's words).
	if (!container::has_namespace(cfg, CLONE_NEWUTS) && ((cfg.hostname && *cfg.hostname) || (cfg.domainname && *cfg.domainname)))
		die("unable to set hostname without a private UTS namespace");
	if (!(cfg.new_namespaces & CLONE_NEWNS))
		die("linux.namespaces: the launcher needs a mount namespace of the container's own");
	bool has_filter = !cfg.seccomp.empty();
	if (has_filter) {
		char why[160];
		if (!seccomp::compile(cfg.seccomp, cfg.proc.caps[container::effective], filter, why, sizeof why, seccomp::kernel_version()))
			die("linux.seccomp: %s", why);
	}
	if (cfg.proc.terminal && !x.cmd.console_socket && x.console < 0)
		die(x.cmd.v == verb::run ? "cannot allocate tty if runc will detach without setting console socket"
					 : "process.terminal is true: --console-socket is needed");
	snprintf(rec.id, sizeof rec.id, "%s", id);
	snprintf(rec.bundle, sizeof rec.bundle, "%s", bundle_abs);
	if (cfg.root[0] == '/')
		snprintf(rec.rootfs, sizeof rec.rootfs, "%s", cfg.root);
	else
		snprintf(rec.rootfs, sizeof rec.rootfs, "%s/%s", bundle_abs, cfg.root);
	char real_root[PATH_MAX];
	if (!sys::real_path(rec.rootfs, real_root))
		die_errno("root.path %s", rec.rootfs);
	snprintf(rec.rootfs, sizeof rec.rootfs, "%s", real_root);
	rec.annotations = cfg.annotations;
	rec.systemd = x.cmd.systemd;
	rfc3339(rec.created);

	if (mkdirat(x.root, id, 0700) < 0)
		die_errno(errno == EEXIST ? "container with id exists: %s" : "create the state of %s", id);
	sys::at_die = undo_create;
	undo.root = x.root, undo.id = id;
	sys::unique_fd dir(openat(x.root, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
	if (!dir || mkfifoat(dir.get(), "exec.fifo", 0600) < 0)
		die_errno("create %s/%s/exec.fifo", x.root_path, id);
	sys::unique_fd fifo(openat(dir.get(), "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
	if (!fifo)
		die_errno("open %s/%s/exec.fifo", x.root_path, id);
	sys::unique_fd console(!cfg.proc.terminal ? -1 : x.cmd.console_socket ? connect_console(x.cmd.console_socket) : dup(x.console));
	if (cfg.proc.terminal && !console)
		die_errno("the console socket");

	// runc's rule: the default devices and every node of linux.devices are allowed after
	// the bundle's own rules (engines send "deny all" first and rely on it).
	for (const security::device_rule &d : security::device_rules)
		cfg.res.devices.push_back(d);
	for (const container::device &d : cfg.devices)
		if (d.type != 'p')
			cfg.res.devices.push_back({d.type == 'b' ? 'b' : 'c', int16_t(d.major), int32_t(d.minor), security::dev_rwm, true});
	char spec[PATH_MAX];
	cgroup_spec(cfg, id, x.cmd.systemd, spec);
	undo.cg = &cg;
	limits::create_at(cg, spec, resources_of(cfg.res));
	snprintf(rec.cgroups, sizeof rec.cgroups, "%s", cg.path);

	// A pid namespace joined by path is the process's alone: the hooks (createRuntime,
	// prestart, and run's poststart and poststop) run in the runtime's.
	sys::unique_fd pid_ns;
	const char *pid_ns_path = nullptr;
	for (const container::description::join &j : cfg.joined)
		if (j.type == CLONE_NEWPID && (pid_ns.reset(open(j.path, O_RDONLY | O_CLOEXEC)), pid_ns_path = j.path, !pid_ns))
			die_errno("join namespace %s", j.path);
	int go[2], ready[2];
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0)
		die_errno("pipe");
	child_setup setup = {&cfg, &rec, has_filter ? &filter : nullptr, go[0], ready[1], fifo.get(), console.get(), 0, x.cmd.preserve_fds};
	setup.own_ns = cfg.new_namespaces;
	bool born_in_cgroup;
	pid_t pid = spawn::clone_child(cfg, cg, pid_ns.get(), pid_ns_path, 0, born_in_cgroup);
	if (pid == 0) {
		close(go[1]);
		close(ready[0]);
		container_main(setup);
	}
	undo.child = pid;
	close(go[0]);
	close(ready[1]);
	fifo.reset();
	console.reset();
	spawn::admit(cfg, cg, pid, born_in_cgroup, false);
	bool dead;
	rec.pid = pid;
	rec.start_time = state::process_start(pid, dead);
	run_hooks(cfg, container::create_runtime, rec, "creating");
	run_hooks(cfg, container::prestart, rec, "creating");
	go_message msg = {pid};
	char byte;
	if (write(go[1], &msg, sizeof msg) != sizeof msg || read(ready[0], &byte, 1) != 1) {
		// The process said why on stderr (and in --log); give back what create made.
		log_fd = -1;
		undo_create();
		_exit(1);
	}
	close(go[1]);
	close(ready[0]);
	static char text[PATH_MAX * 4 + 65536];
	size_t n = state::format(rec, "created", true, text, sizeof text);
	state::write_file(dir.get(), "config.json", {config_text.data(), config_text.size()}, "the saved config.json");
	state::write_file(dir.get(), "state.json", {text, n}, "the container's state");
	if (x.cmd.pid_file)
		write_pid_file(x.cmd.pid_file, pid);
	sys::at_die = nullptr;
	undo = {};
	return pid;
}

// start: exec.fifo's byte lets the waiting process exec.
inline void start(container_ref &c)
{
	const char *status = status_of(c);
	if (strcmp(status, "created") != 0)
		die("cannot start a container that is %s", status);
	sys::unique_fd fifo(openat(c.dir.get(), "exec.fifo", O_WRONLY | O_NONBLOCK | O_CLOEXEC));
	if (!fifo || write(fifo.get(), "0", 1) != 1)
		die_errno("start container %s", c.rec.id);
	fifo.reset();
	unlinkat(c.dir.get(), "exec.fifo", 0);
	std::vector<char> text, store;
	std::vector<json::token> tokens;
	container::description cfg;
	load_config(c, text, store, tokens, cfg);
	run_hooks(cfg, container::poststart, c.rec, "running");
}

inline void wait_gone(const container_ref &c)
{
	for (int i = 0; i < 1000 && state::alive(c.rec); i++)
		usleep(10000);
	for (int i = 0; i < 500 && limits::pids(c.cg, nullptr, 0); i++)
		usleep(10000);
}

// delete: the record, the cgroup, poststop hooks; a created (or, --force, a running)
// container is killed first.
inline int destroy(context &x, const char *id)
{
	container_ref c;
	if (!load(x, id, c)) {
		if (!x.cmd.force)
			die("container \"%s\" does not exist", id);
		// What a killed create left: its directory, and its cgroup at the default path
		// (empty: its process died with the create).
		state::record half;
		snprintf(half.cgroups, sizeof half.cgroups, "/launcher.%s", id);
		cgroup_of_record(half, c.cg);
		limits::remove(c.cg);
		state::remove_dir(x.root, id);
		return 0;
	}
	const char *status = status_of(c);
	if (strcmp(status, "stopped") != 0) {
		if (strcmp(status, "created") != 0 && !x.cmd.force)
			die("cannot delete container %s that is not stopped: %s", id, status);
		// A frozen process dies only once thawed: v1's freezer holds it even against
		// cgroup.kill of the hybrid host's cgroup2.
		if (strcmp(status, "paused") == 0)
			limits::freeze(c.cg, false);
		kill(c.rec.pid, SIGKILL);
	}
	// What is left in the cgroup goes too, stopped or not: without a pid namespace of its
	// own, the process's children outlive it (and their cgroup could not be removed).
	limits::kill_all(c.cg);
	wait_gone(c);
	std::vector<char> text, store;
	std::vector<json::token> tokens;
	container::description cfg;
	load_config(c, text, store, tokens, cfg);
	limits::remove(c.cg);
	run_hooks(cfg, container::poststop, c.rec, "stopped");
	state::remove_dir(x.root, id);
	return 0;
}

inline int print_state(container_ref &c)
{
	static char text[PATH_MAX * 4 + 65536];
	size_t n = state::format(c.rec, status_of(c), false, text, sizeof text);
	text[n++] = '\n';
	return write(1, text, n) == ssize_t(n) ? 0 : 1;
}

inline int kill_container(container_ref &c, const command &cmd)
{
	int sig = cmd.words.size() > 1 ? signal_number(cmd.words[1]) : SIGTERM;
	if (!sig)
		die("unknown signal %s", cmd.words[1]);
	if (cmd.all) {
		for (pid_t p : cgroup_pids(c.cg))
			kill(p, sig);
		return 0;
	}
	if (!state::alive(c.rec))
		die("container not running");
	if (kill(c.rec.pid, sig) < 0)
		die_errno("kill container %s", c.rec.id);
	return 0;
}

inline int ps(container_ref &c, const command &cmd)
{
	std::vector<pid_t> pids = cgroup_pids(c.cg);
	bool json = strcmp(cmd.format, "json") == 0;
	if (!json && strcmp(cmd.format, "table") != 0)
		die("ps --format %s: expected table or json", cmd.format);
	dprintf(1, json ? "[" : "PID\tCMD\n");
	for (size_t i = 0; i < pids.size(); i++) {
		if (json) {
			dprintf(1, "%s%d", i ? "," : "", pids[i]);
			continue;
		}
		char path[32], comm[64] = "";
		snprintf(path, sizeof path, "/proc/%d/comm", pids[i]);
		sys::unique_fd fd(open(path, O_RDONLY | O_CLOEXEC));
		ssize_t n = fd ? read(fd.get(), comm, sizeof comm - 1) : 0;
		comm[n > 0 ? n - 1 : 0] = 0;
		dprintf(1, "%d\t%s\n", pids[i], comm);
	}
	if (json)
		dprintf(1, "]\n");
	return 0;
}

inline int update(container_ref &c, const command &cmd)
{
	if (!cmd.resources)
		die("update: --resources FILE (or -) is needed");
	std::vector<char> text;
	if (strcmp(cmd.resources, "-") == 0) {
		char buf[4096];
		for (ssize_t n; (n = read(0, buf, sizeof buf)) > 0;)
			text.insert(text.end(), buf, buf + n);
	} else {
		if (!state::read_file(AT_FDCWD, cmd.resources, text))
			die_errno("read %s", cmd.resources);
	}
	std::vector<json::token> tokens;
	json::document doc;
	if (image::problem p = image::detail::load({text.data(), text.size()}, tokens, doc))
		die("update --resources: %s at byte %zu", p.what, p.offset);
	container::resources r;
	if (image::problem p = bundle::detail::parse_resources({&doc, 0}, r))
		die("update --resources: %s at byte %zu", p.what, p.offset);
	limits::apply(c.cg, resources_of(r));
	if (!r.devices.empty())
		limits::attach_devices(c.cg, r.devices);
	return 0;
}


// The namespaces of the container's PID 1 that are not ours. A user other than root cannot
// see those of a rootless container's PID 1, nor enter them by pidfd (it is non-dumpable,
// its memory the host's user namespace's): refused, rather than run a process in ours.
inline unsigned long joinable_namespaces(const container_ref &c)
{
	unsigned long join = 0;
	for (const auto &t : bundle::detail::namespace_types) {
		char mine[64], theirs[64];
		snprintf(mine, sizeof mine, "/proc/self/ns/%s", strcmp(t.name, "network") == 0 ? "net" : strcmp(t.name, "mount") == 0 ? "mnt" : t.name);
		snprintf(theirs, sizeof theirs, "/proc/%d/ns/%s", c.rec.pid, mine + 14);
		uint64_t a = ns_inode(mine), b = ns_inode(theirs);
		if (a && b && a != b)
			join |= t.flag;
		else if (a && !b && (errno == EACCES || errno == EPERM))
			die("container %s: its namespaces cannot be entered by uid %d (exec in a rootless container is not supported)",
			    c.rec.id, getuid());
	}
	return join;
}

// Whether PID 1's mount table has one mount on "/": not while the old root it pivoted
// from still lies on top of its new one (rootfs::enter detaches it next).
inline bool single_root(pid_t pid)
{
	static char table[65536];
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mountinfo", pid);
	sys::unique_fd fd(open(path, O_RDONLY | O_CLOEXEC));
	size_t used = 0;
	ssize_t n = 0;
	while (fd && used < sizeof table && (n = read(fd.get(), table + used, sizeof table - used)) > 0)
		used += size_t(n);
	return fd && n >= 0 && used < sizeof table && rootfs::mounts_on_root({table, used}) == 1;
}

// A docker-door PID 1 builds its root while `run` goes on (`run -d` prints the id once the
// layers are checked): until it has pivoted into that root and detached the old one, its
// mount namespace's root is a copy of the host's (or has it stacked on top), and a process
// that joined it would work on the host's files. So a joiner waits until PID 1's root is
// no longer the root of the launcher that cloned it (its supervisor, else ours) and its
// mount table has one mount on "/", and returns that root's identity, which the joiner
// checks again once it is in the namespace (check_joined_root). An OCI container is past
// both before `create` returns: the wait ends at once.
inline struct stat rooted(const state::record &r)
{
	char path[64];
	struct stat before, root;
	snprintf(path, sizeof path, "/proc/%d/root/", r.supervisor);
	if (!state::supervised(r) || stat(path, &before) < 0) {
		if (stat("/", &before) < 0)
			die_errno("stat /");
	}
	snprintf(path, sizeof path, "/proc/%d/root/", r.pid);
	for (int waited_ms = 0;; waited_ms++) {
		if (stat(path, &root) < 0)
			die_errno("container %s: stat its root", r.id);
		if ((root.st_dev != before.st_dev || root.st_ino != before.st_ino) && single_root(r.pid))
			return root;
		if (!state::alive(r))
			die("container not running");
		if (waited_ms == 30000)
			die("container %s: its PID 1 has not entered its root in 30 s", r.id);
		usleep(1000);
	}
}

// In the container's mount namespace: "/" must be the root rooted() saw, never the host's.
inline void check_joined_root(const struct stat &want, const char *id)
{
	struct stat now;
	if (stat("/", &now) < 0)
		die_errno("container %s: stat its root", id);
	if (now.st_dev != want.st_dev || now.st_ino != want.st_ino)
		die("container %s: its mount namespace's root is not its PID 1's", id);
}

// exec: a new process in every namespace of the container (pidfd and setns), in its
// cgroups, with the process's user, capabilities, no_new_privs and the container's filter.
inline int exec_in(context &x, container_ref &c)
{
	const command &cmd = x.cmd;
	const char *status = status_of(c);
	if (strcmp(status, "stopped") == 0)
		die("cannot exec in a stopped container");
	if (strcmp(status, "paused") == 0)
		die("cannot exec in a paused container");
	std::vector<char> text, store, ptext, pstore;
	std::vector<json::token> tokens, ptokens;
	container::description cfg;
	if (!x.process)
		load_config(c, text, store, tokens, cfg);
	container::process p = x.process ? *x.process : cfg.proc;
	if (cmd.process) {
		json::document doc;
		p = {};
		if (!state::read_file(AT_FDCWD, cmd.process, ptext))
			die_errno("read the process %s", cmd.process);
		if (image::problem e = image::detail::load({ptext.data(), ptext.size()}, ptokens, doc))
			die("process %s: %s at byte %zu", cmd.process, e.what, e.offset);
		image::detail::strings st(pstore, {ptext.data(), ptext.size()});
		if (image::problem e = bundle::parse_process({&doc, 0}, st, p))
			die("process %s: %s at byte %zu", cmd.process, e.what, e.offset);
	} else {
		p.args.assign(cmd.words.begin() + 1, cmd.words.end());
		for (const char *kv : cmd.env)
			image::set_env(p.env, kv);
		if (cmd.cwd)
			p.cwd = cmd.cwd;
		if (cmd.user) {
			const char *end;
			p.uid = uid_t(sys::leading_number(cmd.user, &end));
			p.gid = *end == ':' ? gid_t(sys::leading_number(end + 1, &end)) : p.gid;
			if (*end || end == cmd.user)
				die("exec --user %s: expected UID[:GID]", cmd.user);
		}
		for (const char *g : cmd.gids)
			p.groups.push_back(gid_t(sys::leading_number(g)));
		for (const char *name : cmd.caps) {
			uint64_t m = security::cap_mask(name);
			if (!m)
				die("exec --cap %s: unknown capability", name);
			for (int set : {container::bounding, container::effective, container::permitted, container::ambient, container::inheritable})
				p.caps[set] |= m;
		}
		p.terminal = cmd.tty;
		p.no_new_privileges |= cmd.no_new_privs;
	}
	if (p.args.empty())
		die("exec: no command given");
	if (p.terminal && !cmd.console_socket && x.console < 0)
		die("cannot allocate tty if runc will detach without setting console socket");
	seccomp::program filter;
	bool has_filter = !cfg.seccomp.empty();
	char why[160];
	if (has_filter && !seccomp::compile(cfg.seccomp, p.caps[container::effective], filter, why, sizeof why, seccomp::kernel_version()))
		die("linux.seccomp: %s", why);
	const seccomp::program *use_filter = x.process ? x.filter : has_filter ? &filter : nullptr;
	unsigned long join = joinable_namespaces(c);
	sys::unique_fd pidfd(int(syscall(SYS_pidfd_open, c.rec.pid, 0)));
	if (!pidfd || !state::alive(c.rec)) // the pid is the container's: checked after pidfd_open
		die("container not running");
	struct stat root = rooted(c.rec);
	sys::unique_fd console(p.terminal ? x.console >= 0 ? x.console : connect_console(cmd.console_socket) : -1);
	if (!p.terminal && x.console >= 0) // a relay's socket, unused: its reader sees the end
		close(x.console);
	std::vector<int> procs;
	auto open_procs = [&](const char *controller) {
		char dir[PATH_MAX], path[PATH_MAX + 16];
		limits::dir_of(c.cg, controller, dir);
		snprintf(path, sizeof path, "%s/cgroup.procs", dir);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			die_errno("open %s", path);
		procs.push_back(fd);
	};
	if (c.cg.v2_root && *c.rec.cgroups) // (a --privileged run without limits has none)
		open_procs(nullptr);
	for (size_t i = 0; !c.cg.v2 && *c.rec.cgroups && i < std::size(limits::v1_controllers); i++)
		if (c.cg.v1 & (1u << i))
			open_procs(limits::v1_controllers[i]);
	// CVE-2016-9962: no process of the container (one with CAP_SYS_PTRACE) may find the
	// exec's process while it is still in the host's root, holds the runtime's descriptors
	// or its capabilities. A first child joins the cgroups and namespaces and confines
	// itself outside the container's pid namespace, where no process of the container sees
	// it; only then is the process forked into that namespace (CLONE_PARENT: our child).
	sigset_t blocked;
	init::block_signals(blocked);
	int born[2];
	if (pipe2(born, O_CLOEXEC) < 0)
		die_errno("pipe");
	pid_t pid = pid_t(sys::clone_fork(SIGCHLD));
	if (pid < 0)
		die_errno("fork");
	if (pid == 0) {
		sys::at_die = nullptr;
		close(born[0]);
		for (int fd : procs)
			if (write(fd, "0", 1) != 1)
				die_errno("join the container's cgroups");
		if (join && setns(pidfd.get(), int(join)) < 0)
			die_errno("join the namespaces of container %s", c.rec.id);
		check_joined_root(root, c.rec.id);
		limits::set_rlimits(p.rlimits);
		keep_only({console.get(), log_fd, born[1], x.detached_stdio}, cmd.preserve_fds);
		rootfs::enter_workdir(p.cwd, false); // as runc's chdir: none is made by us, unconfined
		int slave = -1;
		if (p.terminal) {
			sys::unique_fd root(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
			slave = attach::make_pty(root.get(), console.get(), p);
		}
		static char file_buf[PATH_MAX];
		int failure = sys::failure_status;
		sys::failure_status = 127; // a command not found exits as a shell's would
		const char *file = find_executable(p, file_buf);
		sys::failure_status = failure;
		exec_process(p, file, use_filter, join & CLONE_NEWUSER, cmd.preserve_fds, born[1], slave, x.detached_stdio);
	}
	close(born[1]);
	pid_t confined = 0; // the process in the container, once the first child has forked it
	ssize_t got;
	while ((got = read(born[0], &confined, sizeof confined)) < 0 && errno == EINTR) {
	}
	close(born[0]);
	if (got == sizeof confined) {
		waitpid(pid, nullptr, 0);
		pid = confined;
	} else if (cmd.detach) { // the first child failed, with its reason on stderr: no process, its status
		int ws;
		while (waitpid(pid, &ws, 0) < 0)
			if (errno != EINTR)
				die_errno("wait for the exec's first process");
		return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	} // else its status is the exec's
	if (cmd.pid_file)
		write_pid_file(cmd.pid_file, pid);
	console.reset(); // the process's: a hang-up if it dies before sending its terminal
	if (cmd.detach)
		return 0;
	return x.wait ? x.wait(pid, blocked) : init::supervise(pid, blocked, true);
}

inline int features()
{
	dprintf(1, "%s", "{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"1.1.0\",\"hooks\":[\"prestart\",\"createRuntime\",\"createContainer\","
		       "\"startContainer\",\"poststart\",\"poststop\"],\"mountOptions\":[");
	for (size_t i = 0; i < std::size(bundle::detail::mount_options); i++)
		dprintf(1, "%s\"%s\"", i ? "," : "", bundle::detail::mount_options[i].name);
	dprintf(1, "%s", ",\"rro\"],\"linux\":{\"namespaces\":[\"pid\",\"network\",\"mount\",\"ipc\",\"uts\",\"user\",\"cgroup\",\"time\"],"
		       "\"capabilities\":[");
	for (const security::capability &cap : security::capabilities)
		dprintf(1, "%s\"CAP_%s\"", cap.number ? "," : "", cap.name);
	dprintf(1, "%s", "],\"cgroup\":{\"v1\":true,\"v2\":true,\"systemd\":false,\"systemdUser\":false},"
		       "\"seccomp\":{\"enabled\":true,\"actions\":[\"SCMP_ACT_ALLOW\",\"SCMP_ACT_ERRNO\",\"SCMP_ACT_KILL\","
		       "\"SCMP_ACT_KILL_PROCESS\",\"SCMP_ACT_KILL_THREAD\",\"SCMP_ACT_TRAP\",\"SCMP_ACT_TRACE\",\"SCMP_ACT_LOG\"],"
		       "\"operators\":[\"SCMP_CMP_EQ\",\"SCMP_CMP_NE\",\"SCMP_CMP_LT\",\"SCMP_CMP_LE\",\"SCMP_CMP_GT\",\"SCMP_CMP_GE\","
		       "\"SCMP_CMP_MASKED_EQ\"],\"archs\":[\"SCMP_ARCH_X86_64\"]},\"apparmor\":{\"enabled\":false},"
		       "\"selinux\":{\"enabled\":false}},\"annotations\":{}}\n");
	return 0;
}

// list: every container under the state root, as runc lists them.
inline int list(context &x)
{
	DIR *d = fdopendir(dup(x.root));
	if (!d)
		die_errno("list %s", x.root_path);
	bool json = strcmp(x.cmd.format, "json") == 0;
	if (!json && !x.cmd.quiet)
		dprintf(1, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n");
	bool first = true;
	if (json)
		dprintf(1, "[");
	rewinddir(d);
	while (dirent *e = readdir(d)) {
		container_ref c;
		if (e->d_name[0] == '.' || !load(x, e->d_name, c))
			continue;
		const char *status = status_of(c);
		if (json) {
			static char text[PATH_MAX * 4 + 65536];
			size_t n = state::format(c.rec, status, false, text, sizeof text);
			dprintf(1, "%s%.*s", first ? "" : ",", int(n), text);
		} else if (x.cmd.quiet) {
			dprintf(1, "%s\n", c.rec.id);
		} else {
			dprintf(1, "%s\t%d\t%s\t%s\t%s\troot\n", c.rec.id, strcmp(status, "stopped") == 0 ? 0 : c.rec.pid, status, c.rec.bundle,
				c.rec.created);
		}
		first = false;
	}
	if (json)
		dprintf(1, "]\n");
	closedir(d);
	return 0;
}

// run: create, start, wait for the process, delete (unless --keep); its exit status.
// exec's end of the socketpair its process sends a terminal's master over.
inline int exec_console = -1;

inline int run(context &x, const char *id)
{
	std::vector<char> config_text;
	container::description cfg;
	state::record rec;
	limits::cgroup cg;
	seccomp::program filter;
	sigset_t blocked;
	init::block_signals(blocked);
	// In the foreground without --console-socket, a terminal is the launcher's to relay, as
	// runc's: the process sends its master over a socketpair of ours.
	int pair[2] = {-1, -1};
	if (!x.cmd.console_socket && !x.cmd.detach && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
		die_errno("socketpair");
	x.console = pair[1];
	pid_t pid = create(x, id, config_text, cfg, rec, cg, filter);
	if (pair[1] >= 0)
		close(pair[1]);
	sys::unique_fd console(pair[0]);
	container_ref c;
	load_or_die(x, id, c);
	start(c);
	if (x.cmd.detach)
		return 0;
	int status = cfg.proc.terminal && console ? attach::relay_terminal(pid, blocked, console.get(), true)
						  : init::supervise(pid, blocked, true);
	if (!x.cmd.keep) {
		x.cmd.force = true;
		destroy(x, id);
	}
	return status;
}

[[noreturn]] inline void main(int argc, char **argv)
{
	context x;
	sys::failure_status = 1;
	sys::on_error = log_line;
	bool parsed = parse(argc, argv, x.cmd);
	// Nothing the caller left open reaches the container but stdio and --preserve-fds
	// (CVE-2024-21626); the verbs that run code in the container first re-execute from a
	// sealed copy of the binary (CVE-2019-5736: its /proc/PID/exe is then no host file).
	if (parsed && sys::close_range(3 + x.cmd.preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		die_errno("close inherited descriptors");
	if (parsed && (x.cmd.v == verb::create || x.cmd.v == verb::run || x.cmd.v == verb::exec))
		confine::reexec_from_sealed_copy(argv);
	if (x.cmd.log) {
		log_fd = open(x.cmd.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (log_fd < 0)
			die_errno("open the log %s", x.cmd.log);
		log_json = x.cmd.json_log;
	}
	if (!parsed)
		die("%s", x.cmd.error);
	if (x.cmd.v == verb::features)
		exit(features());
	open_state_root(x);
	const char *id = x.cmd.words.empty() ? nullptr : x.cmd.words[0];
	container_ref c;
	switch (x.cmd.v) {
	case verb::create: {
		std::vector<char> text;
		static container::description &cfg = *new container::description; // the child's, for as long as it waits
		static state::record &rec = *new state::record; // heap, not data (see launcher.cpp)
		static limits::cgroup &cg = *new limits::cgroup;
		static seccomp::program filter;
		create(x, id, text, cfg, rec, cg, filter);
		exit(0);
	}
	case verb::run: exit(run(x, id));
	case verb::del: exit(destroy(x, id));
	case verb::list: exit(list(x));
	default: break;
	}
	load_or_die(x, id, c);
	switch (x.cmd.v) {
	case verb::start: start(c); exit(0);
	case verb::state: exit(print_state(c));
	case verb::kill: exit(kill_container(c, x.cmd));
	case verb::exec: {
		// In the foreground without --console-socket, a terminal is ours to relay (run's).
		int pair[2] = {-1, -1};
		if (!x.cmd.console_socket && !x.cmd.detach && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
			die_errno("socketpair");
		x.console = pair[1];
		exec_console = pair[0];
		if (exec_console >= 0)
			x.wait = [](pid_t pid, const sigset_t &blocked) { return attach::relay_terminal(pid, blocked, exec_console, true); };
		exit(exec_in(x, c));
	}
	case verb::ps: exit(ps(c, x.cmd));
	case verb::pause:
	case verb::resume:
		if (strcmp(status_of(c), x.cmd.v == verb::pause ? "running" : "paused") != 0)
			die("container %s is not %s", id, x.cmd.v == verb::pause ? "running" : "paused");
		limits::freeze(c.cg, x.cmd.v == verb::pause);
		exit(0);
	case verb::update: exit(update(c, x.cmd));
	default: die("unreachable");
	}
}

} // namespace oci
