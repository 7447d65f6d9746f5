/* benchtool: runs inside the bench image (static, musl).
 *   benchtool orphans N   leave N orphaned zombies to PID 1; print how long it took to reap them
 *   benchtool waitterm    print "ready", wait for SIGTERM, exit 0
 *   benchtool syscalls    try what a confined container must not do; print each result
 *   benchtool pid1caps    print PID 1's CapEff line, first thing
 *   benchtool tiocsti TEXT push TEXT into the terminal on stdin (TIOCSTI); print the result
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* A syscall's result, or -errno, taken before the next call overwrites errno. */
static long result(long r)
{
	return r < 0 ? -errno : r;
}

static int processes(void)
{
	DIR *d = opendir("/proc");
	int n = 0;
	struct dirent *e;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] >= '1' && e->d_name[0] <= '9';
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "orphans") == 0) {
		int n = atoi(argv[2]);
		pid_t c = fork();
		if (c == 0) {
			for (int i = 0; i < n; i++) {
				pid_t g = fork();
				if (g == 0)
					_exit(0);
				if (g < 0) {
					perror("fork");
					_exit(1);
				}
			}
			_exit(0); /* its children, exited or not, now belong to PID 1 */
		}
		waitpid(c, NULL, 0);
		double t0 = now_ms();
		while (processes() > 2) /* PID 1 and us */
			usleep(100);
		printf("reaped %d orphans in %.3f ms\n", n, now_ms() - t0);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "waitterm") == 0) {
		sigset_t set;
		int sig;
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_BLOCK, &set, NULL);
		puts("ready");
		fflush(stdout);
		sigwait(&set, &sig);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "syscalls") == 0) {
		long cloned = result(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
		if (cloned == 0)
			_exit(0); /* the child, where the clone was allowed */
		struct {
			const char *name;
			long result;
		} tries[] = {
			{"keyctl", result(syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0))},
			{"unshare", result(syscall(SYS_unshare, CLONE_NEWNS))},
			{"mount", result(syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, 0))},
			{"umount2", result(syscall(SYS_umount2, "/proc", 0))},
			{"setns", result(syscall(SYS_setns, 0, CLONE_NEWNET))},
			{"clone-newuser", cloned},
			{"bpf", result(syscall(SYS_bpf, 0, 0, 0))},
			{"perf_event_open", result(syscall(SYS_perf_event_open, 0, 0, -1, -1, 0))},
			{"init_module", result(syscall(SYS_init_module, 0, 0, ""))},
			{"kexec_load", result(syscall(SYS_kexec_load, 0, 0, 0, 0))},
			{"pivot_root", result(syscall(SYS_pivot_root, "/", "/"))},
			{"ptrace-pid1", result(syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, 1, 0, 0))},
			{"vsock", result(syscall(SYS_socket, 40 /* AF_VSOCK */, 1 /* SOCK_STREAM */, 0))},
			{"tiocsti", result(syscall(SYS_ioctl, 0, 0x5412 /* TIOCSTI */, "#"))},
		};
		for (size_t i = 0; i < sizeof tries / sizeof *tries; i++)
			printf("%s: %s\n", tries[i].name, tries[i].result < 0 ? strerror((int)-tries[i].result) : "allowed");
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "pid1caps") == 0) {
		/* As early as a program can: PID 1's effective capabilities the moment we run. */
		char buf[4096];
		int fd = open("/proc/1/status", O_RDONLY);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
		buf[n > 0 ? n : 0] = 0;
		char *line = strstr(buf, "CapEff:");
		printf("%.*s\n", line ? (int)strcspn(line, "\n") : 4, line ? line : "none");
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "tiocsti") == 0) {
		long r = 0;
		for (const char *c = argv[2]; *c && r >= 0; c++)
			r = result(syscall(SYS_ioctl, 0, 0x5412 /* TIOCSTI */, c));
		printf("tiocsti: %s\n", r < 0 ? strerror((int)-r) : "pushed");
		return 0;
	}
	fprintf(stderr, "usage: benchtool orphans N | waitterm | syscalls | pid1caps | tiocsti TEXT\n");
	return 2;
}
