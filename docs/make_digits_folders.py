r"""Write scikit-learn's handwritten digits as image folders that cnn.py can train on.

    # writes digits/training_set/0..9, digits/test_set/0..9
    python docs/make_digits_folders.py digits
    python 2_convolutional_neural_networks/cnn.py --data digits --image-size 32 \
        --epochs 15 --no-flip

scikit-learn ships the 1,797 digits of the UCI handwritten digits set (8 x 8 pixels, 16 grey
levels, 10 classes) inside the package, so nothing is downloaded. A quarter of each digit goes
to the test set (stratified, random_state=0). Each image is saved as an 8 x 8 PNG; cnn.py
resizes it like any photo.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def write_digits(root: Path) -> dict[str, int]:
    digits = load_digits()
    pixels = np.round(digits.images * (255 / 16)).astype(np.uint8)  # 0..16 -> 0..255
    train, test = train_test_split(
        np.arange(len(pixels)), test_size=0.25, stratify=digits.target, random_state=0
    )
    counts = {}
    for split, rows in (("training_set", train), ("test_set", test)):
        for row in rows:
            folder = root / split / str(digits.target[row])
            folder.mkdir(parents=True, exist_ok=True)
            # dark ink on white paper
            Image.fromarray(255 - pixels[row], "L").save(folder / f"{row:04d}.png")
        counts[split] = len(rows)
    return counts


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where to write training_set/ and test_set/")
    args = parser.parse_args()
    if args.folder.exists() and (not args.folder.is_dir() or any(args.folder.iterdir())):
        print(
            f"error: {args.folder} exists and is not an empty folder: choose a new folder",
            file=sys.stderr,
        )
        sys.exit(2)
    counts = write_digits(args.folder)
    print(
        f"wrote {counts['training_set']:,} training and {counts['test_set']:,} test images of 10 "
        f"digits to {args.folder}"
    )
