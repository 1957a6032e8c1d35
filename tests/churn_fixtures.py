"""A small generated churn-like table, so unit tests need no real data."""

import numpy as np
import pandas as pd

from tutorial_support.ann.churn import FEATURES, TARGET


def churn_table(rows: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(
        {
            "RowNumber": np.arange(1, rows + 1),
            "CustomerId": rng.integers(15_000_000, 16_000_000, rows),
            "Surname": [f"Surname {k % 97}" for k in range(rows)],  # free text, as in the real file
            "CreditScore": rng.integers(350, 850, rows),
            "Geography": rng.choice(["France", "Germany", "Spain"], rows),
            "Gender": rng.choice(["Female", "Male"], rows),
            "Age": rng.integers(18, 90, rows),
            "Tenure": rng.integers(0, 11, rows),
            "Balance": np.round(rng.uniform(0, 250_000, rows), 2),
            "NumOfProducts": rng.integers(1, 5, rows),
            "HasCrCard": rng.integers(0, 2, rows),
            "IsActiveMember": rng.integers(0, 2, rows),
            "EstimatedSalary": np.round(rng.uniform(10, 200_000, rows), 2),
        }
    )
    # Older, inactive German customers leave more often: something for a network to learn.
    risk = (table.Age - 40) / 10 + (table.Geography == "Germany") - table.IsActiveMember
    table[TARGET] = (risk + rng.normal(0, 0.5, rows) > 0.3).astype(int)
    assert set(FEATURES) < set(table.columns)
    return table


def learnable_problem(rows: int = 160, seed: int = 0):
    """Scaled features (11 columns) and a 0/1 target."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 11)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 3] - X[:, 7] + rng.normal(0, 0.5, rows) > 0.4).astype(np.int64)
    return X, y
