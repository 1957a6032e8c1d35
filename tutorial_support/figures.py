"""Figures the scripts save: training curves (both scripts), feature importance (ann.py),
Grad-CAM heatmaps and the most confident mistakes (cnn.py).

(The confusion matrix and the threshold and calibration curves are drawn by
``confusion_metrics.report``, beside the metrics they show.)
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure  # not pyplot: no GUI backend is needed


def training_curves(history: dict, validation_label: str = "test") -> Figure:
    """Loss and accuracy per epoch, from Keras' History.history.

    Where the history also has "val_loss" and "val_accuracy" (cnn.py validates on the
    test images every epoch; ann.py on the held-out folds of its cross-validation),
    they are drawn beside the training curves, labelled ``validation_label``. Several
    networks: pass ``{title: history, ...}`` and each gets a row of its own.
    """
    rows = {"": history} if "loss" in history else history
    figure = Figure(figsize=(9, 3.5 * len(rows)), layout="constrained")
    for row_axes, (title, curves) in zip(figure.subplots(len(rows), 2, squeeze=False), rows.items()):
        epochs = range(1, len(curves["loss"]) + 1)
        for axes, key in zip(row_axes, ("loss", "accuracy")):
            axes.plot(epochs, curves[key], label="training")
            if f"val_{key}" in curves:
                axes.plot(range(1, len(curves[f"val_{key}"]) + 1), curves[f"val_{key}"], label=validation_label)
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
    axes.barh(names, [importances[n][0] for n in names], xerr=[importances[n][1] for n in names], color="tab:blue")
    axes.axvline(0, color="black", linewidth=0.8)
    axes.set_xlabel(xlabel)
    axes.set_title(title)
    axes.grid(axis="x", alpha=0.3)
    return figure


def _two_lines(caption: str) -> str:
    """ "actual cat, said dog, p = 0.9993" -> the confidence on a line of its own, so captions fit."""
    return caption.replace(", p = ", "\np = ", 1)


def _grid(count: int, columns: int, size: float = 2.0):
    rows = max(1, -(-count // columns))
    figure = Figure(figsize=(size * columns, size * rows + 0.6), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for a in axes:
        a.axis("off")
    return figure, axes


def heatmap_figure(images, heatmaps, titles, title: str, columns: int = 4, level: float = 0.3) -> Figure:
    """Each image with its Grad-CAM heatmap laid over it, titled, and one colour bar.

    Heat below ``level`` (of each map's maximum) is left transparent, so the photo stays
    visible and only the places that argued most for the answer are coloured.
    """
    figure, axes = _grid(len(images), columns)
    shown = None
    for a, image, heat, text in zip(axes, images, heatmaps, titles):
        a.imshow(np.asarray(image, dtype=np.uint8))
        shown = a.imshow(np.ma.masked_less(heat, level), cmap="inferno", alpha=0.6, vmin=0, vmax=1)
        a.set_title(_two_lines(text), fontsize=8)
    if shown is not None:
        bar = figure.colorbar(shown, ax=list(axes), shrink=0.8, aspect=25, pad=0.02)
        bar.set_label(f"heat (below {level:g}: not coloured)", fontsize=8)
        bar.ax.tick_params(labelsize=7)
    figure.suptitle(title)
    return figure


def mistakes_figure(images, titles, title: str, columns: int = 4) -> Figure:
    figure, axes = _grid(len(images), columns)
    for a, image, text in zip(axes, images, titles):
        a.imshow(np.asarray(image, dtype=np.uint8))
        a.set_title(_two_lines(text), fontsize=8)
    figure.suptitle(title)
    return figure
