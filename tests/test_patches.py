"""backends/patches.py: each patched Keras operation gives what the unpatched one gives."""

import numpy as np
import pytest

from tutorial_support.backends import startup
from tutorial_support.backends.choice import chosen
from tutorial_support.common.runtime import keras

pytestmark = pytest.mark.backends


def test_only_jax_is_patched():
    assert startup.PATCHES == (["jax max_pool"] if chosen() == "jax" else [])


@pytest.mark.skipif(chosen() != "jax", reason="the patch is JAX's (make test BACKEND=jax)")
@pytest.mark.parametrize(
    "shape, pool, strides, padding",
    [
        ((4, 12, 12, 3), 2, None, "valid"),  # the course's pools
        ((4, 13, 11, 5), 2, 2, "valid"),  # odd sides: the last row and column are dropped
        ((2, 9, 9, 2), (3, 3), (3, 3), "valid"),
        ((2, 8, 8, 2), 2, 1, "valid"),  # overlapping windows: Keras' own operation
        ((2, 7, 7, 2), 2, 2, "same"),  # padded: Keras' own operation
    ],
)
def test_max_pool_and_its_gradient_are_keras_own(shape, pool, strides, padding):
    import jax
    from keras.src.backend.jax import nn

    original = nn.max_pool.__wrapped__
    # after a ReLU, as in the networks: zeros, and distinct positive values
    x = np.maximum(np.random.default_rng(0).normal(size=shape), 0).astype("float32")

    # Keras' own function fails on strides=None when called directly (it converts the pool size
    # twice); its ops pass the strides
    given = pool if strides is None else strides

    def total(pooling):
        return lambda v: (pooling(v, pool, given, padding) ** 2).sum()

    np.testing.assert_array_equal(
        np.asarray(nn.max_pool(x, pool, strides, padding)),
        np.asarray(original(x, pool, given, padding)),
    )
    patched_gradient = np.asarray(jax.grad(total(nn.max_pool))(x))
    np.testing.assert_array_equal(patched_gradient, np.asarray(jax.grad(total(original))(x)))
    assert np.abs(patched_gradient).sum() > 0


@pytest.mark.skipif(chosen() != "jax", reason="the patch is JAX's (make test BACKEND=jax)")
def test_the_layer_goes_through_the_patched_function(monkeypatch):
    from keras.src.backend.jax import nn

    patched, calls = nn.max_pool, []

    def spy(*args, **kwargs):
        calls.append(args[1:])
        return patched(*args, **kwargs)

    monkeypatch.setattr(nn, "max_pool", spy)
    x = np.arange(2 * 4 * 4 * 1, dtype="float32").reshape(2, 4, 4, 1)
    pooled = keras.ops.convert_to_numpy(keras.layers.MaxPooling2D(2)(x))
    np.testing.assert_array_equal(pooled[0, :, :, 0], [[5, 7], [13, 15]])
    assert calls and patched.__wrapped__ is not patched
