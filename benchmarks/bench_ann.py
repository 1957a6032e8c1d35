"""ANN benchmark: the default `python ann.py` run, and the straightforward Keras fit beside it.

Prints wall time, peak memory, the time of each step and the figures of the default
run (steps 1-16), then times one straightforward `model.fit` (no steps_per_execution,
no XLA) at the tutorial's settings, so the two can be compared on the same machine in
the same session. `--seeds N` also runs seeds 1 to N-1 (without cross-validation, which
the test figures do not depend on) and prints the spread of both networks' test figures.

    python benchmarks/bench_ann.py [--skip-baseline] [--seeds N]
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

from tutorial_support.cli import TutorialError, positive_int

ROOT = Path(__file__).resolve().parents[1]


def run_ann(*flags: str) -> tuple[float, float, dict]:
    """Wall seconds, peak memory (MB) and metrics.json of one ann.py run."""
    with tempfile.TemporaryDirectory() as out:
        began = time.perf_counter()
        failed = subprocess.run(
            [sys.executable, str(ROOT / "1_artificial_neural_networks" / "ann.py"), "--verbose", "0", "--output-dir", out, *flags],
            stdout=subprocess.DEVNULL,
        ).returncode  # fmt: skip
        if failed:  # the script has printed its one-line error
            sys.exit(failed)
        wall = time.perf_counter() - began
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child so far
        return wall, peak_mb, json.loads((Path(out) / "metrics.json").read_text())


def default_run() -> dict:
    wall, peak_mb, metrics = run_ann()
    t = metrics["timings_s"]
    print(f"ann.py default run: {wall:.1f} s wall, peak memory {peak_mb:.0f} MB")
    print("  " + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in t.items() if step != "total"))
    print(
        f"  test accuracy {metrics['test']['accuracy']:.4f}, CV mean {metrics['cv']['mean']:.4f} "
        f"(std {metrics['cv']['std']:.4f}), with dropout {metrics['cv_dropout']['mean']:.4f} "
        f"(std {metrics['cv_dropout']['std']:.4f})"
    )
    threshold = metrics["threshold"]
    (_, fp), (fn, tp) = threshold["test"]["confusion_matrix"]
    print(
        f"  threshold {threshold['value']:.4f} ({threshold['rule']}, {threshold['chosen_on']}): test recall "
        f"{threshold['test']['recall']:.4f}, precision {threshold['test']['precision']:.4f}; flags {tp + fp}, finds {tp} of {tp + fn}"
    )
    for name, row in metrics["baselines"].items():
        print(f"  baseline {name}: " + ", ".join(f"{key} {value:.4f}" for key, value in row.items()))
    improved = metrics["improved"]
    print(
        f"  improved network: test accuracy {improved['test']['accuracy']:.4f}, ROC AUC {improved['test']['roc_auc']:.4f}, "
        f"average precision {improved['test']['average_precision']:.4f}, recall {improved['test']['recall']:.4f}, "
        f"precision {improved['test']['precision']:.4f}; CV mean {improved['cv']['mean']:.4f} (std {improved['cv']['std']:.4f})"
    )
    print("  feature importance: " + ", ".join(f"{name} {drop:.3f}" for name, drop in metrics["feature_importance"].items()))
    return metrics


def seed_spread(seeds: int, first: dict) -> None:
    rows = [(0, first)] + [(seed, run_ann("--seed", str(seed), "--folds", "0")[2]) for seed in range(1, seeds)]
    print(f"seeds 0-{seeds - 1}, test set:")
    print("  seed | tutorial: accuracy, ROC AUC, bending units per layer | improved: accuracy, ROC AUC")
    for seed, m in rows:
        print(
            f"  {seed:4d} | {m['test']['accuracy']:.4f}, {m['test']['roc_auc']:.4f}, {m['fit']['bending_units']} | "
            f"{m['improved']['test']['accuracy']:.4f}, {m['improved']['test']['roc_auc']:.4f}"
        )
    for name, get in (("tutorial", lambda m: m["test"]), ("improved", lambda m: m["improved"]["test"])):
        accuracy = [get(m)["accuracy"] for _, m in rows]
        auc = [get(m)["roc_auc"] for _, m in rows]
        print(
            f"  {name}: accuracy mean {sum(accuracy) / len(rows):.4f} (min {min(accuracy):.4f}, max {max(accuracy):.4f}), "
            f"ROC AUC mean {sum(auc) / len(rows):.4f} (min {min(auc):.4f}, max {max(auc):.4f})"
        )


def straightforward_fit() -> None:
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from tutorial_support import churn, data
    from tutorial_support.runtime import keras, seed_everything

    features, exited = churn.load_churn(data.churn_csv())
    X = churn.make_encoder().fit_transform(features)
    X_train, _, y_train, _ = train_test_split(X, exited, test_size=0.2, random_state=0)
    X_train = StandardScaler().fit_transform(X_train)
    seed_everything(0)
    model = keras.Sequential([
        keras.Input(shape=(11,)),
        keras.layers.Dense(6, activation="relu", kernel_initializer="uniform"),
        keras.layers.Dense(6, activation="relu", kernel_initializer="uniform"),
        keras.layers.Dense(1, activation="sigmoid", kernel_initializer="uniform"),
    ])  # fmt: skip
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    began = time.perf_counter()
    model.fit(X_train, y_train, batch_size=10, epochs=100, verbose=0)
    seconds = time.perf_counter() - began
    print(f"straightforward model.fit, 100 epochs, batch 10: {seconds:.1f} s ({seconds / 100:.2f} s per epoch)")
    print(f"  at that speed, fit + 2 x 10 folds (each 90 % of the rows) would take {seconds * 19:.0f} s on one core")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-baseline", action="store_true", help="do not time the straightforward fit")
    parser.add_argument("--seeds", type=positive_int, default=1, help="also run seeds 1 to N-1 and print the spread")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPU cores, Python {sys.version.split()[0]}")
    metrics = default_run()
    if not args.skip_baseline:
        straightforward_fit()
    if args.seeds > 1:
        seed_spread(args.seeds, metrics)


if __name__ == "__main__":
    try:
        main()
    except TutorialError as error:  # e.g. no data: one line, as the scripts do
        sys.exit(f"error: {error}")
