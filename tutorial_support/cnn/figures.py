"""Figures of images: Grad-CAM heatmaps laid over photos, and the most confident mistakes."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure  # not pyplot: no GUI backend is needed


def _two_lines(caption: str) -> str:
    """ "actual cat, said dog, p = 0.9993" -> the confidence on a line of its own, so captions
    fit."""
    return caption.replace(", p = ", "\np = ", 1)


def _grid(count: int, columns: int, size: float = 2.0):
    rows = max(1, -(-count // columns))
    figure = Figure(figsize=(size * columns, size * rows + 0.6), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for a in axes:
        a.axis("off")
    return figure, axes


def heatmap_figure(
    images, heatmaps, titles, title: str, columns: int = 4, level: float = 0.3
) -> Figure:
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


def looked_at(images, heatmaps, captions: list[str], shown: list[int], network: str) -> Figure:
    """gradcam.png: the photos ``shown`` with their heatmaps, captioned."""
    title = f"Where the {network} CNN looked (Grad-CAM: what argued most for its answer)"
    return heatmap_figure(images[shown], heatmaps, [captions[i] for i in shown], title)


def surest_mistakes(images, captions: list[str], mistakes, network: str) -> Figure:
    """mistakes.png: the most confident mistakes, captioned, surest first."""
    title = f"The {network} CNN's {len(mistakes)} most confident mistakes"
    return mistakes_figure(images[mistakes], [captions[i] for i in mistakes], title)
