// runtime.hpp: what a musl build of C++ needs without libstdc++: an allocator,
// operator new and delete, and the std::__throw_* hooks of the header-only containers
// (no exceptions: every one of them is fatal). Included by launcher.cpp alone.
#pragma once
#include <cstdarg>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>

#include "format.hpp"
#include "sys.hpp"

// The allocator: the launcher allocates little and briefly (vectors of a start, and the
// unpacker's small per-layer lists), so memory comes from mmap'd chunks by bumping a
// pointer, and free() returns only large blocks (mapped alone) to the kernel. This
// replaces musl's general allocator, which costs the binary 7 KB.
namespace heap {
constexpr size_t chunk = 256 << 10, large = 64 << 10, header = 16;
inline unsigned char *next, *end;

inline void *map(size_t n)
{
	void *p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? nullptr : p;
}
} // namespace heap

extern "C" void *malloc(size_t n)
{
	using namespace heap;
	size_t need = (n + header + 15) & ~size_t(15);
	unsigned char *p;
	if (need >= large) {
		if (!(p = static_cast<unsigned char *>(map(need))))
			return nullptr;
	} else {
		if (!next || size_t(end - next) < need) {
			if (!(next = static_cast<unsigned char *>(map(chunk))))
				return nullptr;
			end = next + chunk;
		}
		p = next;
		next += need;
	}
	*reinterpret_cast<size_t *>(p) = need;
	return p + header;
}

extern "C" void free(void *ptr)
{
	if (!ptr)
		return;
	unsigned char *p = static_cast<unsigned char *>(ptr) - heap::header;
	size_t size = *reinterpret_cast<size_t *>(p);
	if (size >= heap::large)
		munmap(p, size);
}

extern "C" void *calloc(size_t count, size_t n)
{
	if (n && count > SIZE_MAX / n)
		return nullptr;
	void *p = malloc(count * n);
	if (p)
		memset(p, 0, count * n); // fresh mappings are zero already; this keeps calloc plain
	return p;
}

extern "C" void *realloc(void *ptr, size_t n)
{
	void *p = malloc(n);
	if (p && ptr) {
		size_t old = *reinterpret_cast<size_t *>(static_cast<unsigned char *>(ptr) - heap::header) - heap::header;
		memcpy(p, ptr, old < n ? old : n);
		free(ptr);
	}
	return p;
}

// Destructors of static objects never need to run: the launcher's memory and descriptors
// go with the process. Registering none keeps musl's atexit (and its allocator) out.
extern "C" int __cxa_atexit(void (*)(void *), void *, void *) { return 0; }

// No libstdc++ in a musl build: the few runtime hooks the header-only parts need.
void *operator new(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		sys::die("out of memory");
	return p;
}
void operator delete(void *p) noexcept { free(p); }
void operator delete(void *p, size_t) noexcept { free(p); }
namespace std {
[[noreturn]] void __throw_length_error(const char *what) { sys::die("%s", what); }
[[noreturn]] void __throw_bad_alloc() { sys::die("out of memory"); }
[[noreturn]] void __throw_bad_array_new_length() { sys::die("out of memory"); }
[[noreturn]] void __throw_out_of_range_fmt(const char *what, ...) { sys::die("%s", what); }
} // namespace std


// printf's family, as the launcher uses it (format.hpp): no floating point, so musl's
// vfprintf and its float formatting stay out of the binary.
extern "C" int vsnprintf(char *out, size_t cap, const char *fmt, va_list ap)
{
	return int(format::vformat(out, cap, fmt, ap));
}

extern "C" int snprintf(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, cap, fmt, ap);
	va_end(ap);
	return n;
}

// Formats into a buffer, then one write; a longer text is formatted again into the heap.
extern "C" int vdprintf(int fd, const char *fmt, va_list ap)
{
	char buf[1024], *text = buf;
	va_list again;
	va_copy(again, ap);
	size_t n = format::vformat(buf, sizeof buf, fmt, ap);
	if (n >= sizeof buf && (text = static_cast<char *>(malloc(n + 1))))
		format::vformat(text, n + 1, fmt, again);
	va_end(again);
	if (!text)
		return -1;
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(fd, text + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += size_t(w);
	}
	if (text != buf)
		free(text);
	return done == n ? int(n) : -1;
}

extern "C" int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vdprintf(fd, fmt, ap);
	va_end(ap);
	return n;
}
