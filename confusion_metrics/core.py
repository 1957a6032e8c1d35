"""The arithmetic: from a confusion matrix to per-class and averaged metrics."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ClassMetrics:
    """Metrics of one class, treated as "positive" against all the others (one-vs-rest)."""

    label: Hashable
    tp: int  # actual class, predicted class
    fn: int  # actual class, predicted another class
    fp: int  # actual another class, predicted this class
    tn: int  # actual another class, predicted another class
    support: int  # how many samples really belong to the class (tp + fn)
    accuracy: float  # (tp + tn) / total
    precision: float  # tp / (tp + fp)
    recall: float  # tp / (tp + fn)
    f1: float  # 2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall


@dataclass(frozen=True)
class Averages:
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class Summary:
    """Overall accuracy and the three usual averages of precision, recall and F1.

    macro: the plain mean over classes; weighted: the mean weighted by support;
    micro: computed from the TP, FP and FN summed over classes.
    """

    accuracy: float
    macro: Averages
    micro: Averages
    weighted: Averages


def confusion_matrix(y_true, y_pred, labels: Sequence[Hashable] | None = None) -> np.ndarray:
    """Count how often each actual class (row) was predicted as each class (column).

    ``labels`` fixes the classes and their order; by default they are the sorted
    union of the values in ``y_true`` and ``y_pred``. Samples whose actual or
    predicted value is not in ``labels`` are left out, as scikit-learn does.
    """
    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred have different lengths ({y_true.size} and {y_pred.size})"
        )
    if labels is None:
        labels = np.unique(np.concatenate([y_true, y_pred]))
        if labels.size == 0:
            raise ValueError("y_true and y_pred are empty: there is nothing to count")
    else:
        labels = np.asarray(labels)
        if labels.ndim != 1 or labels.size == 0:
            raise ValueError("labels must be a non-empty list of class labels")
        if np.unique(labels).size != labels.size:
            raise ValueError(f"labels contain duplicates: {labels.tolist()}")
    position = {label: index for index, label in enumerate(labels.tolist())}
    cm = np.zeros((labels.size, labels.size), dtype=np.int64)
    for actual, predicted in zip(y_true.tolist(), y_pred.tolist()):
        if actual in position and predicted in position:
            cm[position[actual], position[predicted]] += 1
    return cm


def _checked_matrix(cm) -> np.ndarray:
    matrix = np.asarray(cm)
    if matrix.ndim != 2:
        raise ValueError(f"a confusion matrix must be 2-D, got {matrix.ndim} dimension(s)")
    if matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"a confusion matrix must be square, got shape {matrix.shape}")
    if matrix.shape[0] < 2:
        raise ValueError("a confusion matrix needs at least 2 classes")
    if matrix.dtype.kind not in "iuf" or (
        matrix.dtype.kind == "f" and not np.all(np.isfinite(matrix) & (matrix == np.round(matrix)))
    ):
        raise ValueError("confusion matrix counts must be whole numbers")
    if np.any(matrix < 0):
        raise ValueError("confusion matrix counts must not be negative")
    matrix = matrix.astype(np.int64)
    if matrix.sum() == 0:
        raise ValueError("the confusion matrix is all zeros: there is nothing to measure")
    return matrix


def _checked_labels(labels, n_classes: int) -> list:
    if labels is None:
        return list(range(n_classes))
    labels = list(labels)
    if len(labels) != n_classes:
        raise ValueError(
            f"got {len(labels)} labels for a {n_classes} x {n_classes} confusion matrix"
        )
    return labels


def _ratio(numerator, denominator, zero_division: float) -> np.ndarray:
    """numerator / denominator, with ``zero_division`` where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    safe = np.where(denominator == 0, 1.0, denominator)
    return np.where(denominator == 0, zero_division, numerator / safe)


def _counts(matrix: np.ndarray):
    tp = np.diag(matrix)
    fn = matrix.sum(axis=1) - tp  # the rest of the row: actual class, predicted another
    fp = matrix.sum(axis=0) - tp  # the rest of the column: predicted class, actually another
    tn = matrix.sum() - tp - fn - fp
    return tp, fn, fp, tn


def per_class(
    cm, labels: Sequence[Hashable] | None = None, zero_division: float = 0.0
) -> list[ClassMetrics]:
    """One :class:`ClassMetrics` per class, in the matrix's order.

    ``labels`` names the classes (default 0, 1, ...). ``zero_division`` is the value
    given to a metric whose denominator is zero (for example the precision of a class
    that is never predicted).
    """
    matrix = _checked_matrix(cm)
    names = _checked_labels(labels, matrix.shape[0])
    tp, fn, fp, tn = _counts(matrix)
    total = matrix.sum()
    accuracy = (tp + tn) / total
    precision = _ratio(tp, tp + fp, zero_division)
    recall = _ratio(tp, tp + fn, zero_division)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn, zero_division)
    return [
        ClassMetrics(
            label=names[i],
            tp=int(tp[i]),
            fn=int(fn[i]),
            fp=int(fp[i]),
            tn=int(tn[i]),
            support=int(tp[i] + fn[i]),
            accuracy=float(accuracy[i]),
            precision=float(precision[i]),
            recall=float(recall[i]),
            f1=float(f1[i]),
        )
        for i in range(matrix.shape[0])
    ]


def binary(
    cm, positive: Any = 1, labels: Sequence[Hashable] | None = None, zero_division: float = 0.0
) -> ClassMetrics:
    """Metrics of the positive class of a 2 x 2 confusion matrix.

    ``labels`` are the two classes in the matrix's order (default ``[0, 1]``) and
    ``positive`` is one of them; the default, 1, is the second class. For churn that
    is "Exited = 1", the customers who leave; for cats (0) and dogs (1), the dogs.
    """
    matrix = _checked_matrix(cm)
    if matrix.shape != (2, 2):
        raise ValueError(f"binary() needs a 2 x 2 confusion matrix, got shape {matrix.shape}")
    names = _checked_labels(labels, 2)
    if positive not in names:
        raise ValueError(f"positive class {positive!r} is not one of the labels {names}")
    return per_class(matrix, names, zero_division)[names.index(positive)]


def summary(cm, labels: Sequence[Hashable] | None = None, zero_division: float = 0.0) -> Summary:
    """Overall accuracy and the macro, micro and weighted averages."""
    matrix = _checked_matrix(cm)
    classes = per_class(matrix, labels, zero_division)
    tp, fn, fp, _ = _counts(matrix)
    support = tp + fn

    def mean(values, weights=None) -> float:
        return float(np.average(values, weights=weights))

    precision = [c.precision for c in classes]
    recall = [c.recall for c in classes]
    f1 = [c.f1 for c in classes]
    return Summary(
        accuracy=float(tp.sum() / matrix.sum()),
        macro=Averages(mean(precision), mean(recall), mean(f1)),
        micro=Averages(
            float(_ratio(tp.sum(), tp.sum() + fp.sum(), zero_division)),
            float(_ratio(tp.sum(), tp.sum() + fn.sum(), zero_division)),
            float(_ratio(2 * tp.sum(), 2 * tp.sum() + fp.sum() + fn.sum(), zero_division)),
        ),
        weighted=Averages(mean(precision, support), mean(recall, support), mean(f1, support)),
    )
