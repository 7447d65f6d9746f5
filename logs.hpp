// logs.hpp: a detached container's stdout and stderr as docker's json-file driver keeps
// them: one JSON object a line, {"log":"TEXT\n","stream":"stdout","time":"RFC 3339"}, in
// ID-json.log under the container's data directory. The file is capped (10 MiB) and
// rotated once (ID-json.log.1), so a chatty container holds at most two caps of disk.
// Formatting and parsing are pure; the writer and `launcher logs` do the I/O.
#pragma once
#include <fcntl.h>
#include <unistd.h>



#include "json.hpp"
#include "state.hpp"
#include "sys.hpp"

namespace logs {

constexpr size_t max_size = 10 << 20;  // then the file is rotated
constexpr size_t max_entry = 16 << 10; // a longer line is cut into entries, as docker does

// One entry's JSON line, newline included, into out; its length (cut to cap - 1).
inline size_t format_entry(std::string_view text, bool is_stderr, const char *time, char *out, size_t cap)
{
	size_t n = size_t(snprintf(out, cap, "{\"log\":"));
	n = state::put_json_string(out, cap, n, text);
	n += size_t(snprintf(out + n, n < cap ? cap - n : 0, ",\"stream\":\"%s\",\"time\":\"%s\"}\n", is_stderr ? "stderr" : "stdout", time));
	return std::min(n, cap - 1);
}

struct entry {
	std::string_view text; // in `buffer`, valid until the next parse
	bool is_stderr = false;
	char time[40] = "";
	char buffer[max_entry * 6 + 8];
};

// One line of the file back into an entry; false when it is not one. No allocation: a
// follower reads lines for as long as the container runs.
inline bool parse_entry(std::string_view line, entry &e)
{
	json::token tokens[16];
	json::result r = json::parse(line, tokens);
	if (r.err != json::error::none)
		return false;
	json::document doc{line, {tokens, r.count}};
	json::value v{&doc, 0};
	json::value log = v["log"], stream = v["stream"], time = v["time"];
	if (!log.is(json::kind::string) || !stream.is(json::kind::string) || !time.is(json::kind::string) ||
	    time.raw().size() >= sizeof e.time || log.raw().size() >= sizeof e.buffer)
		return false;
	e.text = json::unescape(log.raw(), e.buffer);
	e.is_stderr = stream.raw() == "stderr";
	json::unescape(time.raw(), e.time);
	return true;
}

// --since: a duration back from now (10s, 5m, 2h), Unix seconds, or an RFC 3339 time
// (compared as text: every time in the file has the same fixed width). Empty when bad.
inline bool since_time(const char *arg, const timespec &now, char (&out)[40])
{
	const char *end;
	uint64_t n = sys::leading_number(arg, &end);
	if (end != arg && (!strcmp(end, "s") || !strcmp(end, "m") || !strcmp(end, "h") || !*end)) {
		timespec at = {};
		at.tv_sec = !*end ? time_t(n) : now.tv_sec - time_t(n * (*end == 's' ? 1 : *end == 'm' ? 60 : 3600));
		state::rfc3339(out, &at);
		return true;
	}
	if (strlen(arg) >= 10 && arg[4] == '-' && arg[7] == '-' && strlen(arg) < sizeof out) {
		snprintf(out, sizeof out, "%s", arg);
		return true;
	}
	return false;
}

// The writer the supervisor feeds: whole lines per stream, rotated at max_size.
struct writer {
	int fd = -1;
	char path[PATH_MAX] = "";
	size_t size = 0;
	std::vector<char> pending[2]; // a line not ended yet, per stream

	void open_file()
	{
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (fd < 0)
			sys::die_errno("open the log %s", path);
		struct stat st;
		size = fstat(fd, &st) == 0 ? size_t(st.st_size) : 0;
	}

	void put(std::string_view text, bool is_stderr)
	{
		char time[40];
		state::rfc3339(time);
		static char line[max_entry * 6 + 128];
		size_t n = format_entry(text, is_stderr, time, line, sizeof line);
		if (size + n > max_size) {
			char old[PATH_MAX + 4];
			snprintf(old, sizeof old, "%s.1", path);
			close(fd);
			rename(path, old);
			open_file();
		}
		if (write(fd, line, n) == ssize_t(n))
			size += n;
	}

	// Bytes as they came from a stream: every complete line becomes an entry.
	void feed(std::string_view bytes, bool is_stderr)
	{
		std::vector<char> &p = pending[is_stderr];
		p.insert(p.end(), bytes.begin(), bytes.end());
		size_t start = 0;
		for (;;) {
			std::string_view rest(p.data() + start, p.size() - start);
			size_t nl = rest.find('\n');
			if (nl == rest.npos && rest.size() < max_entry)
				break;
			size_t len = nl != rest.npos ? nl + 1 : max_entry;
			put(rest.substr(0, len), is_stderr);
			start += len;
		}
		p.erase(p.begin(), p.begin() + long(start));
	}

	void flush()
	{
		for (bool e : {false, true})
			if (!pending[e].empty()) {
				put({pending[e].data(), pending[e].size()}, e);
				pending[e].clear();
			}
	}
};

} // namespace logs
