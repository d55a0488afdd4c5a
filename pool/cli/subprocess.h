// Runs a command as a user would, for the CLIs' tests: its exit code and its output.
#pragma once

#include <string>

namespace pool::cli {

struct ProcessResult {
  int exit_code;       // -1 if it did not exit normally (a signal).
  std::string output;  // stdout and stderr together.
};

// Runs `command` through /bin/sh with stderr folded into stdout.
ProcessResult run_command(const std::string& command);

}  // namespace pool::cli
