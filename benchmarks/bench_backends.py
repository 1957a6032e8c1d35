"""Backend benchmark: both chapters' default runs on Keras' TensorFlow, JAX and PyTorch backends,
in one run, each backend in its own virtualenv (.venv, .venv-jax, .venv-torch: make venv
BACKEND=...). Writes docs/measurements.md.

    python benchmarks/bench_backends.py                   # every backend whose venv exists
    python benchmarks/bench_backends.py --torch-seeds 5   # chapter 1 on seeds 0-4 on PyTorch too
    python benchmarks/bench_backends.py --cnn-epochs 25:25:25   # chapter 2's epochs per backend
    python benchmarks/bench_backends.py --install-only    # only what each backend installs
    python benchmarks/bench_backends.py --chapter 1       # only chapter 1 (or 2)
    python benchmarks/bench_backends.py --no-install      # both chapters, not the sizes on disk
    python benchmarks/bench_backends.py --plain           # chapter 1 with and without the speed
                                                          # changes (DLP_PLAIN_KERAS=1)
    python benchmarks/bench_backends.py --chapter pretrained   # transfer_learning.py, cold caches
    python benchmarks/bench_backends.py --chapter pretrained --fine-tune-epochs 1   # and fine-tuned

Chapter 1 is ann.py's default run; chapter 2 is cnn.py with the tutorial network; the pretrained
lesson is transfer_learning.py's default run from cold caches (a new Keras cache and image cache:
the photos decoded, the weights converted, the base's features computed). PyTorch steps
eagerly (backends/epochs.py), which makes its runs long on a CPU: --torch-seeds sets how many
seeds it gets. Also measured: each virtualenv's size on disk, and the download of PyPI's
Linux torch wheel (the CUDA build, with its NVIDIA wheels) where this machine's pip can see it.
"""

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import confusion_metrics
from measurements import percent, write_section

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = {  # name -> (label, virtualenv)
    "tensorflow": ("TensorFlow", ROOT / ".venv"),
    "jax": ("JAX", ROOT / ".venv-jax"),
    "torch": ("PyTorch", ROOT / ".venv-torch"),
}


def run(backend: str, script: str, *flags: str, env: dict | None = None) -> tuple[float, dict]:
    """Wall seconds and metrics.json of one run of ``script`` on ``backend``; the metrics gain
    "peak_memory_mb", the run's peak resident memory."""
    python = BACKENDS[backend][1] / "bin" / "python"
    with tempfile.TemporaryDirectory() as out:
        began = time.perf_counter()
        process = subprocess.Popen(
            [str(python), str(ROOT / script), "--verbose", "0", "--output-dir", out, *flags],
            stdout=subprocess.DEVNULL,
            env={**os.environ, "KERAS_BACKEND": backend, **(env or {})},
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - began
        if os.waitstatus_to_exitcode(status):  # the script has printed its one-line error
            sys.exit(os.waitstatus_to_exitcode(status))
        metrics = json.loads((Path(out) / "metrics.json").read_text())
        metrics["peak_memory_mb"] = usage.ru_maxrss / 1024
        predictions = Path(out) / "test_predictions.csv"
        if predictions.is_file():  # whether each test row was right, by its id
            with predictions.open() as rows:
                metrics["right"] = {
                    r["id"]: r["actual"] == r["predicted"] for r in csv.DictReader(rows)
                }
        return wall, metrics


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def download_size(url: str) -> int | None:
    """Bytes of one file pip would fetch: a local wheel's size, or a remote one's Content-Length."""
    if url.startswith("file://"):
        return Path(url.removeprefix("file://")).stat().st_size
    try:
        request = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.headers["Content-Length"])
    except (OSError, ValueError, TypeError):
        return None


def torch_cuda_download() -> str | None:
    """What pip would download for PyPI's Linux torch wheel (the CUDA build), with what it needs."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        asked = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed"]
            + ["--report", str(report), "torch==2.14.1"],
            capture_output=True,
        )
        if asked.returncode:
            return None
        urls = [item["download_info"]["url"] for item in json.loads(report.read_text())["install"]]
    sizes = {url.rsplit("/", 1)[-1]: download_size(url) for url in urls}
    if None in sizes.values():
        return None
    nvidia = sum(size for name, size in sizes.items() if name.startswith(("nvidia", "cuda")))
    return (
        f"- PyPI's Linux wheel of torch 2.14.1 (the CUDA build), with what it needs: a download of "
        f"{sum(sizes.values()) / 1e6:,.0f} MB in {len(sizes)} files, {nvidia / 1e6:,.0f} MB of "
        "it NVIDIA's CUDA libraries"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="chapter 1 seeds (0 to N-1)")
    parser.add_argument("--torch-seeds", type=int, default=1, help="chapter 1 seeds on PyTorch")
    parser.add_argument(
        "--cnn-epochs", default="25:3:1", help="chapter 2 epochs on TensorFlow:JAX:PyTorch"
    )
    parser.add_argument(
        "--install-only", action="store_true", help="only the sizes on disk and the download"
    )
    parser.add_argument(
        "--chapter",
        choices=("1", "2", "pretrained"),
        help="only this chapter, or the pretrained lesson (its section alone)",
    )
    parser.add_argument(
        "--plain",
        action="store_true",
        help="only chapter 1's default run with and without DLP_PLAIN_KERAS=1, on each backend",
    )
    parser.add_argument(
        "--fine-tune-epochs",
        type=int,
        default=0,
        help="--chapter pretrained: also a run fine-tuned for this many epochs, on each backend",
    )
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="both chapters, not the sizes on disk (which count what else a venv holds)",
    )
    args = parser.parse_args()
    present = [name for name, (_, venv) in BACKENDS.items() if (venv / "bin" / "python").exists()]
    if args.install_only:
        write_install_section(present, {})
        return
    if args.plain:
        plain_keras(present)
        return
    if args.chapter == "pretrained":
        pretrained(present, args.fine_tune_epochs)
        return
    epochs = dict(zip(BACKENDS, map(int, args.cnn_epochs.split(":"))))
    if args.chapter != "2":
        chapter_1(present, args)
    if args.chapter == "1":
        return
    versions = chapter_2(present, epochs)
    if args.chapter is None and not args.no_install:
        write_install_section(present, versions)


def chapter_1(present: list[str], args: argparse.Namespace) -> None:
    ann_lines = [
        "| backend | seed | wall | test accuracy | 10-fold CV mean | ROC AUC | threshold |",
        "|---|---|---|---|---|---|---|",
    ]
    spread, walls, versions = {}, {}, {}
    for backend in present:
        seeds = args.torch_seeds if backend == "torch" else args.seeds
        rows = []
        for seed in range(seeds):
            wall, metrics = run(backend, "1_artificial_neural_networks/ann.py", "--seed", str(seed))
            versions[backend] = metrics["backend"]["version"]
            test, cv = metrics["test"], metrics["cv"]
            rows.append((test["accuracy"], cv["mean"], test["roc_auc"]))
            walls.setdefault(backend, wall)
            line = (
                f"| {BACKENDS[backend][0]} | {seed} | {wall:.1f} s | {percent(test['accuracy'])} | "
                f"{cv['mean']:.4f} | {test['roc_auc']:.3f} | {metrics['threshold']['value']:.3f} |"
            )
            print(line, flush=True)
            ann_lines.append(line)
        spread[backend] = rows
    ann_lines.append("")
    for backend, rows in spread.items():
        if len(rows) > 1:
            accuracy, cv, auc = zip(*rows)
            ann_lines.append(
                f"- {versions[backend]}, seeds 0-{len(rows) - 1}: test accuracy "
                f"{percent(min(accuracy))} to {percent(max(accuracy))} (mean "
                f"{percent(statistics.mean(accuracy))}), CV mean {min(cv):.4f} to {max(cv):.4f}, "
                f"ROC AUC {min(auc):.3f} to {max(auc):.3f}"
            )
    base = walls.get("tensorflow")
    for backend, wall in walls.items():
        ratio = f" ({wall / base:.1f}x TensorFlow's)" if base and backend != "tensorflow" else ""
        ann_lines.append(f"- default run (seed 0) on {versions[backend]}: {wall:.1f} s{ratio}")
    print("\n".join(ann_lines[-len(walls) - len(spread) :]), flush=True)
    write_section("backends-ann", "Chapter 1 on each Keras backend (`ann.py`)", ann_lines)


def chapter_2(present: list[str], epochs: dict) -> dict:
    cnn_lines, versions = [], {}
    for backend in present:
        wall, metrics = run(
            backend, "2_convolutional_neural_networks/cnn.py", "--epochs", str(epochs[backend])
        )
        per_epoch = metrics["timings_s"]["per_epoch"]
        line = (
            f"- {metrics['backend']['version']}, {epochs[backend]} epochs in "
            f"{metrics['precision']}: test accuracy {percent(metrics['test']['accuracy'])}, "
            f"{statistics.mean(per_epoch):.1f} s an epoch, {wall:.0f} s wall (of which reading "
            f"the images {metrics['timings_s']['data']:.0f} s)"
        )
        print(line, flush=True)
        cnn_lines.append(line)
        versions[backend] = metrics["backend"]["version"]
    write_section("backends-cnn", "Chapter 2 on each Keras backend (`cnn.py`, seed 0)", cnn_lines)
    return versions


def plain_keras(present: list[str]) -> None:
    """Chapter 1's default run (seed 0) on each backend, with the tutorial's speed changes and
    with plain Keras (DLP_PLAIN_KERAS=1), one after the other."""
    lines = [
        "| backend | speed changes | wall | test accuracy | 10-fold CV mean | ROC AUC |",
        "|---|---|---|---|---|---|",
    ]
    named = []
    for backend in present:
        for plain in (False, True):
            wall, metrics = run(
                backend,
                "1_artificial_neural_networks/ann.py",
                env={"DLP_PLAIN_KERAS": "1"} if plain else None,
            )
            changes = metrics["backend"]["speed_changes"]
            said = "none (DLP_PLAIN_KERAS=1)" if plain else f"{len(changes)}"
            test = metrics["test"]
            line = (
                f"| {metrics['backend']['version']} | {said} | {wall:.1f} s | "
                f"{percent(test['accuracy'])} | {metrics['cv']['mean']:.4f} | "
                f"{test['roc_auc']:.3f} |"
            )
            print(line, flush=True)
            lines.append(line)
            if changes:
                named.append(f"- {metrics['backend']['version']}: {'; '.join(changes)}")
    lines += ["", "The speed changes in effect, as metrics.json names them:", "", *named]
    write_section(
        "backends-plain", "Chapter 1 with and without the speed changes (`ann.py`, seed 0)", lines
    )


def pretrained(present: list[str], fine_tune_epochs: int) -> None:
    """transfer_learning.py's default run on each backend from cold caches (a new Keras cache and
    image cache each), then, with --fine-tune-epochs, a run fine-tuned on the warm caches."""
    lines, walls = [], {}
    script = "2_convolutional_neural_networks/transfer_learning.py"
    for backend in present:
        cold = Path(tempfile.mkdtemp(prefix="cold-"))
        try:
            env = {"KERAS_HOME": str(cold / "keras")}
            cache = ["--cache-dir", str(cold / "cache")]
            wall, metrics = run(backend, script, *cache, env=env)
            walls[backend] = wall
            lines.append(describe_pretrained(metrics, wall, "cold caches", walls))
            print(lines[-1], flush=True)
            if fine_tune_epochs:
                flags = [*cache, "--fine-tune-epochs", str(fine_tune_epochs)]
                wall, tuned = run(backend, script, *flags, env=env)
                ids = sorted(metrics["right"])
                test = confusion_metrics.mcnemar_exact(
                    [tuned["right"][i] for i in ids], [metrics["right"][i] for i in ids]
                )
                lines.append(
                    describe_pretrained(tuned, wall, f"{fine_tune_epochs} epoch(s) fine-tuned")
                    + f"; fine-tuning {tuned['timings_s']['fine-tuning']:.1f} s; against the "
                    f"frozen base: {test['a_only_right']} photos only fine-tuning got right, "
                    f"{test['b_only_right']} only the frozen base, McNemar's exact p = "
                    f"{test['p_value']:.2f} ({confusion_metrics.verdict(test['p_value'])})"
                )
                print(lines[-1], flush=True)
        finally:
            shutil.rmtree(cold, ignore_errors=True)
    write_section(
        "backends-pretrained",
        "The pretrained lesson on each Keras backend (`transfer_learning.py`, seed 0)",
        lines,
    )


def describe_pretrained(metrics: dict, wall: float, how: str, walls: dict | None = None) -> str:
    """One backend's run: accuracy with its interval, time (and its ratio to TensorFlow's)."""
    test, timings = metrics["test"], metrics["timings_s"]
    low, high = test["intervals"]["accuracy"]
    base = (walls or {}).get("tensorflow")
    ratio = (
        f", {wall / base:.1f}x TensorFlow's"
        if base and metrics["backend"]["name"] != "tensorflow"
        else ""
    )
    return (
        f"- {metrics['backend']['version']}, {how}: test accuracy {percent(test['accuracy'])} "
        f"(95 % interval {percent(low)} to {percent(high)}); {wall:.1f} s wall{ratio} (data "
        f"{timings['data']:.1f} s, features {timings['features']:.1f} s), peak memory "
        f"{metrics['peak_memory_mb']:.0f} MB"
    )


def write_install_section(present: list[str], versions: dict) -> None:
    size_lines = [
        f"- {BACKENDS[b][1].name}: {size_mb(BACKENDS[b][1]):,.0f} MB on disk "
        f"({versions.get(b, BACKENDS[b][0])}, Keras and the course's other packages)"
        for b in present
    ]
    download = torch_cuda_download()
    size_lines += [download] if download else []
    print("\n".join(size_lines), flush=True)
    write_section("backends-install", "What each backend installs", size_lines)


if __name__ == "__main__":
    main()
