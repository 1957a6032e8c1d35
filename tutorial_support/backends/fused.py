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
- update: Keras' Adam or RMSprop, in the same in-place operations as Keras' PyTorch optimizers,
  on the optimizer's own slots, and its step counter advanced, so training can go on either way.

It covers what chapter 1 builds: stacked Dense layers with relu, elu, sigmoid, softmax or no
activation, Dropout, binary or sparse categorical cross-entropy, and Adam (without amsgrad) or
RMSprop (without momentum or centering), with a constant learning rate and none of weight decay,
gradient clipping, EMA or accumulation. ``fused_epoch`` returns None for anything else, and
epochs.py falls back to the loop of eager steps.
"""

from __future__ import annotations

import numpy as np

from tutorial_support.backends.startup import keras

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

    plan, rule = _layers(model), _plain(optimizer)
    if softmax is None or plan is None or rule is None or plan[-1][0] != "dense":
        return None
    if plan[-1][2] != ("softmax" if softmax else "sigmoid"):
        return None
    features, targets = keras.ops.convert_to_tensor(features), keras.ops.convert_to_tensor(targets)
    dense = [layer for kind, layer, _ in plan if kind == "dense"]
    variables = [v for layer in dense for v in (layer.kernel, layer.bias)]
    if [id(v) for v in variables] != [id(v) for v in model.trainable_variables]:
        return None
    values = [v.value for v in variables]
    try:  # the optimizer's slots for each variable (stacked.py builds it for these)
        index = [optimizer._get_variable_index(v) for v in variables]
    except KeyError:
        return None
    epsilon = keras.backend.epsilon()

    def forward(x):
        """Each layer's input and output (and dropout's scaled mask), for the backward pass."""
        saved, h = [], x
        for kind, layer, what in plan:
            if kind == "dropout":
                scale = keras.random.dropout(torch.ones_like(h), what, seed=layer.seed_generator)
                saved.append((h, scale))
                h = h * scale
                continue
            z = torch.baddbmm(layer.bias.value, h, layer.kernel.value)
            a = {
                "relu": torch.relu,
                "elu": torch.nn.functional.elu,
                "sigmoid": torch.sigmoid,
                "softmax": lambda t: torch.softmax(t, dim=-1),
                "linear": lambda t: t,
            }[what](z)
            saved.append((h, a))
            h = a
        return saved, h

    def loss_gradient(p, y, w):
        """Each copy's mean loss and accuracy, and d(sum of the copies' losses)/d(output)."""
        rows = w.sum(dim=1)
        share = (w / rows[:, None])[..., None]  # d loss / d per-row loss
        if softmax:
            total = p.sum(dim=-1, keepdim=True)
            q = p / total
            clipped = q.clamp(epsilon, 1 - epsilon)
            y = y.long()
            per_row = -torch.log(clipped).gather(-1, y[..., None])[..., 0]
            right = (p.argmax(dim=-1) == y).float()
            g_log = torch.zeros_like(p).scatter_(-1, y[..., None], -1.0) * share
            g_q = g_log / clipped * ((q >= epsilon) & (q <= 1 - epsilon))
            g_p = g_q / total - (g_q * p).sum(dim=-1, keepdim=True) / total**2
        else:
            clipped = p.clamp(epsilon, 1 - epsilon)
            per_row = -(
                y * torch.log(clipped).clamp(min=-100)
                + (1 - y) * torch.log(1 - clipped).clamp(min=-100)
            )[..., 0]
            right = ((p[..., 0] > 0.5) == (y[..., 0] > 0.5)).float()
            g = share * (clipped - y) / (clipped * (1 - clipped)).clamp(min=1e-12)
            g_p = g * ((p >= epsilon) & (p <= 1 - epsilon))
        return (per_row * w).sum(dim=1) / rows, (right * w).sum(dim=1) / rows, g_p

    def backward(saved, g):
        gradients = []
        for (kind, layer, what), (h, a) in zip(reversed(plan), reversed(saved)):
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
            gradients += [g.sum(dim=1, keepdim=True), torch.bmm(h.transpose(1, 2), g)]
            g = torch.bmm(g, layer.kernel.value.transpose(1, 2))
        return gradients[::-1]  # kernel, bias of each layer, in order

    def update(gradients):
        learning_rate = optimizer.learning_rate.value
        if rule == "adam":
            m = [optimizer._momentums[i].value for i in index]
            v = [optimizer._velocities[i].value for i in index]
            step = (optimizer.iterations.value + 1).to(values[0].dtype)
            b1, b2 = optimizer.beta_1, optimizer.beta_2
            alpha = learning_rate * torch.sqrt(1 - b2**step) / (1 - b1**step)
            torch._foreach_mul_(m, b1)
            torch._foreach_add_(m, gradients, alpha=1 - b1)
            torch._foreach_mul_(v, b2)
            torch._foreach_add_(v, torch._foreach_mul(gradients, gradients), alpha=1 - b2)
            torch._foreach_add_(
                values,
                torch._foreach_div(
                    torch._foreach_mul(m, alpha),
                    torch._foreach_add(torch._foreach_sqrt(v), optimizer.epsilon),
                ),
                alpha=-1,
            )
        else:
            v = [optimizer._velocities[i].value for i in index]
            torch._foreach_mul_(v, optimizer.rho)
            torch._foreach_add_(
                v, torch._foreach_mul(gradients, gradients), alpha=1 - optimizer.rho
            )
            denominators = torch._foreach_add(v, optimizer.epsilon)
            torch._foreach_sqrt_(denominators)
            torch._foreach_add_(
                values,
                torch._foreach_div(torch._foreach_mul(gradients, learning_rate), denominators),
                alpha=-1,
            )
        optimizer.iterations.value.add_(1)

    def run_epoch(batches, weights):
        batches = torch.as_tensor(np.array(batches), device=features.device)
        weights = torch.as_tensor(np.array(weights), device=features.device)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # tiny products: entering parallel regions costs more than they do
        try:
            with torch.inference_mode():
                total_loss = total_accuracy = 0.0
                for i in range(len(batches)):
                    saved, p = forward(features[batches[i]])
                    loss, accuracy, g = loss_gradient(p, targets[batches[i]], weights[i])
                    update(backward(saved, g))
                    total_loss, total_accuracy = total_loss + loss, total_accuracy + accuracy
        finally:
            torch.set_num_threads(threads)
        steps = len(batches)
        return tuple(keras.ops.convert_to_numpy(t / steps) for t in (total_loss, total_accuracy))

    return run_epoch
