/* genlayer DIR FILES MEGABYTES: fills DIR with FILES files totalling about MEGABYTES,
 * sized as a Debian root is: most files small, a few large. Contents are half random,
 * half repeated text, so gzip shrinks them about as much as real binaries and text.
 * Deterministic: the same arguments give the same tree. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static uint64_t state = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: genlayer DIR FILES MEGABYTES\n");
		return 2;
	}
	const char *dir = argv[1];
	long files = atol(argv[2]);
	uint64_t budget = (uint64_t)atol(argv[3]) << 20, used = 0;
	static unsigned char buf[1 << 20];
	char path[4096];
	mkdir(dir, 0755);
	for (long i = 0; i < files; i++) {
		uint64_t r = next() % 1000, size;
		if (r < 900)
			size = 64 + next() % 8192; /* 90%: up to 8 KB */
		else if (r < 990)
			size = 8192 + next() % (256 << 10); /* 9%: up to 256 KB */
		else
			size = (1 << 20) + next() % (8 << 20); /* 1%: 1 to 9 MB */
		if (i == files - 1 && used < budget)
			size = budget - used; /* the last file tops the total up */
		if (used + size > budget)
			size = budget > used ? (budget - used) / (uint64_t)(files - i) + 1 : 1;
		snprintf(path, sizeof path, "%s/d%03ld", dir, i % 200);
		mkdir(path, 0755);
		snprintf(path, sizeof path, "%s/d%03ld/f%05ld", dir, i % 200, i);
		FILE *f = fopen(path, "wb");
		if (!f) {
			perror(path);
			return 1;
		}
		for (uint64_t left = size; left > 0;) {
			size_t n = left < sizeof buf ? left : sizeof buf;
			for (size_t k = 0; k < n; k += 8) {
				uint64_t v = (k / 4096) % 2 ? next() : 0x2e74786574206120ull; /* " a text." */
				for (size_t b = 0; b < 8 && k + b < n; b++)
					buf[k + b] = (unsigned char)(v >> (8 * b));
			}
			fwrite(buf, 1, n, f);
			left -= n;
		}
		fclose(f);
		used += size;
	}
	printf("%ld files, %llu bytes\n", files, (unsigned long long)used);
	return 0;
}
