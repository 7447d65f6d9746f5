// containers.hpp: docker's container lifecycle without a daemon. `launcher run` writes a
// record (state.hpp's, in the state root the runtime mode uses: ROOT/ID/state.json) and
// stays as the container's supervisor; -d puts that supervisor in the background. The
// verbs read the records: ps, logs, stop, rm, inspect; exec enters a container through
// the runtime mode's exec path (oci.hpp). Ids are 64 hex digits, taken by any unique
// prefix; a name is held by the link ROOT/.name.NAME -> ID, made atomically, so two runs
// cannot take the same one.
#pragma once
#include <dirent.h>
#include <sys/random.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <linux/magic.h>

#include <algorithm>
#include <array>


#include "attach.hpp"
#include "cache.hpp"
#include "logs.hpp"
#include "network.hpp"
#include "oci.hpp"
#include "options.hpp"
#include "state.hpp"
#include "sys.hpp"
#include "unpack.hpp"
#include "users.hpp"

namespace containers {

using sys::die;
using sys::die_errno;

// docker's exit status of a failed command other than run: 1.
constexpr int verb_failure = 1;

inline void new_id(char (&out)[65])
{
	unsigned char bytes[32];
	if (getrandom(bytes, sizeof bytes, 0) != sizeof bytes)
		die_errno("getrandom");
	for (size_t i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", bytes[i]);
}

inline bool is_hex_prefix(std::string_view s)
{
	if (s.empty() || s.size() > 64)
		return false;
	for (char c : s)
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	return true;
}

// What ps and inspect say of a record: docker's states.
inline const char *docker_status(const oci::container_ref &c)
{
	const state::record &r = c.rec;
	if (!*r.name) // a bundle's container: the runtime's word
		return oci::status_of(c);
	if (state::alive(r))
		return *r.cgroups && limits::frozen(c.cg) ? "paused" : "running";
	if (r.exit_code >= 0 && !state::supervised(r))
		return "exited";
	if (state::supervised(r))
		return r.exit_code >= 0 ? "restarting" : "created";
	return "dead"; // its supervisor was killed: nothing recorded its end
}

inline bool running(const char *status)
{
	return !strcmp(status, "running") || !strcmp(status, "paused") || !strcmp(status, "restarting") || !strcmp(status, "created");
}

inline void write_record(int dir, const state::record &r, const char *status)
{
	static char text[PATH_MAX * 8 + 4096];
	size_t n = state::format(r, status, true, text, sizeof text);
	state::write_file(dir, "state.json", {text, n}, "the container's record");
}

// A name's link: .name.NAME in the state root.
inline void name_link(const char *name, char (&out)[160])
{
	snprintf(out, sizeof out, ".name.%s", name);
}

// NAME, ID or a unique prefix of an ID to its record; false when none matches. An
// ambiguous prefix is an error of its own.
inline bool find(oci::context &x, const char *arg, oci::container_ref &c)
{
	char link[160], id[128];
	name_link(arg, link);
	ssize_t n = readlinkat(x.root, link, id, sizeof id - 1);
	if (n > 0) {
		id[n] = 0;
		if (oci::load(x, id, c))
			return true;
	}
	if (state::valid_id(arg) && oci::load(x, arg, c))
		return true;
	if (!is_hex_prefix(arg))
		return false;
	DIR *d = fdopendir(dup(x.root));
	if (!d)
		die_errno("list %s", x.root_path);
	rewinddir(d); // the duplicate shares the root's offset
	char match[128] = "";
	int matches = 0;
	while (dirent *e = readdir(d))
		if (e->d_name[0] != '.' && strncmp(e->d_name, arg, strlen(arg)) == 0 && strlen(e->d_name) == 64) {
			snprintf(match, sizeof match, "%s", e->d_name);
			matches++;
		}
	closedir(d);
	if (matches > 1)
		die("multiple IDs found with provided prefix: %s", arg);
	return matches == 1 && oci::load(x, match, c);
}

inline void find_or_die(oci::context &x, const char *arg, oci::container_ref &c)
{
	if (!find(x, arg, c))
		die("No such container: %s", arg);
}

// Gives back everything of a container that is no longer running: what its supervisor
// would have removed had it not been killed (its cgroup), its data directory (log,
// writable layer), its name and its record.
inline void reclaim(oci::context &x, oci::container_ref &c)
{
	char cgroup_dir[PATH_MAX];
	limits::dir_of(c.cg, nullptr, cgroup_dir);
	if (c.cg.v2_root && access(cgroup_dir, F_OK) < 0)
		c.cg.v2_root = nullptr; // its supervisor removed it
	if (*c.rec.cgroups && (c.cg.v2_root || (!c.cg.v2 && c.cg.v1))) {
		limits::kill_all(c.cg);
		oci::wait_gone(c);
		limits::remove(c.cg);
	}
	if (*c.rec.data_dir) {
		sys::unique_fd dir(open(c.rec.data_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
		if (dir) {
			for (const char *f : {"upper", "work"})
				unpack::remove_tree(dir.get(), f, "rm");
			char log[160];
			snprintf(log, sizeof log, "%s-json.log", c.rec.id);
			unlinkat(dir.get(), log, 0);
			strcat(log, ".1");
			unlinkat(dir.get(), log, 0);
		}
		if (rmdir(c.rec.data_dir) < 0 && errno != ENOENT)
			die_errno("remove %s", c.rec.data_dir);
	}
	char link[160], id[128];
	name_link(c.rec.name, link);
	ssize_t n = readlinkat(x.root, link, id, sizeof id - 1);
	if (n > 0 && size_t(n) == strlen(c.rec.id) && memcmp(id, c.rec.id, size_t(n)) == 0)
		unlinkat(x.root, link, 0);
	state::remove_dir(x.root, c.rec.id);
}

// The name for a new container: taken by its link, or a conflict (docker's words and
// exit status 125). A dead container's name (its supervisor was SIGKILLed) is reclaimed.
inline void claim_name(oci::context &x, const char *name, const char *id)
{
	char link[160];
	name_link(name, link);
	for (int tries = 0; tries < 3; tries++) {
		if (symlinkat(id, x.root, link) == 0)
			return;
		if (errno != EEXIST)
			die_errno("take the name %s in %s", name, x.root_path);
		char holder[128];
		ssize_t n = readlinkat(x.root, link, holder, sizeof holder - 1);
		if (n <= 0)
			continue;
		holder[n] = 0;
		oci::container_ref c;
		if (!oci::load(x, holder, c)) { // a stale link: its record is gone
			unlinkat(x.root, link, 0);
			continue;
		}
		if (strcmp(docker_status(c), "dead") == 0) {
			reclaim(x, c);
			continue;
		}
		die("Conflict. The container name \"/%s\" is already in use by container \"%s\". "
		    "You have to remove (or rename) that container to be able to reuse that name.", name, holder);
	}
	die("take the name %s: it keeps changing hands", name);
}

// ---- The record of a run, kept by its supervisor -----------------------------------------

struct run_record {
	oci::context x;
	state::record rec;
	sys::unique_fd dir;     // the record's directory
	bool made = false;      // ours to remove if the start fails
	bool restarted = false; // --restart: this launcher took over its earlier self's record
};

// --restart's launcher re-executes itself with the container's id here.
constexpr const char *restart_variable = "LAUNCHER_RESTART";

// The record a restarted launcher continues: its id, name, log and count kept.
inline bool adopt(run_record &r, const char *id)
{
	oci::container_ref c;
	if (!state::valid_id(id) || !oci::load(r.x, id, c) || !*c.rec.name)
		die("--restart: the record of container %s is gone", id);
	r.rec = c.rec;
	r.rec.annotations = {};
	r.dir = std::move(c.dir);
	r.rec.exit_code = -1;
	r.rec.finished[0] = 0;
	r.restarted = true;
	write_record(r.dir.get(), r.rec, "created");
	return true;
}

// The record of a new container, before anything of it exists: id, name, state "created".
// False when the state root cannot be used and the run needs no record (no -d, no name).
inline bool begin(run_record &r, const options::parsed &o, const char *data_root)
{
	state::state_root_path(nullptr, r.x.root_path);
	if (mkdir(r.x.root_path, 0700) < 0 && errno != EEXIST && (o.detach || o.name))
		die_errno("create the state root %s", r.x.root_path);
	r.x.root = open(r.x.root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r.x.root < 0 && !o.detach && !o.name) {
		sys::step("no record: the state root %s cannot be opened (%s)", r.x.root_path, strerror(errno));
		return false;
	}
	if (r.x.root < 0)
		die_errno("open the state root %s", r.x.root_path);
	if (const char *again = getenv(restart_variable)) {
		static char id[128];
		snprintf(id, sizeof id, "%s", again);
		unsetenv(restart_variable);
		return adopt(r, id);
	}
	char id[65];
	new_id(id);
	snprintf(r.rec.id, sizeof r.rec.id, "%s", id);
	if (o.name)
		snprintf(r.rec.name, sizeof r.rec.name, "%s", o.name);
	else
		snprintf(r.rec.name, sizeof r.rec.name, "launcher_%.12s", id);
	if (mkdirat(r.x.root, id, 0700) < 0)
		die_errno("create the record %s/%s", r.x.root_path, id);
	r.made = true;
	r.dir.reset(openat(r.x.root, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
	if (!r.dir)
		die_errno("open the record %s/%s", r.x.root_path, id);
	snprintf(r.rec.image, sizeof r.rec.image, "%s", o.image);
	snprintf(r.rec.restart, sizeof r.rec.restart, "%s", o.restart);
	if (strcmp(o.net, "none") != 0 && !o.netns)
		snprintf(r.rec.network, sizeof r.rec.network, "%s", o.net);
	r.rec.auto_remove = o.rm;
	r.rec.tty = o.tty;
	r.rec.interactive = o.interactive;
	snprintf(r.rec.ipc_mode, sizeof r.rec.ipc_mode, "%s", o.ipc_mode);
	state::rfc3339(r.rec.created);
	bool dead;
	r.rec.supervisor = getpid();
	r.rec.supervisor_start = state::process_start(getpid(), dead);
	snprintf(r.rec.data_dir, sizeof r.rec.data_dir, "%s/containers/%s", data_root, id);
	if (o.detach) {
		sys::mkdirs(r.rec.data_dir, 0700);
		snprintf(r.rec.log_path, sizeof r.rec.log_path, "%s/%s-json.log", r.rec.data_dir, id);
	}
	// The record first: a name's link to a directory without one is taken for stale.
	write_record(r.dir.get(), r.rec, "created");
	claim_name(r.x, r.rec.name, id);
	return true;
}

// DATA_DIR/upper and DATA_DIR/work, the container's writable layer (rootfs::build stacks
// it); a restarted container keeps what it wrote, as docker's does.
inline void make_writable_layer(run_record &r, char (&out)[PATH_MAX])
{
	sys::mkdirs(r.rec.data_dir, 0700);
	sys::unique_fd dir(open(r.rec.data_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
	if (!dir)
		die_errno("open %s", r.rec.data_dir);
	for (auto [f, mode] : {std::pair{"upper", 0755}, {"work", 0700}})
		if (mkdirat(dir.get(), f, mode_t(mode)) < 0 && errno != EEXIST)
			die_errno("create %s/%s", r.rec.data_dir, f);
	snprintf(out, sizeof out, "%s", r.rec.data_dir);
}

// A start that failed leaves no record behind (sys::at_die).
inline void abandon(run_record &r)
{
	if (!r.made)
		return;
	r.made = false;
	oci::container_ref c;
	c.rec = r.rec;
	reclaim(r.x, c);
}

// The end of the container's process: its status in the record, kept until rm (or, with
// --rm, removed with everything else by abandon).
inline void finish(run_record &r, int status)
{
	r.rec.exit_code = status;
	state::rfc3339(r.rec.finished);
	if (r.rec.auto_remove) {
		r.rec.cgroups[0] = 0; // the supervisor removes its cgroup itself
		return;
	}
	write_record(r.dir.get(), r.rec, "stopped");
	r.made = false;
}

// --restart's rule, once the container ended with status: no after `stop` or `rm -f`
// (their mark); always and unless-stopped (the same without a daemon to restart); on
// failure, a status other than 0, at most N times when on-failure:N.
inline bool should_restart(const run_record &r, int status)
{
	std::string_view policy(r.rec.restart);
	if (policy == "no" || faccessat(r.dir.get(), "stopped-by-user", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return false;
	if (policy == "always" || policy == "unless-stopped")
		return true;
	unsigned most = policy.size() > 11 ? unsigned(sys::leading_number(policy.data() + 11)) : 0;
	return status != 0 && (most == 0 || r.rec.restart_count < most);
}

// The container starts again from nothing but its record: the launcher, its host side
// given back, re-executes itself (the same command line), after a delay that doubles
// with each restart (100 ms to 12.8 s), as docker's.
[[noreturn]] inline void restart(run_record &r, char **argv)
{
	unsigned shift = r.rec.restart_count < 7 ? r.rec.restart_count : 7;
	r.rec.restart_count++;
	write_record(r.dir.get(), r.rec, "stopped");
	for (unsigned waited = 0; waited < 1u << shift; waited++) { // `stop` during the wait: no restart
		if (faccessat(r.dir.get(), "stopped-by-user", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			exit(r.rec.exit_code);
		usleep(100000);
	}
	if (setenv(restart_variable, r.rec.id, 1) < 0)
		die_errno("setenv");
	execve("/proc/self/exe", argv, environ);
	die_errno("restart: re-execute the launcher");
}

// -d: the caller waits until the container has started, prints its id and returns; the
// launcher goes on in a session of its own as the container's supervisor.
inline int started_fd = -1;

inline void daemonize(run_record &r)
{
	int word[2];
	if (pipe2(word, O_CLOEXEC) < 0)
		die_errno("pipe");
	pid_t child = pid_t(sys::clone_fork(SIGCHLD));
	if (child < 0)
		die_errno("fork the supervisor");
	if (child > 0) {
		close(word[1]);
		char byte;
		ssize_t n;
		while ((n = read(word[0], &byte, 1)) < 0 && errno == EINTR) {
		}
		if (n == 1) {
			dprintf(1, "%s\n", r.rec.id);
			_exit(0);
		}
		int ws; // the supervisor failed, and said why on stderr
		while (waitpid(child, &ws, 0) < 0 && errno == EINTR) {
		}
		_exit(WIFEXITED(ws) ? WEXITSTATUS(ws) : sys::exit_failure);
	}
	close(word[0]);
	started_fd = word[1];
	if (setsid() < 0)
		die_errno("start a session");
	sys::unique_fd null(open("/dev/null", O_RDWR | O_CLOEXEC));
	if (!null || dup2(null.get(), 0) < 0 || dup2(null.get(), 1) < 0)
		die_errno("open /dev/null");
	bool dead;
	r.rec.supervisor = getpid();
	r.rec.supervisor_start = state::process_start(getpid(), dead);
	write_record(r.dir.get(), r.rec, "created");
}

// The container runs: the caller may go; the supervisor lets go of its stderr.
inline void detached()
{
	if (started_fd < 0)
		return;
	(void)!write(started_fd, "s", 1);
	close(started_fd);
	started_fd = -1;
	sys::unique_fd null(open("/dev/null", O_RDWR | O_CLOEXEC));
	if (null)
		dup2(null.get(), 2);
}

// What exec needs of the container's process, as an OCI process object: its user, its
// environment and working directory, its capabilities and no_new_privs; the filter is
// named apart (seccomp: unconfined, or the profile's text in seccomp.json; none: default).
inline void save_process(run_record &r, const container_spec &spec, const char *profile);

// The record of a started container: its process, PID 1's pid and start time, its address
// on a bridge network ("": none), its cgroup, "running".
inline void record_running(run_record &r, const container_spec &spec, const char *profile, pid_t pid, const char *address,
			   const limits::cgroup &cg)
{
	save_process(r, spec, profile);
	bool dead;
	r.rec.pid = pid;
	r.rec.start_time = state::process_start(pid, dead);
	snprintf(r.rec.address, sizeof r.rec.address, "%s", address);
	snprintf(r.rec.cgroups, sizeof r.rec.cgroups, "%s", *cg.path ? cg.path : cg.v1_path);
	write_record(r.dir.get(), r.rec, "running");
	sys::step("recorded container %.12s as %s", r.rec.id, r.rec.name);
}

inline void save_process(run_record &r, const container_spec &spec, const char *profile)
{
	state::text t;
	const container::process &p = spec.proc;
	t.addf("{\"user\":{\"uid\":%u,\"gid\":%u,\"additionalGids\":[", p.uid, p.gid);
	for (size_t i = 0; i < p.groups.size(); i++)
		t.addf("%s%u", i ? "," : "", p.groups[i]);
	t.add("]},\"args\":[");
	bool first = true;
	for (const char *a : p.args) { // the entrypoint's, as inspect shows it; exec gives its own
		t.add(first ? "" : ",").json(a);
		first = false;
	}
	t.add("],\"env\":[");
	first = true;
	for (const char *e : p.env) {
		if (!e)
			break;
		t.add(first ? "" : ",").json(e);
		first = false;
	}
	t.add("],\"cwd\":").json(p.cwd);
	t.add(",\"capabilities\":{");
	for (auto [set, mask] : {std::pair{"bounding", p.caps[security::bounding]}, {"effective", p.caps[security::effective]},
				 {"permitted", p.caps[security::permitted]}}) {
		t.addf("%s\"%s\":[", strcmp(set, "bounding") ? "," : "", set);
		bool any = false;
		for (const security::capability &cap : security::capabilities)
			if (mask >> cap.number & 1) {
				t.addf("%s\"CAP_%s\"", any ? "," : "", cap.name);
				any = true;
			}
		t.add("]");
	}
	t.addf("},\"noNewPrivileges\":%s", spec.privileged ? "false" : "true");
	if (*spec.proc.apparmor) // exec's processes enter it too
		t.add(",\"apparmorProfile\":").json(spec.proc.apparmor);
	t.add("}");
	state::write_file(r.dir.get(), "process.json", t.view(), "the container's process");
	if (*spec.user) // its ids are resolved inside, by PID 1: exec resolves them alike
		state::write_file(r.dir.get(), "user", spec.user, "the container's user");
	// The rest only when it says more than its reader's default (no file: no mounts, no
	// labels, docker's default filter): one file written at a start, not four.
	if (!spec.volumes.empty()) {
		state::text m; // inspect's Mounts, docker's shape; what --volumes-from takes
		m.add("[");
		for (const volume &v : spec.volumes) {
			if (spec.ipc_host && strcmp(v.target, "/dev/shm") == 0) // --ipc host's, no mount of the user's
				continue;
			m.add(m.b.size() > 1 ? "," : "").addf("{\"Type\":\"%s\",", v.tmpfs ? "tmpfs" : v.name ? "volume" : "bind");
			if (v.name)
				m.add("\"Name\":").json(v.name).add(",\"Driver\":\"local\",");
			m.add("\"Source\":").json(v.source ? v.source : "").add(",\"Destination\":").json(v.target);
			const char *propagation = "";
			for (const volumes::propagation_name &p : volumes::propagations)
				if (p.flags == v.propagation)
					propagation = p.name;
			m.addf(",\"RW\":%s,\"Propagation\":\"%s\"}", v.read_only ? "false" : "true", propagation);
		}
		m.add("]");
		state::write_file(r.dir.get(), "mounts.json", m.view(), "the container's mounts");
	}
	if (!spec.labels.empty()) {
		state::text l; // inspect's Config.Labels: the image's, then --label-file's and --label's
		l.add("{");
		for (auto [key, value] : spec.labels)
			l.add(l.b.size() > 1 ? "," : "").json(key).add(":").json(value);
		l.add("}");
		state::write_file(r.dir.get(), "labels.json", l.view(), "the container's labels");
	}
	if (!spec.has_filter || profile)
		state::write_file(r.dir.get(), "seccomp", !spec.has_filter ? "unconfined" : "profile", "the container's seccomp mode");
	if (profile) {
		std::vector<char> text;
		if (!state::read_file(AT_FDCWD, profile, text))
			die_errno("read seccomp profile %s", profile);
		state::write_file(r.dir.get(), "seccomp.json", {text.data(), text.size()}, "the container's seccomp profile");
	}
}

// ---- Joining another container: --volumes-from, --pid and --ipc container:NAME -----------

// The container a flag names (NAME, ID or a prefix, running or not): docker's line when none.
inline void find_donor(oci::context &x, const char *name, oci::container_ref &c)
{
	if (x.root < 0) { // (not made here: a refused start leaves nothing, a state root neither)
		state::state_root_path(nullptr, x.root_path);
		x.root = open(x.root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (x.root < 0 && errno != ENOENT)
			die_errno("open the state root %s", x.root_path);
	}
	if (x.root < 0)
		die("No such container: %s", name);
	find_or_die(x, name, c);
}

// --volumes-from CONTAINER[:MODE] (checked by options::parse): every volume and bind mount
// of its mounts.json (its tmpfs mounts are its own) at the same target, read-only where
// the donor's is or MODE says ro (docker's rule: rw cannot make a read-only one
// writable), its propagation kept. A later donor's mount on the same target wins, and the
// flags' mounts win over both (container::make_spec). A volume is held with a shared lock,
// as the donor holds it, so that volume rm and prune pass it over.
inline void inherit_volumes(container_spec &spec, const options::parsed &o)
{
	oci::context x;
	for (const char *arg : o.volumes_from) {
		std::string_view a(arg), name = a.substr(0, a.find(':')), mode = a.substr(std::min(a.size(), name.size() + 1));
		const char *donor = container::copy_of(name);
		oci::container_ref c;
		find_donor(x, donor, c);
		std::vector<char> text;
		std::vector<json::token> tokens;
		json::document doc;
		if (!state::read_file(c.dir.get(), "mounts.json", text)) {
			if (errno == ENOENT) // none: it has no mounts (save_process)
				continue;
			die_errno("bad --volumes-from %s: read the mounts of container %s", arg, donor);
		}
		if (image::problem e = image::detail::load({text.data(), text.size()}, tokens, doc))
			die("bad --volumes-from %s: the mounts of container %s: %s", arg, donor, e.what);
		bool read_only = mode == "ro" || mode.starts_with("ro,") || mode.ends_with(",ro");
		bool ok = json::value{&doc, 0}.is(json::kind::array);
		json::value{&doc, 0}.each([&](json::value m) {
			auto field = [&](const char *key) -> const char * {
				json::value f = m[key];
				if (!f.is(json::kind::string))
					return ok = false, "";
				char *out = static_cast<char *>(malloc(f.raw().size() + 1));
				if (!out)
					die("out of memory");
				out[json::unescape(f.raw(), out).size()] = 0;
				return out;
			};
			const char *type = field("Type"), *source = field("Source"), *target = field("Destination");
			const char *propagation = m["Propagation"].is(json::kind::string) ? field("Propagation") : "";
			if (!ok || !strcmp(type, "tmpfs") || (strcmp(type, "bind") && strcmp(type, "volume")) || target[0] != '/')
				return;
			volume v = {source, target, read_only || m["RW"].raw() != "true", true, -1};
			v.propagation = volumes::propagation_of(propagation);
			if (!strcmp(type, "volume")) {
				v.name = field("Name");
				int lock = volumes::hold(source);
				if (lock < 0)
					die_errno("bad --volumes-from %s: volume %s of container %s", arg, v.name, donor);
				spec.volume_locks.push_back(lock);
			} else {
				struct stat st;
				if (stat(source, &st) < 0)
					die_errno("bad --volumes-from %s: open %s", arg, source);
				v.is_dir = S_ISDIR(st.st_mode);
			}
			std::erase_if(spec.inherited, [&](const volume &w) { return strcmp(w.target, v.target) == 0; });
			spec.inherited.push_back(v);
		});
		if (!ok)
			die("bad --volumes-from %s: the mounts of container %s cannot be read", arg, donor);
	}
}

// A detached copy of the donor's /dev/shm mount, made by a helper in the donor's mount
// namespace (a mount of another namespace cannot be bound from ours) and handed back over
// a socket; PID 1 attaches it over its own /dev/shm. The path is resolved in the donor's
// root, so at worst it names some tmpfs of the donor's own tree.
inline int donor_shm(int pidfd, const state::record &r, const char *donor)
{
	struct stat root = oci::rooted(r);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		die_errno("socketpair");
	pid_t h = pid_t(sys::clone_fork(SIGCHLD));
	if (h < 0)
		die_errno("fork");
	if (h == 0) {
		sys::at_die = nullptr;
		if (setns(pidfd, CLONE_NEWNS) < 0)
			die_errno("join the mount namespace of container %s", donor);
		oci::check_joined_root(root, donor);
		sys::unique_fd shm(sys::open_tree(AT_FDCWD, "/dev/shm", sys::open_tree_clone | O_CLOEXEC | AT_SYMLINK_NOFOLLOW));
		struct statfs fs;
		if (!shm || fstatfs(shm.get(), &fs) < 0)
			die_errno("open /dev/shm of container %s", donor);
		if (fs.f_type != TMPFS_MAGIC)
			die("container %s: its /dev/shm is no tmpfs", donor);
		attach::send_console(sv[1], shm.get(), "shm");
		_exit(0);
	}
	close(sv[1]);
	int shm = attach::receive_master(sv[0]);
	close(sv[0]);
	int ws;
	while (waitpid(h, &ws, 0) < 0)
		if (errno != EINTR)
			die_errno("wait for the /dev/shm helper");
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0 || shm < 0)
		exit(WIFEXITED(ws) && WEXITSTATUS(ws) ? WEXITSTATUS(ws) : sys::exit_failure); // it said why
	// nosuid, nodev, noexec as docker's /dev/shm, whatever a --privileged donor mounted there
	constexpr uint64_t confined = sys::mount_attr_nosuid | sys::mount_attr_nodev | sys::mount_attr_noexec;
	if (sys::mount_setattr(shm, "", AT_EMPTY_PATH | AT_RECURSIVE, confined) < 0)
		die_errno("confine /dev/shm of container %s", donor);
	return shm;
}

// Whether a process of container c may hold CAP_SYS_PTRACE, by the bounding set its
// processes are given (process.json's; a bundle's container: its PID 1's). Such a process
// may open /proc/PID/root of a non-dumpable process, or ptrace it: a --pid container:NAME
// joiner's PID 1, born in that PID namespace, still has the host's root (and every
// capability) while it builds its own, so such a donor is refused.
inline bool may_ptrace(const oci::container_ref &c)
{
	constexpr uint64_t sys_ptrace = uint64_t(1) << 19;
	std::vector<char> text, store;
	if (state::read_file(c.dir.get(), "process.json", text)) {
		std::vector<json::token> tokens;
		json::document doc;
		static container::process p;
		image::detail::strings st(store, {text.data(), text.size()});
		if (image::detail::load({text.data(), text.size()}, tokens, doc) || bundle::parse_process({&doc, 0}, st, p))
			return true; // unreadable: it may
		return p.caps[container::bounding] & sys_ptrace;
	}
	char path[64], status[4096];
	snprintf(path, sizeof path, "/proc/%d/status", c.rec.pid);
	sys::unique_fd fd(open(path, O_RDONLY | O_CLOEXEC));
	ssize_t n = fd ? read(fd.get(), status, sizeof status - 1) : -1;
	status[n > 0 ? n : 0] = 0;
	const char *line = strstr(status, "\nCapBnd:\t");
	uint64_t bounding = 0;
	for (const char *h = line ? line + 9 : "ffffffffffffffff"; (*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f'); h++)
		bounding = bounding << 4 | uint64_t(*h <= '9' ? *h - '0' : *h - 'a' + 10);
	return bounding & sys_ptrace;
}

// --pid and --ipc container:NAME: a pidfd of that running container's PID 1, taken before
// its record's start time is checked again, so that a reused pid is never joined (the
// host side joins its PID namespace for the clone, PID 1 its IPC namespace). docker's
// refusals: a container not running or restarting; for IPC, one made with --ipc private.
inline void join_namespaces(container_spec &spec, const options::parsed &o)
{
	oci::context x;
	for (auto [name, ipc] : {std::pair{o.pid_container, false}, {o.ipc_container, true}}) {
		if (!name)
			continue;
		oci::container_ref c;
		find_donor(x, name, c);
		const char *status = docker_status(c);
		if (!strcmp(status, "restarting"))
			die("Container %s is restarting, wait until the container is running", c.rec.id);
		if (strcmp(status, "running") != 0 && strcmp(status, "paused") != 0)
			die("container %s is not running", ipc ? name : c.rec.id);
		if (ipc && !strcmp(c.rec.ipc_mode, "private"))
			die("container %s: non-shareable IPC (hint: use IpcMode:shareable for the donor container)", name);
		if (!ipc && may_ptrace(c))
			die("--pid container:%s: that container may hold CAP_SYS_PTRACE (--cap-add, --privileged): its processes could "
			    "reach this one's first process before it enters its root", name);
		int pidfd = int(syscall(SYS_pidfd_open, c.rec.pid, 0));
		if (pidfd < 0 || !state::alive(c.rec)) // the pid is the container's: checked after pidfd_open
			die("container %s is not running", ipc ? name : c.rec.id);
		(ipc ? spec.ipc_join : spec.pid_join) = pidfd;
		if (ipc)
			spec.shm_join = donor_shm(pidfd, c.rec, name);
	}
}

// ---- Showing records: ps, inspect ---------------------------------------------------------

// Seconds since an RFC 3339 time of ours (0 when it cannot be read).
inline long seconds_since(const char *t)
{
	if (strlen(t) < 19)
		return 0;
	const char *p = t;
	auto num = [&](int digits) {
		long v = 0;
		for (int i = 0; i < digits; i++, p++)
			v = v * 10 + (*p - '0');
		p++;
		return v;
	};
	long y = num(4), m = num(2), d = num(2), hh = num(2), mm = num(2), ss = num(2);
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1, doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	long days = era * 146097 + doe - 719468;
	timespec now;
	syscall(SYS_clock_gettime, CLOCK_REALTIME, &now);
	long ago = now.tv_sec - (days * 86400 + hh * 3600 + mm * 60 + ss);
	return ago < 0 ? 0 : ago;
}

// docker's "About a minute", "5 seconds", "3 hours".
inline void human_duration(long s, char (&out)[32])
{
	if (s < 1)
		snprintf(out, sizeof out, "Less than a second");
	else if (s < 60)
		snprintf(out, sizeof out, "%ld second%s", s, s == 1 ? "" : "s");
	else if (s < 120)
		snprintf(out, sizeof out, "About a minute");
	else if (s < 3600)
		snprintf(out, sizeof out, "%ld minutes", s / 60);
	else if (s < 7200)
		snprintf(out, sizeof out, "About an hour");
	else if (s < 172800)
		snprintf(out, sizeof out, "%ld hours", s / 3600);
	else
		snprintf(out, sizeof out, "%ld days", s / 86400);
}

inline void status_text(const oci::container_ref &c, const char *status, char (&out)[64])
{
	char ago[32];
	if (!strcmp(status, "running") || !strcmp(status, "paused")) {
		human_duration(seconds_since(c.rec.created), ago);
		snprintf(out, sizeof out, "Up %s%s", ago, strcmp(status, "paused") ? "" : " (Paused)");
	} else if (!strcmp(status, "exited")) {
		human_duration(seconds_since(c.rec.finished), ago);
		snprintf(out, sizeof out, "Exited (%d) %s ago", c.rec.exit_code, ago);
	} else if (!strcmp(status, "restarting")) {
		human_duration(seconds_since(c.rec.finished), ago);
		snprintf(out, sizeof out, "Restarting (%d) %s ago", c.rec.exit_code, ago);
	} else if (!strcmp(status, "dead")) {
		snprintf(out, sizeof out, "Dead (its launcher was killed)");
	} else {
		snprintf(out, sizeof out, "%c%s", status[0] - 32, status + 1);
	}
}

struct listed {
	oci::container_ref c;
};

// Every record of the state root with a name (a `launcher run` container), newest first.
inline void all_records(oci::context &x, std::vector<listed> &out)
{
	DIR *d = fdopendir(dup(x.root));
	if (!d)
		die_errno("list %s", x.root_path);
	rewinddir(d); // the duplicate shares the root's offset
	while (dirent *e = readdir(d)) {
		if (e->d_name[0] == '.')
			continue;
		out.emplace_back();
		if (!oci::load(x, e->d_name, out.back().c) || !*out.back().c.rec.name)
			out.pop_back();
	}
	closedir(d);
	std::sort(out.begin(), out.end(), [](const listed &a, const listed &b) { return strcmp(a.c.rec.created, b.c.rec.created) > 0; });
}


// ---- The verbs ---------------------------------------------------------------------------

// A verb's flags: docker's, long and short, booleans combinable (-aq); values after a
// space or '='. Words that are not flags are returned in order.
struct verb_flag {
	const char *long_name;
	char short_name;
	bool takes_value;
	const char **value; // where a value goes; a boolean is set to "true"
	std::vector<const char *> *many = nullptr; // a flag given again adds a value (-e)
};

// Parses argv[1...] (argv[0] is the verb). stop_at_word: the first word ends the flags
// (exec's command keeps its own).
inline void verb_flags(int argc, char **argv, std::span<const verb_flag> table, std::vector<const char *> &words,
		       bool stop_at_word = false)
{
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || !a[1]) {
			words.push_back(a);
			if (stop_at_word) {
				i++;
				break;
			}
			continue;
		}
		const verb_flag *f = nullptr;
		const char *value = nullptr;
		if (a[1] == '-') {
			std::string_view name(a + 2);
			if (size_t eq = name.find('='); eq != name.npos)
				value = a + 2 + eq + 1, name = name.substr(0, eq);
			for (const verb_flag &v : table)
				if (name == v.long_name)
					f = &v;
		} else {
			for (const char *c = a + 1; *c; c++) {
				f = nullptr;
				for (const verb_flag &v : table)
					if (v.short_name == *c)
						f = &v;
				if (!f)
					break;
				if (f->takes_value) {
					value = c[1] ? c + 1 : nullptr;
					break;
				}
				if (c[1])
					*f->value = "true";
			}
		}
		if (!f)
			die("unknown flag: %s (see launcher %s --help)", a, argv[0]);
		if (f->takes_value && !value) {
			if (i + 1 >= argc)
				die("flag needs an argument: %s", a);
			value = argv[++i];
		}
		if (!f->takes_value && value && strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
			die("flag --%s takes true or false", f->long_name);
		*f->value = f->takes_value ? value : value && !strcmp(value, "false") ? nullptr : "true";
		if (f->many)
			f->many->push_back(value);
	}
	for (; i < argc; i++)
		words.push_back(argv[i]);
}

inline void open_store(oci::context &x)
{
	sys::failure_status = verb_failure;
	oci::open_state_root(x);
}

// Characters, not bytes ("…" is three).
inline size_t utf8_width(std::string_view s)
{
	size_t n = 0;
	for (unsigned char c : s)
		n += (c & 0xc0) != 0x80;
	return n;
}

// Rows as docker prints a table: each column as wide as its widest cell, three spaces apart.
template <size_t N> inline void print_table(const std::vector<std::array<state::text, N>> &rows)
{
	size_t width[N] = {};
	for (auto &row : rows)
		for (size_t i = 0; i < N; i++)
			width[i] = std::max(width[i], utf8_width(row[i].view()));
	for (auto &row : rows) {
		state::text line;
		for (size_t i = 0; i < N; i++) {
			line.add(row[i].view());
			for (size_t pad = i + 1 < N ? width[i] - utf8_width(row[i].view()) + 3 : 0; pad; pad--)
				line.add(" ");
		}
		line.add("\n");
		attach::write_all(1, line.b.data(), line.b.size());
	}
}

// ps [-a] [-q]: the running containers (-a: all), newest first.
inline int ps(int argc, char **argv)
{
	sys::failure_status = verb_failure;
	const char *all = nullptr, *quiet = nullptr, *no_trunc = nullptr;
	const verb_flag table[] = {{"all", 'a', false, &all}, {"quiet", 'q', false, &quiet}, {"no-trunc", 0, false, &no_trunc}};
	std::vector<const char *> words;
	verb_flags(argc, argv, table, words);
	if (!words.empty())
		die("\"launcher ps\" accepts no arguments");
	oci::context x;
	open_store(x);
	std::vector<listed> list;
	all_records(x, list);
	// docker's table: columns as wide as their widest cell, three spaces apart.
	std::vector<std::array<state::text, 7>> rows(1);
	const char *heads[] = {"CONTAINER ID", "NAME", "IMAGE", "COMMAND", "CREATED", "STATUS", "NETWORK"};
	for (int i = 0; i < 7; i++)
		rows[0][i].add(heads[i]);
	for (listed &l : list) {
		const state::record &r = l.c.rec;
		const char *status = docker_status(l.c);
		if (!all && !running(status))
			continue;
		int id_width = no_trunc ? 64 : 12;
		if (quiet) {
			dprintf(1, "%.*s\n", id_width, r.id);
			continue;
		}
		char ago[32], shown[64];
		human_duration(seconds_since(r.created), ago);
		status_text(l.c, status, shown);
		auto &row = rows.emplace_back();
		row[0].addf("%.*s", id_width, r.id);
		row[1].add(r.name);
		row[2].add(r.image);
		row[3].addf(strlen(r.command) > 20 && !no_trunc ? "\"%.19s…\"" : "\"%s\"", r.command);
		row[4].addf("%s ago", ago);
		row[5].add(shown);
		row[6].addf("%s%s%s", *r.network ? r.network : "none", *r.address ? " " : "", r.address);
	}
	if (!quiet)
		print_table(rows);
	return 0;
}

// Waits up to `seconds` for the container's process to end.
inline bool wait_exit(const state::record &r, int seconds)
{
	for (int i = 0; i < seconds * 50; i++) {
		if (!state::alive(r))
			return true;
		usleep(20000);
	}
	return !state::alive(r);
}

// Waits until the supervisor has written the container's end and left (marked stopped,
// it restarts it no more).
inline void wait_supervisor(const oci::container_ref &c)
{
	for (int i = 0; i < 500 && state::supervised(c.rec); i++)
		usleep(20000);
}

// A container still starting (docker's "created": its supervisor lives, no live PID 1 is
// recorded yet) gets its PID 1 once the supervisor has cloned it: stop and rm -f wait for
// it (or for the supervisor's end), else they would pass over a container that then runs
// on, and rm would remove the record of a running one, which nothing killed then.
inline void wait_started(oci::context &x, oci::container_ref &c)
{
	for (int i = 0; i < 1500 && c.rec.exit_code < 0 && !state::alive(c.rec) && state::supervised(c.rec); i++) {
		usleep(20000);
		oci::container_ref now;
		if (!oci::load(x, c.rec.id, now))
			return;
		c = std::move(now);
	}
}

// SIGKILL to the container's PID 1, and first to every other live process in its mount
// namespace (the entrypoint's tree, exec's processes): without a PID namespace of its own
// (--pid host or container:NAME) PID 1 is no namespace's init whose end ends the rest,
// and without a cgroup (--privileged, no limits) nothing else does. PID 1 is stopped
// meanwhile, so that it reaps none of them (its pid free for another) under us; each is
// signalled by a pidfd taken before its namespace is read.
inline void kill_all_of(const state::record &r)
{
	sys::unique_fd pidfd(int(syscall(SYS_pidfd_open, r.pid, 0)));
	char path[64];
	struct stat ns, theirs;
	snprintf(path, sizeof path, "/proc/%d/ns/mnt", r.pid);
	if (!pidfd || !state::alive(r))
		return;
	if (stat(path, &ns) < 0) { // a rootless container's PID 1 (non-dumpable): its own end ends the rest
		syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
		return;
	}
	syscall(SYS_pidfd_send_signal, pidfd.get(), SIGSTOP, nullptr, 0);
	for (int pass = 0; pass < 1000; pass++) {
		size_t live = 0;
		DIR *d = opendir("/proc");
		while (dirent *e = d ? readdir(d) : nullptr) {
			pid_t pid = pid_t(atoi(e->d_name));
			if (pid <= 0 || pid == r.pid || pid == getpid())
				continue;
			sys::unique_fd one(int(syscall(SYS_pidfd_open, pid, 0)));
			snprintf(path, sizeof path, "/proc/%d/ns/mnt", pid);
			bool dead;
			if (one && stat(path, &theirs) == 0 && theirs.st_ino == ns.st_ino && theirs.st_dev == ns.st_dev &&
			    (state::process_start(pid, dead), !dead) && syscall(SYS_pidfd_send_signal, one.get(), SIGKILL, nullptr, 0) == 0)
				live++;
		}
		if (d)
			closedir(d);
		if (!live)
			break;
		usleep(1000);
	}
	syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
}

// The supervisor of a stopped container does not restart it: a mark in its record's directory.
inline void mark_stopped(oci::container_ref &c)
{
	sys::unique_fd f(openat(c.dir.get(), "stopped-by-user", O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
}

// f(word, container) for each container the words name; an unknown one is docker's line.
// The verb's status: 0, or verb_failure when any was unknown or f said no.
template <class F> inline int each_container(oci::context &x, const std::vector<const char *> &words, F &&f)
{
	int status = 0;
	for (const char *w : words) {
		oci::container_ref c;
		bool known = find(x, w, c);
		if (!known)
			dprintf(2, "launcher: No such container: %s\n", w);
		if (!known || !f(w, c))
			status = verb_failure;
	}
	return status;
}

// stop [-t N|--time N] [-s SIG] CONTAINER...: the stop signal, SIGKILL after N seconds (10).
inline int stop(int argc, char **argv)
{
	sys::failure_status = verb_failure;
	const char *time = nullptr, *signal = nullptr;
	const verb_flag table[] = {{"time", 't', true, &time}, {"timeout", 0, true, &time}, {"signal", 's', true, &signal}};
	std::vector<const char *> words;
	verb_flags(argc, argv, table, words);
	if (words.empty())
		die("\"launcher stop\" requires at least 1 argument");
	const char *end = "";
	bool never = time && time[0] == '-'; // a negative time, docker's: wait however long it takes
	int seconds = time ? int(sys::leading_number(time + never, &end)) : -1; // -1: the container's --stop-timeout (10)
	if (*end || (time && end == time + never))
		die("bad --time %s: expected seconds", time);
	int sig_override = signal ? oci::signal_number(signal) : 0;
	if (signal && !sig_override)
		die("bad --signal %s", signal);
	oci::context x;
	open_store(x);
	return each_container(x, words, [&](const char *w, oci::container_ref &c) {
		mark_stopped(c);
		wait_started(x, c);
		if (state::alive(c.rec)) {
			kill(c.rec.pid, sig_override ? sig_override : c.rec.stop_signal);
			int grace = never ? -1 : seconds >= 0 ? seconds : c.rec.stop_timeout;
			while (grace < 0 && !wait_exit(c.rec, 1)) { // a negative timeout: never killed
			}
			if (!wait_exit(c.rec, grace))
				kill_all_of(c.rec);
			wait_exit(c.rec, 10);
		}
		wait_supervisor(c);
		dprintf(1, "%s\n", w);
		return true;
	});
}

// kill [-s SIG] CONTAINER...: a signal to the container's PID 1 (SIGKILL by default).
inline int kill_verb(int argc, char **argv)
{
	sys::failure_status = verb_failure;
	const char *signal = nullptr;
	const verb_flag table[] = {{"signal", 's', true, &signal}};
	std::vector<const char *> words;
	verb_flags(argc, argv, table, words);
	if (words.empty())
		die("\"launcher kill\" requires at least 1 argument");
	int sig = signal ? oci::signal_number(signal) : SIGKILL;
	if (!sig)
		die("bad --signal %s", signal);
	oci::context x;
	open_store(x);
	int status = 0;
	for (const char *w : words) {
		oci::container_ref c;
		find_or_die(x, w, c);
		bool alive = state::alive(c.rec);
		if (alive && sig == SIGKILL) // every process of it, as its end would (kill_all_of)
			kill_all_of(c.rec);
		else if (!alive || kill(c.rec.pid, sig) < 0) {
			dprintf(2, "launcher: cannot kill container: %s: container %s is not running\n", w, c.rec.id);
			status = verb_failure;
			continue;
		}
		dprintf(1, "%s\n", w);
	}
	return status;
}

// rm [-f] CONTAINER...: the record, the log, the writable layer; -f kills a running one first.
inline int rm(int argc, char **argv)
{
	sys::failure_status = verb_failure;
	const char *force = nullptr, *volumes = nullptr;
	const verb_flag table[] = {{"force", 'f', false, &force}, {"volumes", 'v', false, &volumes}};
	std::vector<const char *> words;
	verb_flags(argc, argv, table, words);
	if (words.empty())
		die("\"launcher rm\" requires at least 1 argument");
	oci::context x;
	open_store(x);
	return each_container(x, words, [&](const char *w, oci::container_ref &c) {
		if (!*c.rec.name) {
			dprintf(2, "launcher: %s is a bundle's container: use launcher delete\n", w);
			return false;
		}
		const char *st = docker_status(c);
		if (running(st)) {
			if (!force) {
				dprintf(2, "launcher: cannot remove container \"/%s\": container is %s: stop the container before removing or force remove\n",
					c.rec.name, st);
				return false;
			}
			mark_stopped(c);
			wait_started(x, c);
			kill_all_of(c.rec);
			wait_exit(c.rec, 10);
			wait_supervisor(c);
		}
		oci::container_ref now; // the supervisor may have written its end, or removed it (--rm)
		if (oci::load(x, c.rec.id, now))
			reclaim(x, now);
		dprintf(1, "%s\n", w);
		return true;
	});
}

// logs [-f] [--tail N] [-t] [--since T] CONTAINER: the log, stdout to stdout, stderr to stderr.
inline int logs_verb(int argc, char **argv)
{
	sys::failure_status = verb_failure;
	const char *follow = nullptr, *tail = nullptr, *timestamps = nullptr, *since = nullptr, *until = nullptr;
	const verb_flag table[] = {{"follow", 'f', false, &follow}, {"tail", 'n', true, &tail}, {"timestamps", 't', false, &timestamps},
				   {"since", 0, true, &since}, {"until", 0, true, &until}};
	std::vector<const char *> words;
	verb_flags(argc, argv, table, words);
	if (words.size() != 1)
		die("\"launcher logs\" requires exactly 1 argument");
	timespec now;
	syscall(SYS_clock_gettime, CLOCK_REALTIME, &now);
	char since_at[40] = "", until_at[40] = "";
	if (since && !logs::since_time(since, now, since_at))
		die("bad --since %s: expected a duration (10s, 5m, 2h), Unix seconds or an RFC 3339 time", since);
	if (until && !logs::since_time(until, now, until_at))
		die("bad --until %s: expected a duration (10s, 5m, 2h), Unix seconds or an RFC 3339 time", until);
	size_t tail_n = SIZE_MAX;
	if (tail && strcmp(tail, "all") != 0) {
		const char *end;
		tail_n = size_t(sys::leading_number(tail, &end));
		if (*end || end == tail)
			die("bad --tail %s: expected a number or all", tail);
	}
	oci::context x;
	open_store(x);
	oci::container_ref c;
	find_or_die(x, words[0], c);
	if (!*c.rec.log_path) // a foreground run's output went to its caller
		return 0;
	auto show = [&](const logs::entry &e) {
		if (*since_at && strcmp(e.time, since_at) < 0)
			return;
		if (*until_at && strcmp(e.time, until_at) > 0)
			return;
		int fd = e.is_stderr ? 2 : 1;
		if (timestamps)
			dprintf(fd, "%s ", e.time);
		attach::write_all(fd, e.text.data(), e.text.size());
	};
	// Reads whole lines of path from `at` on; each entry is counted, and shown once the
	// count passes `skip` (--tail: the first pass counts, the second shows the last N).
	static logs::entry e;
	std::vector<char> partial;
	size_t seen = 0, skip = 0;
	bool counting = false;
	auto scan = [&](const char *path, off_t &at, ino_t &inode) {
		sys::unique_fd fd(open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
		struct stat st;
		if (!fd || fstat(fd.get(), &st) < 0)
			return;
		if (inode && st.st_ino != inode) // rotated meanwhile: the new file from its start
			at = 0, partial.clear();
		inode = st.st_ino;
		if (lseek(fd.get(), at, SEEK_SET) < 0)
			return;
		char buf[65536];
		for (ssize_t n; (n = read(fd.get(), buf, sizeof buf)) > 0;) {
			at += n;
			partial.insert(partial.end(), buf, buf + n);
			size_t start = 0;
			for (;;) {
				std::string_view rest(partial.data() + start, partial.size() - start);
				size_t nl = rest.find('\n');
				if (nl == rest.npos)
					break;
				start += nl + 1;
				if (!logs::parse_entry(rest.substr(0, nl), e))
					continue;
				if (!counting && seen >= skip)
					show(e);
				seen++;
			}
			partial.erase(partial.begin(), partial.begin() + long(start));
		}
	};
	char old[PATH_MAX + 4];
	snprintf(old, sizeof old, "%s.1", c.rec.log_path);
	off_t old_at = 0, at = 0;
	ino_t old_inode = 0, inode = 0;
	if (tail_n != SIZE_MAX) {
		counting = true;
		scan(old, old_at, old_inode);
		scan(c.rec.log_path, at, inode);
		skip = seen > tail_n ? seen - tail_n : 0;
		counting = false, seen = 0, old_at = at = 0, old_inode = inode = 0;
		partial.clear();
	}
	scan(old, old_at, old_inode);
	partial.clear();
	scan(c.rec.log_path, at, inode);
	while (follow) {
		bool live = state::supervised(c.rec);
		scan(c.rec.log_path, at, inode);
		if (!live)
			break;
		usleep(100000);
	}
	return 0;
}

// inspect CONTAINER...: a JSON array with each container's record and state, docker's shape.
inline int inspect(int argc, char **argv)
{
	sys::failure_status = verb_failure;
	const char *format = nullptr;
	const verb_flag table[] = {{"format", 'f', true, &format}};
	std::vector<const char *> words;
	verb_flags(argc, argv, table, words);
	if (words.empty())
		die("\"launcher inspect\" requires at least 1 argument");
	if (format)
		die("inspect --format is not supported: the output is JSON (use jq)");
	oci::context x;
	open_store(x);
	state::text out;
	out.add("[");
	int status = each_container(x, words, [&](const char *, oci::container_ref &c) {
		const state::record &r = c.rec;
		const char *st = docker_status(c);
		std::vector<char> process;
		state::read_file(c.dir.get(), "process.json", process);
		bool up = !strcmp(st, "running") || !strcmp(st, "paused");
		auto yes = [](bool b) { return b ? "true" : "false"; };
		char name[130];
		snprintf(name, sizeof name, "/%s", r.name);
		std::string_view policy(r.restart);
		out.add(out.b.size() > 1 ? "," : "").add("{\"Id\":").json(r.id).add(",\"Name\":").json(name);
		out.add(",\"Created\":").json(r.created).add(",\"Image\":").json(r.image).add(",\"Path\":").json(r.command);
		out.add(",\"State\":{\"Status\":").json(st);
		out.addf(",\"Running\":%s,\"Paused\":%s,\"Restarting\":%s,\"Dead\":%s,\"Pid\":%d,\"ExitCode\":%d", yes(up),
			 yes(!strcmp(st, "paused")), yes(!strcmp(st, "restarting")), yes(!strcmp(st, "dead")), up ? r.pid : 0,
			 r.exit_code < 0 ? 0 : r.exit_code);
		out.add(",\"StartedAt\":").json(r.created).add(",\"FinishedAt\":").json(*r.finished ? r.finished : "0001-01-01T00:00:00Z");
		out.add("},\"LogPath\":").json(r.log_path).addf(",\"RestartCount\":%u", r.restart_count);
		out.addf(",\"HostConfig\":{\"AutoRemove\":%s,\"RestartPolicy\":{\"Name\":", yes(r.auto_remove)).json(policy.substr(0, policy.find(':')));
		out.add("},\"NetworkMode\":").json(*r.network ? r.network : "none").add(",\"IpcMode\":").json(r.ipc_mode);
		out.add(",\"CgroupParent\":").json(r.cgroups);
		char stop[16];
		int sig = r.stop_signal;
		if (sig > 0 && size_t(sig) < std::size(oci::signal_names))
			snprintf(stop, sizeof stop, "SIG%s", oci::signal_names[sig]);
		else
			snprintf(stop, sizeof stop, "%d", sig);
		std::vector<char> labels;
		state::read_file(c.dir.get(), "labels.json", labels);
		out.addf("},\"Config\":{\"Tty\":%s,\"OpenStdin\":%s,\"StopSignal\":", yes(r.tty), yes(r.interactive)).json(stop);
		out.addf(",\"StopTimeout\":%d", r.stop_timeout);
		out.add(",\"Labels\":").add(labels.empty() ? std::string_view("{}") : std::string_view(labels.data(), labels.size()));
		out.add(",\"Process\":").add(process.empty() ? std::string_view("null") : std::string_view(process.data(), process.size()));
		out.add("},\"NetworkSettings\":{\"Networks\":{");
		if (*r.network)
			out.json(r.network).add(":{\"IPAddress\":").json(r.address).add("}");
		std::vector<char> mounts;
		state::read_file(c.dir.get(), "mounts.json", mounts);
		out.add("}},\"Mounts\":").add(mounts.empty() ? std::string_view("[]") : std::string_view(mounts.data(), mounts.size())).add("}");
		return true;
	});
	out.add("]\n");
	(void)!write(1, out.b.data(), out.b.size());
	return status;
}

// exec [-i] [-t] [-d] [-u UID[:GID]] [-e K=V] [-w DIR] CONTAINER CMD...: a process in every
// namespace of the container, in its cgroup, with its user, capabilities, no_new_privs and
// seccomp filter (the runtime mode's exec path, oci::exec_in); its exit status.
inline struct {
	bool tty = false, interactive = false;
	int console = -1;
} exec_io;

inline int exec_wait(pid_t pid, const sigset_t &blocked)
{
	if (!exec_io.tty)
		return init::supervise(pid, blocked, true);
	return attach::relay_terminal(pid, blocked, exec_io.console, exec_io.interactive);
}

// -u USER[:GROUP] as the container sees it: names from its own /etc/passwd and /etc/group,
// read by a child that has entered the container's mount namespace (its root then is the
// container's: no path of the image leads out), and its user namespace when it has one
// (root of that alone), numbers as they are (a number's group: 0).
inline const char *user_of(const state::record &r, unsigned long join, const char *spec, container::process &p)
{
	sys::unique_fd pidfd(int(syscall(SYS_pidfd_open, r.pid, 0)));
	struct stat root = oci::rooted(r);
	struct answer {
		uid_t uid;
		gid_t gid;
		unsigned groups, missing; // missing: 0, 1 the user, 2 the group
		gid_t group[container::max_groups];
	} found{};
	int pipe_fds[2];
	if (pipe2(pipe_fds, O_CLOEXEC) < 0)
		die_errno("pipe");
	pid_t child = pid_t(sys::clone_fork(SIGCHLD));
	if (child < 0)
		die_errno("fork");
	if (child == 0) { // the container's files, in its mount namespace, read as PID 1 reads them
		if (!pidfd || setns(pidfd.get(), CLONE_NEWNS | (join & CLONE_NEWUSER)) < 0)
			_exit(1);
		oci::check_joined_root(root, r.id);
		// Reading files is all it does: no capability but that, so that a link the container
		// made through a host process's /proc/PID/root (--pid host) is not followed.
		uint64_t caps[5] = {};
		caps[security::effective] = caps[security::permitted] = uint64_t(1) << CAP_DAC_OVERRIDE | uint64_t(1) << CAP_DAC_READ_SEARCH;
		if (confine::set_caps(caps) != 0)
			_exit(1);
		static char home[PATH_MAX];
		container::process q;
		const char *missing = container::find_user(spec, q, home);
		found.missing = !missing ? 0 : strcmp(missing, "user") == 0 ? 1 : strcmp(missing, "group") == 0 ? 2 : 3;
		found.uid = q.uid, found.gid = q.gid;
		for (gid_t g : q.groups)
			if (found.groups < container::max_groups)
				found.group[found.groups++] = g;
		_exit(write(pipe_fds[1], &found, sizeof found) == sizeof found ? 0 : 1);
	}
	close(pipe_fds[1]);
	ssize_t n;
	while ((n = read(pipe_fds[0], &found, sizeof found)) < 0 && errno == EINTR) {
	}
	close(pipe_fds[0]);
	waitpid(child, nullptr, 0);
	if (n != sizeof found)
		die("container's /etc/passwd: cannot be read in its mount namespace");
	if (found.missing)
		return found.missing == 1 ? "user" : found.missing == 2 ? "group" : "range";
	p.uid = found.uid, p.gid = found.gid;
	p.groups.assign(found.group, found.group + found.groups);
	return nullptr;
}

inline int exec(int argc, char **argv)
{
	sys::failure_status = verb_failure;
	const char *interactive = nullptr, *tty = nullptr, *detach = nullptr, *user = nullptr, *workdir = nullptr, *env = nullptr;
	const char *privileged = nullptr;
	std::vector<const char *> envs;
	const verb_flag table[] = {{"interactive", 'i', false, &interactive}, {"tty", 't', false, &tty},
				   {"detach", 'd', false, &detach},           {"user", 'u', true, &user},
				   {"workdir", 'w', true, &workdir},          {"env", 'e', true, &env, &envs},
				   {"privileged", 0, false, &privileged}};
	std::vector<const char *> words;
	verb_flags(argc, argv, table, words, true);
	if (words.size() < 2)
		die("\"launcher exec\" requires at least 2 arguments: CONTAINER COMMAND [ARG...]");
	if (privileged)
		die("exec --privileged is not supported: an exec has the container's privileges");
	oci::context x;
	open_store(x);
	oci::container_ref c;
	find_or_die(x, words[0], c);
	if (strcmp(docker_status(c), "running") != 0)
		die("Container %s is not running", c.rec.id);
	std::vector<char> text, store, profile;
	std::vector<json::token> tokens;
	json::document doc;
	static container::process p;
	if (!state::read_file(c.dir.get(), "process.json", text))
		die_errno("container %s: read its process.json", c.rec.id);
	if (image::problem e = image::detail::load({text.data(), text.size()}, tokens, doc))
		die("container %s: process.json: %s", c.rec.id, e.what);
	image::detail::strings st(store, {text.data(), text.size()});
	if (image::problem e = bundle::parse_process({&doc, 0}, st, p))
		die("container %s: process.json: %s", c.rec.id, e.what);
	// docker's -u, else the container's own user (--user or the image's User, which PID 1
	// resolved inside: the record keeps its spelling); leaving root drops every capability.
	std::vector<char> saved;
	if (!user && state::read_file(c.dir.get(), "user", saved)) {
		saved.push_back(0);
		user = saved.data();
	} else if (!user && faccessat(c.dir.get(), "user", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		die("container %s: its user cannot be read", c.rec.id); // as its seccomp mode below
	}
	sys::failure_status = 126; // docker's, for an exec that cannot start
	unsigned long join = oci::joinable_namespaces(c);
	if (user) {
		std::string_view u(user);
		if (const char *missing = user_of(c.rec, join, user, p)) {
			if (strcmp(missing, "range") == 0)
				die("%s", container::out_of_range);
			std::string_view part = strcmp(missing, "user") == 0 ? u.substr(0, u.find(':')) : u.substr(u.find(':') + 1);
			die("unable to find %s %.*s: no matching entries in the container's /etc/%s", missing, int(part.size()), part.data(),
			    strcmp(missing, "user") == 0 ? "passwd" : "group");
		}
		if (p.uid != 0)
			p.caps[container::effective] = p.caps[container::permitted] = 0;
	}
	sys::failure_status = verb_failure;
	static seccomp::program filter;
	std::vector<char> mode;
	bool named = state::read_file(c.dir.get(), "seccomp", mode);
	if (!named && faccessat(c.dir.get(), "seccomp", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		die("container %s: its seccomp mode cannot be read", c.rec.id);
	std::string_view m = named ? std::string_view(mode.data(), mode.size()) : "default"; // no file: docker's
	if (m == "default") {
		filter = seccomp::docker_default(p.caps[container::bounding]);
		x.filter = &filter;
	} else if (m == "profile") {
		char why[160];
		if (!state::read_file(c.dir.get(), "seccomp.json", profile) ||
		    !seccomp::compile({profile.data(), profile.size()}, p.caps[container::bounding], filter, why, sizeof why, seccomp::kernel_version()))
			die("container %s: its seccomp profile cannot be read again", c.rec.id);
		x.filter = &filter;
	} else if (m != "unconfined") {
		die("container %s: its seccomp mode cannot be read", c.rec.id);
	}
	if (tty && !image::get_env(p.env, "TERM"))
		envs.push_back("TERM=xterm");
	x.process = &p;
	x.cmd.v = oci::verb::exec;
	x.cmd.words = words;
	x.cmd.env = envs;
	x.cmd.cwd = workdir;
	x.cmd.detach = detach;
	x.cmd.tty = tty;
	exec_io.tty = tty && !detach;
	exec_io.interactive = interactive;
	int pair[2] = {-1, -1};
	if (tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
		die_errno("socketpair");
	x.console = pair[1];
	exec_io.console = pair[0];
	x.wait = exec_wait;
	sys::unique_fd null(open("/dev/null", O_RDWR | O_CLOEXEC));
	if (!null)
		die_errno("open /dev/null");
	for (int fd = 0; fd < 3; fd++) // without -i the process reads nothing; -d: nothing of ours at all
		if (((fd == 0 && !interactive) || (detach && fd == 0)) && dup2(null.get(), fd) < 0)
			die_errno("open /dev/null");
	if (detach) // (once forked into the container: till then a failure is told on our stderr)
		x.detached_stdio = null.get();
	sys::failure_status = 126;
	return oci::exec_in(x, c);
}

// Whether argv is docker's verb rather than runc's, which shares ps, kill and exec: runc's
// ps names a container (docker's names none); runc's kill and exec name a bundle's
// container (a record without a name). An engine puts --root first: never docker's then.
inline bool is_docker_call(int argc, char **argv)
{
	const char *verb = argv[1];
	if (strcmp(verb, "ps") != 0 && strcmp(verb, "kill") != 0 && strcmp(verb, "exec") != 0)
		return true;
	const char *takes_value = "uewpcgs";
	const char *long_values[] = {"--user", "--env", "--workdir", "--process", "--console-socket", "--pid-file", "--cwd", "--cap",
				     "--additional-gids", "--preserve-fds", "--process-label", "--apparmor", "--cgroup", "--signal", "--format"};
	const char *first = nullptr;
	for (int i = 2; i < argc && !first; i++) {
		const char *a = argv[i];
		if (a[0] != '-') {
			first = a;
		} else if (a[1] != '-' && a[1] && !a[2] && strchr(takes_value, a[1])) {
			i++;
		} else if (a[1] == '-' && !strchr(a, '=')) {
			for (const char *l : long_values)
				if (strcmp(a, l) == 0)
					i++;
		}
	}
	if (strcmp(verb, "ps") == 0)
		return !first;
	if (!first)
		return true; // docker's usage error
	oci::context x;
	state::state_root_path(nullptr, x.root_path);
	x.root = open(x.root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	oci::container_ref c;
	bool bundles = x.root >= 0 && state::valid_id(first) && oci::load(x, first, c) && !*c.rec.name;
	if (x.root >= 0)
		close(x.root);
	return !bundles;
}

// Whether `launcher run ...` is docker's run (an image archive after docker's flags) or
// runc's (an id, the bundle in the working directory or --bundle).
inline bool is_docker_run(int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0)
			return i + 1 < argc;
		if (a[0] != '-' || !a[1]) {
			char file[PATH_MAX];
			snprintf(file, sizeof file, "%s", a);
			struct stat st;
			if (stat(file, &st) == 0)
				return true;
			for (char *colon = file; (colon = strchr(colon, ':')); *colon++ = ':') { // FILE:REF
				*colon = 0;
				if (stat(file, &st) == 0)
					return true;
			}
			return false;
		}
		const options::flag *f = a[1] == '-' ? options::find_long(std::string_view(a + 2).substr(0, std::string_view(a + 2).find('=')))
						     : options::find_short(a[1]);
		if (!f)
			return false; // not docker's: runc's --bundle, --keep, --pid-file ...
		if (f->what == options::id::help)
			return true;
		bool inline_value = a[1] == '-' ? strchr(a, '=') != nullptr : a[2] != 0;
		if (f->metavar && !inline_value)
			i++;
	}
	return false;
}

// ---- images and system prune ------------------------------------------------------------

// The data root the verbs look in: --data-root, else $LAUNCHER_ROOT, else /var/lib/launcher.
inline const char *data_root(const char *given)
{
	const char *env = getenv("LAUNCHER_ROOT");
	return given ? given : env && *env ? env : "/var/lib/launcher";
}

// DATA_ROOT/images/ID: the archive a start used its cached layers for (its path, its tag,
// its layers' diff_ids, a line each), for `launcher images`. Written only when it changes.
inline void note_image(const char *root, std::string_view id, const char *archive, const char *tag, std::span<const std::string_view> layers)
{
	char dir[PATH_MAX], path[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/images", root);
	if (id.size() != 64 || !sys::real_path(archive, path))
		return;
	state::text t;
	t.add(path).add("\n").add(*tag ? tag : "<none>").add("\n");
	for (std::string_view l : layers)
		t.add(l).add("\n");
	sys::mkdirs(dir, 0700);
	sys::unique_fd d(open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	char name[65];
	snprintf(name, sizeof name, "%.*s", int(id.size()), id.data());
	std::vector<char> old;
	if (!d || (state::read_file(d.get(), name, old) && std::string_view(old.data(), old.size()) == t.view()))
		return;
	state::write_file(d.get(), name, t.view(), "the image's note");
}

// docker's sizes: 4.26MB, 1.2GB (powers of 1000).
inline void human_size(uint64_t n, char (&out)[16])
{
	const char *units[] = {"B", "kB", "MB", "GB", "TB"};
	int u = 0;
	uint64_t scaled = n * 100;
	while (scaled >= 100000 && u < 4)
		scaled /= 1000, u++;
	if (u == 0)
		snprintf(out, sizeof out, "%lluB", (unsigned long long)n);
	else
		snprintf(out, sizeof out, "%llu.%02llu%s", (unsigned long long)(scaled / 100), (unsigned long long)(scaled % 100), units[u]);
}

// Calls f(id, archive, tag, size, complete) for each image note; complete: every layer cached.
template <class F> inline void each_image(const char *root, F f)
{
	char dir[PATH_MAX], layers_path[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/images", root);
	snprintf(layers_path, sizeof layers_path, "%s/layers", root);
	sys::unique_fd d(open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)), layers(open(layers_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	DIR *list = d ? fdopendir(dup(d.get())) : nullptr;
	if (!list)
		return;
	while (dirent *e = readdir(list)) {
		std::vector<char> text;
		if (strlen(e->d_name) != 64 || !state::read_file(d.get(), e->d_name, text))
			continue;
		text.push_back(0);
		char *save, *archive = strtok_r(text.data(), "\n", &save), *tag = strtok_r(nullptr, "\n", &save);
		uint64_t size = 0;
		bool complete = archive && tag;
		for (char *l; complete && (l = strtok_r(nullptr, "\n", &save));) {
			char info[80], buf[64] = "";
			snprintf(info, sizeof info, "%.64s.info", l);
			sys::unique_fd fd(layers ? openat(layers.get(), info, O_RDONLY | O_CLOEXEC) : -1);
			ssize_t n = fd ? read(fd.get(), buf, sizeof buf - 1) : -1;
			complete = n > 0;
			size += complete ? sys::leading_number(buf) : 0;
		}
		f(d.get(), e->d_name, archive ? archive : "", tag ? tag : "", size, complete);
	}
	closedir(list);
}

// images: the archives whose layers are all in the cache, with their tags and sizes.
inline int images(int argc, char **argv)
{
	sys::failure_status = verb_failure;
	const char *root = nullptr, *quiet = nullptr;
	const verb_flag table[] = {{"data-root", 0, true, &root}, {"quiet", 'q', false, &quiet}};
	std::vector<const char *> words;
	verb_flags(argc, argv, table, words);
	if (!words.empty())
		die("\"launcher images\" takes no arguments");
	std::vector<std::array<state::text, 5>> rows(1);
	const char *heads[] = {"REPOSITORY", "TAG", "IMAGE ID", "SIZE", "ARCHIVE"};
	for (int i = 0; i < 5; i++)
		rows[0][i].add(heads[i]);
	each_image(data_root(root), [&](int, const char *id, const char *archive, const char *tag, uint64_t size, bool complete) {
		if (!complete)
			return;
		if (quiet) {
			dprintf(1, "%.12s\n", id);
			return;
		}
		std::string_view t(tag);
		size_t colon = t.rfind(':');
		auto &row = rows.emplace_back();
		row[0].add(colon == t.npos ? t : t.substr(0, colon));
		row[1].add(colon == t.npos ? "<none>" : t.substr(colon + 1));
		row[2].addf("%.12s", id);
		char shown[16];
		human_size(size, shown);
		row[3].add(shown);
		row[4].add(archive);
	});
	if (!quiet)
		print_table(rows);
	return 0;
}

// system prune [-f]: the containers that ended (exited, or dead: their launcher was
// SIGKILLed), then every cached layer no running container holds, the notes of images
// whose layers are gone, and the networks no container uses.
inline int system(int argc, char **argv)
{
	sys::failure_status = verb_failure;
	if (argc < 2 || strcmp(argv[1], "prune") != 0)
		die("usage: launcher system prune [-f] [--data-root DIR]");
	const char *force = nullptr, *root = nullptr;
	const verb_flag table[] = {{"force", 'f', false, &force}, {"data-root", 0, true, &root}};
	std::vector<const char *> words;
	verb_flags(argc - 1, argv + 1, table, words);
	if (!words.empty())
		die("\"launcher system prune\" takes no arguments");
	if (!force) {
		dprintf(2, "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n"
			   "  - all cached layers no running container uses\n"
			   "Are you sure you want to continue? [y/N] ");
		char answer[8] = "";
		ssize_t n = read(0, answer, sizeof answer - 1);
		if (n <= 0 || (answer[0] != 'y' && answer[0] != 'Y'))
			return 0;
	}
	oci::context x;
	open_store(x);
	std::vector<listed> list;
	all_records(x, list);
	dprintf(1, "Deleted Containers:\n");
	for (listed &l : list) {
		const char *st = docker_status(l.c);
		if (strcmp(st, "exited") != 0 && strcmp(st, "dead") != 0)
			continue;
		reclaim(x, l.c);
		dprintf(1, "%s\n", l.c.rec.id);
	}
	char path[PATH_MAX];
	int layers = cache::open_layers(data_root(root), path);
	dprintf(1, "\nDeleted layers:\n");
	cache::prune(layers);
	close(layers);
	each_image(data_root(root), [](int dir, const char *id, const char *, const char *, uint64_t, bool complete) {
		if (!complete)
			unlinkat(dir, id, 0);
	});
	dprintf(1, "\nDeleted Networks:\n");
	return network::verb_prune();
}

} // namespace containers
