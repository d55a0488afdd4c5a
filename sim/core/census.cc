#include "sim/core/census.h"

#include <vector>

namespace sim {

static pool::Limits<pool::Term> census_limits(const pool::MessagesMaxTerms& terms,
                                              std::optional<pool::Term> shrink) {
  pool::Limits<pool::Term> limits = pool::limits_from_terms(terms);
  if (shrink) limits.shrink(*shrink);
  // The process's own transient terms share one allowance; a reply copy under the original
  // formula (no reply_copy term) eats into it. A holder of any other term the process lacks
  // (a client's execute_reply) is a bug the accounting asserts.
  std::vector<pool::Term> shared;
  for (const pool::Term term : Census::transient_terms) {
    if (terms.bound(term) || term == pool::Term::reply_copy) shared.push_back(term);
  }
  limits.share(shared);
  return limits;
}

Census::Census(pool::MessagePool& pool, const pool::MessagesMaxTerms& terms,
               std::optional<pool::Term> shrink)
    : accounting_(pool, census_limits(terms, shrink), &holder_term) {
  accounting_.set_breach_handler([](const Breach&) {});
}

}  // namespace sim
