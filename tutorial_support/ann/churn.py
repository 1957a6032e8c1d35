"""The bank's churn table (Churn_Modelling.csv): what the course knows about it, as data.

ann.py reads it as it reads any table: ``tables.load`` decides about every column, and for
this file it drops RowNumber and CustomerId (ID-like) and Surname (free text) and keeps the
ten features of the course. What a generic reader cannot know is written here:

- the checks that prove the file is the course's table (every column there, no empty cell,
  numbers where numbers belong, the three countries, Exited 0 or 1), each a one-line error;
- how the printed lines speak of its rows: customers, who leave or stay;
- the course's example customer, step 8's default.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np
import pandas as pd

from tutorial_support.ann.csv_files import read_csv
from tutorial_support.common.errors import TutorialError

FILE = "Churn_Modelling.csv"
TARGET = "Exited"
POSITIVE = "1"  # Exited = 1: the customer left
# The ten columns the network learns from (CreditScore .. EstimatedSalary), in the file's order.
FEATURES = [
    "CreditScore",
    "Geography",
    "Gender",
    "Age",
    "Tenure",
    "Balance",
    "NumOfProducts",
    "HasCrCard",
    "IsActiveMember",
    "EstimatedSalary",
]
CATEGORIES = {"Geography": ["France", "Germany", "Spain"], "Gender": ["Female", "Male"]}
NUMERIC = [name for name in FEATURES if name not in CATEGORIES]

# The new customer of step 8, as the original tutorial described them.
EXAMPLE_CUSTOMER = {
    "CreditScore": 600,
    "Geography": "France",
    "Gender": "Male",
    "Age": 40,
    "Tenure": 3,
    "Balance": 60000,
    "NumOfProducts": 2,
    "HasCrCard": 1,
    "IsActiveMember": 1,
    "EstimatedSalary": 50000,
}

# How the printed lines speak of the rows and of the two classes (Exited 0 and 1).
WORDS = {
    "row": "customer",
    "rows": "customers",
    "yes": "leave",
    "no": "stay",
    "missed": "leavers",
    "p": "P(leaves)",
    "a_yes": "leaver",
    "a_no": "stayer",
    "topic": "churn",
    "title": "Churn",
}
CLASS_NAMES = ["stays", "leaves"]  # Exited = 0, Exited = 1


def describes(path: Path, target: str, positive: str | None) -> bool:
    """Whether ``path`` read for ``target`` is the course's question: will a customer leave?"""
    return Path(path).name == FILE and target == TARGET and positive in (None, POSITIVE)


def _column_hint(missing: str, present: list[str]) -> str:
    close = difflib.get_close_matches(missing, present, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check(table: pd.DataFrame, path: Path) -> None:
    """Stop with one line, naming the column and the first bad row, unless ``table`` is the
    course's.

    Checked: every feature and the target present, no empty cell, numbers where numbers
    belong, only the known countries and genders, and Exited 0 or 1.
    """
    columns = [str(name) for name in table.columns]
    for name in [*FEATURES, TARGET]:
        if name not in columns:
            raise TutorialError(f"{path} has no column {name!r}{_column_hint(name, columns)}")
    for name in [*FEATURES, TARGET]:
        empty = table[name].isna().to_numpy()
        if empty.any():
            row = int(np.argmax(empty)) + 1
            raise TutorialError(f"{path}: column {name!r} has an empty cell in data row {row}")
    for name in [*NUMERIC, TARGET]:
        bad = pd.to_numeric(table[name], errors="coerce").isna().to_numpy()
        if bad.any():
            row = int(np.argmax(bad))
            raise TutorialError(
                f"{path}: column {name!r} must hold numbers, "
                f"but data row {row + 1} has {table[name].iloc[row]!r}"
            )
    for name, allowed in CATEGORIES.items():
        unknown = ~table[name].isin(allowed).to_numpy()
        if unknown.any():
            row = int(np.argmax(unknown))
            raise TutorialError(
                f"{path}: unknown {name} {table[name].iloc[row]!r} in data row {row + 1}; "
                f"expected one of {', '.join(allowed)}"
            )
    target = pd.to_numeric(table[TARGET]).to_numpy()
    if not np.isin(target, (0, 1)).all():
        row = int(np.argmax(~np.isin(target, (0, 1))))
        raise TutorialError(
            f"{path}: {TARGET} must be 0 or 1, but data row {row + 1} has {target[row]:g}"
        )


def load_churn(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """The course's ten feature columns and the 0/1 target, checked (for tests and benchmarks)."""
    table = read_csv(Path(path))
    check(table, path)
    features = table[FEATURES].copy()
    for name in NUMERIC:
        features[name] = pd.to_numeric(features[name]).astype(float)
    return features, pd.to_numeric(table[TARGET]).to_numpy().astype(np.int64)
