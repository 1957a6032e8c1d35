"""Any table as chapter 1's data: reading a CSV, deciding about each column, encoding, one readable row.

``load`` reads the course's churn table with its strict checks (churn.py), and any other CSV
with the decisions a learner would make by hand, each one printed and recorded:

- ID-like columns (a distinct value on nearly every row: RowNumber, CustomerId, a patient ID),
  constant columns and text columns with too many categories to one-hot encode (names, free
  text) are dropped;
- text columns with few categories are one-hot encoded, numbers are kept (and scaled in step 4);
- missing feature values are filled in from the training rows (the median of a number column,
  the most frequent text), and rows without a target are dropped.

Why by hand? pandas reads the file and scikit-learn's ColumnTransformer, SimpleImputer and
OneHotEncoder do the encoding, but no library decides which columns a classifier should get;
``skrub.TableVectorizer`` comes closest, at the price of a dependency and fewer explanations.
"""

from __future__ import annotations

import csv
import difflib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from tutorial_support import churn
from tutorial_support.errors import TutorialError

ID_LIKE_SHARE = 0.95  # a distinct value on at least 95 % of the rows: an identifier, not a fact
MAX_CATEGORIES = 50  # more text values than this are names or free text (50 would still take US states)
MAX_CLASSES = 20  # a numeric target with more distinct values is a quantity to regress, not classes
MIN_ROWS_PER_CLASS = 5  # one for the test set (a fifth), four to learn from
DELIMITERS = (",", ";", "\t")
NOT_CSV = {  # the first bytes of files a spreadsheet program saves that are not CSV
    b"PK\x03\x04": "an Excel (.xlsx), OpenDocument (.ods) or other zipped file",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) file",
    b"%PDF": "a PDF file",
    b"PAR1": "a Parquet file",
    b"SQLite format": "an SQLite database",
}


@dataclass
class Table:
    """A table ready for chapter 1: the feature columns, the classes and every decision taken."""

    path: Path
    target: str
    features: pd.DataFrame  # the columns the networks learn from, as read
    y: np.ndarray  # class numbers 0 .. classes - 1; with two classes 1 is the positive class
    classes: list[str]  # the class names, in class-number order
    positive: str | None  # two classes: the positive class's name
    numbers: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)  # column: reason
    missing: dict[str, int] = field(default_factory=dict)  # feature column: empty cells, filled in
    rows_without_target: int = 0
    is_course: bool = False  # the course's churn table, read with its strict checks

    @property
    def two_classes(self) -> bool:
        return len(self.classes) == 2

    def words(self) -> dict[str, str]:
        """How the printed lines speak of rows and of the positive class."""
        if self.is_course:
            return {"rows": "customers", "yes": "leave", "no": "stay", "missed": "leavers", "p": "P(leaves)",
                    "a_yes": "leaver", "a_no": "stayer", "topic": "churn"}  # fmt: skip
        return {"rows": "rows", "yes": f"are {self.positive}", "no": "are not", "missed": f"{self.positive} rows",
                "p": f"P({self.positive})", "a_yes": f"{self.positive} row", "a_no": "other row",
                "topic": self.target}  # fmt: skip

    def class_labels(self) -> list[str]:
        """Names for the confusion matrix: the course's "stays (0)" and "leaves (1)", else the class names."""
        return ["stays (0)", "leaves (1)"] if self.is_course else list(self.classes)

    def decisions(self) -> list[str]:
        """One line per decision about the table's columns and rows (the course's table: none to take)."""
        if self.is_course:
            return []
        lines = [f"target: {self.target}, {len(self.classes)} classes: " + ", ".join(
            f"{name} ({share:.1%})" for name, share in zip(self.classes, np.bincount(self.y) / len(self.y))
        )]  # fmt: skip
        if self.positive is not None:
            lines.append(f"positive class: {self.positive} (P({self.positive}) is what the network gives)")
        if self.rows_without_target:
            lines.append(f"dropped {self.rows_without_target:,} rows without a {self.target}")
        lines += [f"dropped {name}: {reason}" for name, reason in self.dropped.items()]
        if self.text:
            lines.append("one-hot encoded (text, few categories): " + ", ".join(self.text))
        if self.numbers:
            lines.append("kept as numbers, scaled in step 4: " + ", ".join(self.numbers))
        lines += [
            f"filled in {count:,} empty cells of {name} with the training rows' "
            f"{'median' if name in self.numbers else 'most frequent value'}"
            for name, count in self.missing.items()
        ]  # fmt: skip
        return lines

    def encoder(self) -> ColumnTransformer:
        """Step 2's encoder, fitted in step 3 on the training rows only.

        The course's: Geography one-hot without France, Gender 0/1 (churn.make_encoder).
        Any other table's: text one-hot (one column per category; a category the training
        rows never had becomes all zeros), numbers as they are; empty cells filled in.
        """
        if self.is_course:
            return churn.make_encoder()
        text = make_pipeline(
            SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        )  # fmt: skip
        return ColumnTransformer(
            [("text", text, self.text), ("numbers", SimpleImputer(strategy="median"), self.numbers)],
            verbose_feature_names_out=False,
        )

    def typical_row(self, training: pd.DataFrame) -> dict:
        """The training rows' median of each number column and most frequent value of each text column."""
        row = {name: float(training[name].median()) for name in self.numbers}
        row.update({name: training[name].mode().iloc[0] for name in self.text})
        return {name: row[name] for name in self.features.columns}

    def customer(self, text: str | None, training: pd.DataFrame) -> pd.DataFrame:
        """Step 8's customer (a row) from "column=value,...": the course's example customer for the fields
        left out, or in any other table the training rows' typical values, printed."""
        if self.is_course:
            return churn.parse_customer(text)
        row, left_out = parse_row(text, self.typical_row(training), self.numbers)
        if left_out:
            print("fields left out take the training rows' median or most frequent value: "
                  + ", ".join(f"{name} {row.at[0, name]:g}" if name in self.numbers else f"{name} {row.at[0, name]}"
                              for name in left_out))  # fmt: skip
        return row

    def description(self) -> dict:
        """metrics.json's ``data``: the table, its classes and the decisions (``features`` is added in step 3)."""
        about = {"table": str(self.path), "rows": int(len(self.y)), "target": self.target, "classes": self.classes}
        if self.positive is not None:
            about["positive"] = self.positive
        about.update(dropped=self.dropped, imputed=self.missing, rows_without_target=self.rows_without_target,
                     columns={"numbers": self.numbers, "text": self.text}, course_table=self.is_course)  # fmt: skip
        return about


def load(path: Path, target: str = churn.TARGET, positive: str | None = None) -> Table:
    """Read ``path`` for a classifier of ``target``: the course table strictly, any other CSV by its columns."""
    path = Path(path)
    if path.name == "Churn_Modelling.csv" and target == churn.TARGET and positive in (None, "1"):
        features, exited = churn.load_churn(path)
        return Table(path, target, features, exited, ["0", "1"], "1", numbers=churn.NUMERIC,
                     text=list(churn.CATEGORIES), is_course=True)  # fmt: skip
    table = read_csv(path)
    if target not in table.columns:
        close = difflib.get_close_matches(target, table.columns, n=3, cutoff=0.3)
        hint = f"closest: {', '.join(close)}" if close else f"columns: {', '.join(table.columns[:12])}"
        raise TutorialError(f"--target {target!r} is not a column of {path.name} ({hint}); pass --target COLUMN")
    has_target = table[target].notna().to_numpy()
    rows_without_target = int((~has_target).sum())
    table = table[has_target].reset_index(drop=True)
    y, classes, positive = _classes(table[target], target, positive, path)

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
        raise TutorialError(
            f"every feature column of {path.name} was dropped ({'; '.join(f'{n}: {r}' for n, r in dropped.items())}); "
            "a classifier needs at least one column of numbers or of text with few categories"
        )
    features = table[[name for name in table.columns if name in numbers or name in text]].copy()
    for name in numbers:
        features[name] = features[name].astype(float)
    for name in text:  # text as text, whatever pandas guessed; empty cells stay empty until step 3 fills them
        features[name] = features[name].map(lambda value: value if pd.isna(value) else str(value)).astype(object)
    return Table(path, target, features, y, classes, positive, numbers, text, dropped, missing, rows_without_target)


def check_folds(y_train: np.ndarray, folds: int, classes: list[str]) -> None:
    """Stratified folds need at least ``folds`` training rows of every class."""
    counts = np.bincount(y_train, minlength=len(classes))
    rarest = int(np.argmin(counts))
    if folds and counts[rarest] < folds:
        fewer = f"--folds {counts[rarest]}" if counts[rarest] >= 2 else "--folds 0"
        raise TutorialError(
            f"--folds {folds} is more than the {counts[rarest]} training rows of class {classes[rarest]}; "
            f"use fewer folds ({fewer}) or more rows of that class"
        )


def read_csv(path: Path) -> pd.DataFrame:
    """A CSV as a DataFrame: the delimiter (``,``, ``;`` or tab) detected, UTF-8 or else Latin-1, and with
    ``;`` decimal commas read as a European spreadsheet saves them. Anything else is one clear error."""
    if not path.is_file():
        raise TutorialError(f"no such file: {path}")
    raw = path.read_bytes()
    if not raw.strip():
        raise TutorialError(f"{path} is empty: expected a table with a header row")
    for magic, what in NOT_CSV.items():
        if raw.startswith(magic):
            raise TutorialError(f"{path} is {what}, not CSV: open it in your spreadsheet program and save it as "
                                "CSV (comma-separated values), then pass that file")  # fmt: skip
    if b"\x00" in raw[:4096]:
        raise TutorialError(f"{path} is not a text file (or is UTF-16): save it as CSV in UTF-8 and pass that file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:  # Windows and older spreadsheet programs save Latin-1 (or its cousin cp1252)
        text = raw.decode("latin-1")
    delimiter = _delimiter(text)
    try:
        table = pd.read_csv(io.StringIO(text), sep=delimiter, decimal="," if delimiter == ";" else ".",
                            skipinitialspace=True)  # fmt: skip
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise TutorialError(f"cannot read {path} as CSV: {reason}") from None
    table.columns = [str(name).strip() for name in table.columns]
    if table.empty:
        raise TutorialError(f"{path} has a header but no rows")
    if table.shape[1] < 2:
        raise TutorialError(f"{path} has one column: a table needs a target and at least one feature, "
                            "separated by commas, semicolons or tabs")  # fmt: skip
    return table


def _delimiter(text: str) -> str:
    """The candidate that splits the first lines into the same number (2 or more) of fields, the most fields."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    best, best_fields = ",", 1
    for delimiter in DELIMITERS:
        widths = {len(fields) for fields in csv.reader(lines, delimiter=delimiter)}
        if len(widths) == 1 and (fields := widths.pop()) > best_fields:
            best, best_fields = delimiter, fields
    return best


def _classes(target: pd.Series, name: str, positive: str | None, path: Path) -> tuple[np.ndarray, list[str], str | None]:
    """Class numbers, class names (in number order) and the positive class (two classes only)."""
    if target.empty:
        raise TutorialError(f"{path.name}: no row has a {name}: the target column is empty")
    if pd.api.types.is_numeric_dtype(target) and not pd.api.types.is_bool_dtype(target):
        values = target.to_numpy(dtype=float)
        if np.any(values != np.round(values)) or np.unique(values).size > MAX_CLASSES:
            raise TutorialError(
                f"{name} holds {np.unique(values).size:,} different numbers: this looks like a regression target; "
                "this chapter classifies (pass --target with a column of classes, or group the numbers into classes)"
            )
        target = pd.Series(values.astype(np.int64)).astype(str)
    names, counts = np.unique(target.astype(str).to_numpy(), return_counts=True)
    if names.size < 2:
        raise TutorialError(f"{name} holds one class only ({names[0]}): a classifier needs rows of two classes or more")
    if counts.min() < MIN_ROWS_PER_CLASS:
        rare, fewest = names[int(np.argmin(counts))], int(counts.min())
        raise TutorialError(
            f"{name} has only {fewest} row{'s' if fewest > 1 else ''} of class {rare}: too few to learn it and "
            f"test it; a class needs at least {MIN_ROWS_PER_CLASS} rows (drop or merge the rare classes)"
        )
    if positive is not None:
        if names.size != 2:
            raise TutorialError(f"--positive applies to two classes, and {name} has {names.size}: leave it out")
        if positive not in names:
            raise TutorialError(f"--positive {positive!r} is not a class of {name}; the classes are {', '.join(names)}")
    if names.size == 2:  # the positive class second, so that y = 1 means positive and P(class 1) is its probability
        positive = positive if positive is not None else names[int(np.argmin(counts))]  # the rarer class
        names = np.array([names[names != positive][0], positive])
    y = np.searchsorted(names, target.astype(str).to_numpy()) if names.size > 2 else (target.astype(str) == positive).to_numpy()
    return np.asarray(y, dtype=np.int64), [str(n) for n in names], positive if names.size == 2 else None


def _decide(column: pd.Series) -> tuple[str | None, str]:
    """(reason to drop it or None, "number" or "text") for one feature column."""
    present = column.dropna()
    distinct = present.nunique()
    if distinct == 0:
        return "empty", ""
    if distinct == 1:
        return f"constant ({present.iloc[0]})", ""
    numeric = pd.api.types.is_numeric_dtype(column)
    if pd.api.types.is_bool_dtype(column):
        return None, "number"
    whole = numeric and bool(np.all(present.to_numpy(dtype=float) == np.round(present.to_numpy(dtype=float))))
    if (whole or not numeric) and len(present) >= 20 and distinct >= ID_LIKE_SHARE * len(present):
        return f"ID-like ({distinct:,} different values in {len(present):,} rows)", ""
    if numeric:
        return None, "number"
    if distinct > MAX_CATEGORIES:
        return f"text with too many categories to encode ({distinct:,} different values; at most {MAX_CATEGORIES})", ""
    return None, "text"


def parse_row(text: str | None, typical: dict, numbers: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """A one-row table from "column=value,...": fields left out take ``typical``; also the names of those fields."""
    row, given = dict(typical), set()
    for part in filter(None, (piece.strip() for piece in (text or "").split(","))):
        name, sep, value = (s.strip() for s in part.partition("="))
        if not sep or not value:
            raise TutorialError(f"--customer: expected COLUMN=VALUE, got {part!r}")
        if name not in row:
            close = difflib.get_close_matches(name, list(row), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TutorialError(f"--customer: {name!r} is not a feature column{hint}; columns are {', '.join(row)}")
        if name in numbers:
            try:
                value = float(value)
            except ValueError:
                raise TutorialError(f"--customer: {name} must be a number, got {value!r}") from None
        row[name], _ = value, given.add(name)
    return pd.DataFrame([row]), [name for name in typical if name not in given]
