// A stateful property test: random sequences of pool operations, each checked against a
// reference model of reference counts, commands and bodies. RapidCheck shrinks a failing
// sequence to a minimal one; ctest pins RC_PARAMS so that runs repeat.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "pool/message_pool.h"

namespace pool {
namespace {

struct ModelMessage {
  uint32_t references;
  Command command;
  std::vector<uint8_t> body;
};

struct Model {
  uint32_t capacity;
  std::vector<ModelMessage> live;  // In the order the SUT keeps them.
};

struct PoolUnderTest {
  MessagePool pool;
  std::vector<Message*> live;

  explicit PoolUnderTest(uint32_t capacity)
      : pool(config_test_min(), capacity, "model", Poisoning::used_bytes) {}
  // A failed property must shrink, not abort in the pool's leak check.
  ~PoolUnderTest() { release_all(); }
  PoolUnderTest(const PoolUnderTest&) = delete;
  PoolUnderTest& operator=(const PoolUnderTest&) = delete;

  // Drops every reference still held.
  void release_all() {
    for (Message* message : live) {
      while (message->references > 0) pool.unref(message);
    }
    live.clear();
  }
};

using PoolCommand = rc::state::Command<Model, PoolUnderTest>;

void header_write(Message* message, Command command, const std::vector<uint8_t>& body) {
  std::memset(message->header, 0, header_size);
  message->header->frame.command = command;
  message->header->frame.size = header_size + static_cast<uint32_t>(body.size());
  if (!body.empty()) std::memcpy(message->buffer.data() + header_size, body.data(), body.size());
}

void check_new_message(const PoolUnderTest& sut, const Message* message) {
  RC_ASSERT(message->references == 1u);
  RC_ASSERT(reinterpret_cast<const uint8_t*>(message->header) == message->buffer.data());
  RC_ASSERT(reinterpret_cast<uintptr_t>(message->buffer.data()) % 4096 == 0u);
  RC_ASSERT(std::find(sut.live.begin(), sut.live.end(), message) == sut.live.end());
}

struct Get : PoolCommand {
  pool::Command command = *rc::gen::elementOf(commands_known);
  void checkPreconditions(const Model& model) const { RC_PRE(model.live.size() < model.capacity); }
  void apply(Model& model) const { model.live.push_back({1, command, {}}); }
  void run(const Model&, PoolUnderTest& sut) const {
    Message* message = sut.pool.get_message();
    check_new_message(sut, message);
    header_write(message, command, {});
    sut.live.push_back(message);
  }
  void show(std::ostream& out) const { out << "get " << command_name(command); }
};

struct GetTyped : PoolCommand {
  pool::Command command = *rc::gen::elementOf(commands_known);
  void checkPreconditions(const Model& model) const { RC_PRE(model.live.size() < model.capacity); }
  void apply(Model& model) const { model.live.push_back({1, command, {}}); }
  void run(const Model&, PoolUnderTest& sut) const {
    RC_ASSERT(command_visit(command, [&](auto typed) {
      auto* message = sut.pool.get_message<decltype(typed)::value>();
      check_new_message(sut, message->base());
      header_write(message->base(), command, {});
      RC_ASSERT(message->base()->template into<decltype(typed)::value>() == message);
      sut.live.push_back(message->base());
    }));
  }
  void show(std::ostream& out) const { out << "get<" << command_name(command) << ">"; }
};

// A command on one live message, chosen by index.
struct OnLive : PoolCommand {
  size_t index = 0;
  explicit OnLive(const Model& model) {
    if (!model.live.empty()) index = *rc::gen::inRange<size_t>(0, model.live.size());
  }
  void checkPreconditions(const Model& model) const { RC_PRE(index < model.live.size()); }
};

struct Ref : OnLive {
  using OnLive::OnLive;
  void apply(Model& model) const { model.live[index].references += 1; }
  void run(const Model& model, PoolUnderTest& sut) const {
    Message* message = sut.live[index];
    RC_ASSERT(message->ref() == message);
    RC_ASSERT(message->references == model.live[index].references + 1);
  }
  void show(std::ostream& out) const { out << "ref #" << index; }
};

struct Unref : OnLive {
  using OnLive::OnLive;
  void apply(Model& model) const {
    model.live[index].references -= 1;
    if (model.live[index].references == 0) {
      model.live.erase(model.live.begin() + static_cast<std::ptrdiff_t>(index));
    }
  }
  void run(const Model& model, PoolUnderTest& sut) const {
    Message* message = sut.live[index];
    const uint32_t used_size = message->header->frame.size;
    sut.pool.unref(message);
    RC_ASSERT(message->references == model.live[index].references - 1);
    if (message->references > 0) return;
    RC_ASSERT(message->header == nullptr);
    RC_ASSERT(message->link.next != nullptr);
    sut.live.erase(sut.live.begin() + static_cast<std::ptrdiff_t>(index));
    if (!asan_build) {  // Under ASan the free buffer is poisoned: reading it aborts.
      const uint8_t* bytes = message->buffer.data();
      RC_ASSERT(std::all_of(bytes, bytes + used_size, [](uint8_t b) { return b == poison_byte; }));
    }
  }
  void show(std::ostream& out) const { out << "unref #" << index; }
};

struct Into : OnLive {
  pool::Command command = *rc::gen::elementOf(commands_known);
  using OnLive::OnLive;
  void apply(Model&) const {}
  void run(const Model& model, PoolUnderTest& sut) const {
    Message* message = sut.live[index];
    RC_ASSERT(command_visit(command, [&](auto typed) {
      auto* into = message->template into<decltype(typed)::value>();
      const bool match = model.live[index].command == command;
      RC_ASSERT((into != nullptr) == match);
      if (match) RC_ASSERT(into->base() == message);
    }));
    RC_ASSERT(message->references == model.live[index].references);
  }
  void show(std::ostream& out) const { out << "into<" << command_name(command) << "> #" << index; }
};

struct IntoAny : OnLive {
  using OnLive::OnLive;
  void apply(Model&) const {}
  void run(const Model& model, PoolUnderTest& sut) const {
    const AnyMessage any = sut.live[index]->into_any();
    RC_ASSERT(commands_known[any.index()] == model.live[index].command);
    std::visit([&](auto* typed) { RC_ASSERT(typed->base() == sut.live[index]); }, any);
  }
  void show(std::ostream& out) const { out << "into_any #" << index; }
};

struct WriteBody : OnLive {
  std::vector<uint8_t> body = *rc::gen::container<std::vector<uint8_t>>(
      *rc::gen::inRange<size_t>(0, 4096 - header_size + 1), rc::gen::arbitrary<uint8_t>());
  using OnLive::OnLive;
  void apply(Model& model) const { model.live[index].body = body; }
  void run(const Model& model, PoolUnderTest& sut) const {
    header_write(sut.live[index], model.live[index].command, body);
    // Every live body reads back as the model has it: no two messages share bytes.
    Model after = model;
    apply(after);
    for (size_t other = 0; other < sut.live.size(); other += 1) {
      const std::span<uint8_t> used = sut.live[other]->body_used();
      RC_ASSERT(std::vector<uint8_t>(used.begin(), used.end()) == after.live[other].body);
    }
  }
  void show(std::ostream& out) const { out << "write " << body.size() << " bytes #" << index; }
};

struct CheckFreeCount : PoolCommand {
  void run(const Model& model, PoolUnderTest& sut) const {
    RC_ASSERT(sut.pool.free_count() == model.capacity - model.live.size());
    RC_ASSERT(sut.pool.used_count() == model.live.size());
    for (size_t index = 0; index < sut.live.size(); index += 1) {
      RC_ASSERT(sut.live[index]->references == model.live[index].references);
    }
  }
  void show(std::ostream& out) const { out << "check free count"; }
};

RC_GTEST_PROP(MessagePoolModel, OperationSequencesMatchTheModel, ()) {
  const auto capacity = *rc::gen::inRange<uint32_t>(1, 9);
  Model model{capacity, {}};
  PoolUnderTest sut(capacity);
  rc::state::check(model, sut,
                   rc::state::gen::execOneOfWithArgs<Get, GetTyped, Ref, Unref, Into, IntoAny,
                                                     WriteBody, CheckFreeCount>());
  // A clean teardown: drop every reference the sequence left, then the pool must be full.
  sut.release_all();
  RC_ASSERT(sut.pool.free_count() == capacity);
}

}  // namespace
}  // namespace pool
