"""Showing the metrics: the text table the scripts print and the matplotlib figure."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from confusion_metrics.core import _checked_labels, _checked_matrix, binary, per_class, summary


def format_report(
    cm,
    labels: Sequence[Hashable] | None = None,
    positive: Any = None,
    zero_division: float = 0.0,
) -> str:
    """The confusion matrix, a per-class table and the averages, as text.

    With ``positive`` (a label of a 2-class matrix) the report ends with the
    positive class's TP, FN, FP, TN and its four metrics spelled out.
    """
    matrix = _checked_matrix(cm)
    names = [str(name) for name in _checked_labels(labels, matrix.shape[0])]
    width = max(8, *(len(name) for name in names), len(str(matrix.max())))

    lines = ["Confusion matrix (rows: actual class, columns: predicted class)"]
    lines.append(" " * (width + 2) + "".join(f"{name:>{width + 2}}" for name in names))
    for name, row in zip(names, matrix):
        lines.append(f"{name:>{width + 2}}" + "".join(f"{count:>{width + 2}d}" for count in row))

    lines.append("")
    header = ("class", "TP", "FN", "FP", "TN", "support", "accuracy", "precision", "recall", "F1")
    lines.append(f"{header[0]:>{width}} " + " ".join(f"{h:>9}" for h in header[1:]))
    for record in per_class(matrix, names, zero_division):
        counts = (record.tp, record.fn, record.fp, record.tn, record.support)
        rates = (record.accuracy, record.precision, record.recall, record.f1)
        lines.append(
            f"{record.label:>{width}} "
            + " ".join(f"{count:>9d}" for count in counts)
            + " "
            + " ".join(f"{100 * rate:>8.2f}%" for rate in rates)
        )

    overall = summary(matrix, names, zero_division)
    lines.append("")
    lines.append(f"overall accuracy: {100 * overall.accuracy:.2f} %")
    for name in ("macro", "weighted", "micro"):
        average = getattr(overall, name)
        lines.append(
            f"{name:>8} average: precision {100 * average.precision:6.2f} %"
            f"  recall {100 * average.recall:6.2f} %  F1 {100 * average.f1:6.2f} %"
        )

    if positive is not None:
        raw_labels = _checked_labels(labels, matrix.shape[0])
        record = binary(matrix, positive, raw_labels, zero_division)
        lines.append("")
        lines.append(f"Positive class: {record.label}")
        lines.append(f"  TP = {record.tp}   FN = {record.fn}   FP = {record.fp}   TN = {record.tn}")
        lines.append(f"  accuracy  = (TP + TN) / total          = {100 * record.accuracy:.2f} %")
        lines.append(f"  precision = TP / (TP + FP)             = {100 * record.precision:.2f} %")
        lines.append(f"  recall    = TP / (TP + FN)             = {100 * record.recall:.2f} %")
        lines.append(f"  F1        = 2 TP / (2 TP + FP + FN)    = {100 * record.f1:.2f} %")
    return "\n".join(lines)


def plot_confusion_matrix(
    cm,
    labels: Sequence[Hashable] | None = None,
    normalize: str | None = None,
    title: str | None = None,
    cmap: str = "Blues",
):
    """Draw the matrix as a matplotlib Figure, each cell annotated.

    ``normalize``: None (counts), "true" (each row sums to 1: the share of each
    actual class), "pred" (each column sums to 1) or "all". The counts are
    always shown; with normalisation the share is printed under them.
    """
    from matplotlib.figure import Figure  # not pyplot: no GUI backend is needed

    matrix = _checked_matrix(cm)
    names = [str(name) for name in _checked_labels(labels, matrix.shape[0])]
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
    with np.errstate(invalid="ignore", divide="ignore"):
        if normalize == "true":
            shares = matrix / matrix.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            shares = matrix / matrix.sum(axis=0, keepdims=True)
        elif normalize == "all":
            shares = matrix / matrix.sum()
        else:
            shares = None
    shown = np.nan_to_num(shares) if shares is not None else matrix

    size = 2.2 + 0.8 * len(names)
    figure = Figure(figsize=(size + 1.2, size), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(shown, cmap=cmap, vmin=0)
    figure.colorbar(image, ax=axes, label="share" if shares is not None else "count")
    threshold = shown.max() / 2
    for row in range(matrix.shape[0]):
        for column in range(matrix.shape[1]):
            text = f"{matrix[row, column]:d}"
            if shares is not None:
                text += f"\n{100 * np.nan_to_num(shares[row, column]):.1f} %"
            axes.text(
                column,
                row,
                text,
                ha="center",
                va="center",
                color="white" if shown[row, column] > threshold else "black",
            )
    axes.set_xticks(range(len(names)), names)
    axes.set_yticks(range(len(names)), names)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("actual class")
    if title:
        axes.set_title(title)
    return figure


def _mark_style(marker: str) -> dict:
    """A threshold's mark on a curve: the first (0.5) hollow, the others gold."""
    face = "none" if marker == "o" else "gold"
    return {"color": "black", "markerfacecolor": face, "markersize": 9, "zorder": 4}


def plot_threshold_curves(
    y_true,
    y_score,
    positive: Any = 1,
    marks: dict | None = None,
    compare: dict | None = None,
    name: str = "model",
    title: str | None = None,
):
    """The ROC and the precision-recall curve of a model's scores, as two matplotlib Figures.

    ``marks`` maps a legend text to a 2 x 2 confusion matrix of this model (rows actual,
    columns predicted, negative class first), for example the matrices at threshold 0.5
    and at a chosen threshold; each is drawn as a point on both curves. ``compare`` maps
    the names of other models to their scores, drawn as thinner curves. The ROC figure
    shows ROC AUC and the diagonal of a coin toss; the precision-recall figure shows
    average precision and the share of positives (the precision of flagging everybody).
    """
    from matplotlib.figure import Figure

    from confusion_metrics.thresholds import (
        average_precision,
        precision_recall_curve,
        roc_auc,
        roc_curve,
    )

    curves = {name: y_score, **(compare or {})}
    share = float(np.mean(np.asarray(y_true).ravel() == positive))
    points = {}
    for label, matrix in (marks or {}).items():
        (tn, fp), (fn, tp) = np.asarray(matrix)
        points[label] = (fp / (fp + tn), tp / (tp + fn), tp / (tp + fp) if tp + fp else 1.0)

    roc = Figure(figsize=(5, 4.6), layout="constrained")
    axes = roc.add_subplot()
    for k, (label, scores) in enumerate(curves.items()):
        fpr, tpr, _ = roc_curve(y_true, scores, positive)
        style = {"linewidth": 2, "zorder": 3} if k == 0 else {"linewidth": 1, "alpha": 0.8}
        axes.plot(
            fpr, tpr, label=f"{label} (ROC AUC {roc_auc(y_true, scores, positive):.3f})", **style
        )
    axes.plot([0, 1], [0, 1], "--", color="grey", label="coin toss (AUC 0.5)")
    for (label, (x, y, _)), marker in zip(points.items(), "os^D"):
        axes.plot(x, y, marker, label=label, **_mark_style(marker))
    axes.set_xlabel("false positive rate  FP / (FP + TN)")
    axes.set_ylabel("true positive rate (recall)  TP / (TP + FN)")
    axes.set_title(f"{title}: ROC curve" if title else "ROC curve")
    axes.legend(loc="lower right", fontsize="small")
    axes.grid(alpha=0.3)

    pr = Figure(figsize=(5, 4.6), layout="constrained")
    axes = pr.add_subplot()
    for k, (label, scores) in enumerate(curves.items()):
        precision, recall, _ = precision_recall_curve(y_true, scores, positive)
        style = {"linewidth": 2, "zorder": 3} if k == 0 else {"linewidth": 1, "alpha": 0.8}
        axes.step(
            recall,
            precision,
            where="post",
            label=f"{label} (AP {average_precision(y_true, scores, positive):.3f})",
            **style,
        )
    axes.axhline(
        share, linestyle="--", color="grey", label=f"flag everybody (precision {share:.3f})"
    )
    for (label, (_, y, p)), marker in zip(points.items(), "os^D"):
        axes.plot(y, p, marker, label=label, **_mark_style(marker))
    axes.set_xlabel("recall  TP / (TP + FN)")
    axes.set_ylabel("precision  TP / (TP + FP)")
    axes.set_ylim(0, 1.02)
    axes.set_title(f"{title}: precision-recall curve" if title else "Precision-recall curve")
    axes.legend(loc="upper right", fontsize="small")
    axes.grid(alpha=0.3)
    return roc, pr


def plot_reliability_diagram(
    models: dict, n_bins: int = 10, title: str | None = None, positive: Any = None
):
    """A reliability diagram: per bin of predicted probability, the share that came true. A
    matplotlib Figure.

    ``models`` maps a legend text to ``(y_true, y_prob)``: one probability per sample (of the
    positive class), or one row of class probabilities per sample with ``y_true`` class
    numbers, drawn on the top label (confidence against accuracy). A calibrated model lies on
    the diagonal; below it, the model is more sure of itself than it should be. The lower
    panel counts the cases in each bin, on a log scale: a bin with few cases says little.
    """
    from matplotlib.figure import Figure

    from confusion_metrics.calibration import (
        _probabilities,
        calibration_curve,
        expected_calibration_error,
    )

    figure = Figure(figsize=(5.4, 6.2), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1.2))
    top.plot([0, 1], [0, 1], "--", color="grey", label="calibrated")
    edges = np.linspace(0, 1, n_bins + 1)
    for label, (y_true, y_prob) in models.items():
        p = _probabilities(y_prob)
        ece = expected_calibration_error(y_true, p, n_bins=n_bins, positive=positive)
        if p.ndim == 1:
            true, predicted = calibration_curve(y_true, p, n_bins=n_bins, positive=positive)
            confidence = p
        else:  # the top label: how sure, and was it right
            confidence, correct = (
                p.max(axis=1),
                (p.argmax(axis=1) == np.asarray(y_true)).astype(int),
            )
            true, predicted = calibration_curve(correct, confidence, n_bins=n_bins)
        line = top.plot(predicted, true, "o-", label=f"{label} (ECE {ece:.3f})")[0]
        bottom.hist(confidence, bins=edges, histtype="step", linewidth=1.5, color=line.get_color())
    wording = (
        "confidence (top-label probability)"
        if any(np.ndim(v[1]) == 2 and np.shape(v[1])[1] > 1 for v in models.values())
        else "predicted probability"
    )
    top.set_ylabel("share that came true" if wording == "predicted probability" else "accuracy")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_title(f"{title}: reliability diagram" if title else "Reliability diagram")
    top.legend(loc="upper left", fontsize="small")
    top.grid(alpha=0.3)
    bottom.set_yscale("log")
    bottom.set_xlabel(f"{wording}, {n_bins} bins")
    bottom.set_ylabel("cases")
    bottom.grid(alpha=0.3)
    return figure
