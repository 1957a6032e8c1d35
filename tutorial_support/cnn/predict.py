"""--predict: classify photos with the model a previous run saved (and --explain them).

``--predict`` takes image files and folders. A folder's own images are classified (its
sub-folders are not searched); a file in it that is not a readable image is skipped, and one
warning names them. Every verdict is printed, one line an image, and ``predictions.csv`` (file,
class, probability) is written into ``--output-dir`` beside the model, atomically.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from tutorial_support.cnn import explain, figures, images, reports
from tutorial_support.cnn.augmentation import RandomShearZoomFlip
from tutorial_support.common.errors import TutorialError
from tutorial_support.common.figures import show
from tutorial_support.common.outputs import StagedOutputs
from tutorial_support.common.runtime import keras

CNN_MODEL = "cnn_model.keras"
BATCH = 256  # images decoded and classified at a time; a larger folder shows its progress


def files_to_classify(paths: list[Path]) -> list[tuple[Path, bool]]:
    """Every file of --predict, in order, each with whether it was named (not found in a folder)."""
    found = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            if not inside:
                raise TutorialError(f"--predict: the folder {path} holds no files")
            found += [(p, False) for p in inside]
        elif path.is_file():
            found.append((path, True))
        else:
            raise TutorialError(f"--predict: no such file or folder: {path}")
    return found


def _decode(files: list[tuple[Path, bool]], size: int) -> tuple[list[Path], list, list[Path]]:
    """The images decoded, and the folders' files that are not readable images (skipped)."""
    kept, pixels, skipped = [], [], []
    for path, named in files:
        try:
            pixels.append(images.decode_image(path, size))
            kept.append(path)
        except ValueError as error:
            if named:  # a file you named yourself stops the run
                raise TutorialError(
                    f"--predict: {path} is not a readable image ({error})"
                ) from None
            skipped.append(path)
    return kept, pixels, skipped


def predict_images_from_saved(args: argparse.Namespace) -> None:
    """Print a verdict for every image of ``--predict``, write predictions.csv, and with
    ``--explain`` a Grad-CAM figure for each image."""
    model_path, metrics_path = args.output_dir / CNN_MODEL, args.output_dir / "metrics.json"
    if not (model_path.is_file() and metrics_path.is_file()):
        model = " --model improved" if args.model == "improved" else ""
        raise TutorialError(
            f"no saved model in {args.output_dir}: run {args.script}{model} once without --predict"
        )
    saved = json.loads(metrics_path.read_text())
    class_names, size = saved["test"]["class_names"], saved["config"]["image_size"]
    files = files_to_classify(args.predict)
    # compile=False: predicting needs no optimizer
    model = keras.models.load_model(
        model_path, compile=False, custom_objects={"RandomShearZoomFlip": RandomShearZoomFlip}
    )
    rows, explained, skipped = [], [], []
    for start in range(0, len(files), BATCH):
        kept, pixels, unreadable = _decode(files[start : start + BATCH], size)
        skipped += unreadable
        if len(files) > BATCH:  # a large folder: how far it has got
            done = min(start + BATCH, len(files))
            print(f"... {done:,} of {len(files):,} files", file=sys.stderr, flush=True)
        if not kept:
            continue
        pixels = np.stack(pixels)
        probabilities = reports.class_probabilities(
            model.predict(pixels.astype("float32"), verbose=0)
        )
        for path, p in zip(kept, probabilities):
            print(f"{path}: {reports.verdict(p, class_names)}")
            best = int(np.argmax(p))
            rows.append(
                {"file": str(path), "class": class_names[best], "probability": float(p[best])}
            )
        if args.explain:  # Grad-CAM: where the network looked for the class it chose
            explained += list(zip(kept, pixels, explain.gradcam(model, pixels), probabilities))
    if skipped:
        names = ", ".join(p.name for p in skipped[:5]) + (
            f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        )
        print(f"warning: skipped {len(skipped)} file(s) that are not readable images: {names}")
    if not rows:
        raise TutorialError("--predict: none of the files given is a readable image")
    with StagedOutputs(args.output_dir) as outputs:
        pd.DataFrame(rows).to_csv(outputs.path("predictions.csv"), index=False)
        for path, image, heat, p in explained:
            verdict = reports.verdict(p, class_names)
            figure = figures.heatmap_figure([image], [heat], [verdict], path.name, columns=1)
            outputs.save_figure(f"gradcam_{path.stem}.png", show(figure))
    count = f"{len(rows):,} image{'s' if len(rows) > 1 else ''}"
    print(f"wrote {args.output_dir / 'predictions.csv'} ({count})")
    for path, *_ in explained:
        print(f"wrote {args.output_dir / f'gradcam_{path.stem}.png'}")
