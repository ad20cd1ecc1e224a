#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace convoy {

/// The largest configuration file either program reads (the ones in configs/ are below 2 KiB).
inline constexpr std::size_t kMaxConfigBytes = std::size_t{1} << 20;

/// The files named by `--config FILE` or `--config=FILE` in argv (argv[0] is the program).
std::vector<std::string> config_file_arguments(int argc, const char* const* argv);

/// Checks a configuration file before CLI11 reads it, since CLI11 reads anything it is given (a
/// device without end, a value of any length) and takes malformed lines at face value. The file
/// must be a regular file of at most kMaxConfigBytes, and every line must be blank, a comment, a
/// [table] header or `key = value`, the value being a string, a number, true/false or an array
/// (which may span lines), with nothing but a comment after it; no key twice. Returns "" or one
/// line: "FILE: what" or "FILE:LINE: what".
std::string check_config_file(const std::string& path);

/// The checks of check_config_file on a configuration's text; "" or "LINE: what".
std::string check_config_text(const std::string& text);

/// check_config_file for every --config in argv; the first problem, or "".
std::string check_config_arguments(int argc, const char* const* argv);

/// The number of the first line of `path` that sets `key` (1-based), or 0 if none does.
int config_key_line(const std::string& path, std::string_view key);

/// For an error message: the first line of `text`, at most `max` bytes; longer text is cut and
/// says how long it was.
std::string one_line(std::string_view text, std::size_t max = 300);

}  // namespace convoy
