"""Figures both scripts draw: training curves, and bars of importance (ann.py's step 16); and
``show``, which puts a figure in its step's cell in a notebook.

(The confusion matrix and the threshold and calibration curves are drawn by
``confusion_metrics.report``, beside the metrics they show.)
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure  # not pyplot: no GUI backend is needed

from tutorial_support.common.cli import in_notebook

DPI = 110  # of the saved PNGs and of those a notebook shows


def show(figure: Figure) -> Figure:
    """In a notebook, show ``figure`` in the cell of the step that drew it; return it.

    A plain run shows nothing: the Outputs cell saves every figure at the end, together
    (StagedOutputs), so that a run that fails half-way leaves the last run's figures whole.
    """
    if in_notebook():
        from IPython.display import Image, display  # a notebook kernel has IPython

        png = io.BytesIO()
        figure.savefig(png, format="png", dpi=DPI, bbox_inches="tight")
        display(Image(data=png.getvalue()))
    return figure


def training_curves(history: dict, validation_label: str = "test") -> Figure:
    """Loss and accuracy per epoch, from Keras' History.history.

    Where the history also has "val_loss" and "val_accuracy" (cnn.py validates on the
    test images every epoch; ann.py on the held-out folds of its cross-validation),
    they are drawn beside the training curves, labelled ``validation_label``. Several
    networks: pass ``{title: history, ...}`` and each gets a row of its own.
    """
    rows = {"": history} if "loss" in history else history
    figure = Figure(figsize=(9, 3.5 * len(rows)), layout="constrained")
    for row_axes, (title, curves) in zip(
        figure.subplots(len(rows), 2, squeeze=False), rows.items()
    ):
        epochs = range(1, len(curves["loss"]) + 1)
        for axes, key in zip(row_axes, ("loss", "accuracy")):
            axes.plot(epochs, curves[key], label="training")
            if f"val_{key}" in curves:
                axes.plot(
                    range(1, len(curves[f"val_{key}"]) + 1),
                    curves[f"val_{key}"],
                    label=validation_label,
                )
                axes.legend()
            axes.set_xlabel("epoch")
            axes.set_title(f"{title}: {key}" if title else key)
            axes.grid(alpha=0.3)
    return figure


def importance_bars(importances: dict[str, tuple[float, float]], xlabel: str, title: str) -> Figure:
    """Horizontal bars, largest on top: ``{name: (mean, standard deviation)}``."""
    names = sorted(importances, key=lambda name: importances[name][0])
    figure = Figure(figsize=(7, 0.35 * len(names) + 1.4), layout="constrained")
    axes = figure.add_subplot()
    axes.barh(
        names,
        [importances[n][0] for n in names],
        xerr=[importances[n][1] for n in names],
        color="tab:blue",
    )
    axes.axvline(0, color="black", linewidth=0.8)
    axes.set_xlabel(xlabel)
    axes.set_title(title)
    axes.grid(axis="x", alpha=0.3)
    return figure
