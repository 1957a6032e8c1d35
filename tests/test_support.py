"""Shared machinery: staged outputs, the device line, one-line argument errors."""

import pytest

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


def test_device_line():
    line = runtime.setup_device()
    assert line.startswith("Training on ")
    assert f"TensorFlow {runtime.tf.__version__}, Keras {runtime.keras.__version__}" in line
    if not runtime.tf.config.list_physical_devices("GPU"):
        assert f"CPU, {runtime.cpu_count()} cores" in line


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
