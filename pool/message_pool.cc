#include "pool/message_pool.h"

#include <sys/mman.h>

#include <cstdio>
#include <cstring>

// Its poisoning macros are no-ops unless the build has AddressSanitizer.
#include <sanitizer/asan_interface.h>

namespace pool {
namespace {

static_assert(commands_all([](auto command) {
                return message_layout_identical<CommandMessage<decltype(command)::value>>();
              }),
              "every CommandMessage<C> must be layout-identical to Message");

// Leak reports name at most this many messages.
constexpr uint32_t leak_report_messages_max = 16;

// The config, asserted valid: neither the formula nor a pool may run on an invalid one.
const Config& config_checked(const Config& config) {
  const std::optional<FieldError> invalid = config.validate();
  POOL_ASSERT(!invalid.has_value(), "invalid config: %s", invalid->message().c_str());
  return config;
}

MessagesMaxTerms messages_max_terms_client(const Config& config) {
  MessagesMaxTerms terms;
  terms.add(Term::connection_recv_buffers, config.replicas_max);
  terms.add(Term::connection_send_queues,
            config.replicas_max * config.connection_send_queue_max_client);
  terms.add(Term::request_inflight, 1);
  terms.add(Term::burst, 1);  // Parsing on a connection, or a ping when a send queue is full.
  // Necessary, not sufficient, to avoid deadlock (the original asserts the same).
  POOL_ASSERT_GT(terms.total(), 1u);
  return terms;
}

MessagesMaxTerms messages_max_terms_replica(const Config& config, const ReplicaOptions& replica,
                                            Formula formula) {
  const uint32_t pipeline_limit =
      config.pipeline_prepare_queue_max + replica.pipeline_requests_limit;

  MessagesMaxTerms terms;
  terms.add(Term::journal_reads, config.journal_iops_read_max);
  terms.add(Term::journal_writes, config.journal_iops_write_max);
  terms.add(Term::client_replies_reads, config.client_replies_iops_read_max);
  terms.add(Term::client_replies_writes, config.client_replies_iops_write_max);
  terms.add(Term::grid_repair_reads, config.grid_repair_reads_max);
  terms.add(Term::loopback_queue, 1);
  terms.add(Term::pipeline, pipeline_limit);
  terms.add(Term::commit_prepare, 1);
  terms.add(Term::sync_view, 1);
  // Every other quorum is a bitset. Standbys cannot be told from replicas here, so guess high.
  terms.add(Term::join_view_quorum, std::min(replica.members_count, config.replicas_max));
  terms.add(Term::burst, 1);
  terms.add(Term::commit_reply, 1);  // May coincide with a burst.
  // Finding 1: execute_op's reply of an older view is copied (replica.zig:8966-8986) while a
  // handled message is alive, three transients where the formula pays two.
  if (formula == Formula::corrected) terms.add(Term::reply_copy, 1);
  POOL_ASSERT_EQ(terms.bound(Term::reply_copy).has_value(), formula == Formula::corrected);
  if (replica.message_bus == MessageBusKind::tcp) {
    // Peers plus the clients the pipeline can serve; never a connection to itself.
    // Finding 2: the bus's table has one slot more (message_bus.zig:107-112, the spare of commit
    // 9720e47bc), and the spare keeps its receive buffer unless every replica connection is
    // intact when it is accepted (:400-420) or a replica connection completes later (:640).
    const uint32_t connections_max =
        replica.members_count + pipeline_limit - 1 + (formula == Formula::corrected ? 1 : 0);
    terms.add(Term::connection_recv_buffers, connections_max);
    terms.add(Term::connection_send_queues,
              connections_max * config.connection_send_queue_max_replica());
  }
  // Necessary, not sufficient, to avoid deadlock (the original asserts the same).
  POOL_ASSERT_GT(terms.total(), config.replicas_max);
  return terms;
}

}  // namespace

std::optional<FieldError> options_validate(const Config& config, const Options& options) {
  if (std::holds_alternative<ClientOptions>(options)) return std::nullopt;
  const auto& replica = std::get<ReplicaOptions>(options);
  if (replica.members_count < 1 || replica.members_count > config.members_max()) {
    return FieldError{"members_count", "must be in 1.." + std::to_string(config.members_max()) +
                                           ", got " + std::to_string(replica.members_count)};
  }
  if (replica.pipeline_requests_limit > config.pipeline_request_queue_max()) {
    return FieldError{"pipeline_requests_limit",
                      "must be in 0.." + std::to_string(config.pipeline_request_queue_max()) +
                          ", got " + std::to_string(replica.pipeline_requests_limit)};
  }
  if (replica.message_bus != MessageBusKind::tcp &&
      replica.message_bus != MessageBusKind::testing) {
    return FieldError{"message_bus", "must be tcp or testing"};
  }
  return std::nullopt;
}

std::string_view message_bus_name(MessageBusKind bus) {
  switch (bus) {
    case MessageBusKind::tcp:
      return "tcp";
    case MessageBusKind::testing:
      return "testing";
  }
  POOL_ASSERT(false, "message bus %u", static_cast<unsigned>(bus));
}

std::optional<MessageBusKind> message_bus_by_name(std::string_view name) {
  for (MessageBusKind bus : {MessageBusKind::tcp, MessageBusKind::testing}) {
    if (message_bus_name(bus) == name) return bus;
  }
  return std::nullopt;
}

std::string_view term_name(Term term) {
  switch (term) {
    case Term::journal_reads:
      return "journal_reads";
    case Term::journal_writes:
      return "journal_writes";
    case Term::client_replies_reads:
      return "client_replies_reads";
    case Term::client_replies_writes:
      return "client_replies_writes";
    case Term::grid_repair_reads:
      return "grid_repair_reads";
    case Term::loopback_queue:
      return "loopback_queue";
    case Term::pipeline:
      return "pipeline";
    case Term::commit_prepare:
      return "commit_prepare";
    case Term::sync_view:
      return "sync_view";
    case Term::join_view_quorum:
      return "join_view_quorum";
    case Term::burst:
      return "burst";
    case Term::commit_reply:
      return "commit_reply";
    case Term::reply_copy:
      return "reply_copy";
    case Term::connection_recv_buffers:
      return "connection_recv_buffers";
    case Term::connection_send_queues:
      return "connection_send_queues";
    case Term::request_inflight:
      return "request_inflight";
  }
  POOL_ASSERT(false, "term %u", static_cast<unsigned>(term));
}

std::string_view term_holder(Term term) {
  switch (term) {
    case Term::journal_reads:
      return "journal read IOPS (WAL reads for repair and recovery)";
    case Term::journal_writes:
      return "journal write IOPS (each holds the prepare it writes)";
    case Term::client_replies_reads:
      return "ClientReplies.reads (a reply read back)";
    case Term::client_replies_writes:
      return "ClientReplies.writes (a reply being written)";
    case Term::grid_repair_reads:
      return "Replica.grid_reads (blocks read for a peer's repair)";
    case Term::loopback_queue:
      return "Replica.loopback_queue (a message to itself)";
    case Term::pipeline:
      return "Replica.pipeline (prepare queue + request queue, or cache)";
    case Term::commit_prepare:
      return "Replica.commit_prepare (the prepare being committed)";
    case Term::sync_view:
      return "Replica.sync_view (the view kept for state sync)";
    case Term::join_view_quorum:
      return "Replica.join_view_from_all_replicas (one per replica)";
    case Term::burst:
      return "bursts (Connection.parse_message, a ping when a queue is full)";
    case Term::commit_reply:
      return "Replica.commit_op's reply (alongside a burst)";
    case Term::reply_copy:
      return "send_reply_message_to_client's reply_copy (corrected formula)";
    case Term::connection_recv_buffers:
      return "Connection.recv_buffer (one per connection)";
    case Term::connection_send_queues:
      return "Connection.send_queue (per connection)";
    case Term::request_inflight:
      return "Client.request_inflight (the request awaiting its reply)";
  }
  POOL_ASSERT(false, "term %u", static_cast<unsigned>(term));
}

void MessagesMaxTerms::add(Term term, uint32_t messages) {
  POOL_ASSERT_LT(count_, entries_.size());
  POOL_ASSERT(!bound(term).has_value(), "term %s added twice", term_name(term).data());
  entries_[count_] = Entry{term, messages};
  count_ += 1;
}

std::optional<uint32_t> MessagesMaxTerms::bound(Term term) const {
  for (const Entry& entry : entries()) {
    if (entry.term == term) return entry.messages;
  }
  return std::nullopt;
}

uint32_t MessagesMaxTerms::total() const {
  uint64_t sum = 0;
  for (const Entry& entry : entries()) sum += entry.messages;
  POOL_ASSERT_LE(sum, uint64_t{UINT32_MAX});
  return static_cast<uint32_t>(sum);
}

std::string_view formula_name(Formula formula) {
  POOL_ASSERT(formula == Formula::original || formula == Formula::corrected, "formula %u",
              static_cast<unsigned>(formula));
  return formula == Formula::original ? "original" : "corrected";
}

std::optional<Formula> formula_by_name(std::string_view name) {
  if (name == "original") return Formula::original;
  if (name == "corrected") return Formula::corrected;
  return std::nullopt;
}

MessagesMaxTerms messages_max_terms(const Config& config, const Options& options, Formula formula) {
  config_checked(config);
  // The same rules that options_validate reports to a user are a bug here.
  const std::optional<FieldError> invalid = options_validate(config, options);
  POOL_ASSERT(!invalid.has_value(), "invalid options: %s", invalid->message().c_str());
  if (std::holds_alternative<ClientOptions>(options)) return messages_max_terms_client(config);
  return messages_max_terms_replica(config, std::get<ReplicaOptions>(options), formula);
}

uint32_t messages_max(const Config& config, const Options& options, Formula formula) {
  return messages_max_terms(config, options, formula).total();
}

Message* Message::ref() {
  POOL_ASSERT(references > 0, "ref() of a free message");
  POOL_ASSERT(link.next == nullptr, "ref() of a message on the free list");
  POOL_ASSERT(header != nullptr);
  references += 1;
  return this;
}

std::span<uint8_t> Message::body_used() const {
  POOL_ASSERT(references > 0, "body_used() of a free message");
  const uint32_t size = header->frame.size;
  POOL_ASSERT_GE(size, header_size);
  POOL_ASSERT_LE(size_t{size}, buffer.size());
  return buffer.subspan(header_size, size - header_size);
}

AnyMessage Message::into_any() {
  POOL_ASSERT(references > 0, "into_any() of a free message");
  AnyMessage result;
  const Command command = header->frame.command;
  const bool known =
      command_visit(command, [&](auto typed) { result = build<decltype(typed)::value>(); });
  POOL_ASSERT(known, "into_any() of a message with command %u (%s): validate it first",
              static_cast<unsigned>(command), command_name(command).data());
  POOL_ASSERT_EQ(commands_known[result.index()], command);
  return result;
}

MessagePool::MessagePool(const Config& config, const Options& options, std::string name,
                         Poisoning poisoning)
    : MessagePool(config, pool::messages_max(config, options), std::move(name), poisoning) {}

MessagePool::MessagePool(const Config& config, uint32_t messages_max, std::string name,
                         Poisoning poisoning)
    : config_(config_checked(config)),
      name_(std::move(name)),
      poisoning_(poisoning),
      messages_max_(messages_max) {
  POOL_ASSERT_GT(messages_max_, 0u);
  allocate();
  POOL_ASSERT_EQ(free_count_, messages_max_);
}

void MessagePool::allocate() {
  // One anonymous mapping for every buffer: the kernel hands out zeroed pages on first touch,
  // so a production pool (1 MiB per message) costs only the pages its messages actually use.
  const size_t alignment = config_.sector_size;
  buffers_size_ = size_t{messages_max_} * config_.message_size_max + alignment;
  void* mapping = mmap(nullptr, buffers_size_, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  POOL_ASSERT(mapping != MAP_FAILED, "pool '%s': mmap of %zu bytes failed", name_.c_str(),
              buffers_size_);
  buffers_ = static_cast<uint8_t*>(mapping);
  // With transparent huge pages on "always", one touched byte would fault in 2 MiB. Failure
  // (a kernel without THP) leaves nothing to undo.
  madvise(mapping, buffers_size_, MADV_NOHUGEPAGE);
  uint8_t* buffers_aligned = buffers_;
  const size_t misalignment = reinterpret_cast<uintptr_t>(buffers_) % alignment;
  if (misalignment != 0) buffers_aligned += alignment - misalignment;

  messages_ = new Message[messages_max_];
  messages_size_ = size_t{messages_max_} * sizeof(Message);
  // Push in reverse so that get_message() hands out messages in index order.
  free_list_ = free_list_end();
  for (uint32_t index = messages_max_; index > 0; index -= 1) {
    Message& message = messages_[index - 1];
    message.header = nullptr;
    message.buffer = {buffers_aligned + size_t{index - 1} * config_.message_size_max,
                      config_.message_size_max};
    message.references = 0;
    message.link.next = free_list_;
    free_list_ = &message;
    POOL_ASSERT_EQ(reinterpret_cast<uintptr_t>(message.buffer.data()) % alignment, 0u);
    asan_poison(&message);
  }
  free_count_ = messages_max_;
}

MessagePool::~MessagePool() {
  if (free_count_ != messages_max_) {
    std::string missing;
    uint32_t listed = 0;
    for (uint32_t index = 0; index < messages_max_; index += 1) {
      const Message& message = messages_[index];
      if (message.references == 0) continue;
      if (listed == leak_report_messages_max) {
        missing += ", ...";
        break;
      }
      missing += (listed == 0 ? "#" : ", #") + std::to_string(index) + " (" +
                 std::string(command_name(message.header->frame.command)) +
                 ", references=" + std::to_string(message.references) + ")";
      listed += 1;
    }
    POOL_ASSERT(false, "pool '%s' destroyed with %u of %u messages still referenced: %s",
                name_.c_str(), messages_max_ - free_count_, messages_max_, missing.c_str());
  }
  if constexpr (verify) {
    // The free list holds every message exactly once: the count alone would miss a cycle.
    uint32_t listed = 0;
    for (const Message* message = free_list_; message != &free_list_end_;
         message = message->link.next) {
      POOL_ASSERT(owns(message) && message->references == 0 && message->header == nullptr);
      listed += 1;
      POOL_ASSERT_LE(listed, messages_max_);
    }
    POOL_ASSERT_EQ(listed, messages_max_);
  }
  ASAN_UNPOISON_MEMORY_REGION(buffers_, buffers_size_);
  munmap(buffers_, buffers_size_);
  delete[] messages_;
}

void MessagePool::unref_failed(const Message* message) const {
  POOL_ASSERT(owns(message), "pool '%s': unref() of a message from another pool", name_.c_str());
  POOL_ASSERT(message->references > 0, "pool '%s': unref() of free message #%u (released twice?)",
              name_.c_str(), message_index(message));
  POOL_ASSERT(message->link.next == nullptr, "pool '%s': unref() of message #%u on the free list",
              name_.c_str(), message_index(message));
  POOL_ASSERT(false, "unreachable");
}

void MessagePool::poison_used_bytes(Message* message) const {
  // Only the bytes the header says were used: poisoning all of a 1 MiB buffer would touch
  // every page of it. A size out of range means the header was never written (it still holds
  // zeros or the last poison), so only the header counts as used.
  const size_t size = message->header->frame.size;
  const bool size_written = size >= header_size && size <= message->buffer.size();
  const size_t used_size = size_written ? size : header_size;
  std::memset(message->buffer.data(), poison_byte, used_size);
}

void MessagePool::asan_poison(const Message* message) {
  ASAN_POISON_MEMORY_REGION(message->buffer.data(), message->buffer.size());
}

void MessagePool::asan_unpoison(const Message* message) {
  ASAN_UNPOISON_MEMORY_REGION(message->buffer.data(), message->buffer.size());
}

const Message& MessagePool::message_at(uint32_t index) const {
  POOL_ASSERT_LT(index, messages_max_);
  return messages_[index];
}

uint32_t MessagePool::message_index(const Message* message) const {
  POOL_ASSERT(owns(message));
  return static_cast<uint32_t>(message - messages_);
}

std::string MessagePool::census() const {
  if (!census_hook_) return "(no census hook installed)";
  return census_hook_();
}

void MessagePool::exhausted() const {
  if (exhaustion_handler_) {
    exhaustion_handler_(*this);
  } else {
    std::fprintf(stderr, "pool '%s' exhausted: all %u messages in use\n%s\n", name_.c_str(),
                 messages_max_, census().c_str());
  }
  POOL_ASSERT(false, "pool '%s' exhausted: all %u messages in use", name_.c_str(), messages_max_);
}

}  // namespace pool
