#pragma once

#include <cstdint>

namespace techmart::gen {

// Generates a small data set in memory and verifies its invariants; prints a report to stderr.
bool self_check(uint64_t seed);

}  // namespace techmart::gen
