"""Reading and checking the churn table, its generic reading, and the readable customer."""

import numpy as np
import pandas as pd
import pytest

from churn_fixtures import churn_table
from tutorial_support.ann import churn, customers, tables
from tutorial_support.common.errors import TutorialError


def write(tmp_path, table: pd.DataFrame, name="churn.csv"):
    path = tmp_path / name
    table.to_csv(path, index=False)
    return path


def test_load_gives_the_ten_features_and_the_target(tmp_path):
    table = churn_table()
    features, target = churn.load_churn(write(tmp_path, table))
    assert list(features.columns) == churn.FEATURES
    np.testing.assert_array_equal(target, table.Exited.to_numpy())


def test_the_generic_reading_gives_the_course_features(tmp_path):
    """tables.load decides about the bank's columns as about any table's, and gets the course's."""
    table = tables.load(write(tmp_path, churn_table(200), name=churn.FILE))
    assert list(table.features.columns) == churn.FEATURES
    assert table.text == ["Geography", "Gender"] and table.numbers == churn.NUMERIC
    assert list(table.dropped) == ["RowNumber", "CustomerId", "Surname"]
    assert table.classes == ["0", "1"] and table.names == ["stays", "leaves"]
    assert table.labels == ["stays (0)", "leaves (1)"] and table.words["rows"] == "customers"
    defaults, said = table.default_row(table.features)
    assert defaults == churn.EXAMPLE_CUSTOMER and said == "the course's example customer"


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.drop(columns="Balance"), "has no column 'Balance'"),
        (
            lambda t: t.rename(columns={"Geography": "Geograpy"}),
            "has no column 'Geography' \\(did you mean 'Geograpy'\\?\\)",
        ),
        (
            lambda t: t.assign(Age=t.Age.astype(object).where(t.index != 3, "forty")),
            "column 'Age' must hold numbers, but data row 4 has 'forty'",
        ),
        (
            lambda t: t.assign(Tenure=t.Tenure.where(t.index != 6)),
            "column 'Tenure' has an empty cell in data row 7",
        ),
        (
            lambda t: t.assign(Geography=t.Geography.where(t.index != 2, "Italy")),
            "unknown Geography 'Italy' in data row 3; expected one of France, Germany, Spain",
        ),
        (
            lambda t: t.assign(Gender=t.Gender.where(t.index != 0, "M")),
            "unknown Gender 'M' in data row 1",
        ),
        (
            lambda t: t.assign(Exited=t.Exited.where(t.index != 5, 2)),
            "Exited must be 0 or 1, but data row 6 has 2",
        ),
        (lambda t: t.iloc[:0], "has a header but no rows"),
    ],
)
def test_bad_tables_give_one_clear_line(tmp_path, change, message):
    with pytest.raises(TutorialError, match=message) as caught:
        churn.load_churn(write(tmp_path, change(churn_table())))
    assert "\n" not in str(caught.value)


def test_unreadable_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(TutorialError, match="is empty"):
        churn.load_churn(tmp_path / "empty.csv")
    with pytest.raises(TutorialError, match="no such file"):
        churn.load_churn(tmp_path / "missing.csv")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\x81garbage\x00\n\x9f")
    with pytest.raises(TutorialError):
        churn.load_churn(tmp_path / "binary.csv")


def about(tmp_path):
    """metrics.json's data for the bank's table, as ann.py saves it for --predict-only."""
    table = tables.load(write(tmp_path, churn_table(200), name=churn.FILE))
    return customers.description(table, table.features, [])


def test_customer_parsing(tmp_path, capsys):
    saved = about(tmp_path)
    default = customers.read("", saved)
    assert default.iloc[0].to_dict() == churn.EXAMPLE_CUSTOMER
    assert "every field takes the course's example customer" in capsys.readouterr().out
    spain = customers.read("Geography=Spain, Age=55,Balance=0", saved)
    assert spain.iloc[0][["Geography", "Age", "Balance", "CreditScore"]].tolist() == [
        "Spain",
        55.0,
        0.0,
        600,
    ]
    assert list(spain.columns) == churn.FEATURES
    printed = capsys.readouterr().out
    assert "fields left out take the course's example customer: CreditScore 600" in printed
    assert "Customer: CreditScore 600, Geography Spain, Gender Male, Age 55," in printed


@pytest.mark.parametrize(
    "text, message",
    [
        ("Geography=Italy", "unknown Geography 'Italy'; expected one of France, Germany, Spain"),
        ("Gender=X", "unknown Gender 'X'"),
        ("Age=old", "Age must be a number, got 'old'"),
        ("Salary=5", "'Salary' is not a feature column"),
        ("Creditscore=5", "did you mean 'CreditScore'"),
        ("Age", "expected COLUMN=VALUE"),
    ],
)
def test_customer_errors(tmp_path, text, message):
    with pytest.raises(TutorialError, match=message):
        customers.read(text, about(tmp_path))
