"""What ann.py prints: decisions in the table's words, cross-validation scores, the comparison of
models."""

from __future__ import annotations

import numpy as np
import pandas as pd

import confusion_metrics


def decision_metrics(y_true, probabilities, threshold: float) -> dict:
    """The test confusion matrix when a customer is flagged above ``threshold``, and its metrics."""
    # in float64: see choose_threshold
    flagged = np.asarray(probabilities, dtype=np.float64) > threshold
    cm = confusion_metrics.confusion_matrix(y_true, flagged.astype(int), labels=[0, 1])
    leaves = confusion_metrics.binary(cm, positive=1)
    return {
        "confusion_matrix": cm.tolist(),
        "accuracy": leaves.accuracy,
        "precision": leaves.precision,
        "recall": leaves.recall,
        "f1": leaves.f1,
    }


def print_decisions(columns: dict[str, dict], words: dict[str, str]) -> None:
    """Test-set decisions at several thresholds, side by side, in the table's words (a bank's:
    customers who leave)."""
    width = max(len(name) for name in columns) + 2
    print(" " * 30 + "".join(f"{name:>{width}}" for name in columns))
    rows = {
        f"{words['rows']} flagged": lambda cm: cm[0][1] + cm[1][1],
        f"  of whom {words['yes']} (TP)": lambda cm: cm[1][1],
        f"  of whom {words['no']} (FP)": lambda cm: cm[0][1],
        f"{words['missed']} missed (FN)": lambda cm: cm[1][0],
    }
    for label, count in rows.items():
        print(
            f"{label:<30}"
            + "".join(f"{count(c['confusion_matrix']):>{width},}" for c in columns.values())
        )
    for metric in ("accuracy", "precision", "recall", "f1"):
        print(f"{metric:<30}" + "".join(f"{c[metric]:>{width}.2%}" for c in columns.values()))
    for name, c in columns.items():
        (_, fp), (fn, tp) = c["confusion_matrix"]
        print(
            f"{name}: flags {tp + fp:,} {words['rows']}, of whom {tp} {words['yes']}; "
            f"finds {tp} of the {tp + fn} who {words['yes']}"
        )


def cross_validation_report(
    name: str, scores: np.ndarray, folds: int, epochs: int, batch_size: int
) -> dict:
    """Print every fold's accuracy, the mean, variance and standard deviation; return them."""
    for fold, score in enumerate(scores, 1):
        print(f"  fold {fold:2d}: accuracy {score:.4f}")
    mean, variance, std = scores.mean(), scores.var(), scores.std()
    print(f"{name}: mean {mean:.4f}, variance {variance:.6f}, standard deviation {std:.4f}")
    return {
        "folds": folds,
        "epochs": epochs,
        "batch_size": batch_size,
        "scores": scores.tolist(),
        "mean": float(mean),
        "variance": float(variance),
        "std": float(std),
    }


def print_bending_units(
    firing: list[np.ndarray], bending: list[int], rows: str = "customers"
) -> None:
    for k, share in enumerate(firing, 1):
        print(
            f"hidden layer {k}: {bending[k - 1]} of {share.size} units bend; they fire for "
            + ", ".join(f"{v:.0%}" for v in share)
            + f" of the training {rows}"
        )


def print_comparison(rows: list[tuple]) -> None:
    """(name, test accuracy, test ROC AUC, CV accuracy or None) per model, as a table."""
    print(f"\n{'model':<22}{'test accuracy':>15}{'test ROC AUC':>14}{'CV accuracy':>13}")
    for name, accuracy, auc, cv_mean in rows:
        cv = f"{cv_mean:>13.4f}" if cv_mean is not None else f"{'-':>13}"
        auc = f"{auc:>14.3f}" if auc is not None else f"{'-':>14}"  # ROC AUC: two classes
        print(f"{name:<22}{accuracy:>15.4f}{auc}{cv}")


def by_group(
    column: pd.Series, y_true, probabilities: dict[str, np.ndarray], table
) -> pd.DataFrame:
    """The test rows grouped by one feature (its values, or five equal-sized bins of a number
    with more than ten values): how many, and for two classes the share of the positive class
    beside the mean probability each network gives it; for more, each network's accuracy."""
    values = column.to_numpy()
    if column.nunique() > 10 and pd.api.types.is_numeric_dtype(column):
        values = pd.qcut(column, 5, duplicates="drop").to_numpy()
    elif pd.api.types.is_numeric_dtype(column) and np.all(values == np.round(values)):
        values = values.astype(int)
    rows = {table.words["rows"]: np.ones(len(values))}
    if table.two_classes:
        rows[f"{table.words['yes']} (actual)"] = np.asarray(y_true, dtype=float)
        rows.update({name: np.asarray(p, dtype=float) for name, p in probabilities.items()})
    else:
        rows.update(
            {
                f"{name} accuracy": (np.argmax(p, axis=1) == y_true).astype(float)
                for name, p in probabilities.items()
            }
        )
    shares = pd.DataFrame(rows).groupby(values, observed=True)
    grouped = shares.mean()
    grouped[table.words["rows"]] = shares.size()
    if isinstance(grouped.index, pd.IntervalIndex):  # bins, as text: "(35.0, 41.0]"
        grouped.index = grouped.index.astype(str)
    grouped.index.name = column.name
    return grouped
