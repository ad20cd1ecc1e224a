#include "convoy/config_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <optional>

namespace convoy {
namespace {

constexpr std::string_view kBlank = " \t\r";

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(kBlank);
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(kBlank);
  return s.substr(first, last - first + 1);
}

bool is_bare_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// Characters of a bare value: numbers (1, -2, 1.5e3, 0x1f, 1_000, inf, nan), true/false, dates.
bool is_bare_value_char(char c) { return is_bare_key_char(c) || c == '+' || c == '.' || c == ':'; }

// Reads the whole file if it is a regular file no larger than the limit.
std::optional<std::string> read_config(const std::string& path, std::string& why) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is rejected right after.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    why = "cannot read the configuration file: " + std::string(std::strerror(errno));
    return std::nullopt;
  }
  struct stat st {};
  std::string text;
  if (::fstat(fd, &st) != 0) {
    why = "cannot read the configuration file: " + std::string(std::strerror(errno));
  } else if (S_ISDIR(st.st_mode)) {
    why = "is a directory, not a configuration file";
  } else if (!S_ISREG(st.st_mode)) {
    why = "is not a regular file";
  } else if (static_cast<std::size_t>(st.st_size) > kMaxConfigBytes) {
    why = "is " + std::to_string(st.st_size) + " bytes; a configuration file may have at most " +
          std::to_string(kMaxConfigBytes);
  } else {
    // Read at most one byte past the limit, in case the file grew since fstat.
    char buffer[16384];
    for (;;) {
      const auto n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        why = "cannot read the configuration file: " + std::string(std::strerror(errno));
        break;
      }
      if (n == 0) break;
      text.append(buffer, static_cast<std::size_t>(n));
      if (text.size() > kMaxConfigBytes) {
        why = "has more than " + std::to_string(kMaxConfigBytes) + " bytes";
        break;
      }
    }
  }
  ::close(fd);
  if (!why.empty()) return std::nullopt;
  return text;
}

// One-line scanner for the values of `key = value` lines. Each function consumes what it
// recognises from `rest` and returns "" or what is wrong.
class ValueScanner {
 public:
  // A basic ("...", with backslash escapes) or literal ('...') string.
  static std::string string(std::string_view& rest) {
    const char quote = rest.front();
    if (rest.substr(0, 3) == std::string(3, quote)) return "multi-line strings are not supported";
    for (std::size_t i = 1; i < rest.size(); ++i) {
      if (quote == '"' && rest[i] == '\\') {
        ++i;
        continue;
      }
      if (rest[i] == quote) {
        rest.remove_prefix(i + 1);
        return "";
      }
      // CLI11 cuts every line at its first '#', inside a string too.
      if (rest[i] == '#') return "a '#' inside a string is read as the start of a comment";
    }
    return "unterminated string (no closing " + std::string(1, quote) + ")";
  }

  static std::string bare(std::string_view& rest) {
    std::size_t i = 0;
    while (i < rest.size() && is_bare_value_char(rest[i])) ++i;
    if (i == 0) {
      return "a value must be a string, a number, true or false, or an array; got '" +
             std::string(rest.substr(0, 40)) + "'";
    }
    rest.remove_prefix(i);
    return "";
  }
};

// The whole value of one key: a string, a bare value, or an array that may continue on the
// following lines (read through `next_line`, which also advances the line number).
template <class NextLine>
std::string scan_value(std::string_view rest, NextLine next_line) {
  int depth = 0;           // arrays open
  bool need_value = true;  // a value, or in an array an element or ], comes next
  for (;;) {
    rest = trim(rest);
    if (rest.empty() || rest.front() == '#') {
      if (depth == 0) return need_value ? "no value after '='" : "";
      auto line = next_line();
      if (!line) return "unterminated array (no closing ])";
      rest = *line;
      continue;
    }
    if (depth == 0 && !need_value) {
      return "unexpected text after the value: '" + std::string(rest.substr(0, 40)) + "'";
    }
    const char c = rest.front();
    if (c == '[' || (depth > 0 && (c == ']' || c == ','))) {
      depth += c == '[' ? 1 : c == ']' ? -1 : 0;
      need_value = c != ']';
      rest.remove_prefix(1);
      continue;
    }
    if (c == ']') return "unmatched ]";
    std::string why =
        (c == '"' || c == '\'') ? ValueScanner::string(rest) : ValueScanner::bare(rest);
    if (!why.empty()) return why;
    need_value = false;
  }
}

std::string check_text(const std::string& text, std::map<std::string, int>* keys) {
  if (text.find('\0') != std::string::npos) return "not a text file (it has a NUL byte)";
  std::size_t pos = 0;
  int number = 0;
  auto next_line = [&]() -> std::optional<std::string_view> {
    if (pos > text.size()) return std::nullopt;
    const auto eol = text.find('\n', pos);
    const auto end = eol == std::string::npos ? text.size() : eol;
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++number;
    return line;
  };
  std::map<std::string, int> seen;
  std::string table;
  while (auto raw = next_line()) {
    const std::string_view line = trim(*raw);
    if (line.empty() || line.front() == '#') continue;
    const int at = number;
    auto fail = [&](const std::string& what) { return std::to_string(at) + ": " + what; };
    if (line.front() == '[') {
      if (line.back() != ']') return fail("a [table] header must end with ]");
      table = std::string(trim(line.substr(1, line.size() - 2))) + ".";
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) return fail("expected key = value");
    std::string_view key = trim(line.substr(0, eq));
    if (key.size() >= 2 && (key.front() == '"' || key.front() == '\'') &&
        key.back() == key.front()) {
      key = key.substr(1, key.size() - 2);
    } else {
      for (const char c : key) {
        if (!is_bare_key_char(c))
          return fail("not a key: '" + std::string(key.substr(0, 40)) + "'");
      }
    }
    if (key.empty()) return fail("no key before '='");
    const std::string full = table + std::string(key);
    if (const auto it = seen.find(full); it != seen.end()) {
      return fail("'" + full + "' is set twice (first on line " + std::to_string(it->second) + ")");
    }
    seen.emplace(full, at);
    if (auto why = scan_value(trim(line.substr(eq + 1)), next_line); !why.empty()) return fail(why);
  }
  if (keys != nullptr) *keys = std::move(seen);
  return "";
}

}  // namespace

std::vector<std::string> config_file_arguments(int argc, const char* const* argv) {
  constexpr std::string_view kFlag = "--config";
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == kFlag && i + 1 < argc) {
      paths.emplace_back(argv[++i]);
    } else if (arg.size() > kFlag.size() && arg.substr(0, kFlag.size()) == kFlag &&
               arg[kFlag.size()] == '=') {
      paths.emplace_back(arg.substr(kFlag.size() + 1));
    }
  }
  return paths;
}

std::string check_config_file(const std::string& path) {
  std::string why;
  const auto text = read_config(path, why);
  if (!text) return "--config '" + path + "' " + why;
  if (why = check_text(*text, nullptr); !why.empty()) return "--config " + path + ":" + why;
  return "";
}

std::string check_config_text(const std::string& text) { return check_text(text, nullptr); }

std::string check_config_arguments(int argc, const char* const* argv) {
  for (const auto& path : config_file_arguments(argc, argv)) {
    if (auto why = check_config_file(path); !why.empty()) return why;
  }
  return "";
}

int config_key_line(const std::string& path, std::string_view key) {
  std::string why;
  const auto text = read_config(path, why);
  if (!text) return 0;
  std::map<std::string, int> keys;
  if (!check_text(*text, &keys).empty()) return 0;
  const auto it = keys.find(std::string(key));
  return it == keys.end() ? 0 : it->second;
}

std::string one_line(std::string_view text, std::size_t max) {
  const auto eol = text.find('\n');
  const bool more_lines = eol != std::string_view::npos;
  std::string_view first = text.substr(0, eol);
  if (first.size() <= max) return std::string(first) + (more_lines ? " [...]" : "");
  return std::string(first.substr(0, max)) + "[... " + std::to_string(text.size()) +
         " bytes in all]";
}

}  // namespace convoy
