"""Grad-CAM of two saved CNNs on the same test photos, one row each: the README's comparison of the
course's network and the pretrained one.

    python 2_convolutional_neural_networks/cnn.py                       # outputs/
    python 2_convolutional_neural_networks/transfer_learning.py         # outputs/pretrained/
    python docs/make_gradcam_comparison.py 2_convolutional_neural_networks/outputs \\
        2_convolutional_neural_networks/outputs/pretrained docs/cnn_gradcam_comparison.png

Each network sees the photos at its own size (64 and 224 pixels); both heatmaps are drawn over
the photo at the larger size. The photos: the first three cats and dogs of the test set.
"""

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from tutorial_support.cnn import explain, figures, images, reports
from tutorial_support.cnn.augmentation import RandomShearZoomFlip
from tutorial_support.common import data
from tutorial_support.common.errors import TutorialError
from tutorial_support.common.runtime import keras

PHOTOS = [f"cats/cat.{n}.jpg" for n in (4001, 4002, 4003)] + [
    f"dogs/dog.{n}.jpg" for n in (4001, 4002, 4003)
]


def row(folder: Path, files: list[Path], shown_size: int) -> tuple[list, list, str]:
    """The heatmaps and captions of the model saved in ``folder``, and its name."""
    if not (folder / "metrics.json").is_file() or not (folder / "cnn_model.keras").is_file():
        raise TutorialError(
            f"no saved model in {folder}: run cnn.py (or transfer_learning.py) first, "
            "and give its output folder"
        )
    saved = json.loads((folder / "metrics.json").read_text())
    size, names = saved["config"]["image_size"], saved["test"]["class_names"]
    model = keras.models.load_model(
        folder / "cnn_model.keras",
        compile=False,
        custom_objects={"RandomShearZoomFlip": RandomShearZoomFlip},
    )
    pixels = np.stack([images.decode_image(f, size) for f in files]).astype("float32")
    heat = explain.gradcam(model, pixels)
    heat = keras.ops.convert_to_numpy(
        keras.ops.image.resize(heat[..., None], (shown_size, shown_size))
    )[..., 0]
    p = reports.class_probabilities(model.predict(pixels, verbose=0))
    truths = [names.index(f.parent.name) for f in files]
    captions = [
        f"{saved['config']['model']}: {reports.caption(t, q, names)}" for t, q in zip(truths, p)
    ]
    return list(np.clip(heat, 0, 1)), captions, saved["config"]["model"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path, help="output folder of the first network")
    parser.add_argument("second", type=Path, help="output folder of the second network")
    parser.add_argument("figure", type=Path, help="the PNG to write")
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    try:
        root = data.cats_and_dogs(args.data) / "test_set"
        files = [root / name for name in PHOTOS]
        shown = 224
        photos = [images.decode_image(f, shown) for f in files]
        rows = [row(folder, files, shown) for folder in (args.first, args.second)]
    except (TutorialError, OSError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    heat = rows[0][0] + rows[1][0]
    captions = rows[0][1] + rows[1][1]
    figure = figures.heatmap_figure(
        photos + photos,
        heat,
        captions,
        f"Where each network looked: {rows[0][2]} (top) and {rows[1][2]} (bottom)",
        columns=len(files),
    )
    temporary = args.figure.with_name(f".{args.figure.name}.tmp.png")  # written whole, or not
    figure.savefig(temporary, dpi=72)
    os.replace(temporary, args.figure)
    print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
