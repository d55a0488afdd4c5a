// The census of one process's pool: every place that keeps a message is a holder of one formula
// term, and takes and drops references only through the census, which counts references per
// term, remembers each term's peak, and reports a term held beyond its bound. The pool is the sum
// of the bounds, so while every term holds, only the holders no term pays for (an IO slot's
// message awaiting its unref after the completion callback, the testing bus's buffer) can take
// a pool past it; the census counts those apart and the pool itself reports exhaustion.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>

#include "pool/message_pool.h"

namespace sim {

class Census {
 public:
  // Called once per breach: the term and its count after the hold.
  using BreachHandler = std::function<void(pool::Term term, uint32_t held, uint32_t bound)>;

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

  // A new message from the pool, held by `term`.
  pool::Message* acquire(pool::MessagePool& pool, pool::Term term);
  // Another reference to `message`, held by `term`.
  pool::Message* hold(pool::Term term, pool::Message* message);
  // Drops `term`'s reference to `message`.
  void release(pool::MessagePool& pool, pool::Term term, pool::Message* message);
  // Ends `term`'s claim on a reference whose unref the caller does later: the original frees an
  // IO slot before its completion callback and drops the message after it, so the slot may be
  // reused inside the callback. The pool still counts the message until the unref.
  void release_later(pool::Term term);
  // The unref that release_later deferred.
  void unref_later(pool::MessagePool& pool, pool::Message* message);

  // A holder that no formula term pays for: the testing bus's receive buffer, which the
  // original takes from the replica's pool although its formula adds nothing for that bus.
  pool::Message* acquire_unpaid(pool::MessagePool& pool);
  void release_unpaid(pool::MessagePool& pool, pool::Message* message);
  uint32_t unpaid_held() const { return unpaid_held_; }
  uint32_t unpaid_peak() const { return unpaid_peak_; }

  uint32_t held(pool::Term term) const { return held_[index(term)]; }
  uint32_t peak(pool::Term term) const { return peak_[index(term)]; }
  // The formula's bound for `term` (after any shrink), or nullopt if the process has no such term.
  std::optional<uint32_t> bound(pool::Term term) const;
  const std::array<uint32_t, pool::term_count>& held_all() const { return held_; }
  uint32_t held_total() const;

  // The pool's peak use, measured at every get_message (so transients count), and what held
  // the pool at that moment.
  uint32_t pool_peak() const { return pool_peak_; }
  const std::string& census_at_peak() const { return census_at_peak_; }

  // The term whose acquire is under way (the one an exhausted pool failed), if any.
  std::optional<pool::Term> acquiring() const { return acquiring_; }

  // "pipeline 3/4, journal_writes 2/2, ...": every term held now, with its bound.
  std::string describe() const;

 private:
  static size_t index(pool::Term term) { return static_cast<size_t>(term); }
  void count_hold(pool::Term term);
  void note_pool_use(const pool::MessagePool& pool);
  void changed() {
    if (change_observer_) change_observer_();
  }

  std::array<uint32_t, pool::term_count> held_{};
  std::array<uint32_t, pool::term_count> peak_{};
  std::array<uint32_t, pool::term_count> bound_{};
  std::array<bool, pool::term_count> has_term_{};
  uint32_t pool_peak_ = 0;
  std::string census_at_peak_;
  uint32_t unref_pending_ = 0;
  uint32_t unpaid_held_ = 0;
  uint32_t unpaid_peak_ = 0;
  BreachHandler breach_handler_;
  std::function<std::string()> context_;
  std::function<void()> change_observer_;
  std::optional<pool::Term> acquiring_;
};

}  // namespace sim
