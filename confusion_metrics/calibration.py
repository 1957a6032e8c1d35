"""Calibration: can a predicted probability be taken at its word?

A model is calibrated when, of all the cases it gives a probability of about 0.3, about
3 in 10 are positive. Sorting the cases into bins by their predicted probability and
comparing, in each bin, the mean prediction with the share of positives shows it:

- ``calibration_curve``: those two numbers per bin (the points of a reliability diagram),
  exactly as ``sklearn.calibration.calibration_curve`` returns them;
- ``expected_calibration_error`` (ECE): the gap between them, averaged over the bins,
  each weighted by its share of the cases (Naeini et al. 2015; Guo et al. 2017 for many
  classes, on the top label);
- ``brier_score``: the mean squared difference between probability and outcome
  (``sklearn.metrics.brier_score_loss``);
- ``log_loss``: the mean negative log probability of what happened (``sklearn.metrics.log_loss``),
  which punishes a confident mistake without limit.

NumPy only. Bad input (labels and probabilities of different lengths, probabilities
outside [0, 1] or NaN, labels that do not say which class is positive) raises a
``ValueError`` that says why, never a silent NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _probabilities(y_prob, n: int | None = None) -> np.ndarray:
    p = np.asarray(y_prob, dtype=np.float64)
    if p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    if p.ndim not in (1, 2) or p.shape[0] == 0:
        raise ValueError(
            "y_prob must be one probability per sample, or one row of class probabilities per "
            f"sample; got shape {p.shape}"
        )
    if np.isnan(p).any():
        raise ValueError("y_prob holds NaN: every sample needs a probability")
    if p.min() < 0 or p.max() > 1:
        raise ValueError(
            f"y_prob must lie in [0, 1]; it holds values from {p.min():g} to {p.max():g}"
        )
    if n is not None and p.shape[0] != n:
        raise ValueError(
            f"y_true has {n} samples but y_prob has {p.shape[0]}: they must be the same length"
        )
    return p


def _binary_targets(y_true, positive: Any) -> np.ndarray:
    """y_true as 0/1, 1 for ``positive`` (default: 1 for 0/1 or -1/1 labels)."""
    y = np.asarray(y_true)
    if y.ndim != 1:
        y = y.reshape(-1) if y.ndim == 2 and 1 in y.shape else y
    if y.ndim != 1:
        raise ValueError(f"y_true must be one label per sample (1-D), got shape {y.shape}")
    labels = np.unique(y)
    if labels.size > 2:
        raise ValueError(
            f"one probability per sample needs two classes, but y_true holds {labels.size}: "
            f"{labels.tolist()}; "
            "pass one column of probabilities per class instead"
        )
    if positive is None:
        if not set(labels.tolist()) <= {0, 1} and not set(labels.tolist()) <= {-1, 1}:
            raise ValueError(
                f"y_true's labels {labels.tolist()} do not say which class is positive: pass "
                "positive="
            )
        positive = 1
    return (y == positive).astype(np.float64)


def _class_targets(y_true, k: int) -> np.ndarray:
    y = np.asarray(y_true).reshape(-1)
    if not np.issubdtype(y.dtype, np.integer) or (y.size and (y.min() < 0 or y.max() >= k)):
        raise ValueError(f"with one column per class, y_true must be class numbers 0 to {k - 1}")
    return y.astype(np.int64)


def calibration_curve(
    y_true, y_prob, n_bins: int = 10, strategy: str = "uniform", positive: Any = None
):
    """(prob_true, prob_pred): per non-empty bin, the share of positives and the mean probability.

    ``strategy="uniform"``: ``n_bins`` bins of equal width on [0, 1]; ``"quantile"``: bins
    holding equal numbers of cases (edges at the quantiles of ``y_prob``). A probability on
    an inner edge goes to the lower bin, as in scikit-learn.
    """
    y = _binary_targets(y_true, positive)
    p = _probabilities(y_prob, len(y))
    if p.ndim != 1:
        raise ValueError(
            "calibration_curve takes one probability per sample (of the positive class)"
        )
    if not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a whole number of at least 1, got {n_bins!r}")
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.percentile(p, np.linspace(0, 1, n_bins + 1) * 100)
    else:
        raise ValueError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")
    bins = np.searchsorted(edges[1:-1], p)
    total = np.bincount(bins, minlength=n_bins)
    positives = np.bincount(bins, weights=y, minlength=n_bins)
    predicted = np.bincount(bins, weights=p, minlength=n_bins)
    nonzero = total != 0
    return positives[nonzero] / total[nonzero], predicted[nonzero] / total[nonzero]


def expected_calibration_error(y_true, y_prob, n_bins: int = 10, positive: Any = None) -> float:
    """The mean gap between confidence and accuracy over ``n_bins`` equal-width bins, weighted by
    bin size.

    One probability per sample (two classes): the sum over bins b of (n_b / n) |mean(y in b) -
    mean(p in b)|, p being P(positive). One row per sample of k class probabilities, with
    ``y_true`` class numbers 0 to k-1: the same on the top label, confidence = max p and
    correct = (argmax == y), as in Guo et al. 2017. The bin of p is
    ``searchsorted(linspace(0, 1, n_bins + 1)[1:-1], p, side="right")``: a p on an inner edge
    goes to the upper bin.
    """
    p = _probabilities(y_prob)
    if p.ndim == 1:
        outcome, confidence = _binary_targets(y_true, positive), p
    else:
        y = _class_targets(y_true, p.shape[1])
        confidence, outcome = p.max(axis=1), (p.argmax(axis=1) == y).astype(np.float64)
    if len(outcome) != len(confidence):
        raise ValueError(
            f"y_true has {len(outcome)} samples but y_prob has {len(confidence)}: they must be the "
            "same length"
        )
    if not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a whole number of at least 1, got {n_bins!r}")
    bins = np.searchsorted(np.linspace(0.0, 1.0, n_bins + 1)[1:-1], confidence, side="right")
    gap = np.abs(
        np.bincount(bins, weights=outcome, minlength=n_bins)
        - np.bincount(bins, weights=confidence, minlength=n_bins)
    )
    return float(gap.sum() / len(confidence))  # sum over bins of n_b / n * |mean(y) - mean(p)|


def brier_score(y_true, y_prob, positive: Any = None) -> float:
    """The mean squared gap between probability and outcome, as
    ``sklearn.metrics.brier_score_loss``.

    One probability per sample: mean((y - p)^2), 0 at best, 1 at worst. One row of k class
    probabilities per sample (``y_true`` class numbers): the mean over samples of the sum over
    classes of (1[y = class] - p)^2, halved for two columns (so it equals the one-column form).
    """
    p = _probabilities(y_prob)
    if p.ndim == 1:
        y = _binary_targets(y_true, positive)
        if len(y) != len(p):
            raise ValueError(
                f"y_true has {len(y)} samples but y_prob has {len(p)}: they must be the same length"
            )
        return float(np.mean((y - p) ** 2))
    y = _class_targets(y_true, p.shape[1])
    if len(y) != len(p):
        raise ValueError(
            f"y_true has {len(y)} samples but y_prob has {len(p)}: they must be the same length"
        )
    onehot = np.eye(p.shape[1])[y]
    score = float(np.mean(np.sum((onehot - p) ** 2, axis=1)))
    return score / 2 if p.shape[1] < 3 else score


def log_loss(y_true, y_prob, positive: Any = None) -> float:
    """The mean of -log(probability given to what happened), as ``sklearn.metrics.log_loss``.

    Probabilities are clipped to [eps, 1 - eps] (eps of float64), so that a confident mistake
    costs about 36 rather than infinity.
    """
    p = _probabilities(y_prob)
    eps = np.finfo(np.float64).eps
    if p.ndim == 1:
        y = _binary_targets(y_true, positive)
        if len(y) != len(p):
            raise ValueError(
                f"y_true has {len(y)} samples but y_prob has {len(p)}: they must be the same length"
            )
        p = np.column_stack([1 - p, p])
        y = y.astype(np.int64)
    else:
        y = _class_targets(y_true, p.shape[1])
        if len(y) != len(p):
            raise ValueError(
                f"y_true has {len(y)} samples but y_prob has {len(p)}: they must be the same length"
            )
    p = np.clip(p, eps, 1 - eps)
    return float(-np.mean(np.log(p[np.arange(len(y)), y])))


def calibration_summary(y_true, y_prob, n_bins: int = 10, positive: Any = None) -> dict[str, float]:
    """ECE, Brier score and log loss together, as the scripts record them in metrics.json."""
    return {
        "ece": expected_calibration_error(y_true, y_prob, n_bins=n_bins, positive=positive),
        "brier": brier_score(y_true, y_prob, positive=positive),
        "log_loss": log_loss(y_true, y_prob, positive=positive),
    }
