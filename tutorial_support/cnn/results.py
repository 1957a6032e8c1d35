"""What a chapter 2 run keeps: metrics.json's record, each test photo's prediction, and the model
and figures, saved together (cnn.py and transfer_learning.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import confusion_metrics
from tutorial_support.cnn.images import ImageSet
from tutorial_support.cnn.predict import CNN_MODEL
from tutorial_support.common import cli, runtime
from tutorial_support.common.outputs import StagedOutputs
from tutorial_support.common.reports import class_report

TEST_PREDICTIONS = "test_predictions.csv"


def run_results(
    cm: np.ndarray,
    class_names: list[str],
    calibration: dict,
    history: dict,
    args: argparse.Namespace,
    policy: str,
    machine,
    sets: tuple[ImageSet, ImageSet],
) -> dict:
    """metrics.json: the test results (with two classes, the positive class's precision, recall
    and F1, as the course reports them), the history, where and how it ran, its flags."""
    results = {
        "test": {**class_report(cm, class_names), "calibration": calibration},
        "history": {key: [float(v) for v in values] for key, values in history.items()},
        "distribution": {
            "strategy": args.strategy,
            "workers": machine.workers,
            "replicas": machine.replicas,
        },
        "precision": policy,
        "backend": runtime.backend(),  # Keras' backend, its version and the speed changes
        "skipped_files": {
            name: [str(p) for p in image_set.skipped]
            for name, image_set in zip(("training_set", "test_set"), sets)
        },
        "config": cli.flags_as_json(args),
    }
    # each rate's 95 % Wilson interval, over its own denominator (None where that is empty)
    intervals = confusion_metrics.confusion_intervals(
        cm, positive=1 if len(class_names) == 2 else None
    )
    per_class = intervals.pop("per_class", [])
    results["test"]["intervals"] = _json_ready(intervals)
    for name, class_intervals in zip(class_names, per_class):
        results["test"]["per_class"][name]["intervals"] = _json_ready(class_intervals)
    if len(class_names) == 2:  # the positive class, dogs
        positive = confusion_metrics.binary(cm, positive=1, labels=[0, 1])
        results["test"].update(
            positive=1, precision=positive.precision, recall=positive.recall, f1=positive.f1
        )
    return results


def _json_ready(intervals: dict) -> dict:
    """NaN (an empty denominator) as null, which JSON has."""
    return {
        name: None if any(np.isnan(bound) for bound in pair) else pair
        for name, pair in intervals.items()
    }


def test_predictions(
    test: ImageSet, probabilities: np.ndarray, class_names: list[str], root: Path | None = None
) -> pd.DataFrame:
    """One row per test photo: its id (its path under the data folder), the actual and predicted
    class, then each class's probability (``p_<class>``); `python -m confusion_metrics compare`
    reads two runs' tables."""
    ids = [
        str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path)
        for path in test.files
    ]
    table = pd.DataFrame(
        {
            "id": ids,
            "actual": [class_names[i] for i in test.labels],
            "predicted": [class_names[i] for i in probabilities.argmax(axis=1)],
        }
    )
    for i, name in enumerate(class_names):
        table[f"p_{name}"] = probabilities[:, i]
    return table


def save_run(
    output_dir: Path,
    machine,
    model,
    drawn: dict,
    results: dict,
    predictions: pd.DataFrame,
    tables: dict | None = None,
) -> None:
    """The model, the figures, test_predictions.csv (and ``tables``, by file name) and
    metrics.json, published together (only when all are written), by the chief alone on several
    machines."""
    if not machine.chief:
        print("\nThis worker writes nothing: the chief (worker 0) saves the outputs")
        return
    with StagedOutputs(output_dir) as outputs:
        model.save(outputs.path(CNN_MODEL))
        for name, figure in drawn.items():
            outputs.save_figure(name, figure)
        predictions.to_csv(outputs.path(TEST_PREDICTIONS), index=False, float_format="%.6g")
        for name, table in (tables or {}).items():
            table.to_csv(outputs.path(name), index=False, float_format="%.6g")
        outputs.write_json("metrics.json", results)
    print(f"\nSaved the model, the figures, {TEST_PREDICTIONS} and metrics.json in {output_dir}")
