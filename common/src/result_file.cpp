#include "convoy/result_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

namespace convoy {
namespace {

std::string quoted(const std::string& path) { return "'" + path + "'"; }

std::string error_text(int error) { return std::strerror(error); }

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The file a write to `path` lands in: symbolic links resolved when the path exists, so that a
// link to a result file keeps pointing at it. `why` is set when the path cannot be used.
std::string resolve(const std::string& path, std::string& why) {
  struct stat link {};
  if (::lstat(path.c_str(), &link) != 0) {
    if (errno != ENOENT) why = quoted(path) + ": " + error_text(errno);
    return path;
  }
  if (!S_ISLNK(link.st_mode)) return path;
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    why = quoted(path) + " is a symbolic link to nothing";
    return path;
  }
  return resolved;
}

}  // namespace

std::string check_result_path(const std::string& path) {
  if (path.empty()) return "an empty file name";
  if (path.back() == '/') return quoted(path) + " is a directory";
  std::string why;
  const std::string target = resolve(path, why);
  if (!why.empty()) return why;

  struct stat st {};
  if (::stat(target.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return quoted(path) + " is a directory";
    if (!S_ISREG(st.st_mode)) {
      return quoted(path) +
             " is not a regular file (a result file is written beside its "
             "target and renamed onto it)";
    }
    if (::access(target.c_str(), W_OK) != 0) {
      return quoted(path) + " is not writable: " + error_text(errno);
    }
  } else if (errno != ENOENT) {
    return quoted(path) + ": " + error_text(errno);
  }
  const std::string dir = directory_of(target);
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return "directory " + quoted(dir) + " does not exist";
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return "directory " + quoted(dir) + " is not writable: " + error_text(errno);
  }
  return "";
}

ResultFile::~ResultFile() { discard(); }

ResultFile::ResultFile(ResultFile&& other) noexcept
    : path_(std::move(other.path_)),
      target_(std::move(other.target_)),
      temp_(std::move(other.temp_)),
      fd_(std::exchange(other.fd_, -1)) {}

ResultFile& ResultFile::operator=(ResultFile&& other) noexcept {
  if (this != &other) {
    discard();
    path_ = std::move(other.path_);
    target_ = std::move(other.target_);
    temp_ = std::move(other.temp_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void ResultFile::discard() noexcept {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink(temp_.c_str());
  fd_ = -1;
}

std::string ResultFile::open(const std::string& path) {
  discard();
  path_ = path;
  if (auto why = check_result_path(path); !why.empty()) return why;
  std::string ignored;
  target_ = resolve(path, ignored);

  // A hidden name beside the target: same file system for the rename, and out of the way of
  // globs such as results/*.json while the run lasts.
  std::string name = directory_of(target_) + "/." + base_name(target_) + ".XXXXXX";
  std::vector<char> buffer(name.begin(), name.end());
  buffer.push_back('\0');
  const int fd = ::mkostemp(buffer.data(), O_CLOEXEC);
  if (fd < 0) return "cannot create a file beside " + quoted(path) + ": " + error_text(errno);
  fd_ = fd;
  temp_ = buffer.data();

  // mkostemp makes the file 0600; give it the mode the target has, or a new file would get.
  mode_t mode = 0;
  struct stat st {};
  if (::stat(target_.c_str(), &st) == 0) {
    mode = st.st_mode & 07777;
  } else {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    mode = 0666 & ~mask;
  }
  if (::fchmod(fd_, mode) != 0) {
    const int error = errno;
    discard();
    return "cannot set the mode of a file beside " + quoted(path) + ": " + error_text(error);
  }
  return "";
}

std::string ResultFile::commit(std::string_view content) {
  if (fd_ < 0) return "cannot write " + quoted(path_) + ": not open";
  auto failed = [&](const char* what, int error) {
    discard();
    return "cannot write " + quoted(path_) + ": " + what + ": " + error_text(error);
  };
  while (!content.empty()) {
    const auto n = ::write(fd_, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return failed("write", n < 0 ? errno : EIO);
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fsync(fd_) != 0 && errno != EINVAL) return failed("fsync", errno);
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temp_.c_str());
    return "cannot write " + quoted(path_) + ": close: " + error_text(error);
  }
  if (::rename(temp_.c_str(), target_.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp_.c_str());
    return "cannot write " + quoted(path_) + ": rename: " + error_text(error);
  }
  return "";
}

}  // namespace convoy
