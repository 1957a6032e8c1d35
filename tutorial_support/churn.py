"""The bank churn table: reading it, checking it, encoding it, and one readable customer."""

from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

from tutorial_support.errors import TutorialError

# The ten columns the network learns from (CreditScore .. EstimatedSalary), and the answer.
FEATURES = [
    "CreditScore", "Geography", "Gender", "Age", "Tenure", "Balance",
    "NumOfProducts", "HasCrCard", "IsActiveMember", "EstimatedSalary",
]  # fmt: skip
TARGET = "Exited"
CATEGORIES = {"Geography": ["France", "Germany", "Spain"], "Gender": ["Female", "Male"]}
NUMERIC = [name for name in FEATURES if name not in CATEGORIES]

# The new customer of step 8, as the original tutorial described them.
EXAMPLE_CUSTOMER = {
    "Geography": "France", "CreditScore": 600, "Gender": "Male", "Age": 40, "Tenure": 3,
    "Balance": 60000, "NumOfProducts": 2, "HasCrCard": 1, "IsActiveMember": 1,
    "EstimatedSalary": 50000,
}  # fmt: skip


def _column_hint(missing: str, present: list[str]) -> str:
    close = difflib.get_close_matches(missing, present, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_churn(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """Read the CSV and check it; return the feature columns and the 0/1 target.

    Every problem (unreadable file, missing column, empty cell, text where a number
    belongs, an unknown category, a target other than 0/1) is a TutorialError that
    names the column and the first bad row.
    """
    try:
        table = pd.read_csv(path)
    except FileNotFoundError:
        raise TutorialError(f"no such file: {path}") from None
    except pd.errors.EmptyDataError:
        raise TutorialError(f"{path} is empty: expected the churn table with a header row") from None
    except (pd.errors.ParserError, UnicodeDecodeError, IsADirectoryError, PermissionError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise TutorialError(f"cannot read {path} as CSV: {reason}") from None

    columns = [str(name) for name in table.columns]
    for name in [*FEATURES, TARGET]:
        if name not in columns:
            raise TutorialError(f"{path} has no column {name!r}{_column_hint(name, columns)}")
    if table.empty:
        raise TutorialError(f"{path} has a header but no rows")

    table = table[[*FEATURES, TARGET]]
    for name in table.columns:
        empty = table[name].isna().to_numpy()
        if empty.any():
            raise TutorialError(f"{path}: column {name!r} has an empty cell in data row {int(np.argmax(empty)) + 1}")
    for name in [*NUMERIC, TARGET]:
        numbers = pd.to_numeric(table[name], errors="coerce")
        bad = numbers.isna().to_numpy()
        if bad.any():
            row = int(np.argmax(bad))
            raise TutorialError(
                f"{path}: column {name!r} must hold numbers, but data row {row + 1} has {table[name].iloc[row]!r}"
            )
        table[name] = numbers.astype(float)
    for name, allowed in CATEGORIES.items():
        unknown = ~table[name].isin(allowed).to_numpy()
        if unknown.any():
            row = int(np.argmax(unknown))
            raise TutorialError(
                f"{path}: unknown {name} {table[name].iloc[row]!r} in data row {row + 1}; "
                f"expected one of {', '.join(allowed)}"
            )
    target = table[TARGET].to_numpy()
    if not np.isin(target, (0, 1)).all():
        row = int(np.argmax(~np.isin(target, (0, 1))))
        raise TutorialError(f"{path}: {TARGET} must be 0 or 1, but data row {row + 1} has {target[row]:g}")
    return table[FEATURES], target.astype(np.int64)


def make_encoder() -> ColumnTransformer:
    """Geography one-hot without its first dummy (France is 0, 0) and Gender as 0/1.

    The categories are fixed, not learnt from the data, so encoding the whole table
    before the train/test split leaks nothing. The other eight columns pass through
    unchanged, after the three encoded ones.
    """
    return ColumnTransformer(
        [
            ("geography", OneHotEncoder(categories=[CATEGORIES["Geography"]], drop="first"), ["Geography"]),
            ("gender", OrdinalEncoder(categories=[CATEGORIES["Gender"]]), ["Gender"]),
        ],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )


def parse_customer(text: str | None) -> pd.DataFrame:
    """A one-row table for "Geography=Spain,Age=55,..."; unnamed fields keep the example's values."""
    customer = dict(EXAMPLE_CUSTOMER)
    for part in filter(None, (piece.strip() for piece in (text or "").split(","))):
        field, sep, value = (s.strip() for s in part.partition("="))
        if not sep or not value:
            raise TutorialError(f"--customer: expected FIELD=VALUE, got {part!r}")
        if field not in customer:
            raise TutorialError(
                f"--customer: unknown field {field!r}{_column_hint(field, FEATURES)}; fields are {', '.join(FEATURES)}"
            )
        if field in CATEGORIES:
            if value not in CATEGORIES[field]:
                raise TutorialError(
                    f"--customer: unknown {field} {value!r}; expected one of {', '.join(CATEGORIES[field])}"
                )
            customer[field] = value
        else:
            try:
                customer[field] = float(value)
            except ValueError:
                raise TutorialError(f"--customer: {field} must be a number, got {value!r}") from None
    return pd.DataFrame([customer])[FEATURES]
