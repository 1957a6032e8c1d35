"""Which labels to doubt (transfer_learning.py): out-of-fold probabilities on the cached features,
the table of cleanlab's label issues and its figure, and ``--exclude``.

Confident learning (Northcutt, Jiang and Chuang, JAIR 2021; the cleanlab library) needs, for every
photo, probabilities from a model that never trained on that photo. For the training photos these
come from k heads, each trained on the features of the other folds (the base is frozen, so its
features, cached, serve every fold: seconds, not minutes); for the test photos, from the head the
lesson trained, which never saw them.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from confusion_metrics.compare import CompareError, compare
from tutorial_support.cnn import figures, reports
from tutorial_support.cnn.images import ImageSet
from tutorial_support.common.errors import TutorialError
from tutorial_support.common.runtime import keras

LABEL_ISSUES = "label_issues.csv"


def out_of_fold_probabilities(
    head: keras.Model,
    features: np.ndarray,
    labels: np.ndarray,
    *,
    folds: int,
    epochs: int,
    batch_size: int,
    seed: int,
) -> np.ndarray:
    """(n, classes): each row's probabilities from a copy of ``head`` (new weights, the same
    layers, optimizer and loss) trained on the other folds' rows, stratified."""
    n_classes = max(int(labels.max()) + 1, 2)
    targets = labels.astype("float32" if n_classes == 2 else "int32")
    result = np.zeros((len(labels), n_classes))
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for trained_on, held_out in split.split(features, labels):
        copy = keras.models.clone_model(head)
        optimizer = type(head.optimizer).from_config(head.optimizer.get_config())  # a new one
        copy.compile(optimizer=optimizer, loss=head.loss)
        copy.fit(
            features[trained_on],
            targets[trained_on],
            epochs=epochs,
            batch_size=batch_size,
            verbose=0,
        )
        outputs = copy.predict(features[held_out], batch_size=256, verbose=0)
        result[held_out] = reports.class_probabilities(outputs)
    return result


def issues_table(
    name: str,
    image_set: ImageSet,
    probabilities: np.ndarray,
    flagged: np.ndarray,
    quality: np.ndarray,
    root: Path,
) -> pd.DataFrame:
    """label_issues.csv's rows of one set, the least likely label first: every photo cleanlab
    flags as a likely filing error (``flagged``, a mask), and every other photo whose given class
    is not the most probable one (a hard photo, or an error cleanlab was not sure of)."""
    suggested = probabilities.argmax(axis=1)
    rows = np.flatnonzero(flagged | (suggested != image_set.labels))
    rows = rows[np.argsort(quality[rows], kind="stable")]
    names = image_set.class_names
    return pd.DataFrame(
        {
            "path": [photo_id(image_set.files[i], root) for i in rows],
            "set": name,
            "given": [names[image_set.labels[i]] for i in rows],
            "suggested": [names[suggested[i]] for i in rows],
            "label_quality": quality[rows],
            "flagged": flagged[rows],
        }
    )


def photo_id(path: Path, root: Path) -> str:
    """A photo as the runs' tables name it: its path under the data folder."""
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def summary(table: pd.DataFrame, sizes: dict[str, int], shown: int = 5) -> str:
    """How many labels each set's photos put in doubt, and the most doubtful of each."""
    lines = []
    for name, size in sizes.items():
        doubtful = table[table["set"] == name]
        more = int((~doubtful["flagged"]).sum())
        lines.append(
            f"{name} set: cleanlab flags {doubtful['flagged'].sum()} of {size:,} labels; "
            f"{more} more {'photo is' if more == 1 else 'photos are'} not called what "
            f"{'it is' if more == 1 else 'they are'} filed as. The most doubtful:"
        )
        lines += [
            f"  {row.path}: filed as {reports.singular(row.given)}, looks like "
            f"{reports.singular(row.suggested)} (label quality {row.label_quality:.4f})"
            for row in doubtful.head(shown).itertuples()
        ]
    return "\n".join(lines)


def doubts_figure(table: pd.DataFrame, pictures: dict[str, ImageSet], root: Path, count: int = 8):
    """The most doubtful photos of each set, each captioned with its given and suggested class."""
    photos, captions = [], []
    for name, image_set in pictures.items():
        index = {photo_id(path, root): i for i, path in enumerate(image_set.files)}
        for row in table[table["set"] == name].head(count).itertuples():
            photos.append(image_set.images[index[row.path]])
            captions.append(
                f"{name}: filed as {reports.singular(row.given)}\nlooks like "
                f"{reports.singular(row.suggested)}, quality {row.label_quality:.3f}"
            )
    title = "The labels most in doubt (label quality: the probability of the given class)"
    return figures.mistakes_figure(photos, captions, title)


def kept_for_training(listing: Path | None, train: ImageSet, test: ImageSet, root: Path):
    """--exclude: a mask of the training photos to keep, and how many test photos the list named
    (they stay: the runs compare on the same test photos). The list is a text file of photo paths,
    one a line, or a CSV with a ``path`` column (label_issues.csv: only the rows cleanlab
    ``flagged``, where the table has that column). A path may be as the tables name it (under
    the data folder), start with ./, or be absolute; one named twice counts once. A path that is
    no photo of the data, or a list that leaves a class no training photo, stops the run with one
    line."""
    keep = np.ones(len(train.labels), dtype=bool)
    if listing is None:
        return keep, 0
    named = [_as_photo_id(path, root) for path in _listed_paths(Path(listing))]
    named = list(dict.fromkeys(named))  # each photo once
    training = {photo_id(path, root): i for i, path in enumerate(train.files)}
    tests = {photo_id(path, root) for path in test.files}
    unknown = [path for path in named if path not in training and path not in tests]
    if unknown:
        more = f" and {len(unknown) - 1} more" if len(unknown) > 1 else ""
        raise TutorialError(
            f"--exclude: {unknown[0]}{more} is no photo of {root}: list paths as "
            f"{LABEL_ISSUES} names them (e.g. training_set/cats/cat.1.jpg)"
        )
    keep[[training[path] for path in named if path in training]] = False
    emptied = [n for i, n in enumerate(train.class_names) if not keep[train.labels == i].any()]
    if emptied:
        raise TutorialError(
            f"--exclude: {listing} leaves no training photo of {', '.join(emptied)}; a network "
            "cannot learn a class it never sees: exclude fewer photos"
        )
    return keep, sum(path in tests for path in named)


def _listed_paths(listing: Path) -> list[str]:
    """The paths a list names: one a line, or a CSV's ``path`` column (read by pandas, quotes
    and all), only its ``flagged`` rows where it has that column; a byte-order mark dropped."""
    try:
        text = listing.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        why = getattr(error, "strerror", None) or "not UTF-8 text"
        raise TutorialError(f"--exclude: cannot read {listing} ({why})") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0].split(",")[0].strip('"') != "path":
        return lines
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    if "flagged" in table.columns:  # label_issues.csv: cleanlab's flags, not every doubt
        table = table[table["flagged"].str.lower().isin(("true", "1"))]
    return [path.strip() for path in table["path"] if path.strip()]


def _as_photo_id(path: str, root: Path) -> str:
    """A listed path as the tables name a photo: under the data folder, without ./"""
    listed = Path(path)
    if listed.is_absolute():
        resolved, base = listed.resolve(), root.resolve()
        return str(resolved.relative_to(base)) if resolved.is_relative_to(base) else path
    return str(Path(*listed.parts)) if listed.parts else path  # "./a/b.jpg" -> "a/b.jpg"


def subset(image_set: ImageSet, keep: np.ndarray) -> ImageSet:
    """The photos ``keep`` marks (the set itself, not a copy of its pixels, when that is all)."""
    if keep.all():
        return image_set
    files = [path for path, kept in zip(image_set.files, keep) if kept]
    return ImageSet(
        image_set.images[keep], image_set.labels[keep], image_set.class_names, files, []
    )


def previous_predictions(output_dir: Path) -> Path | None:
    """A copy of the run before's test_predictions.csv, which this run's outputs replace."""
    from tutorial_support.cnn.results import TEST_PREDICTIONS

    earlier = Path(output_dir) / TEST_PREDICTIONS
    if not earlier.is_file():
        return None
    copy = Path(tempfile.mkdtemp(prefix="run-before-")) / TEST_PREDICTIONS
    shutil.copy(earlier, copy)
    return copy


def against_run_before(before: Path, output_dir: Path) -> str:
    """--exclude: this run (B) against the run before (A), on the same test photos, as
    `python -m confusion_metrics compare` prints it. Runs that cannot be compared (the run
    before used other test photos) get one line that says why: this run's outputs are saved."""
    try:
        return "this run (B) against the run before (A):\n" + compare(before, output_dir)
    except CompareError as error:
        return f"this run is not compared with the run before: {error}"
