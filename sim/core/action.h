// A scheduled event's action: a callable with no arguments held in place (up to
// inline_capacity_bytes, which every action of the simulator fits), so that scheduling an event
// allocates nothing; std::function would allocate for any capture past 16 bytes, once per packet
// and disk IO. A larger callable still works, on the heap.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "pool/assertion.h"

namespace sim {

class Action {
 public:
  static constexpr size_t inline_capacity_bytes = 96;

  Action() = default;
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, Action>>>
  Action(F&& callable) {  // NOLINT: implicit, as std::function's.
    using Callable = std::decay_t<F>;
    if constexpr (fits_inline<Callable>()) {
      new (storage_) Callable(std::forward<F>(callable));
      operations_ = &inline_operations<Callable>;
    } else {
      new (storage_) Callable*(new Callable(std::forward<F>(callable)));
      operations_ = &heap_operations<Callable>;
    }
  }
  Action(Action&& other) noexcept { take(other); }
  Action& operator=(Action&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  Action(const Action&) = delete;
  Action& operator=(const Action&) = delete;
  ~Action() { reset(); }

  explicit operator bool() const { return operations_ != nullptr; }
  void operator()() {
    POOL_ASSERT(operations_ != nullptr);
    operations_->invoke(storage_);
  }
  void reset() {
    if (operations_ != nullptr) operations_->destroy(storage_);
    operations_ = nullptr;
  }

 private:
  struct Operations {
    void (*invoke)(void* storage);
    void (*move)(void* from, void* to);  // Moves into `to` and destroys `from`.
    void (*destroy)(void* storage);
  };

  template <typename Callable>
  static constexpr bool fits_inline() {
    return sizeof(Callable) <= inline_capacity_bytes &&
           alignof(Callable) <= alignof(std::max_align_t) &&
           std::is_nothrow_move_constructible_v<Callable>;
  }
  template <typename Callable>
  static constexpr Operations inline_operations = {
      [](void* storage) { (*std::launder(static_cast<Callable*>(storage)))(); },
      [](void* from, void* to) {
        Callable* source = std::launder(static_cast<Callable*>(from));
        new (to) Callable(std::move(*source));
        source->~Callable();
      },
      [](void* storage) { std::launder(static_cast<Callable*>(storage))->~Callable(); }};
  template <typename Callable>
  static constexpr Operations heap_operations = {
      [](void* storage) { (**static_cast<Callable**>(storage))(); },
      [](void* from, void* to) { new (to) Callable*(*static_cast<Callable**>(from)); },
      [](void* storage) { delete *static_cast<Callable**>(storage); }};

  void take(Action& other) {
    operations_ = other.operations_;
    if (operations_ != nullptr) operations_->move(other.storage_, storage_);
    other.operations_ = nullptr;
  }

  alignas(std::max_align_t) unsigned char storage_[inline_capacity_bytes];
  const Operations* operations_ = nullptr;
};

}  // namespace sim
