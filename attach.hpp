// attach.hpp: the supervisor's side of a container's stdio when it is not simply passed
// through: -t (a pty of the container's own devpts, made by its PID 1 or first process for
// either door, whose master it sends over a socket; the host terminal in raw mode, restored on every exit path; window
// size changes passed on) and -d (stdout and stderr through pipes into the json-file log).
// One loop relays the streams and forwards signals until the container's process ends.
#pragma once
#include <linux/openat2.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>

#include "description.hpp"
#include "init.hpp"
#include "logs.hpp"
#include "sys.hpp"

namespace attach {

// The host terminal as it was before raw mode: put back by restore(), which the launcher
// calls on every way out (a normal end, sys::die, a forwarded signal's end).
inline struct {
	int fd = -1;
	termios saved;
} host_terminal;

inline void make_raw(int fd)
{
	termios t;
	if (tcgetattr(fd, &t) < 0)
		sys::die_errno("read the terminal's settings");
	host_terminal.saved = t;
	host_terminal.fd = fd;
	cfmakeraw(&t);
	// (output unprocessed too: the container's pty has already turned \n into \r\n)
	if (tcsetattr(fd, TCSADRAIN, &t) < 0)
		sys::die_errno("put the terminal in raw mode");
}

inline void restore()
{
	if (host_terminal.fd < 0)
		return;
	tcsetattr(host_terminal.fd, TCSADRAIN, &host_terminal.saved);
	host_terminal.fd = -1;
}

// Sends the terminal's master to the engine over the console socket: one message, one
// descriptor (SCM_RIGHTS), the pty's name as payload.
inline void send_console(int sock, int master, const char *name)
{
	char control[CMSG_SPACE(sizeof(int))] = {};
	iovec iov = {const_cast<char *>(name), strlen(name)};
	msghdr msg = {};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control;
	msg.msg_controllen = sizeof control;
	cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof master);
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		sys::die_errno("send the terminal to the console socket");
}

// A pty of the container's own devpts (`root`: the container's root, before or after
// pivot_root): the master goes over `sock` (to the engine, or to the launcher's
// supervisor), the slave becomes the process's stdio and controlling terminal. Returns
// the slave.
inline int make_pty(int root, int sock, const container::process &p)
{
	const uint64_t in_root = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	sys::unique_fd master(sys::openat2(root, "/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC, in_root));
	int unlock = 0, n = 0;
	if (!master || ioctl(master.get(), TIOCSPTLCK, &unlock) < 0 || ioctl(master.get(), TIOCGPTN, &n) < 0)
		sys::die_errno("make a terminal in the container's /dev/pts");
	char name[32];
	snprintf(name, sizeof name, "/dev/pts/%d", n);
	int slave = sys::openat2(root, name, O_RDWR | O_NOCTTY | O_CLOEXEC, in_root);
	if (slave < 0)
		sys::die_errno("open %s", name);
	if (p.rows || p.cols) {
		winsize ws = {p.rows, p.cols, 0, 0};
		ioctl(master.get(), TIOCSWINSZ, &ws);
	}
	send_console(sock, master.get(), name);
	return slave;
}

// The master the container's PID 1 sends (send_console's message); -1 when the
// container died before it sent one.
inline int receive_master(int sock)
{
	char name[64], control[CMSG_SPACE(sizeof(int))] = {};
	iovec iov = {name, sizeof name};
	msghdr msg = {};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control;
	msg.msg_controllen = sizeof control;
	ssize_t n;
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
	}
	cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (n <= 0 || !c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

// The host terminal's size onto the pty (which signals the container's foreground group).
inline void copy_size(int from, int pty)
{
	winsize ws;
	if (from >= 0 && pty >= 0 && ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(pty, TIOCSWINSZ, &ws);
}

struct streams {
	int in = -1;               // the host's stdin, copied into `to` (-i)
	int to = -1;               // the pty's master, or -1
	int out = -1, err = -1;    // read ends: the container's stdout and stderr (the master for both under -t)
	logs::writer *log = nullptr; // -d: everything goes to the log, else to the host's stdout and stderr
	int size_from = -1;        // the host terminal whose size the pty follows
};

inline void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			pollfd p = {fd, POLLOUT, 0};
			poll(&p, 1, 1000);
			continue;
		}
		if (w <= 0)
			return; // the reader went away: the container's output is dropped, as a closed pipe drops it
		p += w, n -= size_t(w);
	}
}

// Relays until the child ends and its output is drained; forwards every other signal to
// it (SIGWINCH becomes the pty's new size); returns the child's status.
inline int relay(pid_t child, const sigset_t &blocked, streams &s)
{
	sys::unique_fd sig(signalfd(-1, &blocked, SFD_CLOEXEC));
	if (!sig)
		sys::die_errno("signalfd");
	copy_size(s.size_from, s.to);
	for (int fd : {s.out, s.err})
		if (fd >= 0)
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	int status = -1;
	long grace = -1; // polls of 100 ms left before SIGKILL, once the launcher was told to end
	for (;;) {
		pollfd p[4] = {{sig.get(), POLLIN, 0}, {s.out, POLLIN, 0}, {s.err != s.out ? s.err : -1, POLLIN, 0}, {s.to >= 0 ? s.in : -1, POLLIN, 0}};
		int ready = poll(p, 4, status >= 0 || grace >= 0 ? 100 : -1);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			sys::die_errno("poll");
		if (status >= 0 && (ready == 0 || (s.out < 0 && s.err < 0)))
			break; // the child is gone and its output drained
		if (grace >= 0 && status < 0 && ready == 0 && grace-- == 0)
			kill(child, SIGKILL);
		if (ready == 0)
			continue;
		if (p[0].revents & POLLIN) {
			signalfd_siginfo si;
			if (read(sig.get(), &si, sizeof si) == sizeof si) {
				int n = int(si.ssi_signo);
				if (n == SIGWINCH && s.to >= 0)
					copy_size(s.size_from, s.to);
				// Under -t the terminal sends no signal (raw mode): one of these comes from
				// outside, to end the launcher. The terminal is the caller's again at
				// once; the container gets the signal, and SIGKILL 10 s later, as `stop`.
				if (s.to >= 0 && status < 0 && (n == SIGTERM || n == SIGHUP || n == SIGINT || n == SIGQUIT) && grace < 0) {
					restore();
					s.in = -1;
					grace = 100;
				}
				else if (init::action_for(n) == init::on_signal::forward && status < 0)
					kill(child, n);
				else if (n == SIGCHLD)
					for (int ws; pid_t r = waitpid(-1, &ws, WNOHANG);) {
						if (r <= 0)
							break;
						if (r == child)
							status = init::status_code(ws);
					}
			}
		}
		for (int i : {1, 2}) {
			int &fd = i == 1 ? s.out : s.err;
			if (fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char buf[16384];
			ssize_t n = read(fd, buf, sizeof buf);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) { // end of file, or EIO: the pty's last holder closed it
				if (s.out == s.err)
					s.out = s.err = -1;
				else
					fd = -1;
				continue;
			}
			if (s.log)
				s.log->feed({buf, size_t(n)}, i == 2);
			else
				write_all(i, buf, size_t(n));
		}
		if (p[3].revents & (POLLIN | POLLHUP | POLLERR)) {
			char buf[4096];
			ssize_t n = read(s.in, buf, sizeof buf);
			if (n > 0)
				write_all(s.to, buf, size_t(n));
			else if (n == 0 || errno != EINTR)
				s.in = -1; // the host's stdin ended: nothing more to pass
		}
	}
	if (s.log)
		s.log->flush();
	// Reaped already, or reaped now if its end came after the output's.
	for (int ws; status < 0;) {
		pid_t r = waitpid(child, &ws, 0);
		if (r == child)
			status = init::status_code(ws);
		else if (r < 0 && errno != EINTR)
			status = sys::exit_failure;
	}
	return status;
}

// A process whose terminal's master comes over `console` (the other end of a socketpair it
// was given as its console socket): the pty relayed to the host's stdout, the host's stdin
// to it when `input`, the host terminal raw meanwhile and its size followed; the process's
// status. Without a master (the process has no terminal, or died first) it is waited for as
// init::supervise waits.
inline int relay_terminal(pid_t pid, const sigset_t &blocked, int console, bool input)
{
	sys::unique_fd master(receive_master(console));
	if (!master)
		return init::supervise(pid, blocked, true);
	streams io;
	io.out = io.err = io.to = master.get();
	io.size_from = isatty(0) ? 0 : -1;
	if (input) {
		io.in = 0;
		if (isatty(0))
			make_raw(0);
	}
	int status = relay(pid, blocked, io);
	restore();
	return status;
}

} // namespace attach
