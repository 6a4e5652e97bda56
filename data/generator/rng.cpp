#include "rng.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace techmart::gen {

namespace {
constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kInvLn2 = 1.44269504088896338700e+00;
constexpr double kSqrtHalf = 0.70710678118654752440;
}  // namespace

double det_exp(double x) {
  if (x < -745.0) return 0.0;
  if (x > 709.0) return std::numeric_limits<double>::infinity();
  const double k = std::floor(x * kInvLn2 + 0.5);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;  // |r| <= ~0.347
  // Taylor series to r^14/14! (truncation error < 1e-17 relative), Horner form.
  double p = 1.0 / 87178291200.0;
  static constexpr double kInvFact[] = {1.0 / 6227020800.0,
                                        1.0 / 479001600.0,
                                        1.0 / 39916800.0,
                                        1.0 / 3628800.0,
                                        1.0 / 362880.0,
                                        1.0 / 40320.0,
                                        1.0 / 5040.0,
                                        1.0 / 720.0,
                                        1.0 / 120.0,
                                        1.0 / 24.0,
                                        1.0 / 6.0,
                                        1.0 / 2.0,
                                        1.0,
                                        1.0};
  for (double c : kInvFact) p = p * r + c;
  return std::ldexp(p, static_cast<int>(k));
}

double det_log(double x) {
  if (!(x > 0)) return -std::numeric_limits<double>::infinity();
  int e = 0;
  double m = std::frexp(x, &e);  // m in [0.5, 1)
  if (m < kSqrtHalf) {
    m *= 2.0;
    e -= 1;
  }
  // log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  double sum = 1.0 / 23.0;
  for (int k = 21; k >= 1; k -= 2) sum = sum * s2 + 1.0 / k;
  const double log_m = 2.0 * s * sum;
  return e * kLn2Hi + (log_m + e * kLn2Lo);
}

double Rng::normal() {
  for (;;) {
    const double u = 2.0 * uniform() - 1.0;
    const double v = 2.0 * uniform() - 1.0;
    const double s = u * u + v * v;
    if (s > 0.0 && s < 1.0) return u * std::sqrt(-2.0 * det_log(s) / s);
  }
}

AliasTable::AliasTable(const std::vector<double>& weights) {
  const size_t n = weights.size();
  prob_.assign(n, 0.0);
  alias_.assign(n, 0);
  if (n == 0) return;
  double total = 0;
  for (double w : weights) total += w;
  std::vector<double> scaled(n);
  std::vector<uint32_t> small, large;
  for (size_t i = 0; i < n; ++i) {
    scaled[i] = total > 0 ? weights[i] * static_cast<double>(n) / total : 1.0;
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<uint32_t>(i));
  }
  while (!small.empty() && !large.empty()) {
    const uint32_t s = small.back();
    small.pop_back();
    const uint32_t l = large.back();
    prob_[s] = scaled[s];
    alias_[s] = l;
    scaled[l] = (scaled[l] + scaled[s]) - 1.0;
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  for (uint32_t i : large) {
    prob_[i] = 1.0;
    alias_[i] = i;
  }
  for (uint32_t i : small) {
    prob_[i] = 1.0;
    alias_[i] = i;
  }
}

std::vector<uint64_t> apportion(uint64_t total, const std::vector<double>& weights) {
  const size_t n = weights.size();
  std::vector<uint64_t> parts(n, 0);
  if (n == 0) return parts;
  double sum = 0;
  for (double w : weights) sum += w;
  std::vector<double> frac(n, 0.0);
  uint64_t given = 0;
  for (size_t i = 0; i < n; ++i) {
    const double exact = sum > 0 ? static_cast<double>(total) * weights[i] / sum
                                 : static_cast<double>(total) / static_cast<double>(n);
    double f = std::floor(exact);
    uint64_t part = static_cast<uint64_t>(f);
    if (given + part > total) part = total - given;
    parts[i] = part;
    frac[i] = exact - f;
    given += part;
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return frac[a] > frac[b]; });
  for (size_t k = 0; given < total; k = (k + 1) % n, ++given) parts[order[k]] += 1;
  return parts;
}

}  // namespace techmart::gen
