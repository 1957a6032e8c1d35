"""What cnn.py prints about images: the verdict on one image, its confidence, a caption."""

from __future__ import annotations

import numpy as np


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
    """ "p = 0.93", "p = 0.9993", or for a probability that rounds to 1 the logit that still ranks
    it: "p = 1.0000, logit 17.3" (a sigmoid's log-odds, or a softmax's gap to the runner-up's
    logit)."""
    if probability < 0.99:
        return f"p = {probability:.2f}"
    if probability < 0.99995 or logit is None:
        return f"p = {probability:.4f}"
    return f"p = {probability:.4f}, logit {logit:.1f}"


def caption(
    truth: int, probabilities: np.ndarray, class_names: list[str], scores: np.ndarray | None = None
) -> str:
    """ "actual cat, said dog, p = 0.97" for one image; ``scores``: its class scores before the
    output activation."""
    said = int(np.argmax(probabilities))
    logit = None
    if scores is not None:  # how far the chosen class's score is ahead of the best other one
        logit = (
            float(scores[said] - np.max(np.delete(scores, said)))
            if len(scores) > 2
            else float(scores[said])
        )
    return (
        f"actual {singular(class_names[truth])}, said {singular(class_names[said])}, "
        f"{confidence(float(probabilities[said]), logit)}"
    )


def zero_shot_table(counts: np.ndarray, class_names: list[str]) -> str:
    """Rows: the actual classes (cats, dogs); columns: what ImageNet's head said (a cat class, a
    dog breed, something else); then the share it got right."""
    said = ("a cat class", "a dog breed", "something else")
    lines = [" " * 8 + "".join(f"{name:>16}" for name in said)]
    for name, row in zip(class_names, counts):
        lines.append(f"{name:>8}" + "".join(f"{int(n):>16,}" for n in row))
    right = (counts[0, 0] + counts[1, 1]) / counts.sum()
    return "\n".join(lines) + f"\nright: {right:.2%} (a photo read as something else is wrong)"


def confusion_report(cm: np.ndarray, class_names: list[str]) -> str:
    """The confusion matrix and its metrics; with two classes the second (dogs) is the positive
    class, with more every class in turn. Then the accuracy with its 95 % Wilson interval: the
    test photos are a sample, and another 2,000 would score a little differently."""
    import confusion_metrics

    positive = class_names[1] if len(class_names) == 2 else None
    report = confusion_metrics.format_report(cm, labels=class_names, positive=positive)
    right, total = int(np.trace(cm)), int(np.sum(cm))
    low, high = confusion_metrics.wilson_interval(right, total)
    return (
        f"{report}\ntest accuracy {right / total:.4f} (95 % interval {low:.4f} to {high:.4f}: "
        f"what {total:,} photos can tell)"
    )


def confusion_figure(cm: np.ndarray, class_names: list[str], network: str):
    """confusion_matrix.png: each actual class's row as shares of that class."""
    import confusion_metrics

    title = f"{network} CNN, test set"
    return confusion_metrics.plot_confusion_matrix(
        cm, labels=class_names, normalize="true", title=title
    )


def calibration_lines(calibration: dict, confidence: np.ndarray, right: np.ndarray) -> str:
    """ECE, Brier score and log loss; then how often the sure answers (p >= 0.99) are right."""
    text = (
        f"expected calibration error {calibration['ece']:.4f} (0: every bin as right as it is "
        f"sure), Brier score {calibration['brier']:.4f}, log loss {calibration['log_loss']:.4f}\n"
    )
    sure = confidence >= 0.99
    if not sure.any():
        return text + "no test photo gets p >= 0.99"
    return (
        text + f"{sure.mean():.1%} of the test photos get p >= 0.99; of those, "
        f"{right[sure].mean():.1%} are right"
    )
