#include "techmart/core/logistic_fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "techmart/core/errors.hpp"
#include "techmart/core/stats.hpp"

namespace techmart::core {
namespace {

// Solves A x = b for a symmetric positive definite A (row-major, m x m) by Cholesky.
std::vector<double> cholesky_solve(std::vector<double> a, std::vector<double> b, std::size_t m) {
  for (std::size_t j = 0; j < m; ++j) {
    double d = a[j * m + j];
    for (std::size_t k = 0; k < j; ++k) d -= a[j * m + k] * a[j * m + k];
    if (!(d > 0)) throw std::invalid_argument("the Hessian is not positive definite");
    d = std::sqrt(d);
    a[j * m + j] = d;
    for (std::size_t i = j + 1; i < m; ++i) {
      double s = a[i * m + j];
      for (std::size_t k = 0; k < j; ++k) s -= a[i * m + k] * a[j * m + k];
      a[i * m + j] = s / d;
    }
  }
  for (std::size_t i = 0; i < m; ++i) {  // L y = b
    double s = b[i];
    for (std::size_t k = 0; k < i; ++k) s -= a[i * m + k] * b[k];
    b[i] = s / a[i * m + i];
  }
  for (std::size_t i = m; i-- > 0;) {  // L^T x = y
    double s = b[i];
    for (std::size_t k = i + 1; k < m; ++k) s -= a[k * m + i] * b[k];
    b[i] = s / a[i * m + i];
  }
  return b;
}

double log1pexp(double t) { return t > 0 ? t + std::log1p(std::exp(-t)) : std::log1p(std::exp(t)); }

}  // namespace

FitResult fit_logistic(const std::vector<std::vector<double>>& x, const std::vector<int>& y,
                       const FitOptions& o) {
  if (x.empty()) throw std::invalid_argument("no labelled rows to fit");
  if (x.size() != y.size()) throw std::invalid_argument("features and labels differ in length");
  require_finite(o.l2, "l2");
  if (!(o.l2 > 0)) throw std::invalid_argument("l2 must be > 0");
  if (o.max_iterations < 1) throw std::invalid_argument("max_iterations must be >= 1");
  const std::size_t n = x.size();
  const std::size_t d = x[0].size();
  std::size_t pos = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i].size() != d) throw std::invalid_argument("rows have different numbers of features");
    for (double v : x[i]) require_finite(v, "feature");
    if (y[i] != 0 && y[i] != 1) throw std::invalid_argument("labels must be 0 or 1");
    pos += static_cast<std::size_t>(y[i]);
  }
  const std::size_t m = d + 1;  // parameters: weights then bias
  std::vector<double> theta(m, 0.0);
  // start at the base rate (smoothed so that one class alone still has a finite start)
  theta[d] = std::log((static_cast<double>(pos) + 0.5) / (static_cast<double>(n - pos) + 0.5));
  FitResult r;
  const double nn = static_cast<double>(n);
  for (int it = 1; it <= o.max_iterations; ++it) {
    std::vector<double> grad(m, 0.0), hess(m * m, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      double t = theta[d];
      for (std::size_t j = 0; j < d; ++j) t += theta[j] * x[i][j];
      const double p = logistic(t);
      const double g = p - y[i];
      const double w = std::max(p * (1 - p), 1e-12);
      for (std::size_t j = 0; j < m; ++j) {
        const double xj = j < d ? x[i][j] : 1.0;
        grad[j] += g * xj / nn;
        for (std::size_t k = 0; k <= j; ++k) {
          const double xk = k < d ? x[i][k] : 1.0;
          hess[j * m + k] += w * xj * xk / nn;
        }
      }
    }
    const double lambda = o.l2 / nn;  // penalty lambda/2 |w|^2 on the total loss
    for (std::size_t j = 0; j < d; ++j) {
      grad[j] += lambda * theta[j];
      hess[j * m + j] += lambda;
    }
    hess[d * m + d] += 1e-9;  // keeps the bias direction definite when it is degenerate
    for (std::size_t j = 0; j < m; ++j) {
      for (std::size_t k = j + 1; k < m; ++k) hess[j * m + k] = hess[k * m + j];
    }
    const std::vector<double> step = cholesky_solve(hess, grad, m);
    double largest = 0;
    for (std::size_t j = 0; j < m; ++j) {
      theta[j] -= step[j];
      largest = std::max(largest, std::fabs(step[j]));
    }
    if (o.non_negative) {
      for (std::size_t j = 0; j < d; ++j) theta[j] = std::max(0.0, theta[j]);
    }
    r.iterations = it;
    if (largest < o.tolerance) {
      r.converged = true;
      break;
    }
  }
  double loss = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double t = theta[d];
    for (std::size_t j = 0; j < d; ++j) t += theta[j] * x[i][j];
    loss += (log1pexp(t) - y[i] * t) / nn;
  }
  for (std::size_t j = 0; j < d; ++j) loss += o.l2 / (2 * nn) * theta[j] * theta[j];
  r.weights.assign(theta.begin(), theta.begin() + static_cast<std::ptrdiff_t>(d));
  r.bias = theta[d];
  r.loss = loss;
  for (double w : r.weights) require_finite(w, "fitted weight");
  require_finite(r.bias, "fitted bias");
  return r;
}

double Confusion::precision() const {
  return tp + fp == 0 ? 0.0 : static_cast<double>(tp) / static_cast<double>(tp + fp);
}
double Confusion::recall() const {
  return tp + fn == 0 ? 0.0 : static_cast<double>(tp) / static_cast<double>(tp + fn);
}
double Confusion::f1() const {
  const double p = precision(), r = recall();
  return p + r == 0 ? 0.0 : 2 * p * r / (p + r);
}

Confusion confusion_at(const std::vector<double>& s, const std::vector<int>& y, double threshold) {
  if (s.size() != y.size()) throw std::invalid_argument("scores and labels differ in length");
  Confusion c;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool flagged = s[i] >= threshold;
    if (y[i]) {
      flagged ? ++c.tp : ++c.fn;
    } else {
      flagged ? ++c.fp : ++c.tn;
    }
  }
  return c;
}

namespace {
std::vector<std::size_t> order_desc(const std::vector<double>& s) {
  std::vector<std::size_t> idx(s.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(),
                   [&](std::size_t a, std::size_t b) { return s[a] > s[b]; });
  return idx;
}
}  // namespace

double roc_auc(const std::vector<double>& s, const std::vector<int>& y) {
  if (s.size() != y.size()) throw std::invalid_argument("scores and labels differ in length");
  for (double v : s) require_finite(v, "score");
  const std::vector<std::size_t> idx = order_desc(s);
  double pos = 0, neg = 0;
  for (int v : y) (v ? pos : neg) += 1;
  if (pos == 0 || neg == 0) return std::numeric_limits<double>::quiet_NaN();
  // Mann-Whitney: for each group of tied scores, pairs (positive above negative) + ties / 2
  double above_neg = 0, area = 0;
  for (std::size_t i = 0; i < idx.size();) {
    std::size_t j = i;
    double gp = 0, gn = 0;
    while (j < idx.size() && s[idx[j]] == s[idx[i]]) {
      (y[idx[j]] ? gp : gn) += 1;
      ++j;
    }
    // positives of this group rank above the negatives of later groups: count pairs with
    // negatives below = neg - above_neg - gn, plus half the tied negatives
    area += gp * (neg - above_neg - gn) + 0.5 * gp * gn;
    above_neg += gn;
    i = j;
  }
  return area / (pos * neg);
}

double average_precision(const std::vector<double>& s, const std::vector<int>& y) {
  if (s.size() != y.size()) throw std::invalid_argument("scores and labels differ in length");
  for (double v : s) require_finite(v, "score");
  const std::vector<std::size_t> idx = order_desc(s);
  double pos = 0;
  for (int v : y) pos += v;
  if (pos == 0 || pos == static_cast<double>(y.size())) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  double tp = 0, seen = 0, ap = 0;
  for (std::size_t i = 0; i < idx.size();) {
    std::size_t j = i;
    double gp = 0;
    while (j < idx.size() && s[idx[j]] == s[idx[i]]) {
      gp += y[idx[j]];
      seen += 1;
      ++j;
    }
    tp += gp;
    ap += (gp / pos) * (tp / seen);
    i = j;
  }
  return ap;
}

}  // namespace techmart::core
