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
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

try:  # HEIC/HEIF photos (an iPhone's default), where the optional plugin is installed
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF_READER = "pillow-heif"
except ImportError:
    HEIF_READER = None

from tutorial_support.backends.batches import image_batches
from tutorial_support.common.errors import TutorialError
from tutorial_support.common.runtime import cpu_count

CACHE_VERSION = 2  # bump when the decoding below changes (2: EXIF orientation applied)


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
        raise TutorialError(
            f"no image folder at {folder}: expected one sub-folder per class, e.g. cats/ and dogs/"
        )
    class_names = sorted(
        p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")
    )
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


def _is_heif(path: Path) -> bool:
    """HEIC/HEIF (an iPhone's photos): the file's own bytes say so, whatever its name."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(12)
    except OSError:
        return False
    return head[4:8] == b"ftyp" and head[8:12] in (
        b"heic",
        b"heix",
        b"heim",
        b"heis",
        b"hevc",
        b"hevx",
        b"mif1",
        b"msf1",
    )


def heif_message(path: Path) -> str:
    return (
        f"{path.name} is a HEIC photo, which Pillow reads only with the pillow-heif plugin: "
        "pip install pillow-heif (requirements.txt has it), or convert it to JPEG "
        "(macOS: sips -s format jpeg photo.heic --out photo.jpg)"
    )


def decode_image(path: Path, size: int) -> np.ndarray:
    """An RGB image resized to size x size, as a photo app shows it, as uint8; raises ValueError if
    unreadable.

    - Turned as its EXIF orientation says (``ImageOps.exif_transpose``): a phone stores the
      sensor's pixels as they came and a tag that says how to turn them for viewing.
    - For a JPEG far larger than ``size``, ``draft`` lets the decoder shrink it by 2, 4 or 8
      while decoding (never below ``size``), several times faster for phone photos; then the
      same resize as for any image.
    - Grayscale, RGBA, palette, CMYK, 16-bit and animated images (the first frame) become RGB.
    - HEIC photos need the pillow-heif plugin; without it, a ValueError that says so.
    """
    if HEIF_READER is None and _is_heif(path):
        raise ValueError(heif_message(Path(path)))
    try:
        with Image.open(path) as image:
            image.draft("RGB", (size, size))  # JPEG only; other formats ignore it
            upright = ImageOps.exif_transpose(image)
            if upright.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit: scale to 8 bits, not clip
                upright = upright.point(lambda v: v / 256).convert("L")
            rgb = upright.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
            return np.asarray(rgb, dtype=np.uint8)
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombError,
    ) as error:
        raise ValueError(str(error) or type(error).__name__) from None


def fingerprint(files: list[Path], size: int) -> str:
    """A hash of the files' names, sizes and times, and the size they are decoded at."""
    digest = hashlib.sha256(f"v{CACHE_VERSION} size={size}".encode())
    for path in files:
        stat = path.stat()
        digest.update(
            f"{path.parent.name}/{path.name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode()
        )
    return digest.hexdigest()[:20]


def load_image_set(
    folder: Path, size: int, cache_dir: Path | None, split_name: str
) -> tuple[ImageSet, bool]:
    """Decode (or read from the cache) every image of folder; return it and whether the cache was
    used."""
    files, labels, class_names = list_images(folder)
    cache_file = None
    if cache_dir is not None:
        cache_file = Path(cache_dir) / f"{split_name}-{size}px-{fingerprint(files, size)}.npz"
        if cache_file.is_file():
            try:
                with np.load(cache_file) as cached:
                    keep = cached["keep"]
                    return ImageSet(
                        cached["images"],
                        labels[keep],
                        class_names,
                        [f for f, k in zip(files, keep) if k],
                        [f for f, k in zip(files, keep) if not k],
                    ), True
            except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
                pass  # a damaged cache file (cut short, overwritten) is rebuilt below

    def decode_or_none(path):
        try:
            return decode_image(path, size)
        except ValueError:
            return None

    # each image written straight into one array: a list of them and then a stacked copy would
    # hold every image twice (2.4 GB for the 8,000 training photos at 224 x 224)
    images = np.empty((len(files), size, size, 3), dtype=np.uint8)
    keep = np.zeros(len(files), dtype=bool)

    def decode_into(index: int) -> None:
        image = decode_or_none(files[index])
        if image is not None:
            images[index], keep[index] = image, True

    with ThreadPoolExecutor(max_workers=cpu_count()) as pool:  # Pillow decodes outside the GIL
        list(pool.map(decode_into, range(len(files)), chunksize=64))
    if not keep.any():
        raise TutorialError(
            f"no readable images in {folder}: expected JPEG or PNG files in its class folders"
        )
    if not keep.all():
        images = images[keep]
    skipped = [f for f, k in zip(files, keep) if not k]
    kept_labels = labels[keep]
    present = np.unique(kept_labels)
    if present.size < 2:
        raise TutorialError(
            f"{folder}: only the class {class_names[present[0]]!r} has readable images; every "
            "class needs some"
        )
    if cache_file is not None:
        _write_cache(cache_file, images, keep)
    return ImageSet(
        images, kept_labels, class_names, [f for f, k in zip(files, keep) if k], skipped
    ), False


def _write_cache(cache_file: Path, images: np.ndarray, keep: np.ndarray) -> None:
    write_atomically(cache_file, lambda stream: np.savez(stream, images=images, keep=keep))


def write_atomically(cache_file: Path, write) -> None:
    """``write(stream)`` into a temporary file, then renamed, so a partial file is never read; a
    cache that cannot be written is a warning (the next run computes it again)."""
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=cache_file.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.replace(temporary, cache_file)
    except OSError as error:
        warnings.warn(
            f"could not write the cache {cache_file} ({error.strerror}); the next run "
            "computes it again",
            stacklevel=2,
        )


def warn_skipped(image_set: ImageSet, folder: Path) -> None:
    if image_set.skipped:
        names = ", ".join(p.name for p in image_set.skipped[:3])
        more = f" and {len(image_set.skipped) - 3} more" if len(image_set.skipped) > 3 else ""
        print(
            f"warning: skipped {len(image_set.skipped)} unreadable file(s) in {folder}: "
            f"{names}{more}"
        )
        heif = [p for p in image_set.skipped if _is_heif(p)]
        if heif and HEIF_READER is None:
            print(
                f"warning: {len(heif)} of them are HEIC photos: pip install pillow-heif to read "
                "them, "
                "or convert them to JPEG"
            )


def as_dataset(image_set: ImageSet, batch_size: int, shuffle: bool, seed: int):
    """Decoded uint8 images in memory -> float batches (shuffled afresh each epoch), for
    ``model.fit`` and ``model.predict``: a tf.data pipeline or a PyDataset (backends/batches.py)."""
    # labels: 0.0/1.0 for a sigmoid output, class numbers for a softmax one
    labels = image_set.labels.astype("float32" if len(image_set.class_names) == 2 else "int32")
    return image_batches(image_set.images, labels, batch_size, shuffle, seed)


def load_photos(
    data_flag: Path | None, size: int, cache_dir: Path | None
) -> tuple[Path, Path, ImageSet, ImageSet]:
    """Step 1 of both chapter 2 lessons: the photos' folder (``--data``, DLP_DATA_DIR, or the
    download), the decoded photos' cache (``--cache-dir``, or the Keras cache), and the training
    and test photos, decoded once and cached as uint8 pixels."""
    from tutorial_support.common import data

    root = data.cats_and_dogs(data_flag)
    cache = cache_dir or data.keras_cache() / "cnn_cache"
    return root, cache, *load_training_and_test(root, size, cache)


def load_training_and_test(
    root: Path, size: int, cache_dir: Path | None
) -> tuple[ImageSet, ImageSet]:
    """root/training_set and root/test_set, decoded (or from the cache), counted and printed.

    Both must hold the same class folders: a class to learn but not to test, or to test
    but never learnt, is a TutorialError that names it.
    """
    splits = {}
    for split in ("training_set", "test_set"):
        image_set, cached = load_image_set(root / split, size, cache_dir, split)
        warn_skipped(image_set, root / split)
        counts = ", ".join(
            f"{np.sum(image_set.labels == i):,} {name}"
            for i, name in enumerate(image_set.class_names)
        )
        print(
            f"{split}: {len(image_set.labels):,} images "
            f"({counts}){' from the cache' if cached else ''}"
        )
        splits[split] = image_set
    train, test = splits["training_set"], splits["test_set"]
    only = {
        "training_set": sorted(set(train.class_names) - set(test.class_names)),
        "test_set": sorted(set(test.class_names) - set(train.class_names)),
    }
    if any(only.values()):
        raise TutorialError(
            "training_set and test_set need the same class folders: "
            + "; ".join(
                f"only {split} has {', '.join(names)}" for split, names in only.items() if names
            )
        )
    return train, test
