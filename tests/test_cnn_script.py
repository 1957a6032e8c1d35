"""cnn.py end to end on tiny generated image folders, its cache, --predict and its errors."""

import json
import os
import re
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ROOT, script_environment
from image_fixtures import make_image_folder, make_three_class_folder

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
        "cnn_model.keras", "confusion_matrix.png", "gradcam.png", "metrics.json", "mistakes.png", "training_curves.png",
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
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["config"]["strategy"] == "mirrored"
    assert metrics["distribution"] == {"strategy": "mirrored", "workers": 1, "replicas": 2}


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
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]}, "task": {"type": "worker", "index": index}})


def test_two_workers_train_together_and_only_the_chief_writes(tiny_run, tmp_path):
    base, _ = tiny_run
    ports = free_ports(2)
    command = [sys.executable, str(CNN), "--data", str(base / "data"), "--cache-dir", str(base / "cache"),
               "--output-dir", str(tmp_path / "shared_out"), "--strategy", "multiworker", "--worker-timeout", "120",
               *map(str, QUICK)]  # fmt: skip
    workers = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=script_environment({"TF_CONFIG": tf_config(ports, index)}))  # fmt: skip
        for index in (1, 0)
    ]
    (other_out, other_err), (chief_out, chief_err) = (worker.communicate(timeout=300) for worker in workers)
    assert [worker.returncode for worker in workers] == [0, 0], chief_err + other_err
    assert "worker 0 of 2 (the chief, which writes the outputs), 2 replicas in all" in chief_out
    assert "worker 1 of 2" in other_out and "This worker writes nothing" in other_out
    assert chief_err.strip() == "" and other_err.strip() == ""
    # the same weights on both: the same test confusion matrix and the same single predictions
    def verdicts(out):
        return [line for line in out.splitlines() if "TP =" in line or "(p = " in line]

    assert len(verdicts(chief_out)) == 3 and verdicts(chief_out) == verdicts(other_out)
    assert sorted(p.name for p in (tmp_path / "shared_out").iterdir()) == [
        "cnn_model.keras", "confusion_matrix.png", "gradcam.png", "metrics.json", "mistakes.png", "training_curves.png",
    ]  # fmt: skip
    metrics = json.loads((tmp_path / "shared_out" / "metrics.json").read_text())
    assert metrics["distribution"] == {"strategy": "multiworker", "workers": 2, "replicas": 2}
    assert len(metrics["history"]["val_accuracy"]) == 2


def test_a_worker_alone_gives_up_with_one_line(tiny_run, tmp_path):
    base, _ = tiny_run
    began = time.monotonic()
    result = run_cnn("--data", base / "data", "--output-dir", tmp_path / "out", "--strategy", "multiworker",
                     "--worker-timeout", "3", *QUICK, env={"TF_CONFIG": tf_config(free_ports(2), 0)})  # fmt: skip
    assert time.monotonic() - began < 60
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "worker 0 could not reach the other workers of TF_CONFIG" in lines[0], result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "config, message",
    [
        (None, "--strategy multiworker needs the TF_CONFIG environment variable"),
        ("{not json", "TF_CONFIG is not valid JSON"),
        ('{"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": 2}}',
         "TF_CONFIG's task.index 2 is not one of the 2 workers (0 to 1)"),
        ('{"task": {"type": "worker", "index": 0}}', "TF_CONFIG needs cluster.worker and task.type/index"),
    ],
)
def test_bad_tf_config_gives_one_line_and_exit_2(tiny_run, tmp_path, config, message):
    base, _ = tiny_run
    env = script_environment({} if config is None else {"TF_CONFIG": config})
    env.pop("TF_CONFIG", None) if config is None else None
    result = subprocess.run([sys.executable, str(CNN), "--data", str(base / "data"), "--output-dir", str(tmp_path / "out"),
                             "--strategy", "multiworker", *map(str, QUICK)], capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}' in lines[0]
    assert not (tmp_path / "out").exists()


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
        (["--data", "OTHER_CLASSES"], "same class folders: only training_set has dogs; only test_set has birds"),
        (["--explain"], "--explain explains the images of --predict: give --predict IMAGE"),
        (["--predict", "TEXT", "--explain"], "is not a readable image"),
        (["--tensorboard", "TEXT"], "is a file, not a folder"),
        (["--tensorboard", "TEXT/logs"], "is a file, so no folder can be made there"),
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
    other_classes = make_image_folder(tmp_path / "other", per_class=(3, 2), oddities=False)
    (other_classes / "test_set" / "dogs").rename(other_classes / "test_set" / "birds")
    replace = {"TEXT": text, "TEXT/logs": text / "logs", "ONE_CLASS": one_class, "OTHER_CLASSES": other_classes}
    args = [replace.get(a, a) for a in args]
    out = base / "out" if "--predict" in args else tmp_path / "out"
    result = run_cnn(*QUICK, "--output-dir", out, "--cache-dir", tmp_path / "cache", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "out" / "metrics.json").exists()


def metrics_against_scikit_learn(test: dict) -> None:
    """Every per-class and averaged figure of metrics.json, recomputed by scikit-learn from its matrix."""
    from sklearn import metrics as skm

    cm = np.array(test["confusion_matrix"])
    y_true = np.repeat(np.arange(len(cm)), cm.sum(axis=1))
    y_pred = np.concatenate([np.repeat(np.arange(len(cm)), row) for row in cm])
    assert skm.confusion_matrix(y_true, y_pred).tolist() == cm.tolist()
    precision, recall, f1, support = skm.precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    for k, name in enumerate(test["class_names"]):
        got = test["per_class"][name]
        assert (got["precision"], got["recall"], got["f1"], got["support"]) == pytest.approx(
            (precision[k], recall[k], f1[k], support[k])
        )
    for average in ("macro", "micro", "weighted"):
        expected = skm.precision_recall_fscore_support(y_true, y_pred, average=average, zero_division=0)[:3]
        assert tuple(test["averages"][average].values()) == pytest.approx(expected)
    assert test["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))


@pytest.mark.parametrize("model, size", [("tutorial", 24), ("improved", 32)])
def test_three_classes_get_a_softmax_and_a_3_x_3_matrix(tmp_path, model, size):
    data = make_three_class_folder(tmp_path / "data")
    out = tmp_path / "out"
    result = run_cnn("--data", data, "--cache-dir", tmp_path / "cache", "--output-dir", out, "--model", model,
                     "--epochs", "3", "--image-size", size, "--batch-size", "8", "--verbose", "0")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "classes: birds = 0, cats = 1, dogs = 2" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    test = metrics["test"]
    assert np.array(test["confusion_matrix"]).shape == (3, 3) and np.sum(test["confusion_matrix"]) == 15
    assert "positive" not in test and "Positive class" not in result.stdout
    assert list(test["per_class"]) == ["birds", "cats", "dogs"]
    metrics_against_scikit_learn(test)
    assert "micro average" in result.stdout
    for name in ("gradcam.png", "mistakes.png", "confusion_matrix.png"):
        assert (out / name).stat().st_size > 1000

    bird = data / "test_set" / "birds" / "birds0.jpg"
    predicted = run_cnn("--predict", bird, "--output-dir", out)
    assert predicted.returncode == 0, predicted.stderr
    verdict = predicted.stdout.strip().splitlines()[-1].split(": ", 1)[1]
    assert verdict.split(" ")[0] in ("bird", "cat", "dog") and "(p = " in verdict


def test_digits_end_to_end(tmp_path):
    import subprocess as sp

    folder = tmp_path / "digits"
    made = sp.run([sys.executable, str(ROOT / "docs" / "make_digits_folders.py"), str(folder)], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert "wrote 1,347 training and 450 test images of 10 digits" in made.stdout
    assert sorted(p.name for p in (folder / "training_set").iterdir()) == [str(d) for d in range(10)]
    out = tmp_path / "out"
    result = run_cnn("--data", folder, "--cache-dir", tmp_path / "cache", "--output-dir", out, "--image-size", "16",
                     "--epochs", "2", "--no-flip", "--verbose", "0")  # fmt: skip
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert np.array(metrics["test"]["confusion_matrix"]).shape == (10, 10)
    assert np.sum(metrics["test"]["confusion_matrix"]) == 450
    metrics_against_scikit_learn(metrics["test"])
    assert metrics["config"]["no_flip"] is True
    assert metrics["test"]["accuracy"] > 0.5  # two short epochs already read most digits


def test_gradcam_on_saved_networks_sigmoid_and_softmax(tiny_run, tmp_path):
    from tutorial_support import augmentation, explain  # noqa: F401  (registers the augmentation layer)
    from tutorial_support.runtime import keras

    base, _ = tiny_run
    data = make_three_class_folder(tmp_path / "data")
    result = run_cnn("--data", data, "--cache-dir", tmp_path / "cache", "--output-dir", tmp_path / "out", "--model",
                     "improved", "--epochs", "1", "--image-size", "32", "--batch-size", "8", "--verbose", "0",
                     "--mixed-precision", "on")  # fmt: skip
    assert result.returncode == 0, result.stderr
    rng = np.random.default_rng(0)
    for path, size in ((base / "out" / "cnn_model.keras", 24), (tmp_path / "out" / "cnn_model.keras", 32)):
        model = keras.models.load_model(path, compile=False)  # as saved and reloaded
        images = rng.uniform(0, 255, (2, size, size, 3)).astype("float32")
        images[1, :, : size // 2] = 0  # a different picture
        heat = explain.gradcam(model, images)
        assert heat.shape == (2, size, size)
        assert np.all(np.isfinite(heat)) and heat.min() >= 0 and heat.max() <= 1
        assert not np.allclose(heat[0], heat[1])
        for k in range(model.output_shape[-1] if model.output_shape[-1] > 1 else 2):  # any class can be explained
            assert explain.gradcam(model, images[:1], classes=np.array([k])).shape == (1, size, size)


def test_most_confident_mistakes_come_first():
    from tutorial_support.explain import most_confident_mistakes

    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.01, 0.99], [0.3, 0.7], [0.45, 0.55]])
    labels = np.array([0, 0, 1, 0, 1, 1])  # wrong: rows 1 (0.8), 2 (0.6) and 3 (0.99)
    assert most_confident_mistakes(probabilities, labels).tolist() == [3, 1, 2]
    assert most_confident_mistakes(probabilities, labels, count=1).tolist() == [3]
    assert most_confident_mistakes(probabilities, np.array([0, 1, 0, 1, 1, 1])).tolist() == []


def test_predict_explain_writes_a_heatmap_per_image(tiny_run, tmp_path):
    base, _ = tiny_run
    out = tmp_path / "out"
    out.mkdir()
    for name in ("cnn_model.keras", "metrics.json"):
        (out / name).write_bytes((base / "out" / name).read_bytes())
    dog = base / "data" / "cats_and_dogs" / "test_set" / "dogs" / "0.jpg"
    cat = base / "data" / "cats_and_dogs" / "test_set" / "cats" / "3.jpg"
    result = run_cnn("--predict", dog, cat, "--explain", "--output-dir", out)
    assert result.returncode == 0, result.stderr
    assert f"wrote {out / 'gradcam_0.png'}" in result.stdout and f"wrote {out / 'gradcam_3.png'}" in result.stdout
    assert (out / "gradcam_0.png").stat().st_size > 1000 and (out / "gradcam_3.png").stat().st_size > 1000


def test_tensorboard_logs_every_epoch(tiny_run, tmp_path):
    base, _ = tiny_run
    logs = tmp_path / "logs"
    result = run_cnn("--data", base / "data", "--cache-dir", base / "cache", "--output-dir", tmp_path / "out",
                     "--tensorboard", logs, *QUICK)  # fmt: skip
    assert result.returncode == 0, result.stderr
    for part in ("train", "validation"):
        events = list((logs / part).glob("events.out.tfevents.*"))
        assert len(events) == 1 and events[0].stat().st_size > 0


def test_help_says_each_default_once_and_no_machine_path():
    for script in (CNN, ROOT / "1_artificial_neural_networks" / "ann.py"):
        result = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True)
        assert result.returncode == 0
        text = " ".join(result.stdout.split())
        assert "(default: None)" not in text and "(default: False)" not in text and "(default: )" not in text
        for option in re.split(r" (?=--[a-z])", text):  # each flag's own help says its default once at most
            assert option.count("(default:") <= 1, option
        assert str(ROOT) not in text
