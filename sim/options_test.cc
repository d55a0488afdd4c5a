#include "sim/options.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace sim {
namespace {

TEST(Options, EverySeedDerivesValidOptionsInBothProfiles) {
  for (const char* profile : {"test_min", "production"}) {
    for (uint64_t seed = 0; seed < 2000; seed++) {
      const Options options = options_from_seed(seed, profile);
      ASSERT_TRUE(options_validate(options).ok())
          << profile << " seed " << seed << ": " << options_validate(options).message();
    }
  }
}

TEST(Options, TheSwarmExploresShapesAndBuses) {
  bool tcp = false, testing = false, standbys = false;
  uint64_t replicas_min = 99, replicas_max = 0;
  for (uint64_t seed = 0; seed < 200; seed++) {
    const Options options = options_from_seed(seed, "test_min");
    tcp |= options.bus == pool::MessageBusKind::tcp;
    testing |= options.bus == pool::MessageBusKind::testing;
    standbys |= options.standby_count > 0;
    replicas_min = std::min(replicas_min, options.replica_count);
    replicas_max = std::max(replicas_max, options.replica_count);
  }
  EXPECT_TRUE(tcp && testing && standbys);
  EXPECT_EQ(replicas_min, 1u);
  EXPECT_EQ(replicas_max, 6u);
}

TEST(Options, FlagsRoundTrip) {
  const Options options = options_from_seed(77, "test_min");
  Options rebuilt;
  for (const auto& [name, value] : options_as_flags(options)) {
    ASSERT_TRUE(options_set(rebuilt, name, value).ok()) << name << "=" << value;
  }
  EXPECT_EQ(options_as_flags(rebuilt), options_as_flags(options));
}

TEST(Options, EveryOptionIsDeclaredOnceWithItsHelp) {
  const std::vector<OptionFlag> flags = options_flags();
  std::set<std::string> names;
  for (const OptionFlag& flag : flags) {
    EXPECT_TRUE(names.insert(flag.name).second) << flag.name << " declared twice";
    EXPECT_FALSE(flag.help.empty()) << flag.name;
    EXPECT_EQ(flag.name.find('-'), std::string::npos) << flag.name;
    // A number's help states the table's range, read from the table.
    if (options_number(Options{}, flag.name) && flag.name != "seed") {
      EXPECT_NE(flag.help.find("Accepted: "), std::string::npos) << flag.name;
    }
  }
  const auto replicas = std::find_if(flags.begin(), flags.end(), [](const OptionFlag& flag) {
    return flag.name == "replica_count";
  });
  ASSERT_NE(replicas, flags.end());
  EXPECT_NE(
      replicas->help.find("Accepted: 1.." + std::to_string(pool::config_test_min().replicas_max)),
      std::string::npos)
      << replicas->help;
  // The replay command names only declared options, in the table's order.
  const Options options = options_from_seed(5, "test_min", Swarm::stress);
  size_t last = 0;
  for (const auto& [name, value] : options_as_flags(options)) {
    std::string underscored = name;
    std::replace(underscored.begin(), underscored.end(), '-', '_');
    const auto found = std::find_if(flags.begin(), flags.end(), [&](const OptionFlag& flag) {
      return flag.name == underscored;
    });
    ASSERT_NE(found, flags.end()) << name;
    EXPECT_GE(static_cast<size_t>(found - flags.begin()), last) << name << " out of order";
    last = static_cast<size_t>(found - flags.begin());
  }
}

TEST(Options, ReplayCommandsRoundTripForEverySwarmAndProfile) {
  for (const Swarm swarm : {Swarm::default_mix, Swarm::stress}) {
    for (const char* profile : {"test_min", "production"}) {
      for (uint64_t seed = 1; seed <= 50; seed++) {
        const Options options = options_from_seed(seed, profile, swarm);
        Options rebuilt;
        for (const auto& [name, value] : options_as_flags(options)) {
          ASSERT_TRUE(options_set(rebuilt, name, value).ok()) << name << "=" << value;
        }
        ASSERT_EQ(options_flags_text(rebuilt), options_flags_text(options)) << "seed " << seed;
        ASSERT_EQ(options_number(rebuilt, "path_capacity"), options.network.path_capacity);
      }
    }
  }
  EXPECT_FALSE(options_number(Options{}, "bus").has_value());  // A text option.
  EXPECT_FALSE(options_number(Options{}, "no_such_option").has_value());
}

TEST(Options, BadValuesNameTheFlagAndTheAcceptedRange) {
  Options options = options_from_seed(1, "test_min");
  EXPECT_EQ(options_set(options, "bus", "udp").message(),
            "--bus=udp is not accepted: one of testing|tcp");
  EXPECT_EQ(options_set(options, "replica-count", "-3").message(),
            "--replica-count=-3 is not a non-negative integer (decimal or 0x-hex)");
  EXPECT_EQ(options_set(options, "no_such_option", "1").message(),
            "unknown option --no-such-option");
  EXPECT_FALSE(options_set(options, "shrink_term", "pipelines").ok());
  EXPECT_FALSE(options_set(options, "messages_max_delta", "-1001").ok());

  ASSERT_TRUE(options_set(options, "replica_count", "7").ok());
  EXPECT_EQ(options_validate(options).message(),
            "--replica-count=7 is out of range: accepted 1..6 with the other options given");
}

TEST(Options, CombinationsAreChecked) {
  Options options = options_from_seed(1, "test_min");
  options.replica_count = 6;
  options.standby_count = 6;
  options.storage_faulty_count = 0;
  EXPECT_TRUE(options_validate(options).ok());
  options.replica_count = 2;
  options.storage_faulty_count = 1;  // At most (replicas - 1) / 2 faulty disks: none of two.
  EXPECT_NE(options_validate(options).message().find("--storage-faulty-count=1"),
            std::string::npos);
  options = options_from_seed(1, "test_min");
  options.network.delay_ticks_min = 5;
  options.network.delay_ticks_mean = 4;
  EXPECT_NE(options_validate(options).message().find("--delay-ticks-mean=4"), std::string::npos);
}

TEST(Options, SeedsParseAsDecimalOrHex) {
  EXPECT_EQ(parse_u64("123"), 123u);
  EXPECT_EQ(parse_u64("0x1F"), 31u);
  EXPECT_EQ(parse_u64("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(parse_u64("18446744073709551616"));
  EXPECT_FALSE(parse_u64(""));
  EXPECT_FALSE(parse_u64("0x"));
  EXPECT_FALSE(parse_u64("12a"));
  EXPECT_FALSE(parse_u64("-1"));
}

}  // namespace
}  // namespace sim
