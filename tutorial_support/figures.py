"""The training-curves figure both scripts save."""

from __future__ import annotations

from matplotlib.figure import Figure  # not pyplot: no GUI backend is needed


def training_curves(history: dict[str, list[float]]) -> Figure:
    """Loss and accuracy per epoch, from Keras' History.history.

    Where the history also has "val_loss" and "val_accuracy" (cnn.py validates on
    the test images every epoch), they are drawn beside the training curves.
    """
    figure = Figure(figsize=(9, 3.5), layout="constrained")
    epochs = range(1, len(history["loss"]) + 1)
    for axes, key in zip(figure.subplots(1, 2), ("loss", "accuracy")):
        axes.plot(epochs, history[key], label="training")
        if f"val_{key}" in history:
            axes.plot(epochs, history[f"val_{key}"], label="test")
            axes.legend()
        axes.set_xlabel("epoch")
        axes.set_title(key)
        axes.grid(alpha=0.3)
    return figure
