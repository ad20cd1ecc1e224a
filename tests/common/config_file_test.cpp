#include "convoy/config_file.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace convoy {
namespace {

std::string write_config(const std::string& text) {
  static int counter = 0;
  const auto path =
      std::filesystem::path(::testing::TempDir()) /
      ("convoy-config-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".toml");
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

// The problem reported for a file with `text`, with the file name taken out.
std::string problem(const std::string& text) {
  const auto path = write_config(text);
  std::string why = check_config_file(path);
  std::filesystem::remove(path);
  const auto at = why.find(path);
  if (at != std::string::npos) why.erase(at, path.size());
  return why;
}

TEST(ConfigFileTest, AcceptsTheSubsetBothProgramsWrite) {
  EXPECT_EQ(problem(""), "");
  EXPECT_EQ(problem("# convoy-server: a comment\n\n"
                    "policy = \"py3\"\n"
                    "switch-interval = '5ms'   # trailing comment\n"
                    "cpu-threads = 2\n"
                    "bytecode-ns = 2.5e1\n"
                    "force-switching = true\n"
                    "cpus = [0, 1]\n"
                    "hosts = [\n  \"a\",\n  \"b\", # two\n]\n"
                    "[table]\n"
                    "policy = \"none\"\n"),
            "");
}

TEST(ConfigFileTest, NamesTheLineOfAMalformedValue) {
  EXPECT_EQ(problem("cpu-threads = 1\npolicy = \"py3\n"),
            "--config :2: unterminated string (no closing \")");
  EXPECT_NE(problem("policy = \"py3\" extra\n").find(":1: unexpected text after the value"),
            std::string::npos);
  EXPECT_NE(problem("\n\ncpus = [0, 1\n").find(":3: unterminated array"), std::string::npos);
  EXPECT_NE(problem("policy\n").find(":1: expected key = value"), std::string::npos);
  EXPECT_NE(problem("policy =\n").find(":1: no value"), std::string::npos);
  EXPECT_NE(problem("= 3\n").find(":1: no key"), std::string::npos);
  EXPECT_NE(problem("a b = 3\n").find(":1: not a key"), std::string::npos);
  EXPECT_NE(problem("x = {a = 1}\n").find(":1: a value must be"), std::string::npos);
  EXPECT_NE(problem("x = ]\n").find(":1: unmatched ]"), std::string::npos);
  EXPECT_NE(problem("x = \"\"\"a\"\"\"\n").find(":1: multi-line strings"), std::string::npos);
  EXPECT_NE(problem("host = \"a#b\"\n").find(":1: a '#' inside a string"), std::string::npos);
  EXPECT_NE(problem("a = 1\nb = 2\na = 3\n").find(":3: 'a' is set twice (first on line 1)"),
            std::string::npos);
  EXPECT_NE(problem("[t\n").find(":1: a [table] header"), std::string::npos);
  EXPECT_NE(problem(std::string("a = 1\0", 6)).find("NUL byte"), std::string::npos);
}

TEST(ConfigFileTest, RejectsWhatIsNotASmallRegularFile) {
  EXPECT_NE(check_config_file("/dev/zero").find("not a regular file"), std::string::npos);
  EXPECT_NE(check_config_file("/").find("is a directory"), std::string::npos);
  EXPECT_NE(check_config_file("/nonexistent/c.toml").find("No such file"), std::string::npos);
  const auto big = write_config("policy = \"" + std::string(kMaxConfigBytes, 'x') + "\"\n");
  const auto why = check_config_file(big);
  std::filesystem::remove(big);
  EXPECT_NE(why.find("a configuration file may have at most"), std::string::npos) << why;
  EXPECT_LT(why.size(), 300u);
}

TEST(ConfigFileTest, FindsEveryConfigArgument) {
  const char* argv[] = {"prog", "--config", "a.toml", "-p", "1", "--config=b.toml",
                        "--",   "--config", "c"};
  EXPECT_EQ(config_file_arguments(9, argv), (std::vector<std::string>{"a.toml", "b.toml"}));
  const char* zero[] = {"prog", "--config", "/dev/zero"};
  EXPECT_NE(check_config_arguments(3, zero).find("/dev/zero"), std::string::npos);
  const char* none[] = {"prog", "--config"};
  EXPECT_EQ(check_config_arguments(2, none), "");  // CLI11 reports the missing value
}

TEST(ConfigFileTest, FindsTheLineOfAKey) {
  const auto path = write_config("# x\nport = 1\n\npolicy = \"py3\"\n");
  EXPECT_EQ(config_key_line(path, "policy"), 4);
  EXPECT_EQ(config_key_line(path, "port"), 2);
  EXPECT_EQ(config_key_line(path, "host"), 0);
  std::filesystem::remove(path);
}

TEST(ConfigFileTest, OneLineCutsLongAndMultiLineText) {
  EXPECT_EQ(one_line("short"), "short");
  EXPECT_EQ(one_line("first\nsecond"), "first [...]");
  const std::string cut = one_line(std::string(10'000'000, 'x'), 100);
  EXPECT_LT(cut.size(), 140u);
  EXPECT_NE(cut.find("10000000 bytes in all"), std::string::npos) << cut;
}

}  // namespace
}  // namespace convoy
