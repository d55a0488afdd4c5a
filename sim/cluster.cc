#include "sim/cluster.h"

#include <algorithm>
#include <cstdio>

#include "pool/assertion.h"

namespace sim {

namespace {
constexpr uint64_t ppm = 1'000'000;
}

Cluster::Cluster(const Options& options)
    : options_(options),
      config_(options.config()),
      commits_(failures_),
      replies_(failures_, static_cast<uint32_t>(options.client_count)),
      liveness_(options.ticks_max_convergence),
      convergence_(replicas_, clients_, static_cast<uint32_t>(options.replica_count)),
      cluster_prng_(prng_for(options.seed, PrngStream::cluster_faults)) {
  const ClusterShape shape{static_cast<uint32_t>(options.replica_count),
                           static_cast<uint32_t>(options.member_count()),
                           static_cast<uint32_t>(options.client_count)};
  POOL_ASSERT_GE(shape.replica_count, 1u);
  POOL_ASSERT_LE(shape.replica_count, shape.member_count);
  network_ = std::make_unique<Network>(options_.network, options_.seed, config_, scheduler_, trace_,
                                       shape.member_count, shape.client_count);
  context_ = std::make_unique<ProcessContext>(
      ProcessContext{options_.seed, options_.bus, config_, shape, scheduler_, trace_, *network_,
                     [this](const ProcessEvent& event) { return on_event(event); }});
  pools_.resize(shape.member_count + shape.client_count);
  build_replicas();
  build_clients();
}

void Cluster::build_replicas() {
  const ClusterShape& shape = context_->shape;
  const pool::ReplicaOptions pool_options{
      shape.member_count, static_cast<uint32_t>(options_.replica.pipeline_requests_limit),
      options_.bus};
  // The WAL holds two checkpoint intervals; the grid two checkpoints' blocks.
  const auto wal_slot_count = static_cast<uint32_t>(2 * options_.replica.checkpoint_interval_ops);
  const auto grid_slot_count = static_cast<uint32_t>(2 * options_.replica.checkpoint_block_count);
  for (uint32_t r = 0; r < shape.member_count; r++) {
    build_pool(pools_[r], (r < shape.replica_count ? "replica " : "standby ") + std::to_string(r),
               pool_options);
    const bool faulty = r >= 1 && r <= options_.storage_faulty_count;
    storages_.push_back(std::make_unique<Storage>(options_.storage, options_.seed, scheduler_, r,
                                                  faulty, wal_slot_count, shape.client_count,
                                                  grid_slot_count, &disk_bytes_));
    replicas_.push_back(std::make_unique<Replica>(*context_, options_.replica, r, *pools_[r].pool,
                                                  *pools_[r].census, *storages_[r]));
    const Replica* replica = replicas_.back().get();
    pools_[r].census->set_context([replica] { return replica->activity(); });
    network_->link(r, replicas_.back()->bus());
  }
  restart_tick_.assign(shape.member_count, UINT64_MAX);
}

void Cluster::build_clients() {
  const ClusterShape& shape = context_->shape;
  for (uint32_t c = 0; c < shape.client_count; c++) {
    ProcessPool& process = pools_[shape.member_count + c];
    build_pool(process, "client " + std::to_string(c), pool::ClientOptions{});
    const uint64_t quota = options_.requests_max / shape.client_count +
                           (c < options_.requests_max % shape.client_count);
    clients_.push_back(std::make_unique<Client>(*context_, options_.client, c, quota, *process.pool,
                                                *process.census));
    network_->link(shape.client_process(c), clients_.back()->bus());
  }
}

bool Cluster::on_event(const ProcessEvent& event) {
  POOL_ASSERT(event.kind == ProcessEventKind::reply_accepted
                  ? event.process < context_->shape.client_count
                  : event.process < context_->shape.member_count,
              "an event from process %u, which does not exist", event.process);
  const bool committed_right = commits_.on_event(event);
  const bool replied_right = replies_.on_event(event);
  return committed_right && replied_right;
}

Cluster::~Cluster() {
  if (!torn_down_) teardown();
}

void Cluster::build_pool(ProcessPool& process, const std::string& owner,
                         const pool::Options& pool_options) {
  POOL_ASSERT(process.pool == nullptr, "%s's pool is built once", owner.c_str());
  process.owner = owner;
  const uint32_t formula = pool::messages_max(config_, pool_options, options_.formula);
  POOL_ASSERT_GT(formula, 0u);
  const int64_t capacity = std::max<int64_t>(1, int64_t{formula} + options_.messages_max_delta);
  process.pool =
      std::make_unique<pool::MessagePool>(config_, static_cast<uint32_t>(capacity), owner);
  process.census = std::make_unique<Census>(
      *process.pool, pool::messages_max_terms(config_, pool_options, options_.formula),
      options_.shrink_term);
  ProcessPool* self = &process;
  process.census->set_breach_handler([this, self](const Census::Breach& breach) {
    failures_.fail({FailureKind::term_bound, self->owner, breach.limit,
                    breach.what + " held " + std::to_string(breach.held) + " > bound " +
                        std::to_string(breach.bound) + ", pool " +
                        std::to_string(self->pool->used_count()) + "/" +
                        std::to_string(self->pool->messages_max()) + " in use (" +
                        self->census->describe() + ")"});
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
    observer(scheduler_.now_tick(), network_process_id, used, nullptr);
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
  const std::optional<Holder> acquiring = process.census->acquiring();
  failures_.fail({FailureKind::exhaustion, process.owner,
                  acquiring ? holder_term(*acquiring) : std::nullopt,
                  "pool of " + std::to_string(process.pool->messages_max()) +
                      " messages exhausted; census: " + process.census->describe()});
  const Summary summary = summarize();
  if (fatal_handler_) fatal_handler_(summary);
  std::fprintf(stderr, "sim: %s: pool exhausted; census: %s\n", process.owner.c_str(),
               process.census->describe().c_str());
  std::abort();
}

void Cluster::tick_faults() {
  POOL_ASSERT(faults_on_);
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
    check_no_leak(failures_, process.owner, *process.pool, *process.census,
                  "still held after a crash released everything");
  }
}

void Cluster::restart_due(uint64_t tick) {
  POOL_ASSERT_EQ(restart_tick_.size(), replicas_.size());
  for (auto& replica : replicas_) {
    if (replica->status() == Replica::Status::down && restart_tick_[replica->index()] <= tick) {
      restart_tick_[replica->index()] = UINT64_MAX;
      replica->restart();
      POOL_ASSERT(replica->status() != Replica::Status::down);
    }
  }
}

void Cluster::faults_stop(uint64_t tick, bool requests_done) {
  POOL_ASSERT(faults_on_);
  faults_on_ = false;
  liveness_.start(tick);
  trace_.record({tick, TraceKind::faults_off, network_process_id, 0, 0, requests_done, 0});
  network_->faults_off();
  for (auto& storage : storages_) storage->faults_off();
  for (uint64_t& restart : restart_tick_) restart = std::min(restart, tick + 1);
}

Summary Cluster::run() {
  for (auto& replica : replicas_) replica->open();
  for (auto& client : clients_) client->open();
  for (uint64_t tick = 0;; tick++) {
    scheduler_.advance_to(tick);
    if (faults_on_) {
      network_->tick();
      tick_faults();
    }
    restart_due(tick);
    for (auto& replica : replicas_) replica->tick();
    for (auto& client : clients_) client->tick();
    while (!failures_.failed() && scheduler_.due(tick)) scheduler_.run_next();
    if (failures_.failed()) break;

    if (faults_on_) {
      const bool requests_done = std::all_of(clients_.begin(), clients_.end(),
                                             [](const auto& client) { return client->done(); });
      if (requests_done || tick + 1 >= options_.ticks_max_requests) {
        faults_stop(tick, requests_done);
      }
    } else if (convergence_.converged()) {
      break;
    } else if (!liveness_.observe(tick, convergence_.progress())) {
      failures_.fail({FailureKind::liveness, "cluster", std::nullopt,
                      "no progress for " + std::to_string(liveness_.ticks_max()) +
                          " ticks after faults stopped; waiting: " + convergence_.waiters()});
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
    POOL_ASSERT(replica->status() == Replica::Status::down);
  }
  network_->release_all();
  for (ProcessPool& process : pools_) {
    if (check_no_leak(failures_, process.owner, *process.pool, *process.census,
                      "never came back at teardown")) {
      continue;
    }
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
  summary.ops_committed = commits_.committed_max();
  summary.requests_committed = commits_.requests_committed();
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
    const Census& census = *process.census;
    // The pool's own count: distinct messages, never past its capacity.
    POOL_ASSERT_LE(census.pool_peak(), process.pool->messages_max());
    PoolSummary pool_summary{process.owner,
                             process.pool->messages_max(),
                             census.pool_peak(),
                             census.census_at_peak(),
                             {},
                             {},
                             census.transients_name(),
                             census.transients_peak(),
                             census.transients_bound()};
    for (size_t i = 0; i < pool::term_count; i++) {
      const auto term = static_cast<pool::Term>(i);
      if (auto bound = census.bound(term)) {
        pool_summary.terms.push_back(
            TermPeak{term, census.peak(term), *bound, census.distinct_peak(term)});
      }
    }
    for (size_t i = 0; i < holder_count; i++) {
      const auto holder = static_cast<Holder>(i);
      if (census.peak(holder) == 0) continue;
      pool_summary.holders.push_back(
          HolderPeak{holder, census.peak(holder), census.distinct_peak(holder)});
    }
    summary.pools.push_back(std::move(pool_summary));
  }
  summary.pools.push_back(PoolSummary{
      "network", network_->pool().messages_max(), network_->pool_peak(), "", {}, {}, "", 0, 0});
  return summary;
}

}  // namespace sim
