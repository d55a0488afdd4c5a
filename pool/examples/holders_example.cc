// An adopter's replica, in miniature: its own holder tags charged to the formula's terms, messages
// taken and returned through the accounting, and a planted bug (one journal write too many) that
// the accounting must report. Exit 0 only if the breach was reported (or the accounting is
// compiled out: POOLSIM_ACCOUNTING_ENABLED=0) and nothing leaked. Built by each of the ways in
// (README, "Using the pool in your project").
#include <cstdio>
#include <optional>
#include <string_view>
#include <vector>

#include "pool/accounting.h"
#include "pool/message_pool.h"
#include "pool/version.h"

// The places this replica keeps messages; those that keep one longest first.
enum class Holder : uint8_t { pipeline, journal_write, handled };

template <>
struct pool::TagTraits<Holder> {
  static constexpr size_t count = 3;
  static std::string_view name(Holder holder) {
    switch (holder) {
      case Holder::pipeline:
        return "pipeline";
      case Holder::journal_write:
        return "journal_write";
      case Holder::handled:
        return "handled";
    }
    return "?";
  }
};

static std::optional<pool::Term> term_of(Holder holder) {
  switch (holder) {
    case Holder::pipeline:
      return pool::Term::pipeline;
    case Holder::journal_write:
      return pool::Term::journal_writes;
    case Holder::handled:
      return pool::Term::burst;
  }
  return std::nullopt;
}

int main() {
  const pool::Config config = pool::config_test_min();
  const pool::Options options{pool::ReplicaOptions{3, 0, pool::MessageBusKind::testing}};
  pool::MessagePool message_pool(config, options, "example replica");
  const pool::MessagesMaxTerms terms = pool::messages_max_terms(config, options);
  pool::Accounting<Holder, pool::Term> accounting(message_pool, pool::limits_from_terms(terms),
                                                  &term_of);
  std::vector<pool::Breach<pool::Term>> breaches;
  accounting.set_breach_handler(
      [&breaches](const pool::Breach<pool::Term>& breach) { breaches.push_back(breach); });

  // A prepare: handled, kept by the pipeline, written to the journal; then let go.
  pool::Message* prepare = accounting.acquire(Holder::handled);
  accounting.hold(Holder::pipeline, prepare);
  accounting.hold(Holder::journal_write, prepare);
  accounting.release(Holder::handled, prepare);
  accounting.release(Holder::journal_write, prepare);
  accounting.release(Holder::pipeline, prepare);

  // The planted bug: one journal write more than the formula's journal_writes term pays for.
  const uint32_t writes_max = *terms.bound(pool::Term::journal_writes);
  std::vector<pool::Message*> writes;
  for (uint32_t i = 0; i <= writes_max; i++)
    writes.push_back(accounting.acquire(Holder::journal_write));
  for (pool::Message* write : writes) accounting.release(Holder::journal_write, write);

  std::printf("poolsim %s: pool of %u messages, peak %u (%s)\n", POOLSIM_VERSION,
              message_pool.messages_max(), accounting.pool_peak(), accounting.at_peak().c_str());
  for (const pool::Breach<pool::Term>& breach : breaches) {
    std::printf("planted breach reported: %s held %u > bound %u\n", breach.what.c_str(),
                breach.held, breach.bound);
  }
  if (!pool::accounting_enabled) std::printf("accounting compiled out: nothing counted\n");
  const bool reported = !pool::accounting_enabled ||
                        (breaches.size() == 1 && breaches[0].limit == pool::Term::journal_writes);
  if (!reported || message_pool.used_count() != 0) {
    std::printf("example: FAILED (breaches %zu, messages in use %u)\n", breaches.size(),
                message_pool.used_count());
    return 1;
  }
  return 0;
}
