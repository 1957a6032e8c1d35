"""How long a Python takes to start the tutorial: `import ml_dtypes`, `import keras` (with its
backend) and `ann.py --help` (every import of chapter 1, then its flags), each in a fresh process,
the median of --repeats runs, the interpreters taken in turn so that they share the machine's
ups and downs. Every script, test and notebook kernel pays this once. Writes docs/measurements.md.

    python benchmarks/bench_startup.py                     # each backend's virtualenv there is
    python benchmarks/bench_startup.py --python OTHER/bin/python   # and another one beside them
"""

import argparse
import os
import statistics
import subprocess
import time
from pathlib import Path

from measurements import write_section

ROOT = Path(__file__).resolve().parents[1]
ANN = ROOT / "1_artificial_neural_networks" / "ann.py"
VENVS = (".venv", ".venv-jax", ".venv-torch")
# each timed in the child itself, from before the import to after it
TIMED_IMPORT = (
    "import time; began = time.perf_counter(); import {module}; print(time.perf_counter() - began)"
)
# the virtualenv's backend (the one of the three it has) and the versions that matter here
VERSIONS = """from importlib.metadata import PackageNotFoundError, version
def have(name):
    try:
        return version(name)
    except PackageNotFoundError:
        return None
backend = next(b for b in ("tensorflow", "jax", "torch") if have(b))
print(backend, version("keras"), version("ml_dtypes"), version("numpy"))"""


def seconds_of_import(python: str, module: str, env: dict) -> float:
    code = TIMED_IMPORT.format(module=module)
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(done.stdout.split()[-1])


def seconds_of_help(python: str, env: dict) -> float:
    """ann.py --help: the interpreter's start, all of chapter 1's imports, its flags."""
    began = time.perf_counter()
    subprocess.run([python, str(ANN), "--help"], capture_output=True, env=env, check=True)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", default=[], help="another interpreter")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    found = [ROOT / venv / "bin" / "python" for venv in VENVS]
    if args.repeats < 1:
        parser.error(f"--repeats: at least 1, got {args.repeats}")
    missing = [python for python in args.python if not os.access(python, os.X_OK)]
    if missing:
        parser.error(f"--python {missing[0]}: no such interpreter; give a virtualenv's bin/python")
    pythons = [str(p) for p in found if p.exists()] + args.python
    versions = {
        python: subprocess.run(
            [python, "-c", VERSIONS], capture_output=True, text=True, check=True
        ).stdout.split()
        for python in pythons
    }  # python: [backend, keras, ml_dtypes, numpy]
    environment = {**os.environ, "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "3"}
    times: dict[str, dict[str, list[float]]] = {p: {} for p in pythons}
    for _ in range(args.repeats):  # the interpreters in turn, each measure in turn
        for python in pythons:
            env = {**environment, "KERAS_BACKEND": versions[python][0]}
            measured = times[python]
            for module in ("ml_dtypes", "keras"):
                measured.setdefault(module, []).append(seconds_of_import(python, module, env))
            measured.setdefault("help", []).append(seconds_of_help(python, env))
    lines = [
        f"Each figure is the median of {args.repeats} fresh processes; the interpreters were "
        "taken in turn.",
        "",
        "| virtualenv | backend | Keras | ml_dtypes | NumPy | `import ml_dtypes` | "
        "`import keras` | `ann.py --help` |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for python in pythons:
        venv = Path(python).parents[1]
        name = venv.relative_to(ROOT) if venv.is_relative_to(ROOT) else venv
        medians = [statistics.median(times[python][k]) for k in ("ml_dtypes", "keras", "help")]
        row = " | ".join([str(name), *versions[python], *(f"{m:.2f} s" for m in medians)])
        lines.append(f"| {row} |")
    print("\n".join(lines))
    write_section("startup", "Starting Python: the imports every run pays", lines)


if __name__ == "__main__":
    main()
