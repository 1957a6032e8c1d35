"""The two commands on the Python a learner has: make's choice of interpreter, and one line when
nothing is installed.

Stand-in interpreters on a temporary PATH play the Pythons a machine may have; they only
answer the version question tools/make_venv.sh asks, so these tests need no network.
"""

import os
import subprocess
import sys

import pytest

from conftest import ROOT

MAKE_VENV = ROOT / "tools" / "make_venv.sh"


def stand_in(folder, name, version=None, exit_status=0):
    """An executable ``name`` in ``folder`` that prints ``version`` (a Python's answer) and
    exits."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\n{'echo ' + version if version else ':'}\nexit {exit_status}\n")
    path.chmod(0o755)
    return path


def choose(tmp_path, *args, python=None):
    environment = {"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path)}  # only the stand-ins
    if python is not None:
        environment["PYTHON"] = str(python)
    return subprocess.run(
        ["/bin/sh", str(MAKE_VENV), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=60,
    )


def test_only_an_unsupported_python_gives_a_short_message(tmp_path):
    stand_in(tmp_path / "bin", "python3", "3.14")
    result = choose(tmp_path, "--check", str(tmp_path / ".venv"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert (
        lines[0]
        == "No Python that TensorFlow 2.21 supports (3.11-3.13) was found; python3 is Python 3.14."
    )
    for way in (
        "uv python install 3.13",
        "package manager",
        "python.org",
        "make ann PYTHON=/path/to/python3.13",
    ):
        assert way in result.stderr
    assert len(lines) <= 7 and "Traceback" not in result.stderr and "ERROR" not in result.stderr
    assert not (tmp_path / ".venv").exists()


def test_python_3_14_alone_is_offered_to_jax_and_pytorch(tmp_path):
    """TensorFlow has no Python 3.14: make says which backends have, and they take it."""
    stand_in(tmp_path / "bin", "python3", "3.14")
    refused = choose(tmp_path, "--check", str(tmp_path / ".venv"))
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[1] == (
        "JAX and PyTorch support Python 3.14: make ann BACKEND=jax (or BACKEND=torch) uses it."
    )
    for backend, supports in (("jax", "JAX 0.10 supports 3.11-3.14"), ("torch", "3.11-3.14")):
        environment = {"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path), "BACKEND": backend}
        chosen = subprocess.run(
            ["/bin/sh", str(MAKE_VENV), "--check", str(tmp_path / f".venv-{backend}")],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=environment,
            timeout=60,
        )
        assert chosen.returncode == 0, chosen.stderr
        assert chosen.stderr.startswith(f"Python 3.14 ({tmp_path / 'bin' / 'python3'}); ")
        assert supports in chosen.stderr


def test_a_supported_python_beside_an_unsupported_python3_is_chosen(tmp_path):
    stand_in(tmp_path / "bin", "python3", "3.14")
    eleven = stand_in(tmp_path / "bin", "python3.11", "3.11")
    # a pyenv shim for a version not installed
    stand_in(tmp_path / "bin", "python3.13", exit_status=127)
    result = choose(tmp_path, "--check", str(tmp_path / ".venv"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"Python 3.11 ({eleven}); TensorFlow 2.21 supports 3.11-3.13"


def test_python_given_wins_and_is_checked(tmp_path):
    stand_in(tmp_path / "bin", "python3.11", "3.11")
    twelve = stand_in(tmp_path / "elsewhere", "python", "3.12")
    result = choose(tmp_path, "--check", str(tmp_path / ".venv"), python=twelve)
    assert result.returncode == 0 and f"Python 3.12 ({twelve})" in result.stderr
    newer = stand_in(tmp_path / "elsewhere", "python3.14", "3.14")
    result = choose(tmp_path, "--check", str(tmp_path / ".venv"), python=newer)
    assert result.returncode == 2 and f"PYTHON={newer} is Python 3.14" in result.stderr


def test_an_existing_venv_with_an_unsupported_python_is_noticed(tmp_path):
    stand_in(tmp_path / "bin", "python3.11", "3.11")
    stand_in(tmp_path / ".venv" / "bin", "python", "3.14")
    result = choose(tmp_path, "--check", str(tmp_path / ".venv"))
    assert result.returncode == 2
    assert (
        ".venv was made with Python 3.14, which TensorFlow 2.21 does not support (3.11-3.13)"
        in result.stderr
    )
    assert "make clean" in result.stderr


def test_uv_that_cannot_fetch_ends_in_the_short_message_and_leaves_no_venv(tmp_path):
    stand_in(tmp_path / "bin", "python3", "3.14")
    (tmp_path / "bin" / "rm").symlink_to("/bin/rm")
    uv = tmp_path / "bin" / "uv"  # makes the folder, then fails, as an offline download does
    uv.write_text(
        '#!/bin/sh\nmkdir -p "$5/bin"\necho "error: failed to download Python 3.13" >&2\nexit 1\n'
    )
    uv.chmod(0o755)
    result = choose(tmp_path, str(tmp_path / ".venv"), str(tmp_path / ".venv" / ".installed"))
    assert result.returncode == 2
    assert (
        "fetching Python 3.13 with uv" in result.stderr
        and "uv could not fetch Python 3.13" in result.stderr
    )
    assert "make ann PYTHON=/path/to/python3.13" in result.stderr
    assert not (tmp_path / ".venv").exists()


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory):
    """A Python with none of the tutorial's packages, as outside the virtualenv."""
    folder = tmp_path_factory.mktemp("bare")
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(folder / "venv")], check=True
    )
    return folder


@pytest.mark.parametrize(
    "script, extra_path, missing",
    [
        ("1_artificial_neural_networks/ann.py", [], "tutorial_support"),
        ("2_convolutional_neural_networks/cnn.py", [], "tutorial_support"),
        ("1_artificial_neural_networks/ann.py", ["ROOT"], "tensorflow"),
        ("1_artificial_neural_networks/ann.py", ["ROOT", "STUBS"], "sklearn"),
    ],
)
def test_not_installed_gives_one_line(bare_python, script, extra_path, missing):
    # stand-ins for TensorFlow and Keras, so that scikit-learn is what is missing
    stubs = bare_python / "stubs"
    for name in ("tensorflow", "keras"):
        (stubs / name).mkdir(parents=True, exist_ok=True)
        (stubs / name / "__init__.py").write_text("")
    python = bare_python / "venv" / "bin" / "python"
    paths = [str(ROOT) if p == "ROOT" else str(stubs) for p in extra_path]
    environment = {"PATH": os.environ["PATH"], "PYTHONPATH": os.pathsep.join(paths)}
    result = subprocess.run(
        [str(python), str(ROOT / script)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    assert result.returncode == 2
    target = "ann" if "ann" in script else "cnn"
    if missing == "tutorial_support":  # the package that would say which backend is not there
        fix = f"`make {target}`, or pip install -r requirements.txt"
    else:
        fix = (
            f"`make {target}`, or activate .venv (. .venv/bin/activate), "
            "or pip install -r requirements.txt"
        )
    assert result.stderr.strip() == f"error: {python} has no {missing}: run {fix}"


def test_python_3_10_is_refused_since_keras_3_15_needs_3_11(tmp_path):
    stand_in(tmp_path / "bin", "python3", "3.10")
    for backend in ("tensorflow", "jax", "torch"):
        environment = {"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path), "BACKEND": backend}
        result = subprocess.run(
            ["/bin/sh", str(MAKE_VENV), "--check", str(tmp_path / ".venv")],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=environment,
            timeout=60,
        )
        assert result.returncode == 2, (backend, result.stderr)
        assert "python3 is Python 3.10" in result.stderr.splitlines()[0]
