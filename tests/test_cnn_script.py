"""cnn.py end to end on tiny generated image folders, its cache, --predict and its errors."""

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, script_environment
from image_fixtures import make_image_folder

CNN = ROOT / "2_convolutional_neural_networks" / "cnn.py"
QUICK = ["--epochs", "2", "--image-size", "24", "--batch-size", "8", "--verbose", "0", "--mixed-precision", "off"]


def run_cnn(*args, env=None):
    return subprocess.run(
        [sys.executable, str(CNN), *map(str, args)],
        capture_output=True, text=True, timeout=600, env=script_environment(env),
    )  # fmt: skip


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("cnn")
    data = make_image_folder(base / "data" / "cats_and_dogs")
    result = run_cnn("--data", base / "data", "--cache-dir", base / "cache", "--output-dir", base / "out", *QUICK)
    assert result.returncode == 0, result.stderr
    return base, result


def test_outputs_and_metrics_agree_with_the_confusion_matrix(tiny_run):
    base, result = tiny_run
    out = base / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "cnn_model.keras", "confusion_matrix.png", "metrics.json", "training_curves.png",
    ]  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    test = metrics["test"]
    (tn, fp), (fn, tp) = test["confusion_matrix"]
    assert tn + fp + fn + tp == 12 and tn + fp == 6  # 6 test cats, 6 test dogs
    assert test["class_names"] == ["cats", "dogs"] and test["positive"] == 1
    assert test["accuracy"] == pytest.approx((tp + tn) / 12)
    assert test["recall"] == pytest.approx(tp / (tp + fn))
    assert test["precision"] == pytest.approx(tp / (tp + fp) if tp + fp else 0.0)
    assert set(metrics["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 2 for v in metrics["history"].values())
    assert set(metrics["timings_s"]) >= {"data", "epochs", "total"}
    assert metrics["config"]["image_size"] == 24
    assert sorted(os.path.basename(p) for p in metrics["skipped_files"]["training_set"]) == [
        "corrupt.jpg", "empty.jpg", "notes.txt",
    ]  # fmt: skip
    assert "warning: skipped 3 unreadable file(s)" in result.stdout
    assert "classes: cats = 0, dogs = 1" in result.stdout
    assert f"TP = {tp}   FN = {fn}   FP = {fp}   TN = {tn}" in result.stdout


def test_second_run_reads_the_cache(tiny_run):
    base, first = tiny_run
    assert "from the cache" not in first.stdout
    again = run_cnn("--data", base / "data", "--cache-dir", base / "cache", "--output-dir", base / "out2", *QUICK)
    assert again.returncode == 0, again.stderr
    assert "training_set: 32 images (16 cats, 16 dogs) from the cache" in again.stdout
    # same seed, same figures (decoded or cached images alike)
    first_metrics = json.loads((base / "out" / "metrics.json").read_text())
    again_metrics = json.loads((base / "out2" / "metrics.json").read_text())
    assert first_metrics["history"] == again_metrics["history"]
    assert first_metrics["test"] == again_metrics["test"]


def test_predict_uses_the_saved_model(tiny_run):
    base, _ = tiny_run
    dog = base / "data" / "cats_and_dogs" / "test_set" / "dogs" / "0.jpg"
    cat = base / "data" / "cats_and_dogs" / "test_set" / "cats" / "3.jpg"
    result = run_cnn("--predict", dog, cat, "--output-dir", base / "out")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith(str(base))]
    assert len(lines) == 2
    for line in lines:
        verdict = line.split(": ")[1]
        assert verdict.split(" ")[0] in ("cat", "dog")
        p = float(verdict.split("p = ")[1].rstrip(")"))
        assert 0.5 <= p <= 1.0
    assert "Step 4" not in result.stdout


def test_mirrored_strategy_on_two_logical_cpus(tiny_run, tmp_path):
    base, _ = tiny_run
    result = run_cnn("--data", base / "data", "--cache-dir", base / "cache", "--output-dir", tmp_path,
                     "--strategy", "mirrored", *QUICK)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "each batch is split over 2 devices" in result.stdout
    assert json.loads((tmp_path / "metrics.json").read_text())["config"]["strategy"] == "mirrored"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--image-size", "0"], "argument --image-size: must be at least 1, got 0"),
        (["--image-size", "9"], "the tutorial network needs at least 10 pixels, got 9"),
        (["--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
        (["--predict", "/nonexistent.jpg"], "--predict: no such file: /nonexistent.jpg"),
        (["--predict", "TEXT"], "is not a readable image"),
        (["--data", "/nonexistent/folder"], "no image folder at /nonexistent/folder"),
        (["--data", "ONE_CLASS"], "needs one sub-folder per class and at least two classes (found only 'cats')"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(tiny_run, tmp_path, args, message):
    base, _ = tiny_run
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    one_class = tmp_path / "one"
    make_image_folder(one_class, per_class=(3, 2), oddities=False)
    for split in ("training_set", "test_set"):
        for dog in (one_class / split / "dogs").iterdir():
            dog.unlink()
        (one_class / split / "dogs").rmdir()
    args = [{"TEXT": text, "ONE_CLASS": one_class}.get(a, a) for a in args]
    out = base / "out" if "--predict" in args else tmp_path / "out"
    result = run_cnn(*QUICK, "--output-dir", out, "--cache-dir", tmp_path / "cache", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "out" / "metrics.json").exists()
