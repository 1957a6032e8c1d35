"""tools/site/build_site.py's own parts, in-process: the cache key, the links, the progress bar,
and the one line without the data. (The built site itself is tested in a browser: test_site.py.)"""

import importlib.util
import sys

import pytest

from conftest import ROOT

spec = importlib.util.spec_from_file_location(
    "build_site", ROOT / "tools" / "site" / "build_site.py"
)
build_site = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_site)
ANN = ROOT / "1_artificial_neural_networks" / "ann.py"


def test_a_run_is_cached_under_everything_that_changes_it(tmp_path, monkeypatch):
    for name in (
        "pyproject.toml",
        "requirements.txt",
        "tutorial_support/a.py",
        "confusion_metrics/b.py",
    ):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(name)
    script = tmp_path / "ann.py"
    script.write_text("print(1)")
    monkeypatch.setattr(build_site, "ROOT", tmp_path)
    key = build_site.run_key(script, "", "data-1")
    assert build_site.run_key(script, "", "data-1") == key  # nothing changed: the same run
    changed = {
        "settings": build_site.run_key(script, "--epochs 2", "data-1"),
        "data": build_site.run_key(script, "", "data-2"),
    }
    for name in ("ann.py", "tutorial_support/a.py", "confusion_metrics/b.py", "requirements.txt"):
        (tmp_path / name).write_text("changed")
        changed[name] = build_site.run_key(script, "", "data-1")
    monkeypatch.setattr(build_site, "chosen", lambda: "jax")
    changed["backend"] = build_site.run_key(script, "", "data-1")
    keys = [key, *changed.values()]
    assert len(set(keys)) == len(keys), changed  # each change, a run of its own


def test_links_lead_to_the_sites_pages(tmp_path):
    build_site.markdown_page(ROOT / "README.md", tmp_path / "index.md")
    home = (tmp_path / "index.md").read_text()
    assert "](1_artificial_neural_networks/ann.ipynb)" in home  # the chapter's page, not the .py
    assert "](2_convolutional_neural_networks/cnn.ipynb)" in home
    assert "](confusion_metrics/__init__.py)" in home  # a folder: its module
    assert "](docs/measurements.md#" in home and "](https://" in home  # left as they were
    build_site.markdown_page(ROOT / "docs" / "how_sure.md", tmp_path / "docs" / "how_sure.md")
    page = (tmp_path / "docs" / "how_sure.md").read_text()
    assert "](../index.md#" in page and "README.md" not in page


def test_a_progress_bar_shows_its_last_drawing_as_in_jupyter():
    printed = "Epoch 1/2\n\r 1/3 ━━ 1s\b\b\b\b\b\b\b\b\b\b\r 3/3 ━━━ 2s - loss: 0.5\nEpoch 2/2\n"
    assert (
        build_site.as_a_terminal_shows(printed) == "Epoch 1/2\n 3/3 ━━━ 2s - loss: 0.5\nEpoch 2/2\n"
    )
    assert build_site.as_a_terminal_shows("ab\bc") == "ac"


def test_without_the_data_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["build_site.py", "--data", str(tmp_path / "nowhere")])
    with pytest.raises(SystemExit) as stop:
        build_site.main()
    assert stop.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("make site: no churn data at ")
    assert not (tmp_path / "nowhere").exists()


def test_every_lesson_page_finds_the_readmes_words_for_each_of_its_steps():
    """After the words that introduce a list (the theory lessons have some), each step's item."""
    counts = {"ann": 17, "how_ann_learns": 7, "cnn": 9, "transfer_learning": 10, "how_cnn_sees": 4}
    for name, (_, _, where) in build_site.CHAPTERS.items():
        words = build_site.readme_steps(*where)
        assert sorted(words) == list(range(1, counts[name] + 1)), name
        assert all(len(said) > 30 for said in words.values()), name
    assert build_site.readme_steps("## Chapter 2", "### How the CNN sees\n")[1].startswith(
        "**Convolution**"
    )
