#pragma once

#include <string>
#include <string_view>

namespace convoy {

/// Why `path` cannot take a result file, or "" if it can: the directory must exist and be
/// writable, and the path must name a regular file or nothing yet (not a directory, a device, a
/// FIFO), one that may be written if it exists. Symbolic links are followed. Creates nothing:
/// fit for option validation and --print-config.
std::string check_result_path(const std::string& path);

/// Notes about the implementation
///
/// A result file is opened before the run and written after it. open() checks the path and
/// creates an empty temporary file beside the target (same directory, so that the final rename
/// stays on one file system): a path that cannot be written is found before anything is
/// measured. commit() writes the content into the temporary file, flushes it to the disk and
/// renames it onto the target, so the target is either the old file or the complete new one,
/// never a truncated mix. A ResultFile dropped without commit() removes its temporary file, so a
/// run that fails to start leaves nothing behind. Only the thread that owns it may use it.
class ResultFile {
 public:
  ResultFile() = default;
  ~ResultFile();
  ResultFile(ResultFile&& other) noexcept;
  ResultFile& operator=(ResultFile&& other) noexcept;
  ResultFile(const ResultFile&) = delete;
  ResultFile& operator=(const ResultFile&) = delete;

  /// Checks `path` (see check_result_path) and creates the temporary file. Returns "" or a
  /// one-line reason naming the path. Call once.
  std::string open(const std::string& path);
  /// True between a successful open() and commit().
  bool is_open() const noexcept { return fd_ >= 0; }
  /// The path given to open().
  const std::string& path() const noexcept { return path_; }

  /// Writes `content`, flushes it and renames the temporary file onto the target. Returns "" or
  /// a one-line reason (the target is then left as it was). Closes the file either way.
  std::string commit(std::string_view content);

 private:
  void discard() noexcept;

  std::string path_;    // as given
  std::string target_;  // symbolic links resolved
  std::string temp_;
  int fd_ = -1;
};

}  // namespace convoy
