// format.hpp: the printf conversions the launcher uses, and nothing else: %s %c %d %u %x
// and %%, with the flags - and 0, a width, a precision (also .*), and the lengths l, ll
// and z. No floating point: musl's vfprintf carries its float formatting into every static
// binary that prints anything, 9 KB of the launcher's 100. Pure: bytes out, no I/O.
#pragma once
#include <cstdarg>
#include <cstddef>
#include <cstring>

namespace format {

// Like vsnprintf: writes at most cap - 1 characters and a NUL, returns the full length.
inline size_t vformat(char *out, size_t cap, const char *fmt, va_list ap)
{
	size_t n = 0;
	auto put = [&](char c) {
		if (n + 1 < cap)
			out[n] = c;
		n++;
	};
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(*fmt);
			continue;
		}
		bool left = false, zero = false;
		for (;; fmt++)
			if (fmt[1] == '-')
				left = true;
			else if (fmt[1] == '0')
				zero = true;
			else
				break;
		fmt++;
		size_t width = 0;
		for (; *fmt >= '0' && *fmt <= '9'; fmt++)
			width = width * 10 + size_t(*fmt - '0');
		long precision = -1;
		if (*fmt == '.') {
			precision = 0;
			if (*++fmt == '*')
				precision = va_arg(ap, int), fmt++;
			else
				for (; *fmt >= '0' && *fmt <= '9'; fmt++)
					precision = precision * 10 + (*fmt - '0');
		}
		bool wide = false;
		while (*fmt == 'l' || *fmt == 'z')
			wide = true, fmt++;
		char digits[24];
		const char *s = digits;
		size_t len = 0;
		bool numeric = false, negative = false;
		switch (*fmt) {
		case 's':
			s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			len = precision >= 0 ? strnlen(s, size_t(precision)) : strlen(s);
			break;
		case 'c':
			digits[0] = char(va_arg(ap, int));
			len = 1;
			break;
		case 'd':
		case 'u':
		case 'x': {
			unsigned long long v;
			if (*fmt == 'd') {
				long long x = wide ? va_arg(ap, long long) : va_arg(ap, int);
				negative = x < 0;
				v = negative ? 0 - (unsigned long long)x : (unsigned long long)x;
			} else {
				v = wide ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);
			}
			unsigned base = *fmt == 'x' ? 16 : 10;
			char *end = digits + sizeof digits, *p = end;
			do
				*--p = "0123456789abcdef"[v % base];
			while (v /= base);
			s = p, len = size_t(end - p), numeric = true;
			break;
		}
		case '%':
			put('%');
			continue;
		default: // not one of ours: shown as written
			put('%');
			if (!*fmt)
				return cap ? (out[n < cap ? n : cap - 1] = 0, n) : n;
			put(*fmt);
			continue;
		}
		size_t total = len + negative;
		if (negative && zero)
			put('-');
		for (; !left && width > total; width--)
			put(zero && numeric ? '0' : ' ');
		if (negative && !zero)
			put('-');
		for (size_t i = 0; i < len; i++)
			put(s[i]);
		for (; left && width > total; width--)
			put(' ');
	}
	if (cap)
		out[n < cap ? n : cap - 1] = 0;
	return n;
}

inline size_t format(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t n = vformat(out, cap, fmt, ap);
	va_end(ap);
	return n;
}

} // namespace format
