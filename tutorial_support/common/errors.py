"""The one kind of error a reader should see: one plain line, exit status 2, no traceback."""

from __future__ import annotations

import os
import sys


class TutorialError(Exception):
    """A problem with the reader's input or environment.

    The scripts print it as one line (what is wrong and what to do) and exit with
    status 2, without a traceback. In a notebook it stops the cell with the same line:
    IPython shows what ``_render_traceback_`` returns instead of a traceback.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"error: {self}"]


EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # what a shell reports for Ctrl-C


def report_errors_in_one_line() -> None:
    """Make an uncaught TutorialError print one line and exit with status 2, and Ctrl-C exit 130.

    The scripts run top to bottom (so each step can also be run as a cell in VS Code
    or Jupyter), so their errors reach Python's last-resort handler; this replaces
    the traceback it would print with "error: <what is wrong and what to do>".
    Notebooks keep their own handler and show the error as usual.
    """

    def handler(kind, error, traceback):
        if issubclass(kind, (TutorialError, KeyboardInterrupt)):
            if issubclass(kind, KeyboardInterrupt):
                print("\ninterrupted: earlier outputs were left as they were", file=sys.stderr)
            else:
                print(f"error: {error}", file=sys.stderr)
            sys.stdout.flush()
            sys.stderr.flush()
            # By now every `with` block has cleaned up; only the exit status is left to set.
            os._exit(EXIT_INTERRUPTED if issubclass(kind, KeyboardInterrupt) else EXIT_BAD_INPUT)
        sys.__excepthook__(kind, error, traceback)

    sys.excepthook = handler
