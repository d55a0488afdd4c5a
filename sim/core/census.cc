#include "sim/core/census.h"

namespace sim {

static pool::Limits<pool::Term> census_limits(const pool::MessagesMaxTerms& terms,
                                              std::optional<pool::Term> shrink) {
  pool::Limits<pool::Term> limits = pool::limits_from_terms(terms);
  if (shrink) limits.shrink(*shrink);
  // A reply copy under the original formula (no reply_copy term) eats into the others' share.
  limits.share(
      {Census::transient_terms[0], Census::transient_terms[1], Census::transient_terms[2]});
  return limits;
}

Census::Census(pool::MessagePool& pool, const pool::MessagesMaxTerms& terms,
               std::optional<pool::Term> shrink)
    : accounting_(pool, census_limits(terms, shrink), &holder_term) {
  accounting_.set_breach_handler([](const Breach&) {});
  for (size_t i = 0; i < holder_count; i++) {
    const std::optional<pool::Term> term = holder_term(static_cast<Holder>(i));
    holder_allowed_[i] = !term || terms.bound(*term) || *term == pool::Term::reply_copy;
  }
}

}  // namespace sim
