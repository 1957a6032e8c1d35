"""Any table as chapter 1's data: the decisions about its columns, its classes, its words.

``load`` reads a CSV (csv_files.py) and takes the decisions a learner would take by hand,
each one printed in step 1 and recorded in metrics.json:

- ID-like columns (a distinct value on nearly every row: RowNumber, CustomerId, a patient ID),
  constant columns and text columns with too many categories to one-hot encode (names, free
  text) are dropped;
- text columns with few categories are one-hot encoded in step 2, numbers are kept (and
  scaled in step 4);
- missing feature values are filled in from the training rows (the median of a number column,
  the most frequent text), and rows without a target are dropped.

The bank's table goes the same way: these rules drop RowNumber, CustomerId and Surname, as the
course did by hand. churn.py adds what no rule can know: its strict checks, and how to speak of
its rows (customers who leave). Why by hand? pandas reads the file and scikit-learn encodes it,
but no library decides which columns a classifier should get; ``skrub.TableVectorizer`` comes
closest, at the price of a dependency and fewer explanations.
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from tutorial_support.ann import churn
from tutorial_support.ann.classes import number_classes
from tutorial_support.ann.csv_files import date_range, read_csv
from tutorial_support.ann.leakage import leaky_columns
from tutorial_support.common.errors import TutorialError

ID_LIKE_SHARE = 0.95  # a distinct value on at least 95 % of the rows: an identifier, not a fact
# Step 1 says in its own words which test rows hold a category no training row has (unseen);
# scikit-learn's warning about them, at every transform, would repeat it in a traceback's words.
warnings.filterwarnings("ignore", message="Found unknown categories", category=UserWarning)

STRATIFY_BELOW = 1000  # step 3 splits stratified where a class has fewer rows than this
MAX_CATEGORIES = 50  # more text values than this are names or free text (50 still takes US states)


def generic_words(target: str, positive: str | None, title: str) -> dict[str, str]:
    """How the printed lines speak of a table's rows and of its positive class."""
    positive = positive or "positive"
    return {
        "row": "row",
        "rows": "rows",
        "yes": f"are {positive}",
        "no": "are not",
        "missed": f"{positive} rows",
        "p": f"P({positive})",
        "a_yes": f"{positive} row",
        "a_no": "other row",
        "topic": target,
        "title": title,
    }


@dataclass
class Table:
    """A table ready for chapter 1: the feature columns, the classes and every decision taken."""

    path: Path
    target: str
    features: pd.DataFrame  # the columns the networks learn from, as read; index: row in the file
    y: np.ndarray  # class numbers 0 .. classes - 1; with two classes 1 is the positive class
    classes: list[str]  # the class values, in class-number order
    positive: str | None  # two classes: the positive class's value
    numbers: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)  # column: reason
    missing: dict[str, int] = field(default_factory=dict)  # feature column: empty cells, filled in
    rows_without_target: int = 0
    names: list[str] = field(default_factory=list)  # how each class is said ("stays", "leaves")
    words: dict[str, str] = field(default_factory=dict)  # how rows are said (see generic_words)
    example: dict | None = None  # step 8's default row, where the table comes with one
    thousands: list[str] = field(default_factory=list)  # numbers written with separators
    leaky: dict[str, dict] = field(default_factory=dict)  # columns that give the answer away
    leaky_kept: bool = True  # kept (the default), or dropped with --drop-leaky
    unseen: dict[str, list[str]] = field(default_factory=dict)  # test-only categories, by column

    @property
    def two_classes(self) -> bool:
        return len(self.classes) == 2

    @property
    def labels(self) -> list[str]:
        """Each class as the confusion matrix names it: "leaves (1)", or the class value itself."""
        return [c if n == c else f"{n} ({c})" for n, c in zip(self.names, self.classes)]

    @property
    def positive_label(self) -> str | None:
        """The positive class as the confusion matrix names it (two classes), else None."""
        return self.labels[1] if self.two_classes else None

    def decisions(self) -> list[str]:
        """One line per decision about the table's classes, columns and rows."""
        shares = np.bincount(self.y, minlength=len(self.classes)) / len(self.y)
        lines = [
            f"target: {self.target}, {len(self.classes)} classes: "
            + ", ".join(f"{label} {share:.1%}" for label, share in zip(self.labels, shares))
        ]
        if self.positive is not None:
            lines.append(
                f"positive class: {self.labels[1]} ({self.words['p']} is what the network gives)"
            )
        if self.rows_without_target:
            lines.append(f"dropped {self.rows_without_target:,} rows without a {self.target}")
        lines += [f"dropped {name}: {reason}" for name, reason in self.dropped.items()]
        if self.text:
            lines.append("one-hot encoded (text, few categories): " + ", ".join(self.text))
        if self.numbers:
            lines.append("kept as numbers, scaled in step 4: " + ", ".join(self.numbers))
        if self.thousands:
            lines.append("read as numbers (thousands separators): " + ", ".join(self.thousands))
        lines += [
            f"filled in {count:,} empty cells of {name} with the training rows' "
            f"{'median' if name in self.numbers else 'most frequent value'}"
            for name, count in self.missing.items()
        ]
        lines += [
            f"{name}: the test rows hold {', '.join(values)}, which no training row has: one-hot "
            "gives such a row all zeros, as for the first category"
            for name, values in self.unseen.items()
        ]
        for name, scores in self.leaky.items() if self.leaky_kept else ():
            lines.append(
                f"warning: {name} alone predicts {self.target} almost perfectly on the training "
                f"rows (balanced accuracy {scores['alone']:.3f}, the other columns "
                f"{scores['without']:.3f}): is it filled in once the answer was known, or a copy "
                "of it? Kept; --drop-leaky drops it"
            )
        return lines

    def typical_row(self, training: pd.DataFrame) -> dict:
        """The training rows' median of each number column and most frequent value of each text
        column."""
        row = {name: float(training[name].median()) for name in self.numbers}
        row.update({name: training[name].mode().iloc[0] for name in self.text})
        return {name: row[name] for name in self.features.columns}

    def categories(self, training: pd.DataFrame) -> dict[str, list[str]]:
        """The categories of each text column in the training rows (the encoder's, and step 8's)."""
        return {name: sorted(training[name].dropna().unique().tolist()) for name in self.text}

    def default_row(self, training: pd.DataFrame) -> tuple[dict, str]:
        """Step 8's row for the fields --customer leaves out, and where it comes from."""
        if self.example is not None:
            return dict(self.example), "the course's example customer"
        return self.typical_row(training), "the training rows' median or most frequent value"


def training_rows(y: np.ndarray) -> np.ndarray:
    """The rows step 3 trains on: its split (80/20, random_state=0, stratified where a class has
    fewer than STRATIFY_BELOW rows), made here too so that step 1 can look at them alone."""
    stratify = y if np.bincount(y).min() < STRATIFY_BELOW else None
    rows, _ = train_test_split(np.arange(len(y)), test_size=0.2, random_state=0, stratify=stratify)
    return rows


def load(
    path: Path, target: str = churn.TARGET, positive: str | None = None, drop_leaky: bool = False
) -> Table:
    """Read ``path`` for a classifier of ``target``: every column decided on, the classes
    numbered, and the columns that give the answer away found (dropped with ``drop_leaky``)."""
    path = Path(path)
    table = read_csv(path)
    known = churn.describes(path, target, positive)  # the course's table: checked strictly first
    if known:
        churn.check(table, path)
        positive = churn.POSITIVE
    if target not in table.columns:
        close = difflib.get_close_matches(target, table.columns, n=3, cutoff=0.3)
        hint = (
            f"closest: {', '.join(close)}" if close else f"columns: {', '.join(table.columns[:12])}"
        )
        raise TutorialError(
            f"--target {target!r} is not a column of {path.name} ({hint}); pass --target COLUMN"
        )
    has_target = table[target].notna().to_numpy()
    rows_without_target = int((~has_target).sum())
    # the rows keep their number in the file (0 for the first data row): test_predictions.csv's id
    table = table[has_target]
    y, classes, positive = number_classes(table[target], target, positive, path)

    numbers, text, dropped, missing = [], [], {}, {}
    for name in table.columns.drop(target):
        reason, kind = _decide(table[name])
        if reason:
            dropped[name] = reason
            continue
        (numbers if kind == "number" else text).append(name)
        if table[name].isna().any():
            missing[name] = int(table[name].isna().sum())
    if not numbers and not text:
        reasons = "; ".join(f"{n}: {r}" for n, r in dropped.items())
        raise TutorialError(
            f"every feature column of {path.name} was dropped ({reasons}); a classifier needs "
            "at least one column of numbers or of text with few categories"
        )
    features = table[[name for name in table.columns if name in numbers or name in text]].copy()
    for name in numbers:
        features[name] = pd.to_numeric(features[name]).astype(float)
    for name in text:  # text as text, whatever pandas guessed; gaps stay empty until step 3
        features[name] = features[name].map(lambda v: v if pd.isna(v) else str(v)).astype(object)
    rows = training_rows(y)
    leaky = leaky_columns(features.iloc[rows], y[rows])
    if drop_leaky and len(leaky) < features.shape[1]:
        for name, scores in leaky.items():
            dropped[name] = (
                f"gives the answer away (alone {scores['alone']:.3f}, the other columns "
                f"{scores['without']:.3f}; --drop-leaky)"
            )
            missing.pop(name, None)
            (numbers if name in numbers else text).remove(name)
        features = features.drop(columns=list(leaky))
    training = features.iloc[rows]
    test = features.drop(index=features.index[rows])
    unseen = {
        name: sorted(set(test[name].dropna()) - set(training[name].dropna())) for name in text
    }
    table = Table(
        path,
        target,
        features,
        y,
        classes,
        positive,
        numbers,
        text,
        dropped,
        missing,
        rows_without_target,
        names=churn.CLASS_NAMES if known else list(classes),
        words=dict(churn.WORDS) if known else generic_words(target, positive, path.name),
        example=dict(churn.EXAMPLE_CUSTOMER) if known else None,
        thousands=[name for name in table.attrs.get("thousands", []) if name in features],
        leaky=leaky,
        leaky_kept=not drop_leaky,
        unseen={name: values for name, values in unseen.items() if values},
    )
    return table


def is_whole(column: pd.Series) -> bool:
    """Whether every value present is a whole number (a count, a code, a 0/1 flag)."""
    values = column.dropna().to_numpy(dtype=float)
    return bool(np.all(values == np.round(values)))


def _decide(column: pd.Series) -> tuple[str | None, str]:
    """(reason to drop it or None, "number" or "text") for one feature column."""
    present = column.dropna()
    distinct = present.nunique()
    if distinct == 0:
        return "empty", ""
    if distinct == 1:
        return f"constant ({present.iloc[0]})", ""
    numeric = pd.api.types.is_numeric_dtype(column)
    dates = None if numeric else date_range(present)
    if dates:
        return (
            f"a date ({dates}): dates need features of their own (day of week, month, days since)",
            "",
        )
    if pd.api.types.is_bool_dtype(column):
        return None, "number"
    whole = numeric and is_whole(present)
    if (whole or not numeric) and len(present) >= 20 and distinct >= ID_LIKE_SHARE * len(present):
        return f"ID-like ({distinct:,} different values in {len(present):,} rows)", ""
    if numeric:
        return None, "number"
    if distinct > MAX_CATEGORIES:
        return (
            f"text with too many categories to encode ({distinct:,} different values; at most "
            f"{MAX_CATEGORIES})",
            "",
        )
    return None, "text"
