"""Both scripts opened as notebooks (jupytext) and run cell by cell in a real IPython kernel (nbclient)."""

import json
import re
import shutil
import subprocess

import jupytext
import nbclient
import pytest

from conftest import QUICK, QUICK_ANN, ROOT, script_environment

ANN = ROOT / "1_artificial_neural_networks" / "ann.py"
CNN = ROOT / "2_convolutional_neural_networks" / "cnn.py"

# TensorFlow's and absl's log lines ("E0000 00:00:1795724905.804071 6884 cuda_platform.cc:52] ...",
# "WARNING: All log messages before absl::InitializeLog() ...") and Python warnings
LOG_LINE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d|absl::|^WARNING:|Warning:|tensorflow/|cuInit", re.MULTILINE)


@pytest.fixture(scope="module")
def driver_without_gpu(tmp_path_factory):
    """A stand-in NVIDIA driver whose cuInit fails, as on a machine with a driver but no usable GPU.

    TensorFlow then logs "failed call to cuInit" as an ERROR: the notebooks must not show it.
    """
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc to build the stand-in driver")
    folder = tmp_path_factory.mktemp("driver")
    source = folder / "cuda.c"
    source.write_text("int cuInit(unsigned int flags) { return 303; }\nint cuDriverGetVersion(int *v) { *v = 12000; return 0; }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(folder / "libcuda.so.1"), str(source)], check=True)
    return folder


def run_as_notebook(script, folder, settings: str, env: dict):
    """Execute every cell of ``script`` as a notebook in ``folder``; return the executed notebook."""
    notebook = jupytext.read(script)
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    settings_cell = next(cell for cell in cells if cell.source.lstrip().startswith("# %% Settings") or "SETTINGS = " in cell.source)
    settings_cell.source = settings_cell.source.replace('SETTINGS = ""', f"SETTINGS = {settings!r}", 1)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    client.execute(env=script_environment(env))  # raises CellExecutionError on any failing cell
    return notebook


def outputs_text(notebook) -> str:
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                texts.append(output["text"])
            elif output.get("output_type") in ("execute_result", "display_data"):
                texts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(texts)


def stderr_text(notebook) -> str:
    return "".join(
        output["text"]
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    )


def test_ann_runs_as_a_notebook_with_the_same_figures_as_the_script(tmp_path, quick_run, shared_data, driver_without_gpu):
    """The notebook, run from another folder, prints and saves what the script did at the same seed (its
    settings cell also fixes the threshold)."""
    notebook = run_as_notebook(
        ANN, tmp_path, settings=" ".join(QUICK_ANN) + " --threshold 0.25", env={
            "DLP_DATA_DIR": str(shared_data), "LD_LIBRARY_PATH": str(driver_without_gpu), "TF_CPP_MIN_LOG_LEVEL": "2",
        },
    )  # fmt: skip
    text = outputs_text(notebook)
    assert not LOG_LINE.search(text), LOG_LINE.search(text).group(0)
    assert stderr_text(notebook) == ""
    assert "Training on CPU" in text and "=== Step 17: can the probabilities be taken at their word ===" in text
    ours = json.loads((tmp_path / "outputs" / "metrics.json").read_text())  # beside the notebook
    script_out, _ = quick_run
    theirs = json.loads((script_out / "a" / "metrics.json").read_text())
    assert ours["config"]["epochs"] == 2 and ours["config"]["folds"] == 3  # the settings cell's
    for key in ("test", "cv", "cv_dropout", "new_customer", "baselines", "improved", "feature_importance", "calibration"):
        assert ours[key] == theirs[key], key
    # a threshold fixed in the settings cell
    assert (ours["threshold"]["value"], ours["threshold"]["chosen_on"], ours["threshold"]["rule"]) == (0.25, "given", "fixed")
    assert "threshold 0.250: given with --threshold" in text


def test_cnn_runs_as_a_notebook_with_the_same_figures_as_the_script(tmp_path, tiny_run, driver_without_gpu):
    """The notebook, on the script's images and image cache, trains the same network (and logs for TensorBoard)."""
    base, first = tiny_run
    assert "from the cache" not in first.stdout
    logs = tmp_path / "logs"
    settings = f"--data {base / 'data'} --cache-dir {base / 'cache'} --tensorboard {logs} " + " ".join(QUICK)
    notebook = run_as_notebook(
        CNN, tmp_path, settings=settings,
        env={"LD_LIBRARY_PATH": str(driver_without_gpu), "TF_CPP_MIN_LOG_LEVEL": "2"},
    )  # fmt: skip
    text = outputs_text(notebook)
    assert not LOG_LINE.search(text), LOG_LINE.search(text).group(0)
    assert stderr_text(notebook) == ""
    assert "Step 5: fit the CNN (2 epochs, batch size 8)" in text
    assert "training_set: 32 images (16 cats, 16 dogs) from the cache" in text  # decoded by the script's run
    ours = json.loads((tmp_path / "outputs" / "metrics.json").read_text())  # beside the notebook
    theirs = json.loads((base / "out" / "metrics.json").read_text())
    assert ours["config"]["epochs"] == 2 and ours["config"]["image_size"] == 24
    assert ours["history"] == theirs["history"] and ours["test"] == theirs["test"]  # same seed, same figures
    for part in ("train", "validation"):  # TensorBoard's event files, for every epoch's scalars
        events = list((logs / part).glob("events.out.tfevents.*"))
        assert len(events) == 1 and events[0].stat().st_size > 0


def test_settings_cell_and_command_line_add_up(monkeypatch):
    from tutorial_support import cli

    monkeypatch.setattr("sys.argv", ["ann.py", "--epochs", "7"])
    assert cli.command_line("--epochs 3 --folds 5") == ["--epochs", "3", "--folds", "5", "--epochs", "7"]  # the last wins
    assert not cli.in_notebook()  # pytest has imported jupyter's client, but this is no kernel
    monkeypatch.setattr(cli, "in_notebook", lambda: True)
    assert cli.command_line("--epochs 3") == ["--epochs", "3"]  # the kernel's own argv is ignored
