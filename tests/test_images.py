"""The CNN's image pipeline: classes, conversions, skipping bad files, the cache."""

import numpy as np
import pytest

from image_fixtures import make_image, make_image_folder
from tutorial_support import images
from tutorial_support.cli import TutorialError


def test_loads_classes_in_folder_order_and_skips_bad_files(tmp_path, capsys):
    root = make_image_folder(tmp_path / "data")
    image_set, cached = images.load_image_set(root / "training_set", 24, tmp_path / "cache", "training_set")
    assert not cached
    assert image_set.class_names == ["cats", "dogs"]
    assert image_set.images.shape == (32, 24, 24, 3) and image_set.images.dtype == np.uint8
    assert np.bincount(image_set.labels).tolist() == [16, 16]
    assert sorted(p.name for p in image_set.skipped) == ["corrupt.jpg", "empty.jpg", "notes.txt"]
    # dogs are bright, cats dark; the grayscale and RGBA images became RGB
    brightness = image_set.images.reshape(32, -1).mean(axis=1)
    assert brightness[image_set.labels == 1].min() > brightness[image_set.labels == 0].max()
    images.warn_skipped(image_set, root / "training_set")
    assert "warning: skipped 3 unreadable file(s)" in capsys.readouterr().out


def test_cache_is_used_and_never_stale(tmp_path):
    root = make_image_folder(tmp_path / "data", oddities=False)
    first, cached = images.load_image_set(root / "test_set", 16, tmp_path / "cache", "test_set")
    assert not cached
    again, cached = images.load_image_set(root / "test_set", 16, tmp_path / "cache", "test_set")
    assert cached
    np.testing.assert_array_equal(first.images, again.images)
    np.testing.assert_array_equal(first.labels, again.labels)
    # another size is another entry; a changed folder is decoded again
    assert not images.load_image_set(root / "test_set", 20, tmp_path / "cache", "test_set")[1]
    make_image(root / "test_set" / "dogs" / "new.jpg", True, np.random.default_rng(1))
    changed, cached = images.load_image_set(root / "test_set", 16, tmp_path / "cache", "test_set")
    assert not cached and len(changed.labels) == len(first.labels) + 1
    assert not list((tmp_path / "cache").glob("*.tmp"))
    assert not list((root).rglob("*.npz"))  # nothing written into the data folder


def test_folder_errors(tmp_path):
    with pytest.raises(TutorialError, match="no image folder at"):
        images.load_image_set(tmp_path / "missing", 16, None, "x")
    (tmp_path / "one" / "cats").mkdir(parents=True)
    make_image(tmp_path / "one" / "cats" / "a.jpg", False, np.random.default_rng(0))
    with pytest.raises(TutorialError, match="at least two classes \\(found only 'cats'\\)"):
        images.load_image_set(tmp_path / "one", 16, None, "x")
    (tmp_path / "one" / "dogs").mkdir()
    (tmp_path / "one" / "dogs" / "a.jpg").write_text("text")
    with pytest.raises(TutorialError, match="only the class 'cats' has readable images"):
        images.load_image_set(tmp_path / "one", 16, None, "x")
    (tmp_path / "none" / "cats").mkdir(parents=True)
    (tmp_path / "none" / "dogs").mkdir(parents=True)
    (tmp_path / "none" / "dogs" / "a.jpg").write_text("text")
    with pytest.raises(TutorialError, match="no readable images in"):
        images.load_image_set(tmp_path / "none", 16, None, "x")


def test_decode_image_errors(tmp_path):
    (tmp_path / "t.txt").write_text("hello")
    with pytest.raises(ValueError):
        images.decode_image(tmp_path / "t.txt", 16)
