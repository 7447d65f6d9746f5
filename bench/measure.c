/* measure: host-side timings that hyperfine cannot take.
 *   measure sigterm RUNS CMD...  start CMD, wait for "ready" on its stdout, send SIGTERM,
 *                                time until it exits; print median, min and max in ms
 *   measure rss CMD...           start CMD, wait for "ready" and two idle seconds, print the
 *                                resident memory (kB) of CMD and of its child, then SIGTERM it
 *   measure cycle RUNTIME BUNDLE ID
 *                                one `create; start; wait; delete` of an OCI bundle, as an
 *                                engine does it: this process is the child subreaper the
 *                                container's init is reparented to once `create` exits, and
 *                                waits for it; exits non-zero if a step fails
 *   measure pair RUNS A... -- B...   runs A and B in turns RUNS times each (stdout to
 *                                /dev/null), so that both see the same machine; prints
 *                                the median ms of A, of B, and A / B
 *   measure turns RUNS A... -- B... [-- C...]   the same for any number of commands, each
 *                                turn begun by the next command in rotation: each one's
 *                                median ms, in order, on one line
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static pid_t start_ready(char **cmd)
{
	int p[2];
	char buf[256];
	if (pipe(p) < 0)
		exit(1);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execvp(cmd[0], cmd);
		perror(cmd[0]);
		_exit(127);
	}
	close(p[1]);
	FILE *f = fdopen(p[0], "r");
	while (fgets(buf, sizeof buf, f))
		if (strncmp(buf, "ready", 5) == 0)
			return pid;
	fprintf(stderr, "measure: %s never said ready\n", cmd[0]);
	exit(1);
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Runs RUNTIME with ARGS and waits for that process only; 0 when it exited 0. */
static int runtime(char *rt, char **args)
{
	char *argv[8] = {rt};
	for (int i = 0; args[i] && i < 6; i++)
		argv[i + 1] = args[i];
	pid_t pid = fork();
	if (pid == 0) {
		execv(rt, argv);
		perror(rt);
		_exit(127);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "measure: %s %s failed\n", rt, args[0]);
		return -1;
	}
	return 0;
}

static int cycle(char *rt, char *bundle, char *id)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return 1;
	if (runtime(rt, (char *[]){"create", "--bundle", bundle, id, NULL}) < 0)
		return 1;
	if (runtime(rt, (char *[]){"start", id, NULL}) < 0)
		return 1;
	/* The runtime's processes were reaped by runtime(): what is left is the container. */
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return runtime(rt, (char *[]){"delete", id, NULL}) < 0;
}

/* One run of CMD with stdout on /dev/null, in ms; exits if CMD fails. */
static double timed_run(char **cmd)
{
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		execvp(cmd[0], cmd);
		perror(cmd[0]);
		_exit(127);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "measure: %s failed\n", cmd[0]);
		exit(1);
	}
	return now_ms() - t0;
}

static int pair(int runs, char **a, char **b)
{
	double *ta = calloc(runs, sizeof *ta), *tb = calloc(runs, sizeof *tb);
	for (int i = 0; i < runs; i++) {
		ta[i] = timed_run(a);
		tb[i] = timed_run(b);
	}
	qsort(ta, runs, sizeof *ta, cmp);
	qsort(tb, runs, sizeof *tb, cmp);
	printf("%.3f %.3f %.2f\n", ta[runs / 2], tb[runs / 2], ta[runs / 2] / tb[runs / 2]);
	return 0;
}

/* cmds: the commands, each NULL-ended. */
static int turns(int runs, char ***cmds, int n)
{
	double *t = calloc((size_t)runs * n, sizeof *t);
	for (int i = 0; i < runs; i++) /* each turn begins with the next one: no command always runs after the same other */
		for (int k = 0; k < n; k++) {
			int c = (i + k) % n;
			t[c * runs + i] = timed_run(cmds[c]);
		}
	for (int c = 0; c < n; c++) {
		qsort(t + c * runs, runs, sizeof *t, cmp);
		printf("%.3f%s", t[c * runs + runs / 2], c + 1 < n ? " " : "\n");
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 3 && strcmp(argv[1], "turns") == 0) {
		char **cmds[16];
		int n = 0;
		for (int i = 3; i < argc && n < 16; i++) {
			if (strcmp(argv[i], "--") == 0)
				argv[i] = NULL;
			else if (i == 3 || !argv[i - 1])
				cmds[n++] = argv + i;
		}
		return turns(atoi(argv[2]), cmds, n);
	}
	if (argc > 5 && strcmp(argv[1], "pair") == 0) {
		int sep = 3;
		while (sep < argc && strcmp(argv[sep], "--") != 0)
			sep++;
		if (sep == 3 || sep >= argc - 1)
			return 2;
		argv[sep] = NULL;
		return pair(atoi(argv[2]), argv + 3, argv + sep + 1);
	}
	if (argc == 5 && strcmp(argv[1], "cycle") == 0)
		return cycle(argv[2], argv[3], argv[4]);
	if (argc > 3 && strcmp(argv[1], "sigterm") == 0) {
		int runs = atoi(argv[2]);
		double *t = calloc(runs, sizeof *t);
		for (int i = 0; i < runs; i++) {
			pid_t pid = start_ready(argv + 3);
			double t0 = now_ms();
			kill(pid, SIGTERM);
			waitpid(pid, NULL, 0);
			t[i] = now_ms() - t0;
		}
		qsort(t, runs, sizeof *t, cmp);
		printf("%.3f %.3f %.3f\n", t[runs / 2], t[0], t[runs - 1]);
		return 0;
	}
	if (argc > 2 && strcmp(argv[1], "rss") == 0) {
		pid_t pid = start_ready(argv + 2);
		sleep(2); // idle: an idle init gives back what its start touched (init.hpp)
		char path[64], kids[256] = "";
		snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, pid);
		FILE *f = fopen(path, "r");
		if (f && !fgets(kids, sizeof kids, f))
			kids[0] = 0;
		if (f)
			fclose(f);
		printf("%ld %ld\n", rss_kb(pid), kids[0] ? rss_kb(atoi(kids)) : -1L);
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		return 0;
	}
	fprintf(stderr, "usage: measure sigterm RUNS CMD... | rss CMD... | cycle RUNTIME BUNDLE ID | pair RUNS A... -- B... | turns RUNS A... [-- B...]...\n");
	return 2;
}
