#pragma once
// DDSketch-style quantile sketch (Masson, Rim, Lee: "DDSketch: a fast and fully-mergeable
// quantile sketch with relative-error guarantees", VLDB 2019).
//
// A value x > 0 falls into bucket i = ceil(log(x) / log(gamma)), gamma = (1 + alpha) / (1 - alpha);
// the bucket is represented by 2 gamma^i / (gamma + 1), which is within a relative error alpha of
// every value of the bucket. Negative values go to a second store by |x|, zeros (and |x| below
// kMinIndexable) to a zero count. Each store is a dense array of counts with at most max_buckets
// buckets; when a store would grow beyond it, its lowest buckets (the values closest to zero) are
// collapsed into one, which only loses accuracy on those smallest magnitudes.
//
// With the default alpha = 0.005 every quantile is within 0.5% (relative) of the exact order
// statistic of the same rank (and within 0.5% of the linear interpolation between the two
// neighbouring order statistics when they have the same sign, which is what percentile_cont
// computes), as long as no collapse touched the ranks concerned. 2048 buckets per store cover
// a ratio max/min of gamma^2048 ~ 8e8 before any collapse.
//
// Sketches are mergeable (same alpha and bucket limit): merge(a, b) equals the sketch of the
// concatenated inputs. serialize()/deserialize() use a compact, versioned binary format;
// deserialize() validates everything and throws std::invalid_argument on any malformed input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace techmart::core {

class QSketch {
 public:
  static constexpr double kDefaultAlpha = 0.005;
  static constexpr std::uint32_t kDefaultMaxBuckets = 2048;
  static constexpr std::uint32_t kMaxMaxBuckets = 65536;
  static constexpr double kMinIndexable = 1e-300;  // |x| below this counts as zero
  static constexpr std::uint8_t kFormatVersion = 1;

  // Throws std::invalid_argument unless 1e-4 <= alpha <= 0.2 and 16 <= max_buckets <= 65536.
  explicit QSketch(double alpha = kDefaultAlpha, std::uint32_t max_buckets = kDefaultMaxBuckets);

  // Adds x (weight 1). Throws std::invalid_argument unless x is finite.
  void add(double x);
  // Adds every value of other. Throws std::invalid_argument if alpha or max_buckets differ.
  void merge(const QSketch& other);

  std::uint64_t count() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  double alpha() const noexcept { return alpha_; }
  std::uint32_t max_buckets() const noexcept { return max_buckets_; }
  double min() const noexcept { return min_; }  // exact minimum (valid when !empty())
  double max() const noexcept { return max_; }  // exact maximum (valid when !empty())
  bool collapsed() const noexcept { return pos_.collapsed || neg_.collapsed; }

  // Estimate of the q-quantile (0 <= q <= 1) with percentile_cont semantics: rank q (n - 1),
  // linear interpolation between the neighbouring ranks. Throws std::invalid_argument for q
  // outside [0, 1] (or NaN) and for an empty sketch.
  double quantile(double q) const;
  // Estimated fraction of the values <= x (0 for an empty sketch is an error: throws).
  double cdf(double x) const;

  // Compact binary form (little-endian, LEB128 counts).
  std::string serialize() const;
  void serialize_to(std::string& out) const;
  // Parses data[0, size); throws std::invalid_argument on anything malformed. Never allocates
  // more than a bounded amount (max_buckets is checked before any allocation).
  static QSketch deserialize(const void* data, std::size_t size);

  bool operator==(const QSketch& o) const;

 private:
  struct Store {
    std::int32_t offset = 0;            // index of counts[0]
    std::vector<std::uint64_t> counts;  // dense counts, counts.size() <= max_buckets
    bool collapsed = false;
    void add(std::int32_t index, std::uint64_t c, std::uint32_t max_buckets);
    std::uint64_t total() const;
    bool operator==(const Store& o) const;
  };

  std::int32_t index_of(double magnitude) const;
  double value_of(std::int32_t index) const;
  double value_at_rank(std::uint64_t rank) const;  // rank in [0, count)
  void parse_store(const unsigned char*& p, const unsigned char* end, Store& s);

  double alpha_;
  std::uint32_t max_buckets_;
  double gamma_;
  double inv_log_gamma_;
  double log_gamma_;
  Store pos_;
  Store neg_;
  std::uint64_t zero_count_ = 0;
  std::uint64_t count_ = 0;
  double min_ = 0.0;
  double max_ = 0.0;
};

}  // namespace techmart::core
