"""cnn.py end to end on tiny generated image folders, its cache, --predict and its errors."""

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import CNN, QUICK, ROOT, assert_flag_error, run_cnn, script_environment
from image_fixtures import make_image_folder, make_three_class_folder
from notebook_runs import (
    LOG_LINE,
    check_notebook_shape,
    figures_by_step,
    outputs_text,
    run_as_notebook,
    stderr_text,
)
from tutorial_support.backends import choice


@pytest.mark.backends
def test_outputs_and_metrics_agree_with_the_confusion_matrix(tiny_run):
    base, result = tiny_run
    out = base / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "cnn_model.keras",
        "confusion_matrix.png",
        "gradcam.png",
        "metrics.json",
        "mistakes.png",
        "reliability_diagram.png",
        "test_predictions.csv",
        "training_curves.png",
    ]
    metrics = json.loads((out / "metrics.json").read_text())
    test = metrics["test"]
    (tn, fp), (fn, tp) = test["confusion_matrix"]
    # one row per test photo, by its path under the data folder: the matrix again
    predictions = pd.read_csv(out / "test_predictions.csv")
    assert list(predictions.columns) == ["id", "actual", "predicted", "p_cats", "p_dogs"]
    assert predictions["id"].str.startswith("test_set/").all()
    assert predictions["id"].is_unique and len(predictions) == 12
    said_dog = predictions["predicted"] == "dogs"
    assert said_dog.sum() == fp + tp and (said_dog == (predictions["p_dogs"] > 0.5)).all()
    np.testing.assert_allclose(predictions["p_cats"] + predictions["p_dogs"], 1, atol=1e-5)
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
        "corrupt.jpg",
        "empty.jpg",
        "notes.txt",
    ]
    assert "warning: skipped 3 unreadable file(s)" in result.stdout
    assert "classes: cats = 0, dogs = 1" in result.stdout
    assert f"TP = {tp}   FN = {fn}   FP = {fp}   TN = {tn}" in result.stdout
    # calibration on P(dog), recomputed by scikit-learn from the saved model's answers
    from sklearn.metrics import brier_score_loss, log_loss

    from tutorial_support.cnn import images
    from tutorial_support.common.runtime import keras

    test_set, _ = images.load_image_set(
        base / "data" / "cats_and_dogs" / "test_set", 24, base / "cache", "test_set"
    )
    p_dog = (
        keras.models.load_model(out / "cnn_model.keras", compile=False)
        .predict(test_set.images.astype("float32"), verbose=0)
        .ravel()
        .astype(np.float64)
    )
    calibration = test["calibration"]
    assert set(calibration) == {"ece", "brier", "log_loss"} and 0 <= calibration["ece"] <= 1
    assert calibration["brier"] == pytest.approx(brier_score_loss(test_set.labels, p_dog), abs=1e-6)
    assert calibration["log_loss"] == pytest.approx(log_loss(test_set.labels, p_dog), abs=1e-5)
    assert f"expected calibration error {calibration['ece']:.4f}" in result.stdout


@pytest.mark.backends
def test_predict_uses_the_saved_model_and_explains(tiny_run, tmp_path, capsys):
    """--predict and --explain, in-process (predict.py is what cnn.py --predict calls)."""
    from tutorial_support.cnn import flags as cnn_flags
    from tutorial_support.cnn import predict

    base, _ = tiny_run
    out = tmp_path / "out"  # a copy: --explain writes into the output folder
    out.mkdir()
    for name in ("cnn_model.keras", "metrics.json"):
        (out / name).write_bytes((base / "out" / name).read_bytes())
    dog = base / "data" / "cats_and_dogs" / "test_set" / "dogs" / "0.jpg"
    cat = base / "data" / "cats_and_dogs" / "test_set" / "cats" / "3.jpg"
    predict.predict_images_from_saved(
        cnn_flags.parse(
            ["--predict", str(dog), str(cat), "--explain", "--output-dir", str(out)], tmp_path
        )
    )
    printed = capsys.readouterr().out
    lines = [line for line in printed.splitlines() if line.startswith(str(base))]
    assert len(lines) == 2
    for line in lines:
        verdict = line.split(": ")[1]
        assert verdict.split(" ")[0] in ("cat", "dog")
        p = float(verdict.split("p = ")[1].split(")")[0].split(",")[0])
        assert 0.5 <= p <= 1.0
    assert (
        f"wrote {out / 'gradcam_0.png'}" in printed and f"wrote {out / 'gradcam_3.png'}" in printed
    )
    assert (out / "gradcam_0.png").stat().st_size > 1000 and (
        out / "gradcam_3.png"
    ).stat().st_size > 1000


@pytest.mark.backends
def test_predict_a_folder_of_photos(tiny_run, tmp_path, capsys, monkeypatch):
    """--predict FOLDER: a verdict for each image in it (not in its sub-folders), a warning that
    names the files that are not images, predictions.csv, and progress for a large folder."""
    import pandas as pd

    from tutorial_support.cnn import flags as cnn_flags
    from tutorial_support.cnn import predict
    from tutorial_support.common.errors import TutorialError

    base, _ = tiny_run
    out = tmp_path / "out"
    out.mkdir()
    for name in ("cnn_model.keras", "metrics.json"):
        (out / name).write_bytes((base / "out" / name).read_bytes())
    photos = tmp_path / "my photos"
    (photos / "older").mkdir(parents=True)
    dogs = sorted((base / "data" / "cats_and_dogs" / "test_set" / "dogs").glob("*.jpg"))[:3]
    for k, dog in enumerate(dogs):
        (photos / f"dog {k}.jpg").write_bytes(dog.read_bytes())
    (photos / "older" / "not searched.jpg").write_bytes(dogs[0].read_bytes())
    (photos / "notes.txt").write_text("not an image")
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (photos / ".DS_Store").write_bytes(b"\0\0")  # hidden files are not looked at
    monkeypatch.setattr(predict, "BATCH", 2)  # a "large" folder: progress after every 2 files
    predict.predict_images_from_saved(
        cnn_flags.parse(["--predict", str(photos), "--output-dir", str(out)], tmp_path)
    )
    captured = capsys.readouterr()
    verdicts = [line for line in captured.out.splitlines() if line.startswith(str(photos))]
    assert [line.split(": ")[0] for line in verdicts] == [
        str(photos / f"dog {k}.jpg") for k in range(3)
    ]
    warnings = [line for line in captured.out.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: skipped 2 file(s) that are not readable images: broken.jpg, notes.txt"
    ]
    assert captured.err.splitlines() == ["... 2 of 5 files", "... 4 of 5 files", "... 5 of 5 files"]
    table = pd.read_csv(out / "predictions.csv")
    assert list(table.columns) == ["file", "class", "probability"] and len(table) == 3
    assert table["file"].tolist() == [str(photos / f"dog {k}.jpg") for k in range(3)]
    assert set(table["class"]) <= {"cats", "dogs"} and table["probability"].between(0.5, 1).all()
    for line, (_, row) in zip(verdicts, table.iterrows()):  # the file and the printed verdict agree
        assert f"p = {row['probability']:.2f}" in line
    assert f"wrote {out / 'predictions.csv'} (3 images)" in captured.out
    assert not list(out.glob(".staging-*"))  # written atomically: no staging folder left
    (photos / "dog 0.jpg").unlink()
    for k in (1, 2):
        (photos / f"dog {k}.jpg").unlink()
    with pytest.raises(TutorialError, match="none of the files given is a readable image"):
        predict.predict_images_from_saved(
            cnn_flags.parse(["--predict", str(photos), "--output-dir", str(out)], tmp_path)
        )


@pytest.mark.tensorflow_only
def test_mirrored_strategy_on_two_logical_cpus(tiny_run, tmp_path):
    base, _ = tiny_run
    result = run_cnn(
        "--data",
        base / "data",
        "--cache-dir",
        base / "cache",
        "--output-dir",
        tmp_path,
        "--strategy",
        "mirrored",
        *QUICK,
    )
    assert result.returncode == 0, result.stderr
    assert "each batch is split over 2 devices" in result.stdout
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["config"]["strategy"] == "mirrored"
    assert metrics["distribution"] == {"strategy": "mirrored", "workers": 1, "replicas": 2}


@pytest.mark.backends
@pytest.mark.skipif(choice.chosen() == "tensorflow", reason="TensorFlow runs every strategy")
@pytest.mark.parametrize("strategy", ["mirrored", "multiworker"])
def test_strategies_under_another_backend_say_to_use_tensorflow(tiny_run, tmp_path, strategy):
    base, _ = tiny_run
    result = run_cnn(
        "--data", base / "data", "--output-dir", tmp_path / "out", "--strategy", strategy, *QUICK
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: --strategy mirrored and multiworker need Keras on TensorFlow (tf.distribute); this "
        f"run is on {choice.label()}: run with KERAS_BACKEND=tensorflow (make cnn), or without "
        "--strategy"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.backends
def test_default_strategy_records_one_worker(tiny_run):
    base, _ = tiny_run
    metrics = json.loads((base / "out" / "metrics.json").read_text())
    assert metrics["distribution"] == {"strategy": "default", "workers": 1, "replicas": 1}


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def tf_config(ports, index: int) -> str:
    return json.dumps(
        {
            "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
            "task": {"type": "worker", "index": index},
        }
    )


@pytest.mark.tensorflow_only
def test_two_workers_train_together_and_only_the_chief_writes(tiny_run, tmp_path):
    base, _ = tiny_run
    ports = free_ports(2)
    command = [
        sys.executable,
        str(CNN),
        "--data",
        str(base / "data"),
        "--cache-dir",
        str(base / "cache"),
        "--output-dir",
        str(tmp_path / "shared_out"),
        "--strategy",
        "multiworker",
        "--worker-timeout",
        "120",
        *map(str, QUICK),
    ]
    workers = [
        subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=script_environment({"TF_CONFIG": tf_config(ports, index)}),
        )
        for index in (1, 0)
    ]
    (other_out, other_err), (chief_out, chief_err) = (
        worker.communicate(timeout=300) for worker in workers
    )
    assert [worker.returncode for worker in workers] == [0, 0], chief_err + other_err
    assert "worker 0 of 2 (the chief, which writes the outputs), 2 replicas in all" in chief_out
    assert "worker 1 of 2" in other_out and "This worker writes nothing" in other_out
    assert chief_err.strip() == "" and other_err.strip() == ""

    # the same weights on both: the same test confusion matrix and the same single predictions
    def verdicts(out):
        return [line for line in out.splitlines() if "TP =" in line or "(p = " in line]

    assert len(verdicts(chief_out)) == 3 and verdicts(chief_out) == verdicts(other_out)
    assert sorted(p.name for p in (tmp_path / "shared_out").iterdir()) == [
        "cnn_model.keras",
        "confusion_matrix.png",
        "gradcam.png",
        "metrics.json",
        "mistakes.png",
        "reliability_diagram.png",
        "test_predictions.csv",
        "training_curves.png",
    ]
    metrics = json.loads((tmp_path / "shared_out" / "metrics.json").read_text())
    assert metrics["distribution"] == {"strategy": "multiworker", "workers": 2, "replicas": 2}
    assert len(metrics["history"]["val_accuracy"]) == 2


@pytest.mark.tensorflow_only
def test_a_worker_alone_gives_up_with_one_line(tiny_run, tmp_path):
    base, _ = tiny_run
    result = run_cnn(
        "--data",
        base / "data",
        "--output-dir",
        tmp_path / "out",
        "--strategy",
        "multiworker",
        "--worker-timeout",
        "3",
        *QUICK,
        env={"TF_CONFIG": tf_config(free_ports(2), 0)},
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert (
        len(lines) == 1 and "worker 0 could not reach the other workers of TF_CONFIG" in lines[0]
    ), result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.tensorflow_only
@pytest.mark.parametrize(
    "config, message",
    [
        (None, "--strategy multiworker needs the TF_CONFIG environment variable"),
        ("{not json", "TF_CONFIG is not valid JSON"),
        (
            '{"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", '
            '"index": 2}}',
            "TF_CONFIG's task.index 2 is not one of the 2 workers (0 to 1)",
        ),
        (
            '{"task": {"type": "worker", "index": 0}}',
            "TF_CONFIG needs cluster.worker and task.type/index",
        ),
        (
            '{"cluster": {"worker": ["a:1"]}, "task": {"type": "chief", "index": 0}}',
            'task.type must be "worker"',
        ),
        (
            '{"cluster": {"worker": ["nohost"]}, "task": {"type": "worker", "index": 0}}',
            "must list host:port addresses",
        ),
    ],
)
def test_bad_tf_config_gives_one_line(config, message):
    """Checked before TensorFlow waits for anybody (in-process: no worker needs to start)."""
    from tutorial_support.cnn import distributed
    from tutorial_support.common.errors import TutorialError

    with pytest.raises(TutorialError) as caught:
        distributed.cluster_from_tf_config(config)
    text = str(caught.value)
    assert message in text and "\n" not in text
    assert (
        '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", '
        '"index": 0}}' in text
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--image-size", "0"], "argument --image-size: must be at least 1, got 0"),
        (["--image-size", "9"], "the tutorial network needs at least 10 pixels, got 9"),
        (
            ["--model", "improved", "--image-size", "31"],
            "the improved network needs at least 32 pixels, got 31",
        ),
        (["--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
        (["--explain"], "--explain explains the images of --predict: give --predict IMAGE"),
        (["--model", "bigger"], "argument --model: invalid choice: 'bigger'"),
        (
            ["--model", "pretrained"],
            "the network on a pretrained base is a lesson of its own: run "
            "2_convolutional_neural_networks/transfer_learning.py",
        ),
        (["--fine-tune-epochs", "2"], "unrecognized arguments: --fine-tune-epochs 2"),
    ],
)
def test_bad_flags_give_one_line_and_exit_2(tmp_path, capsys, args, message):
    """Flags are checked before TensorFlow trains anything (in-process: argparse needs no
    subprocess)."""
    from tutorial_support.cnn import flags as cnn_flags

    assert_flag_error(cnn_flags.parse, args, message, tmp_path, capsys)


def test_bad_tensorboard_folder(tmp_path):
    from tutorial_support.cnn import flags as cnn_flags
    from tutorial_support.common.errors import TutorialError

    text = tmp_path / "notes.txt"
    text.write_text("not a folder")
    for folder, message in (
        (text, "is a file, not a folder"),
        (text / "logs", "is a file, so no folder can be made there"),
    ):
        with pytest.raises(TutorialError, match=message):
            cnn_flags.parse(["--tensorboard", str(folder)], default_output_dir=tmp_path / "out")


def test_improved_network_writes_to_its_own_folder(tmp_path):
    from tutorial_support.cnn import flags as cnn_flags

    default = tmp_path / "outputs"
    assert cnn_flags.parse([], default).output_dir == default
    assert cnn_flags.parse(["--model", "improved"], default).output_dir == default / "improved"
    assert (
        cnn_flags.parse(["--model", "improved", "--predict", "a.jpg"], default).output_dir
        == default / "improved"
    )
    assert cnn_flags.parse(
        ["--model", "improved", "--output-dir", "mine"], default
    ).output_dir == Path("mine")
    improved = cnn_flags.parse(["--model", "improved"], default)
    assert (improved.epochs, improved.image_size) == (30, 128)


def test_bad_predict_files_give_one_line(tiny_run, tmp_path):
    from tutorial_support.cnn import flags as cnn_flags
    from tutorial_support.cnn import predict
    from tutorial_support.common.errors import TutorialError

    base, _ = tiny_run
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    for files, message in (
        (["/nonexistent.jpg"], "--predict: no such file or folder: /nonexistent.jpg"),
        ([str(text)], "is not a readable image"),
    ):
        args = cnn_flags.parse(["--predict", *files, "--output-dir", str(base / "out")], tmp_path)
        with pytest.raises(TutorialError, match=message):
            predict.predict_images_from_saved(args)
    args = cnn_flags.parse(["--predict", str(text), "--model", "improved"], tmp_path / "outputs")
    with pytest.raises(
        TutorialError, match="no saved model in .*improved: run cnn.py --model improved once"
    ):
        predict.predict_images_from_saved(args)


def test_bad_image_folders_give_one_line(tmp_path):
    from tutorial_support.cnn import images
    from tutorial_support.common import data
    from tutorial_support.common.errors import TutorialError

    one_class = make_image_folder(tmp_path / "one", per_class=(3, 2), oddities=False)
    for split in ("training_set", "test_set"):
        for dog in (one_class / split / "dogs").iterdir():
            dog.unlink()
        (one_class / split / "dogs").rmdir()
    other_classes = make_image_folder(tmp_path / "other", per_class=(3, 2), oddities=False)
    (other_classes / "test_set" / "dogs").rename(other_classes / "test_set" / "birds")
    with pytest.raises(TutorialError, match="no image folder at /nonexistent/folder"):
        data.cats_and_dogs(Path("/nonexistent/folder"))
    with pytest.raises(
        TutorialError,
        match="needs one sub-folder per class and at least two classes \\(found only 'cats'\\)",
    ):
        images.load_training_and_test(one_class, 16, None)
    with pytest.raises(
        TutorialError,
        match="same class folders: only training_set has dogs; only test_set has birds",
    ):
        images.load_training_and_test(other_classes, 16, None)


def metrics_against_scikit_learn(test: dict) -> None:
    """Every per-class and averaged figure of metrics.json, recomputed by scikit-learn from its
    matrix."""
    from sklearn import metrics as skm

    cm = np.array(test["confusion_matrix"])
    y_true = np.repeat(np.arange(len(cm)), cm.sum(axis=1))
    y_pred = np.concatenate([np.repeat(np.arange(len(cm)), row) for row in cm])
    assert skm.confusion_matrix(y_true, y_pred).tolist() == cm.tolist()
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, zero_division=0
    )
    for k, name in enumerate(test["class_names"]):
        got = test["per_class"][name]
        assert (got["precision"], got["recall"], got["f1"], got["support"]) == pytest.approx(
            (precision[k], recall[k], f1[k], support[k])
        )
    for average in ("macro", "micro", "weighted"):
        expected = skm.precision_recall_fscore_support(
            y_true, y_pred, average=average, zero_division=0
        )[:3]
        assert tuple(test["averages"][average].values()) == pytest.approx(expected)
    assert test["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))


def test_three_classes_get_a_softmax_and_a_3_x_3_matrix(tmp_path):
    """The improved network here; the tutorial network learns ten classes in
    test_digits_end_to_end."""
    model, size = "improved", 32
    data = make_three_class_folder(tmp_path / "data")
    out = tmp_path / "out"
    result = run_cnn(
        "--data",
        data,
        "--cache-dir",
        tmp_path / "cache",
        "--output-dir",
        out,
        "--model",
        model,
        "--epochs",
        "1",
        "--image-size",
        size,
        "--batch-size",
        "8",
        "--verbose",
        "0",
    )
    assert result.returncode == 0, result.stderr
    assert "classes: birds = 0, cats = 1, dogs = 2" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    test = metrics["test"]
    assert (
        np.array(test["confusion_matrix"]).shape == (3, 3)
        and np.sum(test["confusion_matrix"]) == 15
    )
    assert "positive" not in test and "Positive class" not in result.stdout
    assert list(test["per_class"]) == ["birds", "cats", "dogs"]
    metrics_against_scikit_learn(test)
    assert "micro average" in result.stdout
    # on the top label, with three classes
    assert set(test["calibration"]) == {
        "ece",
        "brier",
        "log_loss",
    }
    for name in ("gradcam.png", "mistakes.png", "confusion_matrix.png", "reliability_diagram.png"):
        assert (out / name).stat().st_size > 1000

    bird = data / "test_set" / "birds" / "birds0.jpg"
    predicted = run_cnn("--predict", bird, "--output-dir", out)
    assert predicted.returncode == 0, predicted.stderr
    (line,) = [line for line in predicted.stdout.splitlines() if line.startswith(f"{bird}: ")]
    verdict = line.split(": ", 1)[1]
    assert verdict.split(" ")[0] in ("bird", "cat", "dog") and "(p = " in verdict
    assert f"wrote {out / 'predictions.csv'} (1 image)" in predicted.stdout


def test_digits_end_to_end(tmp_path):
    import subprocess as sp

    folder = tmp_path / "digits"
    made = sp.run(
        [sys.executable, str(ROOT / "docs" / "make_digits_folders.py"), str(folder)],
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    assert "wrote 1,347 training and 450 test images of 10 digits" in made.stdout
    assert sorted(p.name for p in (folder / "training_set").iterdir()) == [
        str(d) for d in range(10)
    ]
    out = tmp_path / "out"
    result = run_cnn(
        "--data",
        folder,
        "--cache-dir",
        tmp_path / "cache",
        "--output-dir",
        out,
        "--image-size",
        "16",
        "--epochs",
        "2",
        "--no-flip",
        "--verbose",
        "0",
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert np.array(metrics["test"]["confusion_matrix"]).shape == (10, 10)
    assert np.sum(metrics["test"]["confusion_matrix"]) == 450
    metrics_against_scikit_learn(metrics["test"])
    assert metrics["config"]["no_flip"] is True
    assert metrics["test"]["accuracy"] > 0.5  # two short epochs already read most digits
    # ten classes: none is "positive"
    assert "positive" not in metrics["test"] and "Positive class" not in result.stdout
    assert "classes: 0 = 0, 1 = 1, 2 = 2" in result.stdout and "micro average" in result.stdout
    assert set(metrics["test"]["calibration"]) == {"ece", "brier", "log_loss"}  # on the top label


def test_help_says_each_default_once_and_no_machine_path(tmp_path):
    from tutorial_support.ann import flags as ann_flags
    from tutorial_support.cnn import flags as cnn_flags

    for flags, script in (
        (ann_flags, "1_artificial_neural_networks"),
        (cnn_flags, "2_convolutional_neural_networks"),
    ):
        text = " ".join(flags.parser(ROOT / script / "outputs").format_help().split())
        assert (
            "(default: None)" not in text
            and "(default: False)" not in text
            and "(default: )" not in text
        )
        # each flag's own help says its default once at most
        for option in re.split(r" (?=--[a-z])", text):
            assert option.count("(default:") <= 1, option
        assert str(ROOT) not in text and f"{script}/outputs in the project" in text


def test_photos_stored_turned_are_learnt_and_predicted_as_they_are_seen(tmp_path, capsys):
    """Classes up and down (the bright half on top or below); the test photos are stored turned,
    with EXIF orientations 3 and 6, as a phone stores them: seen in a photo app, they are
    upright."""
    from PIL import Image

    from test_images import save_with_orientation
    from tutorial_support.cnn import flags as cnn_flags
    from tutorial_support.cnn import predict

    rng = np.random.default_rng(0)

    def photo(up: bool) -> Image.Image:
        pixels = np.full((40, 48, 3), 40.0)
        if up:
            pixels[:20] = 215  # the bright half on top
        else:
            pixels[20:] = 215
        return Image.fromarray(
            (pixels + rng.normal(0, 15, pixels.shape)).clip(0, 255).astype(np.uint8)
        )

    for split, count, orientations in (("training_set", 24, [1]), ("test_set", 8, [3, 6])):
        for label in ("down", "up"):
            for k in range(count):
                save_with_orientation(
                    photo(label == "up"),
                    tmp_path / "data" / split / label / f"{k}.jpg",
                    orientations[k % len(orientations)],
                )
    out = tmp_path / "out"
    result = run_cnn(
        "--data",
        tmp_path / "data",
        "--cache-dir",
        tmp_path / "cache",
        "--output-dir",
        out,
        "--epochs",
        "8",
        "--image-size",
        "16",
        "--batch-size",
        "8",
        "--verbose",
        "0",
        "--no-flip",
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    # stored pixels, not turned, would score about 0.25 here
    assert metrics["test"]["accuracy"] >= 0.9
    turned_up = tmp_path / "data" / "test_set" / "up" / "1.jpg"  # stored with orientation 6
    predict.predict_images_from_saved(
        cnn_flags.parse(["--predict", str(turned_up), "--output-dir", str(out)], tmp_path)
    )
    assert capsys.readouterr().out.strip().startswith(f"{turned_up}: up (p = ")


def test_cnn_runs_as_a_notebook_with_the_same_figures_as_the_script(
    tmp_path, tiny_run, driver_without_gpu
):
    """The notebook, on the script's images and image cache, trains the same network (and logs for
    TensorBoard)."""
    base, first = tiny_run
    assert "from the cache" not in first.stdout
    logs = tmp_path / "logs"
    settings = (
        f"--data {base / 'data'} --cache-dir {base / 'cache'} --tensorboard {logs} "
        + " ".join(QUICK)
    )
    notebook = run_as_notebook(
        CNN,
        tmp_path,
        settings=settings,
        env={"LD_LIBRARY_PATH": str(driver_without_gpu), "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    text = outputs_text(notebook)
    assert not LOG_LINE.search(text), LOG_LINE.search(text).group(0)
    assert stderr_text(notebook) == ""
    check_notebook_shape(notebook)
    # every figure the script saves, shown in the cell of the step that teaches it
    assert figures_by_step(notebook) == {
        "Step 5": 1,  # the training curves
        "Step 6": 1,  # the confusion matrix
        "Step 7": 2,  # Grad-CAM and the most confident mistakes
        "Step 8": 1,  # the reliability diagram
    }
    assert "Step 5: fit the CNN (2 epochs, batch size 8)" in text
    # decoded by the script's run
    assert "training_set: 32 images (16 cats, 16 dogs) from the cache" in text
    ours = json.loads((tmp_path / "outputs" / "metrics.json").read_text())  # beside the notebook
    theirs = json.loads((base / "out" / "metrics.json").read_text())
    assert ours["config"]["epochs"] == 2 and ours["config"]["image_size"] == 24
    # same seed, same figures
    assert ours["history"] == theirs["history"] and ours["test"] == theirs["test"]
    for part in ("train", "validation"):  # TensorBoard's event files, for every epoch's scalars
        events = list((logs / part).glob("events.out.tfevents.*"))
        assert len(events) == 1 and events[0].stat().st_size > 0
