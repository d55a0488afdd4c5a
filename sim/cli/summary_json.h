// One run's summary as JSON (sim --summary-json): the verdict, the run's figures, the options
// and their replay command, and each pool's peak against its formula term by term.
#pragma once

#include "nlohmann/json.hpp"
#include "sim/cluster.h"

namespace sim {

nlohmann::json summary_json(const Summary& summary);

}  // namespace sim
