#include "pool/cli/flags.h"

#include <gtest/gtest.h>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"

ABSL_FLAG(int64_t, test_count, 1, "A count for the parser's tests.");
ABSL_FLAG(bool, test_verbose, false, "A switch for the parser's tests.");
ABSL_FLAG(std::string, test_name, "none", "A name for the parser's tests.");

namespace pool::cli {
namespace {

class ParseCommandLine : public ::testing::Test {
 protected:
  absl::FlagSaver saver_;  // Restores every flag after each test.

  static absl::StatusOr<ParsedCommandLine> parse(std::vector<const char*> arguments) {
    arguments.insert(arguments.begin(), "tool");
    return parse_command_line(static_cast<int>(arguments.size()), arguments.data());
  }
};

TEST_F(ParseCommandLine, SetsFlagsInEverySpelling) {
  auto parsed = parse({"--test_count=5", "--test-name", "alpha", "-test_verbose"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 5);
  EXPECT_EQ(absl::GetFlag(FLAGS_test_name), "alpha");
  EXPECT_TRUE(absl::GetFlag(FLAGS_test_verbose));
  EXPECT_EQ(parsed->flags_set, (std::set<std::string>{"test_count", "test_name", "test_verbose"}));
}

TEST_F(ParseCommandLine, NegatesBoolFlags) {
  absl::SetFlag(&FLAGS_test_verbose, true);
  auto parsed = parse({"--notest_verbose"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(absl::GetFlag(FLAGS_test_verbose));
}

TEST_F(ParseCommandLine, KeepsPositionalArgumentsAndStopsAtDoubleDash) {
  auto parsed = parse({"file.bin", "--test_count=2", "--", "--test_count=3"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->positional, (std::vector<std::string>{"file.bin", "--test_count=3"}));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 2);
}

TEST_F(ParseCommandLine, UnknownFlagIsAnErrorNamingIt) {
  auto parsed = parse({"--test_cuont=5"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "unknown flag --test-cuont (see --help)");
}

TEST_F(ParseCommandLine, MalformedValueIsAnErrorNamingTheFlag) {
  auto parsed = parse({"--test_count=lots"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("--test-count=lots"), absl::string_view::npos);
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 1) << "a rejected value leaves the flag unchanged";
}

TEST_F(ParseCommandLine, MissingValueIsAnError) {
  auto parsed = parse({"--test_name"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "--test-name needs a value");
}

TEST_F(ParseCommandLine, HelpIsReportedNotExecuted) {
  auto parsed = parse({"--help"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->help);
}

TEST_F(ParseCommandLine, VersionIsReportedNotExecuted) {
  auto parsed = parse({"--version"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->version);
  EXPECT_FALSE(parsed->help);
}

TEST(HelpText, ListsOnlyTheToolsFlagsSortedWithDefaults) {
  const std::string text = help_text("usage: tool", {"flags_test"});
  const size_t count = text.find("--test-count");
  const size_t name = text.find("--test-name");
  const size_t verbose = text.find("--test-verbose");
  ASSERT_NE(count, std::string::npos);
  EXPECT_LT(count, name);
  EXPECT_LT(name, verbose);
  EXPECT_NE(text.find("A count for the parser's tests. (default: 1)"), std::string::npos);
  EXPECT_EQ(help_text("usage: tool", {"no_such_source"}).find("--test-count"), std::string::npos)
      << "flags from other source files are left out";
}

TEST(FlagNameDashed, ReplacesUnderscores) {
  EXPECT_EQ(flag_name_dashed("pipeline_requests_limit"), "pipeline-requests-limit");
}

TEST(FlagOneOf, NamesTheAcceptedValues) {
  EXPECT_TRUE(flag_one_of("bus", "tcp", {"tcp", "testing"}).ok());
  EXPECT_EQ(flag_one_of("bus", "udp", {"tcp", "testing"}).message(),
            "--bus=udp is not accepted: one of tcp|testing");
}

}  // namespace
}  // namespace pool::cli
