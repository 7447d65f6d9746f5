// json.hpp: a strict JSON (RFC 8259) reader in the manner of jsmn.
//
// parse() takes the text and a caller-provided token array and allocates nothing; tokens
// are offsets into the text. With an empty array it only validates and counts, so a caller
// can size the array exactly. Each token records where its subtree ends (`next`), so object
// lookups and array walks skip whole values in one step. `value` wraps a token for reading;
// strings are unescaped into a caller's buffer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace json {

enum class kind : uint8_t { object, array, string, number, boolean, null };

struct token {
	kind k;
	uint32_t start, end; // byte range in the text; for strings, without the quotes
	uint32_t size;       // members of an object, elements of an array
	uint32_t next;       // index of the token after this value's subtree
};

enum class error { none, nomem, invalid, partial, too_deep };

constexpr const char *error_text(error e)
{
	switch (e) {
	case error::none: return "no error";
	case error::nomem: return "too many tokens";
	case error::invalid: return "invalid JSON";
	case error::partial: return "truncated JSON";
	case error::too_deep: return "JSON nested too deeply";
	}
	return "?";
}

struct result {
	error err;
	size_t count;  // tokens used, or needed when counting
	size_t offset; // where parsing stopped
};

constexpr size_t max_depth = 64;

namespace detail {

struct parser {
	struct frame {
		size_t tok;
		bool object, has_items;
	};
	std::string_view s;
	std::span<token> out;
	size_t pos = 0, count = 0;
	error err = error::none;
	frame stack[max_depth];
	size_t depth = 0;
	bool is_key = false;

	bool fail(error e)
	{
		if (err == error::none)
			err = e;
		return false;
	}
	bool at_end() { return pos >= s.size() && !fail(error::partial); }
	void skip_ws()
	{
		while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r'))
			pos++;
	}
	// Members of an object are counted by their keys, elements of an array one by one.
	size_t add(kind k, size_t start, size_t end)
	{
		size_t i = count++;
		if (i < out.size())
			out[i] = token{k, uint32_t(start), uint32_t(end), 0, uint32_t(i + 1)};
		else if (!out.empty())
			fail(error::nomem);
		if (depth > 0 && (!stack[depth - 1].object || is_key) && stack[depth - 1].tok < out.size())
			out[stack[depth - 1].tok].size++;
		return i;
	}
	static bool hex(char c)
	{
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
	}
	bool string()
	{
		size_t start = ++pos;
		for (; pos < s.size(); pos++) {
			unsigned char c = static_cast<unsigned char>(s[pos]);
			if (c == '"') {
				add(kind::string, start, pos++);
				return err == error::none;
			}
			if (c < 0x20)
				return fail(error::invalid);
			if (c != '\\')
				continue;
			if (++pos >= s.size())
				return fail(error::partial);
			if (s[pos] == 'u') {
				for (int i = 0; i < 4; i++) {
					if (++pos >= s.size())
						return fail(error::partial);
					if (!hex(s[pos]))
						return fail(error::invalid);
				}
			} else if (std::string_view("\"\\/bfnrt").find(s[pos]) == std::string_view::npos) {
				return fail(error::invalid);
			}
		}
		return fail(error::partial);
	}
	bool digits()
	{
		size_t from = pos;
		while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9')
			pos++;
		return pos > from || fail(pos == s.size() ? error::partial : error::invalid);
	}
	bool number()
	{
		size_t start = pos;
		if (s[pos] == '-')
			pos++;
		if (pos < s.size() && s[pos] == '0')
			pos++;
		else if (!digits())
			return false;
		if (pos < s.size() && s[pos] == '.') {
			pos++;
			if (!digits())
				return false;
		}
		if (pos < s.size() && (s[pos] == 'e' || s[pos] == 'E')) {
			pos++;
			if (pos < s.size() && (s[pos] == '+' || s[pos] == '-'))
				pos++;
			if (!digits())
				return false;
		}
		add(kind::number, start, pos);
		return err == error::none;
	}
	bool literal(std::string_view word, kind k)
	{
		std::string_view have = s.substr(pos, word.size());
		if (have != word)
			return fail(pos + have.size() == s.size() && word.starts_with(have) ? error::partial
											      : error::invalid);
		add(k, pos, pos + word.size());
		pos += word.size();
		return err == error::none;
	}
	bool value()
	{
		skip_ws();
		if (at_end())
			return false;
		char c = s[pos];
		if (c == '"')
			return string();
		if (c == '-' || (c >= '0' && c <= '9'))
			return number();
		if (c == 't')
			return literal("true", kind::boolean);
		if (c == 'f')
			return literal("false", kind::boolean);
		if (c == 'n')
			return literal("null", kind::null);
		if (c != '{' && c != '[')
			return fail(error::invalid);
		if (depth == max_depth)
			return fail(error::too_deep);
		size_t i = add(c == '{' ? kind::object : kind::array, pos, pos);
		stack[depth++] = frame{i, c == '{', false};
		pos++;
		return err == error::none;
	}
	bool member()
	{
		skip_ws();
		if (at_end())
			return false;
		if (s[pos] != '"')
			return fail(error::invalid);
		is_key = true;
		bool ok = string();
		is_key = false;
		if (!ok)
			return false;
		skip_ws();
		if (at_end())
			return false;
		if (s[pos++] != ':')
			return fail(error::invalid);
		return value();
	}
	void close()
	{
		size_t i = stack[--depth].tok;
		pos++;
		if (i < out.size()) {
			out[i].end = uint32_t(pos);
			out[i].next = uint32_t(count);
		}
	}
	result run()
	{
		if (s.size() >= UINT32_MAX)
			return {error::invalid, 0, 0};
		bool ok = value();
		while (ok && depth > 0) {
			frame &f = stack[depth - 1];
			skip_ws();
			if (at_end())
				break;
			if (s[pos] == (f.object ? '}' : ']')) {
				close();
				continue;
			}
			if (f.has_items) {
				if (s[pos] != ',') {
					fail(error::invalid);
					break;
				}
				pos++;
			}
			f.has_items = true;
			ok = f.object ? member() : value();
		}
		if (err == error::none) {
			skip_ws();
			if (pos != s.size())
				fail(error::invalid);
		}
		return {err, count, pos};
	}
};

inline int hexval(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

inline char *put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		*o++ = char(cp);
	} else if (cp < 0x800) {
		*o++ = char(0xc0 | cp >> 6);
		*o++ = char(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = char(0xe0 | cp >> 12);
		*o++ = char(0x80 | (cp >> 6 & 0x3f));
		*o++ = char(0x80 | (cp & 0x3f));
	} else {
		*o++ = char(0xf0 | cp >> 18);
		*o++ = char(0x80 | (cp >> 12 & 0x3f));
		*o++ = char(0x80 | (cp >> 6 & 0x3f));
		*o++ = char(0x80 | (cp & 0x3f));
	}
	return o;
}

} // namespace detail

inline result parse(std::string_view text, std::span<token> tokens)
{
	detail::parser p{text, tokens};
	return p.run();
}

// Unescapes the raw body of a validated string into out, which needs raw.size() + 1 bytes
// (an escape never decodes longer than it is written). The result is NUL-terminated.
// A lone surrogate becomes U+FFFD, as most decoders do.
inline std::string_view unescape(std::string_view raw, char *out)
{
	char *o = out;
	for (size_t i = 0; i < raw.size(); i++) {
		char c = raw[i];
		if (c != '\\') {
			*o++ = c;
			continue;
		}
		c = raw[++i];
		switch (c) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			auto quad = [&](size_t at) {
				uint32_t v = 0;
				for (size_t k = 0; k < 4; k++)
					v = v << 4 | uint32_t(detail::hexval(raw[at + k]));
				return v;
			};
			uint32_t cp = quad(i + 1);
			i += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < raw.size() && raw[i + 1] == '\\' &&
			    raw[i + 2] == 'u') {
				uint32_t lo = quad(i + 3);
				if (lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					i += 6;
				}
			}
			if (cp >= 0xd800 && cp < 0xe000)
				cp = 0xfffd;
			o = detail::put_utf8(o, cp);
			break;
		}
		default: *o++ = c; // " \ /
		}
	}
	*o = 0;
	return {out, size_t(o - out)};
}

// A parsed document: the text and its tokens.
struct document {
	std::string_view text;
	std::span<const token> tokens;
};

// One value of a document; an absent value (a missing key, an index past the end) is
// falsy, so lookups chain: v["config"]["Env"].
struct value {
	const document *doc = nullptr;
	size_t i = 0;

	explicit operator bool() const { return doc != nullptr; }
	kind type() const { return doc->tokens[i].k; }
	bool is(kind k) const { return doc && type() == k; }
	size_t size() const { return doc ? doc->tokens[i].size : 0; }
	std::string_view raw() const // "" when absent
	{
		if (!doc)
			return {};
		const token &t = doc->tokens[i];
		return doc->text.substr(t.start, t.end - t.start);
	}
	value operator[](std::string_view key) const
	{
		if (!is(kind::object))
			return {};
		size_t j = i + 1;
		for (size_t n = 0; n < size(); n++) {
			value k{doc, j};
			// Keys without escapes compare in place; an escaped key is compared decoded.
			if (k.raw() == key || (k.raw().find('\\') != std::string_view::npos && k.equals_unescaped(key)))
				return {doc, j + 1};
			j = doc->tokens[j + 1].next;
		}
		return {};
	}
	value operator[](size_t index) const
	{
		if (!is(kind::array) || index >= size())
			return {};
		size_t j = i + 1;
		for (size_t n = 0; n < index; n++)
			j = doc->tokens[j].next;
		return {doc, j};
	}
	// Calls f(key, value) for each member of an object.
	template <class F> void each_member(F &&f) const
	{
		if (!is(kind::object))
			return;
		size_t j = i + 1;
		for (size_t n = 0; n < size(); n++, j = doc->tokens[j + 1].next)
			f(value{doc, j}, value{doc, j + 1});
	}
	// Calls f(element) for each element of an array.
	template <class F> void each(F &&f) const
	{
		if (!is(kind::array))
			return;
		size_t j = i + 1;
		for (size_t n = 0; n < size(); n++, j = doc->tokens[j].next)
			f(value{doc, j});
	}
	// Calls f(key) for each key of an object (its value is {doc, key.i + 1}).
	template <class F> void each_key(F &&f) const
	{
		if (!is(kind::object))
			return;
		size_t j = i + 1;
		for (size_t n = 0; n < size(); n++, j = doc->tokens[j + 1].next)
			f(value{doc, j});
	}
private:
	bool equals_unescaped(std::string_view key) const
	{
		std::string_view r = raw();
		if (r.size() > 255)
			return false;
		char buf[256];
		return unescape(r, buf) == key;
	}
};

} // namespace json
