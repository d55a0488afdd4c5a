// A fixed-capacity pool of reference-counted messages, after TigerBeetle's MessagePool: every
// buffer is allocated once, at construction, and sized by `messages_max()`, a formula with one
// term per place where a replica or a client keeps messages. If a term is short, a process can
// run out of messages and deadlock; the simulator exists to prove every term is enough.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "pool/assertion.h"
#include "pool/config.h"
#include "pool/header.h"

namespace pool {

// How a replica talks to its peers: `tcp` keeps a receive buffer and a send queue of messages
// per connection (terms of the formula); `testing` hands each message straight to a simulated
// network, which copies it, so the replica keeps nothing for the bus.
enum class MessageBusKind : uint8_t { tcp, testing };
// "tcp" or "testing".
std::string_view message_bus_name(MessageBusKind bus);
// The bus called `name`, or nullopt.
std::optional<MessageBusKind> message_bus_by_name(std::string_view name);

struct ClientOptions {};

struct ReplicaOptions {
  uint32_t members_count;            // Replicas and standbys, 1..members_max.
  uint32_t pipeline_requests_limit;  // Requests queued behind the prepares, 0..request queue max.
  MessageBusKind message_bus;
};

// The process a pool serves, like the original's `union(ProcessType)`.
using Options = std::variant<ClientOptions, ReplicaOptions>;

// The first out-of-range field of `options` under `config`, or nullopt.
std::optional<FieldError> options_validate(const Config& config, const Options& options);

// The places that keep messages; each is a term of `messages_max()`.
enum class Term : uint8_t {
  journal_reads,            // Journal read IOPS: WAL reads in flight (repair, recovery, commit).
  journal_writes,           // Journal write IOPS: each holds the prepare being written.
  client_replies_reads,     // ClientReplies reads: a reply read back for a retried request.
  client_replies_writes,    // ClientReplies writes: each holds the reply being written.
  grid_repair_reads,        // Replica.grid_reads: a block read serving a peer's repair.
  loopback_queue,           // Replica.loopback_queue: a message to itself (its own prepare_ok).
  pipeline,                 // Replica.pipeline: prepare queue + request queue, or the cache.
  commit_prepare,           // Replica.commit_prepare: the prepare being committed.
  sync_view,                // Replica.sync_view: the view message kept during state sync.
  join_view_quorum,         // Replica.join_view_from_all_replicas: one per replica.
  burst,                    // Transient: a message parsed on a connection, or a ping built.
  commit_reply,             // The reply commit_op builds, alive at the same time as a burst.
  reply_copy,               // Corrected formula only: send_reply_message_to_client's copy.
  connection_recv_buffers,  // Connection.recv_buffer, one per connection.
  connection_send_queues,   // Connection.send_queue, per connection.
  request_inflight,         // Client.request_inflight: the client's one outstanding request.
};
inline constexpr size_t term_count = 16;
static_assert(static_cast<size_t>(Term::request_inflight) + 1 == term_count);

// "journal_reads", as the JSON and the census name it.
std::string_view term_name(Term term);
// Where the original keeps these messages, one short line.
std::string_view term_holder(Term term);

// `messages_max()` term by term, in the formula's order, with only the process's own terms.
class MessagesMaxTerms {
 public:
  struct Entry {
    Term term;
    uint32_t messages;
  };

  void add(Term term, uint32_t messages);
  std::span<const Entry> entries() const { return {entries_.data(), count_}; }
  // The term's bound, or nullopt if the process has no such term.
  std::optional<uint32_t> bound(Term term) const;
  uint32_t total() const;

 private:
  std::array<Entry, term_count> entries_{};
  size_t count_ = 0;
};

// Which formula: `original` is TigerBeetle's at 52ad553f9, term for term; `corrected` adds a
// named term per finding of the simulator (README, "Findings"): reply_copy, a replica's reply
// copy beside execute's reply and the handled message (send_reply_message_to_client); and a tcp
// replica's connections counted with the bus's spare slot (connection_recv_buffers and
// connection_send_queues over members + pipeline_limit connections, not one fewer).
enum class Formula : uint8_t { original, corrected };
// "original" or "corrected".
std::string_view formula_name(Formula formula);
// The formula called `name`, or nullopt.
std::optional<Formula> formula_by_name(std::string_view name);

// The formula, term by term. `options` must be valid (see options_validate).
MessagesMaxTerms messages_max_terms(const Config& config, const Options& options,
                                    Formula formula = Formula::original);
// The sum of the terms: how many messages the pool allocates.
uint32_t messages_max(const Config& config, const Options& options,
                      Formula formula = Formula::original);

struct Message;
template <Command command>
struct CommandMessage;

// A pointer to the message as the type its header's command names; alternative i is
// CommandMessage<commands_known[i]>*.
template <size_t... index>
std::variant<CommandMessage<commands_known[index]>*...> any_message_type(
    std::index_sequence<index...>);
using AnyMessage = decltype(any_message_type(std::make_index_sequence<commands_known.size()>()));

// True when T has Message's fields at Message's offsets (defined below).
template <typename T>
constexpr bool message_layout_identical();

// A free message's link in the pool's free list (null while the message is in use).
struct MessageLink {
  Message* next;
};

// A message: a header pointer into a sector-aligned buffer of message_size_max bytes, a
// reference count, and the free-list link. Live while references > 0 (and header is set).
// [[gnu::may_alias]]: the same object is viewed as Message and as CommandMessage<C>.
struct [[gnu::may_alias]] Message {
  Header* header;             // Points at buffer[0] while live; null while free.
  std::span<uint8_t> buffer;  // message_size_max bytes, sector-aligned.
  uint32_t references;        // 0 while free.
  MessageLink link;           // Non-null only while on the free list.

  // Adds a reference and returns the same message. The message must be live.
  Message* ref();

  // The body, bytes [header_size, header->size) of the buffer.
  std::span<uint8_t> body_used() const;

  // The message as the type `command` names, without checking the header (for construction).
  // Does not change the reference count.
  template <Command command>
  CommandMessage<command>* build() {
    return reinterpret_cast<CommandMessage<command>*>(this);
  }
  template <Command command>
  const CommandMessage<command>* build() const {
    return reinterpret_cast<const CommandMessage<command>*>(this);
  }

  // The message as the type `command` names, or null when the header's command differs.
  // Does not change the reference count.
  template <Command command>
  CommandMessage<command>* into() {
    POOL_ASSERT(header != nullptr, "into() of a free message");
    if (header->frame.command != command) return nullptr;
    return build<command>();
  }

  // The message as the type its header's command names. The command must be known (validate
  // the header first). Does not change the reference count.
  AnyMessage into_any();
};

// A message whose header has the type `command` names: the same four fields at the same offsets
// as Message (checked below), so a pointer converts back and forth.
template <Command command>
struct [[gnu::may_alias]] CommandMessage {
  HeaderOf<command>* header;
  std::span<uint8_t> buffer;
  uint32_t references;
  MessageLink link;

  Message* base() { return reinterpret_cast<Message*>(this); }
  const Message* base() const { return reinterpret_cast<const Message*>(this); }
  CommandMessage* ref() { return base()->ref()->template build<command>(); }
  std::span<uint8_t> body_used() const { return base()->body_used(); }
};

template <typename T>
constexpr bool message_layout_identical() {
  // Field by field: std::is_layout_compatible is missing from clang 14.
  return sizeof(T) == sizeof(Message) && alignof(T) == alignof(Message) &&
         std::is_standard_layout_v<T> && offsetof(T, header) == offsetof(Message, header) &&
         sizeof(T::header) == sizeof(Message::header) &&
         offsetof(T, buffer) == offsetof(Message, buffer) &&
         sizeof(T::buffer) == sizeof(Message::buffer) &&
         offsetof(T, references) == offsetof(Message, references) &&
         sizeof(T::references) == sizeof(Message::references) &&
         offsetof(T, link) == offsetof(Message, link) && sizeof(T::link) == sizeof(Message::link);
}

// What a pool does with a released message's bytes.
enum class Poisoning : uint8_t {
  off,         // Leave them (fastest; a stale read goes unnoticed outside sanitizer builds).
  used_bytes,  // Overwrite the bytes the message used (header and body) with poison_byte; a
               // header whose size is out of range (never written) counts as header only.
};
inline constexpr uint8_t poison_byte = 0xAA;
// Expensive checks on by default; POOLSIM_VERIFY=OFF turns them off for a whole build.
#ifndef POOLSIM_VERIFY_ENABLED
#define POOLSIM_VERIFY_ENABLED 1
#endif
inline constexpr bool verify = POOLSIM_VERIFY_ENABLED != 0;
inline constexpr Poisoning poisoning_default = verify ? Poisoning::used_bytes : Poisoning::off;

// True when AddressSanitizer instruments this build: free buffers are then ASan-poisoned
// whole, so that any read or write after the last unref is reported.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool asan_build = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool asan_build = true;
#else
inline constexpr bool asan_build = false;
#endif
#else
inline constexpr bool asan_build = false;
#endif

// The pool: messages_max messages, allocated at construction and never again. get_message()
// takes one from the free list with one reference; unref() of the last reference puts it back.
// Single-threaded, like the original. Not copyable or movable (messages point into it).
class MessagePool {
 public:
  // Runs when get_message() finds no free message; the pool aborts after it returns.
  using ExhaustionHandler = std::function<void(const MessagePool&)>;
  // Describes who holds the pool's messages (the simulator's census), for exhaustion reports.
  using CensusHook = std::function<std::string()>;

  // A pool of messages_max(config, options) messages; options must be valid.
  MessagePool(const Config& config, const Options& options, std::string name,
              Poisoning poisoning = poisoning_default);
  // A pool of exactly `messages_capacity` messages, like the original's init_capacity (the
  // simulated network sizes its own pool this way).
  MessagePool(const Config& config, uint32_t messages_max, std::string name,
              Poisoning poisoning = poisoning_default);
  // Asserts that every message came back, naming those that did not.
  ~MessagePool();

  MessagePool(const MessagePool&) = delete;
  MessagePool& operator=(const MessagePool&) = delete;

  // An unused message with exactly one reference and its header pointing at its buffer. The
  // header's bytes are left as they are (zero, poison or stale): the caller writes the whole
  // header. On exhaustion runs the exhaustion handler, then aborts.
  inline Message* get_message();
  template <Command command>
  CommandMessage<command>* get_message() {
    return get_message()->build<command>();
  }

  // Drops one reference; the last one returns the message to the pool (poisoned as configured).
  inline void unref(Message* message);
  template <Command command>
  void unref(CommandMessage<command>* message) {
    unref(message->base());
  }

  // The capacity, fixed at construction.
  uint32_t messages_max() const { return messages_max_; }
  // Messages on the free list, ready for get_message().
  uint32_t free_count() const { return free_count_; }
  // Messages with at least one reference: messages_max() − free_count().
  uint32_t used_count() const { return messages_max_ - free_count_; }
  const std::string& name() const { return name_; }
  const Config& config() const { return config_; }
  Poisoning poisoning() const { return poisoning_; }
  // The message at `index` (0..messages_max-1), for census and leak reports.
  const Message& message_at(uint32_t index) const;
  // The index of a message of this pool.
  uint32_t message_index(const Message* message) const;

  // Replaces the default exhaustion report (name, capacity, census); the pool aborts after the
  // handler returns, since it has no message to give.
  void set_exhaustion_handler(ExhaustionHandler handler) {
    exhaustion_handler_ = std::move(handler);
  }
  // Installs the census hook that the default exhaustion report prints.
  void set_census_hook(CensusHook hook) { census_hook_ = std::move(hook); }
  // The census hook's text, or a note that none is installed.
  std::string census() const;

 private:
  void allocate();
  // The cold paths, out of line so that get_message and unref stay small enough to inline.
  [[noreturn, gnu::cold]] void exhausted() const;
  [[noreturn, gnu::cold]] void unref_failed(const Message* message) const;
  void poison_used_bytes(Message* message) const;
  // ASan-poisons (unpoisons) the whole buffer; no-ops outside ASan builds.
  static void asan_poison(const Message* message);
  static void asan_unpoison(const Message* message);
  bool owns(const Message* message) const {
    // Compare addresses as integers: pointers into different arrays are not ordered in C++.
    const auto address = reinterpret_cast<uintptr_t>(message);
    const auto begin = reinterpret_cast<uintptr_t>(messages_);
    return address - begin < messages_size_ && (address - begin) % sizeof(Message) == 0;
  }
  // The free list ends at a sentinel rather than null, so that a free message's link is never
  // null and a live one's always is. A member, so that its address costs no load.
  Message* free_list_end() { return &free_list_end_; }

  const Config config_;
  const std::string name_;
  const Poisoning poisoning_;
  const uint32_t messages_max_;
  uint32_t free_count_ = 0;
  Message* free_list_ = nullptr;
  Message* messages_ = nullptr;
  size_t messages_size_ = 0;  // messages_max_ × sizeof(Message), for owns().
  Message free_list_end_{};
  uint8_t* buffers_ = nullptr;  // messages_max_ × message_size_max bytes, mapped lazily.
  size_t buffers_size_ = 0;
  ExhaustionHandler exhaustion_handler_;
  CensusHook census_hook_;
};

// The hot path, inline: a pop and a push with the original's assertions.
Message* MessagePool::get_message() {
  if (free_list_ == free_list_end()) [[unlikely]] {
    exhausted();
  }
  Message* message = free_list_;
  free_list_ = message->link.next;
  POOL_ASSERT(free_list_ != nullptr, "pool '%s': free list corrupted", name_.c_str());
  POOL_ASSERT_EQ(message->references, 0u);
  POOL_ASSERT(message->header == nullptr);
  POOL_ASSERT_GT(free_count_, 0u);
  free_count_ -= 1;
  if constexpr (asan_build) asan_unpoison(message);
  message->link.next = nullptr;
  message->header = reinterpret_cast<Header*>(message->buffer.data());
  message->references = 1;
  return message;
}

void MessagePool::unref(Message* message) {
  if (!owns(message) || message->references == 0 || message->link.next != nullptr) [[unlikely]] {
    unref_failed(message);
  }
  message->references -= 1;
  if (message->references > 0) return;

  if (poisoning_ == Poisoning::used_bytes) poison_used_bytes(message);
  message->header = nullptr;
  message->link.next = free_list_;
  free_list_ = message;
  free_count_ += 1;
  if constexpr (asan_build) asan_poison(message);
  POOL_ASSERT_LE(free_count_, messages_max_);
}

}  // namespace pool
