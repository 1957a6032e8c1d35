"""Train many copies of one small Keras network at once, each on its own data.

Cross-validation trains the same network ten times, once per fold. For a network
of 11 -> 6 -> 6 -> 1 units fed 10 rows at a time, almost all of the time of
``model.fit`` goes into the framework's per-step overhead, not arithmetic. Two things
remove it here, without changing the maths:

1. The copies are *stacked*: every Dense layer holds one weight matrix per copy
   (shape ``copies x inputs x units``) and each training step multiplies all the
   copies' batches by their own weights in one batched matrix product. The loss is
   the sum of the copies' own losses, so each copy's gradient is exactly its own,
   and Adam (or RMSprop) updates each weight from its own gradient alone: each fold
   is trained exactly as if it were trained alone.
2. A whole epoch (every step: pick the batch, forward, gradients, optimizer update)
   is one compiled call (XLA under TensorFlow and JAX: backends/epochs.py), so Python and
   the backend are entered once per epoch instead of once per step. PyTorch runs the
   steps eagerly, one by one. The stacked twin (twins.py), its optimizer and its compiled
   epoch are kept for the next training of the same network, which then compiles nothing.

Every copy starts from the same initial weights and sees its rows in the same
shuffled order, as ``cross_val_score`` does when it clones an estimator with a
fixed ``random_state`` (``cross_validation.py`` and ``sklearn_wrapper.py`` build on
it; the tests check that both ways give the same scores).

Two kinds of output are trained: one sigmoid unit for two classes (binary cross-entropy,
targets 0 and 1) and a softmax over three or more (sparse categorical cross-entropy, targets
0 .. K-1).

training.py holds what ann.py calls: ``fit`` and ``predict_probabilities``, the fast
counterparts of ``model.fit`` and ``model.predict``.
"""

from __future__ import annotations

import numpy as np

from tutorial_support.common.runtime import keras
from tutorial_support.fast.twins import kept_twin, taken_twin, unstack

ops = keras.ops
# XLA compiles an epoch into one fast kernel, but compiling costs about a second: worth it for
# the course's runs (80,000 steps for step 6), not for a few hundred steps on a tiny table.
XLA_FROM_STEPS = 5000
LOSSES = ("binary_crossentropy", "sparse_categorical_crossentropy")  # one sigmoid unit; a softmax


def _loss_name(model: keras.Model) -> str:
    loss = model.loss
    name = loss if isinstance(loss, str) else getattr(loss, "name", type(loss).__name__)
    if name not in LOSSES:
        raise ValueError(
            "this trainer trains networks compiled with binary_crossentropy (one sigmoid unit) "
            "or sparse_categorical_crossentropy (softmax)"
        )
    return name


def _loss_and_hits(targets, p, softmax: bool):
    """Per-row loss and 1.0 where the network's answer is right: p > 0.5, or the largest softmax
    output."""
    if softmax:
        loss = keras.losses.sparse_categorical_crossentropy(targets, p)
        return loss, ops.cast(
            ops.argmax(p, axis=-1) == ops.cast(targets, ops.argmax(p, axis=-1).dtype), "float32"
        )
    loss = keras.losses.binary_crossentropy(targets, p)
    return loss, ops.cast((p[..., 0] > 0.5) == (targets[..., 0] > 0.5), "float32")


def _step_loss(softmax: bool):
    """The loss of one step for all the copies, each copy's mean loss and its accuracy over its own
    rows (``w``: 1 for a row, 0 for the padding that fills a last, shorter batch up)."""

    def step_loss(y, p, w):
        rows = ops.sum(w, axis=1)
        per_row, right = _loss_and_hits(y, p, softmax)  # (copies, batch) each
        per_copy = ops.sum(per_row * w, axis=1) / rows
        loss = ops.sum(per_copy)  # each copy's gradient is its own
        return loss, per_copy, ops.sum(right * w, axis=1) / rows

    step_loss.softmax = softmax  # which loss, for PyTorch's steps written out (backends/fused.py)
    return step_loss


def _batches(train_sets: np.ndarray, order: np.ndarray, batch_size: int):
    """Row numbers of every step of one epoch, and their weights (0 marks padding)."""
    copies, rows = train_sets.shape
    steps = -(-rows // batch_size)
    padded = np.zeros((copies, steps * batch_size), dtype=np.int32)
    padded[:, :rows] = train_sets[:, order]
    weights = np.zeros((steps * batch_size,), dtype=np.float32)
    weights[:rows] = 1.0
    batches = padded.reshape(copies, steps, batch_size).transpose(1, 0, 2)
    weights = np.broadcast_to(weights.reshape(steps, 1, batch_size), batches.shape)
    return batches, np.ascontiguousarray(weights)


def _groups(train_sets, validation_sets):
    """Copies that can share one stacked model: equal numbers of training and validation rows."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i, (train, validation) in enumerate(zip(train_sets, validation_sets)):
        groups.setdefault((train.size, validation.size), []).append(i)
    return groups


def _validation_step(model: keras.Model, features, targets, softmax: bool):
    """Each copy's loss and accuracy on its own validation rows (features: copies x rows x
    inputs)."""
    loss, right = _loss_and_hits(targets, model(features, training=False), softmax)
    return ops.convert_to_numpy(ops.mean(loss, axis=1)), ops.convert_to_numpy(
        ops.mean(right, axis=1)
    )


def train_stacked(
    template: keras.Model,
    X,
    y,
    train_sets,
    *,
    epochs,
    batch_size,
    seed,
    verbose,
    validation_sets=None,
    patience=None,
):
    """Train copies of the compiled ``template`` (from its current weights); see fit_copies.

    Returns, per copy and in order, (model, history, best epoch). With validation sets,
    each copy's loss and accuracy on its own validation rows are added to its history
    after every epoch; with ``patience`` too, a copy whose validation loss has not
    improved for ``patience`` epochs stops learning (its best weights are kept) and
    training ends when every copy has stopped, as Keras' EarlyStopping callback with
    ``restore_best_weights=True`` does.
    """
    softmax = _loss_name(template) == "sparse_categorical_crossentropy"
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.int32 if softmax else np.float32)
    train_sets = [np.asarray(rows, dtype=np.int32) for rows in train_sets]
    if validation_sets is None:
        validation_sets = [np.zeros(0, dtype=np.int32)] * len(train_sets)
    validation_sets = [np.asarray(rows, dtype=np.int32) for rows in validation_sets]
    trained: dict[int, tuple[keras.Model, dict, int]] = {}
    for (size, validation_size), members in sorted(_groups(train_sets, validation_sets).items()):
        jit = epochs * -(-size // batch_size) >= XLA_FROM_STEPS
        targets = y if softmax else y.reshape(-1, 1)
        keeping, stacked, run_epoch = taken_twin(
            template, len(members), X, targets, _step_loss(softmax), jit
        )
        shuffle = np.random.default_rng(seed)
        stacked_rows = np.stack([train_sets[i] for i in members])
        history = {"loss": [], "accuracy": []}
        stops_early = bool(validation_size and patience)
        if validation_size:
            validation_rows = np.stack([validation_sets[i] for i in members])
            X_validation, y_validation = (
                X[validation_rows],
                y[validation_rows] if softmax else y[validation_rows][..., None],
            )
            history.update(val_loss=[], val_accuracy=[])
        if stops_early:
            best_loss = np.full(len(members), np.inf)
            best_epoch = np.zeros(len(members), dtype=int)
            best_weights = [w.copy() for w in stacked.get_weights()]
        progress = keras.utils.Progbar(
            epochs, verbose=verbose, unit_name="epoch", stateful_metrics=list(history)
        )
        for epoch in range(epochs):
            batches, weights = _batches(stacked_rows, shuffle.permutation(size), batch_size)
            loss, accuracy = run_epoch(batches, weights)
            history["loss"].append(loss)
            history["accuracy"].append(accuracy)
            if validation_size:
                val_loss, val_accuracy = _validation_step(
                    stacked, X_validation, y_validation, softmax
                )
                history["val_loss"].append(val_loss)
                history["val_accuracy"].append(val_accuracy)
            if stops_early:
                better = val_loss < best_loss
                best_loss[better], best_epoch[better] = val_loss[better], epoch + 1
                for kept, now in zip(best_weights, stacked.get_weights()):
                    kept[better] = now[better]  # every stacked weight has the copy first
            if verbose:  # the mean over the copies
                progress.update(
                    epoch + 1, [(key, values[-1].mean()) for key, values in history.items()]
                )
            if stops_early and np.all(epoch + 1 - best_epoch >= patience):
                break
        if stops_early:
            stacked.set_weights(best_weights)
        for k, (member, model) in enumerate(zip(members, unstack(stacked, template))):
            own_history = {key: [float(v[k]) for v in values] for key, values in history.items()}
            last = int(best_epoch[k]) if stops_early else len(own_history["loss"])
            trained[member] = model, own_history, last
        kept_twin(keeping)
    return [trained[i] for i in range(len(train_sets))]
