"""The versions the speed layer was written and tested against, in one place.

patches.py applies its patches only on the Keras named here, startup.py sets its XLA flag only on
the jaxlib named here, and torch_private.py uses torch's fused Adam kernel (the fused epoch and
the Adam patch) only on the torch named here. The requirements' ranges admit only these versions,
and tests/test_speed_changes.py checks that they agree. Moving to a newer release: change it here
and in the requirements together, and run the tests on it.

make newest (tools/newest.py) asks whether the speed layer would hold on a newer release: there,
and only there, DLP_TRY_NEWEST=1 counts the versions installed as tested too, so that each change
is tried for real rather than turned off by the version check.
"""

import os
from importlib import metadata

KERAS = ("3.15.",)
JAXLIB = ("0.10.",)
TORCH = ("2.13.",)


def _installed(name: str) -> tuple[str, ...]:
    try:
        return (metadata.version(name),)
    except metadata.PackageNotFoundError:
        return ()


if os.environ.get("DLP_TRY_NEWEST") == "1":
    KERAS += _installed("keras")
    JAXLIB += _installed("jaxlib")
    TORCH += _installed("torch")
