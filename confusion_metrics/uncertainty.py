"""How sure is a metric? Intervals around it, and tests that compare two models.

A test set is a sample: on another 2,000 customers the same model would score a little
differently. An interval says how far the metric could move by that chance alone, and a
test says whether a difference between two models is more than that chance:

- ``wilson_interval``: the Wilson score interval of a proportion (accuracy, precision,
  recall: successes out of trials), as ``statsmodels``' ``proportion_confint(method="wilson")``;
- ``confusion_intervals``: that interval for every rate of a confusion matrix, each over
  its own denominator (precision over the predicted positives, recall over the actual ones);
- ``bootstrap_interval``: a percentile bootstrap interval for any metric of labels and
  scores (ROC AUC, average precision, F1), resampling the rows;
- ``mcnemar_exact``: McNemar's exact test of two models scored on the same rows, from the
  rows only one of them got right, as ``statsmodels``' ``mcnemar(table, exact=True)``;
- ``corrected_resampled_ttest`` and ``cv_mean_interval``: for scores from the folds of a
  cross-validation, which are not independent (the training sets overlap), Nadeau and
  Bengio's corrected variance (Machine Learning 52, 2003), as in scikit-learn's gallery
  example "Statistical comparison of models using grid search";
- ``verdict``: a p-value in plain words.

The intervals and tests need NumPy; the t and binomial distributions come from SciPy
(which scikit-learn brings), imported only by the functions that use them, so the
package still imports without it. Bad input raises a ``ValueError`` that says why.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from statistics import NormalDist

import numpy as np

from confusion_metrics.core import _checked_matrix


def _checked_confidence(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (0.95 for 95 %), got {confidence!r}")
    return float(confidence)


def _critical_z(confidence: float) -> float:
    """The normal quantile that leaves (1 - confidence) / 2 in each tail (1.96 for 95 %)."""
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def _count(value, name: str) -> int:
    if isinstance(value, bool) or int(value) != value or value < 0:
        raise ValueError(f"{name} must be a whole number, 0 or more; got {value!r}")
    return int(value)


def wilson_interval(successes, trials, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of the proportion ``successes / trials``.

    No continuity correction; the same numbers as statsmodels'
    ``proportion_confint(successes, trials, alpha=1 - confidence, method="wilson")``.
    Unlike the textbook p +- 1.96 sqrt(p (1 - p) / n), it stays inside [0, 1] and is not
    zero wide at 0 or n successes, so it holds for small counts and extreme rates.
    With no trials there is nothing to estimate: ``(nan, nan)``.
    """
    successes, trials = _count(successes, "successes"), _count(trials, "trials")
    if successes > trials:
        raise ValueError(f"successes ({successes}) cannot exceed trials ({trials})")
    z = _critical_z(_checked_confidence(confidence))
    if trials == 0:
        return math.nan, math.nan
    p = successes / trials
    z2 = z * z
    shrink = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / shrink
    half_width = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / shrink
    # at 0 (or n) successes the lower (upper) end is 0 (1) exactly, which rounding could miss
    lo = 0.0 if successes == 0 else max(0.0, centre - half_width)
    hi = 1.0 if successes == trials else min(1.0, centre + half_width)
    return lo, hi


def _interval(successes, trials, confidence: float) -> list[float]:
    return list(wilson_interval(int(successes), int(trials), confidence))


def confusion_intervals(cm, positive: int | None = None, confidence: float = 0.95) -> dict:
    """A Wilson interval for each rate of a confusion matrix (rows actual, columns predicted).

    Each rate is successes out of its own denominator, so each interval is as wide as
    its own count allows: precision's over the rows predicted positive, recall's over
    the rows actually positive.

    Two classes: ``positive`` is the index of the positive class (default 1, the second
    class) and the result is ``{"accuracy", "precision", "recall", "specificity", "npv"}``
    (npv: negative predictive value, TN / (TN + FN)). More classes (leave ``positive``
    out): ``{"accuracy": [lo, hi], "per_class": [{"precision", "recall", "specificity"},
    ...]}``, one dict per class in the matrix's order, each class against the rest.

    Every interval is a list ``[lo, hi]`` of plain floats, ready for ``json.dump``; a
    rate whose denominator is 0 (precision of a class never predicted) gets ``[nan, nan]``.
    """
    matrix = _checked_matrix(cm)
    confidence = _checked_confidence(confidence)
    n_classes = matrix.shape[0]
    total = int(matrix.sum())
    accuracy = _interval(np.trace(matrix), total, confidence)
    if n_classes == 2:
        index = 1 if positive is None else positive
        if isinstance(index, bool) or index not in (0, 1):
            raise ValueError(f"positive is the index of the positive class, 0 or 1; got {index!r}")
        negative = 1 - index
        tp, fn = matrix[index, index], matrix[index, negative]
        fp, tn = matrix[negative, index], matrix[negative, negative]
        return {
            "accuracy": accuracy,
            "precision": _interval(tp, tp + fp, confidence),
            "recall": _interval(tp, tp + fn, confidence),
            "specificity": _interval(tn, tn + fp, confidence),
            "npv": _interval(tn, tn + fn, confidence),
        }
    if positive is not None:
        raise ValueError(
            f"positive picks the positive class of a 2 x 2 matrix; this one has {n_classes} "
            "classes: leave positive out and read each class in per_class"
        )
    tp = np.diag(matrix)
    actual, predicted = matrix.sum(axis=1), matrix.sum(axis=0)
    tn = total - actual - predicted + tp
    return {
        "accuracy": accuracy,
        "per_class": [
            {
                "precision": _interval(tp[i], predicted[i], confidence),
                "recall": _interval(tp[i], actual[i], confidence),
                "specificity": _interval(tn[i], total - actual[i], confidence),
            }
            for i in range(n_classes)
        ],
    }


def bootstrap_interval(
    metric: Callable,
    y_true,
    y_score,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> tuple[float, float]:
    """A percentile bootstrap interval of ``metric(y_true, y_score)``.

    ``metric`` is any function of labels and scores (or predictions): ``roc_auc``,
    ``average_precision``, scikit-learn's ``f1_score``. Each resample draws as many rows
    as there are, with replacement, and scores them; the interval runs from the
    (1 - confidence) / 2 quantile of those scores to the 1 - (1 - confidence) / 2 one.
    ``y_score`` may have one row per sample (a column of probabilities per class).
    ``seed`` makes the interval the same on every run (None: a new one each time).

    A resample where the metric is undefined is skipped, and a warning says how many: one where
    ``metric`` raises a ``ValueError`` (a resample with a single class has no ROC AUC) or
    returns NaN.
    Warnings the metric gives on a resample are not shown. The metric must be defined on
    the data themselves (its error is raised as it is), and on at least one resample.
    """
    y_true, y_score = np.asarray(y_true), np.asarray(y_score)
    if y_true.ndim == 0 or y_score.ndim == 0:
        raise ValueError("y_true and y_score must hold one value (or row) per sample")
    n = y_true.shape[0]
    if y_score.shape[0] != n:
        raise ValueError(f"y_true and y_score have different lengths ({n} and {y_score.shape[0]})")
    if n == 0:
        raise ValueError("y_true and y_score are empty: there is nothing to resample")
    if isinstance(n_resamples, bool) or int(n_resamples) != n_resamples or n_resamples < 1:
        raise ValueError(f"n_resamples must be a whole number, 1 or more; got {n_resamples!r}")
    confidence = _checked_confidence(confidence)
    metric(y_true, y_score)  # undefined on the data themselves: say so now, in its own words
    rng = np.random.default_rng(seed)
    values = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(int(n_resamples)):
            rows = rng.integers(0, n, size=n)
            try:
                value = float(metric(y_true[rows], y_score[rows]))
            except ValueError:
                continue
            if not math.isnan(value):
                values.append(value)
    if not values:
        raise ValueError(
            f"the metric was undefined on all {n_resamples} resamples (a single class in each?)"
        )
    if len(values) < n_resamples:  # the interval rests on fewer resamples than asked: say so
        warnings.warn(
            f"the metric was undefined on {int(n_resamples) - len(values)} of {n_resamples} "
            f"resamples (a single class?); the interval rests on the other {len(values)}",
            stacklevel=2,
        )
    tail = (1 - confidence) / 2
    lo, hi = np.quantile(values, [tail, 1 - tail])
    return float(lo), float(hi)


def mcnemar_exact(a_right, b_right) -> dict:
    """McNemar's exact test: do models A and B, scored on the same rows, differ?

    ``a_right`` and ``b_right`` say, row by row, whether each model got it right (True
    or 1). Rows both got right, or both got wrong, say nothing about which is better;
    the test looks only at the rows one alone got right. If the models were equally good,
    each such row would be A's or B's by a coin toss, so the p-value is the two-sided
    binomial probability of a split at least as uneven: with b and c rows,
    min(1, 2 * P(X <= min(b, c))) for X ~ Binomial(b + c, 1/2), and 1.0 when b + c is 0.
    The same p as statsmodels' ``mcnemar(table, exact=True).pvalue``.

    Returns ``{"a_only_right": b, "b_only_right": c, "p_value": p}``.
    """
    a = _right_or_wrong(a_right, "a_right")
    b = _right_or_wrong(b_right, "b_right")
    if a.size != b.size:
        raise ValueError(
            f"a_right and b_right have different lengths ({a.size} and {b.size}): "
            "both models must be scored on the same rows"
        )
    if a.size == 0:
        raise ValueError("a_right and b_right are empty: there are no rows to compare on")
    a_only, b_only = int(np.sum(a & ~b)), int(np.sum(~a & b))
    if a_only + b_only == 0:
        p_value = 1.0
    else:
        from scipy.stats import binom

        p_value = min(1.0, 2 * float(binom.cdf(min(a_only, b_only), a_only + b_only, 0.5)))
    return {"a_only_right": a_only, "b_only_right": b_only, "p_value": p_value}


def _right_or_wrong(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one True/False per row (1-D), got shape {array.shape}")
    if array.dtype != bool:
        if array.dtype.kind not in "iuf" or not np.isin(array, (0, 1)).all():
            raise ValueError(f"{name} must hold True/False (or 1/0) for each row")
        array = array.astype(bool)
    return array


def _fold_scores(scores, name: str) -> np.ndarray:
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim != 1 or array.size < 2:
        raise ValueError(f"{name} must be one score per fold, at least 2; got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds NaN or infinity: every fold needs a score")
    return array


def _variance_factor(k: int, n_train, n_test) -> float:
    """Nadeau and Bengio's 1/k + n_test/n_train, which replaces the plain 1/k."""
    if not (n_train > 0 and n_test > 0):
        raise ValueError(
            f"n_train and n_test are the rows of one fold's training and test sets, both more "
            f"than 0; got {n_train!r} and {n_test!r}"
        )
    return 1 / k + n_test / n_train


def corrected_resampled_ttest(scores_a, scores_b, n_train, n_test) -> dict:
    """Nadeau and Bengio's corrected resampled t-test of two models scored on the same folds.

    ``scores_a`` and ``scores_b`` are the two models' scores on the same k folds (or k
    train/test splits), each fold trained on ``n_train`` rows and tested on ``n_test``.
    A plain paired t-test divides the variance of the differences by k as if the folds
    were independent; they share most of their training rows, so it finds differences
    that are not there. The correction multiplies the variance by 1/k + n_test/n_train
    instead: t = mean(d) / sqrt((1/k + n_test/n_train) var(d)), with d = a - b, the
    variance with ddof=1 and k - 1 degrees of freedom. The p-value is two-sided (the
    scikit-learn example computes the right-tailed one, half of it).

    Returns ``{"mean_difference", "t", "p_value", "df"}``. When the differences do not
    vary, t is 0 (p 1) if they are all 0, otherwise +-inf (p 0).
    """
    a, b = _fold_scores(scores_a, "scores_a"), _fold_scores(scores_b, "scores_b")
    if a.size != b.size:
        raise ValueError(
            f"scores_a and scores_b have different lengths ({a.size} and {b.size}): "
            "both models must be scored on the same folds"
        )
    differences = a - b
    k = differences.size
    mean = float(np.mean(differences))
    variance = _variance_factor(k, n_train, n_test) * float(np.var(differences, ddof=1))
    if variance == 0:
        t, p_value = (0.0, 1.0) if mean == 0 else (math.copysign(math.inf, mean), 0.0)
    else:
        from scipy.stats import t as student

        t = mean / math.sqrt(variance)
        p_value = min(1.0, 2 * float(student.sf(abs(t), k - 1)))
    return {"mean_difference": mean, "t": t, "p_value": p_value, "df": k - 1}


def cv_mean_interval(scores, n_train, n_test, confidence: float = 0.95) -> tuple[float, float]:
    """The interval of a cross-validation's mean score, with Nadeau and Bengio's correction.

    mean +- t * sqrt((1/k + n_test/n_train) var(scores)), for k fold scores, the variance
    with ddof=1 and t the Student quantile with k - 1 degrees of freedom. For k-fold
    cross-validation n_test/n_train = 1/(k - 1): with 10 folds the interval is about 1.45
    times as wide as the naive one (1/k alone), which treats the folds as independent.
    """
    values = _fold_scores(scores, "scores")
    k = values.size
    tail = (1 - _checked_confidence(confidence)) / 2
    from scipy.stats import t as student

    half_width = float(student.ppf(1 - tail, k - 1)) * math.sqrt(
        _variance_factor(k, n_train, n_test) * float(np.var(values, ddof=1))
    )
    mean = float(np.mean(values))
    return mean - half_width, mean + half_width


def verdict(p_value: float, alpha: float = 0.05) -> str:
    """A p-value in plain words: below ``alpha`` "a real difference (p < 0.05)", otherwise
    "no evidence of a difference" (which is not evidence that there is none)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1 (0.05, say), got {alpha!r}")
    if not 0 <= p_value <= 1:
        raise ValueError(f"a p-value lies between 0 and 1, got {p_value!r}")
    if p_value < alpha:
        return f"a real difference (p < {alpha:g})"
    return "no evidence of a difference"
