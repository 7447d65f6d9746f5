// cgroup-api: the OCI mode's cgroup operations (limits.hpp) on a machine's own cgroups, for
// tests/vm.bats (cgroup v2 alone there): a cgroup at a systemd-form cgroupsPath with every
// resource, a process in it, its device rules, freeze and thaw, kill, removal. Prints what
// it reads back, one fact a line; built with the launcher's flags (static, musl).
#include <sys/wait.h>

#include "../limits.hpp"
#include "../runtime.hpp"

static void show(const limits::cgroup &cg, const char *controller, const char *file)
{
	char dir[PATH_MAX], text[256];
	limits::dir_of(cg, controller, dir);
	ssize_t n = limits::read_value(dir, file, text, sizeof text);
	printf("%s %.*s\n", file, int(n > 0 ? strcspn(text, "\n") : 0), text);
}

int main()
{
	setvbuf(stdout, nullptr, _IOLBF, 0); // each line out before a die
	if (!limits::mounted_as(limits::cgroup_root, CGROUP2_SUPER_MAGIC))
		sys::die("%s is not cgroup2: this is for a cgroup v2 machine", limits::cgroup_root);
	limits::cgroup cg;
	limits::resources r;
	r.memory = 64 << 20, r.memory_reservation = 16 << 20, r.memory_swap = 96 << 20, r.cpu_shares = 512;
	r.cpu_quota = 20000, r.cpu_period = 50000, r.cpus = "0", r.mems = "0", r.pids = 20;
	const security::device_rule rules[] = {
		{'a', -1, -1, security::dev_rwm, false}, {'c', 1, 3, security::dev_rwm, true}, {'c', 1, 5, security::dev_r, true}};
	r.set_devices = true, r.devices = rules;
	limits::create_at(cg, "machine-test.slice:vm:api", r);
	printf("path %s v2 %d\n", cg.path, cg.v2);
	for (const char *f : {"memory.max", "memory.low", "memory.swap.max"})
		show(cg, "memory", f);
	show(cg, "cpu", "cpu.weight");
	show(cg, "cpu", "cpu.max");
	show(cg, "cpuset", "cpuset.cpus");
	show(cg, "pids", "pids.max");

	int go[2], said[2];
	if (pipe(go) < 0 || pipe(said) < 0)
		sys::die_errno("pipe");
	pid_t child = fork();
	if (child == 0) {
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		char answer[128];
		int n = snprintf(answer, sizeof answer, "null rw %s, zero r %s, zero w %s, full %s",
				 open("/dev/null", O_RDWR) >= 0 ? "ok" : strerror(errno), open("/dev/zero", O_RDONLY) >= 0 ? "ok" : strerror(errno),
				 open("/dev/zero", O_WRONLY) >= 0 ? "ok" : strerror(errno), open("/dev/full", O_RDONLY) >= 0 ? "ok" : strerror(errno));
		if (write(said[1], answer, size_t(n)) != n)
			_exit(1);
		for (;;)
			pause();
	}
	limits::enter(cg, child, false);
	pid_t in[4];
	size_t n = limits::pids(cg, in, 4);
	printf("pids %zu %s\n", n, n == 1 && in[0] == child ? "the child" : "others");
	if (write(go[1], "g", 1) != 1)
		sys::die_errno("write");
	char answer[129] = "";
	ssize_t got = read(said[0], answer, sizeof answer - 1);
	printf("devices: %s\n", got > 0 ? answer : "no answer");
	limits::freeze(cg, true);
	for (int i = 0; i < 200 && !limits::frozen(cg); i++)
		usleep(5000);
	printf("frozen %d\n", limits::frozen(cg));
	limits::freeze(cg, false);
	for (int i = 0; i < 200 && limits::frozen(cg); i++)
		usleep(5000);
	printf("thawed %d\n", !limits::frozen(cg));
	limits::kill_all(cg);
	int ws = 0;
	waitpid(child, &ws, 0);
	printf("killed by %d\n", WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
	char dir[PATH_MAX];
	limits::dir_of(cg, nullptr, dir);
	limits::remove(cg);
	printf("removed %d\n", access(dir, F_OK) < 0);
	for (const char *parent : {"/sys/fs/cgroup/machine.slice/machine-test.slice", "/sys/fs/cgroup/machine.slice"})
		if (rmdir(parent) < 0)
			sys::die_errno("rmdir %s", parent);
	return 0;
}
