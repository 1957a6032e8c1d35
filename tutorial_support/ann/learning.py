"""how_ann_learns.py's plumbing: the bank's table as ann.py's steps 1 to 4 leave it, the
network's weights as NumPy arrays, and the lesson's figures.

The lesson itself (forward propagation, the error, back-propagation, the update) is written out
in the script, where a reader sees it; what is here only gets data and weights in and out, and
draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from tutorial_support.ann import churn, tables
from tutorial_support.common import data


@dataclass
class Churn:
    """The bank's customers, encoded and scaled as ann.py does, split 80/20 (random_state=0)."""

    names: list[str]  # the 11 inputs, in the network's order
    training: pd.DataFrame  # the training customers as the table has them (readable)
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    preprocess: Pipeline  # readable rows -> the network's inputs
    typical: dict  # the training rows' median or most frequent value of each column


def load_churn(data_flag) -> Churn:
    """ann.py's steps 1 to 4 in one call: read and check the table, one-hot encode the two text
    columns (dropping the first category), split, and scale on the training rows alone."""
    table = tables.load(data.churn_csv(data_flag), churn.TARGET)
    text = OneHotEncoder(drop="first", handle_unknown="ignore", sparse_output=False)
    preprocess = Pipeline(
        [
            (
                "encode",
                ColumnTransformer(
                    [("text", text, table.text), ("numbers", "passthrough", table.numbers)],
                    verbose_feature_names_out=False,
                ),
            ),
            ("scale", StandardScaler()),
        ]
    )
    training, test, y_train, y_test = train_test_split(
        table.features, table.y, test_size=0.2, random_state=0
    )
    X_train = preprocess.fit_transform(training)
    return Churn(
        names=list(preprocess.get_feature_names_out()),
        training=training,
        X_train=X_train,
        y_train=y_train,
        X_test=preprocess.transform(test),
        y_test=y_test,
        preprocess=preprocess,
        typical=table.typical_row(training),
    )


def weights_of(model) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each Dense layer's (W, b), as float64 NumPy arrays: W has one row per input, one column
    per unit."""
    return [
        tuple(np.asarray(w, dtype=np.float64) for w in layer.get_weights())
        for layer in model.layers
        if layer.get_weights()
    ]


def largest_difference(ours, theirs) -> float:
    """The largest absolute difference between two lists of arrays of the same shapes."""
    return max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in zip(ours, theirs))


def grid_rows(churn_data: Churn, ages: np.ndarray, products: np.ndarray) -> pd.DataFrame:
    """A typical customer (the training rows' median, or most frequent value), at every age and
    number of products: one row each, products in the outer loop."""
    rows = [
        {**churn_data.typical, "Age": float(age), "NumOfProducts": float(n)}
        for n in products
        for age in ages
    ]
    return pd.DataFrame(rows, columns=churn_data.training.columns)


# The figures, one function each; the script shows them at their step and saves them at the end.


def weight_maps(starts: dict[str, np.ndarray], names: list[str]) -> Figure:
    """The first layer's weights (one row per input, one column per unit) after each start."""
    figure = Figure(figsize=(3.2 * len(starts) + 1.5, 4.2), layout="constrained")
    axes = figure.subplots(1, len(starts), sharey=True)
    limit = max(float(np.abs(w).max()) for w in starts.values()) or 1.0
    for ax, (title, W) in zip(axes, starts.items()):
        image = ax.imshow(W, cmap="coolwarm", vmin=-limit, vmax=limit, aspect="auto")
        ax.set_title(title, fontsize=9)
        ax.set_xticks(range(W.shape[1]), [str(u + 1) for u in range(W.shape[1])])
        ax.set_xlabel("unit of hidden layer 1")
    axes[0].set_yticks(range(len(names)), names, fontsize=8)
    figure.colorbar(image, ax=axes, label="weight", shrink=0.8)
    return figure


def loss_curves(panels: dict[str, dict[str, tuple]], ylabel: str = "training loss") -> Figure:
    """Side by side, one panel per title: {title: {label: (x, loss)}}; the x axis is named by
    the panel's title's last word in brackets, e.g. "... (epoch)"."""
    figure = Figure(figsize=(4.3 * len(panels), 3.6), layout="constrained")
    for ax, (title, curves) in zip(
        figure.subplots(1, len(panels), squeeze=False)[0], panels.items()
    ):
        for label, (x, loss) in curves.items():
            ax.plot(x, loss, label=label, marker="." if len(x) < 30 else None)
        ax.set_title(title.split(" (")[0], fontsize=10)
        ax.set_xlabel(title.rsplit("(", 1)[-1].rstrip(")"))
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return figure


def as_it_learns(maps: dict[int, np.ndarray], ages: np.ndarray, products: np.ndarray) -> Figure:
    """P(leaves) of a typical customer over age and number of products, after each epoch named
    in ``maps`` ({epoch: probabilities, one row per number of products})."""
    figure = Figure(figsize=(3.0 * len(maps) + 1.2, 3.0), layout="constrained")
    axes = figure.subplots(1, len(maps), sharey=True)
    for ax, (epoch, p) in zip(axes, maps.items()):
        image = ax.imshow(
            p,
            cmap="magma",
            vmin=0,
            vmax=1,
            aspect="auto",
            origin="lower",
            extent=(ages[0], ages[-1], products[0] - 0.5, products[-1] + 0.5),
        )
        ax.set_title(f"after epoch {epoch}", fontsize=10)
        ax.set_xlabel("age")
    axes[0].set_ylabel("number of products")
    axes[0].set_yticks(products)
    figure.colorbar(image, ax=axes, label="P(leaves)", shrink=0.9)
    return figure


def read_flags(settings: str, script_folder):
    """how_ann_learns.py's flags (cli.read_lesson_flags)."""
    from tutorial_support.common.cli import positive_int, read_lesson_flags

    return read_lesson_flags(
        settings,
        "How the churn ANN learns: the course's seven steps of stochastic gradient descent, by "
        "hand in NumPy and checked against Keras.",
        script_folder / "outputs" / "how_ann_learns",
        {
            "--epochs": {
                "type": positive_int,
                "default": 100,
                "help": "step 7: epochs of the course's training",
            },
            "--sgd-epochs": {
                "type": positive_int,
                "default": 10,
                "help": "steps 5 and 6: epochs of gradient descent by hand, for each learning "
                "rate and batch size",
            },
        },
    )
