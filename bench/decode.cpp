// decode FILE [RUNS]: decodes a gzip or zstd file (by its magic bytes) with the launcher's
// own decoders, built as the launcher is (-Oz), and prints the best run's MB/s of output
// (per second of CPU time, which other load on the machine disturbs less than wall time).
// bench.sh puts it beside `gzip -dc` and `zstd -dc` to /dev/null on the same file.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include <cstdio>
#include <memory>

#include "../gzip.hpp"
#include "../zstd.hpp"

template <class Decoder> static double run(std::span<const unsigned char> in, uint64_t &out)
{
	timespec a, b;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	auto d = std::make_unique<Decoder>(in);
	out = 0;
	for (auto chunk = d->next(); !chunk.empty(); chunk = d->next())
		out += chunk.size();
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	if (d->err() != decltype(d->err())::none) {
		fprintf(stderr, "decode: %s at byte %zu\n", error_text(d->err()), d->err_offset());
		exit(1);
	}
	return double(b.tv_sec - a.tv_sec) + double(b.tv_nsec - a.tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return fprintf(stderr, "usage: decode FILE [RUNS]\n"), 2;
	int fd = open(argv[1], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return perror(argv[1]), 1;
	void *p = mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (p == MAP_FAILED)
		return perror("mmap"), 1;
	std::span<const unsigned char> in(static_cast<const unsigned char *>(p), size_t(st.st_size));
	double best = 1e9;
	uint64_t out = 0;
	for (int i = 0, runs = argc > 2 ? atoi(argv[2]) : 3; i < runs; i++) {
		double t = zstd::is_zstd(in) ? run<zstd::decoder>(in, out) : run<gzip::inflater>(in, out);
		best = t < best ? t : best;
	}
	printf("%.0f\n", double(out) / 1048576 / best);
}
