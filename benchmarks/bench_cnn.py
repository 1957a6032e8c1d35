"""CNN benchmark: data preparation (cold and cached), seconds per epoch, test accuracy.

    python benchmarks/bench_cnn.py              # the tutorial network, default run (about 2 minutes),
                                                # then the 10-class digits at 32 px, 15 epochs (under a minute)
    python benchmarks/bench_cnn.py --improved   # also the improved network (about 11 minutes more)
    python benchmarks/bench_cnn.py --seeds 8    # also the tutorial network's accuracy over seeds 1-7

Every run starts from an empty image cache in a temporary folder, so the first
figure includes decoding the JPEGs.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tutorial_support.cli import TutorialError, positive_int

ROOT = Path(__file__).resolve().parents[1]


def data_preparation(cache: Path, size: int) -> None:
    from tutorial_support import data, images

    root = data.cats_and_dogs()
    for attempt in ("cold cache", "warm cache"):
        began = time.perf_counter()
        for split in ("training_set", "test_set"):
            images.load_image_set(root / split, size, cache, split)
        print(f"data preparation at {size} px, {attempt}: {time.perf_counter() - began:.1f} s")


def run_cnn(model: str, cache: Path, seed: int = 0, *flags: str) -> tuple[dict, float]:
    """One default run of cnn.py (plus ``flags``); its metrics.json and its wall-clock seconds."""
    with tempfile.TemporaryDirectory() as out:
        began = time.perf_counter()
        failed = subprocess.run(
            [sys.executable, str(ROOT / "2_convolutional_neural_networks" / "cnn.py"), "--model", model,
             "--verbose", "0", "--cache-dir", str(cache), "--output-dir", out, "--seed", str(seed), *flags],
            stdout=subprocess.DEVNULL,
        ).returncode  # fmt: skip
        if failed:  # the script has printed its one-line error
            sys.exit(failed)
        return json.loads((Path(out) / "metrics.json").read_text()), time.perf_counter() - began


def full_run(model: str, cache: Path) -> float:
    metrics, wall = run_cnn(model, cache)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    per_epoch = metrics["timings_s"]["per_epoch"]
    test = metrics["test"]
    per_class = ", ".join(
        f"{name}: precision {m['precision']:.4f} recall {m['recall']:.4f} F1 {m['f1']:.4f}"
        for name, m in test["per_class"].items()
    )
    print(f"cnn.py --model {model}: {wall:.1f} s wall (cold image cache), peak memory {peak_mb:.0f} MB so far")
    print(
        f"  {len(per_epoch)} epochs, {sum(per_epoch) / len(per_epoch):.2f} s per epoch "
        f"(fastest {min(per_epoch):.2f} s), data {metrics['timings_s']['data']:.1f} s"
    )
    print(f"  test accuracy {test['accuracy']:.4f}; {per_class}", flush=True)
    return test["accuracy"]


def digits_run(folder: Path) -> None:
    """The 10 handwritten digits scikit-learn ships, as image folders, at 32 px for 15 epochs."""
    made = subprocess.run([sys.executable, str(ROOT / "docs" / "make_digits_folders.py"), str(folder / "digits")],
                          stdout=subprocess.DEVNULL)  # fmt: skip
    if made.returncode:
        sys.exit(made.returncode)
    metrics, wall = run_cnn("tutorial", folder / "cache", 0, "--data", str(folder / "digits"), "--image-size", "32",
                            "--epochs", "15", "--no-flip")  # fmt: skip
    per_epoch, test = metrics["timings_s"]["per_epoch"], metrics["test"]
    print(f"digits (10 classes, 32 px, 15 epochs, --no-flip): {wall:.1f} s wall, "
          f"{sum(per_epoch) / len(per_epoch):.2f} s per epoch, test accuracy {test['accuracy']:.4f}")  # fmt: skip
    print("  per-class F1: " + ", ".join(f"{name} {m['f1']:.3f}" for name, m in test["per_class"].items()))
    print("  macro F1 {macro:.4f}, weighted F1 {weighted:.4f}".format(
        macro=test["averages"]["macro"]["f1"], weighted=test["averages"]["weighted"]["f1"]), flush=True)  # fmt: skip


def accuracy_over_seeds(seeds: int, cache: Path, seed_0_accuracy: float) -> None:
    """How much the tutorial network's test accuracy depends on the seed alone."""
    accuracies = [seed_0_accuracy]
    for seed in range(1, seeds):
        metrics, _ = run_cnn("tutorial", cache, seed)
        accuracies.append(metrics["test"]["accuracy"])
        print(f"  seed {seed}: test accuracy {accuracies[-1]:.4f}", flush=True)
    print(
        f"tutorial network over seeds 0-{seeds - 1}: test accuracy mean {statistics.mean(accuracies):.4f}, "
        f"min {min(accuracies):.4f}, max {max(accuracies):.4f}, "
        f"{sum(a >= 0.80 for a in accuracies)} of {seeds} at 0.80 or more"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--improved", action="store_true", help="also run the improved network")
    parser.add_argument("--seeds", type=positive_int, default=1, metavar="N",
                        help="also train the tutorial network with seeds 1 to N-1 and summarise the accuracies")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPU cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as cache:
        data_preparation(Path(cache) / "prep", 64)
        seed_0_accuracy = full_run("tutorial", Path(cache) / "tutorial")
        digits_run(Path(cache) / "digits")
        if args.seeds > 1:
            accuracy_over_seeds(args.seeds, Path(cache) / "tutorial", seed_0_accuracy)
        if args.improved:
            full_run("improved", Path(cache) / "improved")


if __name__ == "__main__":
    try:
        main()
    except TutorialError as error:  # e.g. no data: one line, as the scripts do
        sys.exit(f"error: {error}")
