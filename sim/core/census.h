// The census of one process's pool, on the pool's accounting (pool/accounting.h) with the
// simulator's holders as tags and the formula's terms as limits: every place that keeps a message
// is a named holder (holder.h) paid for by one formula term or by none, and takes and drops
// references only through the census. It counts, per holder and per term, references and distinct
// messages (each live message counts once, for its primary holder: the first in holder.h's order),
// remembers their peaks, and reports a term held beyond its bound.
//
// The transients share one allowance: the formula pays a burst and commit_op's reply apart
// "because they may occur concurrently", so the handled message, the responses built beside it,
// execute's reply and its copy are checked together against burst + commit_reply (+ reply_copy
// under the corrected formula), in distinct messages whose primary holder is a transient: a
// message some other term keeps (a join_view in the loopback queue) is that term's.
//
// The pool's peak (distinct messages, measured at every get_message) comes with what held the
// pool at that moment, holder by holder.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pool/accounting.h"
#include "pool/message_pool.h"
#include "sim/core/holder.h"

namespace sim {

class Census {
 public:
  using Accounting = pool::Accounting<Holder, pool::Term, true>;  // On in every build.
  using Breach = pool::Breach<pool::Term>;
  using BreachHandler = Accounting::BreachHandler;

  // The census of `pool`, bounded by the formula's terms; `shrink` lowers one term's bound by one
  // (checker teeth). Breaches are ignored until a handler is set.
  Census(pool::MessagePool& pool, const pool::MessagesMaxTerms& terms,
         std::optional<pool::Term> shrink);

  void set_breach_handler(BreachHandler handler) {
    accounting_.set_breach_handler(std::move(handler));
  }
  // Called after every change of a term's holders or of the pool's use (a run's trace draws
  // them).
  void set_change_observer(std::function<void()> observer) {
    accounting_.set_change_observer(std::move(observer));
  }
  // What the owner was doing, appended to census_at_peak ("view_change", "recovering").
  void set_context(std::function<std::string()> context) {
    accounting_.set_context(std::move(context));
  }

  // A new message from the pool, held by `holder`.
  pool::Message* acquire(pool::MessagePool& pool, Holder holder) {
    check_pool(pool);
    return accounting_.acquire(holder);
  }
  // Another reference to `message`, held by `holder`.
  pool::Message* hold(Holder holder, pool::Message* message) {
    return accounting_.hold(holder, message);
  }
  // Drops `holder`'s reference to `message`.
  void release(pool::MessagePool& pool, Holder holder, pool::Message* message) {
    check_pool(pool);
    accounting_.release(holder, message);
  }
  // Moves `from`'s reference to `to` (the reference count does not change).
  void transfer(Holder from, Holder to, pool::Message* message) {
    accounting_.transfer(from, to, message);
  }
  // Ends `holder`'s claim on a reference whose unref the caller does later: the original frees
  // an IO slot before its completion callback and drops the message after it, so the slot may
  // be reused inside the callback. Until the unref the reference is io_awaiting_unref's.
  void release_later(Holder holder, pool::Message* message) {
    transfer(holder, Holder::io_awaiting_unref, message);
  }
  // The unref that release_later deferred.
  void unref_later(pool::MessagePool& pool, pool::Message* message) {
    release(pool, Holder::io_awaiting_unref, message);
  }

  // References per term, and their peak.
  uint32_t held(pool::Term term) const { return accounting_.limit_held(term); }
  uint32_t peak(pool::Term term) const { return accounting_.limit_peak(term); }
  // Distinct messages whose primary holder is of `term`, now and at their peak.
  uint32_t distinct(pool::Term term) const { return accounting_.limit_distinct(term); }
  uint32_t distinct_peak(pool::Term term) const { return accounting_.limit_distinct_peak(term); }
  // References per holder, their peak, and the peak of distinct messages it is primary for.
  uint32_t held(Holder holder) const { return accounting_.held(holder); }
  uint32_t peak(Holder holder) const { return accounting_.peak(holder); }
  uint32_t distinct_peak(Holder holder) const { return accounting_.distinct_peak(holder); }
  // The formula's bound for `term` (after any shrink), or nullopt if the process has no such term.
  std::optional<uint32_t> bound(pool::Term term) const { return accounting_.bound(term); }
  uint32_t held_total() const { return accounting_.held_total(); }

  // The shared allowance of the transients: "burst+commit_reply" (a client's: "burst").
  const std::string& transients_name() const { return accounting_.shared_name(); }
  uint32_t transients_bound() const { return accounting_.shared_bound(); }
  uint32_t transients_peak() const { return accounting_.shared_peak(); }
  static constexpr std::array<pool::Term, 3> transient_terms = {
      pool::Term::burst, pool::Term::commit_reply, pool::Term::reply_copy};
  static bool transient(pool::Term term) {
    for (const pool::Term transient_term : transient_terms) {
      if (term == transient_term) return true;
    }
    return false;
  }

  // The pool's peak use in distinct messages, and what held the pool then: "pipeline_cache 4,
  // handled_message 0, ..." names every holder alive with the distinct messages it is primary
  // for (they sum to the peak), then the owner's context.
  uint32_t pool_peak() const { return accounting_.pool_peak(); }
  const std::string& census_at_peak() const { return accounting_.at_peak(); }

  // The holder whose acquire is under way (the one an exhausted pool failed), if any.
  std::optional<Holder> acquiring() const { return accounting_.acquiring(); }

  // "pipeline 3/4, journal_writes 2/2, ... | handled_message 1, pong 1": every term held now
  // with its bound (references), then every holder alive.
  std::string describe() const { return accounting_.describe(); }

 private:
  void check_pool(const pool::MessagePool& pool) const {
    POOL_ASSERT(&pool == &accounting_.pool(), "a census serves one pool");
  }
  Accounting accounting_;
};

}  // namespace sim
