"""Tiny generated image folders: cats are dark and reddish, dogs bright and bluish."""

from pathlib import Path

import numpy as np
from PIL import Image


def make_image(path: Path, dog: bool, rng, mode="RGB", size=40, base=None):
    if base is None:
        base = np.array([200, 190, 230]) if dog else np.array([90, 40, 30])
    pixels = np.clip(base + rng.normal(0, 20, (size, size + 8, 3)), 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    if mode != "RGB":
        image = image.convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def make_image_folder(root: Path, per_class=(16, 6), seed=0, oddities=True) -> Path:
    """root/training_set/{cats,dogs} and root/test_set/{cats,dogs}; some grayscale, RGBA and PNG.

    With oddities, the training cats also hold a corrupt JPEG, a zero-byte JPEG and a text file.
    """
    rng = np.random.default_rng(seed)
    for split, count in zip(("training_set", "test_set"), per_class):
        for label, dog in (("cats", False), ("dogs", True)):
            for i in range(count):
                if i == 1:
                    make_image(root / split / label / f"{i}.png", dog, rng, mode="RGBA")
                elif i == 2:
                    make_image(root / split / label / f"{i}.jpg", dog, rng, mode="L")
                else:
                    make_image(root / split / label / f"{i}.jpg", dog, rng)
    if oddities:
        cats = root / "training_set" / "cats"
        (cats / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
        (cats / "empty.jpg").write_bytes(b"")
        (cats / "notes.txt").write_text("not an image")
    return root


def make_three_class_folder(root: Path, per_class=(12, 5), seed=0) -> Path:
    """root/training_set/{birds,cats,dogs} and root/test_set/{...}: birds are green."""
    rng = np.random.default_rng(seed)
    colours = {
        "birds": np.array([60, 170, 60]),
        "cats": np.array([90, 40, 30]),
        "dogs": np.array([200, 190, 230]),
    }
    for split, count in zip(("training_set", "test_set"), per_class):
        for label, colour in colours.items():
            for i in range(count):
                make_image(root / split / label / f"{label}{i}.jpg", False, rng, base=colour)
    return root
