"""Running a script as a notebook (jupytext) cell by cell in a real IPython kernel (nbclient), for
the script tests."""

import re

import nbclient

from conftest import script_environment
from tutorial_support.common import notebooks

# TensorFlow's and absl's log lines ("E0000 00:00:1795724905.804071 6884 cuda_platform.cc:52] ...",
# "WARNING: All log messages before absl::InitializeLog() ...") and Python warnings
LOG_LINE = re.compile(
    r"^[IWEF]\d{4} \d\d:\d\d:\d\d|absl::|^WARNING:|Warning:|tensorflow/|cuInit", re.MULTILINE
)


def run_as_notebook(script, folder, settings: str, env: dict, fails: bool = False):
    """Execute every cell of ``script`` as a notebook in ``folder``; return the executed notebook.

    ``fails``: a cell is expected to stop it (nbclient's CellExecutionError); the notebook is
    returned as far as it ran."""
    notebook = notebooks.from_script(script, settings)
    try:
        notebooks.execute(notebook, folder, script_environment(env), timeout=600)
    except nbclient.exceptions.CellExecutionError:
        if not fails:
            raise
    else:
        assert not fails, "the notebook ran to its end"
    return notebook


def figures_by_step(notebook) -> dict[str, int]:
    """How many images each cell displayed, by the cell's title ("Step 9", "Outputs"), where any."""
    shown = {}
    for cell in notebook.cells:
        count = sum(
            "image/png" in output.get("data", {})
            for output in cell.get("outputs", [])
            if output.get("output_type") == "display_data"
        )
        if count:
            shown[cell.metadata.get("title", "").split(":")[0]] = count
    return shown


def check_notebook_shape(notebook) -> None:
    """The script's opening text is a markdown cell, and the first code cell shows no value (a
    docstring there would be shown as Out[1])."""
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert not [o for o in first_code.get("outputs", []) if o["output_type"] == "execute_result"]


def error_outputs(notebook) -> list:
    return [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]


def outputs_text(notebook) -> str:
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                texts.append(output["text"])
            elif output.get("output_type") in ("execute_result", "display_data"):
                texts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(texts)


def stderr_text(notebook) -> str:
    return "".join(
        output["text"]
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    )
