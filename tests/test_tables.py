"""Any CSV as chapter 1's table: reading it, the decisions about its columns, and the bad inputs
(in-process)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine

from churn_fixtures import churn_table
from tutorial_support.ann import csv_files, customers, tables
from tutorial_support.common.errors import TutorialError


def own_table(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    """A table like a learner's export: an ID, a name, text with few categories, gaps, a constant
    column."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(
        {
            "patient_id": [f"P{100000 + k}" for k in range(rows)],
            "name": [f"person {k}" for k in range(rows)],
            "age": rng.integers(20, 90, rows).astype(float),
            "dose mg": np.round(rng.uniform(0.5, 9.5, rows), 2),
            "ward": rng.choice(["north", "south", "east"], rows),
            "smoker": rng.choice(["yes", "no"], rows),
            "clinic": "main",
            "visits": rng.integers(0, 12, rows),
        }
    )
    table["outcome"] = np.where(
        (table.age > 60) & (table.smoker == "yes") | (table["dose mg"] > 8), "ill", "well"
    )
    table.loc[rng.choice(rows, 7, replace=False), "age"] = np.nan
    table.loc[rng.choice(rows, 4, replace=False), "ward"] = np.nan
    table.loc[rng.choice(rows, 3, replace=False), "outcome"] = np.nan
    return table


def test_decisions_about_every_column(tmp_path):
    path = tmp_path / "patients.csv"
    own_table().to_csv(path, index=False)
    table = tables.load(path, target="outcome")
    assert table.dropped == {
        "patient_id": "ID-like (197 different values in 197 rows)",
        "name": "ID-like (197 different values in 197 rows)",
        "clinic": "constant (main)",
    }
    assert table.text == ["ward", "smoker"] and table.numbers == ["age", "dose mg", "visits"]
    assert table.missing == {"age": 7, "ward": 4} and table.rows_without_target == 3
    assert len(table.y) == 197 and list(table.features.columns) == [
        "age",
        "dose mg",
        "ward",
        "smoker",
        "visits",
    ]
    # two classes: the rarer is the positive class, class number 1
    raw = own_table().dropna(subset=["outcome"])
    rarer = raw.outcome.value_counts().idxmin()
    assert table.classes[1] == table.positive == rarer
    np.testing.assert_array_equal(table.y, (raw.outcome == rarer).to_numpy().astype(int))
    lines = table.decisions()
    assert f"positive class: {rarer} (P({rarer}) is what the network gives)" in lines
    assert "dropped 3 rows without a outcome" in lines
    assert "dropped clinic: constant (main)" in lines
    assert "one-hot encoded (text, few categories): ward, smoker" in lines
    assert "filled in 4 empty cells of ward with the training rows' most frequent value" in lines
    assert "filled in 7 empty cells of age with the training rows' median" in lines

    training = table.features.iloc[:150]
    typical = table.typical_row(training)
    assert typical["age"] == training.age.median() and typical["ward"] == training.ward.mode()[0]


def test_positive_given_and_its_errors(tmp_path):
    path = tmp_path / "patients.csv"
    own_table().to_csv(path, index=False)
    table = tables.load(path, target="outcome", positive="well")
    assert table.classes == ["ill", "well"] and table.positive == "well"
    with pytest.raises(
        TutorialError,
        match=r"--positive 'sick' is not a class of outcome; the classes are ill, well",
    ):
        tables.load(path, target="outcome", positive="sick")
    with pytest.raises(TutorialError, match=r"--positive applies to two classes, and ward has 3"):
        tables.load(path, target="ward", positive="north")


def test_three_classes_and_a_numeric_target_of_few_values(tmp_path):
    wine = load_wine(as_frame=True).frame
    path = tmp_path / "wine.csv"
    wine.to_csv(path, index=False)
    table = tables.load(path, target="target")
    assert table.classes == ["0", "1", "2"] and table.positive is None and not table.two_classes
    np.testing.assert_array_equal(table.y, wine.target.to_numpy())
    assert table.dropped == {} and len(table.numbers) == 13 and table.text == []


@pytest.mark.parametrize("delimiter, decimal", [(",", "."), (";", ","), ("\t", ".")])
@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_delimiters_decimal_commas_and_encodings(tmp_path, delimiter, decimal, encoding):
    table = pd.DataFrame(
        {
            "Stadt": ["Köln", "Zürich", "Malmö", "Köln"] * 10,
            "Größe": np.arange(40) * 1.25,
            "Preis": np.linspace(3, 900, 40),
            "Kauf": ["ja", "nein"] * 20,
        }
    )
    path = tmp_path / "export.csv"
    table.to_csv(path, index=False, sep=delimiter, decimal=decimal, encoding=encoding)
    read = csv_files.read_csv(path)
    assert list(read.columns) == ["Stadt", "Größe", "Preis", "Kauf"]
    np.testing.assert_allclose(read["Größe"], table["Größe"])  # 1,25 read as 1.25 after ";"
    assert read.Stadt.tolist() == table.Stadt.tolist()


def test_the_course_table_keeps_its_strict_checks(tmp_path):
    path = tmp_path / "Churn_Modelling.csv"
    table = churn_table()
    table.to_csv(path, index=False)
    course = tables.load(path)
    assert course.classes == ["0", "1"] and course.labels == ["stays (0)", "leaves (1)"]
    table.loc[3, "Geography"] = "Italy"
    table.to_csv(path, index=False)
    with pytest.raises(TutorialError, match="unknown Geography 'Italy' in data row 4"):
        tables.load(path)
    # the same columns under another name are a table of one's own: Italy is just another category
    other = tmp_path / "bank.csv"
    table.to_csv(other, index=False)
    own = tables.load(other, target="Exited")
    assert own.labels == own.classes and own.example is None and "Geography" in own.text
    assert set(own.dropped) == {"RowNumber", "CustomerId", "Surname"}


BAD_TABLES = {
    "not a column": (
        b"age,Exitd\n1,0\n2,1\n",
        "Exited",
        r"--target 'Exited' is not a column of t.csv \(closest: Exitd\)",
    ),
    "one class": (b"age,Exited\n1,0\n2,0\n", "Exited", r"Exited holds one class only \(0\)"),
    "rare class": (
        b"age,y\n" + b"".join(f"{k},{'b' if k < 3 else 'a'}\n".encode() for k in range(30)),
        "y",
        r"y has only 3 rows of class b: too few to learn it and test it; a class needs at least 5 "
        r"rows",
    ),
    "regression": (
        b"age,price\n" + b"".join(f"{k},{k * 1.5 + 0.25}\n".encode() for k in range(40)),
        "price",
        r"price holds 40 different numbers: this looks like a regression target; this chapter "
        r"classifies",
    ),
    "empty": (b"", "Exited", r"t.csv is empty"),
    "header only": (b"age,Exited\n", "Exited", r"t.csv has a header but no rows"),
    "excel": (
        b"PK\x03\x04\x14\x00\x06\x00rest of a zip",
        "Exited",
        r"t.csv is an Excel \(.xlsx\).* save it as CSV",
    ),
    "old excel": (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1....",
        "Exited",
        r"is an old Excel \(.xls\) file, not CSV",
    ),
    "all dropped": (
        b"id,note,Exited\n" + b"".join(f"{k},note {k},{k % 2}\n".encode() for k in range(30)),
        "Exited",
        r"every feature column of t.csv was dropped \(id: ID-like .*; note: ID-like",
    ),
}


@pytest.mark.parametrize("case", BAD_TABLES)
def test_bad_tables_give_one_line(tmp_path, case):
    content, target, message = BAD_TABLES[case]
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    with pytest.raises(TutorialError, match=message) as error:
        tables.load(path, target=target)
    assert "\n" not in str(error.value)


def test_too_few_rows_of_a_class_for_the_folds():
    tables.check_folds(np.array([0, 1, 1, 0, 2, 2, 2]), 2, ["a", "b", "c"])
    tables.check_folds(np.array([0, 1]), 0, ["a", "b"])  # no cross-validation: no check
    with pytest.raises(
        TutorialError,
        match=r"--folds 10 is more than the 3 training rows of class b; use fewer folds",
    ):
        tables.check_folds(np.array([0] * 50 + [1] * 3), 10, ["a", "b"])


def test_a_row_of_ones_own_from_the_command_line(capsys):
    about = {
        "default_row": {"age": 50.0, "ward": "north", "dose mg": 2.5},
        "default_said": "the training rows' median or most frequent value",
        "columns": {"numbers": ["age", "dose mg"], "text": ["ward"]},
        "categories": {"ward": ["east", "north", "south"]},
        "words": {"row": "row"},
    }
    row = customers.read("ward=south, age=61", about)
    assert row.iloc[0].to_dict() == {"age": 61.0, "ward": "south", "dose mg": 2.5}
    printed = capsys.readouterr().out
    assert (
        "fields left out take the training rows' median or most frequent value: dose mg 2.5"
        in printed
    )
    assert "Row: age 61, ward south, dose mg 2.5" in printed
    with pytest.raises(
        TutorialError, match=r"--customer: 'agee' is not a feature column \(did you mean 'age'\?\)"
    ):
        customers.read("agee=3", about)
    with pytest.raises(TutorialError, match=r"--customer: age must be a number, got 'old'"):
        customers.read("age=old", about)
    with pytest.raises(
        TutorialError, match=r"--customer: unknown ward 'west'; expected one of east"
    ):
        customers.read("ward=west", about)
