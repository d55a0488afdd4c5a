#include "fuzz/pool_lifecycle.h"

#include <algorithm>
#include <cstring>

#include "fuzz/byte_reader.h"
#include "pool/message_pool.h"

#if defined(__has_include)
#if __has_include(<sanitizer/asan_interface.h>)
#include <sanitizer/asan_interface.h>
#endif
#endif

namespace fuzz {

namespace {

constexpr uint32_t capacity = 6;

// What the model knows of one live message.
struct Held {
  pool::Message* message;
  uint32_t references;
  pool::Command command;
  uint32_t size;  // header->frame.size as last written.
  uint8_t fill;
};

void header_reset(pool::Message* message, pool::Command command) {
  std::memset(message->buffer.data(), 0, pool::header_size);
  message->header->frame.command = command;
  message->header->frame.size = pool::header_size;
}

// Freed bytes are poisoned: ASan-poisoned in sanitizer builds, overwritten otherwise.
void check_poisoned(const uint8_t* bytes, uint32_t size) {
#if defined(__SANITIZE_ADDRESS__) || (defined(__has_feature) && __has_feature(address_sanitizer))
  // The first poisoned byte is the first byte, and the last is poisoned too.
  POOL_ASSERT(__asan_region_is_poisoned(const_cast<uint8_t*>(bytes), size) == bytes,
              "a released buffer is not ASan-poisoned from its start");
  POOL_ASSERT(__asan_address_is_poisoned(bytes + size - 1) != 0,
              "a released buffer's last used byte is not ASan-poisoned");
#else
  for (uint32_t i = 0; i < size; i++) POOL_ASSERT_EQ(bytes[i], pool::poison_byte);
#endif
}

class Model {
 public:
  // One pool for every input (a mapping per input would cost more than the checks); each input
  // must give every message back, which is the clean teardown the next input starts from.
  explicit Model(pool::MessagePool& pool) : config_(pool.config()), pool_(&pool) {
    POOL_ASSERT_EQ(pool.free_count(), capacity);
  }
  ~Model() {
    reset();
    POOL_ASSERT_EQ(pool_->free_count(), capacity);
  }

  void step(const LifecycleStep& step) {
    switch (step.op) {
      case LifecycleOp::get:
        get(std::nullopt);
        break;
      case LifecycleOp::get_typed:
        get(pool::commands_known[step.command % pool::commands_known.size()]);
        break;
      case LifecycleOp::reset:
        reset();
        break;
      default:
        if (!live_.empty()) on_live(step, live_[step.handle % live_.size()]);
        break;
    }
    check();
  }

 private:
  void get(std::optional<pool::Command> command) {
    if (live_.size() == capacity) return;  // Would exhaust the pool: misuse, not decoded.
    pool::Message* message = nullptr;
    if (command) {
      pool::command_visit(*command, [&](auto typed) {
        auto* view = pool_->get_message<decltype(typed)::value>();
        message = view->base();
        POOL_ASSERT(reinterpret_cast<void*>(view->header) == message->buffer.data());
      });
    } else {
      message = pool_->get_message();
    }
    for (const Held& held : live_) POOL_ASSERT(held.message != message, "handed out twice");
    POOL_ASSERT_EQ(message->references, 1u);
    POOL_ASSERT(reinterpret_cast<uint8_t*>(message->header) == message->buffer.data());
    POOL_ASSERT_EQ(message->buffer.size(), size_t{config_.message_size_max});
    POOL_ASSERT_EQ(reinterpret_cast<uintptr_t>(message->buffer.data()) % config_.sector_size, 0u);
    const pool::Command written = command.value_or(pool::Command::reserved);
    header_reset(message, written);
    live_.push_back(Held{message, 1, written, pool::header_size, 0});
  }

  void on_live(const LifecycleStep& step, Held& held) {
    pool::Message* message = held.message;
    switch (step.op) {
      case LifecycleOp::ref:
        POOL_ASSERT(message->ref() == message);
        held.references += 1;
        break;
      case LifecycleOp::unref:
        release(held);
        break;
      case LifecycleOp::into: {
        const pool::Command command =
            pool::commands_known[step.command % pool::commands_known.size()];
        pool::command_visit(command, [&](auto typed) {
          const bool matches = message->into<decltype(typed)::value>() != nullptr;
          POOL_ASSERT_EQ(matches, held.command == command);
        });
        POOL_ASSERT_EQ(message->references, held.references);
        break;
      }
      case LifecycleOp::into_any: {
        const auto any = message->into_any();
        const auto position =
            std::find(pool::commands_known.begin(), pool::commands_known.end(), held.command) -
            pool::commands_known.begin();
        POOL_ASSERT_EQ(any.index(), static_cast<size_t>(position));
        break;
      }
      case LifecycleOp::body_write: {
        const uint32_t body = step.size % (config_.message_size_max - pool::header_size + 1);
        message->header->frame.size = pool::header_size + body;
        std::memset(message->buffer.data() + pool::header_size, step.fill, body);
        held.size = pool::header_size + body;
        held.fill = step.fill;
        break;
      }
      case LifecycleOp::body_read: {
        const std::span<uint8_t> body = message->body_used();
        POOL_ASSERT_EQ(body.size(), size_t{held.size - pool::header_size});
        POOL_ASSERT(body.data() == message->buffer.data() + pool::header_size);
        POOL_ASSERT(body.data() + body.size() <= message->buffer.data() + message->buffer.size());
        for (uint8_t byte : body) POOL_ASSERT_EQ(byte, held.fill);
        break;
      }
      default:
        break;
    }
  }

  void release(Held& held) {
    pool::Message* message = held.message;
    const uint8_t* bytes = message->buffer.data();
    const uint32_t size = held.size;
    pool_->unref(message);
    held.references -= 1;
    if (held.references > 0) {
      POOL_ASSERT_EQ(message->references, held.references);
      return;
    }
    POOL_ASSERT(message->header == nullptr);
    POOL_ASSERT_EQ(message->references, 0u);
    check_poisoned(bytes, size);
    live_.erase(std::find_if(live_.begin(), live_.end(),
                             [&](const Held& h) { return h.message == message; }));
  }

  void reset() {
    while (!live_.empty()) release(live_.back());
  }

  void check() const {
    POOL_ASSERT_EQ(pool_->free_count(), capacity - static_cast<uint32_t>(live_.size()));
    POOL_ASSERT_EQ(pool_->used_count(), static_cast<uint32_t>(live_.size()));
    for (const Held& held : live_) POOL_ASSERT_EQ(held.message->references, held.references);
  }

  const pool::Config config_;
  pool::MessagePool* pool_;
  std::vector<Held> live_;
};

LifecycleStep decode(ByteReader& reader) {
  LifecycleStep step;
  step.op = static_cast<LifecycleOp>(reader.u8() % lifecycle_op_count);
  step.handle = reader.u8();
  step.command = reader.u8();
  step.size = reader.u16();
  step.fill = reader.u8();
  return step;
}

}  // namespace

std::vector<uint8_t> pool_lifecycle_encode(std::span<const LifecycleStep> steps) {
  ByteWriter writer;
  for (const LifecycleStep& step : steps) {
    writer.u8(static_cast<uint8_t>(step.op));
    writer.u8(step.handle);
    writer.u8(step.command);
    writer.u16(step.size);
    writer.u8(step.fill);
  }
  return writer.data();
}

void pool_lifecycle_run(std::span<const uint8_t> data) {
  static pool::MessagePool pool(pool::config_test_min(), capacity, "fuzz",
                                pool::Poisoning::used_bytes);
  ByteReader reader(data);
  Model model(pool);
  // At most 4096 steps: a long input must not make a slow one.
  for (int steps = 0; !reader.empty() && steps < 4096; steps++) model.step(decode(reader));
}

}  // namespace fuzz
