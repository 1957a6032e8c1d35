"""transfer_learning.py's step 8: out-of-fold probabilities, cleanlab's ranking of the labels in
doubt, label_issues.csv's rows, and --exclude's list, on small data made here."""

from pathlib import Path

import cleanlab
import numpy as np
import pytest

from tutorial_support.cnn import labels
from tutorial_support.cnn.images import ImageSet
from tutorial_support.common.errors import TutorialError
from tutorial_support.common.runtime import keras


def photos(root: Path, split: str, given: np.ndarray) -> ImageSet:
    names = ["cats", "dogs"]
    files = [root / split / names[c] / f"{i}.jpg" for i, c in enumerate(given)]
    pixels = np.zeros((len(given), 4, 4, 3), dtype=np.uint8)
    return ImageSet(pixels, np.asarray(given), names, files, [])


def test_photos_filed_under_the_wrong_class_come_first(tmp_path):
    """Two clusters of features, 12 of 240 labels swapped: cleanlab, on out-of-fold
    probabilities, flags them and ranks them first (on the real photos:
    benchmarks/bench_label_issues.py)."""
    rng = np.random.default_rng(0)
    truth = np.repeat([0, 1], 120)
    features = rng.normal(0, 1, (240, 16)).astype("float32")
    features[:, 0] += np.where(truth == 1, 3.0, -3.0)
    moved = rng.choice(240, size=12, replace=False)
    given = truth.copy()
    given[moved] = 1 - given[moved]
    keras.utils.set_random_seed(0)
    head = keras.Sequential([keras.Input((16,)), keras.layers.Dense(1, activation="sigmoid")])
    head.compile(optimizer=keras.optimizers.Adam(5e-2), loss="binary_crossentropy")
    p = labels.out_of_fold_probabilities(
        head, features, given, folds=4, epochs=8, batch_size=32, seed=0
    )
    assert p.shape == (240, 2) and np.allclose(p.sum(axis=1), 1)
    flagged = cleanlab.filter.find_label_issues(given, p)
    quality = cleanlab.rank.get_label_quality_scores(given, p)
    np.testing.assert_allclose(quality, p[np.arange(240), given])  # P(the given class)
    train = photos(tmp_path, "training_set", given)
    table = labels.issues_table("training", train, p, flagged, quality, tmp_path)
    first = [int(path.split("/")[-1][:-4]) for path in table["path"][:12]]
    assert np.isin(first, moved).sum() >= 10  # nearly every moved photo, first
    assert list(table.columns) == ["path", "set", "given", "suggested", "label_quality", "flagged"]
    assert table["label_quality"].is_monotonic_increasing and table["flagged"].sum() >= 10
    assert (table["given"] != table["suggested"]).all()  # here every doubt is a disagreement
    assert table["path"][0].startswith("training_set/")
    summary = labels.summary(table, {"training": 240})
    assert summary.startswith(f"training set: cleanlab flags {flagged.sum()} of 240 labels")


def test_exclude_reads_a_list_or_the_label_issues_table(tmp_path):
    train = photos(tmp_path, "training_set", np.array([0, 0, 1, 1]))
    test = photos(tmp_path, "test_set", np.array([0, 1]))
    listing = tmp_path / "list.txt"
    listing.write_text("training_set/cats/1.jpg\n\ntest_set/dogs/1.jpg\n")
    keep, tests = labels.kept_for_training(listing, train, test, tmp_path)
    assert keep.tolist() == [True, False, True, True] and tests == 1
    table = tmp_path / "label_issues.csv"
    table.write_text("path,set,given\ntraining_set/dogs/3.jpg,training,dogs\n")
    keep, tests = labels.kept_for_training(table, train, test, tmp_path)
    assert keep.tolist() == [True, True, True, False] and tests == 0
    kept = labels.subset(train, keep)
    assert len(kept.files) == 3 and kept.labels.tolist() == [0, 0, 1]
    assert labels.kept_for_training(None, train, test, tmp_path)[0].all()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("training_set/cats/9.jpg\nnope.jpg\n", "--exclude: training_set/cats/9.jpg and 1 more is"),
        ("", None),
    ],
)
def test_exclude_names_a_photo_that_is_not_there_in_one_line(tmp_path, text, message):
    train = photos(tmp_path, "training_set", np.array([0, 1]))
    listing = tmp_path / "list.txt"
    listing.write_text(text)
    if message is None:  # an empty list leaves out nothing
        assert labels.kept_for_training(listing, train, train, tmp_path)[0].all()
        return
    with pytest.raises(TutorialError) as error:
        labels.kept_for_training(listing, train, train, tmp_path)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)
    with pytest.raises(TutorialError, match="--exclude: cannot read"):
        labels.kept_for_training(tmp_path / "missing.txt", train, train, tmp_path)


def test_a_run_before_on_other_test_photos_is_one_line_not_a_traceback(tmp_path):
    """--exclude compares with the run before; when that run scored other photos, the outputs
    are saved all the same and the comparison is one line that says why not."""
    header = "id,actual,predicted\n"
    before = tmp_path / "before.csv"
    before.write_text(header + "cats/1.jpg,cats,cats\ncats/2.jpg,cats,dogs\n")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "test_predictions.csv").write_text(header + "dogs/9.jpg,dogs,dogs\n")
    said = labels.against_run_before(before, tmp_path / "run")
    assert said.startswith("this run is not compared with the run before: ")
    assert len(said.splitlines()) == 1
    (tmp_path / "run" / "test_predictions.csv").write_text(before.read_text())
    assert "McNemar" in labels.against_run_before(before, tmp_path / "run")


def test_exclude_reads_a_list_as_a_reader_writes_it(tmp_path):
    """A byte-order mark (Excel's), ./ and absolute paths, a path named twice, a quoted path with
    a comma in a CSV, and label_issues.csv's flagged rows alone."""
    train = photos(tmp_path, "training_set", np.array([0, 0, 0, 1, 1]))
    test = photos(tmp_path, "test_set", np.array([0, 1]))
    listing = tmp_path / "list.txt"
    absolute = tmp_path / "training_set" / "dogs" / "3.jpg"
    listing.write_text(
        "\ufefftraining_set/cats/0.jpg\n./training_set/cats/1.jpg\n"
        f"{absolute}\ntest_set/cats/0.jpg\ntest_set/cats/0.jpg\n",
        encoding="utf-8",
    )
    keep, tests = labels.kept_for_training(listing, train, test, tmp_path)
    assert keep.tolist() == [False, False, True, False, True] and tests == 1
    train.files.append(tmp_path / "training_set" / "dogs" / "a,b.jpg")
    train.labels = np.append(train.labels, 1)
    table = tmp_path / "label_issues.csv"
    table.write_text(
        "path,set,given,flagged\n"
        '"training_set/dogs/a,b.jpg",training,dogs,True\n'
        "training_set/dogs/4.jpg,training,dogs,False\n"
    )
    keep, tests = labels.kept_for_training(table, train, test, tmp_path)
    assert keep.tolist() == [True, True, True, True, True, False] and tests == 0


def test_exclude_that_empties_a_class_is_one_line(tmp_path):
    train = photos(tmp_path, "training_set", np.array([0, 0, 1, 1]))
    listing = tmp_path / "list.txt"
    listing.write_text("training_set/dogs/2.jpg\ntraining_set/dogs/3.jpg\n")
    with pytest.raises(TutorialError, match="leaves no training photo of dogs") as error:
        labels.kept_for_training(listing, train, train, tmp_path)
    assert "\n" not in str(error.value)
