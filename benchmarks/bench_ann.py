"""ANN benchmark: the default `python ann.py` run, the straightforward Keras fit beside it,
the grid search of step 12, and the spread over seeds. Writes docs/measurements.md.

    python benchmarks/bench_ann.py                 # default run and straightforward fit
    python benchmarks/bench_ann.py --tune          # also step 12's grid search at its defaults
    python benchmarks/bench_ann.py --seeds 5       # also seeds 1-4 (without cross-validation)
    python benchmarks/bench_ann.py --intervals     # only: how sure each figure of the default
                                                   # run is, and seed 0 against seed 1

Prints every figure and writes it to docs/measurements.md, the file the README quotes.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measurements import percent, write_section
from tutorial_support.common.cli import positive_int
from tutorial_support.common.errors import TutorialError

ROOT = Path(__file__).resolve().parents[1]


KEEP: Path | None = (
    None  # --outputs: keep each run's outputs here (the README's figures come from them)
)


def run_ann(*flags: str, out: str | None = None) -> tuple[float, float, dict]:
    """Wall seconds, peak memory (MB) and metrics.json of one ann.py run (its outputs in ``out``
    where given)."""
    with tempfile.TemporaryDirectory() as temporary:
        out = out or temporary
        if KEEP is not None and out == temporary:
            out = str(KEEP / ("default" + "".join(flags).replace("--", "-")))
        began = time.perf_counter()
        failed = subprocess.run(
            [
                sys.executable,
                str(ROOT / "1_artificial_neural_networks" / "ann.py"),
                "--verbose",
                "0",
                "--output-dir",
                out,
                *flags,
            ],
            stdout=subprocess.DEVNULL,
        ).returncode
        if failed:  # the script has printed its one-line error
            sys.exit(failed)
        wall = time.perf_counter() - began
        # the largest child so far
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        return wall, peak_mb, json.loads((Path(out) / "metrics.json").read_text())


def cv_row(name: str, cv: dict) -> str:
    return (
        f"| {name} | {cv['mean']:.4f} | {cv['variance']:.6f} | {cv['std']:.4f} | "
        f"{min(cv['scores']):.4f} | {max(cv['scores']):.4f} |"
    )


def decision_column(test: dict) -> list[str]:
    (tn, fp), (fn, tp) = test["confusion_matrix"]
    return [
        f"{tp + fp:,}",
        str(tp),
        str(fp),
        str(fn),
        *(percent(test[k]) for k in ("accuracy", "precision", "recall", "f1")),
    ]


def default_run(straightforward_seconds: float | None) -> dict:
    from tutorial_support.ann import churn
    from tutorial_support.common import data

    wall, peak_mb, m = run_ann()
    _, exited = churn.load_churn(data.churn_csv())
    t, test = m["timings_s"], m["test"]
    (tn, fp), (fn, tp) = test["confusion_matrix"]
    threshold, improved, calibration = m["threshold"], m["improved"], m["calibration"]
    lines = [
        f"The data: {len(exited):,} customers, {exited.sum():,} of whom left "
        f"({percent(exited.mean())}).",
        "",
        f"- wall time {wall:.1f} s, peak memory {peak_mb:.0f} MB; steps: "
        + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in t.items() if step != "total"),
    ]
    if straightforward_seconds:
        lines.append(
            "- one straightforward `model.fit` of the tutorial network, 100 epochs at batch size "
            "10: "
            f"{straightforward_seconds:.1f} s, {straightforward_seconds / t['fit']:.0f}x the "
            f"{t['fit']:.1f} s of "
            f"step 6's `fit`"
        )
    lines += [
        "",
        "Tutorial network, test set (2,000 customers), threshold 0.5:",
        "",
        "| accuracy | precision | recall | F1 | ROC AUC | average precision | TN | FP | FN | TP |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {percent(test['accuracy'])} | {percent(test['precision'])} | {percent(test['recall'])} "
        f"| {percent(test['f1'])} | "
        f"{test['roc_auc']:.3f} | {test['average_precision']:.3f} | {tn:,} | {fp} | {fn} | {tp} |",
        "",
        f"Step 6: units that bend per hidden layer {m['fit']['bending_units']}; layer 2 fires for "
        + ", ".join(f"{v:.0%}" for v in m["fit"]["firing_shares"][1])
        + " of the training customers.",
        f"Step 8: the new customer's P(leaves) = {m['new_customer']['probability']:.3f}.",
        "",
        "Cross-validation (10 folds, 100 epochs, batch size 10):",
        "",
        "| network | mean | variance | std | lowest fold | highest fold |",
        "|---|---|---|---|---|---|",
        cv_row("tutorial", m["cv"]),
        cv_row("with dropout 0.1", m["cv_dropout"]),
        cv_row("improved", improved["cv"]),
        "",
        f"Step 13: threshold {threshold['value']:.3f} ({threshold['rule']}, on the "
        f"{threshold['chosen_on']} predictions); "
        "test set at 0.5 and at it:",
        "",
        f"| | at 0.5 | at {threshold['value']:.3f} |",
        "|---|---|---|",
    ]
    at_half = {k: test[k] for k in ("confusion_matrix", "accuracy", "precision", "recall", "f1")}
    for label, a, b in zip(
        (
            "customers flagged",
            "of whom leave (TP)",
            "of whom stay (FP)",
            "leavers missed (FN)",
            "accuracy",
            "precision",
            "recall",
            "F1",
        ),
        decision_column(at_half),
        decision_column(threshold["test"]),
    ):
        lines.append(f"| {label} | {a} | {b} |")
    lines += [
        "",
        "Steps 14 and 15, test set and 10-fold CV:",
        "",
        "| model | test accuracy | test ROC AUC | CV mean | CV std |",
        "|---|---|---|---|---|",
    ]
    names = {
        "majority": 'always "stays"',
        "logistic_regression": "logistic regression",
        "gradient_boosting": "gradient boosting",
    }
    for key, row in m["baselines"].items():
        auc = f"{row['test_roc_auc']:.3f}" if "test_roc_auc" in row else "0.500"
        cv = f"{row['cv_mean']:.4f} | {row['cv_std']:.4f}" if "cv_mean" in row else " | "
        lines.append(f"| {names[key]} | {percent(row['test_accuracy'])} | {auc} | {cv} |")
    lines.append(
        f"| tutorial network | {percent(test['accuracy'])} | {test['roc_auc']:.3f} | "
        f"{m['cv']['mean']:.4f} | {m['cv']['std']:.4f} |"
    )
    lines.append(
        f"| improved network | {percent(improved['test']['accuracy'])} | "
        f"{improved['test']['roc_auc']:.3f} | "
        f"{improved['cv']['mean']:.4f} | {improved['cv']['std']:.4f} |"
    )
    lines.append(
        "\nImproved network, test set: average precision "
        f"{improved['test']['average_precision']:.3f}, "
        f"recall {percent(improved['test']['recall'])}, precision "
        f"{percent(improved['test']['precision'])}."
    )
    by = m["by_group"]  # the column the improved network relies on most (NumOfProducts)
    lines += [
        "",
        f"Test customers by {by['column']} (step 16):",
        "",
        f"| {by['column']} | customers | leave | tutorial network | improved network |",
        "|---|---|---|---|---|",
    ]
    for k in range(len(by[by["column"]])):
        lines.append(
            f"| {by[by['column']][k]} | {by['customers'][k]:,} | {by['leave (actual)'][k]:.0%} | "
            f"{by['tutorial network'][k]:.0%} | {by['improved network'][k]:.0%} |"
        )
    lines += [
        "",
        "Step 16, drop in test ROC AUC when a column is shuffled: "
        + ", ".join(f"{name} {drop:.3f}" for name, drop in m["feature_importance"].items())
        + ".",
    ]
    temperature = calibration["temperature"]
    lines += [
        "",
        "Step 17, calibration on the test set (10 bins); temperature T = "
        f"{temperature['value']:.3f} fitted on the "
        f"{temperature['chosen_on']} predictions:",
        "",
        "| model | ECE | Brier score | log loss |",
        "|---|---|---|---|",
    ]
    for name, row in (
        ("tutorial network", calibration["tutorial"]),
        (f"tutorial network, T = {temperature['value']:.2f}", temperature["test"]),
        ("improved network", calibration["improved"]),
        ("gradient boosting", calibration["gradient_boosting"]),
    ):
        lines.append(f"| {name} | {row['ece']:.4f} | {row['brier']:.4f} | {row['log_loss']:.4f} |")
    print("\n".join(lines))
    write_section("ann-default", "Chapter 1: the default run (`ann.py`, seed 0)", lines)
    return m


def seed_spread(seeds: int, first: dict) -> None:
    rows = [(0, first)] + [
        (seed, run_ann("--seed", str(seed), "--folds", "0")[2]) for seed in range(1, seeds)
    ]
    lines = [
        "Test set; seeds 1 and up run with `--folds 0` (the test figures do not depend on the "
        "folds).",
        "",
        "| seed | tutorial: accuracy | ROC AUC | units that bend (layer 1, layer 2) | improved: "
        "accuracy | ROC AUC |",
        "|---|---|---|---|---|---|",
    ]
    for seed, m in rows:
        lines.append(
            f"| {seed} | {percent(m['test']['accuracy'])} | {m['test']['roc_auc']:.3f} | "
            f"{', '.join(map(str, m['fit']['bending_units']))} | "
            f"{percent(m['improved']['test']['accuracy'])} | "
            f"{m['improved']['test']['roc_auc']:.3f} |"
        )
    mean = {
        name: {k: sum(get(m)[k] for _, m in rows) / len(rows) for k in ("accuracy", "roc_auc")}
        for name, get in (
            ("tutorial", lambda m: m["test"]),
            ("improved", lambda m: m["improved"]["test"]),
        )
    }
    lines.append(
        f"| mean | {percent(mean['tutorial']['accuracy'])} | {mean['tutorial']['roc_auc']:.3f} | | "
        f"{percent(mean['improved']['accuracy'])} | {mean['improved']['roc_auc']:.3f} |"
    )
    print("\n".join(lines))
    write_section("ann-seeds", f"Chapter 1: seeds 0 to {seeds - 1}", lines)


def grid_search() -> None:
    wall, peak_mb, m = run_ann("--tune")
    rows = sorted(m["tune"]["results"], key=lambda row: -row["mean"])
    lines = [
        f"`ann.py --tune` (the default grid, 10 folds each): {wall:.1f} s wall, step 12 "
        f"{m['timings_s']['tune']:.1f} s, "
        f"peak memory {peak_mb:.0f} MB.",
        "",
        "| batch size | epochs | optimizer | mean | std |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['batch_size']} | {row['epochs']} | {row['optimizer']} | {row['mean']:.4f} | "
            f"{row['std']:.4f} |"
        )
    print("\n".join(lines))
    write_section("ann-tune", "Chapter 1: the grid search of step 12", lines)


def interval(pair) -> str:
    return f"{pair[0]:.4f} to {pair[1]:.4f}"


def intervals() -> None:
    """The default run's figures with their 95 % intervals, every comparison it records, and
    `python -m confusion_metrics compare` of seeds 0 and 1."""
    with tempfile.TemporaryDirectory() as folder:
        runs = [str(Path(folder) / f"seed-{seed}") for seed in (0, 1)]
        _, _, m = run_ann(out=runs[0])
        run_ann("--seed", "1", out=runs[1])
        compared = subprocess.run(
            [sys.executable, "-m", "confusion_metrics", "compare", *runs],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.replace(folder + "/", "")
    test, shown = m["test"], m["test"]["intervals"]
    lines = [
        "Tutorial network, test set (seed 0): 95 % Wilson intervals, each over its own count; "
        "a percentile bootstrap (2,000 resamples) for the areas:",
        "",
        f"- accuracy {test['accuracy']:.4f} ({interval(shown['accuracy'])}), precision "
        f"{test['precision']:.4f} ({interval(shown['precision'])}), recall {test['recall']:.4f} "
        f"({interval(shown['recall'])})",
        f"- ROC AUC {test['roc_auc']:.3f} ({interval(test['roc_auc_interval'])}), average "
        f"precision {test['average_precision']:.3f} "
        f"({interval(test['average_precision_interval'])})",
        "",
        "Cross-validation means with the corrected 95 % interval (Nadeau and Bengio):",
        "",
    ]
    for name, cv in (
        ("tutorial", m["cv"]),
        ("with dropout 0.1", m["cv_dropout"]),
        ("improved", m["improved"]["cv"]),
    ):
        lines.append(f"- {name}: {cv['mean']:.4f} ({interval(cv['mean_interval'])})")
    lines += ["", "Comparisons (a against b):", ""]
    lines += [
        f"- {c['a']} against {c['b']}, on the {'test set' if c['on'] == 'test' else 'folds'}, "
        f"{c['test']}: p = {c['p_value']:.2g}"
        + (
            f" ({c['a_only_right']} rows only a got right, {c['b_only_right']} only b)"
            if c["on"] == "test"
            else f" (mean difference {c['mean_difference']:+.4f})"
        )
        for c in m["comparisons"]
    ]
    lines += ["", "Seeds 0 and 1 (`python -m confusion_metrics compare seed-0 seed-1`):", "", "```"]
    lines += [*compared.strip().splitlines(), "```"]
    print("\n".join(lines))
    write_section("ann-intervals", "Chapter 1: how sure is each figure (`ann.py`, seed 0)", lines)


def straightforward_fit() -> float:
    """Seconds of one plain model.fit (no steps_per_execution, no XLA) at the tutorial's
    settings."""
    import pandas as pd
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from tutorial_support.ann import churn
    from tutorial_support.common import data
    from tutorial_support.common.runtime import keras, seed_everything

    features, exited = churn.load_churn(data.churn_csv())
    # the course's 11 features (Geography and Gender one-hot, the first category dropped)
    X = pd.get_dummies(features, columns=["Geography", "Gender"], drop_first=True, dtype=float)
    X_train, _, y_train, _ = train_test_split(X, exited, test_size=0.2, random_state=0)
    X_train = StandardScaler().fit_transform(X_train)
    seed_everything(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(11,)),
            keras.layers.Dense(6, activation="relu", kernel_initializer="uniform"),
            keras.layers.Dense(6, activation="relu", kernel_initializer="uniform"),
            keras.layers.Dense(1, activation="sigmoid", kernel_initializer="uniform"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    began = time.perf_counter()
    model.fit(X_train, y_train, batch_size=10, epochs=100, verbose=0)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--skip-baseline", action="store_true", help="do not time the straightforward fit"
    )
    parser.add_argument("--tune", action="store_true", help="also run step 12's grid search")
    parser.add_argument(
        "--intervals",
        action="store_true",
        help="only the default run's intervals and comparisons, and seed 0 against seed 1",
    )
    parser.add_argument(
        "--seeds",
        type=positive_int,
        default=1,
        help="also run seeds 1 to N-1 and record the spread",
    )
    parser.add_argument(
        "--outputs",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep each run's outputs (models, figures, metrics.json) in DIR",
    )
    args = parser.parse_args()
    global KEEP
    KEEP = args.outputs
    if args.intervals:
        intervals()
        return
    straightforward = None if args.skip_baseline else straightforward_fit()
    metrics = default_run(straightforward)
    if args.tune:
        grid_search()
    if args.seeds > 1:
        seed_spread(args.seeds, metrics)


if __name__ == "__main__":
    try:
        main()
    except TutorialError as error:  # e.g. no data: one line, as the scripts do
        sys.exit(f"error: {error}")
