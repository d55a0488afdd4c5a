#include "pool/assertion.h"

#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace pool {
namespace {

// Per thread: each simulation of a sweep's worker threads names its own seed.
thread_local FailureContextHook failure_context_hook = nullptr;
thread_local void* failure_context = nullptr;

void print_operand(const AssertOperand& operand) {
  switch (operand.kind) {
    case AssertOperand::Kind::signed_integer:
      std::fprintf(stderr, "%" PRId64, operand.signed_value);
      return;
    case AssertOperand::Kind::unsigned_integer:
      std::fprintf(stderr, "%" PRIu64, operand.unsigned_value);
      return;
    case AssertOperand::Kind::pointer:
      std::fprintf(stderr, "%p", operand.pointer_value);
      return;
  }
}

[[noreturn]] void finish_failure() {
  std::fputc('\n', stderr);
  // Clear the hook first, so that an assertion failing inside the hook cannot recurse.
  const FailureContextHook hook = failure_context_hook;
  failure_context_hook = nullptr;
  if (hook != nullptr) hook(failure_context);
  std::fflush(stderr);
  std::abort();
}

}  // namespace

void set_failure_context_hook(FailureContextHook hook, void* context) {
  failure_context_hook = hook;
  failure_context = context;
}

void assertion_failed(const char* file, int line, const char* condition, const char* format, ...) {
  std::fprintf(stderr, "assertion failed: %s at %s:%d: ", condition, file, line);
  va_list arguments;
  va_start(arguments, format);
  std::vfprintf(stderr, format, arguments);
  va_end(arguments);
  finish_failure();
}

void assertion_failed(const char* file, int line, const char* condition) {
  std::fprintf(stderr, "assertion failed: %s at %s:%d", condition, file, line);
  finish_failure();
}

void assertion_compare_failed(const char* file, int line, const char* condition, AssertOperand left,
                              AssertOperand right) {
  std::fprintf(stderr, "assertion failed: %s at %s:%d: ", condition, file, line);
  print_operand(left);
  std::fputs(" vs ", stderr);
  print_operand(right);
  finish_failure();
}

}  // namespace pool
