#include "sim/core/trace.h"

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstring>

#include "pool/assertion.h"

namespace sim {

const char* trace_kind_name(TraceKind kind) {
  switch (kind) {
    case TraceKind::send:
      return "send";
    case TraceKind::deliver:
      return "deliver";
    case TraceKind::drop:
      return "drop";
    case TraceKind::invalid:
      return "invalid";
    case TraceKind::journal_write:
      return "journal_write";
    case TraceKind::journal_read:
      return "journal_read";
    case TraceKind::reply_write:
      return "reply_write";
    case TraceKind::reply_read:
      return "reply_read";
    case TraceKind::timeout:
      return "timeout";
    case TraceKind::prepare:
      return "prepare";
    case TraceKind::commit:
      return "commit";
    case TraceKind::request:
      return "request";
    case TraceKind::reply:
      return "reply";
    case TraceKind::crash:
      return "crash";
    case TraceKind::restart:
      return "restart";
    case TraceKind::recovered:
      return "recovered";
    case TraceKind::partition:
      return "partition";
    case TraceKind::heal:
      return "heal";
    case TraceKind::clog:
      return "clog";
    case TraceKind::faults_off:
      return "faults_off";
    case TraceKind::view_change:
      return "view_change";
    case TraceKind::view_log_chosen:
      return "view_log_chosen";
    case TraceKind::view_truncate:
      return "view_truncate";
    case TraceKind::view_start:
      return "view_start";
    case TraceKind::checkpoint:
      return "checkpoint";
    case TraceKind::sync_start:
      return "sync_start";
    case TraceKind::sync_done:
      return "sync_done";
    case TraceKind::block_repaired:
      return "block_repaired";
    case TraceKind::connection:
      return "connection";
  }
  return "unknown";
}

void Trace::record(const TraceRecord& record) {
  counts_[static_cast<size_t>(record.kind)] += 1;
  // Serialise field by field (no padding bytes reach the hash), after the previous hash.
  std::array<uint8_t, 16 + 8 + 4 + 16> bytes{};
  size_t offset = 0;
  auto put = [&](const void* data, size_t size) {
    std::memcpy(bytes.data() + offset, data, size);
    offset += size;
  };
  put(&hash_.low, 8);
  put(&hash_.high, 8);
  put(&record.tick, 8);
  const std::array<uint8_t, 4> small = {static_cast<uint8_t>(record.kind), record.process,
                                        record.peer, record.command};
  put(small.data(), small.size());
  put(&record.a, 8);
  put(&record.b, 8);
  POOL_ASSERT_EQ(offset, bytes.size());
  hash_ = pool::checksum(bytes);
  if (keep_chain_) {
    chain_.push_back(hash_);
    records_.push_back(record);
  }
  if (sink_ != nullptr) sink_(sink_context_, events_count_, record, hash_);
  events_count_ += 1;
}

namespace {

std::string process_label(uint8_t process, uint32_t member_count) {
  if (process == network_process_id) return "net";
  if (process < member_count) return "r" + std::to_string(process);
  return "c" + std::to_string(process - member_count);
}

}  // namespace

std::string trace_record_describe(const TraceRecord& record, uint32_t member_count) {
  std::string text = "tick " + std::to_string(record.tick) + " " +
                     process_label(record.process, member_count) + " " +
                     trace_kind_name(record.kind);
  if (record.kind == TraceKind::send || record.kind == TraceKind::deliver ||
      record.kind == TraceKind::drop || record.kind == TraceKind::invalid ||
      record.kind == TraceKind::clog || record.kind == TraceKind::connection) {
    text += (record.kind == TraceKind::deliver ? " from " : " to ") +
            process_label(record.peer, member_count);
    text += " " + std::string(pool::command_name(record.command));
  }
  char numbers[64];
  std::snprintf(numbers, sizeof(numbers), " a=%" PRIu64 " b=%" PRIu64, record.a, record.b);
  return text + numbers;
}

std::optional<size_t> first_divergence(const std::vector<pool::U128>& a,
                                       const std::vector<pool::U128>& b) {
  const size_t common = std::min(a.size(), b.size());
  for (size_t index = 0; index < common; index++) {
    if (a[index] != b[index]) return index;
  }
  if (a.size() != b.size()) return common;
  return std::nullopt;
}

std::string hash_hex(const pool::U128& hash) {
  char text[33];
  std::snprintf(text, sizeof(text), "%016" PRIx64 "%016" PRIx64, hash.high, hash.low);
  return text;
}

}  // namespace sim
