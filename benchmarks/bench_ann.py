"""ANN benchmark: the default `python ann.py` run, and the straightforward Keras fit beside it.

Prints wall time, peak memory and the figures of the default run (steps 1-11:
fit, 10-fold CV and 10-fold CV with dropout, 100 epochs, batch 10), then times one
straightforward `model.fit` (no steps_per_execution, no XLA) at the same settings,
so the two can be compared on the same machine in the same session.

    python benchmarks/bench_ann.py [--skip-baseline]
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


def default_run() -> None:
    with tempfile.TemporaryDirectory() as out:
        began = time.perf_counter()
        failed = subprocess.run(
            [sys.executable, str(ROOT / "1_artificial_neural_networks" / "ann.py"), "--verbose", "0", "--output-dir", out],
            stdout=subprocess.DEVNULL,
        ).returncode  # fmt: skip
        if failed:  # the script has printed its one-line error
            sys.exit(failed)
        wall = time.perf_counter() - began
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        metrics = json.loads((Path(out) / "metrics.json").read_text())
    t = metrics["timings_s"]
    print(f"ann.py default run: {wall:.1f} s wall, peak memory {peak_mb:.0f} MB")
    print(f"  fit {t['fit']:.1f} s, 10-fold CV {t['cv']:.1f} s, 10-fold CV with dropout {t['cv_dropout']:.1f} s")
    print(
        f"  test accuracy {metrics['test']['accuracy']:.4f}, CV mean {metrics['cv']['mean']:.4f} "
        f"(std {metrics['cv']['std']:.4f}), with dropout {metrics['cv_dropout']['mean']:.4f} "
        f"(std {metrics['cv_dropout']['std']:.4f})"
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
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPU cores, Python {sys.version.split()[0]}")
    default_run()
    if not args.skip_baseline:
        straightforward_fit()


if __name__ == "__main__":
    from tutorial_support.cli import TutorialError

    try:
        main()
    except TutorialError as error:  # e.g. no data: one line, as the scripts do
        sys.exit(f"error: {error}")
