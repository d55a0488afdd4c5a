// Replays fuzz inputs without libFuzzer: each argument is a file, or a directory whose files
// (not its subdirectories or dotfiles) are replayed in name order. Linked once per target, so that
// the corpus and every regression replay under gcc in ctest. Exit 0 when every input ran, 2 on a
// path that cannot be read; a failing input aborts, as it does under libFuzzer.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool replay_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return false;
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)),
                                   std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help") {
    std::fprintf(argc < 2 ? stderr : stdout, "usage: %s FILE_OR_DIRECTORY...\n", argv[0]);
    return argc < 2 ? 2 : 0;
  }
  size_t replayed = 0;
  for (int index = 1; index < argc; index++) {
    const std::filesystem::path path = argv[index];
    std::error_code error;
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(path, error)) {
      for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
        // Dotfiles (a .gitkeep in an empty regressions/) are not inputs.
        if (entry.is_regular_file() && entry.path().filename().string().front() != '.') {
          files.push_back(entry.path());
        }
      }
      if (error) {
        std::fprintf(stderr, "%s: %s: %s\n", argv[0], argv[index], error.message().c_str());
        return 2;
      }
      std::sort(files.begin(), files.end());
    } else if (std::filesystem::is_regular_file(path, error)) {
      files.push_back(path);
    } else {
      std::fprintf(stderr, "%s: %s: no such file or directory\n", argv[0], argv[index]);
      return 2;
    }
    for (const auto& file : files) {
      if (!replay_file(file)) {
        std::fprintf(stderr, "%s: %s: cannot read\n", argv[0], file.c_str());
        return 2;
      }
      replayed += 1;
    }
  }
  std::printf("replayed %zu inputs\n", replayed);
  if (replayed == 0) {
    std::fprintf(stderr, "%s: no inputs in the paths given\n", argv[0]);
    return 2;
  }
  return 0;
}
