#include "pool/cli/flags.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "pool/cli/git_commit.h"  // Generated at build time.
#include "pool/version.h"         // Generated at configure time.

namespace pool::cli {
namespace {

absl::Status set_flag(absl::CommandLineFlag& flag, std::string_view name, std::string_view value) {
  std::string error;
  if (!flag.ParseFrom(absl::string_view(value.data(), value.size()), &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag_name_dashed(name), "=", std::string(value), ": ", error));
  }
  return absl::OkStatus();
}

// The value of the flag at argv[index] ("--name=value" or "--name value"); moves index past it.
absl::StatusOr<std::string> flag_value(int argc, const char* const* argv, int& index,
                                       std::string_view body, std::string_view name) {
  const size_t equals = body.find('=');
  if (equals != std::string_view::npos) return std::string(body.substr(equals + 1));
  if (index + 1 < argc) {
    index += 1;
    return std::string(argv[index]);
  }
  return absl::InvalidArgumentError(absl::StrCat("--", flag_name_dashed(name), " needs a value"));
}

// --help and --version, which every tool has: true when `name` is one of them.
bool builtin_flag(std::string_view name, ParsedCommandLine& parsed) {
  if (name == "help" || name == "helpfull" || name == "h") {
    parsed.help = true;
    return true;
  }
  if (name == "version") {
    parsed.version = true;
    return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<ParsedCommandLine> parse_command_line(
    int argc, const char* const* argv, const std::set<std::string>& table_flag_names) {
  ParsedCommandLine parsed;
  bool flags_done = false;
  for (int index = 1; index < argc; index += 1) {
    const std::string_view argument = argv[index];
    if (flags_done || argument.size() < 2 || argument[0] != '-') {
      parsed.positional.emplace_back(argument);
      continue;
    }
    if (argument == "--") {
      flags_done = true;
      continue;
    }
    const std::string_view body = argument.substr(argument[1] == '-' ? 2 : 1);
    const size_t equals = body.find('=');
    // Abseil names flags with underscores; accept the dashed spelling too.
    std::string name_normalised(body.substr(0, equals));
    std::replace(name_normalised.begin(), name_normalised.end(), '-', '_');
    const std::string_view name = name_normalised;
    if (builtin_flag(name, parsed)) continue;
    if (table_flag_names.count(name_normalised) != 0) {
      absl::StatusOr<std::string> value = flag_value(argc, argv, index, body, name);
      if (!value.ok()) return value.status();
      parsed.table_flags.emplace_back(name_normalised, *std::move(value));
      parsed.flags_set.insert(name_normalised);
      continue;
    }
    absl::CommandLineFlag* flag =
        absl::FindCommandLineFlag(absl::string_view(name.data(), name.size()));
    std::string value;
    std::string flag_name(name);
    if (flag == nullptr && name.substr(0, 2) == "no" && equals == std::string_view::npos) {
      // --nofoo for a bool flag foo.
      absl::CommandLineFlag* negated =
          absl::FindCommandLineFlag(absl::string_view(name.data() + 2, name.size() - 2));
      if (negated != nullptr && negated->IsOfType<bool>()) {
        flag = negated;
        flag_name = std::string(name.substr(2));
        value = "false";
      }
    }
    if (flag == nullptr || flag->IsRetired()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", flag_name_dashed(name), " (see --help)"));
    }
    if (equals != std::string_view::npos) {
      value = std::string(body.substr(equals + 1));
    } else if (value.empty()) {
      if (flag->IsOfType<bool>()) {
        value = "true";
      } else if (index + 1 < argc) {
        index += 1;
        value = argv[index];
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("--", flag_name_dashed(name), " needs a value"));
      }
    }
    if (absl::Status status = set_flag(*flag, flag_name, value); !status.ok()) return status;
    parsed.flags_set.insert(flag_name);
  }
  return parsed;
}

std::string version_text(std::string_view program) {
  return absl::StrCat(std::string(program), " ", POOLSIM_VERSION, " (commit ", POOLSIM_GIT_COMMIT,
                      ")");
}

std::string help_text(std::string_view usage, const std::vector<std::string>& flag_path_substrings,
                      const std::vector<std::pair<std::string, std::string>>& table_flags) {
  std::vector<absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    const std::string file = flag->Filename();
    const bool ours =
        std::any_of(flag_path_substrings.begin(), flag_path_substrings.end(),
                    [&](const std::string& part) { return file.find(part) != std::string::npos; });
    if (ours) flags.push_back(flag);
  }
  // GetAllFlags is a hash map: sort so that the text is the same on every run.
  std::sort(flags.begin(), flags.end(),
            [](const auto* left, const auto* right) { return left->Name() < right->Name(); });
  std::string text(usage);
  text += "\n\nFlags:\n";
  for (const absl::CommandLineFlag* flag : flags) {
    absl::StrAppend(
        &text, "  --", flag_name_dashed(std::string(flag->Name())), "\n      ", flag->Help(),
        " (default: ", flag->DefaultValue().empty() ? "\"\"" : flag->DefaultValue(), ")\n");
  }
  text += "  --help\n      Print this text and exit.\n";
  text += "  --version\n      Print the version and the build's commit, and exit.\n";
  if (!table_flags.empty()) {
    text +=
        "\nOptions (each as the seed chooses unless given; --seed defaults to a random seed, "
        "--profile to test_min; ranges with the other options at their defaults):\n";
  }
  for (const auto& [name, help] : table_flags) {
    absl::StrAppend(&text, "  --", flag_name_dashed(name), "\n      ", help, "\n");
  }
  return text;
}

std::string flag_name_dashed(std::string_view name) {
  std::string dashed(name);
  std::replace(dashed.begin(), dashed.end(), '_', '-');
  return dashed;
}

absl::Status flag_one_of(std::string_view flag, std::string_view value,
                         const std::vector<std::string_view>& accepted) {
  if (std::find(accepted.begin(), accepted.end(), value) != accepted.end()) {
    return absl::OkStatus();
  }
  std::vector<std::string> accepted_text(accepted.begin(), accepted.end());
  return absl::InvalidArgumentError(absl::StrCat("--", std::string(flag), "=", std::string(value),
                                                 " is not accepted: one of ",
                                                 absl::StrJoin(accepted_text, "|")));
}

void exit_bad_input(std::string_view program, const absl::Status& status) {
  const absl::string_view message = status.message();
  std::fprintf(stderr, "%.*s: %.*s\n", static_cast<int>(program.size()), program.data(),
               static_cast<int>(message.size()), message.data());
  std::exit(2);
}

}  // namespace pool::cli
