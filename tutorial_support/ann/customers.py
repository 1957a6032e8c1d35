"""Step 8: one new customer (a row of the table), from readable fields to the network's answer.

``description`` is what a run saves about its table for this step, ``read`` turns
``--customer "Column=value,..."`` into a one-row table (the fields left out take a default
row), ``verdict`` prints and returns the network's answer, and
``answer_from_saved`` is ``ann.py --predict-only``: step 8 with the model, preprocessing and
table description a previous run saved.
"""

from __future__ import annotations

import difflib
import json
import math
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from tutorial_support.ann.tables import Table, is_whole
from tutorial_support.common.errors import TutorialError
from tutorial_support.common.reports import section
from tutorial_support.common.runtime import keras
from tutorial_support.fast.training import predict_probabilities

# What ann.py saves (the names are the course's: the bank's churn network)
ANN_MODEL, ANN_IMPROVED_MODEL = "churn_ann.keras", "churn_ann_improved.keras"
ANN_PREPROCESSING = "preprocessing.joblib"


def description(table: Table, training: pd.DataFrame, encoded: list[str]) -> dict:
    """metrics.json's ``data``: the table, its classes and the decisions, the encoded feature
    names, and what ``--predict-only`` needs for step 8: the default row, each text column's
    categories, each number column's range and whether it holds only whole numbers."""
    default_row, default_said = table.default_row(training)
    about = {
        "table": str(table.path),
        "rows": int(len(table.y)),
        "target": table.target,
        "classes": table.classes,
        "class_names": table.names,
        "words": table.words,
    }
    if table.positive is not None:
        about["positive"] = table.positive
    about.update(
        dropped=table.dropped,
        imputed=table.missing,
        rows_without_target=table.rows_without_target,
        columns={"numbers": table.numbers, "text": table.text},
        leaky={"columns": table.leaky, "kept": table.leaky_kept},
        unseen=table.unseen,
        features=list(encoded),
        categories=table.categories(training),
        ranges={n: [float(training[n].min()), float(training[n].max())] for n in table.numbers},
        whole_numbers=[n for n in table.numbers if is_whole(training[n])],
        default_row=default_row,
        default_said=default_said,
    )
    return about


def _said(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _number(name: str, value: str, about: dict) -> float:
    """A number field: finite, and whole where the training rows held only whole numbers."""
    try:
        number = float(value)
    except ValueError:
        raise TutorialError(f"--customer: {name} must be a number, got {value!r}") from None
    if not math.isfinite(number):  # nan, inf, and 1e309, which overflows to inf
        raise TutorialError(f"--customer: {name} must be a finite number, got {value!r}")
    if name in about["whole_numbers"] and number != round(number):
        raise TutorialError(
            f"--customer: {name} takes whole numbers (every training row holds one), got {value}"
        )
    return number


def read(text: str | None, about: dict) -> pd.DataFrame:
    """A one-row table from "column=value,..."; fields left out take ``about["default_row"]``.

    ``about`` is metrics.json's ``data``: the default row and where it comes from, the number
    and text columns, each text column's categories, and each number column's range in the
    training rows. One line, and exit status 2, for a field that is not a column or is given
    twice, a number that is not a finite number (or a fraction where the training rows hold
    only whole numbers), or a category the training rows never had. A number outside the
    training range is answered, with a warning: the network never saw such a row.
    """
    row, given = dict(about["default_row"]), set()
    numbers, categories = about["columns"]["numbers"], about["categories"]
    for part in filter(None, (piece.strip() for piece in (text or "").split(","))):
        name, sep, value = (s.strip() for s in part.partition("="))
        if not sep or not value:
            raise TutorialError(f"--customer: expected COLUMN=VALUE, got {part!r}")
        if name not in row:
            close = difflib.get_close_matches(name, list(row), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TutorialError(
                f"--customer: {name!r} is not a feature column{hint}; columns are {', '.join(row)}"
            )
        if name in given:
            raise TutorialError(f"--customer: {name} is given twice; give each field once")
        if name in numbers:
            value = _number(name, value, about)
        elif value not in categories[name]:
            raise TutorialError(
                f"--customer: unknown {name} {value!r}; expected one of "
                f"{', '.join(categories[name])}"
            )
        row[name] = value
        given.add(name)
    left_out = [name for name in row if name not in given]
    if left_out and given:
        print(
            f"fields left out take {about['default_said']}: "
            + ", ".join(f"{name} {_said(row[name])}" for name in left_out)
        )
    elif left_out:
        print(f"every field takes {about['default_said']}")
    fields = ", ".join(f"{name} {_said(value)}" for name, value in row.items())
    print(f"{about['words']['row'].capitalize()}: {fields}")
    for name in sorted(given & set(numbers), key=list(row).index):
        low, high = about["ranges"][name]
        if not low <= row[name] <= high:  # min to max of the training rows
            print(
                f"warning: {name} {row[name]:g} is outside what the training rows held "
                f"({low:g} to {high:g}): the network never saw such a {about['words']['row']}, "
                "and its answer there is a guess"
            )
    return pd.DataFrame([row])


def verdict(probabilities: np.ndarray, about: dict) -> dict:
    """Print the network's answer for one row and return it for metrics.json.

    One sigmoid output: P(positive class) and the class it gives at 0.5. A softmax: every
    class's probability and the most likely class.
    """
    classes, names = about["classes"], about["class_names"]
    probabilities = np.atleast_1d(np.asarray(probabilities, dtype=np.float64))
    if probabilities.size == 1:  # one sigmoid output: P(class 1)
        probability = float(probabilities[0])
        k = int(probability > 0.5)
        print(f"{about['words']['p']} = {probability:.3f} -> {names[k]}")
        return {"probability": probability, "class": classes[k]}
    k = int(np.argmax(probabilities))
    print(
        ", ".join(f"P({name}) = {p:.3f}" for name, p in zip(names, probabilities))
        + f" -> {names[k]}"
    )
    return {"probabilities": dict(zip(classes, probabilities.tolist())), "class": classes[k]}


def answer_from_saved(output_dir: Path, text: str) -> dict:
    """ann.py --predict-only: step 8 with what a previous run saved in ``output_dir``."""
    model_path, preprocessing_path = output_dir / ANN_MODEL, output_dir / ANN_PREPROCESSING
    metrics_path = output_dir / "metrics.json"
    if not (model_path.is_file() and preprocessing_path.is_file() and metrics_path.is_file()):
        raise TutorialError(
            f"no saved model in {output_dir}: run ann.py once without --predict-only"
        )
    about = json.loads(metrics_path.read_text()).get("data", {})
    if "ranges" not in about:
        raise TutorialError(
            f"{metrics_path} was written by an older ann.py: run ann.py once without --predict-only"
        )
    section("Step 8: predict a single new customer (saved model)")
    customer = read(text, about)
    model = keras.models.load_model(model_path, compile=False)  # predicting needs no optimizer
    preprocessing = joblib.load(preprocessing_path)
    return verdict(predict_probabilities(model, preprocessing.transform(customer))[0], about)
