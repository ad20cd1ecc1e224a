#include "convoy/result_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace convoy {
namespace {

namespace fs = std::filesystem;

// A fresh, empty directory per test, removed afterwards.
class ResultFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("convoy-result-file-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add);
    fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_), {}));
  }
  static std::string content(const std::string& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  fs::path dir_;
};

TEST_F(ResultFileTest, CommitWritesTheContentAndLeavesNothingElse) {
  ResultFile file;
  ASSERT_EQ(file.open(path("r.json")), "");
  EXPECT_TRUE(file.is_open());
  EXPECT_FALSE(fs::exists(path("r.json"))) << "the target appears only at commit";
  EXPECT_EQ(file.commit("{}\n"), "");
  EXPECT_FALSE(file.is_open());
  EXPECT_EQ(content(path("r.json")), "{}\n");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(ResultFileTest, DroppingWithoutCommitLeavesNoFile) {
  {
    ResultFile file;
    ASSERT_EQ(file.open(path("r.json")), "");
    EXPECT_EQ(entries(), 1u);  // the temporary file
  }
  EXPECT_EQ(entries(), 0u);
}

TEST_F(ResultFileTest, ReplacesTheTargetByRenameNotInPlace) {
  // A second name for the old file keeps the old content: the new one is a new file.
  { std::ofstream(path("r.json")) << "old"; }
  ASSERT_EQ(::link(path("r.json").c_str(), path("old.json").c_str()), 0);
  ResultFile file;
  ASSERT_EQ(file.open(path("r.json")), "");
  ASSERT_EQ(file.commit("new"), "");
  EXPECT_EQ(content(path("r.json")), "new");
  EXPECT_EQ(content(path("old.json")), "old");
}

TEST_F(ResultFileTest, KeepsTheModeOfAnExistingTarget) {
  { std::ofstream(path("r.json")) << "old"; }
  fs::permissions(path("r.json"), fs::perms(0640));
  ResultFile file;
  ASSERT_EQ(file.open(path("r.json")), "");
  ASSERT_EQ(file.commit("new"), "");
  EXPECT_EQ(fs::status(path("r.json")).permissions() & fs::perms::all, fs::perms(0640));
}

TEST_F(ResultFileTest, FollowsASymbolicLinkToTheTarget) {
  { std::ofstream(path("run1.json")) << "old"; }
  fs::create_symlink(path("run1.json"), path("latest.json"));
  ResultFile file;
  ASSERT_EQ(file.open(path("latest.json")), "");
  ASSERT_EQ(file.commit("new"), "");
  EXPECT_TRUE(fs::is_symlink(path("latest.json")));
  EXPECT_EQ(content(path("run1.json")), "new");
}

TEST_F(ResultFileTest, RejectsWhatCannotTakeAResultFile) {
  struct Case {
    std::string path;
    std::string expected;
  };
  fs::create_directories(path("sub"));
  fs::create_symlink(path("nowhere/x"), path("dangling"));
  const Case cases[] = {
      {"", "empty"},
      {"/dev/full", "not a regular file"},
      {"/dev/null", "not a regular file"},
      {path("sub"), "is a directory"},
      {path("sub") + "/", "is a directory"},
      {path("missing/r.json"), "does not exist"},
      {path("dangling"), "symbolic link to nothing"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path);
    EXPECT_NE(check_result_path(c.path).find(c.expected), std::string::npos)
        << check_result_path(c.path);
    ResultFile file;
    EXPECT_NE(file.open(c.path), "");
    EXPECT_FALSE(file.is_open());
  }
  EXPECT_EQ(entries(), 2u);  // sub and dangling: nothing created
}

TEST_F(ResultFileTest, RejectsAReadOnlyFileOrDirectoryWhenNotRoot) {
  if (::geteuid() == 0) GTEST_SKIP() << "root may write read-only files";
  { std::ofstream(path("ro.json")) << "keep"; }
  fs::permissions(path("ro.json"), fs::perms(0444));
  EXPECT_NE(check_result_path(path("ro.json")).find("not writable"), std::string::npos);
  fs::create_directories(path("ro"));
  fs::permissions(path("ro"), fs::perms(0555));
  EXPECT_NE(check_result_path(path("ro/r.json")).find("not writable"), std::string::npos);
}

TEST_F(ResultFileTest, CheckCreatesNothing) {
  EXPECT_EQ(check_result_path(path("r.json")), "");
  EXPECT_EQ(entries(), 0u);
}

}  // namespace
}  // namespace convoy
