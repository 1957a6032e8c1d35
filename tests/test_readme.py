"""The README is the learner's path: its steps are the scripts' cells, its links resolve, and
every timing and accuracy it quotes is in docs/measurements.md, the benchmarks' file."""

import re

import pytest

from conftest import ROOT

README = ROOT / "README.md"
MEASUREMENTS = ROOT / "docs" / "measurements.md"
# each lesson: its chapter, the heading of its list of steps, its script
SCRIPTS = {
    "Chapter 1": ("### The steps\n", ROOT / "1_artificial_neural_networks" / "ann.py"),
    "Chapter 2": ("### The steps\n", ROOT / "2_convolutional_neural_networks" / "cnn.py"),
    "Chapter 1, theory": (
        "### How the ANN learns\n",
        ROOT / "1_artificial_neural_networks" / "how_ann_learns.py",
    ),
    "Chapter 2, theory": (
        "### How the CNN sees\n",
        ROOT / "2_convolutional_neural_networks" / "how_cnn_sees.py",
    ),
    "Chapter 2, pretrained": (
        "### The steps of the pretrained lesson\n",
        ROOT / "2_convolutional_neural_networks" / "transfer_learning.py",
    ),
}


def chapter(text: str, name: str) -> str:
    start = re.search(rf"^## {name}\b.*$", text, re.M)
    assert start, f"the README has no '## {name}' section"
    end = re.search(r"^## ", text[start.end() :], re.M)
    return text[start.end() : start.end() + end.start() if end else len(text)]


def readme_steps(section: str, heading: str = "### The steps\n") -> list[tuple[int, str]]:
    """The numbered list under ``heading``: "1. **Import the dataset.** ..." -> (1, "import the
    dataset")."""
    steps = section[section.index(heading) :]
    steps = (
        steps[: re.search(r"^### ", steps[4:], re.M).start() + 4]
        if re.search(r"^### ", steps[4:], re.M)
        else steps
    )
    return [
        (int(n), name.rstrip(".").strip().lower())
        for n, name in re.findall(r"^(\d+)\. \*\*(.+?)\*\*", steps, re.M)
    ]


def script_steps(path) -> list[tuple[int, str]]:
    return [
        (int(n), name.strip().lower())
        for n, name in re.findall(r"^# %% Step (\d+): (.+)$", path.read_text(), re.M)
    ]


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_readme_step_is_one_cell_of_the_script(name):
    heading, script = SCRIPTS[name]
    listed = readme_steps(chapter(README.read_text(), name.split(",")[0]), heading)
    cells = script_steps(script)
    assert listed, f"no steps listed in {name}"
    # numbered 1, 2, 3, ... without gaps
    assert [n for n, _ in cells] == list(range(1, len(cells) + 1))
    assert listed == cells


def test_each_script_starts_its_lesson_within_60_lines():
    for _, path in SCRIPTS.values():
        lines = path.read_text().splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith("# %% Step 1:"))
        assert first <= 60, f"{path.name}: {first} lines before Step 1"


def test_the_readme_reads_in_one_sitting():
    """Five lessons and the metrics chapter; reference detail lives in docs/."""
    assert len(README.read_text().splitlines()) <= 600


def test_the_theory_lessons_teach_the_courses_steps_in_its_order():
    """How an ANN learns: the course's seven steps; how a CNN is built: its four, in order."""
    text = README.read_text()
    ann = [name for _, name in readme_steps(chapter(text, "Chapter 1"), "### How the ANN learns\n")]
    cnn = [name for _, name in readme_steps(chapter(text, "Chapter 2"), "### How the CNN sees\n")]
    assert len(ann) == 7 and ann[0].startswith("initialise") and ann[-1] == "epochs"
    assert ["forward propagation", "the error"] == ann[2:4] and "back-propagation" in ann[4]
    assert cnn == ["convolution", "max pooling", "flattening", "full connection"]


def anchors(text: str) -> set[str]:
    """GitHub's anchors: headings lower-cased, punctuation dropped, spaces to hyphens; a repeated
    heading gets -1, -2, ... after its first use."""
    found, seen = set(), {}
    for heading in re.findall(r"^#+ (.+)$", re.sub(r"```.*?```", "", text, flags=re.S), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", "")).replace(" ", "-")
        found.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
        seen[slug] = seen.get(slug, 0) + 1
    return found


def documents():
    return [README, *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("document", documents(), ids=lambda p: p.name)
def test_every_relative_link_and_anchor_resolves(document):
    text = re.sub(r"```.*?```", "", document.read_text(), flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+://", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        assert linked.exists(), f"{document.name}: link to missing {target}"
        if anchor:
            assert linked.suffix == ".md" and anchor in anchors(linked.read_text()), (
                f"{document.name}: no anchor {target}"
            )


# A figure: a number with a decimal point and a unit (46.4 s, 84.00 %, 1.2 GB, 27x), a whole
# number with a unit of time or size (27 ms, 5,262 MB), or a bare number with three or four
# decimals (an accuracy 0.8370, a ROC AUC 0.798, a threshold 0.290). (A whole percentage is left
# out: 90 % of the rows, "at 99 %", are shares, not measurements.)
FIGURE = re.compile(
    r"(?<![\w.\-])(\d+\.\d+)\s?(?:%|s\b|min\b|ms\b|MB\b|GB\b|x\b)|(?<![\w.\-])(\d\.\d{3,4})(?![\d.])"
    r"|(?<![\w.\-,])(\d{1,3}(?:,\d{3})+|\d+)\s?(?:s|min|ms|MB|GB|MiB)\b"
)
# not figures: worked examples (arithmetic, pinned by tests), code blocks and inline code (settings)
EXEMPT = re.compile(r"<!-- worked example -->.*?<!-- /worked example -->|```.*?```|`[^`\n]*`", re.S)


def quoted_figures(document) -> set[str]:
    text = EXEMPT.sub("", document.read_text())
    return {a or b or c for a, b, c in FIGURE.findall(text)}


# corrections.md quotes the original's figures, not ours
@pytest.mark.parametrize(
    "document",
    [d for d in documents() if d.name not in ("measurements.md", "corrections.md")],
    ids=lambda p: p.name,
)
def test_every_quoted_figure_is_in_the_measurements_file(document):
    measured = set(re.findall(r"\d[\d,]*(?:\.\d+)?", MEASUREMENTS.read_text()))
    missing = sorted(quoted_figures(document) - measured)
    assert not missing, (
        f"{document.name} quotes figures that docs/measurements.md does not hold: {missing}"
    )


def test_the_figure_pattern_finds_timings_and_accuracies():
    text = (
        "46.4 s wall, 84.00 % and 0.8370, AUC 0.798, 27.0x, 27 ms and 5,262 MB; not 0.5, 90 % of "
        "the rows, 64 x 64 pixels, TensorFlow 2.21.0 or Python 3.11-3.13"
    )
    found = {a or b or c for a, b, c in FIGURE.findall(text)}
    assert found == {"46.4", "84.00", "0.8370", "0.798", "27.0", "27", "5,262"}


# "79.55 % of 2,000 photos (95 % interval 77.73 to 81.26 %)": a Wilson interval worked out by hand
INTERVAL = re.compile(
    r"(\d+\.\d+) % of ([\d,]+)\s+\w+\s+\(95 % interval (\d+\.\d+) to (\d+\.\d+) %\)"
)


def test_every_worked_interval_is_the_wilson_interval_of_its_count():
    from confusion_metrics import wilson_interval

    text = " ".join(README.read_text().split())
    found = INTERVAL.findall(text)
    assert len(found) >= 3
    for share, count, low, high in found:
        n = int(count.replace(",", ""))
        k = round(float(share) / 100 * n)
        assert f"{k / n:.2%}" == f"{share}%"
        expected = [f"{100 * bound:.2f}" for bound in wilson_interval(k, n)]
        assert expected == [low, high], (share, count)
