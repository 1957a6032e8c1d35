"""The machines cnn.py trains on, chosen once: one device, all local GPUs, or several computers.

``start(--strategy)`` returns a ``Machines``: its ``scope()`` is where the network is built and
compiled, and its ``fit`` and ``predict`` are the one training and the one prediction path of the
lesson, whatever the strategy:

- ``default`` and ``mirrored``: Keras' own ``model.fit`` and ``model.predict``, on batches made by
  ``images.as_dataset`` (MirroredStrategy splits each batch over the local GPUs);
- ``multiworker``: Keras' fit fails across machines, so distributed.py's loop takes the same steps,
  each worker on its own shard, and every worker predicts on its own.

Only the chief (worker 0, or the one machine) writes the outputs. ``default`` is one device on every
backend; ``mirrored`` and ``multiworker`` are TensorFlow's (tf.distribute): under JAX or PyTorch
they stop with one line.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np

from tutorial_support.backends import startup
from tutorial_support.cnn.images import ImageSet, as_dataset
from tutorial_support.common.errors import TutorialError
from tutorial_support.common.runtime import setup_device


@dataclass
class Machines:
    """The strategy (None: one device) with the training and prediction paths that handle it."""

    name: str  # --strategy: default, mirrored or multiworker
    strategy: object  # a tf.distribute strategy, or None for one device
    workers: int
    chief: bool  # whether this process writes the outputs

    @property
    def replicas(self) -> int:
        """Copies of the model that share each batch."""
        return self.strategy.num_replicas_in_sync if self.strategy else 1

    @property
    def across_workers(self) -> bool:
        return self.name == "multiworker"

    def scope(self):
        """Build and compile the network in here: its weights then live where the strategy wants."""
        return self.strategy.scope() if self.strategy else contextlib.nullcontext()

    @property
    def steps_per_execution(self) -> int:
        """Training steps per call into TensorFlow (Keras' ``steps_per_execution``).

        25 instead of one saves about 1 s of overhead per epoch of the tutorial CNN; the progress
        bar then moves in steps of 25 batches. Keras 3.15 fails with a "must feed a value for
        placeholder" error when it does this under MirroredStrategy, so a distributed run goes
        one step at a time; so does PyTorch (backends/startup.py).
        """
        return startup.steps_per_execution(25) if self.name == "default" else 1

    def steps_per_epoch(self, images: int, batch_size: int) -> int:
        """Training steps in one epoch: across workers, each takes whole batches of its shard."""
        if self.across_workers:
            return images // self.workers // batch_size
        return math.ceil(images / batch_size)

    def check_classes(self, n_classes: int) -> None:
        if self.across_workers and n_classes > 2:
            raise TutorialError(
                f"--strategy multiworker trains two classes; found {n_classes}: "
                "train on one machine"
            )

    def fit(
        self,
        model,
        train: ImageSet,
        test: ImageSet,
        *,
        epochs,
        batch_size,
        seed,
        verbose,
        callbacks=(),
    ) -> dict:
        """Train on ``train``, measuring ``test`` after every epoch; Keras' history dict."""
        if self.across_workers:
            from tutorial_support.cnn import distributed

            return distributed.fit(
                model,
                self.strategy,
                train,
                test,
                epochs=epochs,
                batch_size=batch_size,
                seed=seed,
                verbose=verbose,
                callbacks=callbacks,
            )
        batches = as_dataset(train, batch_size, shuffle=True, seed=seed)
        test_batches = as_dataset(test, batch_size, shuffle=False, seed=seed)
        return model.fit(
            batches,
            validation_data=test_batches,
            epochs=epochs,
            shuffle=False,
            verbose=verbose,
            callbacks=list(callbacks),
        ).history

    def predict(self, model, images: ImageSet, batch_size: int) -> np.ndarray:
        """The network's outputs for every image, in order."""
        if self.across_workers:  # each worker on its own: every one holds the same weights
            from tutorial_support.cnn import distributed

            return distributed.predict(model, images.images, batch_size=batch_size)
        batches = as_dataset(images, batch_size, shuffle=False, seed=0)
        return model.predict(batches, verbose=0)


def start(name: str, worker_timeout: float) -> Machines:
    """The machines of ``--strategy name``; prints the device line and how the work is shared.

    Call it before anything else touches TensorFlow's devices.
    """
    if name == "default":
        print(setup_device())
        return Machines(name, None, workers=1, chief=True)
    from tutorial_support.cnn import distributed  # TensorFlow's: one line and exit 2 elsewhere

    if name == "multiworker":  # waits until every worker of TF_CONFIG is there
        strategy = distributed.multi_worker_strategy(timeout=worker_timeout)
    else:
        strategy = distributed.mirrored_strategy()
    print(setup_device())
    workers, chief = distributed.worker_count(strategy), distributed.is_chief(strategy)
    if name == "mirrored":
        replicas = strategy.num_replicas_in_sync
        print(f"MirroredStrategy: each batch is split over {replicas} devices")
    if name == "multiworker":
        role = "the chief, which writes" if chief else "the chief, worker 0, writes"
        print(
            f"MultiWorkerMirroredStrategy: worker {strategy.cluster_resolver.task_id} of "
            f"{workers} ({role} the outputs), {strategy.num_replicas_in_sync} replicas in all"
        )
    return Machines(name, strategy, workers, chief)
