// What sim prints of one run, as text: the header before it runs ("seed N", the options), each
// event under --log=full, and the verdict after (the figures, each pool against its formula, the
// trace hash, PASS or the failure and its replay command). A single run prints it to stdout; a
// sweep writes it to the seed's log, so that the two are the same bytes.
#pragma once

#include <string>

#include "sim/cluster.h"

namespace sim {

// "seed N\n", and the options as flags unless `log` is quiet.
std::string run_header_text(const Options& options, const std::string& log);
// One event's line under --log=full, between the header and the verdict.
std::string run_event_text(const TraceRecord& record, uint32_t member_count);
// The verdict; the figures and pools too unless `log` is quiet.
std::string run_summary_text(const Summary& summary, const std::string& log);

}  // namespace sim
