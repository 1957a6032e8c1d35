"""The threshold view: one confusion matrix per decision threshold, and the curves built from them.

A model that outputs a score (a probability, say) becomes a classifier once you pick a
threshold: scores at or above it are called positive. Every threshold gives one 2 x 2
confusion matrix; sweeping the threshold from high to low gives all of them, and

- the ROC curve plots, for each, the recall (true positive rate, TP / (TP + FN)) against
  the false positive rate (FP / (FP + TN)); ROC AUC is the area under it;
- the precision-recall curve plots precision against recall; average precision is the
  area under its steps.

The conventions are scikit-learn's (``roc_curve``, ``precision_recall_curve``,
``roc_auc_score``, ``average_precision_score``), and the tests compare with it: the
thresholds are the distinct scores in decreasing order, tied scores move together,
a score equal to the threshold counts as positive. Where scikit-learn warns and returns
NaN (a curve or area that needs both classes but gets one), these functions raise a
``ValueError`` that says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ThresholdCounts:
    """TP, FP, FN and TN at every distinct threshold, highest threshold first.

    At ``thresholds[i]`` a sample is called positive when its score is >= thresholds[i];
    ``matrix(i)`` is that confusion matrix, rows actual, columns predicted,
    negative class first: ``[[TN, FP], [FN, TP]]``.
    """

    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    tn: np.ndarray

    def matrix(self, i: int) -> np.ndarray:
        return np.array([[self.tn[i], self.fp[i]], [self.fn[i], self.tp[i]]], dtype=np.int64)

    @property
    def positives(self) -> int:
        return int(self.tp[-1])

    @property
    def negatives(self) -> int:
        return int(self.fp[-1])


def _checked_inputs(y_true, y_score, positive: Any) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true)
    y_score = np.asarray(y_score)
    if y_true.ndim != 1 and not (y_true.ndim == 2 and 1 in y_true.shape):
        raise ValueError(f"y_true must be one label per sample (1-D), got shape {y_true.shape}")
    if y_score.ndim != 1 and not (y_score.ndim == 2 and 1 in y_score.shape):
        raise ValueError(
            f"y_score must be one score per sample (1-D), got shape {y_score.shape}; "
            "for predict_proba's two columns pass the positive class's column"
        )
    y_true, y_score = y_true.ravel(), y_score.ravel()
    if y_true.size != y_score.size:
        raise ValueError(
            f"y_true and y_score have different lengths ({y_true.size} and {y_score.size})"
        )
    if y_true.size == 0:
        raise ValueError("y_true and y_score are empty: there is nothing to count")
    if y_score.dtype.kind not in "biuf":
        raise ValueError(f"y_score must hold numbers, got {y_score.dtype}")
    y_score = y_score.astype(np.float64)
    if not np.all(np.isfinite(y_score)):
        raise ValueError("y_score holds NaN or infinity: every sample needs a finite score")
    labels = np.unique(y_true)
    if labels.size > 2:
        raise ValueError(
            f"the threshold view is for two classes; y_true holds {labels.size}: {labels.tolist()}"
        )
    if labels.size == 2 and positive not in labels.tolist():
        raise ValueError(
            f"positive class {positive!r} is not one of the labels in y_true {labels.tolist()}"
        )
    return (y_true == positive), y_score


def confusion_matrices_at_thresholds(y_true, y_score, positive: Any = 1) -> ThresholdCounts:
    """The confusion matrix at every distinct score, the highest first.

    ``positive`` is the label of the positive class (default 1). Like scikit-learn's
    ``confusion_matrix_at_thresholds``: sort by score, highest first, and count the
    positives and negatives at or above each distinct score.
    """
    is_positive, y_score = _checked_inputs(y_true, y_score, positive)
    order = np.argsort(y_score, kind="stable")[::-1]
    y_score, is_positive = y_score[order], is_positive[order]
    # the last sample of each run of tied scores: all tied samples cross the threshold together
    last_of_tie = np.r_[np.flatnonzero(np.diff(y_score)), y_score.size - 1]
    tp = np.cumsum(is_positive)[last_of_tie]
    fp = (last_of_tie + 1) - tp
    return ThresholdCounts(
        thresholds=y_score[last_of_tie],
        tp=tp,
        fp=fp,
        fn=tp[-1] - tp,
        tn=fp[-1] - fp,
    )


def roc_curve(y_true, y_score, positive: Any = 1, drop_intermediate: bool = True):
    """False positive rates, true positive rates (recall) and thresholds, as scikit-learn's
    roc_curve.

    The curve starts at (0, 0) with threshold +inf (nothing called positive).
    ``drop_intermediate`` leaves out points that lie on a straight line between
    their neighbours; they change neither the plot nor the area.
    """
    counts = confusion_matrices_at_thresholds(y_true, y_score, positive)
    if counts.positives == 0 or counts.negatives == 0:
        missing = "positive" if counts.positives == 0 else "negative"
        raise ValueError(
            f"the ROC curve needs both classes in y_true, but it has no {missing} sample"
        )
    tp, fp, thresholds = counts.tp, counts.fp, counts.thresholds
    if drop_intermediate and tp.size > 2:
        corner = np.r_[True, np.logical_or(np.diff(fp, 2), np.diff(tp, 2)), True]
        tp, fp, thresholds = tp[corner], fp[corner], thresholds[corner]
    tp, fp = np.r_[0, tp], np.r_[0, fp]
    return fp / counts.negatives, tp / counts.positives, np.r_[np.inf, thresholds]


def precision_recall_curve(y_true, y_score, positive: Any = 1, drop_intermediate: bool = False):
    """Precision, recall and thresholds, as scikit-learn's precision_recall_curve.

    Ordered by increasing threshold (decreasing recall), with a last point
    precision 1, recall 0 that has no threshold. A threshold that calls nobody
    positive has precision 0 by convention.
    """
    counts = confusion_matrices_at_thresholds(y_true, y_score, positive)
    if counts.positives == 0:
        raise ValueError(
            "the precision-recall curve needs positive samples in y_true (recall is undefined)"
        )
    tp, fp, thresholds = counts.tp, counts.fp, counts.thresholds
    if drop_intermediate and tp.size > 2:
        # keep the first and last point of every run of equal TP (equal recall)
        keep = np.r_[True, np.logical_or(np.diff(tp[:-1]), np.diff(tp[1:])), True]
        tp, fp, thresholds = tp[keep], fp[keep], thresholds[keep]
    flagged = tp + fp
    precision = np.divide(tp, flagged, out=np.zeros(tp.size), where=flagged != 0)
    recall = tp / counts.positives
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def roc_auc(y_true, y_score, positive: Any = 1) -> float:
    """Area under the ROC curve (trapezoids), as scikit-learn's roc_auc_score for two classes.

    0.5 is a coin toss, 1.0 ranks every positive above every negative. It is also the
    chance that a random positive sample scores higher than a random negative one
    (ties counting half).
    """
    fpr, tpr, _ = roc_curve(y_true, y_score, positive, drop_intermediate=False)
    # the trapezoids, as numpy.trapezoid
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def average_precision(y_true, y_score, positive: Any = 1) -> float:
    """Average precision, as scikit-learn's average_precision_score.

    The precision at each threshold, weighted by how much recall rose since the
    previous one: sum over n of (R_n - R_n-1) P_n, with no interpolation.
    """
    precision, recall, _ = precision_recall_curve(y_true, y_score, positive)
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))


def choose_threshold(
    y_true, y_score, rule: str = "f1", min_recall: float | None = None, positive: Any = 1
) -> float:
    """A decision threshold chosen on the scores of held-out samples.

    ``rule="f1"``: the threshold of the best F1 (the highest such threshold on ties).
    ``rule="youden"``: the best recall minus false positive rate (Youden's J), the point of
    the ROC curve furthest above the diagonal.
    ``rule="min-recall"``: the highest threshold whose recall is at least
    ``min_recall``, so the one with the fewest false alarms among those that find
    enough positives.

    Call a sample positive when its score is above the returned value. The value lies
    strictly between the chosen score and the next lower one, and is never a float32
    number, so a float32 probability (what Keras predicts) can never equal it: compared in
    float64, ``score > t`` and ``score >= t`` call the same samples positive. (Compared in
    float32, as NumPy compares a float32 array with a float, ``t`` rounds to a float32
    number that still lies strictly between the two scores, unless they are neighbouring
    float32 numbers.)
    """
    counts = confusion_matrices_at_thresholds(y_true, y_score, positive)
    if counts.positives == 0:
        raise ValueError("choosing a threshold needs positive samples among the held-out ones")
    if rule == "f1":
        f1 = 2 * counts.tp / (2 * counts.tp + counts.fp + counts.fn)
        best = int(np.argmax(f1))
    elif rule == "youden":  # Youden's J: the ROC point furthest above the diagonal
        if counts.negatives == 0:
            raise ValueError("the youden rule needs negative samples among the held-out ones")
        best = int(np.argmax(counts.tp / counts.positives - counts.fp / counts.negatives))
    elif rule == "min-recall":
        if min_recall is None or not 0 < min_recall <= 1:
            raise ValueError(f"min_recall must be in (0, 1], got {min_recall!r}")
        best = int(np.argmax(counts.tp / counts.positives >= min_recall - 1e-12))
    else:
        raise ValueError(f"unknown rule {rule!r}: use 'f1', 'youden' or 'min-recall'")
    score = counts.thresholds[best]
    if best + 1 < counts.thresholds.size:
        lower = counts.thresholds[best + 1]
    else:  # every sample positive: go below the lowest score (halfway to 0 for probabilities)
        lower = 0.0 if score > 0 else score - 1.0
    # A float32 number strictly between the two scores where there is one, so that NumPy,
    # which compares a float32 array with a float in float32, finds it there too; then a
    # nudge off it in float64, so that no float32 probability can equal the threshold.
    middle = float(np.float32((score + lower) / 2))
    if not lower < middle < score:  # the two scores are neighbouring float32 numbers
        middle = (score + lower) / 2
    return float(np.nextafter(middle, score))
