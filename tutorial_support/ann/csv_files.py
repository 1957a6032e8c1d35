"""Reading a CSV as spreadsheet programs save it: the delimiter, the encoding, decimal commas,
thousands separators, and a header that names a column twice.

pandas reads the file; what it cannot guess is which of ``,`` ``;`` and tab separates the
fields, whether the text is UTF-8 or Latin-1, and that a ``;`` file from a European
spreadsheet writes 1,5 for one and a half. Files that are not CSV at all (an Excel workbook,
a PDF) get one line that says what to do.
"""

from __future__ import annotations

import csv
import io
import re
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
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # Windows and older spreadsheet programs save Latin-1
    delimiter = _delimiter(text)
    _check_header(text, delimiter, path)
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
    decimal = "," if delimiter == ";" else "."
    table.attrs["thousands"] = []  # the columns read as numbers once their separators are gone
    for name in [n for n in table.columns if not pd.api.types.is_numeric_dtype(table[n])]:
        numbers = _with_thousands(table[name], decimal)
        if numbers is not None:
            table[name] = numbers
            table.attrs["thousands"].append(name)
    return table


def _check_header(text: str, delimiter: str, path: Path) -> None:
    """Two columns of one name stop the run: pandas would quietly rename the second "name.1"."""
    header = next(csv.reader(text.splitlines()[:1], delimiter=delimiter), [])
    names = [name.strip() for name in header]
    twice = sorted({name for name in names if name and names.count(name) > 1})
    if twice:
        raise TutorialError(
            f"{path.name} has more than one column named {', '.join(map(repr, twice))}: give "
            "each column its own name in your spreadsheet, save it as CSV again and pass that file"
        )


def _with_thousands(column: pd.Series, decimal: str) -> pd.Series | None:
    """The column as numbers, if it holds numbers written with thousands separators ("1,234.5",
    or "1.234,5" and "1 234,5" in a semicolon file) and nothing else; otherwise None."""
    thousands = "," if decimal == "." else "[. \u00a0]"
    point = re.escape(decimal)
    grouped = re.compile(rf"^[+-]?\d{{1,3}}(?:{thousands}\d{{3}})+(?:{point}\d+)?$")
    plain = re.compile(rf"^[+-]?\d+(?:{point}\d+)?$")
    present = column.dropna().astype(str).str.strip()
    if present.empty or not present.map(lambda v: bool(grouped.match(v))).any():
        return None
    if not present.map(lambda v: bool(grouped.match(v) or plain.match(v))).all():
        return None
    digits = column.map(
        lambda v: v if pd.isna(v) else re.sub(thousands, "", str(v).strip()).replace(decimal, ".")
    )
    return pd.to_numeric(digits)


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


DATE_FORMATS = ("ISO8601", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y", "%d %b %Y")


def date_range(values: pd.Series) -> str | None:
    """ "2019-01-03 to 2021-12-30" if nearly every value (95 %) is a date in one of the formats
    spreadsheets write, else None."""
    text = values.astype(str).str.strip()
    if text.empty or not text.str.contains(r"\d[-/. ]\w", regex=True).mean() >= 0.95:
        return None
    for format in DATE_FORMATS:
        dates = pd.to_datetime(text, format=format, errors="coerce")
        if dates.notna().mean() >= 0.95:
            return f"{dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}"
    return None
