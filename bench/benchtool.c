/* benchtool: runs inside the bench image (static, musl).
 *   benchtool orphans N   leave N orphaned zombies to PID 1; print how long it took to reap them
 *   benchtool waitterm    print "ready", wait for SIGTERM, exit 0
 *   benchtool syscalls    try what a confined container must not do; print each result
 *                         (as a container's entrypoint only: it mounts and unshares)
 *   benchtool pid1caps    print PID 1's CapEff line, first thing
 *   benchtool tiocsti TEXT push TEXT into the terminal on stdin (TIOCSTI); print the result
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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

/* An i386 syscall through int 0x80 (the kernel's ia32 entry, AUDIT_ARCH_I386): -errno. */
static long int80(long nr)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr) : "memory");
	return r;
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
		if (getppid() != 1) { /* it mounts and unshares: a container's entrypoint alone */
			fprintf(stderr, "benchtool syscalls: run it as a container's entrypoint\n");
			return 2;
		}
		long cloned = result(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
		if (cloned == 0)
			_exit(0); /* the child, where the clone was allowed */
		if (cloned > 0)
			waitpid(cloned, NULL, 0);
		long attached = result(syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, 1, 0, 0));
		if (attached == 0) { /* --cap-add SYS_PTRACE: let PID 1 go on */
			waitpid(1, NULL, __WALL);
			syscall(SYS_ptrace, 17 /* PTRACE_DETACH */, 1, 0, 0);
		}
		long persona = result(syscall(SYS_personality, 0x0040000 /* ADDR_NO_RANDOMIZE */));
		if (persona >= 0)
			syscall(SYS_personality, persona);
		long uffd = result(syscall(SYS_userfaultfd, 1 /* UFFD_USER_MODE_ONLY */));
		if (uffd >= 0)
			close(uffd);
		/* Arguments the kernel refuses (EFAULT, EBADF, EINVAL, ENOENT) once seccomp lets the
		 * call through, so that EPERM and ENOSYS are the filter's (or a missing capability's). */
		struct {
			const char *name;
			long result;
		} tries[] = {
			{"keyctl", result(syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0))},
			{"unshare", result(syscall(SYS_unshare, CLONE_NEWNS))},
			{"mount", result(syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, 0))},
			{"umount2", result(syscall(SYS_umount2, "/nonexistent", 0))},
			{"setns", result(syscall(SYS_setns, 0, CLONE_NEWNET))},
			{"clone-newuser", cloned > 0 ? 0 : cloned},
			{"bpf", result(syscall(SYS_bpf, 0, 0, 0))},
			{"perf_event_open", result(syscall(SYS_perf_event_open, 0, 0, -1, -1, 0))},
			{"init_module", result(syscall(SYS_init_module, 0, 0, ""))},
			{"kexec_load", result(syscall(SYS_kexec_load, 0, 1, 0, 0))},
			{"pivot_root", result(syscall(SYS_pivot_root, "/nonexistent", "/nonexistent"))},
			{"ptrace-pid1", attached},
			{"vsock", result(syscall(SYS_socket, 40 /* AF_VSOCK */, 1 /* SOCK_STREAM */, 0))},
			{"vsock-high-bits", result(syscall(SYS_socket, 1L << 32 | 40, 1, 0))},
			{"af_alg", result(syscall(SYS_socket, 38 /* AF_ALG */, 5 /* SOCK_SEQPACKET */, 0))},
			{"tiocsti", result(syscall(SYS_ioctl, 0, 0x5412 /* TIOCSTI */, "#"))},
			{"personality-aslr-off", persona},
			{"userfaultfd", uffd},
			{"kcmp", result(syscall(SYS_kcmp, 0, 0, 0, 0, 0))},
			{"pidfd_getfd", result(syscall(438, -1, 0, 0))},
			{"process_madvise", result(syscall(440, -1, 0, 0, 0, 0))},
			{"get_mempolicy", result(syscall(SYS_get_mempolicy, 0, 0, 0, 0, 0))},
			{"set_mempolicy", result(syscall(SYS_set_mempolicy, 0 /* MPOL_DEFAULT */, 0, 0))},
			{"mbind", result(syscall(SYS_mbind, 0, 0, 0, 0, 0, 0))},
			{"set_mempolicy_home_node", result(syscall(450, 0, 0, 0, 0))},
			{"quotactl_fd", result(syscall(443, -1, 0, 0, 0))},
			{"io_uring_setup", result(syscall(425, 0, 0))},
			{"clone3", result(syscall(435, 0, 0))},
			{"futex_waitv", result(syscall(449, 0, 0, 0, 0, 0))},
			{"cachestat", result(syscall(451, -1, 0, 0, 0))},
			{"statmount", result(syscall(457, 0, 0, 0, 0))},
			{"listmount", result(syscall(458, 0, 0, 0, 0))},
			{"lsm_list_modules", result(syscall(461, 0, 0, 0))},
			{"mseal", result(syscall(462, 0, 0, 0))},
			{"getxattrat", result(syscall(464, -1, "", 0, "", 0, 0))},
			{"open_tree_attr", result(syscall(467, -1, "", 0, 0, 0))},
			{"file_getattr", result(syscall(468, -1, "", 0, 0, 0))},
			{"x32-getpid", result(syscall(0x40000000 | SYS_getpid))},
			{"i386-getpid", int80(20 /* getpid in i386's numbers */)},
		};
		for (size_t i = 0; i < sizeof tries / sizeof *tries; i++)
			printf("%s: %s\n", tries[i].name, tries[i].result < 0 ? strerror((int)-tries[i].result) : "allowed");
		/* /dev/userfaultfd would hand out what the syscall refuses: the device policy refuses it. */
		long made = result(mknod("/tmp/uffd", S_IFCHR | 0600, makedev(10, 126)));
		int fd = made < 0 ? -1 : open("/tmp/uffd", O_RDWR);
		printf("userfaultfd-dev: %s\n", made < 0 ? strerror((int)-made) : fd < 0 ? strerror(errno) : "opened");
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
