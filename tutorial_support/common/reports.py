"""What both scripts print and record: section titles, and the report of a confusion matrix of any
size.

The metrics themselves come from ``confusion_metrics``; these helpers only lay them out.
"""

from __future__ import annotations

import numpy as np

import confusion_metrics


def section(title: str) -> None:
    print(f"\n=== {title} ===", flush=True)


def class_report(cm: np.ndarray, class_names: list[str]) -> dict:
    """metrics.json's test results for any number of classes: the matrix, accuracy, per class and
    averages."""
    overall = confusion_metrics.summary(cm, labels=class_names)
    return {
        "confusion_matrix": np.asarray(cm).tolist(),
        "labels": list(range(len(class_names))),
        "class_names": list(class_names),
        "accuracy": overall.accuracy,
        "per_class": {
            c.label: {
                "precision": c.precision,
                "recall": c.recall,
                "f1": c.f1,
                "support": c.support,
            }
            for c in confusion_metrics.per_class(cm, labels=class_names)
        },
        "averages": {name: vars(getattr(overall, name)) for name in ("macro", "micro", "weighted")},
    }
