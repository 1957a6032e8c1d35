"""What ann.py prints: decisions in the table's words, cross-validation scores, the comparison of
models; and how it records them: intervals and comparisons in metrics.json, test_predictions.csv."""

from __future__ import annotations

import numpy as np
import pandas as pd

import confusion_metrics
from confusion_metrics.compare import format_p  # 0.52, 0.049, 3.1e-05


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
        "intervals": _or_null(confusion_metrics.confusion_intervals(cm, positive=1)),
    }


def _or_null(intervals: dict) -> dict:
    """[lo, hi] as it is, or None (JSON's null) where the rate has no rows to count (NaN)."""
    return {name: None if np.isnan(pair).any() else pair for name, pair in intervals.items()}


def add_intervals(block: dict, intervals: dict) -> None:
    """Put ``confusion_intervals``' result into a metrics.json block of class_report's: two
    classes, all in ``block["intervals"]`` (precision and recall: the positive class's); more,
    the accuracy's there and each class's in its own ``per_class`` entry."""
    intervals = dict(intervals)
    for entry, own in zip(block["per_class"].values(), intervals.pop("per_class", [])):
        entry["intervals"] = _or_null(own)
    block["intervals"] = _or_null(intervals)


def interval_text(pair, digits: int = 4) -> str:
    """An interval as the printed lines give it: "0.8233 to 0.8554"."""
    if pair is None or np.isnan(pair).any():
        return "undefined"  # no rows to count: precision when nothing is flagged
    lo, hi = pair
    return f"{lo:.{digits}f} to {hi:.{digits}f}"


def print_test_intervals(block: dict, words: dict[str, str]) -> None:
    """Step 9's lines: accuracy, and with two classes recall and precision, each with its 95 %
    interval and the number of rows it is counted over."""
    intervals, cm = block["intervals"], np.asarray(block["confusion_matrix"])
    print(
        f"\ntest accuracy {block['accuracy']:.4f} (95 % interval "
        f"{interval_text(intervals['accuracy'])}), over {cm.sum():,} test {words['rows']}"
    )
    if "recall" in intervals:  # two classes: each rate over its own, smaller count
        (_, fp), (fn, tp) = cm
        for name, count, over in (
            ("recall", tp + fn, f"{words['rows']} who {words['yes']}"),
            ("precision", tp + fp, f"{words['rows']} flagged"),
        ):
            rate = f"{tp / count:.4f}" if count else "undefined"
            print(
                f"{name} {rate} (95 % interval {interval_text(intervals[name])}), over the "
                f"{count:,} {over}"
            )


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
    name: str,
    scores: np.ndarray,
    folds: int,
    epochs: int,
    batch_size: int,
    mean_interval: tuple[float, float],
) -> dict:
    """Print every fold's accuracy, the mean, variance and standard deviation, and the corrected
    interval of the mean; return them."""
    for fold, score in enumerate(scores, 1):
        print(f"  fold {fold:2d}: accuracy {score:.4f}")
    mean, variance, std = scores.mean(), scores.var(), scores.std()
    print(f"{name}: mean {mean:.4f}, variance {variance:.6f}, standard deviation {std:.4f}")
    print(
        f"  the mean's 95 % interval, corrected for the folds' shared training rows: "
        f"{interval_text(mean_interval)}"
    )
    return {
        "folds": folds,
        "epochs": epochs,
        "batch_size": batch_size,
        "scores": scores.tolist(),
        "mean": float(mean),
        "variance": float(variance),
        "std": float(std),
        "mean_interval": list(mean_interval),
    }


def comparison(a: str, b: str, result: dict) -> dict:
    """metrics.json's record of one comparison, from ``mcnemar_exact``'s result (on the test rows)
    or ``corrected_resampled_ttest``'s (on the folds)."""
    if "a_only_right" in result:
        return {"a": a, "b": b, "on": "test", "test": "McNemar exact", **result}
    return {
        "a": a,
        "b": b,
        "on": "cv",
        "test": "corrected resampled t-test",
        "mean_difference": result["mean_difference"],
        "p_value": result["p_value"],
    }


def print_verdict(compared: dict, words: dict[str, str]) -> None:
    """One comparison in a sentence: what it counted, its p and what that says."""
    a, b, p = compared["a"], compared["b"], compared["p_value"]
    if compared["on"] == "test":
        counted = (
            f"on the test {words['rows']}: {compared['b_only_right']:,} only it got right, "
            f"{compared['a_only_right']:,} only the {a}"
        )
    else:  # mean_difference is a - b; said as b's gain, 0 without a sign
        counted = f"on the same folds: {0.0 - compared['mean_difference']:+.4f} accuracy on average"
    print(f"{b} against the {a}, {counted}; p = {format_p(p)}, {confusion_metrics.verdict(p)}")


def print_bending_units(
    firing: list[np.ndarray], bending: list[int], rows: str = "customers"
) -> None:
    for k, share in enumerate(firing, 1):
        print(
            f"hidden layer {k}: {bending[k - 1]} of {share.size} units bend; they fire for "
            + ", ".join(f"{v:.0%}" for v in share)
            + f" of the training {rows}"
        )


def print_comparison(rows: list[tuple], comparisons: list[dict]) -> None:
    """(name, test accuracy, its interval, test ROC AUC or None, CV accuracy or None) per model, as
    a table, with the p of each model's comparison (as ``b``) on the test rows and on the folds."""
    p_values = {(c["b"], c["on"]): format_p(c["p_value"]) for c in comparisons}
    print(
        f"\n{'model':<22}{'test accuracy':>14}{'95 % interval':>18}{'test ROC AUC':>14}"
        f"{'CV accuracy':>13}{'p (test)':>10}{'p (CV)':>9}"
    )
    for name, accuracy, interval, auc, cv_mean in rows:
        auc = f"{auc:>14.3f}" if auc is not None else f"{'-':>14}"  # ROC AUC: two classes
        cv = f"{cv_mean:>13.4f}" if cv_mean is not None else f"{'-':>13}"
        p_test, p_cv = (p_values.get((name, on), "-") for on in ("test", "cv"))
        print(
            f"{name:<22}{accuracy:>14.4f}{interval_text(interval):>18}{auc}{cv}{p_test:>10}{p_cv:>9}"
        )


TEST_PREDICTIONS = "test_predictions.csv"


def test_predictions(ids, y_true, y_pred, probabilities, names: list[str]) -> pd.DataFrame:
    """test_predictions.csv: one row per test row, its ``id``, the ``actual`` and ``predicted``
    class by name, and each class's probability, ``p_<class>`` (two classes: 1 - P(class 1) and
    P(class 1))."""
    p = np.asarray(probabilities, dtype=np.float64)
    each = np.column_stack([1 - p, p]) if p.ndim == 1 else p
    said = np.asarray(names, dtype=object)
    columns = {"id": np.asarray(ids), "actual": said[y_true], "predicted": said[y_pred]}
    columns.update({f"p_{name}": each[:, k] for k, name in enumerate(names)})
    return pd.DataFrame(columns)


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
