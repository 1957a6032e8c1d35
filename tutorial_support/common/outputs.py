"""Writing a run's outputs so that a failed or interrupted run leaves earlier ones intact.

Every file is first written into a hidden staging folder next to its destination;
only when the whole run has succeeded are the files moved into place, each with an
atomic ``os.replace``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tutorial_support.common.errors import TutorialError
from tutorial_support.common.figures import DPI


class StagedOutputs:
    """Collects output files and publishes them together at the end of a run.

    Use as a context manager::

        with StagedOutputs(output_dir) as outputs:
            model.save(outputs.path("model.keras"))
            outputs.write_json("metrics.json", metrics)
        # files are in output_dir only if the block finished without an error
    """

    def __init__(self, output_dir: Path):
        self.output_dir = Path(output_dir)
        self._staging: Path | None = None
        self._names: list[str] = []

    def __enter__(self) -> StagedOutputs:
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            self._staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.output_dir))
        except OSError as error:
            raise TutorialError(
                f"cannot write to the output folder {self.output_dir} ({error.strerror}); "
                "choose another one with --output-dir"
            ) from None
        return self

    def path(self, name: str) -> Path:
        """Where to write the file ``name``; it is published when the run succeeds."""
        assert self._staging is not None, "use StagedOutputs as a context manager"
        self._names.append(name)
        return self._staging / name

    def write_json(self, name: str, data: Any) -> None:
        self.path(name).write_text(json.dumps(data, indent=2) + "\n")

    def save_figure(self, name: str, figure) -> None:
        """Save a matplotlib figure as a PNG (a notebook showed it at its step: figures.show)."""
        figure.savefig(self.path(name), dpi=DPI, bbox_inches="tight")

    def __exit__(self, exc_type, exc, traceback) -> None:
        assert self._staging is not None
        try:
            if exc_type is None:
                for name in dict.fromkeys(self._names):
                    os.replace(self._staging / name, self.output_dir / name)
        finally:
            shutil.rmtree(self._staging, ignore_errors=True)
