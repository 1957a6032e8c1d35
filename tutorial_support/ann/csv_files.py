"""Reading a CSV as spreadsheet programs save it: the delimiter, the encoding, decimal commas.

pandas reads the file; what it cannot guess is which of ``,`` ``;`` and tab separates the
fields, whether the text is UTF-8 or Latin-1, and that a ``;`` file from a European
spreadsheet writes 1,5 for one and a half. Files that are not CSV at all (an Excel workbook,
a PDF) get one line that says what to do.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from tutorial_support.common.errors import TutorialError

DELIMITERS = (",", ";", "\t")
NOT_CSV = {  # the first bytes of files a spreadsheet program saves that are not CSV
    b"PK\x03\x04": "an Excel (.xlsx), OpenDocument (.ods) or other zipped file",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) file",
    b"%PDF": "a PDF file",
    b"PAR1": "a Parquet file",
    b"SQLite format": "an SQLite database",
}


def read_csv(path: Path) -> pd.DataFrame:
    """A CSV as a DataFrame: the delimiter (``,``, ``;`` or tab) detected, UTF-8 or else Latin-1,
    and with ``;`` decimal commas read as a European spreadsheet saves them. Anything else is one
    clear error."""
    if not path.is_file():
        raise TutorialError(f"no such file: {path}")
    raw = path.read_bytes()
    if not raw.strip():
        raise TutorialError(f"{path} is empty: expected a table with a header row")
    for magic, what in NOT_CSV.items():
        if raw.startswith(magic):
            raise TutorialError(
                f"{path} is {what}, not CSV: open it in your spreadsheet program and save it as "
                "CSV (comma-separated values), then pass that file"
            )
    if b"\x00" in raw[:4096]:
        raise TutorialError(
            f"{path} is not a text file (or is UTF-16): save it as CSV in UTF-8 and pass that file"
        )
    try:
        text = raw.decode("utf-8-sig")
    except (
        UnicodeDecodeError
    ):  # Windows and older spreadsheet programs save Latin-1 (or its cousin cp1252)
        text = raw.decode("latin-1")
    delimiter = _delimiter(text)
    try:
        table = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            decimal="," if delimiter == ";" else ".",
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise TutorialError(f"cannot read {path} as CSV: {reason}") from None
    table.columns = [str(name).strip() for name in table.columns]
    if table.empty:
        raise TutorialError(f"{path} has a header but no rows")
    if table.shape[1] < 2:
        raise TutorialError(
            f"{path} has one column: a table needs a target and at least one feature, "
            "separated by commas, semicolons or tabs"
        )
    return table


def _delimiter(text: str) -> str:
    """The candidate that splits the first lines into the same number (2 or more) of fields, the
    most fields."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    best, best_fields = ",", 1
    for delimiter in DELIMITERS:
        widths = {len(fields) for fields in csv.reader(lines, delimiter=delimiter)}
        if len(widths) == 1 and (fields := widths.pop()) > best_fields:
            best, best_fields = delimiter, fields
    return best
