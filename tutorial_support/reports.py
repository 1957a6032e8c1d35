"""What the scripts print: decisions in a bank's words, cross-validation scores, verdicts on images.

The metrics themselves come from ``confusion_metrics``; these helpers only lay them out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import confusion_metrics


def section(title: str) -> None:
    print(f"\n=== {title} ===", flush=True)


# ---- ann.py ----


def decision_metrics(y_true, probabilities, threshold: float) -> dict:
    """The test confusion matrix when a customer is flagged above ``threshold``, and its metrics."""
    flagged = np.asarray(probabilities, dtype=np.float64) > threshold  # in float64: see choose_threshold
    cm = confusion_metrics.confusion_matrix(y_true, flagged.astype(int), labels=[0, 1])
    leaves = confusion_metrics.binary(cm, positive=1)
    return {
        "confusion_matrix": cm.tolist(), "accuracy": leaves.accuracy, "precision": leaves.precision,
        "recall": leaves.recall, "f1": leaves.f1,
    }  # fmt: skip


def print_decisions(columns: dict[str, dict], words: dict[str, str]) -> None:
    """Test-set decisions at several thresholds, side by side, in the table's words (a bank's: customers who leave)."""
    width = max(len(name) for name in columns) + 2
    print(" " * 30 + "".join(f"{name:>{width}}" for name in columns))
    rows = {
        f"{words['rows']} flagged": lambda cm: cm[0][1] + cm[1][1],
        f"  of whom {words['yes']} (TP)": lambda cm: cm[1][1],
        f"  of whom {words['no']} (FP)": lambda cm: cm[0][1],
        f"{words['missed']} missed (FN)": lambda cm: cm[1][0],
    }
    for label, count in rows.items():
        print(f"{label:<30}" + "".join(f"{count(c['confusion_matrix']):>{width},}" for c in columns.values()))
    for metric in ("accuracy", "precision", "recall", "f1"):
        print(f"{metric:<30}" + "".join(f"{c[metric]:>{width}.2%}" for c in columns.values()))
    for name, c in columns.items():
        (_, fp), (fn, tp) = c["confusion_matrix"]
        print(f"{name}: flags {tp + fp:,} {words['rows']}, of whom {tp} {words['yes']}; "
              f"finds {tp} of the {tp + fn} who {words['yes']}")  # fmt: skip


def customer_verdict(customer: pd.DataFrame, probabilities: np.ndarray, classes: list[str], course: bool) -> dict:
    """Print one customer's (row's) fields, the probabilities and the verdict; return them for metrics.json.

    The course's customer: P(leaves) and "leaves the bank" above 0.5. Two classes: P(positive class)
    and the class it gives at 0.5. More: every class's probability and the most likely class.
    """
    print(
        "Customer: " + ", ".join(f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}"
                                 for name, value in customer.iloc[0].items())
    )  # fmt: skip
    probabilities = np.atleast_1d(np.asarray(probabilities, dtype=np.float64))
    if probabilities.size == 1:  # one sigmoid output: P(class 1)
        probability = float(probabilities[0])
        if course:
            print(f"P(leaves) = {probability:.3f} -> {'leaves the bank' if probability > 0.5 else 'stays'}")
            return {"probability": probability, "leaves": probability > 0.5}
        said = classes[int(probability > 0.5)]
        print(f"P({classes[1]}) = {probability:.3f} -> {said}")
        return {"probability": probability, "class": said}
    said = classes[int(np.argmax(probabilities))]
    print(", ".join(f"P({name}) = {p:.3f}" for name, p in zip(classes, probabilities)) + f" -> {said}")
    return {"probabilities": dict(zip(classes, probabilities.tolist())), "class": said}


def class_report(cm: np.ndarray, class_names: list[str]) -> dict:
    """metrics.json's test results for any number of classes: the matrix, accuracy, per class and averages."""
    overall = confusion_metrics.summary(cm, labels=class_names)
    return {
        "confusion_matrix": np.asarray(cm).tolist(), "labels": list(range(len(class_names))),
        "class_names": list(class_names), "accuracy": overall.accuracy,
        "per_class": {c.label: {"precision": c.precision, "recall": c.recall, "f1": c.f1, "support": c.support}
                      for c in confusion_metrics.per_class(cm, labels=class_names)},
        "averages": {name: vars(getattr(overall, name)) for name in ("macro", "micro", "weighted")},
    }  # fmt: skip


def cross_validation_report(name: str, scores: np.ndarray, folds: int, epochs: int, batch_size: int) -> dict:
    """Print every fold's accuracy, the mean, variance and standard deviation; return them."""
    for fold, score in enumerate(scores, 1):
        print(f"  fold {fold:2d}: accuracy {score:.4f}")
    mean, variance, std = scores.mean(), scores.var(), scores.std()
    print(f"{name}: mean {mean:.4f}, variance {variance:.6f}, standard deviation {std:.4f}")
    return {
        "folds": folds, "epochs": epochs, "batch_size": batch_size, "scores": scores.tolist(),
        "mean": float(mean), "variance": float(variance), "std": float(std),
    }  # fmt: skip


def print_bending_units(firing: list[np.ndarray], bending: list[int], rows: str = "customers") -> None:
    for k, share in enumerate(firing, 1):
        print(
            f"hidden layer {k}: {bending[k - 1]} of {share.size} units bend; they fire for "
            + ", ".join(f"{v:.0%}" for v in share) + f" of the training {rows}"
        )  # fmt: skip


def print_comparison(rows: list[tuple]) -> None:
    """(name, test accuracy, test ROC AUC, CV accuracy or None) per model, as a table."""
    print(f"\n{'model':<22}{'test accuracy':>15}{'test ROC AUC':>14}{'CV accuracy':>13}")
    for name, accuracy, auc, cv_mean in rows:
        cv = f"{cv_mean:>13.4f}" if cv_mean is not None else f"{'-':>13}"
        auc = f"{auc:>14.3f}" if auc is not None else f"{'-':>14}"  # ROC AUC: two classes
        print(f"{name:<22}{accuracy:>15.4f}{auc}{cv}")


# ---- cnn.py ----


def class_probabilities(outputs: np.ndarray) -> np.ndarray:
    """One column per class: a sigmoid's P(second class) p becomes the two columns 1 - p, p."""
    outputs = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)
    return np.column_stack([1 - outputs[:, 0], outputs[:, 0]]) if outputs.shape[1] == 1 else outputs


def singular(class_name: str) -> str:
    """Folder names are plural (cats, dogs); a single image is a cat or a dog."""
    return class_name[:-1] if class_name.endswith("s") else class_name


def verdict(probabilities: np.ndarray, class_names: list[str]) -> str:
    """ "dog (p = 0.93)"; with three or more classes also the runner-up when it is close."""
    first, second = np.argsort(probabilities)[::-1][:2]
    text = f"{singular(class_names[first])} (p = {probabilities[first]:.2f}"
    if len(class_names) > 2 and probabilities[second] >= probabilities[first] / 2:
        text += f"; runner-up {singular(class_names[second])}, p = {probabilities[second]:.2f}"
    return text + ")"


def confidence(probability: float, logit: float | None = None) -> str:
    """ "p = 0.93", "p = 0.9993", or for a probability that rounds to 1 the logit that still ranks it:
    "p = 1.0000, logit 17.3" (a sigmoid's log-odds, or a softmax's gap to the runner-up's logit)."""
    if probability < 0.99:
        return f"p = {probability:.2f}"
    if probability < 0.99995 or logit is None:
        return f"p = {probability:.4f}"
    return f"p = {probability:.4f}, logit {logit:.1f}"


def caption(truth: int, probabilities: np.ndarray, class_names: list[str], scores: np.ndarray | None = None) -> str:
    """ "actual cat, said dog, p = 0.97" for one image; ``scores``: its class scores before the output activation."""
    said = int(np.argmax(probabilities))
    logit = None
    if scores is not None:  # how far the chosen class's score is ahead of the best other one
        logit = float(scores[said] - np.max(np.delete(scores, said))) if len(scores) > 2 else float(scores[said])
    return (f"actual {singular(class_names[truth])}, said {singular(class_names[said])}, "
            f"{confidence(float(probabilities[said]), logit)}")  # fmt: skip
