"""Where the data sets live: a folder the reader points at, or a verified download.

One setting says where the data is: the ``--data`` flag, or else the environment
variable ``DLP_DATA_DIR``. That folder holds::

    Churn_Modelling.csv
    cats_and_dogs/training_set/{cats,dogs}/*.jpg
    cats_and_dogs/test_set/{cats,dogs}/*.jpg

With neither set, each data set is downloaded on first use into the Keras cache
(``~/.keras/datasets``) and verified: the CSV by its SHA-256 checksum, the images by
their layout and counts (the archive's bytes change, so a checksum cannot be used).
Data the reader supplies is checked by its content instead, so any churn-like table
or image folder can be tried.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tutorial_support.common.errors import TutorialError

DATA_DIR_VARIABLE = "DLP_DATA_DIR"

CHURN_FILE = "Churn_Modelling.csv"
CHURN_URL = (
    "https://raw.githubusercontent.com/ramonfigueiredopessoa/deep_learning_in_python/"
    "master/1_artificial_neural_networks/Churn_Modelling.csv"
)
CHURN_SHA256 = "3996cd1fa372e0db0cd9c0ebac35bbd4e8e3c65fb942bb010c826e7b1eeef0a0"

IMAGES_FOLDER = "cats_and_dogs"
IMAGES_URL = "https://github.com/ramonfigueiredopessoa/datasets/archive/refs/heads/master.zip"
IMAGES_INSIDE_ARCHIVE = "cats_and_dogs/dataset"  # below the archive's top folder
IMAGE_SPLITS = ("training_set", "test_set")
IMAGE_CLASSES = ("cats", "dogs")
EXPECTED_IMAGE_COUNTS = {"training_set": 4000, "test_set": 1000}  # per class
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


def chosen_data_dir(data: Path | None) -> Path | None:
    """The folder the reader chose: --data first, then DLP_DATA_DIR, else None."""
    if data is not None:
        return Path(data).expanduser()
    from_environment = os.environ.get(DATA_DIR_VARIABLE)
    return Path(from_environment).expanduser() if from_environment else None


def _how_to_supply(what: str) -> str:
    return (
        f"either connect to the internet and run again, or download {what} yourself, "
        f"put it in a folder and pass --data FOLDER (or set {DATA_DIR_VARIABLE}=FOLDER)"
    )


def churn_csv(data: Path | None = None, cache_dir: Path | None = None) -> Path:
    """Path of Churn_Modelling.csv (the reader's copy, or a verified download), or of the table
    file given."""
    chosen = chosen_data_dir(data)
    if chosen is not None:
        # a file of one's own: ann.py --data table.csv --target COLUMN
        if chosen.suffix and not chosen.is_dir():
            if not chosen.is_file():
                raise TutorialError(f"no such file: {chosen}")
            return chosen
        path = chosen / CHURN_FILE
        if not path.is_file():
            raise TutorialError(
                f"no churn data at {path}: put {CHURN_FILE} there, or point --data "
                f"(or {DATA_DIR_VARIABLE}) at the folder that holds it"
            )
        return path
    return Path(_download(CHURN_FILE, CHURN_URL, CHURN_SHA256, cache_dir))


def _download(
    name: str, url: str, sha256: str | None, cache_dir: Path | None, extract=False
) -> str:
    """keras.utils.get_file with one clear error line instead of a traceback.

    get_file removes a partial file when a download is interrupted, and re-checks
    the checksum of a cached file on every call, so a bad file is never used.
    """
    import keras

    cache = keras_cache(cache_dir)
    try:
        # get_file falls back to /tmp when the folder does not exist yet
        cache.mkdir(parents=True, exist_ok=True)
        return keras.utils.get_file(
            fname=name,
            origin=url,
            file_hash=sha256,
            hash_algorithm="sha256",
            extract=extract,
            cache_dir=str(cache),
        )
    except ValueError as error:  # the checksum did not match
        raise TutorialError(
            f"the file downloaded from {url} is not the expected data ({error}); "
            + _how_to_supply("the data")
        ) from None
    except Exception as error:  # offline, HTTP error, disk full, ...
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        reason = reason.split(" -- ", 1)[-1]  # Keras repeats the URL before " -- "
        raise TutorialError(
            f"could not download {url} ({reason}); " + _how_to_supply("it")
        ) from None


def keras_cache(cache_dir: Path | None = None) -> Path:
    """The Keras cache folder: cache_dir, else $KERAS_HOME, else ~/.keras."""
    if cache_dir is not None:
        return Path(cache_dir)
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))


def count_images(folder: Path) -> int:
    return sum(1 for path in folder.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES)


def check_image_layout(root: Path) -> dict[str, dict[str, int]]:
    """Check root/{training_set,test_set}/{cats,dogs}/ exist; return the image counts."""
    counts: dict[str, dict[str, int]] = {}
    for split in IMAGE_SPLITS:
        for label in IMAGE_CLASSES:
            folder = root / split / label
            if not folder.is_dir():
                raise TutorialError(
                    f"missing image folder {folder}: the images must be laid out as "
                    f"{IMAGES_FOLDER}/{{training_set,test_set}}/{{cats,dogs}}/*.jpg"
                )
            counts.setdefault(split, {})[label] = count_images(folder)
    return counts


def _has_expected_counts(root: Path) -> bool:
    try:
        counts = check_image_layout(root)
    except TutorialError:
        return False
    return all(
        counts[split][label] == EXPECTED_IMAGE_COUNTS[split]
        for split in IMAGE_SPLITS
        for label in IMAGE_CLASSES
    )


def cats_and_dogs(data: Path | None = None, cache_dir: Path | None = None) -> Path:
    """Folder holding training_set/ and test_set/: the reader's copy, or a download.

    A download is extracted, checked for 4,000 + 4,000 training and 1,000 + 1,000
    test images, and only then moved to its final place in one rename, so an
    interrupted download or extraction never leaves a folder that passes the check.
    """
    chosen = chosen_data_dir(data)
    if chosen is not None:
        root = chosen / IMAGES_FOLDER if (chosen / IMAGES_FOLDER).is_dir() else chosen
        if not root.is_dir():
            raise TutorialError(
                f"no image folder at {chosen}: point --data (or {DATA_DIR_VARIABLE}) at a folder "
                f"holding {IMAGES_FOLDER}/training_set and {IMAGES_FOLDER}/test_set"
            )
        for split in IMAGE_SPLITS:  # the class folders are checked as the images are read
            if not (root / split).is_dir():
                raise TutorialError(
                    f"missing image folder {root / split}: expected training_set/ and test_set/, "
                    "each with one sub-folder per class (e.g. cats/ and dogs/)"
                )
        return root

    datasets = keras_cache(cache_dir) / "datasets"
    final = datasets / IMAGES_FOLDER
    if _has_expected_counts(final):
        return final
    extracted = Path(
        _download("cats_and_dogs_archive.zip", IMAGES_URL, None, cache_dir, extract=True)
    )
    candidates = sorted(extracted.glob(f"*/{IMAGES_INSIDE_ARCHIVE}")) + sorted(
        extracted.glob(IMAGES_INSIDE_ARCHIVE)
    )
    if not candidates or not _has_expected_counts(candidates[0]):
        shutil.rmtree(extracted, ignore_errors=True)
        raise TutorialError(
            f"the archive downloaded from {IMAGES_URL} does not hold {IMAGES_INSIDE_ARCHIVE} "
            "with 4,000 + 4,000 training and 1,000 + 1,000 test images; "
            + _how_to_supply("the images")
        )
    if final.exists():
        shutil.rmtree(final)
    os.replace(candidates[0], final)
    shutil.rmtree(extracted, ignore_errors=True)
    archive = datasets / "cats_and_dogs_archive.zip"
    archive.unlink(missing_ok=True)
    return final
