/* floor.c: the kernel's floor of a container start, to time beside the launcher.
 * usage: floor [-c CONFINEMENT] LAYER_DIR [net | veth BRIDGE ADDRESS/PREFIX GATEWAY] [-- COMMAND...]
 *
 * Exactly the kernel work of a start and nothing more: clone into new mount, UTS, IPC and
 * PID namespaces (and a network one with `net`); in the child, / made private, a tmpfs,
 * an overlay of LAYER_DIR (the launcher's cached layer) with upper and work dirs on it,
 * /proc, a tmpfs /dev with docker's six nodes, pivot_root, the old root detached, the
 * hostname, then fork and exec of /hello (or COMMAND, a probe's) and the reap. No
 * confinement, no checks beyond each call's result. Built static, as the launcher is.
 *
 * With `veth`, what a start on a bridge network adds, and nothing more: a veth pair made
 * over rtnetlink with its peer in the child's namespace, the host end on BRIDGE and up;
 * the child names nothing, but gives the peer ADDRESS, brings it and lo up and routes by
 * GATEWAY (no lease, no hosts file: the launcher's own bookkeeping).
 *
 * With -c, the confined floor: the same, plus exactly the kernel work of docker's default
 * confinement, which issue 17 requires the launcher to keep, each step done the cheapest
 * way the kernel offers and nothing else (no probing, no parsing, no record): CONFINEMENT
 * (written by bench/confinement.cpp from the launcher's headers) gives the capabilities,
 * the seccomp filter the launcher compiles from docker's profile, its cgroup2 device
 * program and its v1 device rules. Host side: a cgroup for the container, where the
 * launcher makes one (cgroup2, or else v1's devices controller), with the device policy
 * (the program attached while the child builds its root, as the launcher does, or the v1
 * rules written before the clone), removed after the reap. Child: a cgroup namespace
 * (cgroup2: born in its cgroup, clone3's CLONE_INTO_CGROUP; v1: it moves itself in first), a
 * session of its own and non-dumpable (the CVE-2019-5736 defence); /etc/hosts, hostname
 * and resolv.conf written on the tmpfs and bound over files of the root's /etc; devpts on
 * /dev/pts, a tmpfs on /dev/shm, mqueue on /dev/mqueue; sysfs read-only on /sys and the
 * cgroup mount on its /sys/fs/cgroup (cgroup2 read-only; v1: a tmpfs with the devices
 * hierarchy, made read-only); docker's masked paths (a directory: one read-only empty
 * tmpfs, bound again over the others; a file: /dev/null bound over it; a path this kernel
 * lacks: the mount's ENOENT) and read-only paths (bound over themselves and remounted
 * read-only); then, after the hostname, the bounding set cut to the capabilities kept,
 * the sets made exactly those, no_new_privs and the filter, all before the fork, which
 * hands them to the command. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/statfs.h>

static const char *layer;
static char *hello[] = {"/hello", NULL}, **command = hello;

static void fail(const char *what)
{
	perror(what);
	_exit(125);
}
static const char *bridge, *address, *gateway; /* veth */
static int veth_go[2];                          /* the parent's word: the peer is ours */
static pid_t parent;                            /* names the pair: flPID outside, fpPID inside */

/* One rtnetlink request and its acknowledgement. */
struct req {
	struct nlmsghdr h;
	char body[1024];
};

static void *put(struct req *r, size_t n)
{
	void *p = (char *)&r->h + NLMSG_ALIGN(r->h.nlmsg_len);
	memset(p, 0, NLMSG_ALIGN(n));
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + n;
	return p;
}

static struct rtattr *attr(struct req *r, unsigned short type, const void *data, size_t n)
{
	struct rtattr *a = put(r, RTA_LENGTH(n));
	a->rta_type = type;
	a->rta_len = RTA_LENGTH(n);
	if (n)
		memcpy(RTA_DATA(a), data, n);
	return a;
}

static void end_nest(struct req *r, struct rtattr *a) { a->rta_len = (char *)&r->h + r->h.nlmsg_len - (char *)a; }

static void start(struct req *r, unsigned short type, unsigned short flags)
{
	memset(r, 0, sizeof *r);
	r->h.nlmsg_len = NLMSG_HDRLEN;
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
}

static void ask(int nl, struct req *r, const char *what)
{
	char reply[4096];
	if (send(nl, &r->h, r->h.nlmsg_len, 0) < 0 || recv(nl, reply, sizeof reply, 0) < 0)
		fail(what);
	struct nlmsgerr *e = NLMSG_DATA((struct nlmsghdr *)reply);
	if (((struct nlmsghdr *)reply)->nlmsg_type == NLMSG_ERROR && e->error) {
		errno = -e->error;
		fail(what);
	}
}

static void link_up(int nl, int index, int master, const char *what)
{
	struct req r;
	start(&r, RTM_NEWLINK, 0);
	struct ifinfomsg *i = put(&r, sizeof *i);
	i->ifi_index = index, i->ifi_flags = i->ifi_change = IFF_UP;
	if (master)
		attr(&r, IFLA_MASTER, &master, 4);
	ask(nl, &r, what);
}

/* Parent: the pair, its peer in the child's namespace, the host end on the bridge. */
static void make_veth(pid_t child)
{
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	char host[IFNAMSIZ], peer[IFNAMSIZ];
	snprintf(host, sizeof host, "fl%d", parent);
	snprintf(peer, sizeof peer, "fp%d", parent);
	struct req r;
	start(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	put(&r, sizeof(struct ifinfomsg));
	attr(&r, IFLA_IFNAME, host, strlen(host) + 1);
	struct rtattr *info = attr(&r, IFLA_LINKINFO, NULL, 0);
	attr(&r, IFLA_INFO_KIND, "veth", 4);
	struct rtattr *data = attr(&r, IFLA_INFO_DATA, NULL, 0);
	struct rtattr *p = attr(&r, VETH_INFO_PEER, NULL, 0);
	put(&r, sizeof(struct ifinfomsg));
	attr(&r, IFLA_IFNAME, peer, strlen(peer) + 1);
	int pid = child;
	attr(&r, IFLA_NET_NS_PID, &pid, 4);
	end_nest(&r, p), end_nest(&r, data), end_nest(&r, info);
	ask(nl, &r, "create veth");
	link_up(nl, (int)if_nametoindex(host), (int)if_nametoindex(bridge), "host end up on the bridge");
	close(nl);
}

/* Child: the peer's address, it and lo up, the default route. */
static void configure_peer(void)
{
	char peer[IFNAMSIZ], a[64];
	snprintf(peer, sizeof peer, "fp%d", parent);
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	snprintf(a, sizeof a, "%s", address);
	char *slash = strchr(a, '/');
	*slash = 0;
	struct in_addr ip, gw;
	inet_pton(AF_INET, a, &ip), inet_pton(AF_INET, gateway, &gw);
	link_up(nl, 1, 0, "lo up");
	struct req r;
	start(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	struct ifaddrmsg *m = put(&r, sizeof *m);
	int index = (int)if_nametoindex(peer);
	m->ifa_family = AF_INET, m->ifa_prefixlen = (unsigned char)atoi(slash + 1), m->ifa_index = (unsigned)index;
	attr(&r, IFA_LOCAL, &ip, 4), attr(&r, IFA_ADDRESS, &ip, 4);
	ask(nl, &r, "address");
	link_up(nl, index, 0, "peer up");
	start(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	struct rtmsg *rt = put(&r, sizeof *rt);
	rt->rtm_family = AF_INET, rt->rtm_table = RT_TABLE_MAIN, rt->rtm_protocol = RTPROT_BOOT;
	rt->rtm_scope = RT_SCOPE_UNIVERSE, rt->rtm_type = RTN_UNICAST;
	attr(&r, RTA_GATEWAY, &gw, 4), attr(&r, RTA_OIF, &index, 4);
	ask(nl, &r, "default route");
	close(nl);
}

/* -c: docker's default confinement, as bench/confinement.cpp wrote it. */
static int confined;
static struct confinement_header {
	uint32_t magic, filter_length, program_length, rules_bytes;
	uint64_t caps;
} *conf;
static struct sock_filter *filter;
static struct bpf_insn *program;
static const char *rules; /* 'A' or 'D' and a v1 rule, NUL-ended, one after another */
static enum { cgroup2, cgroup1 } kind;
static char cgroup[64];     /* the container's cgroup directory */
static int cgroup_fd = -1;  /* cgroup2: that directory (clone3, the program's attach); v1: its cgroup.procs */
static int policy_go[2];    /* cgroup2: the parent's word, the device program is attached */

static void read_confinement(const char *path)
{
	static _Alignas(8) char bytes[1 << 16];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, bytes, sizeof bytes);
	if (n < (ssize_t)sizeof *conf || close(fd) < 0)
		fail(path);
	conf = (struct confinement_header *)bytes;
	filter = (struct sock_filter *)(conf + 1);
	program = (struct bpf_insn *)(filter + conf->filter_length);
	rules = (const char *)(program + conf->program_length);
	if (conf->magic != 0x666c6f72 || rules + conf->rules_bytes != bytes + n) {
		fprintf(stderr, "floor: %s: not bench/confinement's output\n", path);
		_exit(125);
	}
}

/* The container's cgroup and, on v1, its device rules; cgroup2's program comes after the clone. */
static void make_cgroup(void)
{
	struct statfs fs;
	const char *at = "/sys/fs/cgroup";
	kind = cgroup2;
	if (statfs(at, &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC)
		at = statfs("/sys/fs/cgroup/unified", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC ? "/sys/fs/cgroup/unified"
												: (kind = cgroup1, "/sys/fs/cgroup/devices");
	snprintf(cgroup, sizeof cgroup, "%s/floor-%d", at, (int)parent);
	if (mkdir(cgroup, 0755) < 0)
		fail(cgroup);
	char path[96];
	if (kind == cgroup2) {
		if ((cgroup_fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || pipe2(policy_go, O_CLOEXEC) < 0)
			fail(cgroup);
		return;
	}
	int files[2]; /* devices.deny, devices.allow: each write is one rule */
	snprintf(path, sizeof path, "%s/devices.deny", cgroup);
	files[0] = open(path, O_WRONLY | O_CLOEXEC);
	snprintf(path, sizeof path, "%s/devices.allow", cgroup);
	files[1] = open(path, O_WRONLY | O_CLOEXEC);
	if (files[0] < 0 || files[1] < 0)
		fail("open the device rules");
	for (const char *r = rules; r < rules + conf->rules_bytes; r += strlen(r) + 1)
		if (write(files[r[0] == 'A'], r + 1, strlen(r + 1)) < 0)
			fail(r + 1);
	snprintf(path, sizeof path, "%s/cgroup.procs", cgroup);
	if (close(files[0]) < 0 || close(files[1]) < 0 || (cgroup_fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		fail(path);
}

/* cgroup2's device policy, loaded and attached while the child builds its root. */
static void attach_device_program(void)
{
	union bpf_attr load = {.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE, .insns = (uintptr_t)program,
			       .insn_cnt = conf->program_length, .license = (uintptr_t)""};
	int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
	union bpf_attr attach = {.target_fd = (uint32_t)cgroup_fd, .attach_bpf_fd = (uint32_t)prog,
				 .attach_type = BPF_CGROUP_DEVICE, .attach_flags = BPF_F_ALLOW_MULTI};
	if (prog < 0 || syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach) < 0 || close(prog) < 0)
		fail("device program");
	if (write(policy_go[1], "", 1) != 1)
		fail("start the child");
}

/* Writes a file of the tmpfs to bind over the root's /etc/NAME (the cwd is the tmpfs). */
static void etc_file(const char *name, const char *text)
{
	int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) < 0 || close(fd) < 0)
		fail(name);
}

/* The cwd is the new root: /etc's files, the mounts under /dev and /sys, then the masked
 * and read-only paths, in the launcher's order. */
static void confined_mounts(void)
{
	static const char *const etc[] = {"hosts", "hostname", "resolv.conf"};
	static const struct { const char *path; int dir; } masked[] = {
		{"proc/acpi", 1}, {"proc/asound", 1}, {"proc/interrupts", 0}, {"proc/kcore", 0},
		{"proc/keys", 0}, {"proc/latency_stats", 0}, {"proc/sched_debug", 0}, {"proc/scsi", 1},
		{"proc/timer_list", 0}, {"proc/timer_stats", 0}, {"sys/firmware", 1}, {"sys/devices/virtual/powercap", 1},
	};
	static const char *const readonly[] = {"proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger"};
	const unsigned long ro = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	char target[64], source[64];
	if (mkdir("etc", 0755) < 0 && errno != EEXIST)
		fail("mkdir etc");
	for (size_t i = 0; i < sizeof etc / sizeof etc[0]; i++) {
		snprintf(target, sizeof target, "etc/%s", etc[i]);
		snprintf(source, sizeof source, "/tmp/%s", etc[i]);
		if ((mknod(target, S_IFREG | 0644, 0) < 0 && errno != EEXIST) || mount(source, target, NULL, MS_BIND, NULL) < 0)
			fail(target);
	}
	if (mkdir("dev/pts", 0755) < 0 || mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5") < 0)
		fail("devpts");
	if (mkdir("dev/shm", 0755) < 0 || mount("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k") < 0)
		fail("shm");
	if (mkdir("dev/mqueue", 0755) < 0 || mount("mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		fail("mqueue");
	if ((mkdir("sys", 0755) < 0 && errno != EEXIST) || mount("sysfs", "sys", "sysfs", ro, NULL) < 0)
		fail("sysfs");
	if (kind == cgroup2 ? mount("cgroup2", "sys/fs/cgroup", "cgroup2", ro, NULL) < 0
			    : mount("tmpfs", "sys/fs/cgroup", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=64k") < 0 ||
				      mkdir("sys/fs/cgroup/devices", 0755) < 0 ||
				      mount("cgroup", "sys/fs/cgroup/devices", "cgroup", ro, "devices") < 0 ||
				      mount(NULL, "sys/fs/cgroup", NULL, MS_REMOUNT | MS_BIND | ro, NULL) < 0)
		fail("cgroup mount");
	const char *empty = NULL; /* the first masked directory's read-only tmpfs */
	for (size_t i = 0; i < sizeof masked / sizeof masked[0]; i++) {
		const char *p = masked[i].path;
		int r = !masked[i].dir ? mount("dev/null", p, NULL, MS_BIND, NULL)
			: empty	       ? mount(empty, p, NULL, MS_BIND, NULL)
				       : mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0");
		if (r < 0 && errno != ENOENT)
			fail(p);
		if (r == 0 && masked[i].dir && !empty)
			empty = p;
	}
	for (size_t i = 0; i < sizeof readonly / sizeof readonly[0]; i++) {
		const char *p = readonly[i];
		if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue;
			fail(p);
		}
		if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | ro, NULL) < 0)
			fail(p);
	}
}

/* PID 1 takes docker's confinement before the fork, which hands all of it to the command. */
static void confine(void)
{
	for (int cap = 0; cap < 64; cap++)
		if (!(conf->caps >> cap & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break; /* past the kernel's last */
			fail("drop from the bounding set");
		}
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {{(uint32_t)conf->caps, (uint32_t)conf->caps, 0},
					      {(uint32_t)(conf->caps >> 32), (uint32_t)(conf->caps >> 32), 0}};
	struct sock_fprog prog = {(unsigned short)conf->filter_length, filter};
	if (syscall(SYS_capset, &h, d) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		fail("confine");
}

static int container(void *unused)
{
	(void)unused;
	static const struct { const char *path; unsigned major, minor; } nodes[] = {
		{"dev/null", 1, 3}, {"dev/zero", 1, 5}, {"dev/full", 1, 7},
		{"dev/random", 1, 8}, {"dev/urandom", 1, 9}, {"dev/tty", 5, 0},
	};
	char opts[4200];
	if (confined) {
		/* v1: in its cgroup (cgroup.procs, "0": the writer), then its namespace there;
		 * cgroup2: born in it (clone3), the namespace's root that cgroup. */
		if (kind == cgroup1 && (write(cgroup_fd, "0", 1) != 1 || close(cgroup_fd) < 0 || unshare(CLONE_NEWCGROUP) < 0))
			fail("enter the cgroup");
		if (kind == cgroup2 && (close(cgroup_fd) < 0 || close(policy_go[1]) < 0))
			fail("close the cgroup");
		if (setsid() < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
			fail("session, non-dumpable");
	}
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
	if (confined) {
		etc_file("hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
		etc_file("hostname", "floor\n");
		etc_file("resolv.conf", "nameserver 10.255.255.53\n");
	}
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
	if (confined)
		confined_mounts();
	if (syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		fail("pivot_root");
	if (sethostname("floor", 5) < 0)
		fail("sethostname");
	if (bridge) {
		char word;
		if (read(veth_go[0], &word, 1) != 1)
			fail("the parent's word");
		configure_peer();
	}
	if (confined) {
		char word;
		if (kind == cgroup2 && read(policy_go[0], &word, 1) != 1)
			fail("the parent's word");
		confine();
	}
	pid_t pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		char *envp[] = {NULL};
		execve(command[0], command, envp);
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
	int c;
	while ((c = getopt(argc, argv, "+c:")) != -1)
		if (c == 'c')
			read_confinement(optarg), confined = 1;
		else
			argc = 0;
	for (int i = optind; i < argc; i++)
		if (strcmp(argv[i], "--") == 0 && i + 1 < argc) {
			command = argv + i + 1;
			argc = i;
		}
	argc -= optind - 1, argv += optind - 1; /* argv[1]: LAYER_DIR */
	int veth = argc == 6 && strcmp(argv[2], "veth") == 0;
	if (!(argc == 2 || (argc == 3 && strcmp(argv[2], "net") == 0) || veth)) {
		fprintf(stderr, "usage: floor [-c CONFINEMENT] LAYER_DIR [net | veth BRIDGE ADDRESS/PREFIX GATEWAY] [-- COMMAND...]\n");
		return 2;
	}
	layer = argv[1];
	parent = getpid();
	if (veth) {
		bridge = argv[3], address = argv[4], gateway = argv[5];
		if (!strchr(address, '/') || pipe(veth_go) < 0)
			fail("bad ADDRESS/PREFIX, or pipe");
	}
	int flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | SIGCHLD | (argc >= 3 ? CLONE_NEWNET : 0);
	pid_t pid;
	if (confined)
		make_cgroup();
	if (confined && kind == cgroup2) {
		struct { /* clone3's struct clone_args */
			uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
		} args = {.flags = (uint64_t)(flags & ~0xff) | CLONE_NEWCGROUP | 0x200000000ULL /* CLONE_INTO_CGROUP */,
			  .exit_signal = SIGCHLD, .cgroup = (uint64_t)cgroup_fd};
		pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
		if (pid == 0)
			_exit(container(NULL));
	} else {
		pid = clone(container, stack + sizeof stack, flags, NULL);
	}
	if (pid < 0)
		fail("clone");
	if (confined && kind == cgroup2)
		attach_device_program();
	if (veth) {
		make_veth(pid);
		if (write(veth_go[1], "", 1) != 1)
			fail("start the child");
	}
	int ws;
	if (waitpid(pid, &ws, 0) != pid)
		fail("waitpid");
	if (confined && rmdir(cgroup) < 0)
		fail(cgroup);
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}
