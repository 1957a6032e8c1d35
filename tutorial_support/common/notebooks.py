"""A script run as a notebook, cell by cell, in a real IPython kernel, as Jupyter runs it.

jupytext reads the ``# %%`` cells, the Settings cell gets the run's flags, and nbclient executes
every cell and keeps what each printed and drew. The site's chapter pages (tools/site) and the
notebook tests (tests/notebook_runs.py) both run the scripts this way.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

SETTINGS_LINE = 'SETTINGS = ""'


def from_script(script: Path, settings: str = ""):
    """The script as a notebook (nbformat), its Settings cell set to ``settings``."""
    import jupytext

    notebook = jupytext.read(script)
    cell = next(c for c in notebook.cells if c.cell_type == "code" and SETTINGS_LINE in c.source)
    cell.source = cell.source.replace(SETTINGS_LINE, f"SETTINGS = {settings!r}", 1)
    return notebook


def execute(notebook, folder: Path, env: dict, timeout: int = 1800):
    """Run every cell in ``folder`` (the kernel's working folder) with environment ``env``.

    Raises nbclient's CellExecutionError at the first cell that fails; the notebook keeps the
    outputs of the cells that ran, the failing one's error included."""
    import nbclient

    client = nbclient.NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    )
    # The kernel process's own stderr holds only its start-up log ("Kernel is running over TCP
    # without encryption", on 127.0.0.1): what the cells print and warn reaches the notebook.
    client.execute(env=env, stderr=subprocess.DEVNULL)
    return notebook
