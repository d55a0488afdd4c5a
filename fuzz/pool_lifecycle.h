// The pool_lifecycle target: bytes decode into a sequence of pool operations run on a small pool
// and checked step by step against a reference model. Misuse (a reference to a free message, a
// get from an empty pool) is never decoded: every step names a live message or a free slot.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace fuzz {

enum class LifecycleOp : uint8_t {
  get,         // A message, header reset to a body-less `reserved`.
  get_typed,   // get_message<C>() for the command `command` picks.
  ref,         // Another reference to live message `handle`.
  unref,       // Drops one reference to `handle` (the last frees it, poisoned).
  into,        // into<C>() on `handle`: non-null only for its header's command.
  into_any,    // into_any() on `handle`: the alternative of its command.
  body_write,  // Sets `handle`'s body to `size` bytes of `fill`.
  body_read,   // Checks `handle`'s body against the model.
  reset,       // Drops every reference to every live message.
};
inline constexpr uint8_t lifecycle_op_count = 9;

struct LifecycleStep {
  LifecycleOp op;
  uint8_t handle;   // Index among live messages (modulo their count).
  uint8_t command;  // Index into commands_known (modulo 21).
  uint16_t size;    // Body bytes (modulo the largest body).
  uint8_t fill;
};

std::vector<uint8_t> pool_lifecycle_encode(std::span<const LifecycleStep> steps);
// Decodes and runs; aborts (through a POOL_ASSERT) on any disagreement with the model.
void pool_lifecycle_run(std::span<const uint8_t> data);

}  // namespace fuzz
