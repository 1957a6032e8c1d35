"""Which Keras backend this run uses, read as Keras reads it, without importing Keras.

Keras takes ``KERAS_BACKEND`` from the environment, else the ``"backend"`` of ``keras.json`` in
``$KERAS_HOME`` (default ``~/.keras``), else TensorFlow. The start-up has to know before Keras is
imported: TensorFlow's import is the one to silence, and a missing package gets one line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

# backend name -> (the package it needs, how a reader knows it, the make flag, its requirements)
BACKENDS = {
    "tensorflow": ("tensorflow", "TensorFlow", "", "requirements.txt"),
    "jax": ("jax", "JAX", " BACKEND=jax", "requirements-jax.txt"),
    "torch": ("torch", "PyTorch", " BACKEND=torch", "requirements-torch.txt"),
}


def chosen() -> str:
    """tensorflow, jax or torch (or another name Keras would refuse, left for Keras to say so)."""
    name = os.environ.get("KERAS_BACKEND")
    if not name:
        home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
        try:
            name = json.loads((home / "keras.json").read_text()).get("backend")
        except (OSError, ValueError, AttributeError):  # no file, or not the JSON Keras writes
            name = None
    return name or "tensorflow"


PLAIN_KERAS = "DLP_PLAIN_KERAS"  # =1: none of the tutorial's speed changes to Keras (startup.py)


def plain_keras() -> bool:
    """True where ``DLP_PLAIN_KERAS`` is set (to anything but 0): Keras as it is installed, with no
    patch, no fused epoch, no XLA flag and no malloc setting, to check a result against."""
    return os.environ.get(PLAIN_KERAS, "").strip() not in ("", "0")


def package() -> str:
    return BACKENDS.get(chosen(), (chosen(),))[0]


def label() -> str:
    """TensorFlow, JAX or PyTorch."""
    return BACKENDS.get(chosen(), (None, chosen()))[1]


def install_hint() -> str:
    """What to run for a Python without the requirements, for this backend; ``{}`` stands for the
    make target (ann or cnn)."""
    _, _, flag, requirements = BACKENDS.get(chosen(), BACKENDS["tensorflow"])
    venv = ".venv" + flag.replace(" BACKEND=", "-")
    return (
        f"`make {{}}{flag}`, or activate {venv} (. {venv}/bin/activate), "
        f"or pip install -r {requirements}"
    )
