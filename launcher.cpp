// launcher: run an image archive (docker save, OCI layout) as PID 1 of fresh namespaces,
// with nothing else installed. One start, step by step (main, at the bottom, calls the
// rest in this order), and where each step lives:
//
//   main            parse flags (options.hpp), map the image archive and resolve it to one
//                   image (layers.hpp, image.hpp), describe the container (container.hpp:
//                   the description both front doors make, description.hpp, with docker's
//                   extras; a bundle's config.json is the other door, oci.hpp)
//   layers::prepare find each layer in the cache by digest, or check it (inflating a gzip
//                   layer) and unpack it there once (layers.hpp, cache.hpp, unpack.hpp)
//   start           make the container's cgroup with its device policy and limits
//                   (limits.hpp), clone a child into it and into the description's new
//                   namespaces, give it its id maps (spawn.hpp); on a bridge network, lease
//                   an address and plug a veth into the child (network.hpp)
//   supervise       (host side) forward signals to the container, exit with its status
//   container_main  (PID 1 inside) stack the layers over a private tmpfs, make every mount
//                   of the description inside the new root, pivot_root into it and finish
//                   it (rootfs.hpp), resolve the user (container.hpp), then act as init
//                   (init.hpp):
//   init::run       fork and exec the entrypoint, confined (confine.hpp: docker's
//                   capabilities, no_new_privs, seccomp), forward signals, reap every child
//
// As the machine's own PID 1 (an initramfs's /init) it first mounts what an init mounts,
// reads its arguments from the kernel command line, and powers off at the end (machine.hpp).
//
// Everything the container mounts and writes lives in its own mount namespace, so the
// kernel frees it when the namespace dies, even when the launcher is killed with SIGKILL.
// What stays on the host is the layer cache (image layers, unpacked once, by digest) and,
// as docker's networks do, a bridge network until --net-rm.
#include <csignal>
#include <cstdlib>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <linux/magic.h>

#include "attach.hpp"
#include "cache.hpp"
#include "container.hpp"
#include "containers.hpp"
#include "dns.hpp"
#include "init.hpp"
#include "layers.hpp"
#include "limits.hpp"
#include "machine.hpp"
#include "network.hpp"
#include "oci.hpp"
#include "options.hpp"
#include "ports.hpp"
#include "rootfs.hpp"
#include "runtime.hpp"
#include "spawn.hpp"
#include "sys.hpp"
#include "volumes.hpp"

#ifndef LAUNCHER_VERSION
#define LAUNCHER_VERSION "0.1"
#endif

using sys::die;
using sys::die_errno;
using sys::step;

// The host's word to its container: go, and this is your network. On a bridge the
// network follows in a second word (an inside_config), once the veth is in: PID 1 builds
// its root meanwhile, and reads it before it needs it.
struct go_message {
	network::inside_config net;
	bool net_follows = false;
};

// The container's /etc/resolv.conf, composed by the host side before the clone (dns.hpp),
// and on a bridge network the path of its hosts file (network.hpp): PID 1 blanks the
// environment ($LAUNCHER_RUN) before it reads them.
static char resolv_conf[4096], net_run_dir[PATH_MAX], shared_hosts[64];

static void compose_resolv_conf(const options::parsed &o)
{
	bool host_net = strcmp(o.net, "host") == 0;
	char host[4096];
	ssize_t n = 0;
	for (const char *path : {"/etc/resolv.conf", dns::resolved_upstream}) {
		sys::unique_fd fd(open(path, O_RDONLY | O_CLOEXEC));
		n = fd ? read(fd.get(), host, sizeof host) : 0; // none: docker's defaults
		if (n < 0)
			die_errno("read %s", path);
		if (host_net || !dns::only_loopback_servers({host, size_t(n)}))
			break;
	}
	dns::settings s = {o.dns, o.dns_search, o.dns_option, host_net};
	if (!dns::resolv_conf({host, size_t(n)}, s, resolv_conf, sizeof resolv_conf))
		die("/etc/resolv.conf for the container: more than %zu bytes", sizeof resolv_conf);
}

// The container's cgroups: made by the host side, known to PID 1 for its /sys/fs/cgroup.
static limits::cgroup container_cgroups;

// --net none or a bridge's, as root: the network namespace made by a helper meanwhile
// (network::netns_helper), PID 1 joins it.
static network::netns_helper net_helper;

static bool wants_netns_helper(const container_spec &spec)
{
	return (spec.new_namespaces & CLONE_NEWNET) && !spec.userns; // --net none, or a bridge's
}

// The container's record (containers.hpp), kept by this launcher, its supervisor. The
// large objects with non-zero defaults (-1 descriptors) live on the heap: as statics their
// initial bytes would be stored in the binary's data, about 40 kB of it.
static containers::run_record &record = *new containers::run_record;
static bool recorded;
static char **restart_argv; // the command line a --restart re-executes

// PID 1's stdio when it is not the launcher's: /dev/null without -i, the log's pipes
// with -d; under -t the socket PID 1 sends its pty's master over.
static struct {
	int in = -1, out = -1, err = -1, console = -1;
} child_stdio;

// The cloned child: PID 1 of the new namespaces.
[[noreturn]] static void container_main(const image_archive &img, container_spec &spec, const options::parsed &o,
					int go_fd, int netns_fd, const network::netns_helper &helper, const sigset_t &blocked)
{
	confine::blank_kernel_args();
	go_message go;
	if (read(go_fd, &go, sizeof go) != sizeof go)
		_exit(sys::exit_failure);
	for (auto [fd, to] : {std::pair{child_stdio.in, 0}, {child_stdio.out, 1}, {child_stdio.err, 2}})
		if (fd >= 0 && dup2(fd, to) < 0)
			die_errno("give the container its stdio");
	if (spec.new_namespaces & CLONE_NEWCGROUP)
		limits::enter_namespace(); // in its cgroups now: their root is the container's "/"
	// The host has written our id maps: become the namespace's root. A change of
	// credentials clears the parent-death signal, so that comes after.
	if (spec.userns)
		users::become_namespace_root();
	// Die with the launcher. It holds the pipe's other end until it exits, so a hang-up
	// here means it died before the parent-death signal was armed.
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		die_errno("set parent-death signal");
	pollfd alive = {go_fd, 0, 0};
	if (poll(&alive, 1, 0) != 0 && (alive.revents & POLLHUP))
		_exit(sys::exit_failure);
	// A session of its own: the caller's terminal, if stdin is one, is never the
	// container's controlling terminal, so no process inside can push input into the
	// caller's shell (TIOCSTI) or take its foreground. ^C still reaches the entrypoint:
	// the terminal signals the launcher, which forwards it.
	if (setsid() < 0)
		die_errno("start a session");
	// No process of the container may read or ptrace PID 1, nor open its /proc/1/exe.
	if (prctl(PR_SET_DUMPABLE, 0) < 0)
		die_errno("make PID 1 non-dumpable");
	// Before /sys is mounted: sysfs shows the network namespace of whoever mounts it.
	if (netns_fd >= 0 && (setns(netns_fd, CLONE_NEWNET) < 0 || close(netns_fd) < 0))
		die_errno("join network namespace %s", o.netns);
	rootfs::open_volume_sources(spec);
	// A bridge's: its address, once the host side has plugged the veth in and made the
	// network's hosts file (the network itself, the first time).
	bool bridge = go.net_follows;
	auto read_network = [&] {
		if (go.net_follows && read(go_fd, &go.net, sizeof go.net) != sizeof go.net)
			_exit(sys::exit_failure);
		go.net_follows = false;
	};
	// The network's hosts file, by the run directory opened now: the scratch tmpfs on /tmp
	// may hide its path later (a $LAUNCHER_RUN under /tmp).
	sys::unique_fd run_dir(bridge ? open(net_run_dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1);
	if (bridge && !run_dir)
		die_errno("open %s", net_run_dir);
	auto open_shared_hosts = [&] {
		int fd = openat(run_dir.get(), shared_hosts, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			die_errno("open %s/%s", net_run_dir, shared_hosts);
		return fd;
	};
	umask(0);
	bool receive = std::any_of(spec.volumes.begin(), spec.volumes.end(), [](const volume &v) { return v.propagation & MS_SLAVE; });
	rootfs::build(img, spec.userns, spec.overlay, receive);
	rootfs::unmap_image(img); // PID 1 idles for the container's life
	// Every mount lands on a directory or file opened inside the new root, before
	// pivot_root: none follows a path of the image out of it.
	sys::unique_fd root(open("root", O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (!root)
		die_errno("open %s/root", rootfs::scratch);
	rootfs::deferred_hosts later;
	auto bind_network_hosts = [&] {
		if (!later.target)
			return;
		read_network();
		sys::unique_fd hosts(open_shared_hosts());
		rootfs::bind_network_hosts(later, hosts.get());
	};
	if (bridge && !spec.add_hosts.empty()) { // its lines copy the network's hosts file, and its gateway
		read_network();
		sys::unique_fd hosts(open_shared_hosts());
		rootfs::bind_etc_files(root.get(), spec, go.net, resolv_conf, hosts.get());
	} else {
		rootfs::bind_etc_files(root.get(), spec, go.net, resolv_conf, -1, bridge ? &later : nullptr);
	}
	// The helper's network namespace, made meanwhile, joined before /sys is mounted.
	if (helper.pid > 0)
		network::join_netns_helper(helper);
	// Before /dev/mqueue is mounted: mqueue shows the IPC namespace of whoever mounts it.
	if (spec.ipc_join >= 0 && (setns(spec.ipc_join, CLONE_NEWIPC) < 0 || close(spec.ipc_join) < 0))
		die_errno("join the IPC namespace of container %s", o.ipc_container);
	// The kernel's file systems (container::kernel_mounts_spec), their nodes, sysctls.
	rootfs::mount_all(root.get(), spec, spec.userns, spec.new_namespaces & CLONE_NEWCGROUP);
	if (!spec.userns) // (a user namespace's /sys shows no cgroup of the host's)
		rootfs::mount_cgroups(root.get(), container_cgroups, spec.privileged);
	if (spec.shm_join >= 0)
		rootfs::attach_donor_shm(root.get(), spec.shm_join);
	if (spec.privileged && !spec.userns) // every node of the host's /dev too, as docker gives them
		rootfs::copy_host_devices(root.get(), "/dev");
	rootfs::make_devices(root.get(), spec.devices, spec.userns, true);
	step("mounted /proc, /dev, /sys");
	rootfs::write_sysctls(root.get(), spec);
	if (!spec.volumes.empty())
		bind_network_hosts();
	rootfs::mount_volumes(spec, root.get());
	// With no volume, nothing but the container's own proc and sysfs lies under /proc and /sys.
	if (spec.volumes.empty())
		rootfs::mask_kernel_mounts(root.get(), spec.masked, spec.readonly);
	else
		rootfs::mask_paths(root.get(), spec.masked, spec.readonly);
	// -t: a pty of the container's own devpts; the master goes to the host, the slave is
	// PID 1's stdio, the entrypoint's controlling terminal (init.hpp).
	if (spec.proc.terminal) {
		int slave = attach::make_pty(root.get(), child_stdio.console, spec.proc);
		for (int fd = 0; fd < 3; fd++)
			if (dup2(slave, fd) < 0)
				die_errno("give the terminal as stdio");
		close(slave);
	}
	bind_network_hosts(); // (before the volumes when there are any: one on /etc/hosts stays on top)
	rootfs::enter(root.get());
	root.reset();
	umask(022);
	read_network();
	if ((spec.new_namespaces & CLONE_NEWNET) && (helper.pid < 0 || go.net.addr)) { // the helper brought lo up
		network::configure_inside(go.net);
		step("configured the network");
	}
	// Nothing of the image runs before the host has checked the layers' digests.
	char checked;
	if (read(go_fd, &checked, 1) != 1)
		_exit(sys::exit_failure);
	close(go_fd);
	// From here on PID 1 holds nothing of the host: the cache's directories (the host side
	// keeps their locks), the host's /sys in a user namespace, ... Only stdio stays (and
	// with -d the start word, as fd 3, until the entrypoint is forked).
	if (init::start_word >= 0 && (dup2(init::start_word, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0))
		die_errno("keep the start word");
	if (init::start_word >= 0)
		init::start_word = 3, sys::on_error = init::tell_start_failure;
	if (sys::close_range(init::start_word >= 0 ? 4 : 3, ~0U, 0) < 0)
		die_errno("close the host's descriptors");
	container::resolve_user(spec);
	rootfs::finish(spec);
	init::run(spec, blocked);
}

// What the host side made for a container, given back however the launcher ends.
static network::attachment net_attachment;
static ports::published &net_ports = *new ports::published;

static pid_t container_pid = -1; // PID 1, until reaped: a failing host side ends it first,
				 // since a cgroup with a process in it cannot be removed
static bool machine_init;        // we are the machine's PID 1

static void release_host_resources()
{
	attach::restore();
	layers::abandon_partial_layer();
	ports::release(net_ports);
	network::leave(net_attachment);
	if (container_pid > 0)
		limits::kill_v2(container_cgroups); // every process of its cgroup, and PID 1, maybe not in it yet:
	if (container_pid > 0 && kill(container_pid, SIGKILL) == 0)
		waitpid(container_pid, nullptr, 0);
	container_pid = -1;
	if (net_helper.pid > 0 && kill(net_helper.pid, SIGKILL) == 0) // a start that failed before the clone
		waitpid(net_helper.pid, nullptr, 0);
	net_helper.pid = -1;
	limits::remove(container_cgroups);
	containers::abandon(record); // a failed start leaves no record; nor an ended --rm one
	if (machine_init)
		machine::power_off();
}

[[noreturn]] static void start(const image_archive &img, container_spec &spec, const options::parsed &o)
{
	bool own_netns = spec.new_namespaces & CLONE_NEWNET;
	bool bridge = own_netns && strcmp(o.net, "none") != 0;
	sys::unique_fd netns(spawn::open_joined(spec, CLONE_NEWNET, "network"));
	compose_resolv_conf(o);
	if (bridge) { // where PID 1 finds the network's hosts file, made meanwhile
		snprintf(net_run_dir, sizeof net_run_dir, "%s", network::run_dir());
		snprintf(shared_hosts, sizeof shared_hosts, "net/%s/hosts", o.net);
		sys::mkdirs(net_run_dir, 0755);
	}
	sigset_t blocked;
	init::block_signals(blocked);
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		die_errno("pipe");
	network::netns_helper &helper = net_helper;
	if (helper.pid < 0 && wants_netns_helper(spec)) // -d's: started by the supervisor
		network::start_netns_helper(helper);
	int out[2] = {-1, -1}, err[2] = {-1, -1}, console[2] = {-1, -1};
	if (!o.interactive || o.detach)
		child_stdio.in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (o.tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) < 0)
		die_errno("socketpair");
	if (o.detach && !o.tty && (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0))
		die_errno("pipe");
	int started[2] = {-1, -1}; // -d: a start that fails before the entrypoint's exec says so here (init::start_word)
	if (o.detach && pipe2(started, O_CLOEXEC) < 0)
		die_errno("pipe");
	child_stdio.out = out[1], child_stdio.err = err[1], child_stdio.console = console[1];
	// PID 1 is born in its cgroup2 directory where the kernel can, else moved in before the
	// go message: in its cgroups before it does anything.
	if (spec.cgroup.any()) {
		limits::create(container_cgroups, spec.cgroup);
		step("created cgroups");
	}
	// --pid container:NAME: the child is born in that container's PID namespace; a network
	// namespace is the helper's when there is one.
	bool born_in_cgroup;
	pid_t pid = spawn::clone_child(spec, container_cgroups, spec.pid_join, o.pid_container, helper.pid > 0 ? CLONE_NEWNET : 0,
				       born_in_cgroup);
	if (pid == 0) {
		close(go[1]);
		if (started[0] >= 0)
			close(started[0]);
		init::start_word = started[1];
		sys::at_die = nullptr;             // what the host made is the host's to give back
		limits::forget(container_cgroups);
		network::netns_helper joined = helper;
		helper.pid = -1;
		container_main(img, spec, o, go[0], netns.get(), joined, blocked);
	}
	container_pid = pid;
	close(go[0]);
	if (started[1] >= 0)
		close(started[1]);
	for (int fd : {out[1], err[1], console[1], child_stdio.in})
		if (fd >= 0)
			close(fd);
	netns.reset();
	network::netns_helper made_by = helper; // PID 1 joins its namespace; the helper ends once it did, or died
	helper.pid = -1;
	step("cloned container pid %d%s", pid, born_in_cgroup ? " into its cgroup" : "");
	go_message msg = {};
	msg.net_follows = bridge;
	spawn::admit(spec, container_cgroups, pid, born_in_cgroup, spec.map_helpers);
	if (write(go[1], &msg, sizeof msg) != sizeof msg)
		die_errno("start container");
	if (bridge) {
		// The veth goes into the helper's namespace once it is made (the helper lives until
		// PID 1 has joined it, which is after this), else into PID 1's own.
		char made;
		if (made_by.pid > 0 && read(made_by.ready, &made, 1) != 1)
			die("the network namespace's helper failed");
		// The names its peers resolve (a host name that is no valid one, as -h may give, is left
		// out); with --domainname HOST.DOMAIN first, as docker's hosts line names it.
		static char fqdn[160];
		snprintf(fqdn, sizeof fqdn, "%s.%s", spec.hostname, spec.domainname ? spec.domainname : "");
		bool named = network::valid_host_name(spec.hostname);
		std::vector<const char *> names = {named && spec.domainname && network::valid_host_name(fqdn) ? fqdn : nullptr,
						   named ? spec.hostname : nullptr, o.name};
		names.insert(names.end(), o.network_alias.begin(), o.network_alias.end());
		network::attach(net_attachment, o.net, o.subnet, o.ip, made_by.pid > 0 ? made_by.pid : pid_t(pid), names);
		step("attached to network %s as %s (%s)", o.net, net_attachment.l.name, net_attachment.host_if);
		ports::publish(net_ports, o.net, net_attachment.inside.addr, spec.ports);
		for (size_t i = 0; i < net_ports.count; i++)
			step("published host port %u/%s to %u", net_ports.maps[i].host_port,
			     ports::proto_name(net_ports.maps[i].proto), net_ports.maps[i].ctr_port);
		if (write(go[1], &net_attachment.inside, sizeof net_attachment.inside) != sizeof net_attachment.inside)
			die_errno("start container");
	}
	if (made_by.pid > 0)
		close(made_by.ready), close(made_by.hold);
	// While PID 1 builds its root: the device policy, then the record. The entrypoint
	// execs only after the word that follows them (wait_checked).
	if (spec.cgroup.devices && limits::device_policy_after_clone(container_cgroups)) {
		limits::attach_device_policy(container_cgroups, spec.cgroup);
		step("attached the device policy");
	}
	if (recorded)
		containers::record_running(record, spec, o.seccomp_profile, pid, bridge ? net_attachment.l.name : "", container_cgroups);
	sys::unique_fd master(o.tty ? attach::receive_master(console[0]) : -1);
	if (console[0] >= 0)
		close(console[0]);
	layers::wait_checked(img, go[1]);
	// go[1] stays open while we live: the container's PID 1 checks it for a hang-up.
	int status;
	bool start_failed = false;
	if (o.tty || o.detach) {
		static logs::writer &log = *new logs::writer;
		attach::streams io;
		if (o.detach) {
			snprintf(log.path, sizeof log.path, "%s", record.rec.log_path);
			log.open_file();
			io.log = &log;
			// Once the entrypoint has exec'd (the word's end, nothing said): the caller has its
			// id; nothing of its terminal is held. A start that failed first is told to the
			// caller, who gets its status, as docker run -d's; it is not restarted.
			char why[1024];
			size_t said = 0;
			for (ssize_t n; said < sizeof why - 1 && (n = read(started[0], why + said, sizeof why - 1 - said)) != 0;)
				if (n > 0)
					said += size_t(n);
				else if (errno != EINTR)
					break;
			close(started[0]);
			if (said && !record.restarted)
				start_failed = true, (void)!write(2, why, said);
			else
				containers::detached();
		}
		io.out = o.tty ? master.get() : out[0];
		io.err = o.tty ? master.get() : err[0];
		if (o.tty && !o.detach) {
			io.to = master.get();
			io.size_from = isatty(STDIN_FILENO) ? STDIN_FILENO : -1;
			if (o.interactive) {
				io.in = STDIN_FILENO;
				if (isatty(STDIN_FILENO))
					attach::make_raw(STDIN_FILENO);
			}
		}
		status = attach::relay(pid_t(pid), blocked, io);
		attach::restore();
		container_pid = -1; // reaped
	} else {
		status = init::supervise(pid_t(pid), blocked, spec.sig_proxy);
		if (status < 0) // --sig-proxy=false: a signal that ends the launcher ends the container
			status = 128 - status;
		else
			container_pid = -1; // reaped
	}
	if (spec.cgroup.memory && limits::oom_killed(container_cgroups))
		dprintf(2, "launcher: the container ran out of memory (--memory %s): the kernel killed it\n", o.memory);
	if (machine_init)
		dprintf(2, "launcher: exit status %d\n", status);
	if (recorded)
		containers::finish(record, status);
	bool again = recorded && !start_failed && containers::should_restart(record, status);
	release_host_resources();
	if (o.rm) {
		for (int lock : spec.volume_locks) // (another container's hold on one keeps it)
			close(lock);
		for (const char *name : spec.anonymous)
			volumes::remove_anonymous(spec.data_root, name);
	}
	if (again)
		containers::restart(record, restart_argv);
	exit(status);
}

// docker's verbs before any flag, `launcher network ls`: one row each. runc's verbs
// share ps, kill and exec: containers::is_docker_call tells them apart.
struct verb {
	const char *name;
	int (*main)(int argc, char **argv); // argv[0] is the verb
};
constexpr verb verbs[] = {
	{"network", network::verb_main}, {"volume", volumes::verb_main}, {"ps", containers::ps},
	{"exec", containers::exec},      {"logs", containers::logs_verb}, {"stop", containers::stop},
	{"kill", containers::kill_verb}, {"rm", containers::rm},          {"inspect", containers::inspect},
	{"images", containers::images},  {"system", containers::system},
};

static bool docker_verb(int argc, char **argv)
{
	for (const verb &v : verbs)
		if (argc > 1 && strcmp(argv[1], v.name) == 0)
			return containers::is_docker_call(argc, argv);
	return false;
}

int main(int argc, char **argv)
{
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &sys::started);
	argv = confine::copy_arguments(argc, argv);
	machine_init = machine::as_init = getpid() == 1;
	sys::at_die = release_host_resources;
	char **original_argv = argv; // what to re-execute with
	// docker's `run [FLAGS] ARCHIVE [COMMAND]` is the launcher's own command line.
	if (!machine_init && argc > 1 && strcmp(argv[1], "run") == 0 && containers::is_docker_run(argc, argv)) {
		argv[1] = argv[0];
		argv++, argc--;
	}
	restart_argv = argv;
	// runc's command line (global flags, then a verb): the OCI runtime mode (oci.hpp).
	if (!machine_init && oci::is_runtime_call(argc, argv) && !docker_verb(argc, argv))
		oci::main(argc, argv);
	if (machine_init) {
		machine::mount_early();
		network::configure_inside({}); // lo up
		machine::arguments(argc, argv);
	}
	// Nothing the caller left open reaches PID 1 or the container (CVE-2024-21626).
	if (sys::close_range(3, ~0U, 0) < 0)
		die_errno("close inherited descriptors");
	for (const verb &v : verbs)
		if (argc > 1 && strcmp(argv[1], v.name) == 0) {
			// exec's process starts as a fork of ours: an image's "#!/proc/self/exe" (its
			// /bin/sh, say) would run the host binary in the container, for a process there
			// to hold and rewrite once no launcher runs it (CVE-2019-5736), as runc's exec does.
			if (strcmp(v.name, "exec") == 0)
				confine::reexec_from_sealed_copy(argv);
			int status = v.main(argc - 1, argv + 1);
			if (machine_init)
				machine::power_off();
			return status;
		}
	options::parsed o;
	if (!options::parse(argc, argv, o))
		die("%s", o.error);
	if (o.help || o.version) {
		if (o.help)
			options::usage(STDOUT_FILENO);
		else
			// runc's lines, which dockerd parses ("NAME version X", "commit: Y").
			dprintf(STDOUT_FILENO, "launcher version %s\ncommit: v%s\nspec: 1.1.0\n", LAUNCHER_VERSION, LAUNCHER_VERSION);
		if (machine_init)
			machine::power_off();
		return 0;
	}
	sys::verbose = o.verbose;
	layers::progress = strcmp(o.progress, "plain") == 0 ? layers::show::lines
			   : strcmp(o.progress, "auto") == 0 && isatty(STDERR_FILENO) ? layers::show::live
										  : layers::show::none;
	if (o.net_rm) {
		if (!network::valid_name(o.net_rm))
			die("bad network name %s", o.net_rm);
		network::remove(o.net_rm);
		if (machine_init)
			machine::power_off();
		return 0;
	}
	// Root's cache is the host's; anyone else keeps one of their own (rootless).
	const char *cache_root = o.root ? o.root : getenv("LAUNCHER_ROOT") ? getenv("LAUNCHER_ROOT") : "/var/lib/launcher";
	char user_root[PATH_MAX];
	bool rootless = getuid() != 0;
	if (rootless && !o.root && !getenv("LAUNCHER_ROOT")) {
		cache_root = cache::user_root(user_root) ? user_root : nullptr;
	}
	if (o.cache_ls || o.cache_prune) {
		if (!cache_root)
			die("no cache of the user's own: neither XDG_DATA_HOME nor HOME is an absolute path");
		char path[PATH_MAX];
		int layers = cache::open_layers(cache_root, path);
		if (o.cache_prune && rootless) { // what a rootless cache holds, owned by ids of the user namespace
			container_spec ids;
			container::user_namespace_spec(ids, o);
			spawn::as_root_of_user_namespace(ids, ids.map_helpers, [](void *layers) { cache::prune(*static_cast<int *>(layers)); }, &layers);
		} else {
			o.cache_ls ? cache::list(layers) : cache::prune(layers);
		}
		if (machine_init)
			machine::power_off();
		return 0;
	}
	if (o.load_modules) {
		for (const char *m : {"overlay", "veth", "bridge"})
			if (!machine::load_module(m))
				die_errno("load module %s", m);
		network::load_nf_modules();
	}

	image_archive img;
	layers::open_image(img, const_cast<char *>(o.image), o.image_ref);
	container_spec spec;
	containers::inherit_volumes(spec, o); // --volumes-from, before the flags' own volumes
	container::make_spec(spec, o, img);
	containers::join_namespaces(spec, o); // --pid, --ipc container:NAME
	if (confine::pid1_exe_reachable(spec))
		confine::reexec_from_sealed_copy(machine_init ? original_argv : argv);
	if (!o.detach && wants_netns_helper(spec))
		network::start_netns_helper(net_helper);
	step("read image %s%s%s: %zu layers", img.path, *img.res.name ? " " : "", img.res.name, img.layers.size());
	if (strcmp(o.restart, "no") != 0 && o.rm)
		die("conflicting options: --restart and --rm");
	spec.proc.terminal = o.tty;
	if (o.tty && !image::get_env(spec.proc.env, "TERM"))
		image::set_env(spec.proc.env, "TERM=xterm");
	// The container's record, name taken, before anything of it runs.
	state::text command;
	for (const char *a : spec.proc.args)
		command.add(command.b.empty() ? "" : " ").add(a);
	snprintf(record.rec.command, sizeof record.rec.command, "%.*s", int(command.b.size()), command.b.data());
	if (int sig = oci::signal_number(spec.stop_signal)) // --stop-signal, else the image's, else SIGTERM
		record.rec.stop_signal = sig;
	record.rec.stop_timeout = spec.stop_timeout;
	if (!machine_init && (recorded = containers::begin(record, o, cache_root)))
		step("took the name %s for container %.12s", record.rec.name, record.rec.id);
	// The cache holds layers as real root unpacks them, for overlayfs, and a rootless user's
	// own cache holds them as root of the container's user namespace unpacks them (owners as
	// it maps them, user.overlay.* xattrs, stacked with userxattr). Root's --userns, the copy
	// storage and a machine's init (nothing outlives its boot) unpack afresh, and so does a
	// rootless start whose cache cannot be made (no home).
	spec.overlay = strcmp(o.storage, "copy") != 0 && rootfs::overlay_available();
	if (spec.overlay && !spec.userns && !o.no_cache && !machine_init)
		img.cache = cache::open_layers(cache_root, img.cache_path);
	if (spec.overlay && rootless && !o.no_cache && !machine_init) {
		img.cache = cache_root ? cache::try_open_layers(cache_root, img.cache_path) : (errno = ENOENT, -1);
		img.cache_mode = {"user.overlay.opaque", true};
		if (img.cache < 0)
			step("no cache of the user's own at %s (%s): the layers are unpacked afresh",
			     cache_root ? cache_root : "(no HOME)", strerror(errno));
	}
	// overlayfs refuses to create whiteouts on itself (a launcher inside a container whose
	// root is an overlay): there the layers go to the container's tmpfs, as with --no-cache.
	struct statfs fs;
	if (img.cache >= 0 && fstatfs(img.cache, &fs) == 0 && fs.f_type == OVERLAYFS_SUPER_MAGIC) {
		step("the cache %s is on overlayfs, which cannot hold whiteouts: not using it", img.cache_path);
		close(img.cache);
		img.cache = -1;
	}
	// The writable layer lives beside the cache, on disk as docker's overlay2 upper
	// directory does (a large write then neither fills RAM nor is charged to --memory as
	// page cache that cannot be written back); removed with the container. Without the
	// cache (--no-cache, a user namespace, a machine's init) it is the container's tmpfs.
	if (img.cache >= 0 && recorded && !rootless)
		containers::make_writable_layer(record, img.upper_path);
	mode_t mask = umask(0); // modes exactly as the layers give them
	if (img.cache >= 0 && rootless) {
		if (!layers::hold_cached(img)) {
			spawn::as_root_of_user_namespace(spec, spec.map_helpers, [](void *img) { layers::unpack_missing(*static_cast<image_archive *>(img)); }, &img);
			if (!layers::hold_cached(img))
				die("image %s: a layer was removed from the cache %s as it was unpacked (--cache-prune?)", img.path, img.cache_path);
		}
	} else {
		layers::prepare(img);
	}
	umask(mask);
	if (img.cache >= 0) { // for `launcher images`
		std::vector<std::string_view> diff_ids;
		for (const auto &l : img.res.layers)
			diff_ids.push_back(l.diff_id);
		containers::note_image(cache_root, img.id, img.path, img.res.name, diff_ids);
	}
	if (o.detach && !record.restarted)
		containers::daemonize(record);
	start(img, spec, o);
}
