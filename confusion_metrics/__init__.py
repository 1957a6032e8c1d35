"""Metrics from a confusion matrix: TP/FN/FP/TN, accuracy, precision, recall and F1.

Convention (the same as ``sklearn.metrics.confusion_matrix``): rows are the actual
class, columns the predicted class, and classes are in sorted label order.

This package needs only NumPy (and matplotlib for :func:`plot_confusion_matrix`);
it never imports TensorFlow, so it is quick to import and easy to test.
"""

from confusion_metrics.core import (
    Averages,
    ClassMetrics,
    Summary,
    binary,
    confusion_matrix,
    per_class,
    summary,
)
from confusion_metrics.report import format_report, plot_confusion_matrix

__all__ = [
    "Averages",
    "ClassMetrics",
    "Summary",
    "binary",
    "confusion_matrix",
    "format_report",
    "per_class",
    "plot_confusion_matrix",
    "summary",
]
