// Turning fuzzer bytes into choices, and choices back into bytes. The reader never fails: past
// the end it yields zeros (like FuzzedDataProvider, which only clang ships), so every input
// decodes to something. The writer is its inverse, for the corpus generator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace fuzz {

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}

  bool empty() const { return offset_ >= data_.size(); }
  size_t remaining() const { return empty() ? 0 : data_.size() - offset_; }

  uint8_t u8() {
    if (empty()) return 0;
    return data_[offset_++];
  }
  uint16_t u16() { return static_cast<uint16_t>(u8() | (u8() << 8)); }
  uint32_t u32() { return static_cast<uint32_t>(u16()) | (static_cast<uint32_t>(u16()) << 16); }
  uint64_t u64() { return static_cast<uint64_t>(u32()) | (static_cast<uint64_t>(u32()) << 32); }
  // A value in [0, bound) (bound > 0) from one byte, or two when bound > 256.
  uint32_t below(uint32_t bound) {
    const uint32_t raw = bound <= 256 ? u8() : u16();
    return raw % bound;
  }
  // Up to `size` bytes (fewer at the end).
  std::span<const uint8_t> bytes(size_t size) {
    const size_t count = size < remaining() ? size : remaining();
    const std::span<const uint8_t> result = data_.subspan(empty() ? data_.size() : offset_, count);
    offset_ += count;
    return result;
  }
  // Everything left.
  std::span<const uint8_t> rest() { return bytes(remaining()); }

 private:
  std::span<const uint8_t> data_;
  size_t offset_ = 0;
};

class ByteWriter {
 public:
  void u8(uint8_t value) { bytes_.push_back(value); }
  void u16(uint16_t value) {
    u8(static_cast<uint8_t>(value));
    u8(static_cast<uint8_t>(value >> 8));
  }
  void u32(uint32_t value) {
    u16(static_cast<uint16_t>(value));
    u16(static_cast<uint16_t>(value >> 16));
  }
  void u64(uint64_t value) {
    u32(static_cast<uint32_t>(value));
    u32(static_cast<uint32_t>(value >> 32));
  }
  // The encoding `below(bound)` decodes to `value`.
  void below(uint32_t bound, uint32_t value) {
    if (bound <= 256) {
      u8(static_cast<uint8_t>(value));
    } else {
      u16(static_cast<uint16_t>(value));
    }
  }
  void bytes(std::span<const uint8_t> data) {
    bytes_.insert(bytes_.end(), data.begin(), data.end());
  }
  const std::vector<uint8_t>& data() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace fuzz
