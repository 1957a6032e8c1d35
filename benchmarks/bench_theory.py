"""The theory lessons on each Keras backend: how_ann_learns.py and how_cnn_sees.py with their
defaults, from warm caches (the photos decoded once before), each backend in its own virtualenv
(.venv, .venv-jax, .venv-torch: make venv BACKEND=...). Writes docs/measurements.md: each run's
wall time and its largest differences from Keras.

    python benchmarks/bench_theory.py            # every backend whose venv exists
    python benchmarks/bench_theory.py --model    # how_cnn_sees.py on cnn.py's saved network
                                                 # (make cnn first), not a brief training

Without --model, how_cnn_sees.py finds no saved network (it is pointed at none) and trains the
course's network for one epoch, as it does in a fresh clone.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measurements import write_section

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = {"tensorflow": ("TensorFlow", ".venv"), "jax": ("JAX", ".venv-jax")}
BACKENDS["torch"] = ("PyTorch", ".venv-torch")
LESSONS = {
    "how_ann_learns.py": ROOT / "1_artificial_neural_networks" / "how_ann_learns.py",
    "how_cnn_sees.py": ROOT / "2_convolutional_neural_networks" / "how_cnn_sees.py",
}


def run(backend: str, script: Path, *flags: str) -> tuple[float, dict, str]:
    """Wall seconds, checks.json's largest differences and the network line of one run."""
    python = ROOT / BACKENDS[backend][1] / "bin" / "python"
    with tempfile.TemporaryDirectory() as out:
        began = time.perf_counter()
        result = subprocess.run(
            [str(python), str(script), "--output-dir", out, *flags],
            capture_output=True,
            text=True,
            env={**os.environ, "KERAS_BACKEND": backend, "MPLBACKEND": "Agg"},
        )
        wall = time.perf_counter() - began
        if result.returncode:
            sys.exit(f"{script.name} on {backend} failed:\n{result.stderr}")
        checks = json.loads((Path(out) / "checks.json").read_text())
        figures = len(list(Path(out).glob("*.png")))
    return wall, checks, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="store_true", help="cnn.py's saved network")
    args = parser.parse_args()
    present = [b for b in BACKENDS if (ROOT / BACKENDS[b][1] / "bin" / "python").exists()]
    cnn_flags = [] if args.model else ["--model", str(ROOT / "no-saved-model.keras")]
    for backend in present:  # the photos decoded into the cache, untimed
        run(backend, LESSONS["how_cnn_sees.py"], *cnn_flags, "--epochs", "0")
    lines = [
        "| lesson | backend | wall | figures | largest difference from Keras (which check) |",
        "|---|---|---|---|---|",
    ]
    walls = {}
    for name, script in LESSONS.items():
        for backend in present:
            flags = cnn_flags if name == "how_cnn_sees.py" else []
            wall, checks, figures = run(backend, script, *flags)
            walls[name, backend] = wall
            largest = max(checks["largest_differences"].items(), key=lambda item: item[1])
            line = f"{name} {BACKENDS[backend][0]}: {wall:.1f} s, largest difference {largest}"
            print(line, flush=True)
            lines.append(
                f"| {name} | {BACKENDS[backend][0]} | {wall:.1f} s | {figures} | "
                f"{largest[1]:.1e} ({largest[0]}) |"
            )
            if "network" in checks:
                network = checks["network"].split(": ")[-1]
    lines += ["", f"how_cnn_sees.py looked at {network}."]
    write_section("theory", "The theory lessons on each Keras backend (warm caches)", lines)


if __name__ == "__main__":
    main()
