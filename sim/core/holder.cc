#include "sim/core/holder.h"

namespace sim {
namespace {

struct HolderEntry {
  std::string_view name;
  std::optional<pool::Term> term;
};

using enum pool::Term;  // The table's term column names pool::Term values.
constexpr std::optional<pool::Term> none = std::nullopt;

constexpr std::array<HolderEntry, holder_count> holder_table = {{
#define SIM_HOLDER_ENTRY(holder, term_of) {#holder, term_of},
    SIM_HOLDERS(SIM_HOLDER_ENTRY)
#undef SIM_HOLDER_ENTRY
}};

}  // namespace

std::string_view holder_name(Holder holder) {
  return holder_table[static_cast<size_t>(holder)].name;
}

std::optional<pool::Term> holder_term(Holder holder) {
  return holder_table[static_cast<size_t>(holder)].term;
}

std::optional<Holder> holder_by_name(std::string_view name) {
  for (size_t i = 0; i < holder_count; i++) {
    if (holder_table[i].name == name) return static_cast<Holder>(i);
  }
  return std::nullopt;
}

}  // namespace sim
