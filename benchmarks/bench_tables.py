"""Chapter 1 on tables of one's own: real tables nobody here wrote, and a large synthetic one.

    # wine (3 classes), breast cancer (2), the bank read as any CSV
    python benchmarks/bench_tables.py
    # also 100,000 rows x 30 columns: time and peak memory
    python benchmarks/bench_tables.py --large

Each table runs `ann.py --data TABLE.csv --target COLUMN` at its defaults (seed 0). Prints every
figure and writes it to docs/measurements.md, the file the README quotes.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from measurements import percent, write_section

ROOT = Path(__file__).resolve().parents[1]
KEEP: Path | None = None  # --outputs: keep each run's outputs (the README's figures come from them)


def run_ann(name: str, *flags) -> tuple[float, float, dict, str]:
    """Wall seconds, peak memory (MB) of this run's process, metrics.json and what it printed."""
    out = Path(tempfile.mkdtemp()) if KEEP is None else KEEP / name
    command = [
        sys.executable,
        str(ROOT / "1_artificial_neural_networks" / "ann.py"),
        "--verbose",
        "0",
        "--output-dir",
        str(out),
        *map(str, flags),
    ]
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    printed = process.stdout.read()
    # this run's own peak memory (resident set), not the largest so far
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - began
    if status:
        sys.exit(f"error: {' '.join(command)} failed")
    metrics = json.loads((out / "metrics.json").read_text())
    if KEEP is None:
        shutil.rmtree(out, ignore_errors=True)
    return wall, usage.ru_maxrss / 1024, metrics, printed


def decisions(printed: str) -> list[str]:
    """The lines of step 1 that state a decision about the table."""
    step1 = printed.split("=== Step 1")[1].split("=== Step 2")[0].splitlines()[1:]
    return [line for line in step1 if line.strip()]


def summary(name: str, wall: float, peak: float, m: dict) -> list[str]:
    test, data = m["test"], m["data"]
    lines = [
        f"**{name}**: {data['rows']:,} rows, target `{data['target']}`, classes "
        + ", ".join(data["classes"])
        + (f" (positive: {data['positive']})" if "positive" in data else "")
        + f"; {len(data['features'])} encoded features; wall time {wall:.1f} s, peak memory "
        f"{peak:.0f} MB.",
        "",
    ]
    header = (
        "| model | test accuracy | test ROC AUC | CV mean |"
        if "roc_auc" in test
        else "| model | test accuracy | CV mean |"
    )
    lines += [header, "|---|---|---|---|" if "roc_auc" in test else "|---|---|---|"]
    rows = [
        (n, b["test_accuracy"], b.get("test_roc_auc"), b.get("cv_mean"))
        for n, b in m["baselines"].items()
    ]
    rows += [
        ("tutorial network", test["accuracy"], test.get("roc_auc"), m["cv"]["mean"]),
        (
            "improved network",
            m["improved"]["test"]["accuracy"],
            m["improved"]["test"].get("roc_auc"),
            m["improved"]["cv"]["mean"],
        ),
    ]
    for model, accuracy, auc, cv in rows:
        cells = [model.replace("_", " "), percent(accuracy)]
        if "roc_auc" in test:
            cells.append(f"{auc:.3f}" if auc is not None else "0.500")
        cells.append(f"{cv:.4f}" if cv is not None else "")
        lines.append("| " + " | ".join(cells) + " |")
    if "per_class" in test and "roc_auc" not in test:
        lines += [
            "",
            "Tutorial network per class (test set): "
            + ", ".join(
                f"{c} recall {percent(v['recall'])} of {v['support']}"
                for c, v in test["per_class"].items()
            )
            + ".",
        ]
    top = list(m["feature_importance"].items())[:3]
    lines += [
        "",
        "Step 16, the three columns it relies on most: "
        + ", ".join(f"{c} {d:.3f}" for c, d in top)
        + ".",
    ]
    if "threshold" in m:
        lines.append(
            f"Step 13: threshold {m['threshold']['value']:.3f} ({m['threshold']['rule']}, "
            f"{m['threshold']['chosen_on']})."
        )
    lines.append(
        f"Step 17: ECE tutorial {m['calibration']['tutorial']['ece']:.4f}, temperature T = "
        f"{m['calibration']['temperature']['value']:.3f}."
    )
    return lines


def real_tables(folder: Path) -> None:
    from sklearn.datasets import load_breast_cancer

    from tutorial_support.common import data

    subprocess.run(
        [sys.executable, str(ROOT / "docs" / "make_wine_csv.py"), str(folder / "wine.csv")],
        check=True,
    )
    cancer = load_breast_cancer(as_frame=True)
    table = cancer.frame.rename(columns={"target": "diagnosis"})
    table["diagnosis"] = [cancer.target_names[k] for k in cancer.target]
    table.to_csv(folder / "breast_cancer.csv", index=False)
    # the course's table, read as any table would be
    shutil.copy(data.churn_csv(), folder / "bank.csv")

    lines = []
    for name, file, target in (
        ("wine", "wine.csv", "cultivar"),
        ("breast cancer", "breast_cancer.csv", "diagnosis"),
        ("the bank, read as any CSV", "bank.csv", "Exited"),
    ):
        wall, peak, m, printed = run_ann(
            file.removesuffix(".csv"), "--data", folder / file, "--target", target
        )
        these = summary(name, wall, peak, m) + [
            "",
            "Step 1 printed:",
            "",
            "```",
            *decisions(printed),
            "```",
            "",
        ]
        print("\n".join(these))
        lines += these
    write_section(
        "tables-real",
        "Chapter 1 on tables of one's own (`ann.py --data TABLE.csv --target COLUMN`, seed 0)",
        lines,
    )


def synthetic_table(rows: int = 100_000, seed: int = 0) -> pd.DataFrame:
    """30 columns like a company's export: an ID, 18 numbers, 10 text columns (one of them free
    text), gaps."""
    rng = np.random.default_rng(seed)
    table = {"customer_id": np.arange(1, rows + 1) * 7 + 1_000_000}
    numbers = rng.normal(size=(rows, 18)) * rng.uniform(1, 1000, 18) + rng.uniform(-50, 500, 18)
    for k in range(18):
        table[f"amount_{k}"] = np.round(numbers[:, k], 2)
    categories = [["north", "south", "east", "west"], ["basic", "plus", "premium"], ["yes", "no"]]
    for k in range(9):
        table[f"category_{k}"] = rng.choice(
            categories[k % 3] + [f"other_{j}" for j in range(k)], rows
        )
    # free text: thousands of values
    table["comment"] = [f"note {n}" for n in rng.integers(0, 5000, rows)]
    table = pd.DataFrame(table)
    signal = (
        (numbers[:, 0] - numbers[:, 0].mean()) / numbers[:, 0].std()
        + (table.category_1 == "premium")
        - (table.category_2 == "yes")
        + 0.5 * np.sin(numbers[:, 1] / numbers[:, 1].std())
    )
    table["churned"] = np.where(signal + rng.logistic(0, 0.7, rows) > 1.0, "yes", "no")
    for column in ("amount_3", "amount_7", "category_4"):  # 2 % empty cells
        table.loc[rng.random(rows) < 0.02, column] = np.nan
    return table


def large_table(folder: Path) -> None:
    table = synthetic_table()
    path = folder / "large.csv"
    table.to_csv(path, index=False)
    wall, peak, m, printed = run_ann("large", "--data", path, "--target", "churned")
    t = m["timings_s"]
    lines = [
        f"A synthetic table of {len(table):,} rows and {table.shape[1] - 1} columns (an ID, 18 "
        "numbers, 9 text columns "
        f"with 3 to 11 categories, one free-text column; 2 % empty cells in three columns), "
        f"{path.stat().st_size / 1e6:.1f} MB of CSV.",
        "",
        f"- default run: wall time {wall:.1f} s, peak memory {peak:.0f} MB; steps: "
        + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in t.items() if step != "total"),
        f"- test accuracy {percent(m['test']['accuracy'])}, ROC AUC {m['test']['roc_auc']:.3f}; "
        f"gradient boosting {percent(m['baselines']['gradient_boosting']['test_accuracy'])}",
        "- step 16, the columns the improved network relies on most (the target was made from "
        "amount_0, "
        "category_1, category_2 and amount_1): "
        + ", ".join(f"{c} {d:.3f}" for c, d in list(m["feature_importance"].items())[:5]),
        "",
        "Step 1 printed:",
        "",
        "```",
        *decisions(printed),
        "```",
    ]
    print("\n".join(lines))
    write_section(
        "tables-large", "Chapter 1 on a large table of one's own (100,000 rows, seed 0)", lines
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also the 100,000-row synthetic table")
    parser.add_argument(
        "--only-large", action="store_true", help="only the 100,000-row synthetic table"
    )
    parser.add_argument(
        "--outputs", type=Path, default=None, metavar="DIR", help="keep each run's outputs in DIR"
    )
    args = parser.parse_args()
    global KEEP
    KEEP = args.outputs
    with tempfile.TemporaryDirectory() as folder:
        if not args.only_large:
            real_tables(Path(folder))
        if args.large or args.only_large:
            large_table(Path(folder))


if __name__ == "__main__":
    main()
