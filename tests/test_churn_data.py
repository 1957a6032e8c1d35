"""Reading, checking and encoding the churn table; the readable customer."""

import numpy as np
import pandas as pd
import pytest

from churn_fixtures import churn_table
from tutorial_support import churn
from tutorial_support.errors import TutorialError


def write(tmp_path, table: pd.DataFrame, name="churn.csv"):
    path = tmp_path / name
    table.to_csv(path, index=False)
    return path


def test_load_and_encode_gives_eleven_features_in_order(tmp_path):
    table = churn_table()
    features, target = churn.load_churn(write(tmp_path, table))
    assert list(features.columns) == churn.FEATURES
    np.testing.assert_array_equal(target, table.Exited.to_numpy())

    encoder = churn.make_encoder()
    X = encoder.fit_transform(features)
    assert list(encoder.get_feature_names_out()) == [
        "Geography_Germany", "Geography_Spain", "Gender", "CreditScore", "Age", "Tenure",
        "Balance", "NumOfProducts", "HasCrCard", "IsActiveMember", "EstimatedSalary",
    ]  # fmt: skip
    assert X.shape == (len(table), 11)
    geography = {"France": [0, 0], "Germany": [1, 0], "Spain": [0, 1]}
    for row, (_, customer) in enumerate(table.iterrows()):
        assert X[row, :2].tolist() == geography[customer.Geography]
        assert X[row, 2] == (customer.Gender == "Male")
        assert X[row, 3] == customer.CreditScore and X[row, 10] == customer.EstimatedSalary


def test_scaler_in_the_script_is_fitted_on_the_training_rows_only(tmp_path):
    # ann.py fits StandardScaler on X_train and only transforms X_test: check the
    # pipeline it saves keeps the training statistics.
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features, target = churn.load_churn(write(tmp_path, churn_table(200)))
    encoder = churn.make_encoder()
    X = encoder.fit_transform(features)
    X_train, X_test, _, _ = train_test_split(X, target, test_size=0.2, random_state=0)
    scaler = StandardScaler().fit(X_train)
    np.testing.assert_allclose(scaler.mean_, X_train.mean(axis=0))
    assert not np.allclose(scaler.mean_, X.mean(axis=0))
    pipeline = make_pipeline(encoder, scaler)
    np.testing.assert_allclose(pipeline.transform(features.iloc[:5]), scaler.transform(X[:5]))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.drop(columns="Balance"), "has no column 'Balance'"),
        (lambda t: t.rename(columns={"Geography": "Geograpy"}), "has no column 'Geography' \\(did you mean 'Geograpy'\\?\\)"),
        (lambda t: t.assign(Age=t.Age.astype(object).where(t.index != 3, "forty")), "column 'Age' must hold numbers, but data row 4 has 'forty'"),
        (lambda t: t.assign(Tenure=t.Tenure.where(t.index != 6)), "column 'Tenure' has an empty cell in data row 7"),
        (lambda t: t.assign(Geography=t.Geography.where(t.index != 2, "Italy")), "unknown Geography 'Italy' in data row 3; expected one of France, Germany, Spain"),
        (lambda t: t.assign(Gender=t.Gender.where(t.index != 0, "M")), "unknown Gender 'M' in data row 1"),
        (lambda t: t.assign(Exited=t.Exited.where(t.index != 5, 2)), "Exited must be 0 or 1, but data row 6 has 2"),
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


def test_customer_parsing():
    default = churn.parse_customer("")
    assert default.iloc[0].to_dict() == churn.EXAMPLE_CUSTOMER
    spain = churn.parse_customer("Geography=Spain, Age=55,Balance=0")
    assert spain.iloc[0][["Geography", "Age", "Balance", "CreditScore"]].tolist() == ["Spain", 55.0, 0.0, 600]
    assert list(spain.columns) == churn.FEATURES


@pytest.mark.parametrize(
    "text, message",
    [
        ("Geography=Italy", "unknown Geography 'Italy'; expected one of France, Germany, Spain"),
        ("Gender=X", "unknown Gender 'X'"),
        ("Age=old", "Age must be a number, got 'old'"),
        ("Salary=5", "unknown field 'Salary'"),
        ("Creditscore=5", "did you mean 'CreditScore'"),
        ("Age", "expected FIELD=VALUE"),
    ],
)
def test_customer_errors(text, message):
    with pytest.raises(TutorialError, match=message):
        churn.parse_customer(text)
