"""Redraw the README's metric figures: python docs/make_figures.py"""

from pathlib import Path

import confusion_metrics

HERE = Path(__file__).resolve().parent

EXAMPLES = {
    "binary_churn_example.png": ([[1547, 48], [265, 140]], ["stays (0)", "leaves (1)"], "Churn, binary"),
    "three_class_example.png": ([[14, 0, 0], [1, 15, 0], [0, 0, 6]], ["class 1", "class 2", "class 3"], "Three classes"),
}

if __name__ == "__main__":
    for name, (cm, labels, title) in EXAMPLES.items():
        figure = confusion_metrics.plot_confusion_matrix(cm, labels=labels, title=title)
        figure.savefig(HERE / name, dpi=80, bbox_inches="tight")
        print(f"wrote docs/{name}")
        print(confusion_metrics.format_report(cm, labels=labels, positive=labels[-1] if len(labels) == 2 else None))
