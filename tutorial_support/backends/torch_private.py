"""What the PyTorch speed-ups read of Keras' and torch's private state, checked, and Keras' Adam
update as one call of torch's fused Adam kernel.

fused.py (chapter 1's fused epoch) and torch_patches.py (Keras' Adam) call ``keras_adam_step``;
fused.py also reads an optimizer's ``_learning_rate``, slots and ``_get_variable_index`` and a
seed generator's ``_initial_seed``. As for the patches (patches.py), that is done only on the
Keras and torch versions it was written and tested against, and only where what it reads is there
with the signature it expects: ``unavailable()`` says why not, in one phrase. This module imports
no ``keras.src`` module, so a Keras that moves them leaves it importable.
"""

from __future__ import annotations

import functools
import inspect

from tutorial_support.backends import tested
from tutorial_support.backends.choice import PLAIN_KERAS, plain_keras

TESTED_KERAS, TESTED_TORCH = tested.KERAS, tested.TORCH
# what it calls, with the parameters it passes
FUSED_ADAM = {"lr", "beta1", "beta2", "weight_decay", "eps", "amsgrad", "maximize"}
OPTIMIZER_READS = ("_learning_rate", "_get_variable_index", "_velocities", "_momentums")


@functools.cache
def fused_adam_unavailable() -> str | None:
    """Why torch's fused Adam kernel cannot stand in for Keras' Adam here (one phrase), or None:
    the Adam patch (torch_patches.py) and the fused epoch both ask."""
    import keras  # started by startup.py, which imports this module: not imported from there
    import torch

    if plain_keras():
        return f"{PLAIN_KERAS}=1"
    if not keras.__version__.startswith(TESTED_KERAS):
        return f"Keras {keras.__version__}, not the {TESTED_KERAS[0]}x it was tested on"
    if not torch.__version__.startswith(TESTED_TORCH):
        return f"torch {torch.__version__}, not the {TESTED_TORCH[0]}x it was tested on"
    fused_adam = getattr(torch.ops.aten, "_fused_adam_", None)
    schema = getattr(getattr(fused_adam, "default", None), "_schema", None)
    if schema is None or not FUSED_ADAM <= {argument.name for argument in schema.arguments}:
        return "torch._fused_adam_ is not there with the parameters it passes"
    return None


@functools.cache
def unavailable() -> str | None:
    """Why the fused epoch cannot run here (one phrase), or None where it can."""
    import keras

    reason = fused_adam_unavailable()
    if reason:
        return reason
    index = getattr(keras.optimizers.Optimizer, "_get_variable_index", None)
    if index is None or list(inspect.signature(index).parameters) != ["self", "variable"]:
        return "Keras' optimizers no longer have _get_variable_index(variable)"
    return None


@functools.cache
def off(reason: str) -> None:
    """Says once why the fused epoch is off, where one was asked for (epochs.py)."""
    print(f"PyTorch's fused epoch is off ({reason}): Keras' own training steps instead")


def reads_what_it_needs(optimizer, plan) -> bool:
    """The private state it reads, on this optimizer and these dropout layers."""
    seeds = [layer.seed_generator for kind, layer, _ in plan if kind == "dropout"]
    if all(hasattr(optimizer, name) for name in OPTIMIZER_READS) and all(
        hasattr(seed, "_initial_seed") for seed in seeds
    ):
        return True
    off("Keras' optimizer or dropout no longer holds the state it reads")
    return False


@functools.cache
def _far(device):
    """A step count at which b1^t and b2^t are 0 in double precision."""
    import torch

    return torch.tensor(1e9, device=device)


def keras_adam_step(params, grads, m_list, v_list, alpha: float, beta_1, beta_2, epsilon):
    """Keras' Adam update of the tensors in one call of PyTorch's fused Adam kernel (the module's
    docstring says why: its bias corrections made 1, and lr = Keras' own alpha)."""
    import torch

    torch._fused_adam_(
        params,
        grads,
        m_list,
        v_list,
        [],
        [_far(params[0].device)] * len(params),
        lr=alpha,
        beta1=beta_1,
        beta2=beta_2,
        weight_decay=0.0,
        eps=epsilon,
        amsgrad=False,
        maximize=False,
    )
