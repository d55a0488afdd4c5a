#include "pool/cli/subprocess.h"

#include <sys/wait.h>

#include <cstdio>

namespace pool::cli {

ProcessResult run_command(const std::string& command) {
  ProcessResult result{-1, ""};
  const std::string folded = command + " 2>&1";
  FILE* pipe = popen(folded.c_str(), "r");
  if (pipe == nullptr) return result;
  char chunk[4096];
  size_t read = 0;
  while ((read = fread(chunk, 1, sizeof(chunk), pipe)) > 0) result.output.append(chunk, read);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string shell_quoted(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace pool::cli
