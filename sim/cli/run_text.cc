#include "sim/cli/run_text.h"

#include <cstdarg>
#include <cstdio>

#include "sim/options.h"

namespace sim {
namespace {

// printf's formatting, appended to `text` (the same bytes printf would write).
[[gnu::format(printf, 2, 3)]] void append_format(std::string& text, const char* format, ...) {
  va_list arguments;
  va_start(arguments, format);
  va_list measure;
  va_copy(measure, arguments);
  const int length = std::vsnprintf(nullptr, 0, format, measure);
  va_end(measure);
  if (length > 0) {
    const size_t size = text.size();
    text.resize(size + static_cast<size_t>(length) + 1);
    std::vsnprintf(text.data() + size, static_cast<size_t>(length) + 1, format, arguments);
    text.resize(size + static_cast<size_t>(length));
  }
  va_end(arguments);
}

unsigned long long ull(uint64_t value) { return static_cast<unsigned long long>(value); }

void append_figures(std::string& text, const Summary& summary) {
  const Options& options = summary.options;
  append_format(text,
                "summary: seed %llu, %s, %s bus, %llu replicas + %llu standbys, %llu clients, "
                "pipeline_requests_limit %llu\n",
                ull(options.seed), options.profile.c_str(),
                std::string(pool::message_bus_name(options.bus)).c_str(),
                ull(options.replica_count), ull(options.standby_count), ull(options.client_count),
                ull(options.replica.pipeline_requests_limit));
  append_format(text,
                "ticks %llu, events %llu, requests committed %llu (ops %llu), requests answered "
                "%llu, crashes %llu\n"
                "view changes %llu (views started %llu, truncations %llu), checkpoints %llu, "
                "syncs %llu, grid blocks repaired %llu\n",
                ull(summary.ticks), ull(summary.events), ull(summary.requests_committed),
                ull(summary.ops_committed), ull(summary.requests_answered), ull(summary.crashes),
                ull(summary.view_changes), ull(summary.views_started),
                ull(summary.view_truncations), ull(summary.checkpoints), ull(summary.syncs),
                ull(summary.blocks_repaired));
}

void append_pools(std::string& text, const Summary& summary) {
  text += "pools (peak / messages_max; per term peak/bound):\n";
  for (const PoolSummary& pool_summary : summary.pools) {
    std::string terms;
    for (const TermPeak& term : pool_summary.terms) {
      if (term.peak == 0 && term.bound == 0) continue;
      terms += " " + std::string(pool::term_name(term.term)) + " " + std::to_string(term.peak) +
               "/" + std::to_string(term.bound);
    }
    if (!pool_summary.transients_name.empty()) {
      terms += " (" + pool_summary.transients_name + " " +
               std::to_string(pool_summary.transients_peak) + "/" +
               std::to_string(pool_summary.transients_bound) + ")";
    }
    for (const HolderPeak& holder : pool_summary.holders) {
      if (holder_term(holder.holder)) continue;
      terms += " " + std::string(holder_name(holder.holder)) + "(no term) " +
               std::to_string(holder.peak);
    }
    append_format(text, "  %-10s %4u / %-4u%s\n", pool_summary.owner.c_str(), pool_summary.peak,
                  pool_summary.messages_max, terms.c_str());
  }
}

}  // namespace

std::string run_header_text(const Options& options, const std::string& log) {
  std::string text = "seed " + std::to_string(options.seed) + "\n";
  if (log != "quiet") text += "options" + options_flags_text(options) + "\n";
  return text;
}

std::string run_event_text(const TraceRecord& record, uint32_t member_count) {
  return "  " + trace_record_describe(record, member_count) + "\n";
}

std::string run_summary_text(const Summary& summary, const std::string& log) {
  std::string text;
  if (log != "quiet") {
    append_figures(text, summary);
    append_pools(text, summary);
    text += "trace hash " + hash_hex(summary.trace_hash) + "\n";
  }
  if (summary.passed) {
    text += "PASS seed=" + std::to_string(summary.options.seed) + "\n";
  } else {
    append_format(text, "FAIL %s: %s: %s\n", failure_kind_name(summary.failure->kind),
                  summary.failure->process.c_str(), summary.failure->detail.c_str());
    text += "replay: " + options_replay_command(summary.options) + "\n";
  }
  return text;
}

}  // namespace sim
