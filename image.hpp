// image.hpp: the image's manifest.json and config, read from bytes (no I/O).
//
// Decoded strings are NUL-terminated and live in a caller's store (a vector<char> that this
// code sizes once per document and never grows afterwards, so pointers into it stay valid).
#pragma once
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "json.hpp"

namespace image {

// What went wrong, and where in the document; empty when nothing did.
struct problem {
	const char *what = nullptr;
	size_t offset = 0;
	explicit operator bool() const { return what != nullptr; }
};

struct manifest {
	const char *config = nullptr;     // archive path of the config JSON
	std::vector<const char *> layers; // archive paths, bottom layer first
	std::vector<const char *> tags;   // RepoTags, e.g. "busybox:latest"
};

struct config {
	std::vector<const char *> entrypoint, cmd, env;
	const char *workdir = "";
	const char *user = "";
	std::vector<std::string_view> diff_ids; // "sha256:<hex>", bottom layer first
};

namespace detail {

// Parses text into tokens held by `tokens`, sized by a counting pass.
inline problem load(std::string_view text, std::vector<json::token> &tokens, json::document &doc)
{
	json::result counted = json::parse(text, {});
	if (counted.err != json::error::none)
		return {json::error_text(counted.err), counted.offset};
	tokens.resize(counted.count);
	json::result r = json::parse(text, tokens);
	if (r.err != json::error::none)
		return {json::error_text(r.err), r.offset};
	doc = {text, tokens};
	return {};
}

// Bump allocation of decoded strings from a store sized to hold every string of the text.
struct strings {
	std::vector<char> &store;
	size_t used = 0;
	strings(std::vector<char> &s, std::string_view text) : store(s)
	{
		store.assign(text.size() * 2 + 2, 0);
	}
	const char *dup(json::value v)
	{
		std::string_view raw = v.raw();
		char *at = store.data() + used;
		used += json::unescape(raw, at).size() + 1;
		return at;
	}
};

inline problem string_field(json::value v, strings &st, const char *&out, const char *what)
{
	if (!v || v.is(json::kind::null))
		return {};
	if (!v.is(json::kind::string))
		return {what, v.doc->tokens[v.i].start};
	out = st.dup(v);
	return {};
}

// An array of strings; null or absent leaves out empty.
inline problem string_list(json::value v, strings &st, std::vector<const char *> &out, const char *what)
{
	out.clear();
	if (!v || v.is(json::kind::null))
		return {};
	if (!v.is(json::kind::array))
		return {what, v.doc->tokens[v.i].start};
	problem p;
	v.each([&](json::value e) {
		if (!e.is(json::kind::string))
			p = {what, e.doc->tokens[e.i].start};
		else
			out.push_back(st.dup(e));
	});
	return p;
}

} // namespace detail

// manifest.json of `docker save` (legacy and Docker 25+): [{Config, RepoTags, Layers}, ...]
inline problem parse_manifest(std::string_view text, std::vector<char> &store, std::vector<manifest> &out)
{
	std::vector<json::token> tokens;
	json::document doc;
	if (problem p = detail::load(text, tokens, doc))
		return p;
	json::value root{&doc, 0};
	if (!root.is(json::kind::array) || root.size() == 0)
		return {"manifest.json: expected a non-empty array", 0};
	detail::strings st(store, text);
	out.resize(root.size());
	problem p;
	size_t n = 0;
	root.each([&](json::value m) {
		manifest &mf = out[n++];
		if (p)
			return;
		if (!m.is(json::kind::object)) {
			p = {"manifest.json: entry is not an object", m.doc->tokens[m.i].start};
			return;
		}
		if ((p = detail::string_field(m["Config"], st, mf.config, "manifest.json: Config is not a string")))
			return;
		if (!mf.config) {
			p = {"manifest.json: entry has no Config", m.doc->tokens[m.i].start};
			return;
		}
		if ((p = detail::string_list(m["Layers"], st, mf.layers, "manifest.json: Layers is not a list of strings")))
			return;
		p = detail::string_list(m["RepoTags"], st, mf.tags, "manifest.json: RepoTags is not a list of strings");
	});
	return p;
}

// The image config: {"config": {Entrypoint, Cmd, Env, WorkingDir, User}, "rootfs": {diff_ids}}
inline problem parse_config(std::string_view text, std::vector<char> &store, config &out)
{
	std::vector<json::token> tokens;
	json::document doc;
	if (problem p = detail::load(text, tokens, doc))
		return p;
	json::value root{&doc, 0};
	if (!root.is(json::kind::object))
		return {"config: expected an object", 0};
	detail::strings st(store, text);
	json::value c = root["config"];
	if (c && !c.is(json::kind::object) && !c.is(json::kind::null))
		return {"config: \"config\" is not an object", doc.tokens[c.i].start};
	problem p;
	if ((p = detail::string_list(c["Entrypoint"], st, out.entrypoint, "config: Entrypoint is not a list of strings")) ||
	    (p = detail::string_list(c["Cmd"], st, out.cmd, "config: Cmd is not a list of strings")) ||
	    (p = detail::string_list(c["Env"], st, out.env, "config: Env is not a list of strings")) ||
	    (p = detail::string_field(c["WorkingDir"], st, out.workdir, "config: WorkingDir is not a string")) ||
	    (p = detail::string_field(c["User"], st, out.user, "config: User is not a string")))
		return p;
	std::vector<const char *> ids;
	if ((p = detail::string_list(root["rootfs"]["diff_ids"], st, ids, "config: rootfs.diff_ids is not a list of strings")))
		return p;
	out.diff_ids.assign(ids.begin(), ids.end());
	return {};
}

// The 64 hex digits of a digest-named path: "<hex>.json", "blobs/sha256/<hex>",
// "sha256:<hex>"; empty when the path is not so named.
inline std::string_view digest_hex(std::string_view path)
{
	if (path.ends_with(".json"))
		path.remove_suffix(5);
	size_t slash = path.find_last_of("/:");
	if (slash != std::string_view::npos)
		path.remove_prefix(slash + 1);
	if (path.size() != 64)
		return {};
	for (char c : path)
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return {};
	return path;
}

// Sets "KEY=VALUE" in env, replacing an earlier entry with the same key (docker's -e).
inline void set_env(std::vector<const char *> &env, const char *kv)
{
	std::string_view key(kv, strcspn(kv, "="));
	for (const char *&e : env)
		if (std::string_view(e).starts_with(key) && e[key.size()] == '=' ) {
			e = kv;
			return;
		}
	env.push_back(kv);
}

// The value of KEY in env, or nullptr.
inline const char *get_env(std::span<const char *const> env, std::string_view key)
{
	for (const char *e : env)
		if (std::string_view(e).starts_with(key) && e[key.size()] == '=')
			return e + key.size() + 1;
	return nullptr;
}

} // namespace image
