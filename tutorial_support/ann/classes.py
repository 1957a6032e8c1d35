"""A table's target as classes: numbered 0 .. K-1, the positive class of two, the bad targets,
and enough rows of each for the folds.

A text target is a set of classes; so is one of whole numbers with at most 20 values. Anything
else is a quantity (regression), and a class of fewer than 5 rows is too small to learn and test:
each is one line that says what to do.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tutorial_support.common.errors import TutorialError

MAX_CLASSES = 20  # a numeric target with more distinct values is a quantity to regress, not classes
MIN_ROWS_PER_CLASS = 5  # one for the test set (a fifth), four to learn from


def number_classes(
    target: pd.Series, name: str, positive: str | None, path: Path
) -> tuple[np.ndarray, list[str], str | None]:
    """Class numbers, class names (in number order) and the positive class (two classes only)."""
    if target.empty:
        raise TutorialError(f"{path.name}: no row has a {name}: the target column is empty")
    if pd.api.types.is_numeric_dtype(target) and not pd.api.types.is_bool_dtype(target):
        values = target.to_numpy(dtype=float)
        if np.any(values != np.round(values)) or np.unique(values).size > MAX_CLASSES:
            raise TutorialError(
                f"{name} holds {np.unique(values).size:,} different numbers: this looks like a "
                "regression target; "
                "this chapter classifies (pass --target with a column of classes, or group the "
                "numbers into classes)"
            )
        target = pd.Series(values.astype(np.int64)).astype(str)
    names, counts = np.unique(target.astype(str).to_numpy(), return_counts=True)
    if names.size < 2:
        raise TutorialError(
            f"{name} holds one class only ({names[0]}): a classifier needs rows of two classes or "
            "more"
        )
    if counts.min() < MIN_ROWS_PER_CLASS:
        rare, fewest = names[int(np.argmin(counts))], int(counts.min())
        raise TutorialError(
            f"{name} has only {fewest} row{'s' if fewest > 1 else ''} of class {rare}: too few to "
            "learn it and "
            f"test it; a class needs at least {MIN_ROWS_PER_CLASS} rows (drop or merge the rare "
            "classes)"
        )
    if positive is not None:
        if names.size != 2:
            raise TutorialError(
                f"--positive applies to two classes, and {name} has {names.size}: leave it out"
            )
        if positive not in names:
            raise TutorialError(
                f"--positive {positive!r} is not a class of {name}; the classes are "
                f"{', '.join(names)}"
            )
    # the positive class second, so that y = 1 means positive and P(class 1) is its probability
    if names.size == 2:
        # the rarer class
        positive = positive if positive is not None else names[int(np.argmin(counts))]
        names = np.array([names[names != positive][0], positive])
    y = (
        np.searchsorted(names, target.astype(str).to_numpy())
        if names.size > 2
        else (target.astype(str) == positive).to_numpy()
    )
    return (
        np.asarray(y, dtype=np.int64),
        [str(n) for n in names],
        positive if names.size == 2 else None,
    )


def check_folds(y_train: np.ndarray, folds: int, classes: list[str]) -> None:
    """Stratified folds need at least ``folds`` training rows of every class."""
    counts = np.bincount(y_train, minlength=len(classes))
    rarest = int(np.argmin(counts))
    if folds and counts[rarest] < folds:
        fewer = f"--folds {counts[rarest]}" if counts[rarest] >= 2 else "--folds 0"
        raise TutorialError(
            f"--folds {folds} is more than the {counts[rarest]} training rows of class "
            f"{classes[rarest]}; "
            f"use fewer folds ({fewer}) or more rows of that class"
        )
