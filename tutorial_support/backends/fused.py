"""PyTorch's stacked epoch with the forward pass, the backward pass and the optimizer written out.

Why by hand: a step of chapter 1's stacked networks is ten rows through a few small layers.
PyTorch runs it eagerly, and the dozens of calls each step makes (every Keras layer, the Keras
loss, autograd, the Keras optimizer's bookkeeping) cost seven times the arithmetic.
``torch.compile`` gained nothing here and costs a long first compile; TorchScript is deprecated.
So this module does what those calls compute, in a few tensor operations a step, under
``torch.inference_mode``:

- forward: ``baddbmm`` over the stacked copies (bias + inputs @ kernel), then the activation;
  dropout draws its mask from the layer's own seed generator, as Keras' Dropout does;
- backward: autograd's own formulas for each piece (the clipped cross-entropies, the softmax,
  ``sigmoid_backward``, ``threshold_backward`` for ReLU, ELU's);
- update: Keras' RMSprop in the same in-place operations as Keras' PyTorch optimizer, and its
  Adam as one call of PyTorch's fused Adam kernel (see ``updates``); the optimizer's own slots
  and step counter are updated, so training can go on either way.

The epoch's rows are gathered once, and its losses and accuracies worked out at its end from
each step's outputs: a step of chapter 1's network went from 125 us to 70 us on a 2-core CPU.

It covers what chapter 1 builds: stacked Dense layers with relu, elu, sigmoid, softmax or no
activation, Dropout, binary or sparse categorical cross-entropy, and Adam (without amsgrad) or
RMSprop (without momentum or centering), with a constant learning rate and none of weight decay,
gradient clipping, EMA or accumulation. ``fused_epoch`` returns None for anything else, and
epochs.py falls back to the loop of eager steps.

It reads private state of Keras and torch (the optimizer's ``_learning_rate``, slots and
``_get_variable_index``, a seed generator's ``_initial_seed``, ``torch._fused_adam_``), so, as
the patches, it runs only on the Keras and torch versions it was written and tested against, and
only where what it reads is there with the signature it expects (torch_private.py checks both):
elsewhere epochs.py takes Keras' own steps, saying so in one line. ``DLP_PLAIN_KERAS=1`` turns it
off.
"""

from __future__ import annotations

import numpy as np

from tutorial_support.backends.choice import plain_keras
from tutorial_support.backends.startup import keras
from tutorial_support.backends.torch_private import (
    keras_adam_step,
    off,
    reads_what_it_needs,
    unavailable,
)

ACTIVATIONS = ("relu", "elu", "sigmoid", "softmax", "linear")


def _plain(optimizer) -> str | None:
    """ "adam" or "rmsprop" where the optimizer does nothing more than its textbook update."""
    config = optimizer.get_config()
    extras = (
        "weight_decay",
        "clipnorm",
        "clipvalue",
        "global_clipnorm",
        "loss_scale_factor",
        "gradient_accumulation_steps",
    )
    if any(config.get(key) for key in extras) or config.get("use_ema"):
        return None
    if isinstance(optimizer._learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        return None
    if isinstance(optimizer, keras.optimizers.Adam) and not config["amsgrad"]:
        return "adam"
    if isinstance(optimizer, keras.optimizers.RMSprop) and not (
        config["momentum"] or config["centered"]
    ):
        return "rmsprop"
    return None


def _layers(model):
    """[("dense", layer, activation name) or ("dropout", layer, rate)], or None."""
    plan = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.layers.Dropout):
            plan.append(("dropout", layer, layer.rate))
            continue
        name = getattr(layer.activation, "__name__", None) if hasattr(layer, "activation") else None
        if type(layer).__name__ != "StackedDense" or name not in ACTIVATIONS:
            return None
        plan.append(("dense", layer, name))
    return plan


def fused_epoch(model, optimizer, features, targets, softmax: bool | None):
    """``run_epoch(batches, weights)`` as epochs.py's, or None where this module does not apply."""
    import torch

    if unavailable() is not None:
        if not plain_keras():
            off(unavailable())
        return None
    plan, rule = _layers(model), _plain(optimizer)
    if softmax is None or plan is None or rule is None or plan[-1][0] != "dense":
        return None
    if plan[-1][2] != ("softmax" if softmax else "sigmoid"):
        return None
    if not reads_what_it_needs(optimizer, plan):
        return None
    features, targets = keras.ops.convert_to_tensor(features), keras.ops.convert_to_tensor(targets)
    targets = targets.long() if softmax else targets
    dense = [layer for kind, layer, _ in plan if kind == "dense"]
    variables = [v for layer in dense for v in (layer.kernel, layer.bias)]
    if [id(v) for v in variables] != [id(v) for v in model.trainable_variables]:
        return None
    try:  # the optimizer's slots for each variable (stacked.py builds it for these)
        index = [optimizer._get_variable_index(v) for v in variables]
    except KeyError:
        return None
    epsilon = keras.backend.epsilon()
    activations = {
        "relu": torch.relu,
        "elu": torch.nn.functional.elu,
        "sigmoid": torch.sigmoid,
        "softmax": lambda t: torch.softmax(t, dim=-1),
        "linear": lambda t: t,
    }

    def forward(x, weights):
        """Each layer's input and output (and dropout's scaled mask), for the backward pass.
        ``weights``: each dense layer's (kernel, bias) tensors."""
        saved, h, dense_weights = [], x, iter(weights)
        for kind, layer, what in plan:
            if kind == "dropout":  # the scaled mask, drawn as Keras' Dropout draws it
                if layer.seed_generator._initial_seed is None and 0 < what < 1 and h.is_cpu:
                    # Keras' unseeded path is torch's dropout, which on a CPU draws this noise
                    # and multiplies by it: the same draws and values, in two operations
                    scale = torch.empty_like(h).bernoulli_(1 - what).div_(1 - what)
                elif layer.seed_generator._initial_seed is None:
                    scale = torch.nn.functional.dropout(torch.ones_like(h), what, training=True)
                else:
                    scale = keras.random.dropout(
                        torch.ones_like(h), what, seed=layer.seed_generator
                    )
                saved.append((h, scale))
                h = h * scale
                continue
            kernel, bias = next(dense_weights)
            a = activations[what](torch.baddbmm(bias, h, kernel))
            saved.append((h, a))
            h = a
        return saved, h

    def loss_and_accuracy(p, y, share):
        """Each copy's mean loss and accuracy, summed over the steps (p: steps x copies x rows)."""
        if softmax:
            q = (p / p.sum(dim=-1, keepdim=True)).clamp(epsilon, 1 - epsilon)
            per_row = -torch.log(q).gather(-1, y[..., None])
            right = (p.argmax(dim=-1, keepdim=True) == y[..., None]).float()
        else:
            clipped = p.clamp(epsilon, 1 - epsilon)
            per_row = torch.nn.functional.binary_cross_entropy(clipped, y, reduction="none")
            right = ((p > 0.5) == (y > 0.5)).float()
        return (per_row * share).sum(dim=(0, 2, 3)), (right * share).sum(dim=(0, 2, 3))

    def output_gradient(p, y, share):
        """d(sum of the copies' mean losses)/d(output), as autograd computes it."""
        if softmax:
            total = p.sum(dim=-1, keepdim=True)
            q = p / total
            clipped = q.clamp(epsilon, 1 - epsilon)
            g_log = torch.zeros_like(p).scatter_(-1, y[..., None], -1.0) * share
            g_q = g_log / clipped * ((q >= epsilon) & (q <= 1 - epsilon))
            return g_q / total - (g_q * p).sum(dim=-1, keepdim=True) / total**2
        clipped = p.clamp(epsilon, 1 - epsilon)
        # autograd's (c - y) / max(c (1 - c), 1e-12): c (1 - c) >= 1e-7 here, so no max; the
        # clip's gradient is 1 where it let p through
        g = share * (clipped - y) / (clipped * (1 - clipped))
        return g * (clipped == p)

    def backward(saved, g, weights, gradients):
        """The gradients, written into ``gradients`` (each layer's kernel and bias, in order)."""
        layer_weights, layer_gradients = iter(weights[::-1]), iter(gradients[::-1])
        first_input = saved[0][0]
        for (kind, _, what), (h, a) in zip(reversed(plan), reversed(saved)):
            if kind == "dropout":
                g = g * a
                continue
            if what == "relu":
                g = torch.ops.aten.threshold_backward(g, a, 0)
            elif what == "elu":
                g = torch.where(a > 0, g, g * (a + 1))
            elif what == "sigmoid":
                g = torch.ops.aten.sigmoid_backward(g, a)
            elif what == "softmax":
                g = torch.ops.aten._softmax_backward_data(g, a, -1, a.dtype)
            (kernel, _), (kernel_gradient, bias_gradient) = (
                next(layer_weights),
                next(layer_gradients),
            )
            torch.sum(g, dim=1, keepdim=True, out=bias_gradient)
            torch.bmm(h.transpose(1, 2), g, out=kernel_gradient)
            if h is not first_input:  # no gradient for the data
                g = torch.bmm(g, kernel.transpose(1, 2))

    def flat(tensors):
        """One buffer holding the tensors, and a view of it shaped as each one."""
        buffer = torch.cat([t.reshape(-1) for t in tensors])
        return buffer, flat_views(buffer, tensors)

    def run_epoch(batches, weights):
        batches = torch.as_tensor(np.array(batches), device=features.device)
        weights = torch.as_tensor(np.array(weights), device=features.device)
        shares = (weights / weights.sum(dim=2, keepdim=True))[..., None]  # d copy's mean / d row
        # The epoch works on one flat buffer of every weight (and of each optimizer slot), so
        # that an update is a handful of operations, not a handful per weight; written back after.
        keras_tensors = [v.value for v in variables]
        slots = {"v": [optimizer._velocities[i].value for i in index]}
        if rule == "adam":
            slots["m"] = [optimizer._momentums[i].value for i in index]
        params, views = flat(keras_tensors)
        state = {name: flat(tensors)[0] for name, tensors in slots.items()}
        gradient, gradient_views = flat([torch.zeros_like(t) for t in keras_tensors])
        pairs = list(zip(views[::2], views[1::2]))
        gradient_pairs = list(zip(gradient_views[::2], gradient_views[1::2]))
        learning_rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        step = int(keras.ops.convert_to_numpy(optimizer.iterations))
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # tiny products: entering parallel regions costs more than they do
        try:
            with torch.inference_mode():
                xs, ys, outputs = features[batches], targets[batches], []  # rows gathered once
                update = updates(params, gradient, state, learning_rate, step, len(batches))
                for i in range(len(batches)):
                    saved, p = forward(xs[i], pairs)
                    backward(saved, output_gradient(p, ys[i], shares[i]), pairs, gradient_pairs)
                    update(i)
                    outputs.append(p)
                step += len(batches)
                total_loss, total_accuracy = loss_and_accuracy(torch.stack(outputs), ys, shares)
                for tensor, view in zip(keras_tensors, views):
                    tensor.copy_(view)
                for name, tensors in slots.items():
                    for tensor, view in zip(tensors, flat_views(state[name], tensors)):
                        tensor.copy_(view)
        finally:
            torch.set_num_threads(threads)
        optimizer.iterations.assign(step)
        steps = len(batches)
        return tuple(keras.ops.convert_to_numpy(t / steps) for t in (total_loss, total_accuracy))

    def flat_views(buffer, tensors):
        """Views of ``buffer`` shaped as each of ``tensors``, one after the other."""
        start, views = 0, []
        for t in tensors:
            views.append(buffer[start : start + t.numel()].view(t.shape))
            start += t.numel()
        return views

    def updates(params, gradient, state, learning_rate, step, steps):
        """Keras' Adam or RMSprop on the flat buffers: ``update(i)`` for step i of the epoch."""
        v = state["v"]
        if rule == "rmsprop":

            def rmsprop(i):
                v.mul_(optimizer.rho).addcmul_(gradient, gradient, value=1 - optimizer.rho)
                params.addcdiv_(gradient, (v + optimizer.epsilon).sqrt_(), value=-learning_rate)

            return rmsprop
        b1, b2 = (
            torch.tensor(b, dtype=torch.float32) for b in (optimizer.beta_1, optimizer.beta_2)
        )
        t = torch.arange(step + 1, step + steps + 1, dtype=torch.float32)
        # each step's alpha = lr sqrt(1 - b2^t) / (1 - b1^t), in float32 as Keras computes it
        alphas = (learning_rate * torch.sqrt(1 - b2**t) / (1 - b1**t)).tolist()
        # Keras' update in one call of PyTorch's fused Adam kernel (torch_patches.py says how)

        def adam(i):
            keras_adam_step(
                [params],
                [gradient],
                [state["m"]],
                [v],
                alphas[i],
                optimizer.beta_1,
                optimizer.beta_2,
                optimizer.epsilon,
            )

        return adam

    return run_epoch
