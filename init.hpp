// init.hpp: what tini does. The launcher's PID 1 forks the entrypoint (confined, into its
// own process group, exec failure reported over a close-on-exec pipe), forwards every
// signal to it, reaps every child, and exits with the entrypoint's status; the launcher on
// the host forwards signals to PID 1 and returns its status. One table says what each
// signal means to both.
#pragma once
#include <csignal>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "confine.hpp"
#include "container.hpp"
#include "image.hpp"
#include "machine.hpp"
#include "sys.hpp"

namespace init {

using sys::die_errno;
using sys::step;

// What the launcher does with each signal, as host-side supervisor and as PID 1.
enum class on_signal { forward, reap, ignore, fault };

struct signal_rule {
	int sig;
	on_signal action;
};

constexpr signal_rule signal_rules[] = {
	// A child changed state: reap it. Never forwarded (it concerns us, not the child).
	{SIGCHLD, on_signal::reap},
	// Job-control stops aimed at a background launcher: the container has its own group.
	{SIGTTIN, on_signal::ignore},
	{SIGTTOU, on_signal::ignore},
	// Faults of our own code stay unblocked, so a launcher bug dies loudly.
	{SIGSEGV, on_signal::fault},
	{SIGBUS, on_signal::fault},
	{SIGFPE, on_signal::fault},
	{SIGILL, on_signal::fault},
	{SIGTRAP, on_signal::fault},
	{SIGSYS, on_signal::fault},
	{SIGABRT, on_signal::fault},
	// Every other signal (TERM, INT, HUP, QUIT, USR1, USR2, WINCH, ...) is forwarded.
};

// The table as one mask per action, so that the loop reads no table (its code is all an
// idle PID 1 keeps in memory: give_back_start_pages).
constexpr uint64_t signals_for(on_signal action)
{
	uint64_t mask = 0;
	for (const signal_rule &r : signal_rules)
		if (r.action == action)
			mask |= uint64_t(1) << r.sig;
	return mask;
}

[[gnu::always_inline]] constexpr on_signal action_for(int sig)
{
	constexpr uint64_t reap = signals_for(on_signal::reap), ignore = signals_for(on_signal::ignore),
			   fault = signals_for(on_signal::fault);
	uint64_t bit = sig < 64 ? uint64_t(1) << sig : 0;
	return reap & bit ? on_signal::reap : ignore & bit ? on_signal::ignore : fault & bit ? on_signal::fault : on_signal::forward;
}
static_assert(action_for(SIGCHLD) == on_signal::reap && action_for(SIGTTOU) == on_signal::ignore &&
	      action_for(SIGSYS) == on_signal::fault && action_for(SIGTERM) == on_signal::forward &&
	      action_for(64) == on_signal::forward);

[[gnu::always_inline]] inline int status_code(int wstatus)
{
	return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

// execvpe with the container's PATH (musl's execvpe reads the caller's PATH instead).
// Like execvp: keep looking past ENOENT and EACCES, report EACCES if any entry had it.
inline int exec_command(const container::process &p)
{
	std::vector<const char *> args = p.args, env = p.env;
	args.push_back(nullptr);
	env.push_back(nullptr);
	char *const *argv = const_cast<char *const *>(args.data());
	char *const *envp = const_cast<char *const *>(env.data());
	const char *file = argv[0];
	if (strchr(file, '/')) {
		execve(file, argv, envp);
		return errno;
	}
	const char *path = image::get_env(p.env, "PATH");
	int err = ENOENT;
	for (const char *dir = path; dir && *dir;) {
		size_t len = strcspn(dir, ":");
		char full[PATH_MAX];
		if (len + 1 + strlen(file) < sizeof full) {
			snprintf(full, sizeof full, "%.*s%s%s", int(len), dir, len ? "/" : "", file);
			execve(full, argv, envp);
			if (errno == EACCES)
				err = EACCES;
			else if (errno != ENOENT && errno != ENOTDIR)
				return errno;
		}
		dir += len + (dir[len] == ':');
	}
	return err;
}

// Forks the entrypoint into its own process group. The entrypoint waits at a gate until
// PID 1 has confined itself, then execs; when that fails it says so itself and exits 127
// (not found) or 126, the status PID 1 passes on (and, with -d, writes the line into the
// start word for the caller). PID 1 keeps no pipe to learn of it: from the gate on it
// holds stdio alone, whatever the entrypoint's first instruction looks at.
// -d: a pipe to the host side (fd 3 once PID 1 has closed the rest) that a start which
// fails before the entrypoint's exec writes its line into; its end of file, with nothing
// written, says the entrypoint exec'd. PID 1 closes its end once it has forked the
// entrypoint, before the gate; the entrypoint's closes at its exec.
inline int start_word = -1;

inline void tell_start_failure(const char *line)
{
	if (start_word >= 0)
		dprintf(start_word, "launcher: %s\n", line);
}

inline pid_t spawn_entrypoint(const container_spec &spec)
{
	int gate[2];
	if (pipe2(gate, O_CLOEXEC) < 0)
		die_errno("pipe");
	bool filtered = confine::before_fork(spec);
	pid_t pid = pid_t(sys::clone_fork(SIGCHLD));
	if (pid < 0)
		die_errno("fork %s", spec.proc.args[0]);
	if (pid == 0) {
		close(gate[1]);
		// Its own process group; under -t its own session, whose terminal is the pty
		// PID 1 holds as stdio (the shell inside then does its own job control).
		if (spec.proc.terminal ? setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0 : setpgid(0, 0) < 0)
			sys::die_errno("take the terminal");
		sys::reset_signals();
		sys::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		int err = confine::entrypoint(spec, filtered);
		if (err) {
			errno = err;
			sys::die_errno("confine %s", spec.proc.args[0]);
		}
		// Nothing of the image runs before PID 1 has confined itself: the gate's end of
		// file (PID 1 closed it) is the word.
		char none_read;
		while (read(gate[0], &none_read, 1) < 0 && errno == EINTR) {
		}
		step("starting %s as pid %ld", spec.proc.args[0], long(syscall(SYS_getpid)));
		// As a machine's PID 1: the whole start from the kernel's word, by the guest's clock.
		if (machine::as_init && sys::verbose) {
			long us = sys::elapsed_us(), boot = sys::started.tv_sec * 1000000L + sys::started.tv_nsec / 1000;
			step("the entrypoint's exec came %ld.%03ld ms after the kernel started /init (%ld.%03ld ms after boot): "
			     "%ld.%03ld ms loading modules, %ld.%03ld ms the start itself",
			     us / 1000, us % 1000, boot / 1000, boot % 1000, machine::module_us / 1000, machine::module_us % 1000,
			     (us - machine::module_us) / 1000, (us - machine::module_us) % 1000);
		}
		// --security-opt apparmor=PROFILE: entered at the exec, as runc applies it.
		if (*spec.proc.apparmor && (err = lsm::apparmor_exec(spec.proc.apparmor)))
			sys::die("apply AppArmor profile %s: %s", spec.proc.apparmor, lsm::why_refused(err));
		err = exec_command(spec.proc);
		if (start_word >= 0)
			dprintf(start_word, "launcher: exec %s: %s\n", spec.proc.args[0], strerror(err));
		confine::exec_failed(spec.proc.args[0], err);
	}
	if (start_word >= 0)
		close(start_word);
	start_word = -1;
	if (!spec.proc.terminal)
		setpgid(pid, pid); // both sides, so neither order of the two calls races
	close(gate[0]);
	// PID 1 confines itself while the entrypoint waits at the gate: a process of the image
	// that may ptrace (--cap-add SYS_PTRACE) never finds PID 1 with more than CAP_KILL.
	confine::pid1(spec, filtered);
	close(gate[1]);
	return pid;
}

// PID 1 of the container: signals stay blocked and are taken with sigwaitinfo, so none
// is lost between two waits. When the entrypoint ends, whatever it left is killed and
// reaped, and PID 1 exits with the entrypoint's status.
// Our children by /proc/self/task/TID/children, each sent SIGKILL.
[[gnu::always_inline]] inline void kill_children()
{
	char path[64], text[4096];
	snprintf(path, sizeof path, "/proc/self/task/%d/children", getpid());
	sys::unique_fd f(open(path, O_RDONLY | O_CLOEXEC));
	ssize_t n = f ? read(f.get(), text, sizeof text - 1) : -1;
	if (n <= 0)
		return;
	text[n] = 0;
	for (char *w = strtok(text, " \n"); w; w = strtok(nullptr, " \n"))
		kill(pid_t(atoi(w)), SIGKILL);
}

} // namespace init

extern "C" char __executable_start[], etext[]; // the linker's bounds of our code

namespace init {

// An idle supervisor gives back the pages its start touched: the binary's code (a clean
// copy of the file, faulted in again from the page cache when a signal wakes it: the loop
// is a few pages of it) and the stack below the loop's frame (zero pages if it ever goes
// that deep again). The anonymous memory it still uses stays. A failure costs only the
// memory, so none is fatal: madvise reports ENOMEM for the unmapped part of the stack's
// range (below the lowest page the start used), after releasing the rest.
[[gnu::always_inline]] inline void give_back_start_pages()
{
	constexpr uintptr_t page = 4096;
	uintptr_t code = uintptr_t(__executable_start) & ~(page - 1);
	(void)madvise(reinterpret_cast<void *>(code), uintptr_t(etext) - code, MADV_DONTNEED);
	char here;
	uintptr_t below = (uintptr_t(&here) & ~(page - 1)) - page; // a page for the calls below this frame
	constexpr uintptr_t start_stack = 1 << 20; // more than the deepest start, less than the guard gap
	(void)madvise(reinterpret_cast<void *>(below - start_stack), start_stack, MADV_DONTNEED);
}

// Waits for the next signal; after a second with none, gives back the start's pages once
// until the next one. A start that ends within a second never pays for it.
[[gnu::always_inline]] inline int next_signal(const sigset_t &blocked, siginfo_t &si, bool &idle)
{
	timespec quiet = {1, 0};
	int sig = sigtimedwait(&blocked, &si, idle ? nullptr : &quiet);
	if (sig < 0 && errno == EAGAIN && !idle) {
		give_back_start_pages();
		idle = true;
	}
	if (sig > 0)
		idle = false;
	return sig;
}

[[noreturn]] inline void run(const container_spec &spec, const sigset_t &blocked)
{
	// In the host's PID namespace PID 1 is not the namespace's init: orphans come to it as
	// a subreaper's.
	// So it is in another container's (--pid container:NAME, spec.pid_join).
	bool shared = !(spec.new_namespaces & CLONE_NEWPID);
	if (shared && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		die_errno("become the container's subreaper");
	pid_t main_pid = spawn_entrypoint(spec);
	bool main_done = false, idle = false;
	int main_status = 0;
	for (;;) {
		siginfo_t si;
		int sig = next_signal(blocked, si, idle);
		if (sig < 0)
			continue; // EINTR, or a quiet second: nothing to do
		switch (action_for(sig)) {
		case on_signal::forward:
			if (!main_done)
				kill(main_pid, sig);
			break;
		case on_signal::ignore:
		case on_signal::fault:
			break;
		case on_signal::reap:
			for (;;) {
				int ws;
				pid_t pid = waitpid(-1, &ws, WNOHANG);
				if (pid > 0) {
					if (pid == main_pid) {
						main_done = true;
						main_status = status_code(ws);
						// Orphans die with the entrypoint, as in docker (tini#236). In the
						// host's PID namespace (--pid host) kill(-1) would reach the host's
						// processes: there only our own children, again as each new orphan
						// comes to us.
						if (!shared)
							kill(-1, SIGKILL);
					}
					if (main_done && shared)
						kill_children();
					continue;
				}
				if (pid < 0 && errno == ECHILD && main_done)
					_exit(main_status);
				break;
			}
		}
	}
}

// The launcher on the host passes every signal on to the container's PID 1 and returns
// its status. Without the proxy (--sig-proxy=false) none is passed on: one that would end
// a program (HUP, INT, QUIT, TERM) ends the launcher, and with it the container: -N.
inline int supervise(pid_t child, const sigset_t &blocked, bool proxy)
{
	bool idle = false;
	for (;;) {
		siginfo_t si;
		int sig = next_signal(blocked, si, idle);
		if (sig < 0)
			continue;
		// ^Z at the terminal (no -t): the launcher stops, the shell gets its terminal back;
		// `fg` continues it (and SIGCONT is passed on).
		if (sig == SIGTSTP) {
			kill(getpid(), SIGSTOP);
			continue;
		}
		switch (action_for(sig)) {
		case on_signal::forward:
			if (proxy)
				kill(child, sig);
			else if (sig == SIGHUP || sig == SIGINT || sig == SIGQUIT || sig == SIGTERM)
				return -sig;
			break;
		case on_signal::ignore:
		case on_signal::fault: break;
		case on_signal::reap: {
			// As a machine's PID 1 every orphan of the machine is ours to reap too.
			int ws;
			for (pid_t p; (p = waitpid(-1, &ws, WNOHANG)) > 0;)
				if (p == child)
					return status_code(ws);
		}
		}
	}
}

inline void block_signals(sigset_t &blocked)
{
	sigfillset(&blocked);
	for (const signal_rule &r : signal_rules)
		if (r.action == on_signal::fault)
			sigdelset(&blocked, r.sig);
	if (sigprocmask(SIG_SETMASK, &blocked, nullptr) < 0)
		die_errno("block signals");
}

} // namespace init
