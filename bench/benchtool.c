/* benchtool: runs inside the bench image (static, musl).
 *   benchtool orphans N   leave N orphaned zombies to PID 1; print how long it took to reap them
 *   benchtool waitterm    print "ready", wait for SIGTERM, exit 0
 */
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
	fprintf(stderr, "usage: benchtool orphans N | waitterm\n");
	return 2;
}
