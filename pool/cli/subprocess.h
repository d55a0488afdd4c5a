// Runs a command as a user would (the CLIs' tests, sim's single runs of a sweep's crashed seeds):
// its exit code and its output.
#pragma once

#include <string>
#include <string_view>

namespace pool::cli {

struct ProcessResult {
  int exit_code;       // -1 if it did not exit normally (a signal).
  std::string output;  // stdout and stderr together.
};

// Runs `command` through /bin/sh with stderr folded into stdout.
ProcessResult run_command(const std::string& command);

// 'text' as one word for /bin/sh, whatever it holds.
std::string shell_quoted(std::string_view text);

}  // namespace pool::cli
