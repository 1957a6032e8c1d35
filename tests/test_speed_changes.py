"""The speed layer in sight: every change the tutorial makes to Keras or its runtime is named in
metrics.json and counted on the device line, and DLP_PLAIN_KERAS=1 runs plain Keras on every
backend, with the same figures within their spread."""

import json

import pytest

from churn_fixtures import churn_table
from conftest import QUICK, run_ann, run_cnn
from image_fixtures import make_image_folder
from tutorial_support.ann import churn
from tutorial_support.backends import startup
from tutorial_support.backends.choice import chosen
from tutorial_support.common import runtime

pytestmark = pytest.mark.backends
PLAIN = {"DLP_PLAIN_KERAS": "1"}


def test_every_speed_change_in_effect_is_named_and_counted():
    changes = startup.speed_changes()
    patches = [f"patch: Keras' {name}" for name in startup.PATCHES]
    fused = []  # PyTorch's fused epoch, where the torch and Keras installed are those it fits
    if chosen() == "torch":
        from tutorial_support.backends import torch_private

        if torch_private.unavailable() is None:
            fused = ["fused epoch: chapter 1's stacked networks (backends/fused.py)"]
    expected = {
        "tensorflow": [],
        "jax": [f"XLA_FLAGS={startup.YNNPACK_DOTS}", *patches],
        "torch": [*patches, *fused, "glibc malloc keeps freed blocks of up to 32 MiB (mallopt)"],
    }[chosen()]
    assert changes == expected
    assert runtime.backend()["speed_changes"] == changes
    line = runtime.setup_device()
    if changes:
        assert line.endswith(
            f" | {len(changes)} speed changes to Keras (metrics.json names them; "
            "DLP_PLAIN_KERAS=1 turns them off)"
        )
    else:
        assert "speed change" not in line


def test_the_switch_turns_every_change_off(monkeypatch):
    """DLP_PLAIN_KERAS=1 (read when the backend starts): no patch, no XLA flag, no malloc setting,
    no fused epoch, and the device line says so; 0 or nothing leaves them on."""
    from tutorial_support.backends import choice, patches

    for value, plain in (("1", True), ("yes", True), ("0", False), ("", False)):
        monkeypatch.setenv("DLP_PLAIN_KERAS", value)
        assert choice.plain_keras() is plain
    monkeypatch.setenv("DLP_PLAIN_KERAS", "1")
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    assert patches.apply() == []
    assert not startup._xla_cpu_uses_ynnpack() and not startup._keep_freed_memory()
    assert startup.speed_line() == "plain Keras (DLP_PLAIN_KERAS=1: no speed changes)"
    if chosen() == "torch":
        from tutorial_support.backends import torch_private

        torch_private.unavailable.cache_clear()
        torch_private.fused_adam_unavailable.cache_clear()
        try:
            assert torch_private.unavailable() == "DLP_PLAIN_KERAS=1"
        finally:
            torch_private.unavailable.cache_clear()
            torch_private.fused_adam_unavailable.cache_clear()


def test_the_fused_epoch_falls_back_to_keras_with_one_line_where_it_does_not_fit(
    monkeypatch, capsys
):
    """A torch or Keras it was not tested on, or a private attribute gone: Keras' own steps, said
    once."""
    if chosen() != "torch":
        pytest.skip("PyTorch's fused epoch (make test BACKEND=torch)")
    from tutorial_support.backends import fused, torch_private

    if torch_private.unavailable() is not None:
        pytest.skip(f"the fused epoch is off here already ({torch_private.unavailable()})")
    torch_private.unavailable.cache_clear()
    torch_private.fused_adam_unavailable.cache_clear()
    monkeypatch.setattr(torch_private, "TESTED_TORCH", ("1.0.",))
    try:
        reason = torch_private.unavailable()
        assert reason.startswith("torch 2.") and "not the 1.0.x it was tested on" in reason
        model = runtime.keras.Sequential([runtime.keras.Input((3,))])
        assert (
            fused.fused_epoch(model, runtime.keras.optimizers.Adam(), [[0.0]], [0.0], False) is None
        )
        assert (
            fused.fused_epoch(model, runtime.keras.optimizers.Adam(), [[0.0]], [0.0], False) is None
        )
        # nor does the Adam patch call torch's fused kernel there
        from tutorial_support.backends import torch_patches

        assert "_parallel_update_step" not in [name for _, name, *_ in torch_patches.patches()]
    finally:
        torch_private.unavailable.cache_clear()
        torch_private.fused_adam_unavailable.cache_clear()
        torch_private.off.cache_clear()
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        f"PyTorch's fused epoch is off ({reason}): Keras' own training steps instead"
    ]


needs_a_change = pytest.mark.skipif(
    chosen() == "tensorflow",
    reason="TensorFlow runs plain Keras already: no change to switch off (the tests above)",
)


def plain_run(result, out):
    assert result.returncode == 0, result.stderr
    assert "plain Keras (DLP_PLAIN_KERAS=1: no speed changes)" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["backend"]["speed_changes"] == []
    return metrics


@needs_a_change
def test_plain_keras_runs_chapter_1_without_any_change(tmp_path):
    """On a small generated bank table (the real one's columns and checks), briefly."""
    table = tmp_path / churn.FILE
    churn_table(400).to_csv(table, index=False)
    out = tmp_path / "ann"
    flags = ["--epochs", "1", "--improved-epochs", "1", "--folds", "2", "--verbose", "0"]
    result = run_ann("--data", table, *flags, "--output-dir", out, env=PLAIN)
    metrics = plain_run(result, out)
    assert len(metrics["cv"]["scores"]) == 2 and 0 <= metrics["test"]["accuracy"] <= 1


@needs_a_change
def test_plain_keras_runs_chapter_2_without_any_change(tmp_path):
    make_image_folder(tmp_path / "data" / "cats_and_dogs")
    out = tmp_path / "cnn"
    flags = ["--data", tmp_path / "data", "--cache-dir", tmp_path / "cache", *QUICK]
    result = run_cnn(*flags, "--output-dir", out, env=PLAIN)
    assert plain_run(result, out)["test"]["confusion_matrix"]


def test_the_speed_layers_modules_import_in_any_order():
    """torch_private first, then the fused epoch: no import cycle through startup.py (which
    imports the patches, which import torch_private)."""
    import subprocess
    import sys

    from conftest import script_environment

    if chosen() != "torch":
        pytest.skip("PyTorch's modules (make test BACKEND=torch)")
    code = (
        "from tutorial_support.backends import torch_private\n"
        "from tutorial_support.backends import fused, epochs\n"
        "print(torch_private.unavailable())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=script_environment()
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"


def test_make_newest_alone_counts_the_installed_versions_as_tested(monkeypatch):
    """DLP_TRY_NEWEST=1 (tools/newest.py) adds the installed Keras to the tested ones; unset, a
    reader's run keeps to tested.py's own."""
    import importlib
    from importlib import metadata

    from tutorial_support.backends import tested

    try:
        monkeypatch.setenv("DLP_TRY_NEWEST", "1")
        tried = importlib.reload(tested)
        assert tried.KERAS == ("3.15.", metadata.version("keras"))
        monkeypatch.setenv("DLP_TRY_NEWEST", "")
        assert importlib.reload(tested).KERAS == ("3.15.",)
    finally:
        monkeypatch.delenv("DLP_TRY_NEWEST")
        importlib.reload(tested)


def test_the_requirements_admit_only_the_versions_the_speed_layer_was_tested_on():
    """backends/tested.py is the one place: each intent's range (requirements*.in) and each lock
    (requirements*.txt, what make installs) agree with it."""
    import re

    from conftest import ROOT
    from tutorial_support.backends import tested

    checked = {
        "keras": (
            ["requirements.txt", "requirements-jax.txt", "requirements-torch.txt"],
            tested.KERAS,
        ),
        "jax": (["requirements-jax.txt"], tested.JAXLIB),
        "jaxlib": (["requirements-jax.txt"], tested.JAXLIB),
        "torch": (["requirements-torch.txt"], tested.TORCH),
    }
    for package, (locks, versions) in checked.items():
        (minor,) = versions  # "2.13."
        for lock in locks:
            pins = re.findall(rf"^{package}==([\d.]+)", (ROOT / lock).read_text(), re.M)
            assert pins and all(pin.startswith(minor) for pin in pins), (lock, package, pins)
    for package, intent in (("keras", "common"), ("jax", "jax"), ("torch", "torch")):
        (minor,) = checked[package][1]
        text = (ROOT / f"requirements-{intent}.in").read_text()
        line = re.search(rf"^{package}([<>=~!,.\d]+)", text, re.M)
        assert line and line.group(1) == f">={minor.rstrip('.')},<{_next_minor(minor)}", intent


def _next_minor(version: str) -> str:
    major, minor = version.rstrip(".").split(".")
    return f"{major}.{int(minor) + 1}"
