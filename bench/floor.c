/* floor.c: the kernel's floor of a container start, to time beside the launcher.
 * usage: floor LAYER_DIR [net]
 *
 * Exactly the kernel work of a start and nothing more: clone into new mount, UTS, IPC and
 * PID namespaces (and a network one with `net`); in the child, / made private, a tmpfs,
 * an overlay of LAYER_DIR (the launcher's cached layer) with upper and work dirs on it,
 * /proc, a tmpfs /dev with docker's six nodes, pivot_root, the old root detached, the
 * hostname, then fork and exec of /hello and the reap. No confinement, no checks beyond
 * each call's result. Built static, as the launcher is. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

static const char *layer;

static void fail(const char *what)
{
	perror(what);
	_exit(125);
}

static int container(void *unused)
{
	(void)unused;
	static const struct { const char *path; unsigned major, minor; } nodes[] = {
		{"dev/null", 1, 3}, {"dev/zero", 1, 5}, {"dev/full", 1, 7},
		{"dev/random", 1, 8}, {"dev/urandom", 1, 9}, {"dev/tty", 5, 0},
	};
	char opts[4200];
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		fail("make / private");
	/* Opened before the tmpfs could hide it, as the launcher opens its cache. */
	int lower = open(layer, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (lower < 0)
		fail(layer);
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0 || chdir("/tmp") < 0)
		fail("tmpfs on /tmp");
	if (mkdir("upper", 0755) < 0 || mkdir("work", 0700) < 0 || mkdir("root", 0755) < 0)
		fail("mkdir");
	snprintf(opts, sizeof opts, "lowerdir=/proc/self/fd/%d,upperdir=upper,workdir=work", lower);
	if (mount("overlay", "root", "overlay", 0, opts) < 0 || chdir("root") < 0)
		fail("overlay");
	if ((mkdir("proc", 0555) < 0 && errno != EEXIST) || (mkdir("dev", 0755) < 0 && errno != EEXIST))
		fail("mkdir proc, dev");
	if (mount("proc", "proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL) < 0)
		fail("proc");
	if (mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755") < 0)
		fail("dev");
	for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
		if (mknod(nodes[i].path, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) < 0)
			fail(nodes[i].path);
	if (syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		fail("pivot_root");
	if (sethostname("floor", 5) < 0)
		fail("sethostname");
	pid_t pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		char *argv[] = {"/hello", NULL}, *envp[] = {NULL};
		execve("/hello", argv, envp);
		_exit(127);
	}
	int status = 0, ws;
	for (pid_t p; (p = wait(&ws)) > 0;)
		if (p == pid)
			status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	return status;
}

int main(int argc, char **argv)
{
	static char stack[1 << 16];
	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "net") != 0)) {
		fprintf(stderr, "usage: floor LAYER_DIR [net]\n");
		return 2;
	}
	layer = argv[1];
	int flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | SIGCHLD | (argc == 3 ? CLONE_NEWNET : 0);
	pid_t pid = clone(container, stack + sizeof stack, flags, NULL);
	if (pid < 0)
		fail("clone");
	int ws;
	if (waitpid(pid, &ws, 0) != pid)
		fail("waitpid");
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}
