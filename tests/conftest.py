import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# scikit-learn's estimator checks include one that runs with array-API dispatch on (the
# KerasBinaryClassifier checks in test_sklearn_wrapper.py); SciPy reads this switch once, when
# it is first imported, so it is set here, before any test module imports scikit-learn.
# The scripts the tests start run without it, as a reader runs them (script_environment).
_SET_HERE = "SCIPY_ARRAY_API" not in os.environ
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pytest

from image_fixtures import make_image_folder
from tutorial_support.backends.choice import chosen, label

# Under JAX, every process of a test run (pytest's workers, the scripts and notebook kernels the
# tests start) shares one compilation cache, made for the run and removed after it: the tests
# build the same small networks again and again, and XLA compiles each afresh, which is most of
# JAX's test time on 2 cores. Only the compiling is saved; the compiled programs are the same.
if chosen() == "jax" and "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _JAX_CACHE = tempfile.mkdtemp(prefix="dlp-jax-cache-")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _JAX_CACHE  # the workers inherit it
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"  # the small programs too
    atexit.register(shutil.rmtree, _JAX_CACHE, ignore_errors=True)

ROOT = Path(__file__).resolve().parents[1]
ANN = ROOT / "1_artificial_neural_networks" / "ann.py"
# the quick run of ann.py that several test modules check (the notebook test runs the same settings)
QUICK_ANN = [
    "--epochs",
    "2",
    "--improved-epochs",
    "2",
    "--folds",
    "3",
    "--seed",
    "1",
    "--verbose",
    "0",
]


def script_environment(extra: dict | None = None) -> dict:
    """The environment for a script a test starts: this one, with ``extra`` on top."""
    environment = {**os.environ, **(extra or {})}
    if _SET_HERE:
        environment.pop("SCIPY_ARRAY_API", None)
    # Under pytest a Jupyter kernel stops showing what C++ code writes to stderr in the cell
    # outputs (ipykernel checks this variable); a reader's kernel shows it, so the tests must too.
    environment.pop("PYTEST_CURRENT_TEST", None)
    return environment


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data sets, read through DLP_DATA_DIR exactly as a reader would point at them."""
    folder = os.environ.get("DLP_DATA_DIR")
    if not folder or not (Path(folder) / "Churn_Modelling.csv").is_file():
        pytest.skip("set DLP_DATA_DIR to the folder holding the data sets (CI does)")
    return Path(folder).resolve()


def run_ann(*args, cwd=ROOT, env=None):
    return subprocess.run(
        [sys.executable, str(ANN), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=script_environment(env),
        timeout=600,
    )


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory, shared_data):
    """ann.py on the real data with few epochs and folds: its output folder (out / "a") and its
    result."""
    out = tmp_path_factory.mktemp("ann")
    result = run_ann(*QUICK_ANN, "--output-dir", out / "a", env={"DLP_DATA_DIR": str(shared_data)})
    assert result.returncode == 0, result.stderr
    return out, result


def assert_flag_error(parse, args: list[str], message: str, tmp_path: Path, capsys) -> None:
    """``parse(args)`` (a script's flags) exits with status 2 and one line holding ``message``,
    writing nothing."""
    with pytest.raises(SystemExit) as stopped:
        parse(args, default_output_dir=tmp_path / "out")
    assert stopped.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert not (tmp_path / "out").exists()


CNN = ROOT / "2_convolutional_neural_networks" / "cnn.py"
QUICK = [
    "--epochs",
    "2",
    "--image-size",
    "24",
    "--batch-size",
    "8",
    "--verbose",
    "0",
    "--mixed-precision",
    "off",
]


TRANSFER = ROOT / "2_convolutional_neural_networks" / "transfer_learning.py"


def run_cnn(*args, env=None, script=CNN):
    return subprocess.run(
        [sys.executable, str(script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        env=script_environment(env),
    )


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """cnn.py on tiny generated folders (with a corrupt, an empty and a text file): its base folder
    and result."""
    base = tmp_path_factory.mktemp("cnn")
    make_image_folder(base / "data" / "cats_and_dogs")
    result = run_cnn(
        "--data", base / "data", "--cache-dir", base / "cache", "--output-dir", base / "out", *QUICK
    )
    assert result.returncode == 0, result.stderr
    return base, result


@pytest.fixture(scope="session")
def driver_without_gpu(tmp_path_factory):
    """A stand-in NVIDIA driver whose cuInit fails, as on a machine with a driver but no usable GPU.

    TensorFlow then logs "failed call to cuInit" as an ERROR: the notebooks must not show it.
    """
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc to build the stand-in driver")
    folder = tmp_path_factory.mktemp("driver")
    source = folder / "cuda.c"
    source.write_text(
        "int cuInit(unsigned int flags) { return 303; }\nint cuDriverGetVersion(int *v) { *v = "
        "12000; return 0; }\n"
    )
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-o", str(folder / "libcuda.so.1"), str(source)], check=True
    )
    return folder


def pytest_collection_modifyitems(config, items):
    """Under JAX or PyTorch, the tests of what only TensorFlow does are skipped, saying why."""
    if chosen() != "tensorflow":
        skip = pytest.mark.skip(reason=f"needs TensorFlow (tf.distribute); Keras runs on {label()}")
        for item in items:
            if "tensorflow_only" in item.keywords:
                item.add_marker(skip)
