// Per-holder accounting for a MessagePool: every place that keeps a message is a tag, every
// reference is taken and dropped through the accounting, and each tag's references are charged
// to a limit with a bound (for pool::Term, the formula's term from MessagesMaxTerms). A hold that
// takes a limit past its bound calls the breach handler, so that a short term cannot hide behind
// a pool that happens to be big enough (TigerBeetle PR #3304 asks for exactly this).
//
// Counts are kept in references and in distinct messages: a message several tags hold counts
// once, for its primary tag (the lowest in the tag enum's order), so list the tags that keep a
// message longest first. Limits may share one allowance, checked in distinct messages against
// the sum of their bounds (the original's burst and commit_reply, which "may occur
// concurrently"). The pool's peak is remembered with what held it, tag by tag, and an exhausted
// pool's report names the tags that hold it and the one whose acquire failed.
//
// Compiled out (POOLSIM_ACCOUNTING_ENABLED=0, or `enabled = false`) an Accounting is a pointer to
// its pool: acquire, hold and release are get_message, ref and unref, and every count reads 0.
// The default `enabled` comes from POOLSIM_ACCOUNTING_ENABLED, which the exported target and
// poolsim.pc set (CMake option POOLSIM_ACCOUNTING): every translation unit sees the same value.
// Single-threaded, like the pool; the pool must outlive its accounting.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pool/assertion.h"
#include "pool/message_pool.h"

#ifndef POOLSIM_ACCOUNTING_ENABLED
#define POOLSIM_ACCOUNTING_ENABLED 1
#endif

namespace pool {

inline constexpr bool accounting_enabled = POOLSIM_ACCOUNTING_ENABLED != 0;

// What a tag (or limit) type says about itself: `count` values 0..count-1 and a name for each.
// Specialise it for an enum of your own: `template <> struct pool::TagTraits<MyTag> {...};`.
template <typename Tag>
struct TagTraits;

template <>
struct TagTraits<Term> {
  static constexpr size_t count = term_count;
  static std::string_view name(Term term) { return term_name(term); }
};

// A bound per limit, and at most one shared allowance (limits checked together).
template <typename Limit>
class Limits {
 public:
  static constexpr size_t count = static_cast<size_t>(TagTraits<Limit>::count);

  void set(Limit limit, uint32_t bound) {
    bound_[index(limit)] = bound;
    has_bound_[index(limit)] = true;
  }
  // Lowers a bound by one (a checker's teeth: the accounting must then report a breach).
  void shrink(Limit limit) {
    if (has_bound_[index(limit)] && bound_[index(limit)] > 0) bound_[index(limit)] -= 1;
  }
  std::optional<uint32_t> bound(Limit limit) const {
    if (!has_bound_[index(limit)]) return std::nullopt;
    return bound_[index(limit)];
  }
  // Checks `members` together, in distinct messages, against the sum of the bounds they have; a
  // member without a bound adds nothing to the allowance but is counted in it. Once.
  void share(std::initializer_list<Limit> members) {
    share(std::span<const Limit>(members.begin(), members.size()));
  }
  void share(std::span<const Limit> members) {
    POOL_ASSERT(shared_.empty(), "one shared allowance per accounting");
    POOL_ASSERT_GT(members.size(), size_t{0});
    for (const Limit member : members) {
      POOL_ASSERT(!shared(member), "a limit is shared once");
      shared_.push_back(member);
    }
  }
  bool shared(Limit limit) const {
    for (const Limit member : shared_) {
      if (member == limit) return true;
    }
    return false;
  }
  const std::vector<Limit>& shared_members() const { return shared_; }

  static size_t index(Limit limit) {
    const auto i = static_cast<size_t>(limit);
    POOL_ASSERT_LT(i, count);
    return i;
  }

 private:
  std::array<uint32_t, count> bound_{};
  std::array<bool, count> has_bound_{};
  std::vector<Limit> shared_;
};

// The formula's terms as limits, one bound per term the process has.
inline Limits<Term> limits_from_terms(const MessagesMaxTerms& terms) {
  Limits<Term> limits;
  for (const MessagesMaxTerms::Entry& entry : terms.entries()) {
    POOL_ASSERT(!limits.bound(entry.term), "a term appears once in the formula");
    limits.set(entry.term, entry.messages);
  }
  return limits;
}

// A limit breached: `what` names it ("journal_writes", or "burst+commit_reply" for the shared
// allowance, reported under its first member).
template <typename Limit>
struct Breach {
  Limit limit;
  std::string what;
  uint32_t held;  // After the hold: references, or distinct messages for the shared allowance.
  uint32_t bound;
};

// The tag each tag is charged to, or nullopt (counted, never bounded).
template <typename Tag, typename Limit>
using LimitOf = std::optional<Limit> (*)(Tag);

template <typename Tag>
std::optional<Tag> limit_is_tag(Tag tag) {
  return tag;
}

template <typename Tag, typename Limit = Tag, bool enabled = accounting_enabled>
class Accounting;

// The accounting, on.
template <typename Tag, typename Limit>
class Accounting<Tag, Limit, true> {
 public:
  static constexpr size_t tag_count = static_cast<size_t>(TagTraits<Tag>::count);
  static constexpr size_t limit_count = static_cast<size_t>(TagTraits<Limit>::count);
  static_assert(tag_count > 0 && tag_count <= 64, "a message's tags are a 64-bit set");
  using BreachHandler = std::function<void(const Breach<Limit>& breach)>;

  // Accounts for every message of `pool` (take them all through it: the holders' distinct
  // counts must sum to the pool's use). `limit_of` charges each tag to a limit; the default
  // (Tag = Limit) charges a tag to itself. Installs the pool's census hook while alive.
  Accounting(MessagePool& pool, const Limits<Limit>& limits,
             LimitOf<Tag, Limit> limit_of = &limit_is_tag<Tag>)
      : pool_(pool), limits_(limits), entries_(pool.messages_max()) {
    POOL_ASSERT(limit_of != nullptr);
    POOL_ASSERT(pool.used_count() == 0, "pool '%s': accounted from its first message",
                pool.name().c_str());
    POOL_ASSERT_EQ(entries_.size(), size_t{pool.messages_max()});
    for (size_t t = 0; t < tag_count; t++) limit_of_[t] = limit_of(static_cast<Tag>(t));
    for (const Limit member : limits_.shared_members()) {
      const std::optional<uint32_t> bound = limits_.bound(member);
      if (!bound) continue;
      if (!shared_name_.empty()) shared_name_ += "+";
      shared_name_ += TagTraits<Limit>::name(member);
      shared_bound_ += *bound;
    }
    breach_handler_ = [this](const Breach<Limit>& breach) { breach_default(breach); };
    pool_.set_census_hook([this] { return report(); });
  }
  ~Accounting() { pool_.set_census_hook(nullptr); }
  Accounting(const Accounting&) = delete;
  Accounting& operator=(const Accounting&) = delete;

  // The default handler prints the breach and aborts; replace it to record breaches instead.
  void set_breach_handler(BreachHandler handler) { breach_handler_ = std::move(handler); }
  // Called after every acquire, hold, release and transfer (to draw counts over time).
  void set_change_observer(std::function<void()> observer) {
    change_observer_ = std::move(observer);
  }
  // What the owner was doing, appended to at_peak() ("view_change").
  void set_context(std::function<std::string()> context) { context_ = std::move(context); }

  // A new message from the pool, held by `tag`.
  Message* acquire(Tag tag) {
    acquiring_ = tag;
    Message* message = pool_.get_message();
    acquiring_.reset();
    POOL_ASSERT_EQ(message->references, 1u);
    reference_add(tag, message);
    note_pool_use();
    changed();
    return message;
  }
  // Another reference to a live `message`, held by `tag`.
  Message* hold(Tag tag, Message* message) {
    Message* held = message->ref();
    POOL_ASSERT_GT(held->references, 1u);
    reference_add(tag, held);
    changed();
    return held;
  }
  // Drops `tag`'s reference to `message` (the last one returns it to the pool).
  void release(Tag tag, Message* message) {
    POOL_ASSERT_GT(message->references, 0u);
    reference_drop(tag, message);
    pool_.unref(message);
    changed();
  }
  // Moves `from`'s reference to `to`; dropped first, so a move within a limit never counts twice.
  void transfer(Tag from, Tag to, Message* message) {
    POOL_ASSERT_GT(message->references, 0u);
    reference_drop(from, message);
    reference_add(to, message);
    changed();
  }

  // References per tag, their peak; distinct messages the tag is primary for, now and at peak.
  uint32_t held(Tag tag) const { return tag_held_[tag_index(tag)]; }
  uint32_t peak(Tag tag) const { return tag_peak_[tag_index(tag)]; }
  uint32_t distinct(Tag tag) const { return tag_distinct_[tag_index(tag)]; }
  uint32_t distinct_peak(Tag tag) const { return tag_distinct_peak_[tag_index(tag)]; }
  // The same per limit (over the tags charged to it).
  uint32_t limit_held(Limit limit) const { return limit_held_[Limits<Limit>::index(limit)]; }
  uint32_t limit_peak(Limit limit) const { return limit_peak_[Limits<Limit>::index(limit)]; }
  uint32_t limit_distinct(Limit limit) const {
    return limit_distinct_[Limits<Limit>::index(limit)];
  }
  uint32_t limit_distinct_peak(Limit limit) const {
    return limit_distinct_peak_[Limits<Limit>::index(limit)];
  }
  std::optional<uint32_t> bound(Limit limit) const { return limits_.bound(limit); }
  // References over every tag.
  uint32_t held_total() const {
    uint32_t total = 0;
    for (const uint32_t count : tag_held_) total += count;
    return total;
  }

  // The shared allowance: its name ("burst+commit_reply"), bound and peak in distinct messages.
  const std::string& shared_name() const { return shared_name_; }
  uint32_t shared_bound() const { return shared_bound_; }
  uint32_t shared_peak() const { return shared_peak_; }

  // The pool's peak use, and what held it then: "pipeline 4, journal_write 1 [context]", each
  // tag alive with the distinct messages it was primary for (they sum to the peak).
  uint32_t pool_peak() const { return pool_peak_; }
  const std::string& at_peak() const { return at_peak_; }
  // The tag whose acquire is under way (the one an exhausted pool failed), if any.
  std::optional<Tag> acquiring() const { return acquiring_; }

  // "journal_writes 2/8, pipeline 3/4 | journal_write 2, pipeline 3": every bounded limit's
  // references and bound, then every tag alive with its references.
  std::string describe() const {
    std::string text;
    for (size_t l = 0; l < limit_count; l++) {
      const auto limit = static_cast<Limit>(l);
      const std::optional<uint32_t> limit_bound = limits_.bound(limit);
      if (!limit_bound) continue;
      if (!text.empty()) text += ", ";
      text += std::string(TagTraits<Limit>::name(limit)) + " " + std::to_string(limit_held_[l]) +
              "/" + std::to_string(*limit_bound);
    }
    return text + " | " + describe_tags(false);
  }
  // describe(), led by the tag being acquired: what the pool's exhaustion report prints.
  std::string report() const {
    std::string text;
    if (acquiring_) text = "acquiring " + std::string(TagTraits<Tag>::name(*acquiring_)) + "; ";
    return text + describe();
  }
  // Every tag alive with its distinct messages (`distinct`) or references.
  std::string describe_tags(bool distinct) const {
    std::string text;
    uint32_t distinct_total = 0;
    for (size_t t = 0; t < tag_count; t++) {
      if (tag_held_[t] == 0) continue;
      if (!text.empty()) text += ", ";
      text += std::string(TagTraits<Tag>::name(static_cast<Tag>(t))) + " " +
              std::to_string(distinct ? tag_distinct_[t] : tag_held_[t]);
      distinct_total += tag_distinct_[t];
    }
    POOL_ASSERT(distinct_total == pool_.used_count(),
                "pool '%s': %u messages in use, %u accounted for (every message must be taken "
                "through the accounting)",
                pool_.name().c_str(), pool_.used_count(), distinct_total);
    return text;
  }

  MessagePool& pool() const { return pool_; }

 private:
  struct Entry {
    uint64_t tags = 0;  // Bit per tag with a reference.
    std::array<uint16_t, tag_count> references{};
  };

  static size_t tag_index(Tag tag) {
    const auto i = static_cast<size_t>(tag);
    POOL_ASSERT_LT(i, tag_count);
    return i;
  }
  static std::optional<Tag> primary_of(uint64_t tags) {
    if (tags == 0) return std::nullopt;
    return static_cast<Tag>(std::countr_zero(tags));
  }
  Entry& entry_of(const Message* message) {
    const uint32_t message_index = pool_.message_index(message);
    POOL_ASSERT_LT(message_index, entries_.size());
    return entries_[message_index];
  }

  void reference_add(Tag tag, Message* message) {
    Entry& entry = entry_of(message);
    const size_t t = tag_index(tag);
    const std::optional<Tag> before = primary_of(entry.tags);
    POOL_ASSERT_LT(entry.references[t], UINT16_MAX);
    entry.references[t] += 1;
    entry.tags |= uint64_t{1} << t;
    const std::optional<Tag> now = primary_of(entry.tags);
    primary_change(before, now);
    tag_held_[t] += 1;
    tag_peak_[t] = std::max(tag_peak_[t], tag_held_[t]);
    if (const std::optional<Limit> limit = limit_of_[t]) {
      const size_t l = Limits<Limit>::index(*limit);
      POOL_ASSERT(limits_.bound(*limit) || limits_.shared(*limit),
                  "%s holds for %s, a limit with no bound",
                  std::string(TagTraits<Tag>::name(tag)).c_str(),
                  std::string(TagTraits<Limit>::name(*limit)).c_str());
      limit_held_[l] += 1;
      limit_peak_[l] = std::max(limit_peak_[l], limit_held_[l]);
      check_bound(*limit);
    }
    check_primary_shared(before, now);
  }

  void reference_drop(Tag tag, Message* message) {
    Entry& entry = entry_of(message);
    const size_t t = tag_index(tag);
    POOL_ASSERT(entry.references[t] > 0, "%s drops a reference it does not hold",
                std::string(TagTraits<Tag>::name(tag)).c_str());
    const std::optional<Tag> before = primary_of(entry.tags);
    entry.references[t] -= 1;
    if (entry.references[t] == 0) entry.tags &= ~(uint64_t{1} << t);
    const std::optional<Tag> now = primary_of(entry.tags);
    primary_change(before, now);
    POOL_ASSERT_GT(tag_held_[t], 0u);
    tag_held_[t] -= 1;
    if (const std::optional<Limit> limit = limit_of_[t]) {
      limit_held_[Limits<Limit>::index(*limit)] -= 1;
    }
    check_primary_shared(before, now);
  }

  void primary_change(std::optional<Tag> from, std::optional<Tag> to) {
    if (from == to) return;
    if (from) {
      const size_t t = tag_index(*from);
      POOL_ASSERT_GT(tag_distinct_[t], 0u);
      tag_distinct_[t] -= 1;
      if (const std::optional<Limit> limit = limit_of_[t]) {
        limit_distinct_[Limits<Limit>::index(*limit)] -= 1;
      }
    }
    if (to) {
      const size_t t = tag_index(*to);
      tag_distinct_[t] += 1;
      tag_distinct_peak_[t] = std::max(tag_distinct_peak_[t], tag_distinct_[t]);
      if (const std::optional<Limit> limit = limit_of_[t]) {
        const size_t l = Limits<Limit>::index(*limit);
        limit_distinct_[l] += 1;
        limit_distinct_peak_[l] = std::max(limit_distinct_peak_[l], limit_distinct_[l]);
      }
    }
  }

  // A limit of its own is checked in references as they are taken.
  void check_bound(Limit limit) {
    if (limits_.shared(limit)) return;  // check_shared, as the primary tags change.
    const size_t l = Limits<Limit>::index(limit);
    const std::optional<uint32_t> limit_bound = limits_.bound(limit);
    if (limit_bound && limit_held_[l] > *limit_bound && breach_handler_) {
      breach_handler_(
          {limit, std::string(TagTraits<Limit>::name(limit)), limit_held_[l], *limit_bound});
    }
  }

  // Once every count is up to date (a breach reports them): a message whose primary tag became
  // one of the shared allowance's may have taken it past its bound.
  void check_primary_shared(std::optional<Tag> before, std::optional<Tag> now) {
    if (!now || now == before) return;
    const std::optional<Limit> limit = limit_of_[tag_index(*now)];
    if (limit && limits_.shared(*limit)) check_shared();
  }

  // Distinct messages: a shared tag's reference to a message another limit pays for costs the
  // pool nothing more.
  void check_shared() {
    POOL_ASSERT(!limits_.shared_members().empty());
    uint32_t shared_held = 0;
    for (const Limit member : limits_.shared_members()) {
      shared_held += limit_distinct_[Limits<Limit>::index(member)];
    }
    shared_peak_ = std::max(shared_peak_, shared_held);
    if (shared_held > shared_bound_ && breach_handler_) {
      breach_handler_({limits_.shared_members().front(), shared_name_, shared_held, shared_bound_});
    }
  }

  void note_pool_use() {
    if (pool_.used_count() <= pool_peak_) return;
    pool_peak_ = pool_.used_count();
    POOL_ASSERT_LE(pool_peak_, pool_.messages_max());
    at_peak_ = describe_tags(true);
    if (context_) at_peak_ += " [" + context_() + "]";
  }

  [[noreturn]] void breach_default(const Breach<Limit>& breach) const {
    assertion_failed(__FILE__, __LINE__, "held <= bound", "pool '%s': %s held %u > bound %u (%s)",
                     pool_.name().c_str(), breach.what.c_str(), breach.held, breach.bound,
                     describe().c_str());
  }

  void changed() {
    if (change_observer_) change_observer_();
  }

  MessagePool& pool_;
  const Limits<Limit> limits_;
  std::array<std::optional<Limit>, tag_count> limit_of_{};
  std::vector<Entry> entries_;  // By the pool's message index.
  std::array<uint32_t, tag_count> tag_held_{};
  std::array<uint32_t, tag_count> tag_peak_{};
  std::array<uint32_t, tag_count> tag_distinct_{};
  std::array<uint32_t, tag_count> tag_distinct_peak_{};
  std::array<uint32_t, limit_count> limit_held_{};
  std::array<uint32_t, limit_count> limit_peak_{};
  std::array<uint32_t, limit_count> limit_distinct_{};
  std::array<uint32_t, limit_count> limit_distinct_peak_{};
  std::string shared_name_;
  uint32_t shared_bound_ = 0;
  uint32_t shared_peak_ = 0;
  uint32_t pool_peak_ = 0;
  std::string at_peak_;
  std::optional<Tag> acquiring_;
  BreachHandler breach_handler_;
  std::function<void()> change_observer_;
  std::function<std::string()> context_;
};

// The accounting, compiled out: the pool's own operations, nothing counted.
template <typename Tag, typename Limit>
class Accounting<Tag, Limit, false> {
 public:
  using BreachHandler = std::function<void(const Breach<Limit>& breach)>;

  Accounting(MessagePool& pool, const Limits<Limit>& /*limits*/,
             LimitOf<Tag, Limit> /*limit_of*/ = &limit_is_tag<Tag>)
      : pool_(pool) {}
  Accounting(const Accounting&) = delete;
  Accounting& operator=(const Accounting&) = delete;

  void set_breach_handler(const BreachHandler& /*handler*/) {}
  void set_change_observer(const std::function<void()>& /*observer*/) {}
  void set_context(const std::function<std::string()>& /*context*/) {}

  Message* acquire(Tag /*tag*/) { return pool_.get_message(); }
  Message* hold(Tag /*tag*/, Message* message) {
    POOL_ASSERT_GT(message->references, 0u);
    return message->ref();
  }
  void release(Tag /*tag*/, Message* message) { pool_.unref(message); }
  void transfer(Tag /*from*/, Tag /*to*/, Message* /*message*/) {}

  uint32_t held(Tag /*tag*/) const { return 0; }
  uint32_t peak(Tag /*tag*/) const { return 0; }
  uint32_t distinct(Tag /*tag*/) const { return 0; }
  uint32_t distinct_peak(Tag /*tag*/) const { return 0; }
  uint32_t limit_held(Limit /*limit*/) const { return 0; }
  uint32_t limit_peak(Limit /*limit*/) const { return 0; }
  uint32_t limit_distinct(Limit /*limit*/) const { return 0; }
  uint32_t limit_distinct_peak(Limit /*limit*/) const { return 0; }
  std::optional<uint32_t> bound(Limit /*limit*/) const { return std::nullopt; }
  uint32_t held_total() const { return 0; }
  const std::string& shared_name() const { return empty(); }
  uint32_t shared_bound() const { return 0; }
  uint32_t shared_peak() const { return 0; }
  uint32_t pool_peak() const { return 0; }
  const std::string& at_peak() const { return empty(); }
  std::optional<Tag> acquiring() const { return std::nullopt; }
  std::string describe() const { return "(accounting compiled out)"; }
  std::string report() const { return describe(); }
  std::string describe_tags(bool /*distinct*/) const { return describe(); }
  MessagePool& pool() const { return pool_; }

 private:
  static const std::string& empty() {
    static const std::string text;
    return text;
  }
  MessagePool& pool_;
};

static_assert(sizeof(Accounting<Term, Term, false>) == sizeof(MessagePool*),
              "compiled out, the accounting is only its pool");

}  // namespace pool
