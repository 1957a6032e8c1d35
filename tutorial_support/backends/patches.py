"""Keras' own operations, made faster on one backend where Keras leaves time on the table.

Each patch replaces one private Keras function with one that computes the same numbers, only where
the Keras version and the function's signature are the ones it was written and tested against
(tests/test_patches.py compares it with the unpatched operation); anywhere else Keras is left as
it is. ``apply()`` is called once, from startup.py, after Keras is imported.

- JAX (jax_patches.py, whose docstring says why each is exact): max pooling without XLA's slow
  ``select_and_scatter`` gradient, and the augmentation's ``affine_transform`` interpolated in
  two dimensions instead of three; and the depthwise convolution as the sum of its kernel's
  shifted products, with its gradients written by hand (the pretrained lesson's base).
- PyTorch (torch_patches.py, whose docstring names each patch's upstream fix): convolution and
  pooling without Keras' copies between the image layout and PyTorch's, and the augmentation's
  ``affine_transform`` as one ``grid_sample`` for the whole batch instead of a Python loop over
  its images.

What each is worth is measured, not quoted here: docs/measurements.md (chapter 1 with and
without the speed changes; each backend's chapters; the depthwise convolution).
"""

from __future__ import annotations

import inspect

from tutorial_support.backends import tested
from tutorial_support.backends.choice import chosen, plain_keras

TESTED_KERAS = tested.KERAS


def install(module, name: str, expected: list[str], patch) -> bool:
    """Replace module.name by patch(original) if the original has the expected parameters."""
    original = getattr(getattr(module, name), "__wrapped__", getattr(module, name))
    if list(inspect.signature(original).parameters) != expected:
        return False
    setattr(module, name, patch(original))
    return True


def apply() -> list[str]:
    """Install the patches that fit this backend and Keras version; returns their names."""
    import keras

    if chosen() not in ("jax", "torch") or not keras.__version__.startswith(TESTED_KERAS):
        return []
    if plain_keras():  # DLP_PLAIN_KERAS=1: Keras as it is installed
        return []
    if chosen() == "jax":
        from tutorial_support.backends import jax_patches as backend_patches
    else:
        from tutorial_support.backends import torch_patches as backend_patches
    return [
        f"{chosen()} {_owner(module)}.{name}"
        for module, name, expected, patch in backend_patches.patches()
        if install(module, name, expected, patch)
    ]


def _owner(module) -> str:
    """A patched function's module (nn, image) or class (Adam, BaseConv), by its last name."""
    return getattr(module, "__qualname__", None) or module.__name__.rsplit(".", 1)[-1]
