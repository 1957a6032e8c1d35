"""A column that gives the answer away: the most common mistake in a table of one's own.

A follow-up code filled in after the diagnosis, a date of leaving, a copy of the target: on its
own, such a column predicts the target almost perfectly, and the network scores 100 % on a
question it has not learnt to answer. ``leaky_columns`` looks for them on the rows step 3 trains
on (never the test rows):

- each feature alone: a decision tree on that one column (empty cells are a value of their own,
  since that an answer is missing can be the leak), scored by 3-fold cross-validated balanced
  accuracy, which a majority class cannot inflate;
- a column that scores 0.99 or more is suspect; it is reported if the other columns together
  (gradient-boosted trees, the same folds) score clearly less, at least 0.02 lower. A table
  whose other columns answer as well is simply an easy one.

Why by hand? No library looks for leakage in a table; this is the check a careful analyst makes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.tree import DecisionTreeClassifier

SUSPECT = 0.99  # balanced accuracy of one column alone
CLEARLY_LOWER = 0.02  # how much lower the other columns must score
MAX_ROWS = 20_000  # the check looks at a sample of at most this many training rows


def _as_numbers(features: pd.DataFrame) -> pd.DataFrame:
    """Numbers as they are, text as category codes; empty cells stay empty (NaN)."""
    numbers = {}
    for name in features.columns:
        column = features[name]
        if pd.api.types.is_numeric_dtype(column):
            numbers[name] = column.astype(float)
        else:
            codes = pd.Series(pd.factorize(column)[0], index=column.index, dtype=float)
            numbers[name] = codes.where(codes >= 0)
    return pd.DataFrame(numbers)


def leaky_columns(features: pd.DataFrame, y: np.ndarray, seed: int = 0) -> dict[str, dict]:
    """{column: {"alone": score, "without": score}} for each column that gives the answer away.

    ``features`` and ``y``: the training rows. Scores are 3-fold balanced accuracies.
    """
    if len(y) > MAX_ROWS:
        rows = np.random.default_rng(seed).choice(len(y), MAX_ROWS, replace=False)
        features, y = features.iloc[rows], y[rows]
    if np.bincount(y).min() < 3:
        return {}  # too few rows of a class for three folds
    X = _as_numbers(features)
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)

    def score(model, columns) -> float:
        return float(
            cross_val_score(model, X[columns], y, cv=folds, scoring="balanced_accuracy").mean()
        )

    tree = DecisionTreeClassifier(min_samples_leaf=5, random_state=seed)
    alone = {name: score(tree, [name]) for name in X.columns}
    suspects = [name for name, s in alone.items() if s >= SUSPECT]
    if not suspects:
        return {}
    others = [name for name in X.columns if name not in suspects]
    without = score(HistGradientBoostingClassifier(random_state=seed), others) if others else 0.0
    return {
        name: {"alone": alone[name], "without": without}
        for name in suspects
        if without <= alone[name] - CLEARLY_LOWER
    }
