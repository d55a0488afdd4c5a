// Command-line parsing for poolsim's tools over Abseil flags, with our error contract: every bad
// input (unknown flag, malformed or out-of-range value) is one line naming the flag, and exit
// code 2; `--help` prints every flag of the tool and exits 0. Abseil's own ParseCommandLine
// exits 1 on bad input, which would read as a failed simulation.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pool::cli {

struct ParsedCommandLine {
  std::vector<std::string> positional;  // Arguments that are not flags, in order.
  std::set<std::string> flags_set;      // Names of the flags given on the command line.
  bool help = false;                    // --help was given.
  bool version = false;                 // --version was given.
  // Flags of the tool's own table (not Abseil flags), as given: (name with underscores, value).
  std::vector<std::pair<std::string, std::string>> table_flags;
};

// Parses argv into the registered Abseil flags. Accepts --name=value, --name value, -name,
// --bool, --nobool and "--" (the rest is positional).
// `table_flag_names` (underscores) are flags a tool declares in a table of its own: their values
// are collected in table_flags, never parsed here.
absl::StatusOr<ParsedCommandLine> parse_command_line(
    int argc, const char* const* argv, const std::set<std::string>& table_flag_names = {});

// Usage text: `usage`, then each flag defined in a source file whose path contains one of
// `flag_path_substrings`, sorted by name, with its help and default.
// `table_flags` (name with underscores, help) join them, in the same order.
std::string help_text(std::string_view usage, const std::vector<std::string>& flag_path_substrings,
                      const std::vector<std::pair<std::string, std::string>>& table_flags = {});

// "<program> 0.16.0 (commit 4e3e404c1a2b)": what --version prints.
std::string version_text(std::string_view program);

// "pipeline-requests-limit" for Abseil's "pipeline_requests_limit": how users spell flags.
std::string flag_name_dashed(std::string_view name);

// One of `accepted` or an error naming the flag and the accepted values.
absl::Status flag_one_of(std::string_view flag, std::string_view value,
                         const std::vector<std::string_view>& accepted);

// Prints "<program>: <message>" on one line to stderr and exits 2 (bad input).
[[noreturn]] void exit_bad_input(std::string_view program, const absl::Status& status);

}  // namespace pool::cli
