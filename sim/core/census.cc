#include "sim/core/census.h"

#include <algorithm>

namespace sim {

Census::Census(const pool::MessagesMaxTerms& terms, std::optional<pool::Term> shrink) {
  for (const auto& entry : terms.entries()) {
    bound_[index(entry.term)] = entry.messages;
    has_term_[index(entry.term)] = true;
  }
  if (shrink && has_term_[index(*shrink)] && bound_[index(*shrink)] > 0) {
    bound_[index(*shrink)] -= 1;
  }
}

void Census::count_hold(pool::Term term) {
  const size_t i = index(term);
  POOL_ASSERT(has_term_[i], "a holder of term %s in a process without it",
              std::string(pool::term_name(term)).c_str());
  held_[i] += 1;
  peak_[i] = std::max(peak_[i], held_[i]);
  if (held_[i] > bound_[i] && breach_handler_) breach_handler_(term, held_[i], bound_[i]);
}

pool::Message* Census::acquire(pool::MessagePool& pool, pool::Term term) {
  count_hold(term);
  // Before the pool is asked, which on exhaustion never returns: the hold shows all the same.
  changed();
  acquiring_ = term;
  pool::Message* message = pool.get_message();
  acquiring_.reset();
  note_pool_use(pool);
  changed();
  return message;
}

void Census::note_pool_use(const pool::MessagePool& pool) {
  if (pool.used_count() <= pool_peak_) return;
  pool_peak_ = pool.used_count();
  census_at_peak_ = describe();
  if (context_) census_at_peak_ += " [" + context_() + "]";
}

pool::Message* Census::hold(pool::Term term, pool::Message* message) {
  count_hold(term);
  pool::Message* held = message->ref();
  changed();
  return held;
}

void Census::release(pool::MessagePool& pool, pool::Term term, pool::Message* message) {
  POOL_ASSERT_GT(held_[index(term)], 0u);
  held_[index(term)] -= 1;
  pool.unref(message);
  changed();
}

pool::Message* Census::acquire_unpaid(pool::MessagePool& pool) {
  unpaid_held_ += 1;
  unpaid_peak_ = std::max(unpaid_peak_, unpaid_held_);
  pool::Message* message = pool.get_message();
  note_pool_use(pool);
  changed();
  return message;
}

void Census::release_unpaid(pool::MessagePool& pool, pool::Message* message) {
  POOL_ASSERT_GT(unpaid_held_, 0u);
  unpaid_held_ -= 1;
  pool.unref(message);
  changed();
}

void Census::release_later(pool::Term term) {
  POOL_ASSERT_GT(held_[index(term)], 0u);
  held_[index(term)] -= 1;
  unref_pending_ += 1;
  changed();
}

void Census::unref_later(pool::MessagePool& pool, pool::Message* message) {
  POOL_ASSERT_GT(unref_pending_, 0u);
  unref_pending_ -= 1;
  pool.unref(message);
  changed();
}

std::optional<uint32_t> Census::bound(pool::Term term) const {
  if (!has_term_[index(term)]) return std::nullopt;
  return bound_[index(term)];
}

uint32_t Census::held_total() const {
  uint32_t total = unpaid_held_ + unref_pending_;
  for (uint32_t count : held_) total += count;
  return total;
}

std::string Census::describe() const {
  std::string text;
  for (size_t i = 0; i < pool::term_count; i++) {
    if (!has_term_[i]) continue;
    if (!text.empty()) text += ", ";
    text += std::string(pool::term_name(static_cast<pool::Term>(i))) + " " +
            std::to_string(held_[i]) + "/" + std::to_string(bound_[i]);
  }
  if (unpaid_held_ > 0) text += ", testing_bus_buffer (no term) " + std::to_string(unpaid_held_);
  if (unref_pending_ > 0) text += ", awaiting unref (no term) " + std::to_string(unref_pending_);
  return text;
}

}  // namespace sim
