"""The pretrained network (`transfer_learning.py`): its image size chosen on training photos,
a cold run, seeds 0-2, and fine-tuning. Writes docs/measurements.md.

    python benchmarks/bench_pretrained.py                          # all of it (about 30 minutes)
    python benchmarks/bench_pretrained.py --fine-tune-epochs 0     # without fine-tuning
    python benchmarks/bench_pretrained.py --outputs runs           # keep each run's outputs

The cold run starts from an empty Keras cache and image cache (temporary folders): its time
includes decoding the JPEGs at 224 px, converting the weights and computing every photo's
features. The other runs share that cache, as a learner's second run does. Peak memory is the
run's own maximum resident set size (os.wait4), not the benchmark's.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from measurements import percent, write_section

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (0, 1, 2)


def run(
    out: Path, keras_home: Path, cache: Path, seed: int, *flags: str
) -> tuple[dict, float, float]:
    """One run of transfer_learning.py: its metrics.json, wall seconds and peak memory (MB)."""
    command = [
        sys.executable,
        str(ROOT / "2_convolutional_neural_networks" / "transfer_learning.py"),
        "--verbose",
        "0",
        "--seed",
        str(seed),
        "--cache-dir",
        str(cache),
        "--output-dir",
        str(out),
        *flags,
    ]
    began = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, env={**os.environ, "KERAS_HOME": str(keras_home)}
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - began
    if process.returncode:
        sys.exit(
            f"transfer_learning.py {' '.join(command[2:])} failed with exit status "
            f"{process.returncode}"
        )
    return json.loads((out / "metrics.json").read_text()), wall, usage.ru_maxrss / 1024


def size_on_held_out_training_photos(sizes=(160, 224)) -> list[str]:
    """Each size's features of the 8,000 training photos, a logistic regression fitted on 6,000
    and scored on the other 2,000 (seed 0): the test photos play no part."""
    from sklearn.linear_model import LogisticRegression

    from tutorial_support.cnn import efficientnet_lite, images
    from tutorial_support.common import data
    from tutorial_support.common.runtime import keras

    root, lines = data.cats_and_dogs() / "training_set", []
    for size in sizes:
        with tempfile.TemporaryDirectory() as cache:
            photos, _ = images.load_image_set(root, size, Path(cache), "training_set")
        inputs = keras.Input(shape=(size, size, 3))
        x = keras.layers.Rescaling(efficientnet_lite.SCALE, offset=efficientnet_lite.OFFSET)(inputs)
        x = efficientnet_lite.pretrained_base(size)(x, training=False)
        model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))
        began = time.perf_counter()
        features = np.concatenate(
            [
                model.predict_on_batch(photos.images[i : i + 32].astype("float32"))
                for i in range(0, len(photos.labels), 32)
            ]
        )
        seconds = time.perf_counter() - began
        order = np.random.default_rng(0).permutation(len(photos.labels))
        held, fit = order[:2000], order[2000:]
        score = (
            LogisticRegression(max_iter=2000)
            .fit(features[fit], photos.labels[fit])
            .score(features[held], photos.labels[held])
        )
        lines.append(
            f"- {size} px: **{percent(score)}** of the 2,000 held-out training photos "
            f"right; the base's features of 8,000 photos took {seconds:.1f} s"
        )
        print(lines[-1], flush=True)
    return lines


def describe(name: str, metrics: dict, wall: float, peak: float) -> str:
    test, timings = metrics["test"], metrics["timings_s"]
    cm = np.array(test["confusion_matrix"])
    parts = ", ".join(
        f"{k} {v:.1f} s"
        for k, v in timings.items()
        if k not in ("per_epoch", "total") and isinstance(v, float)
    )
    return (
        f"- {name}: test accuracy **{percent(test['accuracy'])}** ({int(cm.sum() - cm.trace())} "
        f"wrong: {cm[0, 1]} cats called dogs, {cm[1, 0]} dogs called cats), ECE "
        f"{test['calibration']['ece']:.4f}; {wall:.1f} s wall ({parts}), peak memory "
        f"{peak:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fine-tune-epochs", type=int, default=2)
    parser.add_argument("--outputs", type=Path, help="keep each run's outputs in this folder")
    parser.add_argument("--no-sizes", action="store_true", help="skip the choice of image size")
    args = parser.parse_args()
    lines = []
    if not args.no_sizes:
        lines += [
            "Image size, chosen on training photos alone (logistic regression on the "
            "frozen base's pooled features):",
            "",
            *size_on_held_out_training_photos(),
            "",
        ]
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        keep = args.outputs or scratch / "runs"
        home, cache = scratch / "keras", scratch / "cache"
        metrics, wall, peak = run(keep / "seed0-cold", home, cache, 0)
        lines.append(
            describe("seed 0, cold caches (decoding, weights, features)", metrics, wall, peak)
        )
        zero = metrics["zero_shot"]
        counts = np.array(zero["counts"])
        lines.append(
            f"- ImageNet's own head before any training (top class of 1,000): cats {counts[0, 0]} "
            f"a cat class / {counts[0, 1]} a dog breed / {counts[0, 2]} something else; dogs "
            f"{counts[1, 0]} / {counts[1, 1]} / {counts[1, 2]}; right "
            f"{percent((counts[0, 0] + counts[1, 1]) / counts.sum())}; the cats it misses it "
            "calls " + ", ".join(f"{k} ({v})" for k, v in zero["cats_missed_as"].items())
        )
        accuracies = []
        for seed in SEEDS:
            metrics, wall, peak = run(keep / f"seed{seed}", home, cache, seed)
            accuracies.append(metrics["test"]["accuracy"])
            lines.append(describe(f"seed {seed}, warm caches", metrics, wall, peak))
        lines.append(
            f"- seeds 0-2: {percent(min(accuracies))} to {percent(max(accuracies))}, "
            f"mean {percent(statistics.mean(accuracies))}"
        )
        if args.fine_tune_epochs:
            n = str(args.fine_tune_epochs)
            metrics, wall, peak = run(
                keep / "seed0-fine-tuned", home, cache, 0, "--fine-tune-epochs", n
            )
            tuned = metrics["timings_s"].get("fine-tuning", 0.0)
            lines.append(
                describe(
                    f"seed 0, then {n} epochs of fine-tuning (the top third of the "
                    f"base; {tuned:.1f} s of it)",
                    metrics,
                    wall,
                    peak,
                )
            )
    print("\n".join(lines), flush=True)
    write_section(
        "cnn-pretrained", "Chapter 2: the pretrained network (`transfer_learning.py`)", lines
    )


if __name__ == "__main__":
    main()
