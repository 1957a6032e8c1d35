"""JAX's depthwise convolution patch (backends/jax_patches.py) on the pretrained lesson's network:
the base's features of 32 photos at 224 px, and one fine-tuning step (the top third of the base
unfrozen), with the patch and with Keras' own function, each in a process of its own (so that
neither reuses the other's compiled functions). Run it in the JAX virtualenv:

    KERAS_BACKEND=jax .venv-jax/bin/python benchmarks/bench_jax_depthwise.py

Writes docs/measurements.md (section jax-depthwise).
"""

import argparse
import json
import subprocess
import sys
import time

import numpy as np

from measurements import write_section
from tutorial_support.backends import startup
from tutorial_support.backends.choice import chosen
from tutorial_support.cnn import efficientnet_lite, transfer
from tutorial_support.common.runtime import keras


def network(size: int):
    """The lesson's network on random weights (timing does not depend on them)."""
    base = efficientnet_lite.build(size)
    inputs = keras.Input(shape=(size, size, 3))
    x = base(transfer.scaling(transfer.DEFAULT_BASE)(inputs), training=False)
    x = keras.layers.GlobalAveragePooling2D(name="pooling")(x)
    outputs = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Dropout(0.2)(x))
    return base, keras.Model(inputs, outputs)


def timed(call, reps: int) -> float:
    """Median seconds of ``reps`` calls, after one that compiles."""
    call()
    seconds = []
    for _ in range(reps):
        began = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - began)
    return float(np.median(seconds))


def measure(variant: str, reps: int) -> dict:
    """In this process: the features and a fine-tuning step with the patched depthwise
    convolution, or with Keras' own (``variant`` "original": the patch taken out first)."""
    from keras.src.backend.jax import nn

    if variant == "original":
        nn.depthwise_conv = nn.depthwise_conv.__wrapped__
    keras.utils.set_random_seed(0)
    base, cnn = network(224)
    rng = np.random.default_rng(0)
    photos = rng.uniform(0, 255, (32, 224, 224, 3)).astype("float32")
    targets = (rng.uniform(size=32) < 0.5).astype("float32")
    features = keras.Model(cnn.input, cnn.get_layer("pooling").output)
    forward = timed(lambda: features.predict_on_batch(photos), reps)
    values = np.asarray(features.predict_on_batch(photos))
    transfer.unfreeze_top(base)
    cnn.compile(optimizer=keras.optimizers.Adam(1e-5), loss="binary_crossentropy")
    step = timed(lambda: cnn.train_on_batch(photos, targets), reps)
    return {"forward": forward, "step": step, "features": values.tolist()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--variant", choices=("patched", "original"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if chosen() != "jax" or "jax nn.depthwise_conv" not in startup.PATCHES:
        raise SystemExit("run it on JAX with the patch: KERAS_BACKEND=jax .venv-jax/bin/python ...")
    if args.variant:  # a child process: one variant, its figures as JSON
        print(json.dumps(measure(args.variant, args.reps)))
        return
    runs = {}
    for variant in ("original", "patched"):  # each in a process of its own: its own compiles
        child = subprocess.run(
            [sys.executable, __file__, "--variant", variant, "--reps", str(args.reps)],
            capture_output=True,
            text=True,
            check=True,
        )
        runs[variant] = json.loads(child.stdout.strip().splitlines()[-1])
    own, patched = runs["original"], runs["patched"]
    a, b = np.array(own["features"]), np.array(patched["features"])
    gap = np.abs(a - b).max() / np.abs(a).max()
    lines = [
        f"{startup.versions()}, XLA_FLAGS as the tutorial sets them; the median of {args.reps} "
        "calls after one that compiles, Keras' own depthwise convolution and the patched one each "
        "in a process of its own, one after the other:",
        "",
        f"- the base's features of 32 photos at 224 px: Keras' own {own['forward']:.2f} s, "
        f"patched {patched['forward']:.2f} s ({own['forward'] / patched['forward']:.1f}x); the "
        f"features differ by at most {gap:.0e} of the largest",
        f"- one fine-tuning step (batch 32, the top third of the base unfrozen): Keras' own "
        f"{own['step']:.2f} s, patched {patched['step']:.2f} s "
        f"({own['step'] / patched['step']:.1f}x)",
    ]
    print("\n".join(lines))
    write_section("jax-depthwise", "JAX: the depthwise convolution patch", lines)


if __name__ == "__main__":
    main()
