// The pool's hot path against two baselines: a bare intrusive free list (the least any pool can
// do) and aligned_alloc/free of a message-sized buffer (what a pool saves). Every loop puts the
// same barrier (DoNotOptimize + ClobberMemory) between taking a message and giving it back, so
// that the compiler cannot fuse the pair into nothing; the ratio to the bare list is the
// pool's overhead.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "pool/accounting.h"
#include "pool/message_pool.h"

namespace pool {
namespace {

Config config_of(const benchmark::State& state) {
  return state.range(0) == 0 ? config_test_min() : config_production();
}

Poisoning poisoning_of(const benchmark::State& state) {
  return state.range(1) == 0 ? Poisoning::off : Poisoning::used_bytes;
}

void label(benchmark::State& state) {
  state.SetLabel(std::string(config_of(state).name) +
                 (poisoning_of(state) == Poisoning::off ? "" : "+poisoning"));
}

void BM_PoolGetUnref(benchmark::State& state) {
  const Config config = config_of(state);
  MessagePool pool(config, ReplicaOptions{3, 0, MessageBusKind::tcp}, "bench", poisoning_of(state));
  for (auto _ : state) {
    Message* message = pool.get_message();
    benchmark::DoNotOptimize(message);
    benchmark::ClobberMemory();
    pool.unref(message);
  }
  label(state);
}
BENCHMARK(BM_PoolGetUnref)->ArgsProduct({{0, 1}, {0, 1}});

void BM_PoolGetRefUnrefUnref(benchmark::State& state) {
  const Config config = config_of(state);
  MessagePool pool(config, ReplicaOptions{3, 0, MessageBusKind::tcp}, "bench", poisoning_of(state));
  for (auto _ : state) {
    Message* message = pool.get_message();
    benchmark::DoNotOptimize(message->ref());
    benchmark::ClobberMemory();
    pool.unref(message);
    pool.unref(message);
  }
  label(state);
}
BENCHMARK(BM_PoolGetRefUnrefUnref)->ArgsProduct({{0, 1}, {0, 1}});

// The accounting's cost (pool/accounting.h): acquire and release through it, tagged by term, on
// and compiled out; compiled out it must cost what BM_PoolGetUnref does.
template <bool enabled>
void BM_PoolAccountingAcquireRelease(benchmark::State& state) {
  const Options options{ReplicaOptions{3, 0, MessageBusKind::tcp}};
  MessagePool pool(config_test_min(), options, "bench", Poisoning::off);
  Accounting<Term, Term, enabled> accounting(
      pool, limits_from_terms(messages_max_terms(config_test_min(), options)));
  for (auto _ : state) {
    Message* message = accounting.acquire(Term::journal_writes);
    benchmark::DoNotOptimize(message);
    benchmark::ClobberMemory();
    accounting.release(Term::journal_writes, message);
  }
  state.SetLabel(enabled ? "test_min+accounting" : "test_min+compiled_out");
}
BENCHMARK(BM_PoolAccountingAcquireRelease<false>)->Name("BM_PoolAccountingOff");
BENCHMARK(BM_PoolAccountingAcquireRelease<true>)->Name("BM_PoolAccountingOn");

// The floor: pop and push of an intrusive singly linked list, no checks. Its head lives in
// memory that the barrier covers, as a pool's free list does (a head kept in a register would
// make the pair a no-op no real pool can match).
void BM_BareFreeListPopPush(benchmark::State& state) {
  struct Node {
    Node* next;
  };
  struct FreeList {
    Node* head = nullptr;
  };
  std::vector<Node> nodes(113);
  auto list = std::make_unique<FreeList>();
  for (Node& node : nodes) {
    node.next = list->head;
    list->head = &node;
  }
  benchmark::DoNotOptimize(list.get());
  for (auto _ : state) {
    Node* node = list->head;
    list->head = node->next;
    benchmark::DoNotOptimize(node);
    benchmark::ClobberMemory();
    node->next = list->head;
    list->head = node;
  }
}
BENCHMARK(BM_BareFreeListPopPush);

void BM_AlignedAllocFree(benchmark::State& state) {
  const Config config = config_of(state);
  for (auto _ : state) {
    void* buffer = std::aligned_alloc(config.sector_size, config.message_size_max);
    benchmark::DoNotOptimize(buffer);
    benchmark::ClobberMemory();
    std::free(buffer);
  }
  state.SetLabel(std::string(config.name));
}
BENCHMARK(BM_AlignedAllocFree)->Args({0, 0})->Args({1, 0});

}  // namespace
}  // namespace pool

BENCHMARK_MAIN();
