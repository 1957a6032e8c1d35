"""The CNN's image pipeline: classes, conversions, skipping bad files, the cache."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from image_fixtures import make_image, make_image_folder
from tutorial_support.cnn import images
from tutorial_support.common.errors import TutorialError


def test_loads_classes_in_folder_order_and_skips_bad_files(tmp_path, capsys):
    root = make_image_folder(tmp_path / "data")
    image_set, cached = images.load_image_set(
        root / "training_set", 24, tmp_path / "cache", "training_set"
    )
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


def test_a_damaged_cache_file_is_decoded_again(tmp_path):
    root = make_image_folder(tmp_path / "data", oddities=False)
    first, _ = images.load_image_set(root / "test_set", 16, tmp_path / "cache", "test_set")
    (cache_file,) = (tmp_path / "cache").glob("*.npz")
    cache_file.write_bytes(cache_file.read_bytes()[:200])  # cut short, as by a full disk
    again, cached = images.load_image_set(root / "test_set", 16, tmp_path / "cache", "test_set")
    assert not cached  # decoded again, not served from the damaged file
    np.testing.assert_array_equal(first.images, again.images)
    third, cached = images.load_image_set(root / "test_set", 16, tmp_path / "cache", "test_set")
    assert cached  # and the rewritten cache file serves the next run
    np.testing.assert_array_equal(first.images, third.images)


def asymmetric_picture() -> np.ndarray:
    """Smooth (JPEG keeps it well) and different under every turn and mirror: red grows to the
    right, green downwards, and a blue block sits in the top-left corner."""
    y, x = np.mgrid[0:24, 0:40]
    picture = np.stack([x * 6, y * 10, np.zeros_like(x)], axis=-1)
    picture[:8, :10, 2] = 255
    return picture.clip(0, 255).astype(np.uint8)


def turned(viewed: Image.Image, orientation: int) -> Image.Image:
    """The pixels a camera would store for ``viewed`` with this EXIF orientation (exif_transpose
    undoes it)."""
    inverse = {
        1: [],
        2: [Image.Transpose.FLIP_LEFT_RIGHT],
        3: [Image.Transpose.ROTATE_180],
        4: [Image.Transpose.FLIP_TOP_BOTTOM],
        5: [Image.Transpose.TRANSPOSE],
        6: [Image.Transpose.ROTATE_90],
        7: [Image.Transpose.TRANSVERSE],
        8: [Image.Transpose.ROTATE_270],
    }[orientation]
    for step in inverse:
        viewed = viewed.transpose(step)
    return viewed


def save_with_orientation(viewed: Image.Image, path: Path, orientation: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation  # the EXIF orientation tag
    path.parent.mkdir(parents=True, exist_ok=True)
    turned(viewed, orientation).save(path, exif=exif.tobytes(), quality=95)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_each_exif_orientation_is_decoded_as_a_photo_app_shows_it(tmp_path, orientation):
    viewed = Image.fromarray(asymmetric_picture())
    path = tmp_path / f"o{orientation}.jpg"
    save_with_orientation(viewed, path, orientation)
    with Image.open(path) as stored:
        expected = np.asarray(
            ImageOps.exif_transpose(stored)
            .convert("RGB")
            .resize((20, 20), Image.Resampling.BILINEAR)
        )
    np.testing.assert_array_equal(images.decode_image(path, 20), expected)
    # and it is the picture as viewed, not as stored (JPEG rounding aside)
    upright = np.asarray(viewed.resize((20, 20), Image.Resampling.BILINEAR), dtype=float)
    assert np.abs(images.decode_image(path, 20) - upright).mean() < 4


def test_large_jpegs_are_decoded_at_a_reduced_scale_with_pixels_that_stay_close(tmp_path):
    """Draft mode (the decoder shrinks by 8 while decoding) against a full decode and the same
    resize."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:1500, 0:2000]
    photo = np.stack(
        [
            128 + 100 * np.sin(x / 97),
            128 + 100 * np.cos(y / 61),
            (x // 50 + y // 50) % 2 * 200 + 20,
        ],
        -1,
    )
    Image.fromarray((photo + rng.normal(0, 8, photo.shape)).clip(0, 255).astype(np.uint8)).save(
        tmp_path / "big.jpg"
    )
    with Image.open(tmp_path / "big.jpg") as image:
        assert image.draft("RGB", (64, 64))[1] == (0, 0, 250, 187.5)  # decoded at 1/8 scale
    with Image.open(tmp_path / "big.jpg") as image:
        full = np.asarray(
            image.convert("RGB").resize((64, 64), Image.Resampling.BILINEAR), dtype=float
        )
    reduced = images.decode_image(tmp_path / "big.jpg", 64).astype(float)
    # how close: on average under 4 levels of 255 per pixel, and the same brightness within half a
    # level
    assert np.abs(reduced - full).mean() < 4
    assert abs(reduced.mean() - full.mean()) < 0.5


def test_every_format_keeps_working(tmp_path):
    rng = np.random.default_rng(0)
    base = Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8))
    base.convert("RGBA").save(tmp_path / "alpha.png")
    base.convert("L").save(tmp_path / "grey.jpg")
    base.convert("CMYK").save(tmp_path / "cmyk.jpg")
    base.convert("P").save(tmp_path / "palette.gif")
    base.save(tmp_path / "photo.webp")
    base.save(tmp_path / "progressive.jpg", progressive=True)
    Image.fromarray(np.asarray(base.convert("L")).astype(np.uint16) * 257).save(
        tmp_path / "sixteen.png"
    )
    frames = [base, Image.fromarray(255 - np.asarray(base))]
    frames[0].save(tmp_path / "animated.gif", save_all=True, append_images=frames[1:])
    brightness = np.asarray(
        base.convert("L").resize((16, 16), Image.Resampling.BILINEAR), dtype=float
    ).mean()
    for path in sorted(tmp_path.iterdir()):
        pixels = images.decode_image(path, 16)
        assert pixels.shape == (16, 16, 3) and pixels.dtype == np.uint8, path.name
        # the first frame, 16 bits scaled, not clipped
        assert abs(pixels.mean() - brightness) < 6, path.name


def test_heic_photos(tmp_path, monkeypatch, capsys):
    pytest.importorskip("pillow_heif")  # requirements.txt installs it
    viewed = Image.fromarray(asymmetric_picture())
    exif = Image.Exif()
    exif[0x0112] = 6
    turned(viewed, 6).save(tmp_path / "IMG_0001.HEIC", exif=exif.tobytes(), quality=95)
    # with the plugin: read, and upright
    pixels = images.decode_image(tmp_path / "IMG_0001.HEIC", 20)
    upright = np.asarray(viewed.resize((20, 20), Image.Resampling.BILINEAR), dtype=float)
    assert np.abs(pixels - upright).mean() < 6
    # without the plugin: one line that names the file, the plugin and how to convert
    monkeypatch.setattr(images, "HEIF_READER", None)
    with pytest.raises(ValueError) as caught:
        images.decode_image(tmp_path / "IMG_0001.HEIC", 20)
    message = str(caught.value)
    assert (
        "IMG_0001.HEIC is a HEIC photo" in message
        and "pip install pillow-heif" in message
        and "sips" in message
    )
    assert "\n" not in message
    folder = tmp_path / "photos"
    make_image_folder(folder, per_class=(3, 2), oddities=False)
    (tmp_path / "IMG_0001.HEIC").rename(folder / "training_set" / "cats" / "IMG_0001.HEIC")
    image_set, _ = images.load_image_set(folder / "training_set", 16, None, "training_set")
    images.warn_skipped(image_set, folder / "training_set")
    out = capsys.readouterr().out
    assert (
        "skipped 1 unreadable file(s)" in out
        and "1 of them are HEIC photos: pip install pillow-heif" in out
    )


@pytest.mark.parametrize("shuffle", [True, False])
def test_the_batches_gather_the_photos_in_the_order_a_shuffle_of_them_draws(shuffle):
    """Under TensorFlow the pipeline shuffles the rows' numbers, not the photos (which would hold
    them all in the shuffle buffer): the same batches, epoch after epoch, as shuffling the photos
    themselves with the same seed."""
    from tutorial_support.backends import batches
    from tutorial_support.backends.choice import chosen

    if chosen() != "tensorflow":
        pytest.skip("tf.data is TensorFlow's pipeline")
    import tensorflow as tf

    rng = np.random.default_rng(0)
    photos = rng.integers(0, 255, (50, 8, 8, 3), dtype=np.uint8)
    labels = rng.integers(0, 2, 50).astype("float32")
    shuffled = tf.data.Dataset.from_tensor_slices((photos, labels))
    if shuffle:
        shuffled = shuffled.shuffle(50, seed=3, reshuffle_each_iteration=True)
    expected = shuffled.batch(8)
    ours = batches.image_batches(photos, labels, 8, shuffle, seed=3)
    for _ in range(3):  # epochs
        for (x, y), (x_ours, y_ours) in zip(expected, ours, strict=True):
            assert x_ours.dtype == tf.float32 and x_ours.shape[1:] == (8, 8, 3)
            np.testing.assert_array_equal(x_ours.numpy(), x.numpy().astype("float32"))
            np.testing.assert_array_equal(y_ours.numpy(), y.numpy())
