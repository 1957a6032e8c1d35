"""cnn.py end to end on tiny generated image folders, its cache, --predict and its errors."""

import json
import os
import socket
import subprocess
import sys
import time

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
        "cnn_model.keras", "confusion_matrix.png", "metrics.json", "training_curves.png",
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
