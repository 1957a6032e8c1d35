"""cnn.py --predict: classify image files with the model a previous run saved (and --explain
them)."""

from __future__ import annotations

import argparse
import json

import numpy as np

from tutorial_support.cnn import (
    augmentation,  # noqa: F401  (registers RandomShearZoomFlip for loading)
    explain,
    figures,
    images,
    reports,
)
from tutorial_support.common.errors import TutorialError
from tutorial_support.common.outputs import StagedOutputs
from tutorial_support.common.runtime import keras

CNN_MODEL = "cnn_model.keras"


def predict_images_from_saved(args: argparse.Namespace) -> None:
    """Print a verdict for every image of ``--predict``; with ``--explain``, a Grad-CAM figure
    each."""
    model_path, metrics_path = args.output_dir / CNN_MODEL, args.output_dir / "metrics.json"
    if not (model_path.is_file() and metrics_path.is_file()):
        model = " --model improved" if args.model == "improved" else ""
        raise TutorialError(
            f"no saved model in {args.output_dir}: run cnn.py{model} once without --predict"
        )
    saved = json.loads(metrics_path.read_text())
    class_names, size = saved["test"]["class_names"], saved["config"]["image_size"]
    batch = []
    for path in args.predict:
        if not path.is_file():
            raise TutorialError(f"--predict: no such file: {path}")
        try:
            batch.append(images.decode_image(path, size))
        except ValueError as error:
            raise TutorialError(f"--predict: {path} is not a readable image ({error})") from None
    model = keras.models.load_model(model_path, compile=False)  # predicting needs no optimizer
    pixels = np.stack(batch)
    probabilities = reports.class_probabilities(model.predict(pixels.astype("float32"), verbose=0))
    for path, row in zip(args.predict, probabilities):
        print(f"{path}: {reports.verdict(row, class_names)}")
    if args.explain:  # Grad-CAM: where the network looked for the class it chose
        heatmaps = explain.gradcam(model, pixels)
        with StagedOutputs(args.output_dir) as outputs:
            for path, image, heat, row in zip(args.predict, pixels, heatmaps, probabilities):
                verdict = reports.verdict(row, class_names)
                figure = figures.heatmap_figure([image], [heat], [verdict], path.name, columns=1)
                outputs.save_figure(f"gradcam_{path.stem}.png", figure)
        for path in args.predict:
            print(f"wrote {args.output_dir / f'gradcam_{path.stem}.png'}")
