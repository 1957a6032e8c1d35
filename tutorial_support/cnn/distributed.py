"""Distribution strategies: all local GPUs (MirroredStrategy) and several machines
(MultiWorkerMirroredStrategy).

Keras 3.15's ``model.fit`` fails under MultiWorkerMirroredStrategy ("Attempt to convert a value
(PerReplica:{...}) with an unsupported type ... to a Tensor", keras-team/keras issue 20585), so
this module holds the few lines of a custom training loop that TensorFlow's own multi-worker
guide uses: ``strategy.run`` runs one step on every worker, each on its own shard of the
data, and the optimizer all-reduces (sums) the gradients across the workers before it applies
them, so every worker ends every step with the same weights.

Every worker reads the cluster from the ``TF_CONFIG`` environment variable::

    TF_CONFIG='{"cluster": {"worker": ["host1:12345", "host2:12345"]},
               "task": {"type": "worker", "index": 0}}'

Worker 0 is the chief: it writes the outputs; the others train and write nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np

from tutorial_support.backends import startup
from tutorial_support.backends.choice import chosen, label
from tutorial_support.common.errors import TutorialError
from tutorial_support.common.runtime import keras

# tf.distribute is TensorFlow's alone: under another backend --strategy stops here, with one line
if chosen() != "tensorflow":
    raise TutorialError(
        f"--strategy mirrored and multiworker need Keras on TensorFlow (tf.distribute); this run "
        f"is on {label()}: run with KERAS_BACKEND=tensorflow (make cnn), or without --strategy"
    )
tf = startup.tensorflow()


def mirrored_strategy():
    """MirroredStrategy: copies the model onto every local GPU and splits each batch between
    them (the way to grow past one GPU; MultiWorkerMirroredStrategy does the same
    across machines). Without a GPU it splits the CPU into two logical devices and
    mirrors over those: no faster, but the same code path, so it can be tried and
    tested anywhere. Call it before anything else uses TensorFlow's devices.
    """
    if tf.config.list_physical_devices("GPU"):
        return tf.distribute.MirroredStrategy()
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
    except RuntimeError:  # devices already initialised (e.g. a second call in one process)
        pass
    devices = [device.name for device in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(devices=devices)


TF_CONFIG_EXAMPLE = (
    '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": '
    "0}} "
    "(the same cluster on every worker, each with its own index)"
)


def cluster_from_tf_config(text: str | None) -> tuple[list[str], int]:
    """The workers' addresses and this worker's index, from TF_CONFIG; a TutorialError if it is
    unusable."""
    if not text:
        raise TutorialError(
            "--strategy multiworker needs the TF_CONFIG environment variable, e.g. "
            f"TF_CONFIG='{TF_CONFIG_EXAMPLE}'"
        )
    try:
        config = json.loads(text)
        workers = config["cluster"]["worker"]
        task = config["task"]
        kind, index = task["type"], task["index"]
    except json.JSONDecodeError as error:
        raise TutorialError(
            f"TF_CONFIG is not valid JSON ({error.msg}); it must look like {TF_CONFIG_EXAMPLE}"
        ) from None
    except (KeyError, TypeError):
        raise TutorialError(
            "TF_CONFIG needs cluster.worker and task.type/index; it must look like "
            f"{TF_CONFIG_EXAMPLE}"
        ) from None
    if (
        not isinstance(workers, list)
        or not workers
        or not all(isinstance(w, str) and ":" in w for w in workers)
    ):
        raise TutorialError(
            "TF_CONFIG's cluster.worker must list host:port addresses; it must look like "
            f"{TF_CONFIG_EXAMPLE}"
        )
    if kind != "worker":
        raise TutorialError(
            f'TF_CONFIG\'s task.type must be "worker", got {kind!r}; it must look like '
            f"{TF_CONFIG_EXAMPLE}"
        )
    if not isinstance(index, int) or not 0 <= index < len(workers):
        raise TutorialError(
            f"TF_CONFIG's task.index {index!r} is not one of the {len(workers)} workers (0 to "
            f"{len(workers) - 1}); "
            f"it must look like {TF_CONFIG_EXAMPLE}"
        )
    return workers, index


# The watchdog of multi_worker_strategy: a separate process, because while TensorFlow waits for
# the other workers it holds Python's lock, so no thread of ours could run, and it ignores SIGTERM.
_WATCHDOG = """
import os, signal, sys, time
parent, timeout, message = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
time.sleep(timeout)
if os.getppid() == parent:  # still waiting (a finished parent would have ended us first)
    print(message, file=sys.stderr, flush=True)
    os.kill(parent, signal.SIGKILL)
"""


def multi_worker_strategy(timeout: float) -> tf.distribute.MultiWorkerMirroredStrategy:
    """The strategy for the cluster in TF_CONFIG, once every worker is there.

    Creating it waits for every worker to connect, and TensorFlow would wait for ever, so a
    watchdog process ends this one with one line after ``timeout`` seconds. The same timeout
    bounds every later exchange between the workers.
    """
    workers, index = cluster_from_tf_config(os.environ.get("TF_CONFIG"))
    message = (
        f"error: worker {index} could not reach the other workers of TF_CONFIG "
        f"({', '.join(workers)}) "
        f"within {timeout:g} s: start every worker, check the addresses and that the ports are "
        "open "
        "(--worker-timeout sets the wait)"
    )
    watchdog = subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(timeout), message],
        stdin=subprocess.DEVNULL,
    )
    try:
        options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=timeout)
        strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    finally:
        watchdog.kill()
        watchdog.wait()
    return strategy


def worker_count(strategy) -> int:
    resolver = getattr(strategy, "cluster_resolver", None)
    return (
        resolver.cluster_spec().num_tasks("worker")
        if resolver and resolver.cluster_spec().jobs
        else 1
    )


def is_chief(strategy) -> bool:
    """Worker 0 writes the outputs; a single machine is its own chief."""
    resolver = getattr(strategy, "cluster_resolver", None)
    return not (resolver and resolver.cluster_spec().jobs) or resolver.task_id == 0


def _predict(model, images: np.ndarray, batch_size: int) -> np.ndarray:
    """The model's outputs for ``images``, computed on this worker alone (no exchange with the
    others)."""
    forward = tf.function(lambda x: model(tf.cast(x, tf.float32), training=False))
    return np.concatenate(
        [
            np.asarray(forward(images[i : i + batch_size]), dtype=np.float32)
            for i in range(0, len(images), batch_size)
        ]
    )


def predict(model, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """The model's outputs for ``images`` (P(second class) for a sigmoid), on this worker alone."""
    return _predict(model, images, batch_size)


def fit(
    model,
    strategy,
    train,
    test,
    *,
    epochs: int,
    batch_size: int,
    seed: int,
    verbose: int = 1,
    callbacks=(),
) -> dict:
    """Train ``model`` (built and compiled under ``strategy.scope()``) across the workers.

    Each worker trains on its own shard of ``train`` (every worker-th image), ``batch_size``
    images per worker and step; the gradients of each step are summed across the workers.
    After every epoch each worker measures the test loss and accuracy on all of ``test``
    (the same weights everywhere give the same figures). Returns Keras-style history; each of
    ``callbacks`` hears of every epoch's beginning and end, as under Keras' fit.
    """
    workers, replicas = worker_count(strategy), strategy.num_replicas_in_sync
    global_batch = batch_size * replicas
    # every worker takes the same number of steps, or the last exchange would wait for ever
    steps = (len(train.labels) // workers) // batch_size

    def dataset_fn(context: tf.distribute.InputContext):
        dataset = tf.data.Dataset.from_tensor_slices((train.images, train.labels.astype("float32")))
        dataset = dataset.shard(context.num_input_pipelines, context.input_pipeline_id)
        dataset = dataset.shuffle(len(train.labels), seed=seed, reshuffle_each_iteration=True)
        return (
            dataset.batch(context.get_per_replica_batch_size(global_batch), drop_remainder=True)
            .take(steps)
            .prefetch(2)
        )

    distributed = strategy.distribute_datasets_from_function(dataset_fn)
    optimizer, loss_function = model.optimizer, keras.losses.BinaryCrossentropy(reduction=None)

    def step(images, labels):
        with tf.GradientTape() as tape:
            p = model(tf.cast(images, tf.float32), training=True)
            per_image = loss_function(labels[:, None], tf.cast(p, tf.float32))
            loss = tf.nn.compute_average_loss(per_image, global_batch_size=global_batch)
            # float16 loss scaling
            scaled = optimizer.scale_loss(loss) if hasattr(optimizer, "scale_loss") else loss
        gradients = tape.gradient(scaled, model.trainable_variables)
        # all-reduced across workers
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        right = tf.reduce_sum(
            tf.cast(tf.equal(tf.cast(p[:, 0] > 0.5, tf.float32), labels), tf.float32)
        )
        return loss, right

    @tf.function
    def train_step(images, labels):
        loss, right = strategy.run(step, args=(images, labels))
        total = tf.distribute.ReduceOp.SUM
        return strategy.reduce(total, loss, axis=None), strategy.reduce(total, right, axis=None)

    history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
    seconds = []
    hooks = keras.callbacks.CallbackList(list(callbacks), model=model)
    hooks.on_train_begin()
    for epoch in range(epochs):
        began = time.perf_counter()
        hooks.on_epoch_begin(epoch)
        losses, right = [], 0.0
        try:
            for images, labels in distributed:
                loss, correct = train_step(images, labels)
                losses.append(float(loss))
                right += float(correct)
        except (
            tf.errors.UnavailableError,
            tf.errors.DeadlineExceededError,
            tf.errors.CancelledError,
        ) as error:
            reason = str(error).strip().splitlines()[0][:200]
            raise TutorialError(
                f"lost contact with the other workers in epoch {epoch + 1} ({reason}); start them "
                "all again"
            ) from None
        p = np.clip(predict(model, test.images), 1e-7, 1 - 1e-7)
        y = test.labels
        history["loss"].append(float(np.mean(losses)))
        history["accuracy"].append(right / (steps * global_batch))
        history["val_loss"].append(float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))))
        history["val_accuracy"].append(float(np.mean((p > 0.5) == y)))
        seconds.append(time.perf_counter() - began)
        hooks.on_epoch_end(epoch, {key: values[-1] for key, values in history.items()})
        if verbose:
            print(
                f"Epoch {epoch + 1}/{epochs}: "
                + ", ".join(f"{key} {values[-1]:.4f}" for key, values in history.items())
                + f" ({seconds[-1]:.1f} s)",
                flush=True,
            )
    hooks.on_train_end()
    return history
