// The census of one process's pool: every place that keeps a message is a named holder (holder.h)
// paid for by one formula term or by none, and takes and drops references only through the
// census. It counts, per holder and per term, references and distinct messages (each live message
// counts once, for its primary holder: the first in holder.h's order), remembers their peaks,
// and reports a term held beyond its bound.
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

#include "pool/message_pool.h"
#include "sim/core/holder.h"

namespace sim {

class Census {
 public:
  struct Breach {
    pool::Term term;   // The term whose hold breached (the first of a shared allowance).
    std::string what;  // "journal_reads", or "burst+commit_reply" for the shared allowance.
    uint32_t held;     // References after the hold.
    uint32_t bound;
  };
  using BreachHandler = std::function<void(const Breach& breach)>;

  // Bounds from the formula's terms; `shrink` lowers one term's bound by one (checker teeth).
  Census(const pool::MessagesMaxTerms& terms, std::optional<pool::Term> shrink);

  void set_breach_handler(BreachHandler handler) { breach_handler_ = std::move(handler); }
  // Called after every change of a term's holders or of the pool's use (a run's trace draws
  // them).
  void set_change_observer(std::function<void()> observer) {
    change_observer_ = std::move(observer);
  }
  // What the owner was doing, appended to census_at_peak ("view_change", "recovering").
  void set_context(std::function<std::string()> context) { context_ = std::move(context); }

  // A new message from the pool, held by `holder`.
  pool::Message* acquire(pool::MessagePool& pool, Holder holder);
  // Another reference to `message`, held by `holder`.
  pool::Message* hold(Holder holder, pool::Message* message);
  // Drops `holder`'s reference to `message`.
  void release(pool::MessagePool& pool, Holder holder, pool::Message* message);
  // Moves `from`'s reference to `to` (the reference count does not change).
  void transfer(Holder from, Holder to, pool::Message* message);
  // Ends `holder`'s claim on a reference whose unref the caller does later: the original frees
  // an IO slot before its completion callback and drops the message after it, so the slot may
  // be reused inside the callback. Until the unref the reference is io_awaiting_unref's.
  void release_later(Holder holder, pool::Message* message);
  // The unref that release_later deferred.
  void unref_later(pool::MessagePool& pool, pool::Message* message);

  // References per term, and their peak.
  uint32_t held(pool::Term term) const { return term_held_[index(term)]; }
  uint32_t peak(pool::Term term) const { return term_peak_[index(term)]; }
  // Distinct messages whose primary holder is of `term`, now and at their peak.
  uint32_t distinct(pool::Term term) const { return term_distinct_[index(term)]; }
  uint32_t distinct_peak(pool::Term term) const { return term_distinct_peak_[index(term)]; }
  // References per holder, their peak, and the peak of distinct messages it is primary for.
  uint32_t held(Holder holder) const { return holder_held_[index(holder)]; }
  uint32_t peak(Holder holder) const { return holder_peak_[index(holder)]; }
  uint32_t distinct_peak(Holder holder) const { return holder_distinct_peak_[index(holder)]; }
  // The formula's bound for `term` (after any shrink), or nullopt if the process has no such term.
  std::optional<uint32_t> bound(pool::Term term) const;
  uint32_t held_total() const;

  // The shared allowance of the transients: "burst+commit_reply" (a client's: "burst").
  const std::string& transients_name() const { return transients_name_; }
  uint32_t transients_bound() const { return transients_bound_; }
  uint32_t transients_peak() const { return transients_peak_; }
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
  uint32_t pool_peak() const { return pool_peak_; }
  const std::string& census_at_peak() const { return census_at_peak_; }

  // The holder whose acquire is under way (the one an exhausted pool failed), if any.
  std::optional<Holder> acquiring() const { return acquiring_; }

  // "pipeline 3/4, journal_writes 2/2, ... | handled_message 1, pong 1": every term held now
  // with its bound (references), then every holder alive.
  std::string describe() const;

 private:
  struct MessageHolders {
    uint64_t holders = 0;  // Bit per Holder with a reference.
    std::array<uint16_t, holder_count> references{};
  };
  static size_t index(pool::Term term) { return static_cast<size_t>(term); }
  static size_t index(Holder holder) { return static_cast<size_t>(holder); }
  MessageHolders& holders_of(const pool::Message* message);
  void reference_add(Holder holder, pool::Message* message);
  void reference_drop(Holder holder, pool::Message* message);
  void primary_change(std::optional<Holder> from, std::optional<Holder> to);
  void check_bound(pool::Term term);
  void check_transients();
  void check_primary_transient(std::optional<Holder> before, std::optional<Holder> now);
  void note_pool_use(const pool::MessagePool& pool);
  std::string describe_holders(bool distinct) const;
  void changed() {
    if (change_observer_) change_observer_();
  }

  std::array<uint32_t, pool::term_count> term_held_{};
  std::array<uint32_t, pool::term_count> term_peak_{};
  std::array<uint32_t, pool::term_count> term_distinct_{};
  std::array<uint32_t, pool::term_count> term_distinct_peak_{};
  std::array<uint32_t, pool::term_count> bound_{};
  std::array<bool, pool::term_count> has_term_{};
  std::array<uint32_t, holder_count> holder_held_{};
  std::array<uint32_t, holder_count> holder_peak_{};
  std::array<uint32_t, holder_count> holder_distinct_{};
  std::array<uint32_t, holder_count> holder_distinct_peak_{};
  std::string transients_name_;
  uint32_t transients_bound_ = 0;
  uint32_t transients_peak_ = 0;
  // By the pool's message index (sized on first use: a census serves one pool).
  const pool::MessagePool* pool_ = nullptr;
  std::vector<MessageHolders> messages_;
  uint32_t pool_peak_ = 0;
  std::string census_at_peak_;
  BreachHandler breach_handler_;
  std::function<std::string()> context_;
  std::function<void()> change_observer_;
  std::optional<Holder> acquiring_;
};

}  // namespace sim
