"""The one file every measured figure comes from: docs/measurements.md.

Each benchmark writes its own sections of that file (between ``<!-- name -->`` markers),
stamped with the date, the machine and the versions, and leaves the others as they were,
so that a figure that changes is changed there by a run. The README and docs/ quote it,
and tests/test_readme.py fails when they quote a figure it does not hold.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import sys
import tempfile
from pathlib import Path

FILE = Path(__file__).resolve().parents[1] / "docs" / "measurements.md"
HEADER = """# Measurements

Every timing and result that the README and the pages in docs/ quote comes from this file.
`make bench` writes it (each benchmark rewrites its own sections, stamped with the date, the
machine and the versions); it is not edited by hand, and `tests/test_readme.py` fails when the
README quotes a timing or accuracy that is not here. The machines are shared with other work:
compare figures measured in one run (one section) rather than across sections.
"""


def installed(distribution: str) -> bool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        version(distribution)
    except PackageNotFoundError:
        return False
    return True


def machine() -> str:
    """ "2 cores, AMD EPYC (AVX2, no AVX-512), no GPU; Linux; Python 3.11.7, TensorFlow 2.21.0,
    ..." """
    from importlib.metadata import version

    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        model = re.search(r"model name\s*:\s*(.+)", cpuinfo).group(1).strip()
        flags = set(re.search(r"^flags\s*:\s*(.+)$", cpuinfo, re.M).group(1).split())
        vector = (
            "AVX-512 with BF16"
            if "avx512_bf16" in flags
            else "AVX-512"
            if "avx512f" in flags
            else "AVX2, no AVX-512"
            if "avx2" in flags
            else "no AVX2"
        )
        cpu = f"{model} ({vector})"
    except (OSError, AttributeError):
        cpu = platform.processor() or platform.machine()
    packages = ", ".join(
        f"{name} {version(dist)}"
        for name, dist in (
            ("TensorFlow", "tensorflow"),
            ("JAX", "jax"),
            ("PyTorch", "torch"),
            ("Keras", "keras"),
            ("scikit-learn", "scikit-learn"),
            ("Pillow", "pillow"),
        )
        if installed(dist)
    )
    return (
        f"{os.cpu_count()} cores, {cpu}, no GPU used; {platform.system()}; Python "
        f"{sys.version.split()[0]}, {packages}"
    )


def write_section(name: str, title: str, lines: list[str]) -> None:
    """Replace (or add) the section ``name`` of docs/measurements.md, atomically."""
    text = FILE.read_text() if FILE.is_file() else HEADER
    stamp = (
        f"Measured {datetime.date.today().isoformat()} by `{' '.join(['python', *sys.argv])}` "
        f"on {machine()}."
    )
    block = (
        f"<!-- {name} -->\n## {title}\n\n{stamp}\n\n"
        + "\n".join(lines).rstrip()
        + f"\n<!-- /{name} -->\n"
    )
    pattern = re.compile(rf"<!-- {re.escape(name)} -->\n.*?<!-- /{re.escape(name)} -->\n", re.S)
    text = (
        pattern.sub(lambda _: block, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + block
    )
    handle, temporary = tempfile.mkstemp(dir=FILE.parent, suffix=".tmp")
    with os.fdopen(handle, "w") as stream:
        stream.write(text)
    os.replace(temporary, FILE)
    print(f"(wrote the section '{title}' of {FILE.relative_to(FILE.parents[1])})")


def percent(share: float) -> str:
    return f"{share:.2%}".replace("%", " %")
