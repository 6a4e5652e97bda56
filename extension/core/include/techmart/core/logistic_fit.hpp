#pragma once
// L2-regularised logistic regression (Newton / IRLS) for fitting the fraud engine's weights
// from analysts' labels, and the metrics shown before and after a fit.
#include <cstddef>
#include <vector>

namespace techmart::core {

struct FitOptions {
  double l2 = 1.0;  // lambda: penalty lambda/2 * |w|^2 (the bias is not penalised)
  int max_iterations = 50;
  double tolerance = 1e-9;   // stop when the largest Newton step is below this
  bool non_negative = true;  // weights are clamped at 0 (rule_config requires weight >= 0)
};

struct FitResult {
  std::vector<double> weights;  // one per feature column
  double bias = 0.0;
  int iterations = 0;
  bool converged = false;
  double loss = 0.0;  // mean log-loss + penalty at the solution
};

// x: rows of features (row-major, n rows x d columns), y: labels 0/1. Deterministic: fixed
// iteration order, fixed start (all zero, bias = log-odds of the base rate), Cholesky solve.
// Throws std::invalid_argument on empty or inconsistent input, non-finite values, labels not
// 0/1, or lambda <= 0 (with lambda > 0 the problem is strictly convex: a unique solution even
// for separable data).
FitResult fit_logistic(const std::vector<std::vector<double>>& x, const std::vector<int>& y,
                       const FitOptions& options);

// Precision, recall and F1 of "score >= threshold" against labels; 0 where undefined.
struct Confusion {
  std::size_t tp = 0, fp = 0, tn = 0, fn = 0;
  double precision() const;
  double recall() const;
  double f1() const;
};
Confusion confusion_at(const std::vector<double>& scores, const std::vector<int>& y,
                       double threshold);

// Area under the ROC curve (ties count one half) and average precision (step-wise area under
// the precision/recall curve, ties grouped). NaN when a class is missing.
double roc_auc(const std::vector<double>& scores, const std::vector<int>& y);
double average_precision(const std::vector<double>& scores, const std::vector<int>& y);

}  // namespace techmart::core
