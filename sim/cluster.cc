#include "sim/cluster.h"

#include <algorithm>
#include <cstdio>

namespace sim {

namespace {
constexpr uint64_t ppm = 1'000'000;
}

const char* failure_kind_name(FailureKind kind) {
  switch (kind) {
    case FailureKind::term_bound:
      return "term_bound";
    case FailureKind::exhaustion:
      return "exhaustion";
    case FailureKind::leak:
      return "leak";
    case FailureKind::safety:
      return "safety";
    case FailureKind::reply:
      return "reply";
    case FailureKind::liveness:
      return "liveness";
  }
  return "unknown";
}

Cluster::Cluster(const Options& options)
    : options_(options),
      config_(options.config()),
      cluster_prng_(Prng::derive(options.seed, 0x434C'5553)) {  // "CLUS".
  const auto replica_count = static_cast<uint32_t>(options.replica_count);
  const auto member_count = static_cast<uint32_t>(options.member_count());
  const auto client_count = static_cast<uint32_t>(options.client_count);
  network_ =
      std::make_unique<Network>(options_, config_, scheduler_, trace_, member_count, client_count);
  network_->set_deliver([this](uint32_t from, uint32_t to, const pool::Message& packet) {
    return deliver(from, to, packet);
  });
  world_ =
      std::make_unique<World>(World{options_, config_, scheduler_, trace_, *network_, failures_,
                                    ledger_, replica_count, member_count, client_count});

  pools_.resize(member_count + client_count);
  const pool::ReplicaOptions replica_options{
      member_count, static_cast<uint32_t>(options.pipeline_requests_limit), options.bus};
  // The WAL holds two checkpoint intervals; the grid two checkpoints' blocks.
  const auto wal_slot_count = static_cast<uint32_t>(2 * options.checkpoint_interval_ops);
  const auto grid_slot_count = static_cast<uint32_t>(2 * options.checkpoint_block_count);
  for (uint32_t r = 0; r < member_count; r++) {
    build_pool(pools_[r], (r < replica_count ? "replica " : "standby ") + std::to_string(r),
               replica_options);
    const bool faulty = r >= 1 && r <= options.storage_faulty_count;
    storages_.push_back(std::make_unique<Storage>(options_, scheduler_, r, faulty, wal_slot_count,
                                                  client_count, grid_slot_count));
    replicas_.push_back(
        std::make_unique<Replica>(*world_, r, *pools_[r].pool, *pools_[r].census, *storages_[r]));
    const Replica* replica = replicas_.back().get();
    pools_[r].census->set_context([replica] { return replica->activity(); });
  }
  restart_tick_.assign(member_count, UINT64_MAX);
  for (uint32_t c = 0; c < client_count; c++) {
    ProcessPool& process = pools_[member_count + c];
    build_pool(process, "client " + std::to_string(c), pool::ClientOptions{});
    const uint64_t quota =
        options.requests_max / client_count + (c < options.requests_max % client_count);
    clients_.push_back(std::make_unique<Client>(*world_, c, quota, *process.pool, *process.census));
  }
}

Cluster::~Cluster() {
  if (!torn_down_) teardown();
}

void Cluster::build_pool(ProcessPool& process, const std::string& owner,
                         const pool::Options& pool_options) {
  process.owner = owner;
  const uint32_t formula = pool::messages_max(config_, pool_options);
  const int64_t capacity = std::max<int64_t>(1, int64_t{formula} + options_.messages_max_delta);
  process.pool =
      std::make_unique<pool::MessagePool>(config_, static_cast<uint32_t>(capacity), owner);
  process.census = std::make_unique<Census>(pool::messages_max_terms(config_, pool_options),
                                            options_.shrink_term);
  ProcessPool* self = &process;
  process.census->set_breach_handler([this, self](pool::Term term, uint32_t held, uint32_t bound) {
    failures_.fail({FailureKind::term_bound, self->owner, term,
                    std::string(pool::term_name(term)) + " held " + std::to_string(held) +
                        " > bound " + std::to_string(bound) + " (" + self->census->describe() +
                        ")"});
  });
  process.pool->set_exhaustion_handler(
      [this, self](const pool::MessagePool&) { exhausted(*self); });
}

void Cluster::set_occupancy_observer(const OccupancyObserver& observer) {
  for (size_t process = 0; process < pools_.size(); process++) {
    const ProcessPool* self = &pools_[process];
    self->census->set_change_observer([this, self, process, observer] {
      observer(scheduler_.now_tick(), static_cast<uint8_t>(process), self->pool->used_count(),
               self->census.get());
    });
  }
  network_->set_use_observer([this, observer](uint32_t used) {
    observer(scheduler_.now_tick(), network_process, used, nullptr);
  });
}

std::vector<std::pair<std::string, uint32_t>> Cluster::pool_owners() const {
  std::vector<std::pair<std::string, uint32_t>> owners;
  for (const ProcessPool& process : pools_) {
    owners.emplace_back(process.owner, process.pool->messages_max());
  }
  owners.emplace_back("network", network_->pool().messages_max());
  return owners;
}

void Cluster::exhausted(const ProcessPool& process) {
  failures_.fail({FailureKind::exhaustion, process.owner, process.census->acquiring(),
                  "pool of " + std::to_string(process.pool->messages_max()) +
                      " messages exhausted; census: " + process.census->describe()});
  const Summary summary = summarize();
  if (fatal_handler_) fatal_handler_(summary);
  std::fprintf(stderr, "sim: %s: pool exhausted; census: %s\n", process.owner.c_str(),
               process.census->describe().c_str());
  std::abort();
}

Network::Delivery Cluster::deliver(uint32_t from, uint32_t to, const pool::Message& packet) {
  if (to < replicas_.size()) return replicas_[to]->deliver(from, packet);
  return clients_[to - replicas_.size()]->deliver(from, packet);
}

void Cluster::tick_faults() {
  Prng& prng = cluster_prng_;
  const uint64_t now = scheduler_.now_tick();
  for (auto& replica : replicas_) {
    if (replica->status() == Replica::Status::down) continue;
    const uint64_t crash_ppm = replica->status() == Replica::Status::view_change
                                   ? options_.crash_view_change_ppm
                                   : options_.crash_ppm;
    if (!prng.chance(crash_ppm, ppm)) continue;
    replica->crash();
    crashes_ += 1;
    restart_tick_[replica->index()] =
        now + prng.range_inclusive(1, options_.restart_delay_ticks_max);
    const ProcessPool& process = pools_[replica->index()];
    if (process.pool->used_count() != 0) {
      failures_.fail({FailureKind::leak, process.owner, std::nullopt,
                      std::to_string(process.pool->used_count()) +
                          " messages still held after a crash released everything (" +
                          process.census->describe() + ")"});
    }
  }
}

// Every replica normal in the same view, with the primary's log and commit, nothing missing.
bool Cluster::converged() const {
  for (const auto& client : clients_) {
    if (!client->done()) return false;
  }
  const Replica* primary = converged_primary();
  if (primary == nullptr || primary->op() != primary->commit_min()) return false;
  for (const auto& replica : replicas_) {
    if (!replica_converged(*replica, *primary)) return false;
  }
  return true;
}

const Replica* Cluster::converged_primary() const {
  uint32_t view = 0;
  for (const auto& replica : replicas_) view = std::max(view, replica->view());
  const Replica& primary = *replicas_[view % options_.replica_count];
  if (primary.status() != Replica::Status::normal || primary.view() != view) return nullptr;
  return &primary;
}

bool Cluster::replica_converged(const Replica& replica, const Replica& primary) {
  return replica.status() == Replica::Status::normal && replica.view() == primary.view() &&
         replica.commit_min() == primary.commit_min() && replica.op() == primary.op() &&
         replica.log_complete() && !replica.syncing() && !replica.grid_missing();
}

uint64_t Cluster::progress_made() const {
  uint64_t progress = 0;
  for (const auto& replica : replicas_) {
    progress += replica->commit_min() + replica->op();
  }
  for (const auto& client : clients_) progress += client->requests_done();
  return progress;
}

std::string Cluster::waiters() const {
  std::string text;
  for (const auto& client : clients_) {
    if (!client->done()) text += client->describe() + "; ";
  }
  const Replica* primary = converged_primary();
  if (primary == nullptr) text += "no primary is normal in the latest view; ";
  for (const auto& replica : replicas_) {
    if (primary == nullptr || !replica_converged(*replica, *primary) || replica.get() == primary) {
      text += replica->describe() + "; ";
    }
  }
  return text;
}

Summary Cluster::run() {
  for (auto& replica : replicas_) replica->open();
  for (auto& client : clients_) client->open();
  // Liveness is a budget of ticks without progress (a reply or a commit anywhere), as the
  // original's: a long workload may take long, a stuck one fails.
  uint64_t progress = 0;
  uint64_t progress_tick = 0;
  for (uint64_t tick = 0;; tick++) {
    scheduler_.advance_to(tick);
    if (faults_on_) {
      network_->tick();
      tick_faults();
    }
    for (auto& replica : replicas_) {
      if (replica->status() == Replica::Status::down && restart_tick_[replica->index()] <= tick) {
        restart_tick_[replica->index()] = UINT64_MAX;
        replica->restart();
      }
    }
    for (auto& replica : replicas_) replica->tick();
    for (auto& client : clients_) client->tick();
    while (!failures_.failed() && scheduler_.due(tick)) scheduler_.run_next();
    if (failures_.failed()) break;

    if (faults_on_) {
      const bool requests_done = std::all_of(clients_.begin(), clients_.end(),
                                             [](const auto& client) { return client->done(); });
      if (requests_done || tick + 1 >= options_.ticks_max_requests) {
        // The convergence phase: faults stop, every replica comes back.
        faults_on_ = false;
        progress_tick = tick;
        trace_.record({tick, TraceKind::faults_off, 255, 0, 0, requests_done, 0});
        network_->faults_off();
        for (auto& storage : storages_) storage->faults_off();
        for (uint64_t& restart : restart_tick_) restart = std::min(restart, tick + 1);
      }
    } else if (converged()) {
      break;
    } else if (const uint64_t now = progress_made(); now != progress) {
      progress = now;
      progress_tick = tick;
    } else if (tick >= progress_tick + options_.ticks_max_convergence) {
      failures_.fail({FailureKind::liveness, "cluster", std::nullopt,
                      "no progress for " + std::to_string(options_.ticks_max_convergence) +
                          " ticks after faults stopped; waiting: " + waiters()});
      break;
    }
  }
  teardown();
  return summarize();
}

void Cluster::teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  if (run_end_observer_) run_end_observer_(scheduler_.now_tick());
  for (auto& client : clients_) client->close();
  for (auto& replica : replicas_) {
    if (replica->status() != Replica::Status::down) replica->crash();
  }
  network_->release_all();
  for (ProcessPool& process : pools_) {
    if (process.pool->used_count() == 0) continue;
    failures_.fail({FailureKind::leak, process.owner, std::nullopt,
                    std::to_string(process.pool->used_count()) +
                        " messages never came back at teardown (" + process.census->describe() +
                        ")"});
    // Keep the pool alive: its destructor would abort on the leak this report already names.
    static_cast<void>(process.pool.release());
  }
}

Summary Cluster::summarize() const {
  Summary summary;
  summary.options = options_;
  summary.failure = failures_.first();
  summary.passed = !failures_.failed();
  summary.trace_hash = trace_.hash();
  summary.ticks = scheduler_.now_tick();
  summary.events = trace_.events_count();
  summary.ops_committed = ledger_.committed_max();
  summary.requests_committed = ledger_.requests_committed();
  summary.crashes = crashes_;
  summary.view_changes = trace_.count(TraceKind::view_change);
  summary.views_started = trace_.count(TraceKind::view_start);
  summary.view_truncations = trace_.count(TraceKind::view_truncate);
  summary.checkpoints = trace_.count(TraceKind::checkpoint);
  summary.syncs = trace_.count(TraceKind::sync_done);
  summary.blocks_repaired = trace_.count(TraceKind::block_repaired);
  for (const auto& client : clients_) summary.requests_answered += client->requests_done();
  for (const ProcessPool& process : pools_) {
    if (!process.pool) continue;
    PoolSummary pool_summary{process.owner,
                             process.pool->messages_max(),
                             process.census->pool_peak(),
                             process.census->census_at_peak(),
                             {},
                             process.census->unpaid_peak()};
    for (size_t i = 0; i < pool::term_count; i++) {
      const auto term = static_cast<pool::Term>(i);
      if (auto bound = process.census->bound(term)) {
        pool_summary.terms.push_back(TermPeak{term, process.census->peak(term), *bound});
      }
    }
    summary.pools.push_back(std::move(pool_summary));
  }
  summary.pools.push_back(
      PoolSummary{"network", network_->pool().messages_max(), network_->pool_peak(), "", {}, 0});
  return summary;
}

}  // namespace sim
