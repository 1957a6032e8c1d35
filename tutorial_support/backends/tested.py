"""The versions the speed layer was written and tested against, in one place.

patches.py applies its patches only on the Keras named here, startup.py sets its XLA flag only on
the jaxlib named here, and torch_private.py uses torch's fused Adam kernel (the fused epoch and
the Adam patch) only on the torch named here. The requirements' ranges admit only these versions,
and tests/test_speed_changes.py checks that they agree. Moving to a newer release: change it here
and in the requirements together, and run the tests on it.
"""

KERAS = ("3.15.",)
JAXLIB = ("0.10.",)
TORCH = ("2.13.",)
