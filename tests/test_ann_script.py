"""ann.py end to end on the real data (few epochs), and its bad-input errors."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

ANN = ROOT / "1_artificial_neural_networks" / "ann.py"


def run_ann(*args, cwd=ROOT, env=None):
    environment = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, str(ANN), *map(str, args)], capture_output=True, text=True, cwd=cwd, env=environment, timeout=600
    )


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, shared_data):
    out = tmp_path_factory.mktemp("ann")
    result = run_ann("--epochs", 2, "--folds", 3, "--seed", 1, "--verbose", 0, "--output-dir", out / "a",
                     env={"DLP_DATA_DIR": str(shared_data)})  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out, result


def test_outputs_and_metrics_agree_with_the_confusion_matrix(quick_run):
    out, result = quick_run
    folder = out / "a"
    assert sorted(p.name for p in folder.iterdir()) == [
        "churn_ann.keras", "confusion_matrix.png", "metrics.json", "preprocessing.joblib", "training_curves.png",
    ]  # fmt: skip
    metrics = json.loads((folder / "metrics.json").read_text())
    test = metrics["test"]
    (tn, fp), (fn, tp) = test["confusion_matrix"]
    assert tn + fp + fn + tp == 2000 and fn + tp == 405  # the test set's 405 leavers
    assert (test["tp"], test["fn"], test["fp"], test["tn"]) == (tp, fn, fp, tn)
    assert test["labels"] == [0, 1] and test["positive"] == 1
    assert test["accuracy"] == pytest.approx((tp + tn) / 2000)
    assert test["recall"] == pytest.approx(tp / (tp + fn))
    assert test["precision"] == pytest.approx(tp / (tp + fp) if tp + fp else 0.0)
    for name in ("cv", "cv_dropout"):
        cv = metrics[name]
        scores = np.array(cv["scores"])
        assert (cv["folds"], cv["epochs"], cv["batch_size"], len(scores)) == (3, 2, 10, 3)
        assert cv["mean"] == pytest.approx(scores.mean())
        assert cv["variance"] == pytest.approx(scores.var())
        assert cv["std"] == pytest.approx(scores.std())
        assert 0.7 < cv["mean"] < 0.9
    assert set(metrics["timings_s"]) >= {"fit", "cv", "total"}
    assert metrics["config"]["epochs"] == 2 and metrics["config"]["folds"] == 3
    assert 0 < metrics["new_customer"]["probability"] < 1
    assert f"standard deviation {metrics['cv']['std']:.4f}" in result.stdout
    assert f"TP = {tp}   FN = {fn}   FP = {fp}   TN = {tn}" in result.stdout
    assert result.stdout.splitlines()[0].startswith("Training on ")
    assert "TensorFlow" in result.stdout.splitlines()[0]
    assert result.stderr.strip() == ""  # no TensorFlow start-up noise


def test_saved_model_predicts_without_retraining(quick_run):
    out, _ = quick_run
    metrics = json.loads((out / "a" / "metrics.json").read_text())
    result = run_ann("--predict-only", "--output-dir", out / "a")
    assert result.returncode == 0, result.stderr
    assert f"P(leaves) = {metrics['new_customer']['probability']:.3f}" in result.stdout
    assert "Step 6" not in result.stdout
    assert result.stderr.strip() == ""  # no warnings about the optimizer's saved state

    other = run_ann("--predict-only", "--output-dir", out / "a", "--customer", "Geography=Germany,Age=60,IsActiveMember=0")
    assert other.returncode == 0, other.stderr
    assert "Geography Germany" in other.stdout and "Age 60" in other.stdout


def test_readable_customer_equals_encoded_vector(quick_run):
    import joblib

    from tutorial_support import churn
    from tutorial_support.fold_training import predict_probabilities
    from tutorial_support.runtime import keras

    out, _ = quick_run
    model = keras.models.load_model(out / "a" / "churn_ann.keras", compile=False)
    preprocessing = joblib.load(out / "a" / "preprocessing.joblib")
    readable = preprocessing.transform(churn.parse_customer(""))
    # Germany?, Spain?, Male?, CreditScore, Age, Tenure, Balance, products, card, active, salary
    encoded = np.array([[0, 0, 1, 600, 40, 3, 60000, 2, 1, 1, 50000]], dtype=float)
    scaled = preprocessing[-1].transform(encoded)
    np.testing.assert_allclose(readable, scaled)
    assert predict_probabilities(model, readable)[0] == pytest.approx(predict_probabilities(model, scaled)[0])


def test_same_seed_same_figures_from_any_folder(quick_run, shared_data):
    out, first = quick_run
    again = run_ann("--epochs", 2, "--folds", 3, "--seed", 1, "--verbose", 0, "--output-dir", out / "b",
                    cwd=ANN.parent, env={"DLP_DATA_DIR": str(shared_data)})  # fmt: skip
    assert again.returncode == 0, again.stderr
    a = json.loads((out / "a" / "metrics.json").read_text())
    b = json.loads((out / "b" / "metrics.json").read_text())
    for key in ("test", "cv", "cv_dropout", "new_customer"):
        assert a[key] == b[key]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
        (["--batch-size", "-5"], "argument --batch-size: must be at least 1, got -5"),
        (["--folds", "1"], "needs at least 2 folds"),
        (["--folds", "5000"], "--folds 5000 is more than the"),
        (["--customer", "Geography=Mars"], "unknown Geography 'Mars'"),
        (["--data", "/nonexistent/folder"], "no churn data at /nonexistent/folder/Churn_Modelling.csv"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(tmp_path, shared_data, args, message):
    result = run_ann(*args, "--output-dir", tmp_path / "out", env={"DLP_DATA_DIR": str(shared_data)})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "metrics.json").exists()


def test_offline_without_data_dir_exits_2(tmp_path):
    env = {"DLP_DATA_DIR": "", "KERAS_HOME": str(tmp_path / "keras"), "HOME": str(tmp_path)}
    env["http_proxy"] = env["https_proxy"] = "http://127.0.0.1:9"  # no network, even where there is one
    result = run_ann("--output-dir", tmp_path / "out", env=env)
    assert result.returncode == 2
    assert "could not download https://raw.githubusercontent.com/" in result.stderr
    assert "--data FOLDER" in result.stderr and "DLP_DATA_DIR=FOLDER" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_failed_run_leaves_earlier_outputs_intact(quick_run, tmp_path):
    out, _ = quick_run
    before = {p.name: p.read_bytes() for p in (out / "a").iterdir()}
    bad = tmp_path / "bad.csv"
    bad.write_text("RowNumber,Exited\n1,0\n")
    result = run_ann("--data", bad, "--output-dir", out / "a")
    assert result.returncode == 2 and "has no column 'CreditScore'" in result.stderr
    assert {p.name: p.read_bytes() for p in (out / "a").iterdir()} == before


def test_tune_prints_every_combination_and_the_best(tmp_path, shared_data):
    result = run_ann("--epochs", 1, "--folds", 2, "--verbose", 0, "--output-dir", tmp_path, "--tune",
                     "--tune-grid", "batch_size=50,100;epochs=1;optimizer=adam",
                     env={"DLP_DATA_DIR": str(shared_data)})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "combination 1 of 2: {'batch_size': 50, 'epochs': 1, 'optimizer': 'adam'}" in result.stdout
    assert "combination 2 of 2" in result.stdout
    tune = json.loads((tmp_path / "metrics.json").read_text())["tune"]
    assert [row["batch_size"] for row in tune["results"]] == [50, 100]
    assert tune["best"]["mean"] == max(row["mean"] for row in tune["results"])
    best = tune["best"]
    assert f"best: batch_size={best['batch_size']}, epochs=1, optimizer=adam: mean accuracy {best['mean']:.4f}" in result.stdout


def test_bad_tune_grid(tmp_path, shared_data):
    result = run_ann("--tune", "--tune-grid", "optimizer=adamm", "--output-dir", tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --tune-grid: unknown optimizer 'adamm'; try adam or rmsprop"
