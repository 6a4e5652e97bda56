#include "techmart/core/holt_winters.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace techmart::core {

namespace {

struct Params {
  double alpha, beta, gamma;
};

double logistic(double u) { return 1.0 / (1.0 + std::exp(-u)); }
double logit(double p) { return std::log(p / (1.0 - p)); }

Params to_params(const std::array<double, 3>& u) {
  Params p;
  p.alpha = logistic(u[0]);
  p.beta = p.alpha * logistic(u[1]);
  p.gamma = (1.0 - p.alpha) * logistic(u[2]);
  return p;
}

struct State {
  double level, trend;
  std::vector<double> season;  // ring buffer, season[t % m]
};

State initial_state(const std::vector<double>& y, std::size_t m) {
  double mean1 = 0, mean2 = 0;
  for (std::size_t i = 0; i < m; ++i) {
    mean1 += y[i];
    mean2 += y[m + i];
  }
  mean1 /= static_cast<double>(m);
  mean2 /= static_cast<double>(m);
  State s;
  s.trend = (mean2 - mean1) / static_cast<double>(m);
  const double mid = (static_cast<double>(m) - 1.0) / 2.0;
  s.level = mean1 - s.trend * (mid + 1.0);  // level at time -1
  s.season.resize(m);
  for (std::size_t i = 0; i < m; ++i)
    s.season[i] = y[i] - (mean1 + s.trend * (static_cast<double>(i) - mid));
  return s;
}

// One pass of the recursion. clip > 0 limits |e| used in the state update to clip.
double run(const std::vector<double>& y, std::size_t m, const Params& p, State& s,
           std::vector<double>* fitted, double clip = 0.0) {
  double sse = 0;
  for (std::size_t t = 0; t < y.size(); ++t) {
    const std::size_t j = t % m;
    const double yhat = s.level + s.trend + s.season[j];
    if (fitted) (*fitted)[t] = yhat;
    double e = y[t] - yhat;
    if (t >= m) sse += e * e;
    if (clip > 0) e = std::max(-clip, std::min(clip, e));
    s.level = s.level + s.trend + p.alpha * e;
    s.trend = s.trend + p.beta * e;
    s.season[j] = s.season[j] + p.gamma * e;
  }
  return sse;
}

double objective(const std::vector<double>& y, std::size_t m, const std::array<double, 3>& u) {
  State s = initial_state(y, m);
  const double sse = run(y, m, to_params(u), s, nullptr);
  return std::isfinite(sse) ? sse : std::numeric_limits<double>::max();
}

// Nelder-Mead with the standard coefficients, fixed iteration budget (deterministic).
std::array<double, 3> nelder_mead(const std::vector<double>& y, std::size_t m,
                                  std::array<double, 3> start, double& best) {
  constexpr int kDim = 3;
  std::array<std::array<double, 3>, kDim + 1> x;
  std::array<double, kDim + 1> f;
  x[0] = start;
  for (int i = 0; i < kDim; ++i) {
    x[i + 1] = start;
    x[i + 1][i] += 1.0;
  }
  for (int i = 0; i <= kDim; ++i) f[i] = objective(y, m, x[i]);
  for (int iter = 0; iter < 400; ++iter) {
    std::array<int, kDim + 1> ord{0, 1, 2, 3};
    std::sort(ord.begin(), ord.end(), [&](int a, int b) { return f[a] < f[b]; });
    auto xs = x;
    auto fs = f;
    for (int i = 0; i <= kDim; ++i) {
      x[i] = xs[ord[i]];
      f[i] = fs[ord[i]];
    }
    if (std::fabs(f[kDim] - f[0]) <= 1e-10 * (std::fabs(f[0]) + 1e-12)) break;
    std::array<double, 3> c{0, 0, 0};
    for (int i = 0; i < kDim; ++i)
      for (int d = 0; d < kDim; ++d) c[d] += x[i][d] / kDim;
    auto along = [&](double t) {
      std::array<double, 3> r;
      for (int d = 0; d < kDim; ++d) r[d] = c[d] + t * (x[kDim][d] - c[d]);
      return r;
    };
    const auto xr = along(-1.0);
    const double fr = objective(y, m, xr);
    if (fr < f[0]) {
      const auto xe = along(-2.0);
      const double fe = objective(y, m, xe);
      if (fe < fr) {
        x[kDim] = xe;
        f[kDim] = fe;
      } else {
        x[kDim] = xr;
        f[kDim] = fr;
      }
    } else if (fr < f[kDim - 1]) {
      x[kDim] = xr;
      f[kDim] = fr;
    } else {
      const bool outside = fr < f[kDim];
      const auto xc = along(outside ? -0.5 : 0.5);
      const double fc = objective(y, m, xc);
      if (fc < (outside ? fr : f[kDim])) {
        x[kDim] = xc;
        f[kDim] = fc;
      } else {
        for (int i = 1; i <= kDim; ++i) {
          for (int d = 0; d < kDim; ++d) x[i][d] = x[0][d] + 0.5 * (x[i][d] - x[0][d]);
          f[i] = objective(y, m, x[i]);
        }
      }
    }
  }
  int bi = 0;
  for (int i = 1; i <= kDim; ++i)
    if (f[i] < f[bi]) bi = i;
  best = f[bi];
  return x[bi];
}

void check_series(const std::vector<double>& y, std::size_t season) {
  if (season < 2) throw std::invalid_argument("season must be at least 2");
  if (season > 10000) throw std::invalid_argument("season must be at most 10000");
  if (y.size() < 2 * season)
    throw std::invalid_argument("the series must cover at least two seasons");
  if (y.size() > 1000000)
    throw std::invalid_argument("the series must have at most 1000000 values");
  for (double v : y)
    if (!std::isfinite(v)) throw std::invalid_argument("series values must be finite");
}

}  // namespace

HoltWintersFit fit_holt_winters(const std::vector<double>& y, std::size_t season) {
  check_series(y, season);
  const std::size_t m = season;
  // fixed starts: (alpha, beta/alpha, gamma/(1-alpha))
  const std::array<std::array<double, 3>, 4> starts{
      {{0.3, 0.1, 0.1}, {0.1, 0.05, 0.3}, {0.6, 0.2, 0.05}, {0.05, 0.01, 0.05}}};
  std::array<double, 3> best_u{};
  double best_f = std::numeric_limits<double>::infinity();
  for (const auto& s : starts) {
    double f = 0;
    const auto u = nelder_mead(y, m, {logit(s[0]), logit(s[1]), logit(s[2])}, f);
    if (f < best_f) {
      best_f = f;
      best_u = u;
    }
  }
  HoltWintersFit fit;
  const Params p = to_params(best_u);
  fit.alpha = p.alpha;
  fit.beta = p.beta;
  fit.gamma = p.gamma;
  fit.m = m;
  fit.n = y.size();
  fit.fitted.assign(y.size(), 0.0);
  State s = initial_state(y, m);
  fit.sse = run(y, m, p, s, &fit.fitted);
  fit.sigma = std::sqrt(fit.sse / static_cast<double>(y.size() - m));
  fit.level = s.level;
  fit.trend = s.trend;
  fit.season.resize(m);
  for (std::size_t j = 0; j < m; ++j) fit.season[j] = s.season[(y.size() + j) % m];
  return fit;
}

double normal_quantile(double p) {
  if (!(p > 0.0 && p < 1.0)) throw std::invalid_argument("probability must be in (0, 1)");
  // Acklam's rational approximation, refined by one Halley step on erfc.
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  double x;
  if (p < 0.02425) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - 0.02425) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

std::vector<ForecastPoint> forecast_holt_winters(const HoltWintersFit& fit, std::size_t horizon,
                                                 double level) {
  if (horizon < 1 || horizon > 100000)
    throw std::invalid_argument("horizon must be between 1 and 100000");
  if (!(level > 0.0 && level < 1.0))
    throw std::invalid_argument("level must be between 0 and 1 (exclusive)");
  const double z = normal_quantile(0.5 + level / 2.0);
  std::vector<ForecastPoint> out(horizon);
  const double a = fit.alpha, b = fit.beta, g = fit.gamma, m = static_cast<double>(fit.m);
  for (std::size_t h = 1; h <= horizon; ++h) {
    const double hd = static_cast<double>(h);
    const double k = std::floor((hd - 1.0) / m);
    const double v = 1.0 + (hd - 1.0) * (a * a + a * b * hd + b * b * hd * (2.0 * hd - 1.0) / 6.0) +
                     g * k * (2.0 * a + g + b * m * (k + 1.0));
    const double point = fit.level + hd * fit.trend + fit.season[(h - 1) % fit.m];
    const double half = z * fit.sigma * std::sqrt(v);
    out[h - 1] = {point, point - half, point + half};
  }
  return out;
}

std::vector<AnomalyPoint> detect_anomalies(const std::vector<double>& y, std::size_t season,
                                           double level) {
  if (!(level > 0.0 && level < 1.0))
    throw std::invalid_argument("level must be between 0 and 1 (exclusive)");
  const HoltWintersFit fit = fit_holt_winters(y, season);
  const double z = normal_quantile(0.5 + level / 2.0);
  std::vector<double> err;
  for (std::size_t t = season; t < y.size(); ++t) err.push_back(std::fabs(y[t] - fit.fitted[t]));
  std::nth_element(err.begin(), err.begin() + static_cast<std::ptrdiff_t>(err.size() / 2),
                   err.end());
  double sigma = 1.4826 * err[err.size() / 2];
  if (!(sigma > 0.0)) sigma = fit.sigma;
  const double half = z * sigma;
  const Params p{fit.alpha, fit.beta, fit.gamma};
  State s = initial_state(y, season);
  std::vector<double> expected(y.size());
  run(y, season, p, s, &expected, half > 0 ? half : 0.0);
  std::vector<AnomalyPoint> out(y.size());
  for (std::size_t t = 0; t < y.size(); ++t) {
    const double e = expected[t];
    out[t] = {y[t], e, e - half, e + half, std::fabs(y[t] - e) > half};
  }
  return out;
}

}  // namespace techmart::core
