"""make site: the tutorial as a web site in build/site/ (index.html at its root), built offline.

1. Each chapter's script runs as a notebook (tutorial_support/common/notebooks.py), as a reader
   runs it in Jupyter, unless a run with the same inputs is cached in build/site-cache/: the key
   is a hash of everything that changes a run (the script, its settings, tutorial_support/,
   confusion_metrics/, the requirements, Python, the backend and the data).
2. The pages are gathered in build/site-src/: the README as the home page, every docs/ page, and
   one lesson page per script, its executed notebook, each step read along: a heading, the
   README's words for that step (one source: the README's list of steps), the step's code, then
   what it printed and drew. The setup cell is folded. The files the pages link to (scripts,
   modules) come along, as downloads.
3. Sphinx writes the HTML (myst-parser reads the Markdown, myst-nb the notebooks, which it does
   not run again; sphinx-book-theme gives the search and the layout). A link that leads nowhere
   fails the build.

    python tools/site/build_site.py            the default runs, as the README describes them
    python tools/site/build_site.py --quick    short runs (CI), named as such on the pages
    --data FOLDER (or DLP_DATA_DIR=FOLDER): the data sets' folder, as for the scripts
"""

from __future__ import annotations

import argparse
import concurrent.futures
import copy
import datetime
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import nbformat

from tutorial_support.backends.choice import PLAIN_KERAS, chosen, package
from tutorial_support.common import data, notebooks
from tutorial_support.common.errors import TutorialError

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
SOURCE, CACHE, RUNS, SITE = (BUILD / n for n in ("site-src", "site-cache", "site-run", "site"))
# lesson: its script, the settings of a --quick run (the default run has none), and where the
# README lists its steps (its chapter's heading, then the list's heading)
CHAPTERS = {
    "ann": (
        ROOT / "1_artificial_neural_networks" / "ann.py",
        "--epochs 2 --improved-epochs 2 --folds 3",
        ("## Chapter 1", "### The steps\n"),
    ),
    "how_ann_learns": (
        ROOT / "1_artificial_neural_networks" / "how_ann_learns.py",
        "--epochs 2 --sgd-epochs 2",
        ("## Chapter 1", "### How the ANN learns\n"),
    ),
    "cnn": (
        ROOT / "2_convolutional_neural_networks" / "cnn.py",
        "--epochs 2 --image-size 32 --mixed-precision off",
        ("## Chapter 2", "### The steps\n"),
    ),
    "transfer_learning": (
        ROOT / "2_convolutional_neural_networks" / "transfer_learning.py",
        "--epochs 2 --image-size 32",
        ("## Chapter 2", "### The steps of the pretrained lesson\n"),
    ),
    "how_cnn_sees": (
        ROOT / "2_convolutional_neural_networks" / "how_cnn_sees.py",
        "--epochs 0",
        ("## Chapter 2", "### How the CNN sees\n"),
    ),
}
STEP = re.compile(r"Step (\d+): ")
ITEM = re.compile(r"^(\d+)\. ", re.M)  # a numbered item of the README's list of steps
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")  # a Markdown link's target: (path#anchor)


def fail(message: str) -> None:
    print(f"make site: {message}", file=sys.stderr)
    raise SystemExit(2)


def data_fingerprint() -> str:
    """The churn table's bytes and the photos' names and sizes (found, or downloaded, as the
    scripts find them: a missing data set stops here with the scripts' own line)."""
    digest = hashlib.sha256(data.churn_csv().read_bytes())
    photos = data.cats_and_dogs()
    for path in sorted(photos.rglob("*")):
        if path.is_file():
            digest.update(f"{path.relative_to(photos)}:{path.stat().st_size}\n".encode())
    return digest.hexdigest()


def run_key(script: Path, settings: str, data_hash: str) -> str:
    """A hash of everything that changes what a chapter's run prints and draws: the backend is
    named by the installed versions, read without importing it."""
    versions = {name: metadata.version(name) for name in ("keras", package())}
    backend = f"{chosen()} {versions} {os.environ.get(PLAIN_KERAS, '')}"
    digest = hashlib.sha256(f"{settings}|{backend}|{sys.version}|{data_hash}".encode())
    inputs = [script, ROOT / "pyproject.toml", *sorted(ROOT.glob("requirements*.txt"))]
    for folder in ("tutorial_support", "confusion_metrics"):
        inputs += sorted(p for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".txt"))
    for path in inputs:
        digest.update(f"{path.relative_to(ROOT)}\n".encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def machine() -> str:
    """e.g. "Intel(R) Xeon(R) Platinum 8581C CPU @ 2.10GHz, Linux"."""
    cpuinfo = Path("/proc/cpuinfo")
    names = (
        re.findall(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        if cpuinfo.exists()
        else []
    )
    return (
        f"{names[0] if names else platform.processor() or platform.machine()}, {platform.system()}"
    )


def executed(name: str, script: Path, settings: str, data_hash: str, rerun: bool, jobs: int):
    """The chapter's notebook with its outputs: from the cache, or run now (and cached).
    ``jobs``: how many chapters run at a time (said on the page, beside the run's time)."""
    cached = CACHE / f"{name}-{run_key(script, settings, data_hash)}.ipynb"
    if cached.exists() and not rerun:
        print(f"{script.name}: from the cache ({cached.name})")
        return nbformat.read(cached, as_version=4)
    print(f"{script.name}: running it as a notebook, settings {settings!r} ...", flush=True)
    folder = RUNS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    notebook, started = notebooks.from_script(script, settings), time.perf_counter()
    environment = {**os.environ, "MPLBACKEND": "Agg"}
    try:
        notebooks.execute(notebook, folder, environment)
    except Exception as error:  # nbclient's CellExecutionError: the cell's own error, one line
        lines = [line for line in str(error).splitlines() if line.strip()]
        fail(f"{script.name} stopped as a notebook: {lines[-1] if lines else error}")
    seconds = time.perf_counter() - started
    text = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    device = next((line for line in text.splitlines() if line.startswith("Training on")), "")
    notebook.metadata["site_run"] = {
        "settings": settings,
        "seconds": round(seconds, 1),
        "jobs": jobs,
        "date": datetime.date.today().isoformat(),
        "device": device,
        "machine": machine(),
    }
    CACHE.mkdir(parents=True, exist_ok=True)
    for old in CACHE.glob(f"{name}-*.ipynb"):
        old.unlink()
    partial = cached.with_suffix(".partial")
    nbformat.write(notebook, partial)
    partial.replace(cached)  # atomically: an interrupted build leaves no half-written run
    print(f"{script.name}: ran in {seconds:.0f} s")
    return notebook


def as_a_terminal_shows(text: str) -> str:
    """Text as a terminal, or Jupyter, shows it: Keras' progress bar redraws its line with
    carriage returns and backspaces, which an HTML page would print one after the other. Written
    by hand: Sphinx and myst-nb keep the control characters as they are."""
    shown = []
    for line in text.split("\n"):
        kept: list[str] = []
        for char in line.rsplit("\r", 1)[-1]:  # a redrawn line: its last drawing
            if char == "\b":
                kept = kept[:-1]
            else:
                kept.append(char)
        shown.append("".join(kept))
    return "\n".join(shown)


def merged_streams(outputs: list) -> list:
    """A cell's printed pieces joined, as Jupyter joins them, then redrawn as a terminal would."""
    merged = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if output.output_type == "stream" and previous and previous.get("name") == output.name:
            previous.text += output.text
        else:
            merged.append(copy.deepcopy(output))
    for output in merged:
        if output.output_type == "stream":
            output.text = as_a_terminal_shows(output.text)
    return merged


def readme_steps(chapter_heading: str, list_heading: str) -> dict[int, str]:
    """The README's words for each step of a lesson: the items of the numbered list under
    ``list_heading`` in the chapter that starts at ``chapter_heading`` (after the words that
    introduce it, if any), by number."""
    text = (ROOT / "README.md").read_text()
    chapter = text[text.index(chapter_heading) :]
    listed = chapter[chapter.index(list_heading) + len(list_heading) :]
    listed = listed[ITEM.search(listed).start() :]  # from the list's first item
    steps: dict[int, list[str]] = {}
    for line in listed.splitlines():
        item = ITEM.match(line)
        if item:
            steps[int(item.group(1))] = [line[item.end() :]]
        elif line.startswith(" ") and steps:  # an item's next line
            steps[max(steps)].append(line.strip())
        else:  # the list ends at its first blank line
            break
    return {number: " ".join(lines) for number, lines in steps.items()}


def site_path(resolved: Path) -> Path:
    """Where a file of the repository is on the site: a script at its lesson page, the README at
    the home page, a folder at its __init__.py."""
    scripts = {script for script, *_ in CHAPTERS.values()}
    if resolved in scripts:
        return resolved.with_suffix(".ipynb")
    if resolved == ROOT / "README.md":
        return ROOT / "index.md"
    if resolved.is_dir():
        return resolved / "__init__.py"
    return resolved


def linked_from(folder: Path, text: str) -> str:
    """README text placed on a page in ``folder`` (of the repository): its links rebased, an anchor
    of the README's own at the home page."""

    def rebase(match: re.Match) -> str:
        path, anchor = match.group(1), match.group(2) or ""
        if path.startswith(("http:", "https:", "mailto:")):
            return match.group(0)
        target = os.path.relpath(site_path((ROOT / path).resolve()), folder)
        return f"]({Path(target).as_posix()}{anchor})"

    text = re.sub(r"\]\((#[^)\s]*)\)", r"](README.md\1)", text)  # the README's own anchors
    return LINK.sub(rebase, text)


def chapter_page(name: str, script: Path, notebook) -> None:
    """The lesson's page: the run named at the top, the setup folded, and each step read along: a
    heading with a stable anchor (#ann-step-9), the README's words for it, its code, what it
    printed and drew. The notebook and the script to download."""
    folder = SOURCE / script.parent.name
    words = readme_steps(*CHAPTERS[name][2])
    (folder / "downloads").mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / "downloads" / f"{name}.ipynb")  # as a reader would open it
    shutil.copy(script, folder / script.name)
    run = notebook.metadata["site_run"]
    settings = f"`SETTINGS = {run['settings']!r}`"
    jobs = run.get("jobs", 1)
    shared = f" ({jobs} chapters running at a time)" if jobs > 1 else ""
    about = (
        f"This page is `{script.name}` run as a notebook on {run['date']}, with "
        + (f"{settings} (short runs)" if run["settings"] else f"{settings}: the defaults")
        + f", in {run['seconds']:.0f} s{shared}. {run['device']}; {run['machine']}.\n\n"
        f"Download {{download}}`the notebook, with its outputs <downloads/{name}.ipynb>` "
        f"or {{download}}`the script <{script.name}>`. Each step below is one `# %% Step` cell "
        "of the script: the README's words for it, its code, then what it printed and drew."
    )
    page = copy.deepcopy(notebook)
    cells = [page.cells[0], nbformat.v4.new_markdown_cell(about)]
    for cell in page.cells[1:]:
        title = cell.metadata.get("title", "") if cell.cell_type == "code" else ""
        step = STEP.match(title)
        if step:
            number = int(step.group(1))
            heading = f"({name.replace('_', '-')}-step-{number})=\n## {title}"
            said = linked_from(script.parent, words[number]) if number in words else ""
            cells.append(nbformat.v4.new_markdown_cell(f"{heading}\n\n{said}".strip()))
        elif title:  # Settings, Setup, Outputs: named, but not steps
            cells.append(nbformat.v4.new_markdown_cell(f"**{title}**"))
        if title.startswith("Setup"):  # imports and start-up: folded, its output still shown
            cell.metadata.setdefault("tags", []).append("hide-input")
        if cell.cell_type == "code":
            cell.outputs = merged_streams(cell.outputs)
        cells.append(cell)
    page.cells = cells
    nbformat.write(page, folder / f"{name}.ipynb")


def markdown_page(source: Path, target: Path) -> None:
    """A README or docs page, its links pointed at the site's pages: the scripts at their chapter
    pages, README.md at the home page, a folder at its __init__.py."""

    def retarget(match: re.Match) -> str:
        path, anchor = match.group(1), match.group(2) or ""
        if path.startswith(("http:", "https:", "mailto:")):
            return match.group(0)
        resolved = (source.parent / path).resolve()
        if not resolved.is_relative_to(ROOT):
            return match.group(0)
        target = os.path.relpath(site_path(resolved), source.parent)
        return f"]({Path(target).as_posix()}{anchor})"

    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(LINK.sub(retarget, source.read_text()))


def gather(pages: dict) -> None:
    shutil.rmtree(SOURCE, ignore_errors=True)
    docs = sorted((ROOT / "docs").glob("*.md"))
    for page in docs:
        markdown_page(page, SOURCE / "docs" / page.name)
    markdown_page(ROOT / "README.md", SOURCE / "index.md")
    for pattern in (
        "docs/*.png",
        "docs/*.py",
        "benchmarks/*.py",
        "tutorial_support/**/*.py",
        "confusion_metrics/*.py",
    ):
        for path in ROOT.glob(pattern):
            (SOURCE / path.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, SOURCE / path.relative_to(ROOT))
    for name, (script, notebook) in pages.items():
        chapter_page(name, script, notebook)
    chapters = "\n".join(f"{s.parent.name}/{n}" for n, (s, _) in pages.items())
    reference = "\n".join(f"docs/{page.stem}" for page in docs)
    with (SOURCE / "index.md").open("a") as index:  # the site's navigation (not on GitHub)
        for caption, entries in (("Chapters, run", chapters), ("Reference", reference)):
            index.write(f"\n```{{toctree}}\n:hidden:\n:caption: {caption}\n\n{entries}\n```\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (CI), said on the pages")
    parser.add_argument("--rerun", action="store_true", help="run the chapters even if cached")
    parser.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="chapters run at a time (default 2: each spends seconds on one core, importing)",
    )
    parser.add_argument(
        "--data", type=Path, help=f"the data's folder (or {data.DATA_DIR_VARIABLE})"
    )
    args = parser.parse_args()
    folder = args.data or os.environ.get(data.DATA_DIR_VARIABLE)
    if folder:  # for the chapters' runs too, which start in build/site-run/
        os.environ[data.DATA_DIR_VARIABLE] = str(Path(folder).resolve())
    started = time.perf_counter()
    try:
        data_hash = data_fingerprint()
    except TutorialError as error:
        fail(str(error))
    if args.jobs < 1:
        fail(f"--jobs: at least 1, got {args.jobs}")
    # the chapters' runs, args.jobs at a time: each is a kernel process of its own, which spends
    # its first seconds importing on one core
    pool = concurrent.futures.ThreadPoolExecutor(args.jobs)
    runs = {
        name: pool.submit(
            executed, name, script, quick if args.quick else "", data_hash, args.rerun, args.jobs
        )
        for name, (script, quick, _) in CHAPTERS.items()
    }
    try:
        pages = {name: (CHAPTERS[name][0], run.result()) for name, run in runs.items()}
    finally:  # a run that failed stops the build: the runs not yet started never start
        pool.shutdown(cancel_futures=True)
    gather(pages)
    staging = SITE.with_name("site.partial")
    shutil.rmtree(staging, ignore_errors=True)
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going"]
    command += ["-c", str(Path(__file__).parent), "-d", str(BUILD / "site-doctrees")]
    if subprocess.run([*command, str(SOURCE), str(staging)]).returncode:
        fail("Sphinx stopped (its messages are above); the last site was left as it was")
    shutil.rmtree(SITE, ignore_errors=True)
    staging.rename(SITE)
    print(f"built {SITE / 'index.html'} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
