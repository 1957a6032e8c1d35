"""make newest: what the newest releases of Keras, JAX and PyTorch would do to the tutorial, before
the lock moves to them.

For JAX and PyTorch (or those named), a throwaway virtualenv gets the backend's lock, then the
newest release on the package index of Keras and of the backend (or the versions given). In it:
which of the speed changes would turn off (against the locked virtualenv, .venv-jax or
.venv-torch): by the version check, as the lock stands, and by their own checks, tried with the
versions installed counted as tested (DLP_TRY_NEWEST=1, backends/tested.py). Then, tried so, the
speed layer's tests (test_speed_changes.py, test_patches.py, test_fused_epochs.py) and a short run
of chapter 1 beside the locked one, one after the other.

    python3 tools/newest.py                       # JAX and PyTorch, the newest releases
    python3 tools/newest.py --backends jax        # one of them
    python3 tools/newest.py --torch 2.14.1        # a version of one's choosing
    python3 tools/newest.py --keep                # keep the virtualenvs (printed) to look into
    python3 tools/newest.py --python python3.12   # another Python (JAX 0.11 and newer need 3.12)

Where a newer release keeps every speed change and passes the tests, move its pin in
tutorial_support/backends/tested.py and the ranges in requirements*.in together, then make lock.
"""

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"jax": ["jax", "jaxlib"], "torch": ["torch"]}
TESTS = ["tests/test_speed_changes.py", "tests/test_patches.py", "tests/test_fused_epochs.py"]
SHORT_RUN = ["--epochs", "5", "--folds", "2", "--improved-epochs", "2", "--verbose", "0"]
SPEED = "from tutorial_support.backends import startup; print(*startup.speed_changes(), sep='\\n')"


def run(command, **options) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, **options)


def environment(backend: str, trying: bool = False) -> dict:
    """``trying``: the versions installed count as tested (backends/tested.py), so each speed change
    is tried for real rather than turned off by the version check."""
    return {
        **os.environ,
        "KERAS_BACKEND": backend,
        "MPLBACKEND": "Agg",
        "DLP_TRY_NEWEST": "1" if trying else "",
    }


def versions(python: Path, backend: str) -> str:
    names = ["keras", *PACKAGES[backend]]
    code = "from importlib.metadata import version as v; print(', '.join(f'{n} {v(n)}' for n in "
    return run([str(python), "-c", f"{code}{names!r}))"]).stdout.strip()


def speed_changes(python: Path, backend: str, trying: bool = False) -> list[str]:
    result = run([str(python), "-c", SPEED], env=environment(backend, trying), cwd=ROOT)
    return result.stdout.strip().splitlines() if result.returncode == 0 else [result.stderr]


def short_run(python: Path, backend: str, folder: Path, trying: bool) -> str:
    began = time.perf_counter()
    script = ROOT / "1_artificial_neural_networks" / "ann.py"
    result = run(
        [str(python), str(script), *SHORT_RUN, "--output-dir", str(folder)],
        env=environment(backend, trying),
    )
    if result.returncode:
        return f"failed: {(result.stderr.strip().splitlines() or ['?'])[-1]}"
    return f"{time.perf_counter() - began:.1f} s"


def newest(backend: str, pins: dict, keep: bool, interpreter: str | None) -> None:
    locked = ROOT / f".venv-{backend}" / "bin" / "python"
    if not locked.exists():
        print(f"{backend}: no .venv-{backend} to compare with: make venv BACKEND={backend} first")
        return
    folder = Path(tempfile.mkdtemp(prefix=f"newest-{backend}-"))
    venv = folder / "venv"
    python = venv / "bin" / "python"
    print(f"\n=== {backend}: a throwaway virtualenv in {venv}", flush=True)
    # the lock, installed as make installs it (tools/make_venv.sh: uv, with PIP_FIND_LINKS passed
    # on), with the Python asked for; then the newest releases over it, by the same uv
    chosen = {"BACKEND": backend, **({"PYTHON": interpreter} if interpreter else {})}
    make_venv = ["sh", str(ROOT / "tools" / "make_venv.sh"), str(venv), str(venv / ".installed")]
    installed = run(make_venv, cwd=ROOT, env={**os.environ, **chosen})
    wanted = [f"{name}=={pins[name]}" if name in pins else name for name in PACKAGES[backend]]
    uv = [str(python), "-m", "uv", "pip", "install", "--quiet", "--compile-bytecode"]
    uv += ["--python", str(python), "--upgrade", "keras", *wanted]
    upgrade = run(uv, cwd=ROOT) if not installed.returncode else installed
    if upgrade.returncode:
        print(f"could not install: {(upgrade.stderr or upgrade.stdout).strip()[-600:]}")
    else:
        print(f"locked: {versions(locked, backend)}\nnewest: {versions(python, backend)}")
        before, after = speed_changes(locked, backend), speed_changes(python, backend)
        tried = speed_changes(python, backend, trying=True)
        print(f"speed changes: {len(before)} locked, {len(after)} newest as the lock stands")
        for change in (change for change in before if change not in after):
            print(f"  would turn off (the version check): {change}")
        print(f"tried on the newest (DLP_TRY_NEWEST=1): {len(tried)} of {len(before)}")
        for change in (change for change in before if change not in tried):
            print(f"  would turn off (its own check): {change}")
        # the check that the locks agree with tested.py is the lock's own business, not this one's
        command = [str(python), "-m", "pytest", "-m", "backends", "-q", "-n", "0", *TESTS]
        command += ["-k", "not test_the_requirements_admit_only"]
        tests = run(command, env=environment(backend, trying=True), cwd=ROOT)
        failed = [line for line in tests.stdout.splitlines() if line.startswith("FAILED")]
        print(f"the speed layer's tests, tried: {tests.stdout.strip().splitlines()[-1:]}")
        for line in failed:
            print(f"  {line}")
        for label, interpreter in (("locked", locked), ("newest, tried", python)):
            print(f"chapter 1, a short run ({' '.join(SHORT_RUN)}), {label}: ", end="", flush=True)
            print(short_run(interpreter, backend, folder / label, trying=label != "locked"))
    if keep:
        print(f"kept: {venv}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", choices=sorted(PACKAGES), default=["jax", "torch"])
    parser.add_argument("--torch", help="a torch version instead of the newest")
    parser.add_argument("--jax", help="a jax (and jaxlib) version instead of the newest")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway virtualenvs")
    parser.add_argument(
        "--python", help="the throwaway virtualenvs' Python (JAX 0.11 and newer need 3.12)"
    )
    args = parser.parse_args()
    pins = {"torch": args.torch, "jax": args.jax, "jaxlib": args.jax}
    for backend in args.backends:
        newest(backend, {k: v for k, v in pins.items() if v}, args.keep, args.python)


if __name__ == "__main__":
    main()
