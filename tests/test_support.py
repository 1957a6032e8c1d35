"""Shared machinery: staged outputs, the device line, one-line argument errors."""

import importlib

import pytest

from tutorial_support.backends import choice, startup
from tutorial_support.common import runtime
from tutorial_support.common.cli import base_parser
from tutorial_support.common.outputs import StagedOutputs


def test_outputs_appear_only_when_the_run_succeeds(tmp_path):
    (tmp_path / "metrics.json").write_text("old")
    with pytest.raises(RuntimeError):
        with StagedOutputs(tmp_path) as outputs:
            outputs.write_json("metrics.json", {"new": 1})
            outputs.path("model.keras").write_text("half")
            raise RuntimeError("training failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]
    assert (tmp_path / "metrics.json").read_text() == "old"

    with StagedOutputs(tmp_path) as outputs:
        outputs.write_json("metrics.json", {"new": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]  # no staging folder left
    assert (tmp_path / "metrics.json").read_text() == '{\n  "new": 1\n}\n'


@pytest.mark.backends
def test_device_line_names_keras_and_the_backend():
    line = runtime.setup_device()
    backend = runtime.keras.backend.backend()
    label = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}[backend]
    version = importlib.import_module(backend).__version__.split("+")[0]
    assert line.startswith("Training on ")
    assert f" | Keras {runtime.keras.__version__} on {label} {version}" in line
    if not startup.gpus():
        assert f"Training on CPU, {runtime.cpu_count()} cores | " in line
    assert runtime.backend() == {
        "name": backend,
        "version": f"{label} {version}",
        "keras": runtime.keras.__version__,
        "speed_changes": startup.speed_changes(),  # tests/test_speed_changes.py: which
    }


@pytest.mark.backends
def test_the_backend_is_read_as_keras_reads_it(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    assert choice.chosen() == "tensorflow"  # no setting: Keras' default
    (tmp_path / "keras.json").write_text('{"backend": "jax", "floatx": "float32"}')
    assert choice.chosen() == "jax" and choice.label() == "JAX"
    monkeypatch.setenv("KERAS_BACKEND", "torch")  # the environment wins, as in Keras
    assert choice.chosen() == "torch" and choice.package() == "torch"
    assert choice.install_hint().format("cnn") == (
        "`make cnn BACKEND=torch`, or activate .venv-torch (. .venv-torch/bin/activate), "
        "or pip install -r requirements-torch.txt"
    )


def test_argument_errors_are_one_line(capsys, tmp_path):
    parser = base_parser("demo", tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--verbose", "7"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: argument --verbose")


def test_step_timer_summary():
    timer = runtime.StepTimer()
    with timer.measure("fit"):
        pass
    assert set(timer.seconds) == {"fit"}
    assert timer.summary().startswith("Time: ") and "fit 0.0 s" in timer.summary()
