/* floor.c: the kernel's floor of a container start, to time beside the launcher.
 * usage: floor LAYER_DIR [net | veth BRIDGE ADDRESS/PREFIX GATEWAY]
 *
 * Exactly the kernel work of a start and nothing more: clone into new mount, UTS, IPC and
 * PID namespaces (and a network one with `net`); in the child, / made private, a tmpfs,
 * an overlay of LAYER_DIR (the launcher's cached layer) with upper and work dirs on it,
 * /proc, a tmpfs /dev with docker's six nodes, pivot_root, the old root detached, the
 * hostname, then fork and exec of /hello and the reap. No confinement, no checks beyond
 * each call's result. Built static, as the launcher is.
 *
 * With `veth`, what a start on a bridge network adds, and nothing more: a veth pair made
 * over rtnetlink with its peer in the child's network namespace, the host end on BRIDGE
 * and up; the child names nothing, but gives the peer ADDRESS, brings it and lo up and
 * routes by GATEWAY (no lease, no hosts file: the launcher's own bookkeeping). */
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

static const char *layer;

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
	if (bridge) {
		char word;
		if (read(veth_go[0], &word, 1) != 1)
			fail("the parent's word");
		configure_peer();
	}
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
	int veth = argc == 6 && strcmp(argv[2], "veth") == 0;
	if (!(argc == 2 || (argc == 3 && strcmp(argv[2], "net") == 0) || veth)) {
		fprintf(stderr, "usage: floor LAYER_DIR [net | veth BRIDGE ADDRESS/PREFIX GATEWAY]\n");
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
	pid_t pid = clone(container, stack + sizeof stack, flags, NULL);
	if (pid < 0)
		fail("clone");
	if (veth) {
		make_veth(pid);
		if (write(veth_go[1], "", 1) != 1)
			fail("start the child");
	}
	int ws;
	if (waitpid(pid, &ws, 0) != pid)
		fail("waitpid");
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}
