"""CNN benchmark: data preparation (cold and cached), seconds per epoch, test accuracy.

    python benchmarks/bench_cnn.py              # the tutorial network, default run (about 2.5 minutes)
    python benchmarks/bench_cnn.py --improved   # also the improved network (about 15 minutes more)

Every run starts from an empty image cache in a temporary folder, so the first
figure includes decoding the JPEGs.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def data_preparation(cache: Path, size: int) -> None:
    from tutorial_support import data, images

    root = data.cats_and_dogs()
    for attempt in ("cold cache", "warm cache"):
        began = time.perf_counter()
        for split in ("training_set", "test_set"):
            images.load_image_set(root / split, size, cache, split)
        print(f"data preparation at {size} px, {attempt}: {time.perf_counter() - began:.1f} s")


def full_run(model: str, cache: Path) -> None:
    with tempfile.TemporaryDirectory() as out:
        began = time.perf_counter()
        failed = subprocess.run(
            [sys.executable, str(ROOT / "2_convolutional_neural_networks" / "cnn.py"), "--model", model,
             "--verbose", "0", "--cache-dir", str(cache), "--output-dir", out],
            stdout=subprocess.DEVNULL,
        ).returncode  # fmt: skip
        if failed:  # the script has printed its one-line error
            sys.exit(failed)
        wall = time.perf_counter() - began
        metrics = json.loads((Path(out) / "metrics.json").read_text())
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
    print(f"  test accuracy {test['accuracy']:.4f}; {per_class}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--improved", action="store_true", help="also run the improved network")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPU cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as cache:
        data_preparation(Path(cache) / "prep", 64)
        full_run("tutorial", Path(cache) / "tutorial")
        if args.improved:
            full_run("improved", Path(cache) / "improved")


if __name__ == "__main__":
    from tutorial_support.cli import TutorialError

    try:
        main()
    except TutorialError as error:  # e.g. no data: one line, as the scripts do
        sys.exit(f"error: {error}")
