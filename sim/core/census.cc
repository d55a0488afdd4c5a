#include "sim/core/census.h"

#include <algorithm>
#include <bit>

namespace sim {

Census::Census(const pool::MessagesMaxTerms& terms, std::optional<pool::Term> shrink) {
  for (const auto& entry : terms.entries()) {
    bound_[index(entry.term)] = entry.messages;
    has_term_[index(entry.term)] = true;
  }
  if (shrink && has_term_[index(*shrink)] && bound_[index(*shrink)] > 0) {
    bound_[index(*shrink)] -= 1;
  }
  for (const pool::Term term : transient_terms) {
    if (!has_term_[index(term)]) continue;
    if (!transients_name_.empty()) transients_name_ += "+";
    transients_name_ += pool::term_name(term);
    transients_bound_ += bound_[index(term)];
  }
}

Census::MessageHolders& Census::holders_of(const pool::Message* message) {
  POOL_ASSERT(pool_ != nullptr, "a hold before the census met its pool");
  const uint32_t message_index = pool_->message_index(message);
  POOL_ASSERT_LT(message_index, messages_.size());
  return messages_[message_index];
}

void Census::check_transients() {
  // Distinct messages: a transient reference to a message a term of its own pays for (the
  // join_view being sent, once it is in the loopback queue) costs the pool nothing more.
  uint32_t held = 0;
  for (const pool::Term transient_term : transient_terms) {
    held += term_distinct_[index(transient_term)];
  }
  transients_peak_ = std::max(transients_peak_, held);
  if (held > transients_bound_ && breach_handler_) {
    // Named by the allowance's first term, whichever transient's message crossed it.
    breach_handler_({pool::Term::burst, transients_name_, held, transients_bound_});
  }
}

void Census::check_bound(pool::Term term) {
  if (transient(term)) return;  // check_transients, as the primary holders change.
  const size_t i = index(term);
  if (term_held_[i] > bound_[i] && breach_handler_) {
    breach_handler_({term, std::string(pool::term_name(term)), term_held_[i], bound_[i]});
  }
}

void Census::primary_change(std::optional<Holder> from, std::optional<Holder> to) {
  if (from == to) return;
  if (from) {
    POOL_ASSERT_GT(holder_distinct_[index(*from)], 0u);
    holder_distinct_[index(*from)] -= 1;
    if (auto term = holder_term(*from)) term_distinct_[index(*term)] -= 1;
  }
  if (to) {
    const size_t h = index(*to);
    holder_distinct_[h] += 1;
    holder_distinct_peak_[h] = std::max(holder_distinct_peak_[h], holder_distinct_[h]);
    if (auto term = holder_term(*to)) {
      const size_t t = index(*term);
      term_distinct_[t] += 1;
      term_distinct_peak_[t] = std::max(term_distinct_peak_[t], term_distinct_[t]);
    }
  }
}

static std::optional<Holder> primary_of(uint64_t holders) {
  if (holders == 0) return std::nullopt;
  return static_cast<Holder>(std::countr_zero(holders));
}

void Census::reference_add(Holder holder, pool::Message* message) {
  MessageHolders& entry = holders_of(message);
  const std::optional<Holder> before = primary_of(entry.holders);
  entry.references[index(holder)] += 1;
  entry.holders |= uint64_t{1} << index(holder);
  primary_change(before, primary_of(entry.holders));
  const size_t h = index(holder);
  holder_held_[h] += 1;
  holder_peak_[h] = std::max(holder_peak_[h], holder_held_[h]);
  if (auto term = holder_term(holder)) {
    const size_t t = index(*term);
    // A reply copy under the original formula eats into the transients' share (no term).
    POOL_ASSERT(has_term_[t] || *term == pool::Term::reply_copy,
                "%s holds for term %s in a process without it",
                std::string(holder_name(holder)).c_str(),
                std::string(pool::term_name(*term)).c_str());
    term_held_[t] += 1;
    term_peak_[t] = std::max(term_peak_[t], term_held_[t]);
    check_bound(*term);
  }
  check_primary_transient(before, primary_of(entry.holders));
}

void Census::check_primary_transient(std::optional<Holder> before, std::optional<Holder> now) {
  // Once every count is up to date: a breach reports them.
  if (!now || now == before) return;
  const std::optional<pool::Term> term = holder_term(*now);
  if (term && transient(*term)) check_transients();
}

void Census::reference_drop(Holder holder, pool::Message* message) {
  MessageHolders& entry = holders_of(message);
  POOL_ASSERT(entry.references[index(holder)] > 0, "%s drops a reference it does not hold",
              std::string(holder_name(holder)).c_str());
  const std::optional<Holder> before = primary_of(entry.holders);
  entry.references[index(holder)] -= 1;
  if (entry.references[index(holder)] == 0) entry.holders &= ~(uint64_t{1} << index(holder));
  primary_change(before, primary_of(entry.holders));
  holder_held_[index(holder)] -= 1;
  if (auto term = holder_term(holder)) term_held_[index(*term)] -= 1;
  check_primary_transient(before, primary_of(entry.holders));
}

pool::Message* Census::acquire(pool::MessagePool& pool, Holder holder) {
  if (pool_ == nullptr) {
    pool_ = &pool;
    messages_.resize(pool.messages_max());
  }
  POOL_ASSERT(pool_ == &pool, "a census serves one pool");
  acquiring_ = holder;
  pool::Message* message = pool.get_message();
  acquiring_.reset();
  reference_add(holder, message);
  note_pool_use(pool);
  changed();
  return message;
}

void Census::note_pool_use(const pool::MessagePool& pool) {
  if (pool.used_count() <= pool_peak_) return;
  pool_peak_ = pool.used_count();
  census_at_peak_ = describe_holders(true);
  if (context_) census_at_peak_ += " [" + context_() + "]";
}

pool::Message* Census::hold(Holder holder, pool::Message* message) {
  pool::Message* held = message->ref();
  reference_add(holder, held);
  changed();
  return held;
}

void Census::release(pool::MessagePool& pool, Holder holder, pool::Message* message) {
  reference_drop(holder, message);
  pool.unref(message);
  changed();
}

void Census::transfer(Holder from, Holder to, pool::Message* message) {
  // Dropped first: a move within one term never counts the message twice.
  reference_drop(from, message);
  reference_add(to, message);
  changed();
}

void Census::release_later(Holder holder, pool::Message* message) {
  transfer(holder, Holder::io_awaiting_unref, message);
}

void Census::unref_later(pool::MessagePool& pool, pool::Message* message) {
  release(pool, Holder::io_awaiting_unref, message);
}

std::optional<uint32_t> Census::bound(pool::Term term) const {
  if (!has_term_[index(term)]) return std::nullopt;
  return bound_[index(term)];
}

uint32_t Census::held_total() const {
  uint32_t total = 0;
  for (uint32_t count : holder_held_) total += count;
  return total;
}

std::string Census::describe_holders(bool distinct) const {
  std::string text;
  uint32_t distinct_total = 0;
  for (size_t i = 0; i < holder_count; i++) {
    if (holder_held_[i] == 0) continue;
    if (!text.empty()) text += ", ";
    const auto holder = static_cast<Holder>(i);
    text += std::string(holder_name(holder)) + " " +
            std::to_string(distinct ? holder_distinct_[i] : holder_held_[i]);
    distinct_total += holder_distinct_[i];
  }
  // Every live message has exactly one primary holder.
  if (pool_ != nullptr) POOL_ASSERT_EQ(distinct_total, pool_->used_count());
  return text;
}

std::string Census::describe() const {
  std::string text;
  for (size_t i = 0; i < pool::term_count; i++) {
    if (!has_term_[i]) continue;
    if (!text.empty()) text += ", ";
    text += std::string(pool::term_name(static_cast<pool::Term>(i))) + " " +
            std::to_string(term_held_[i]) + "/" + std::to_string(bound_[i]);
  }
  return text + " | " + describe_holders(false);
}

}  // namespace sim
