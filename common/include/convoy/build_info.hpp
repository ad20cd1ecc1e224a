#pragma once

#include <string_view>

namespace convoy {

/// Facts fixed when the binary was built; recorded in every result file.
struct BuildInfo {
  std::string_view version;
  std::string_view git_revision;
  std::string_view build_type;
  std::string_view sanitizer;  ///< "" for none, "address" or "thread"
  std::string_view compiler;
};

/// The build information of this binary.
const BuildInfo& build_info() noexcept;

/// "convoy-server 0.1.0 (git abc123, Release)" — the --version line.
std::string version_line(std::string_view program);

}  // namespace convoy
