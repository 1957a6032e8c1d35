"""The combined shear/zoom/flip augmentation layer."""

import numpy as np
import pytest

from tutorial_support.cnn.augmentation import RandomShearZoomFlip
from tutorial_support.common.runtime import keras

pytestmark = pytest.mark.backends


def images(batch=6, size=16):
    rng = np.random.default_rng(0)
    return rng.uniform(0, 255, (batch, size, size + 4, 3)).astype("float32")


def test_inference_leaves_images_alone():
    x = images()
    np.testing.assert_array_equal(np.asarray(RandomShearZoomFlip()(x, training=False)), x)


def test_flip_only_mirrors_or_keeps_each_image():
    x = images(batch=32)
    out = np.asarray(RandomShearZoomFlip(shear_degrees=0, zoom=0, seed=1)(x, training=True))
    flipped = [np.allclose(o, i[:, ::-1], atol=1e-3) for o, i in zip(out, x)]
    kept = [np.allclose(o, i, atol=1e-3) for o, i in zip(out, x)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 4 < sum(flipped) < 28  # about half


def test_zoom_and_shear_change_images_within_range_and_keep_shape():
    x = images()
    layer = RandomShearZoomFlip(shear_degrees=10, zoom=0.2, horizontal_flip=False, seed=3)
    out = np.asarray(layer(x, training=True))
    assert out.shape == x.shape and out.dtype == np.float32
    assert not np.allclose(out, x)
    # interpolation, nearest fill
    assert out.min() >= x.min() - 1e-3 and out.max() <= x.max() + 1e-3
    # The centre pixel stays (nearly) where it is: every transform is about the centre.
    centre = x[:, 8, 10]
    np.testing.assert_allclose(out[:, 8, 10], centre, atol=60)


def test_layer_survives_saving(tmp_path):
    model = keras.Sequential(
        [keras.Input((8, 8, 3)), RandomShearZoomFlip(shear_degrees=5, zoom=0.1, seed=2)]
    )
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    layer = loaded.layers[0]
    assert (layer.shear_degrees, layer.zoom, layer.horizontal_flip) == (5, 0.1, True)
