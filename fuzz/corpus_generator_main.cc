// corpus-generator: writes the seed inputs of every fuzz target, made with the targets' own
// encoders (so each file means something), into corpus/<target>/. A file already there with the
// same bytes is left alone; one with other bytes is never overwritten (exit 2).
// Usage: corpus-generator --out=DIR (the repository's corpus/).
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "fuzz/message_cast.h"
#include "fuzz/pool_lifecycle.h"
#include "fuzz/sim_case.h"
#include "pool/cli/flags.h"
#include "pool/message_pool.h"

ABSL_FLAG(std::string, out, "", "The corpus directory (one subdirectory per target).");

namespace {

using fuzz::LifecycleOp;
using fuzz::LifecycleStep;
using pool::Command;

constexpr std::string_view program = "corpus-generator";

struct Input {
  std::string target;
  std::string name;
  std::vector<uint8_t> bytes;
};

std::vector<Input> lifecycle_inputs() {
  using S = LifecycleStep;
  std::vector<std::pair<std::string, std::vector<S>>> cases = {
      {"get_unref", {{LifecycleOp::get, 0, 0, 0, 0}, {LifecycleOp::unref, 0, 0, 0, 0}}},
      {"ref_twice_unref_thrice",
       {{LifecycleOp::get, 0, 0, 0, 0},
        {LifecycleOp::ref, 0, 0, 0, 0},
        {LifecycleOp::ref, 0, 0, 0, 0},
        {LifecycleOp::unref, 0, 0, 0, 0},
        {LifecycleOp::unref, 0, 0, 0, 0},
        {LifecycleOp::unref, 0, 0, 0, 0}}},
      {"body_write_read_release",
       {{LifecycleOp::get, 0, 0, 0, 0},
        {LifecycleOp::body_write, 0, 0, 1000, 0x5C},
        {LifecycleOp::body_read, 0, 0, 0, 0},
        {LifecycleOp::unref, 0, 0, 0, 0}}},
      {"body_largest",
       {{LifecycleOp::get, 0, 0, 0, 0},
        {LifecycleOp::body_write, 0, 0, 3840, 0x11},
        {LifecycleOp::body_read, 0, 0, 0, 0},
        {LifecycleOp::unref, 0, 0, 0, 0}}},
      {"fill_the_pool_then_reset",
       {{LifecycleOp::get, 0, 0, 0, 0},
        {LifecycleOp::get, 0, 0, 0, 0},
        {LifecycleOp::get, 0, 0, 0, 0},
        {LifecycleOp::get, 0, 0, 0, 0},
        {LifecycleOp::get, 0, 0, 0, 0},
        {LifecycleOp::get, 0, 0, 0, 0},
        {LifecycleOp::get, 0, 0, 0, 0},
        {LifecycleOp::reset, 0, 0, 0, 0}}},
      {"shared_then_reused",
       {{LifecycleOp::get, 0, 0, 0, 0},
        {LifecycleOp::ref, 0, 0, 0, 0},
        {LifecycleOp::body_write, 0, 0, 64, 0xEE},
        {LifecycleOp::unref, 0, 0, 0, 0},
        {LifecycleOp::unref, 0, 0, 0, 0},
        {LifecycleOp::get, 0, 0, 0, 0},
        {LifecycleOp::body_read, 0, 0, 0, 0}}},
  };
  // Every command: typed get, into for its own and the next command, into_any, release.
  for (uint8_t command = 0; command < pool::commands_known.size(); command++) {
    cases.push_back({"typed_" + std::string(pool::command_name(pool::commands_known[command])),
                     {{LifecycleOp::get_typed, 0, command, 0, 0},
                      {LifecycleOp::into, 0, command, 0, 0},
                      {LifecycleOp::into, 0, static_cast<uint8_t>(command + 1), 0, 0},
                      {LifecycleOp::into_any, 0, 0, 0, 0},
                      {LifecycleOp::unref, 0, 0, 0, 0}}});
  }
  std::vector<Input> inputs;
  for (const auto& [name, steps] : cases) {
    inputs.push_back({"pool_lifecycle", name, fuzz::pool_lifecycle_encode(steps)});
  }
  return inputs;
}

// A valid header of `command` with `body`, checksummed.
pool::Header valid_header(Command command, std::span<const uint8_t> body) {
  pool::Header header{};
  header.frame.cluster = {7, 0};
  header.frame.size = pool::header_size + static_cast<uint32_t>(body.size());
  header.frame.protocol = pool::protocol_version;
  header.frame.command = command;
  // Each command's own fields, through its typed header.
  auto as = [&]<Command command>() { return reinterpret_cast<pool::HeaderOf<command>*>(&header); };
  switch (command) {
    case Command::ping: {
      auto* ping = as.template operator()<Command::ping>();
      ping->frame.release = 1;
      ping->ping_timestamp_monotonic = 5;
      ping->release_count = 1;
      break;
    }
    case Command::pong: {
      auto* pong = as.template operator()<Command::pong>();
      pong->frame.release = 1;
      pong->ping_timestamp_monotonic = 5;
      pong->pong_timestamp_wall = 6;
      break;
    }
    case Command::request: {
      auto* request = as.template operator()<Command::request>();
      request->frame.release = 1;
      request->client = {1, 0};
      request->operation = 2;
      break;
    }
    case Command::prepare: {
      auto* prepare = as.template operator()<Command::prepare>();
      prepare->op = 3;
      prepare->commit = 2;
      prepare->operation = 2;
      break;
    }
    case Command::reply: {
      auto* reply = as.template operator()<Command::reply>();
      reply->frame.release = 1;
      reply->client = {1, 0};
      reply->op = reply->commit = 4;
      reply->timestamp = 9;
      break;
    }
    case Command::commit: {
      auto* commit = as.template operator()<Command::commit>();
      commit->commit = 4;
      commit->timestamp_monotonic = 8;
      break;
    }
    case Command::get_headers: {
      auto* get = as.template operator()<Command::get_headers>();
      get->op_min = 1;
      get->op_max = 9;
      break;
    }
    default:
      break;
  }
  pool::header_set_checksums(header, body);
  return header;
}

std::vector<Input> cast_inputs() {
  std::vector<Input> inputs;
  const std::vector<uint8_t> empty;
  const std::vector<uint8_t> body(300, 0x42);
  for (Command command : {Command::ping, Command::pong, Command::commit, Command::get_headers}) {
    const pool::Header header = valid_header(command, empty);
    inputs.push_back({"message_cast", "valid_" + std::string(pool::command_name(command)),
                      fuzz::message_cast_encode(header, empty, false)});
  }
  for (Command command : {Command::request, Command::prepare, Command::reply}) {
    const pool::Header header = valid_header(command, body);
    inputs.push_back({"message_cast", "valid_" + std::string(pool::command_name(command)),
                      fuzz::message_cast_encode(header, body, false)});
  }
  pool::Header header = valid_header(Command::prepare, body);
  header.frame.checksum.low ^= 1;
  inputs.push_back(
      {"message_cast", "checksum_mismatch", fuzz::message_cast_encode(header, body, false)});
  header = valid_header(Command::prepare, body);
  inputs.push_back({"message_cast", "body_truncated",
                    fuzz::message_cast_encode(header, std::span(body).first(100), false)});
  std::vector<uint8_t> other = body;
  other[7] ^= 1;
  inputs.push_back(
      {"message_cast", "checksum_body_mismatch", fuzz::message_cast_encode(header, other, false)});
  for (uint8_t wire : {uint8_t{12}, uint8_t{99}}) {
    header = valid_header(Command::ping, empty);
    header.frame.command = static_cast<Command>(wire);
    pool::header_set_checksums(header, empty);
    inputs.push_back({"message_cast", wire == 12 ? "command_retired" : "command_unknown",
                      fuzz::message_cast_encode(header, empty, false)});
  }
  header = valid_header(Command::ping, empty);
  header.frame.size = 5000;  // Beyond message_size_max: the checksum is right, the size not.
  header.frame.checksum = pool::header_checksum_calculate(header);
  inputs.push_back(
      {"message_cast", "size_too_large", fuzz::message_cast_encode(header, empty, false)});
  header = valid_header(Command::ping, empty);
  header.frame.epoch = 1;
  pool::header_set_checksums(header, empty);
  inputs.push_back(
      {"message_cast", "epoch_nonzero", fuzz::message_cast_encode(header, empty, false)});
  header = valid_header(Command::prepare, empty);
  header.frame.protocol = 2;
  pool::header_set_checksums(header, empty);
  inputs.push_back(
      {"message_cast", "protocol_wrong", fuzz::message_cast_encode(header, empty, false)});
  // Sealed: the harness recomputes the checksums, so a broken field is what gets rejected.
  header = valid_header(Command::prepare, empty);
  reinterpret_cast<pool::PrepareHeader*>(&header)->commit = 3;  // commit >= op.
  inputs.push_back({"message_cast", "sealed_prepare_commit_not_below_op",
                    fuzz::message_cast_encode(header, empty, true)});
  header = valid_header(Command::ping, empty);
  header.frame.release = 0;
  inputs.push_back(
      {"message_cast", "sealed_ping_release_zero", fuzz::message_cast_encode(header, empty, true)});
  return inputs;
}

std::vector<Input> sim_inputs() {
  std::vector<Input> inputs;
  for (uint8_t replicas = 0; replicas < 6; replicas++) {
    const fuzz::SimCase quiet{replicas + 1u, replicas, 0, 3, 0, 20, 1};
    inputs.push_back({"sim", "replicas_" + std::to_string(replicas + 1) + "_testing_light_faults",
                      fuzz::sim_case_encode(quiet)});
    const fuzz::SimCase tcp{replicas + 100u, replicas, 1, 6, 1, 30, 0};
    inputs.push_back({"sim", "replicas_" + std::to_string(replicas + 1) + "_tcp_swarm_faults",
                      fuzz::sim_case_encode(tcp)});
  }
  inputs.push_back({"sim", "three_replicas_heavy_faults",
                    fuzz::sim_case_encode(fuzz::SimCase{42, 2, 1, 4, 1, 39, 250})});
  return inputs;
}

// 0 written, 1 already there, 2 refused (other bytes under that name).
int write_input(const std::filesystem::path& directory, const Input& input) {
  const std::filesystem::path path = directory / input.target / input.name;
  std::error_code error;
  if (std::filesystem::exists(path, error)) {
    std::ifstream file(path, std::ios::binary);
    const std::vector<uint8_t> existing((std::istreambuf_iterator<char>(file)),
                                        std::istreambuf_iterator<char>());
    return existing == input.bytes ? 1 : 2;
  }
  std::filesystem::create_directories(path.parent_path(), error);
  std::ofstream file(path, std::ios::binary);
  file.write(reinterpret_cast<const char*>(input.bytes.data()),
             static_cast<std::streamsize>(input.bytes.size()));
  return file ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = pool::cli::parse_command_line(argc, argv);
  if (!parsed.ok()) pool::cli::exit_bad_input(program, parsed.status());
  if (parsed->help) {
    std::printf("%s", pool::cli::help_text("usage: corpus-generator --out=DIR",
                                           {"corpus_generator_main.cc"})
                          .c_str());
    return 0;
  }
  const std::string out = absl::GetFlag(FLAGS_out);
  std::error_code error;
  if (out.empty() || !std::filesystem::is_directory(out, error)) {
    pool::cli::exit_bad_input(program,
                              absl::InvalidArgumentError("--out=" + out + " is not a directory"));
  }
  size_t written = 0, kept = 0;
  for (const auto& inputs : {lifecycle_inputs(), cast_inputs(), sim_inputs()}) {
    for (const Input& input : inputs) {
      const int result = write_input(out, input);
      if (result == 2) {
        pool::cli::exit_bad_input(
            program, absl::InvalidArgumentError(out + "/" + input.target + "/" + input.name +
                                                " exists with other bytes; not overwritten"));
      }
      (result == 0 ? written : kept) += 1;
    }
  }
  std::printf("corpus-generator: %zu inputs written, %zu already there\n", written, kept);
  return 0;
}
