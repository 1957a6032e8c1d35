"""One epoch of training steps for the stacked networks of fast/stacked.py, as one compiled call
where the backend can compile it.

``compiled_epoch(model, optimizer, features, targets, step_loss, jit_compile)`` returns
``run_epoch(batches, weights)``: it takes every step of an epoch (``batches``: steps x copies x
batch row numbers; ``weights``: 1 for a row, 0 for padding), updates the model's weights with the
optimizer's own rule, and returns each copy's mean loss and accuracy over the steps, as NumPy.
``step_loss(y, p, w)`` gives the step's loss to differentiate and each copy's loss and accuracy.
Under TensorFlow and JAX, ``reusable_epoch(model, optimizer, step_loss, jit_compile)`` is the same
epoch with the data as arguments, ``epoch(features, targets, batches, weights)``: compiled once for
the shapes of its arguments, it trains the same model again on other data (stacked.py keeps it).

- TensorFlow: a ``tf.function`` whose ``tf.while_loop`` runs the steps, XLA-compiled for long runs.
- JAX: ``jax.jit`` of a ``lax.fori_loop`` over ``model.stateless_call`` and
  ``optimizer.stateless_apply``; the weights go back into the model after each epoch.
- PyTorch: the forward, backward and update written out (fused.py) for what chapter 1 builds;
  for anything else, a Python loop of eager steps. Each layer's own ``call`` is used rather than
  Keras' ``__call__``, whose bookkeeping costs more than the arithmetic on 10 rows (docs/speed.md).
  ``torch.compile`` did not pay here: its compile of each step's shape costs more than it saves
  on networks this small.
"""

from __future__ import annotations

import numpy as np

from tutorial_support.backends.choice import chosen
from tutorial_support.backends.startup import keras


def compiled_epoch(model, optimizer, features, targets, step_loss, jit_compile: bool):
    if chosen() == "torch":
        return _torch(model, optimizer, features, targets, step_loss, jit_compile)
    epoch = reusable_epoch(model, optimizer, step_loss, jit_compile)
    features, targets = keras.ops.convert_to_tensor(features), keras.ops.convert_to_tensor(targets)
    return lambda batches, weights: epoch(features, targets, batches, weights)


def compiles() -> bool:
    """Whether an epoch is traced and compiled before it first runs (TensorFlow, JAX): one worth
    keeping for the next training of the same network."""
    return chosen() != "torch"


def reusable_epoch(model, optimizer, step_loss, jit_compile: bool):
    """``epoch(features, targets, batches, weights)``, under TensorFlow or JAX."""
    return {"tensorflow": _tensorflow, "jax": _jax}[chosen()](
        model, optimizer, step_loss, jit_compile
    )


def _tensorflow(model, optimizer, step_loss, jit_compile):
    import tensorflow as tf

    # reduce_retracing: a second shape of the data (another number of rows, or of steps) gets one
    # trace for any shape, not a trace each; XLA compiles each shape all the same
    @tf.function(jit_compile=jit_compile, reduce_retracing=True)
    def run_epoch(features, targets, batches, weights):
        def step(i, total_loss, total_accuracy):
            x, y = tf.gather(features, batches[i]), tf.gather(targets, batches[i])
            with tf.GradientTape() as tape:
                loss, per_copy, accuracy = step_loss(y, model(x, training=True), weights[i])
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            return i + 1, total_loss + per_copy, total_accuracy + accuracy

        steps = tf.shape(batches)[0]
        zeros = tf.zeros(tf.shape(batches)[1])
        _, total_loss, total_accuracy = tf.while_loop(
            lambda i, *_: i < steps, step, (tf.constant(0), zeros, zeros)
        )
        # the epoch's mean of the batch losses and accuracies, as Keras reports them
        return total_loss / tf.cast(steps, tf.float32), total_accuracy / tf.cast(steps, tf.float32)

    def epoch(features, targets, batches, weights):
        return tuple(np.asarray(v) for v in run_epoch(features, targets, batches, weights))

    return epoch


def _jax(model, optimizer, step_loss, jit_compile):
    import jax

    def loss_of(trainable, non_trainable, x, y, w):
        p, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
        loss, per_copy, accuracy = step_loss(y, p, w)
        return loss, (non_trainable, per_copy, accuracy)

    gradient_of = jax.value_and_grad(loss_of, has_aux=True)

    @jax.jit
    def epoch(state, features, targets, batches, weights):
        def step(i, carry):
            trainable, non_trainable, optimizer_state, total_loss, total_accuracy = carry
            x, y = features[batches[i]], targets[batches[i]]
            (_, (non_trainable, per_copy, accuracy)), gradients = gradient_of(
                trainable, non_trainable, x, y, weights[i]
            )
            trainable, optimizer_state = optimizer.stateless_apply(
                optimizer_state, gradients, trainable
            )
            return (
                trainable,
                non_trainable,
                optimizer_state,
                total_loss + per_copy,
                total_accuracy + accuracy,
            )

        zeros = jax.numpy.zeros(batches.shape[1])
        *state, total_loss, total_accuracy = jax.lax.fori_loop(
            0, batches.shape[0], step, (*state, zeros, zeros)
        )
        return state, total_loss / batches.shape[0], total_accuracy / batches.shape[0]

    groups = (model.trainable_variables, model.non_trainable_variables, optimizer.variables)

    def run_epoch(features, targets, batches, weights):
        state = [[v.value for v in group] for group in groups]
        state, loss, accuracy = epoch(state, features, targets, batches, weights)
        for group, values in zip(groups, state):
            for variable, value in zip(group, values):
                variable.assign(value)
        return np.asarray(loss), np.asarray(accuracy)

    return run_epoch


def _torch(model, optimizer, features, targets, step_loss, jit_compile):
    import torch

    # chapter 1's networks: the steps written out (fused.py), seven times faster than these
    try:
        from tutorial_support.backends import fused
    except (ImportError, AttributeError) as error:  # a torch or Keras that moved what it uses
        print(f"PyTorch's fused epoch is off ({error}): Keras' own training steps instead")
    else:
        softmax = getattr(step_loss, "softmax", None)
        run = fused.fused_epoch(model, optimizer, features, targets, softmax)
        if run is not None:
            return run

    # on Keras' device (a GPU where there is one), as the model's weights are
    features, targets = keras.ops.convert_to_tensor(features), keras.ops.convert_to_tensor(targets)
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    trainable = model.trainable_variables

    def forward(x):
        for layer in layers:
            x = (
                layer.call(x, training=True)
                if isinstance(layer, keras.layers.Dropout)
                else layer.call(x)
            )
        return x

    def run_epoch(batches, weights):
        # copies: the NumPy arrays may be read-only views
        batches, weights = (keras.ops.convert_to_tensor(np.array(a)) for a in (batches, weights))
        total_loss = total_accuracy = 0.0
        for i in range(len(batches)):
            x, y = features[batches[i]], targets[batches[i]]
            loss, per_copy, accuracy = step_loss(y, forward(x), weights[i])
            gradients = torch.autograd.grad(loss, [v.value for v in trainable])
            with torch.no_grad():
                optimizer.apply(list(gradients), trainable)
            total_loss = total_loss + per_copy.detach()
            total_accuracy = total_accuracy + accuracy.detach()
        steps = len(batches)
        return tuple(keras.ops.convert_to_numpy(t / steps) for t in (total_loss, total_accuracy))

    return run_epoch
