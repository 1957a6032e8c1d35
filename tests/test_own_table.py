"""ann.py on tables of one's own: two classes with IDs, text and gaps; three classes
(scikit-learn's wine data).

The bad tables and too few rows of a class for the folds are tested in-process (test_tables.py):
they stop before anything is written, by the same one-line error as every other bad input of
ann.py."""

import json

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine

from conftest import run_ann
from test_tables import own_table

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def patients(tmp_path_factory):
    """A quick run on a two-class table with an ID, names, a constant column, text and empty
    cells."""
    folder = tmp_path_factory.mktemp("patients")
    own_table(400).to_csv(folder / "patients.csv", index=False)
    # --folds 0 (the wine run below cross-validates), a threshold by --min-recall, and a small grid
    # search
    quick = [
        "--epochs",
        "2",
        "--improved-epochs",
        "2",
        "--folds",
        "0",
        "--seed",
        "1",
        "--verbose",
        "0",
        "--min-recall",
        "0.6",
        "--tune",
        "--tune-grid",
        "batch_size=50,100;epochs=1;optimizer=adam",
    ]
    result = run_ann(
        *quick,
        "--data",
        folder / "patients.csv",
        "--target",
        "outcome",
        "--output-dir",
        folder / "out",
    )
    assert result.returncode == 0, result.stderr
    return folder, result


def test_two_classes_of_ones_own_run_every_step(patients):
    folder, result = patients
    metrics = json.loads((folder / "out" / "metrics.json").read_text())
    data = metrics["data"]
    assert data["target"] == "outcome" and data["rows"] == 397 and data["rows_without_target"] == 3
    assert set(data["classes"]) == {"ill", "well"} and data["positive"] == data["classes"][1]
    assert set(data["dropped"]) == {"patient_id", "name", "clinic"} and data["imputed"] == {
        "age": 7,
        "ward": 4,
    }
    # one-hot without the first category (east, no), as the course encodes Geography and Gender
    assert data["features"] == [
        "ward_north",
        "ward_south",
        "smoker_yes",
        "age",
        "dose mg",
        "visits",
    ]
    # an empty cell becomes the training rows' median (age) or most frequent value (ward)
    preprocessing = joblib.load(folder / "out" / "preprocessing.joblib")
    gap = pd.DataFrame([{**data["default_row"], "age": np.nan, "ward": np.nan}])
    np.testing.assert_allclose(
        preprocessing.transform(gap), preprocessing.transform(pd.DataFrame([data["default_row"]]))
    )
    # every printed decision, one line each
    for line in (
        "dropped patient_id: ID-like (397 different values in 397 rows)",
        "dropped clinic: constant (main)",
        f"positive class: {data['positive']}",
        "dropped 3 rows without a outcome",
        "filled in 7 empty cells of age with the training rows' median",
    ):
        assert line in result.stdout
    # the two-class chapter: the test matrix and its metrics, a threshold, baselines, calibration,
    # figures
    test = metrics["test"]
    (tn, fp), (fn, tp) = test["confusion_matrix"]
    assert (
        tn + fp + fn + tp == 80
        and test["tp"] == tp
        and test["accuracy"] == pytest.approx((tp + tn) / 80)
    )
    assert (
        0 < metrics["threshold"]["value"] < 1
        and "test_roc_auc" in metrics["baselines"]["gradient_boosting"]
    )
    # --min-recall, in its words
    assert f"the highest that finds 60% of the {data['positive']} rows" in result.stdout
    assert set(metrics["feature_importance"]) == {"age", "dose mg", "ward", "smoker", "visits"}
    importance = metrics["feature_importance"]
    assert metrics["by_group"]["column"] == max(importance, key=importance.get)
    assert sum(metrics["by_group"]["rows"]) == 80
    assert metrics["calibration"]["temperature"]["chosen_on"] == "validation"
    for name in (
        "roc_curve.png",
        "precision_recall_curve.png",
        "reliability_diagram.png",
        "confusion_matrix.png",
    ):
        assert (folder / "out" / name).stat().st_size > 5000
    # step 8 on the typical training row, printed
    assert (
        "every field takes the training rows' median or most frequent value\nRow: age "
        in result.stdout
    )
    assert metrics["new_customer"]["class"] in data["classes"]


def test_no_folds_min_recall_and_the_grid_search(patients):
    """--folds 0 chooses the threshold on a validation part; --tune cross-validates every
    combination."""
    folder, result = patients
    metrics = json.loads((folder / "out" / "metrics.json").read_text())
    assert "cv" not in metrics and "cv_dropout" not in metrics and "cv" not in metrics["improved"]
    threshold = metrics["threshold"]
    assert (threshold["chosen_on"], threshold["rule"], threshold["min_recall"]) == (
        "validation",
        "min-recall",
        0.6,
    )
    assert "on a validation part of the training set (20 %)" in result.stdout
    assert "--folds 0: the baselines' cross-validation is skipped" in result.stdout
    assert "--folds 0: the improved network's cross-validation is skipped" in result.stdout
    assert set(metrics["baselines"]["gradient_boosting"]) == {"test_accuracy", "test_roc_auc"}
    # the grid search: every combination (10 folds each, as --folds 0 gives none), then the best
    assert (
        "combination 1 of 2: {'batch_size': 50, 'epochs': 1, 'optimizer': 'adam'}" in result.stdout
    )
    assert "combination 2 of 2" in result.stdout
    tune = metrics["tune"]
    assert [row["batch_size"] for row in tune["results"]] == [50, 100]
    assert tune["best"]["mean"] == max(row["mean"] for row in tune["results"])
    best = tune["best"]
    assert (
        f"best: batch_size={best['batch_size']}, epochs=1, optimizer=adam: mean accuracy "
        f"{best['mean']:.4f}" in result.stdout
    )


def test_predict_only_on_a_table_of_ones_own(patients, capsys):
    from tutorial_support.ann import customers  # in-process: what ann.py --predict-only calls

    folder, _ = patients
    data = json.loads((folder / "out" / "metrics.json").read_text())["data"]
    answer = customers.answer_from_saved(folder / "out", "age=80,smoker=yes,dose mg=9")
    printed = capsys.readouterr().out
    assert (
        "age 80, dose mg 9, ward " + data["default_row"]["ward"] in printed
        and "smoker yes" in printed
    )
    assert (
        f"P({data['positive']}) = {answer['probability']:.3f}" in printed
        and answer["class"] in data["classes"]
    )
    # the fields left out are the training rows' typical values, as the run saved them
    assert customers.answer_from_saved(folder / "out", "")["probability"] == pytest.approx(
        json.loads((folder / "out" / "metrics.json").read_text())["new_customer"]["probability"]
    )


def test_three_classes_wine(tmp_path):
    wine = load_wine(as_frame=True)
    table = wine.frame.rename(columns={"target": "cultivar"})
    table["cultivar"] = [wine.target_names[k] for k in wine.target]
    table.to_csv(tmp_path / "wine.csv", index=False)
    result = run_ann(
        "--epochs",
        "5",
        "--improved-epochs",
        "2",
        "--folds",
        "3",
        "--verbose",
        "0",
        "--data",
        tmp_path / "wine.csv",
        "--target",
        "cultivar",
        "--output-dir",
        tmp_path / "out",
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    test = metrics["test"]
    cm = np.array(test["confusion_matrix"])
    assert (
        cm.shape == (3, 3)
        and cm.sum() == 36
        and test["accuracy"] == pytest.approx(np.trace(cm) / 36)
    )
    assert list(test["per_class"]) == ["class_0", "class_1", "class_2"] and set(
        test["averages"]
    ) == {"macro", "micro", "weighted"}
    assert test["per_class"]["class_0"]["support"] == cm[0].sum()
    assert "positive" not in metrics["data"] and "threshold" not in metrics
    assert "applies to two classes" in result.stdout and "skipped" in result.stdout
    # both networks end in a softmax of three units; cross-validation, baselines and importance ran
    assert "dense_2 (Dense)                 │ (None, 3)" in result.stdout
    assert (
        len(metrics["cv"]["scores"]) == 3
        and "cv_mean" in metrics["baselines"]["logistic_regression"]
    )
    assert (
        len(metrics["feature_importance"]) == 13 and metrics["improved"]["test"]["confusion_matrix"]
    )
    assert not (tmp_path / "out" / "roc_curve.png").exists()
    assert "P(class_0) = " in result.stdout


def test_drop_leaky_drops_the_column_that_gives_the_answer_away(tmp_path):
    from test_tables import with_a_follow_up_code

    with_a_follow_up_code(300).to_csv(tmp_path / "patients.csv", index=False)
    result = run_ann(
        *("--epochs", "1", "--improved-epochs", "1", "--folds", "0", "--verbose", "0"),
        *("--data", tmp_path / "patients.csv", "--target", "outcome", "--drop-leaky"),
        *("--output-dir", tmp_path / "out", "--customer", "age=61"),
    )
    assert result.returncode == 0, result.stderr
    assert "dropped follow_up: gives the answer away (alone 1.000" in result.stdout
    assert "warning" not in result.stdout
    data = json.loads((tmp_path / "out" / "metrics.json").read_text())["data"]
    assert data["leaky"]["kept"] is False and list(data["leaky"]["columns"]) == ["follow_up"]
    assert "follow_up" in data["dropped"] and "follow_up" not in data["default_row"]
    assert data["ranges"]["age"][0] <= 61 <= data["ranges"]["age"][1]
