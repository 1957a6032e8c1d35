"""The image pipeline of cnn.py: decode each image once, keep it, and feed it fast.

Decoding a JPEG and resizing it costs far more than a training step of a small
CNN on a 64 x 64 image, so each image is decoded and resized once and kept as
uint8 pixels: in memory for the run, and on disk in the Keras cache (or
``--cache-dir``) for the next run. The cache file's name is a hash of the folder's
listing (every file's name, size and modification time) and the image size, so a
changed folder gets a new cache entry and is never served stale. The data folder
itself is only read, never written.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from tutorial_support.cli import TutorialError
from tutorial_support.runtime import cpu_count

CACHE_VERSION = 1  # bump when the decoding below changes


@dataclass
class ImageSet:
    images: np.ndarray  # (n, size, size, 3) uint8
    labels: np.ndarray  # (n,) int64, the index of the class in class_names
    class_names: list[str]
    files: list[Path]
    skipped: list[Path]


def list_images(folder: Path) -> tuple[list[Path], np.ndarray, list[str]]:
    """Every file below folder/<class>/, its label, and the classes (sorted folder names)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TutorialError(f"no image folder at {folder}: expected one sub-folder per class, e.g. cats/ and dogs/")
    class_names = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(class_names) < 2:
        found = f"only {class_names[0]!r}" if class_names else "none"
        raise TutorialError(
            f"{folder} needs one sub-folder per class and at least two classes (found {found}); "
            "put the images in e.g. cats/ and dogs/"
        )
    files, labels = [], []
    for label, name in enumerate(class_names):
        for path in sorted((folder / name).iterdir()):
            if path.is_file() and not path.name.startswith("."):
                files.append(path)
                labels.append(label)
    return files, np.array(labels, dtype=np.int64), class_names


def decode_image(path: Path, size: int) -> np.ndarray:
    """An RGB image resized to size x size, as uint8; raises ValueError if unreadable.

    Grayscale, RGBA, palette and PNG images all become RGB. For JPEGs, ``draft``
    lets the decoder shrink the image by 2, 4 or 8 while decoding, which makes
    reading large photos several times faster before the final resize.
    """
    try:
        with Image.open(path) as image:
            image.draft("RGB", (size, size))
            rgb = image.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
            return np.asarray(rgb, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise ValueError(str(error) or type(error).__name__) from None


def _fingerprint(files: list[Path], size: int) -> str:
    digest = hashlib.sha256(f"v{CACHE_VERSION} size={size}".encode())
    for path in files:
        stat = path.stat()
        digest.update(f"{path.parent.name}/{path.name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:20]


def load_image_set(folder: Path, size: int, cache_dir: Path | None, split_name: str) -> tuple[ImageSet, bool]:
    """Decode (or read from the cache) every image of folder; return it and whether the cache was used."""
    files, labels, class_names = list_images(folder)
    cache_file = None
    if cache_dir is not None:
        cache_file = Path(cache_dir) / f"{split_name}-{size}px-{_fingerprint(files, size)}.npz"
        if cache_file.is_file():
            try:
                with np.load(cache_file) as cached:
                    keep = cached["keep"]
                    return ImageSet(
                        cached["images"], labels[keep], class_names,
                        [f for f, k in zip(files, keep) if k], [f for f, k in zip(files, keep) if not k],
                    ), True  # fmt: skip
            except (OSError, KeyError, ValueError):
                pass  # a damaged cache file is rebuilt below

    def decode_or_none(path):
        try:
            return decode_image(path, size)
        except ValueError:
            return None

    with ThreadPoolExecutor(max_workers=cpu_count()) as pool:  # Pillow decodes outside the GIL
        decoded = list(pool.map(decode_or_none, files, chunksize=64))
    keep = np.array([image is not None for image in decoded], dtype=bool)
    if not keep.any():
        raise TutorialError(f"no readable images in {folder}: expected JPEG or PNG files in its class folders")
    images = np.stack([image for image in decoded if image is not None])
    skipped = [f for f, k in zip(files, keep) if not k]
    kept_labels = labels[keep]
    present = np.unique(kept_labels)
    if present.size < 2:
        raise TutorialError(
            f"{folder}: only the class {class_names[present[0]]!r} has readable images; every class needs some"
        )
    if cache_file is not None:
        _write_cache(cache_file, images, keep)
    return ImageSet(images, kept_labels, class_names, [f for f, k in zip(files, keep) if k], skipped), False


def _write_cache(cache_file: Path, images: np.ndarray, keep: np.ndarray) -> None:
    """Write atomically (temporary file, then rename), so a partial file is never read."""
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=cache_file.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, images=images, keep=keep)
        os.replace(temporary, cache_file)
    except OSError as error:
        warnings.warn(f"could not write the image cache {cache_file} ({error.strerror}); the next run decodes again")


def warn_skipped(image_set: ImageSet, folder: Path) -> None:
    if image_set.skipped:
        names = ", ".join(p.name for p in image_set.skipped[:3])
        more = f" and {len(image_set.skipped) - 3} more" if len(image_set.skipped) > 3 else ""
        print(f"warning: skipped {len(image_set.skipped)} unreadable file(s) in {folder}: {names}{more}")
