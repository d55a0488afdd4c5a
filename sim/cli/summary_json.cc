#include "sim/cli/summary_json.h"

#include "pool/cli/git_commit.h"  // Generated at build time.
#include "sim/options.h"

namespace sim {

nlohmann::json summary_json(const Summary& summary) {
  nlohmann::json json;
  json["seed"] = summary.options.seed;
  json["passed"] = summary.passed;
  if (summary.failure) {
    json["failure"] = {
        {"kind", failure_kind_name(summary.failure->kind)},
        {"process", summary.failure->process},
        {"term", summary.failure->term
                     ? nlohmann::json(std::string(pool::term_name(*summary.failure->term)))
                     : nlohmann::json(nullptr)},
        {"detail", summary.failure->detail}};
  } else {
    json["failure"] = nullptr;
  }
  json["trace_hash"] = hash_hex(summary.trace_hash);
  json["ticks"] = summary.ticks;
  json["events"] = summary.events;
  json["requests_committed"] = summary.requests_committed;
  json["ops_committed"] = summary.ops_committed;
  json["requests_answered"] = summary.requests_answered;
  json["crashes"] = summary.crashes;
  json["view_changes"] = summary.view_changes;
  json["views_started"] = summary.views_started;
  json["view_truncations"] = summary.view_truncations;
  json["checkpoints"] = summary.checkpoints;
  json["syncs"] = summary.syncs;
  json["blocks_repaired"] = summary.blocks_repaired;
  json["commit"] = POOLSIM_GIT_COMMIT;
  nlohmann::json options = nlohmann::json::object();
  for (const auto& [name, value] : options_as_flags(summary.options)) options[name] = value;
  json["options"] = options;
  json["repro"] = options_replay_command(summary.options);
  nlohmann::json pools = nlohmann::json::array();
  for (const PoolSummary& pool_summary : summary.pools) {
    nlohmann::json terms = nlohmann::json::object();
    for (const TermPeak& term : pool_summary.terms) {
      terms[std::string(pool::term_name(term.term))] = {
          {"peak", term.peak}, {"bound", term.bound}, {"distinct_peak", term.distinct_peak}};
    }
    nlohmann::json holders = nlohmann::json::object();
    for (const HolderPeak& holder : pool_summary.holders) {
      const std::optional<pool::Term> term = holder_term(holder.holder);
      holders[std::string(holder_name(holder.holder))] = {
          {"term", term ? std::string(pool::term_name(*term)) : std::string("no term")},
          {"peak", holder.peak},
          {"distinct_peak", holder.distinct_peak}};
    }
    pools.push_back({{"owner", pool_summary.owner},
                     {"messages_max", pool_summary.messages_max},
                     {"peak", pool_summary.peak},
                     {"census_at_peak", pool_summary.census_at_peak},
                     {"terms", terms},
                     {"holders", holders},
                     {"transients",
                      {{"name", pool_summary.transients_name},
                       {"peak", pool_summary.transients_peak},
                       {"bound", pool_summary.transients_bound}}}});
  }
  json["pools"] = pools;
  return json;
}

}  // namespace sim
