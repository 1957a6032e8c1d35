"""Any CSV as chapter 1's table: reading it, the decisions about its columns, and the bad inputs
(in-process)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine

from churn_fixtures import churn_table
from tutorial_support.ann import classes, csv_files, customers, tables
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
    classes.check_folds(np.array([0, 1, 1, 0, 2, 2, 2]), 2, ["a", "b", "c"])
    classes.check_folds(np.array([0, 1]), 0, ["a", "b"])  # no cross-validation: no check
    with pytest.raises(
        TutorialError,
        match=r"--folds 10 is more than the 3 training rows of class b; use fewer folds",
    ):
        classes.check_folds(np.array([0] * 50 + [1] * 3), 10, ["a", "b"])


def test_a_row_of_ones_own_from_the_command_line(capsys):
    about = {
        "default_row": {"age": 50.0, "ward": "north", "dose mg": 2.5},
        "default_said": "the training rows' median or most frequent value",
        "columns": {"numbers": ["age", "dose mg"], "text": ["ward"]},
        "categories": {"ward": ["east", "north", "south"]},
        "ranges": {"age": [20.0, 89.0], "dose mg": [0.5, 9.5]},
        "whole_numbers": [],
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


# ---- tables as spreadsheets write them ----


@pytest.mark.parametrize(
    "content, expected",
    [
        (
            b'city,income,bought\nA,"1,234.5",yes\nB,"12,000",no\nC,7.25,yes\n',
            [1234.5, 12000.0, 7.25],
        ),
        (
            b'city;income;bought\nA;"1.234,5";yes\nB;12 000;no\nC;7,25;yes\n',
            [1234.5, 12000.0, 7.25],
        ),
    ],
)
def test_numbers_with_thousands_separators_are_numbers(tmp_path, content, expected):
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    read = csv_files.read_csv(path)
    assert read["income"].tolist() == expected and read.attrs["thousands"] == ["income"]
    assert read["city"].tolist() == ["A", "B", "C"]  # text stays text


def test_thousands_separators_in_a_table_of_ones_own(tmp_path):
    table = own_table()
    table["income"] = [
        f"{v:,.2f}" for v in np.random.default_rng(1).uniform(900, 90_000, len(table))
    ]
    path = tmp_path / "patients.csv"
    table.to_csv(path, index=False)
    read = tables.load(path, target="outcome")
    assert "income" in read.numbers and read.thousands == ["income"]
    assert "read as numbers (thousands separators): income" in read.decisions()


def test_a_column_name_used_twice_stops_the_run(tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text("age,ward,age,outcome\n" + "".join(f"{k},a,{k},x\n" for k in range(30)))
    with pytest.raises(
        TutorialError, match=r"twice.csv has more than one column named 'age': give"
    ):
        tables.load(path, target="outcome")


@pytest.mark.parametrize(
    "dates",
    [
        lambda d: d.strftime("%Y-%m-%d"),
        lambda d: d.strftime("%d/%m/%Y"),
        lambda d: d.strftime("%d.%m.%Y"),
        lambda d: d.strftime("%Y-%m-%d %H:%M"),
    ],
)
def test_a_date_column_is_reported_as_a_date(tmp_path, dates):
    table = own_table()
    table["visit"] = dates(pd.date_range("2021-03-01", periods=len(table), freq="D"))
    path = tmp_path / "patients.csv"
    table.to_csv(path, index=False)
    read = tables.load(path, target="outcome")
    reason = read.dropped["visit"]
    assert reason.startswith("a date (2021-03-01 to 2021-09-16): dates need features of their own")
    assert f"dropped visit: {reason}" in read.decisions()


def noisy_table(rows: int = 300) -> pd.DataFrame:
    """own_table with 15 % of the outcomes flipped: the other columns no longer answer it all."""
    table = own_table(rows)
    flip = np.random.default_rng(3).random(len(table)) < 0.15
    table.loc[flip, "outcome"] = table.loc[flip, "outcome"].map({"ill": "well", "well": "ill"})
    return table


def with_a_follow_up_code(rows: int = 300) -> pd.DataFrame:
    """The learner's classic: a code filled in after the diagnosis, empty for the well."""
    table = noisy_table(rows)
    codes = np.random.default_rng(2).integers(1, 6, len(table))
    table["follow_up"] = [f"F{c}" if o == "ill" else None for c, o in zip(codes, table.outcome)]
    return table


def test_a_column_that_gives_the_answer_away_is_warned_of(tmp_path):
    path = tmp_path / "patients.csv"
    with_a_follow_up_code().to_csv(path, index=False)
    read = tables.load(path, target="outcome")
    assert list(read.leaky) == ["follow_up"] and "follow_up" in read.text  # kept by default
    scores = read.leaky["follow_up"]
    assert scores["alone"] >= 0.99 and scores["without"] <= scores["alone"] - 0.02
    (warning,) = [line for line in read.decisions() if line.startswith("warning:")]
    assert warning.startswith("warning: follow_up alone predicts outcome almost perfectly")
    assert warning.endswith("Kept; --drop-leaky drops it")
    about = customers.description(read, read.features, [])
    assert about["leaky"] == {"columns": read.leaky, "kept": True}
    dropped = tables.load(path, target="outcome", drop_leaky=True)
    assert "follow_up" not in dropped.features and "follow_up" not in dropped.text
    assert dropped.dropped["follow_up"].startswith("gives the answer away (alone 1.000")
    assert not [line for line in dropped.decisions() if line.startswith("warning:")]


def test_a_copy_of_the_target_is_warned_of_and_an_easy_table_is_not(tmp_path):
    table = noisy_table()
    table["result"] = table["outcome"]  # a copy, under another name
    path = tmp_path / "copy.csv"
    table.to_csv(path, index=False)
    assert list(tables.load(path, target="outcome").leaky) == ["result"]
    wine = load_wine(as_frame=True).frame  # no column answers alone: no warning
    wine.to_csv(tmp_path / "wine.csv", index=False)
    assert tables.load(tmp_path / "wine.csv", target="target").leaky == {}


def test_the_bank_gets_no_leakage_warning(shared_data):
    read = tables.load(shared_data / "Churn_Modelling.csv")
    assert read.leaky == {} and not [line for line in read.decisions() if "warning" in line]


def test_the_leakage_check_looks_at_the_rows_step_3_trains_on():
    """training_rows is step 3's split: the same 80 % as its train_test_split, stratified or not."""
    from sklearn.model_selection import train_test_split

    for y in (np.array([0] * 3000 + [1] * 1200), np.array([0] * 150 + [1] * 50 + [2] * 40)):
        stratify = y if np.bincount(y).min() < tables.STRATIFY_BELOW else None
        features = pd.DataFrame({"x": np.arange(len(y))})
        train, _ = train_test_split(features, test_size=0.2, random_state=0, stratify=stratify)
        np.testing.assert_array_equal(tables.training_rows(y), train["x"].to_numpy())


# ---- --customer: answers you can trust ----


def customer_about() -> dict:
    return {
        "default_row": {"age": 50.0, "ward": "north", "visits": 2.0},
        "default_said": "the training rows' median or most frequent value",
        "columns": {"numbers": ["age", "visits"], "text": ["ward"]},
        "categories": {"ward": ["east", "north", "south"]},
        "ranges": {"age": [20.0, 89.0], "visits": [0.0, 11.0]},
        "whole_numbers": ["visits"],
        "words": {"row": "row"},
    }


@pytest.mark.parametrize(
    "text, message",
    [
        ("age=nan", "--customer: age must be a finite number, got 'nan'"),
        ("age=inf", "--customer: age must be a finite number, got 'inf'"),
        ("age=-inf", "--customer: age must be a finite number, got '-inf'"),
        ("age=1e309", "--customer: age must be a finite number, got '1e309'"),
        ("age=40,age=50", "--customer: age is given twice; give each field once"),
        (
            "visits=2.5",
            "--customer: visits takes whole numbers (every training row holds one), got 2.5",
        ),
    ],
)
def test_customer_values_that_cannot_be_answered(text, message):
    with pytest.raises(TutorialError) as caught:
        customers.read(text, customer_about())
    assert str(caught.value) == message


def test_a_customer_outside_the_training_range_is_answered_with_a_warning(capsys):
    customers.read("age=150, visits=3", customer_about())
    warnings = [line for line in capsys.readouterr().out.splitlines() if "warning" in line]
    assert warnings == [
        "warning: age 150 is outside what the training rows held (20 to 89): the network never "
        "saw such a row, and its answer there is a guess"
    ]
    customers.read("age=-5,visits=12", customer_about())
    printed = capsys.readouterr().out
    assert "warning: age -5 is outside" in printed and "warning: visits 12 is outside" in printed
    customers.read("age=45,visits=3.0", customer_about())  # an ordinary row: no warning
    assert "warning" not in capsys.readouterr().out


def test_a_category_only_the_test_rows_hold_is_said_in_step_1(tmp_path):
    path = tmp_path / "patients.csv"
    rows = own_table().dropna(subset=["outcome"]).reset_index(drop=True)
    rows.to_csv(path, index=False)
    training = set(tables.training_rows(tables.load(path, target="outcome").y).tolist())
    test_row = next(k for k in range(len(rows)) if k not in training)
    rows.loc[test_row, "ward"] = "west"  # a ward that only a test row has
    rows.loc[min(training), "ward"] = "far"  # and one that only a training row has
    rows.to_csv(path, index=False)
    read = tables.load(path, target="outcome")
    assert read.unseen == {"ward": ["west"]}
    assert (
        "ward: the test rows hold west, which no training row has: one-hot gives such a row all "
        "zeros, as for the first category"
    ) in read.decisions()
