"""Redraw the README's metric figures: python docs/make_figures.py"""

from pathlib import Path

import confusion_metrics

HERE = Path(__file__).resolve().parent

# The threshold view's six customers (README, chapter 3): leaves?, score
SIX_CUSTOMERS = ([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.4, 0.8, 0.8, 0.9])

EXAMPLES = {
    "binary_churn_example.png": (
        [[1545, 50], [270, 135]],
        ["stays (0)", "leaves (1)"],
        "Churn ANN, test set",
    ),
    "three_class_example.png": (
        [[14, 0, 0], [1, 15, 0], [0, 0, 6]],
        ["class 1", "class 2", "class 3"],
        "Three classes",
    ),
}

if __name__ == "__main__":
    for name, (cm, labels, title) in EXAMPLES.items():
        figure = confusion_metrics.plot_confusion_matrix(cm, labels=labels, title=title)
        figure.savefig(HERE / name, dpi=80, bbox_inches="tight")
        print(f"wrote docs/{name}")
        print(
            confusion_metrics.format_report(
                cm, labels=labels, positive=labels[-1] if len(labels) == 2 else None
            )
        )

    y, scores = SIX_CUSTOMERS
    counts = confusion_metrics.confusion_matrices_at_thresholds(y, scores)
    print("\nthreshold  TP  FP  FN  TN")
    for i, threshold in enumerate(counts.thresholds):
        print(
            f"{threshold:9.1f} {counts.tp[i]:3d} {counts.fp[i]:3d} {counts.fn[i]:3d} "
            f"{counts.tn[i]:3d}"
        )
    print(
        f"ROC AUC {confusion_metrics.roc_auc(y, scores):.3f}, average precision "
        f"{confusion_metrics.average_precision(y, scores):.3f}"
    )
