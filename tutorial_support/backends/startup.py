"""The backend started quietly, and what it says of the machine: GPUs, their names, the precision
they compute fast in. One function per question, answered for TensorFlow, JAX and PyTorch."""

from __future__ import annotations

import os
import sys

from tutorial_support.backends import tested
from tutorial_support.backends.choice import PLAIN_KERAS, chosen, label, plain_keras

# TensorFlow's C++ logging kept to errors (read when TensorFlow is imported)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _import_tensorflow_quietly():
    """Import TensorFlow with stderr pointed at /dev/null.

    Some start-up lines ("oneDNN custom operations are on", "Could not find cuda
    drivers") are written by C++ code before TF_CPP_MIN_LOG_LEVEL is read, so the
    only way to hide them is to silence the file descriptor for the import.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow

        # The first look for a GPU loads the NVIDIA driver if there is one. On a machine with a
        # driver but no usable GPU (a laptop with the GPU switched off, a container without
        # one), TensorFlow then logs "failed call to cuInit" as an ERROR, which even
        # TF_CPP_MIN_LOG_LEVEL=2 lets through. Looking now, while stderr is silenced, keeps that
        # out of the tutorial's output; TensorFlow remembers the answer for later calls.
        tensorflow.config.list_physical_devices("GPU")
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)
    tensorflow.get_logger().setLevel("ERROR")


YNNPACK_DOTS = "--xla_cpu_experimental_ynn_fusion_type=dot"
TESTED_JAXLIB = tested.JAXLIB  # a flag XLA does not know stops the program: only where tested


def _xla_cpu_uses_ynnpack() -> bool:
    """JAX: XLA:CPU hands its matrix products and convolutions to YNNPACK (XNNPACK's successor).

    Chapter 2's training steps are faster with it (its convolutions' gradients most); chapter 1's
    run gives the same figures (docs/measurements.md: chapter 1 with and without the changes).
    YNNPACK computes in float32 as XLA does (a convolution within 1e-6 of a float64 one). Set in
    XLA_FLAGS before JAX starts; a setting of the learner's own is left as it is. Returns whether it
    was set."""
    from importlib import metadata

    flags = os.environ.get("XLA_FLAGS", "")
    if chosen() != "jax" or "ynn_fusion_type" in flags or plain_keras():
        return False
    try:
        if not metadata.version("jaxlib").startswith(TESTED_JAXLIB):
            return False
    except metadata.PackageNotFoundError:
        return False
    os.environ["XLA_FLAGS"] = f"{flags} {YNNPACK_DOTS}".strip()
    return True


XLA_USES_YNNPACK = _xla_cpu_uses_ynnpack()
if chosen() == "tensorflow":
    _import_tensorflow_quietly()
import keras  # on the chosen backend, after TensorFlow's quiet import

from tutorial_support.backends import patches  # a few of Keras' operations, faster (patches.py)

PATCHES = patches.apply()


def _keep_freed_memory() -> bool:
    """PyTorch on Linux: glibc's malloc keeps freed blocks of up to 32 MiB for the next tensor.

    By default glibc gives each block of more than 128 KiB (a threshold that grows only as such
    blocks are freed) its own pages from the system and returns them when it is freed, so every
    new activation of chapter 2's network starts with thousands of page faults, each page zeroed
    afresh: a fifth of a training step on a 2-core CPU. TensorFlow and JAX keep their memory in
    allocators of their own. Kept blocks cost some memory that the process does not hand back;
    the arithmetic is untouched. Returns whether the settings took (glibc only)."""
    import ctypes
    import platform

    if chosen() != "torch" or platform.libc_ver()[0] != "glibc" or plain_keras():
        return False
    libc = ctypes.CDLL("libc.so.6")
    mmap_threshold, trim_threshold, top_pad = -3, -1, -2  # malloc.h's M_* parameters
    settings = ((mmap_threshold, 32 << 20), (trim_threshold, 1 << 30), (top_pad, 64 << 20))
    return all(libc.mallopt(parameter, value) == 1 for parameter, value in settings)


KEEPS_FREED_MEMORY = _keep_freed_memory()


def speed_changes() -> list[str]:
    """Every change to Keras or its runtime in effect for this run, by name: the XLA flag, each
    patch of a Keras function (patches.py), PyTorch's fused epoch for chapter 1's networks
    (fused.py), the malloc setting. Empty on TensorFlow, and under DLP_PLAIN_KERAS=1."""
    changes = [f"XLA_FLAGS={YNNPACK_DOTS}"] if XLA_USES_YNNPACK else []
    changes += [f"patch: Keras' {name}" for name in PATCHES]
    if chosen() == "torch":
        from tutorial_support.backends import torch_private

        if torch_private.unavailable() is None:
            changes.append("fused epoch: chapter 1's stacked networks (backends/fused.py)")
    if KEEPS_FREED_MEMORY:
        changes.append("glibc malloc keeps freed blocks of up to 32 MiB (mallopt)")
    return changes


def speed_line() -> str:
    """The device line's end: how many speed changes are in effect, and how to turn them off."""
    if plain_keras():
        return f"plain Keras ({PLAIN_KERAS}=1: no speed changes)"
    count = len(speed_changes())
    if not count:
        return ""
    return (
        f"{count} speed change{'s' if count > 1 else ''} to Keras (metrics.json names them; "
        f"{PLAIN_KERAS}=1 turns them off)"
    )


def tensorflow():
    """TensorFlow itself, for what only it does (tf.distribute: cnn/distributed.py)."""
    import tensorflow

    return tensorflow


def backend_version() -> str:
    """e.g. "TensorFlow 2.21.0", "JAX 0.10.2", "PyTorch 2.13.0"."""
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[chosen()]
    version = sys.modules[module].__version__.split("+")[0]  # torch's "2.13.0+cpu"
    return f"{label()} {version}"


def record() -> dict:
    """e.g. {"name": "jax", "version": "JAX 0.10.2", "keras": "3.15.1", "speed_changes": [...]}."""
    return {
        "name": chosen(),
        "version": backend_version(),
        "keras": keras.__version__,
        "speed_changes": speed_changes(),
    }


def versions() -> str:
    """The line's end: "Keras 3.15.1 on JAX 0.10.2"."""
    return f"Keras {keras.__version__} on {backend_version()}"


def gpus() -> list[tuple[str, tuple[int, int] | None]]:
    """(name, NVIDIA compute capability or None) of every GPU the backend will use.

    Under TensorFlow each GPU's memory grows as needed instead of being taken whole.
    """
    backend = chosen()
    if backend == "tensorflow":
        import tensorflow as tf

        found = []
        for gpu in tf.config.list_physical_devices("GPU"):
            try:
                tf.config.experimental.set_memory_growth(gpu, True)
            except RuntimeError:  # already initialised: growth can no longer change
                pass
            details = tf.config.experimental.get_device_details(gpu)
            found.append((details.get("device_name", gpu.name), details.get("compute_capability")))
        return found
    if backend == "jax":
        import jax

        return [
            (device.device_kind, _capability(getattr(device, "compute_capability", None)))
            for device in jax.devices()
            if device.platform == "gpu"
        ]
    import torch

    if torch.cuda.is_available():
        return [
            (torch.cuda.get_device_name(i), torch.cuda.get_device_capability(i))
            for i in range(torch.cuda.device_count())
        ]
    if torch.backends.mps.is_available():  # a Mac's GPU
        return [("Apple GPU (MPS)", None)]
    return []


def _capability(text: str | None) -> tuple[int, int] | None:
    """JAX gives "9.0"; the others a pair of numbers."""
    if not text:
        return None
    major, _, minor = str(text).partition(".")
    return int(major), int(minor or 0)


def steps_per_execution(wanted: int) -> int:
    """Keras on PyTorch runs one training step per call (it refuses more); the others ``wanted``."""
    return 1 if chosen() == "torch" else wanted


def fast_cpu_bfloat16() -> bool:
    """Whether "auto" computes in bfloat16 on a CPU with AVX512-BF16 or AMX: under TensorFlow and
    PyTorch, whose oneDNN kernels use them (docs/machines.md). JAX stays in float32 on a CPU:
    XLA's bfloat16 was slower there than its float32."""
    return chosen() in ("tensorflow", "torch")
