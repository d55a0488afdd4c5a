// The project's assertion macros: always on (Release included), each failure prints the
// condition, file:line and a formatted message, runs the failure-context hook (the simulator
// sets it to print the seed and the reproduction command), then aborts.
#pragma once

#include <cstdint>
#include <type_traits>

namespace pool {

// Called once on an assertion failure, after the message and before abort(). The one sanctioned
// global, one per thread: a simulation installs a hook that prints its seed and the command that
// replays it (a sweep runs one simulation per thread).
using FailureContextHook = void (*)(void* context);

// Installs `hook` with its `context` for the calling thread (nullptr removes it).
void set_failure_context_hook(FailureContextHook hook, void* context);

// Prints "assertion failed: <condition> at <file>:<line>: <message>", runs the hook, aborts.
[[noreturn, gnu::cold, gnu::format(printf, 4, 5)]] void assertion_failed(const char* file, int line,
                                                                         const char* condition,
                                                                         const char* format, ...);
// The same without a message.
[[noreturn, gnu::cold]] void assertion_failed(const char* file, int line, const char* condition);

// An operand of POOL_ASSERT_EQ and friends, held as text-free integers so that the header stays
// small: signed, unsigned or pointer.
struct AssertOperand {
  enum class Kind : uint8_t { signed_integer, unsigned_integer, pointer };
  Kind kind;
  int64_t signed_value;
  uint64_t unsigned_value;
  const void* pointer_value;
};

template <typename T>
AssertOperand assert_operand(const T& value) {
  if constexpr (std::is_pointer_v<T> || std::is_null_pointer_v<T>) {
    return {AssertOperand::Kind::pointer, 0, 0, static_cast<const void*>(value)};
  } else if constexpr (std::is_enum_v<T>) {
    return assert_operand(static_cast<std::underlying_type_t<T>>(value));
  } else if constexpr (std::is_signed_v<T>) {
    return {AssertOperand::Kind::signed_integer, static_cast<int64_t>(value), 0, nullptr};
  } else {
    static_assert(std::is_unsigned_v<T>, "POOL_ASSERT_<OP> takes integers, enums or pointers");
    return {AssertOperand::Kind::unsigned_integer, 0, static_cast<uint64_t>(value), nullptr};
  }
}

// Documents a condition that may hold or not, both being expected (the original's `maybe`): a
// reader learns that the code handles either case. It checks nothing and costs nothing; it is
// not an assertion and tidy's assertion floors do not count it. The condition is still evaluated,
// so keep it cheap.
constexpr void maybe(bool condition) { static_cast<void>(condition || !condition); }

// Like assertion_failed, with both operands of a comparison printed.
[[noreturn, gnu::cold]] void assertion_compare_failed(const char* file, int line,
                                                      const char* condition, AssertOperand left,
                                                      AssertOperand right);

}  // namespace pool

// POOL_ASSERT(condition) or POOL_ASSERT(condition, "format", args...).
#define POOL_ASSERT(condition, ...)                                                        \
  do {                                                                                     \
    if (!(condition)) [[unlikely]] {                                                       \
      ::pool::assertion_failed(__FILE__, __LINE__, #condition __VA_OPT__(, ) __VA_ARGS__); \
    }                                                                                      \
  } while (false)

#define POOL_ASSERT_COMPARE(left, op, right)                                         \
  do {                                                                               \
    const auto& pool_assert_left = (left);                                           \
    const auto& pool_assert_right = (right);                                         \
    if (!(pool_assert_left op pool_assert_right)) [[unlikely]] {                     \
      ::pool::assertion_compare_failed(__FILE__, __LINE__, #left " " #op " " #right, \
                                       ::pool::assert_operand(pool_assert_left),     \
                                       ::pool::assert_operand(pool_assert_right));   \
    }                                                                                \
  } while (false)

#define POOL_ASSERT_EQ(left, right) POOL_ASSERT_COMPARE(left, ==, right)
#define POOL_ASSERT_NE(left, right) POOL_ASSERT_COMPARE(left, !=, right)
#define POOL_ASSERT_LT(left, right) POOL_ASSERT_COMPARE(left, <, right)
#define POOL_ASSERT_LE(left, right) POOL_ASSERT_COMPARE(left, <=, right)
#define POOL_ASSERT_GT(left, right) POOL_ASSERT_COMPARE(left, >, right)
#define POOL_ASSERT_GE(left, right) POOL_ASSERT_COMPARE(left, >=, right)
