#include "techmart/core/hyperloglog.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using techmart::core::HyperLogLog;

namespace {
void expect_within_3_std_errors(std::int64_t n, std::int64_t base) {
  HyperLogLog h;
  for (std::int64_t i = 0; i < n; ++i) h.add(base + i * 7919);
  for (std::int64_t i = 0; i < n; i += 3) h.add(base + i * 7919);  // duplicates change nothing
  const double se = 1.04 / std::sqrt(16384.0);
  EXPECT_NEAR(h.estimate(), static_cast<double>(n), 3 * se * static_cast<double>(n)) << "n=" << n;
}
}  // namespace

TEST(Hll, EmptyIsZero) { EXPECT_EQ(HyperLogLog().estimate(), 0.0); }
TEST(Hll, SmallCardinalitiesAreNearlyExact) {
  HyperLogLog h;
  for (int i = 0; i < 100; ++i) h.add(i);
  EXPECT_NEAR(h.estimate(), 100.0, 2.0);
}
TEST(Hll, Within3StdErrorsAt1e3) { expect_within_3_std_errors(1000, 17); }
TEST(Hll, Within3StdErrorsAt1e5) { expect_within_3_std_errors(100000, -5000000); }
TEST(Hll, Within3StdErrorsAt1e6) { expect_within_3_std_errors(1000000, 123456789); }

TEST(Hll, MergeIsUnion) {
  HyperLogLog a, b, all;
  for (int i = 0; i < 50000; ++i) {
    (i % 2 ? a : b).add(i);
    all.add(i);
  }
  for (int i = 0; i < 10000; ++i) a.add(i);  // overlap
  a.merge(b);
  EXPECT_TRUE(a == all);
  HyperLogLog other(12);
  EXPECT_THROW(a.merge(other), std::invalid_argument);
}

TEST(Hll, SerialisationRoundTripsSparseAndDense) {
  HyperLogLog small, big;
  for (int i = 0; i < 100; ++i) small.add(i);
  for (int i = 0; i < 200000; ++i) big.add(i);
  const std::string s = small.serialize(), b = big.serialize();
  EXPECT_LT(s.size(), 400u);  // sparse
  EXPECT_EQ(b.size(), 3u + 16384u);
  EXPECT_TRUE(HyperLogLog::deserialize(s.data(), s.size()) == small);
  EXPECT_TRUE(HyperLogLog::deserialize(b.data(), b.size()) == big);
}

TEST(Hll, DeserialiseRejectsGarbage) {
  HyperLogLog h;
  for (int i = 0; i < 100; ++i) h.add(i);
  const std::string good = h.serialize();
  for (std::size_t len = 0; len < 3; ++len)
    EXPECT_THROW(HyperLogLog::deserialize(good.data(), len), std::invalid_argument);
  std::string odd = good.substr(0, good.size() - 1);
  EXPECT_THROW(HyperLogLog::deserialize(odd.data(), odd.size()), std::invalid_argument);
  std::string badp = good;
  badp[1] = 30;
  EXPECT_THROW(HyperLogLog::deserialize(badp.data(), badp.size()), std::invalid_argument);
  std::string badv = good;
  badv[5] = 60;  // register value beyond 64 - 14 + 1
  EXPECT_THROW(HyperLogLog::deserialize(badv.data(), badv.size()), std::invalid_argument);
  std::mt19937 rng(9);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string b(rng() % 40, '\0');
    for (char& c : b) c = static_cast<char>(rng());
    if (b.size() >= 3) b[0] = 1;
    try {
      (void)HyperLogLog::deserialize(b.data(), b.size()).estimate();
    } catch (const std::invalid_argument&) {
    }
  }
}

namespace {
// Independent reference: the dense registers of precision 14 and their serialisation.
std::string reference_serialisation(const std::vector<std::int64_t>& values) {
  std::vector<std::uint8_t> reg(16384, 0);
  for (std::int64_t v : values) {
    const std::uint64_t h = techmart::core::mix64(static_cast<std::uint64_t>(v));
    const std::size_t idx = static_cast<std::size_t>(h >> 50);
    const std::uint64_t w = (h << 14) | (std::uint64_t{1} << 13);
    const auto rank = static_cast<std::uint8_t>(__builtin_clzll(w) + 1);
    if (rank > reg[idx]) reg[idx] = rank;
  }
  std::size_t nonzero = 0;
  for (std::uint8_t r : reg) nonzero += (r != 0);
  std::string out{'\x01', '\x0e'};
  if (nonzero * 3 < reg.size()) {
    out.push_back('\x02');
    for (std::size_t i = 0; i < reg.size(); ++i) {
      if (reg[i] == 0) continue;
      out.push_back(static_cast<char>(i & 0xFF));
      out.push_back(static_cast<char>(i >> 8));
      out.push_back(static_cast<char>(reg[i]));
    }
  } else {
    out.push_back('\x01');
    out.append(reinterpret_cast<const char*>(reg.data()), reg.size());
  }
  return out;
}
}  // namespace

// The sparse in-memory form (small sketches) and the dense one serialise to the same bytes as
// the reference registers, at every size around the thresholds (sparse list -> registers beyond
// 4096 indexes, sparse encoding below 5461), whether built by add, merge or merge_serialized.
TEST(Hll, SparseAndDenseFormsSerialiseAlike) {
  for (std::size_t n :
       {0u, 1u, 2u, 63u, 64u, 65u, 500u, 3000u, 4096u, 4500u, 5000u, 5461u, 6000u, 9000u, 50000u}) {
    std::vector<std::int64_t> values;
    for (std::size_t i = 0; i < n; ++i)
      values.push_back(static_cast<std::int64_t>(i * 2654435761u % 1000003));
    for (std::size_t i = 0; i < n; i += 5) values.push_back(values[i]);  // duplicates
    const std::string want = reference_serialisation(values);
    HyperLogLog by_add, by_merge, by_serialized;
    for (std::size_t i = 0; i < values.size(); ++i) {
      by_add.add(values[i]);
      HyperLogLog one;
      one.add(values[i]);
      if (i % 2) {
        by_merge.merge(one);
      } else {
        const std::string s1 = one.serialize();
        by_merge.merge_serialized(s1.data(), s1.size());
      }
      if (i % 97 == 0 || i + 1 == values.size()) {  // batches of serialised sketches
        HyperLogLog batch;
        for (std::size_t j = i >= 96 ? i - 96 : 0; j <= i; ++j) batch.add(values[j]);
        const std::string sb = batch.serialize();
        by_serialized.merge_serialized(sb.data(), sb.size());
      }
    }
    EXPECT_EQ(by_add.serialize(), want) << "n=" << n;
    EXPECT_EQ(by_merge.serialize(), want) << "n=" << n;
    EXPECT_EQ(by_serialized.serialize(), want) << "n=" << n;
    EXPECT_TRUE(by_add == by_merge) << "n=" << n;
    const HyperLogLog back = HyperLogLog::deserialize(want.data(), want.size());
    EXPECT_TRUE(back == by_add) << "n=" << n;
    EXPECT_EQ(back.serialize(), want) << "n=" << n;
    EXPECT_EQ(back.estimate(), by_add.estimate()) << "n=" << n;
    if (n <= 3000) {  // < 4096 registers set
      EXPECT_TRUE(by_add.is_sparse()) << "n=" << n;
    }
    if (n >= 9000) {  // > 4096 registers set
      EXPECT_FALSE(by_add.is_sparse()) << "n=" << n;
    }
  }
}

TEST(Hll, MergeSerializedRefusesWhatDeserializeRefuses) {
  HyperLogLog h;
  for (int i = 0; i < 100; ++i) h.add(i);
  const std::string before = h.serialize();
  std::string bad = before;
  bad[5] = 60;
  EXPECT_THROW(h.merge_serialized(bad.data(), bad.size()), std::invalid_argument);
  HyperLogLog other(12);
  other.add(1);
  const std::string o = other.serialize();
  EXPECT_THROW(h.merge_serialized(o.data(), o.size()), std::invalid_argument);
  EXPECT_EQ(h.serialize(), before);  // unchanged
}

TEST(Hll, MergeRegistersIsMergeOfTheSketch) {
  // sparse and dense sources, sparse and dense targets, odd register counts (precision 4: 16)
  for (const int p : {4, 10, 14}) {
    for (const int n_src : {30, 100000}) {
      for (const int n_dst : {0, 20, 100000}) {
        HyperLogLog src(p), dst(p), expect(p);
        for (int i = 0; i < n_src; ++i) src.add(i * 31 + 7);
        for (int i = 0; i < n_dst; ++i) dst.add(-i * 17 - 3);
        expect.merge(dst);
        expect.merge(src);
        std::vector<std::uint8_t> reg(std::size_t{1} << p, 0xAB);
        src.copy_registers(reg.data());
        HyperLogLog back(p);
        back.merge_registers(reg.data(), reg.size());
        EXPECT_TRUE(back == src) << "copy_registers round trip p=" << p << " n=" << n_src;
        dst.merge_registers(reg.data(), reg.size());
        EXPECT_TRUE(dst == expect) << "p=" << p << " src=" << n_src << " dst=" << n_dst;
        EXPECT_EQ(dst.serialize(), expect.serialize());
      }
    }
  }
  HyperLogLog h;
  std::vector<std::uint8_t> small(1024, 0);
  EXPECT_THROW(h.merge_registers(small.data(), small.size()), std::invalid_argument);
}

TEST(Hll, MergeWithItselfChangesNothing) {
  HyperLogLog h;
  for (int i = 0; i < 50000; ++i) h.add(i);
  const std::string before = h.serialize();
  h.merge(h);
  EXPECT_EQ(h.serialize(), before);
}
