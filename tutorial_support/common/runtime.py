"""The start-up: the backend imported quietly, the device line, precision, seeding and timing.

Import this module before ``keras``: under TensorFlow it imports TensorFlow with its C++
start-up messages silenced, so the reader sees the tutorial's output rather than log noise.
The backend is Keras' own choice (``KERAS_BACKEND``, or keras.json; TensorFlow otherwise):
backends/startup.py answers each question for TensorFlow, JAX and PyTorch.
"""

from __future__ import annotations

import os
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

from tutorial_support.backends import startup
from tutorial_support.backends.startup import keras

# cleanlab (transfer_learning.py) imports tqdm.auto, which in a Jupyter kernel without ipywidgets
# warns that it cannot draw a progress bar; the tutorial asks tqdm for none
warnings.filterwarnings("ignore", message="IProgress not found")


def cpu_count() -> int:
    """Cores this process may use (respects CPU affinity and containers)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def backend() -> dict:
    """What metrics.json records of the backend: its name and the versions."""
    return startup.record()


def setup_device() -> str:
    """Let the backend use every GPU it finds and describe the device.

    Returns one line such as "Training on GPU: NVIDIA H100 80GB HBM3 | Keras 3.15.1 on
    TensorFlow 2.21.0" or "Training on CPU, 2 cores | Keras 3.15.1 on JAX 0.10.2 | 3 speed
    changes to Keras (metrics.json names them; DLP_PLAIN_KERAS=1 turns them off)".
    """
    names = [name for name, _ in startup.gpus()]
    device = f"GPU: {', '.join(names)}" if names else f"CPU, {cpu_count()} cores"
    speed = startup.speed_line()  # e.g. "4 speed changes to Keras (...)"; none on TensorFlow
    return f"Training on {device} | {startup.versions()}" + (f" | {speed}" if speed else "")


def mixed_precision_policy(mode: str = "auto", cpu_bfloat16: bool = True) -> str:
    """The Keras dtype policy for --mixed-precision auto/on/off.

    Mixed precision keeps the weights in float32 but computes in 16 bits: float16
    on an NVIDIA GPU, bfloat16 on a CPU. It only pays where the hardware computes
    16-bit numbers natively (tensor cores from compute capability 7.0; AVX512-BF16
    or AMX on x86 CPUs, with TensorFlow's kernels), so "auto" turns it on there and nowhere
    else. ``cpu_bfloat16=False``: a network that bfloat16 does not speed up on a CPU (the
    pretrained base's depthwise convolutions) stays in float32 there under "auto".
    """
    if mode == "off":
        return "float32"
    gpus = startup.gpus()
    if gpus:
        capability = gpus[0][1] or (0, 0)
        return "mixed_float16" if mode == "on" or capability >= (7, 0) else "float32"
    if mode == "on" or (cpu_bfloat16 and startup.fast_cpu_bfloat16() and _cpu_has_bfloat16()):
        return "mixed_bfloat16"
    return "float32"


def _cpu_has_bfloat16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: leave it off
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and the backend so one seed gives the same figures."""
    keras.utils.set_random_seed(seed)


def start(seed: int) -> StepTimer:
    """A lesson's start: the device line printed, everything seeded, and its clock started."""
    print(setup_device())
    seed_everything(seed)
    return StepTimer()


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
