"""Metrics from a confusion matrix: TP/FN/FP/TN, accuracy, precision, recall and F1.

For a model that outputs scores, ``thresholds`` gives one confusion matrix per decision
threshold and the curves and areas built from them (ROC, precision-recall, ROC AUC,
average precision), and a way to choose the threshold on held-out data. ``calibration``
asks whether the scores can be taken at their word as probabilities (reliability curve,
expected calibration error, Brier score, log loss). ``uncertainty`` says how sure each
number is: Wilson intervals for the rates of a confusion matrix, bootstrap intervals for
any metric, McNemar's exact test of two models on the same rows, and the corrected t-test
and interval for cross-validation scores. ``python -m confusion_metrics compare RUN_A RUN_B``
compares two runs' saved test predictions with them (``compare``).

Convention (the same as ``sklearn.metrics.confusion_matrix``): rows are the actual
class, columns the predicted class, and classes are in sorted label order.

This package needs only NumPy (and matplotlib for :func:`plot_confusion_matrix`, SciPy
for the t and binomial distributions of ``uncertainty``, both imported only when used);
it never imports TensorFlow, so it is quick to import and easy to test.
"""

from confusion_metrics.calibration import (
    brier_score,
    calibration_curve,
    calibration_summary,
    expected_calibration_error,
    log_loss,
)
from confusion_metrics.core import (
    Averages,
    ClassMetrics,
    Summary,
    binary,
    confusion_matrix,
    per_class,
    summary,
)
from confusion_metrics.report import (
    format_report,
    plot_confusion_matrix,
    plot_reliability_diagram,
    plot_threshold_curves,
)
from confusion_metrics.thresholds import (
    ThresholdCounts,
    average_precision,
    choose_threshold,
    confusion_matrices_at_thresholds,
    precision_recall_curve,
    roc_auc,
    roc_curve,
)
from confusion_metrics.uncertainty import (
    bootstrap_interval,
    confusion_intervals,
    corrected_resampled_ttest,
    cv_mean_interval,
    mcnemar_exact,
    verdict,
    wilson_interval,
)

__all__ = [
    "Averages",
    "ClassMetrics",
    "Summary",
    "ThresholdCounts",
    "average_precision",
    "binary",
    "bootstrap_interval",
    "brier_score",
    "calibration_curve",
    "calibration_summary",
    "choose_threshold",
    "confusion_intervals",
    "confusion_matrices_at_thresholds",
    "confusion_matrix",
    "corrected_resampled_ttest",
    "cv_mean_interval",
    "expected_calibration_error",
    "format_report",
    "log_loss",
    "mcnemar_exact",
    "per_class",
    "plot_confusion_matrix",
    "plot_reliability_diagram",
    "plot_threshold_curves",
    "precision_recall_curve",
    "roc_auc",
    "roc_curve",
    "summary",
    "verdict",
    "wilson_interval",
]
