"""TensorFlow start-up: quiet logs, the device line, precision, seeding and timing.

Import this module before ``keras``: it imports TensorFlow with its C++ start-up
messages silenced, so the reader sees the tutorial's output rather than log noise.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

# Keep TensorFlow's C++ logging to errors, and keep Keras on TensorFlow (the backend
# that finds an NVIDIA GPU) unless the reader chose another one.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


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
    return tensorflow


tf = _import_tensorflow_quietly()
import keras  # after TensorFlow, so that its import is the quiet one


def cpu_count() -> int:
    """Cores this process may use (respects CPU affinity and containers)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def setup_device() -> str:
    """Let TensorFlow use every GPU it finds (memory growth on) and describe the device.

    Returns one line such as "Training on GPU: NVIDIA H100 80GB HBM3 | TensorFlow
    2.21.0, Keras 3.15.1" or "Training on CPU, 2 cores | ...".
    """
    gpus = tf.config.list_physical_devices("GPU")
    names = []
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialised: growth can no longer change
            pass
        details = tf.config.experimental.get_device_details(gpu)
        names.append(details.get("device_name", gpu.name))
    if names:
        device = f"GPU: {', '.join(names)}"
    else:
        device = f"CPU, {cpu_count()} cores"
    return f"Training on {device} | TensorFlow {tf.__version__}, Keras {keras.__version__}"


def mixed_precision_policy(mode: str = "auto") -> str:
    """The Keras dtype policy for --mixed-precision auto/on/off.

    Mixed precision keeps the weights in float32 but computes in 16 bits: float16
    on an NVIDIA GPU, bfloat16 on a CPU. It only pays where the hardware computes
    16-bit numbers natively (tensor cores from compute capability 7.0; AVX512-BF16
    or AMX on x86 CPUs), so "auto" turns it on there and nowhere else.
    """
    if mode == "off":
        return "float32"
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        capability = tf.config.experimental.get_device_details(gpus[0]).get(
            "compute_capability", (0, 0)
        )
        return "mixed_float16" if mode == "on" or capability >= (7, 0) else "float32"
    return "mixed_bfloat16" if mode == "on" or _cpu_has_bfloat16() else "float32"


def _cpu_has_bfloat16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: leave it off
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow so one seed gives the same figures."""
    keras.utils.set_random_seed(seed)


class StepTimer:
    """Records how long each named step took, for the summary at the end of a run."""

    def __init__(self):
        self.start = time.perf_counter()
        self.seconds: dict[str, float] = {}

    @contextmanager
    def measure(self, name: str):
        began = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - began

    def total(self) -> float:
        return time.perf_counter() - self.start

    def summary(self) -> str:
        total = self.total()
        parts = [f"{name} {seconds:.1f} s" for name, seconds in self.seconds.items()]
        other = total - sum(self.seconds.values())
        parts.append(f"other {other:.1f} s")
        return f"Time: {total:.1f} s in all ({', '.join(parts)})"


class EpochTimes(keras.callbacks.Callback):
    """A Keras callback that records the seconds of every training epoch."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.began = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.began)
