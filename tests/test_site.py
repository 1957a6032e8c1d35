"""The site that `make site` builds (build/site/), served on 127.0.0.1 and read in a real browser:
Debian's chromium, driven by Playwright. Marked site: `pytest -m site` after `make site` (.ci/run
does both). Each page is photographed whole into build/site-screenshots/ (JPEG), to be looked at."""

import functools
import http.server
import re
import shutil
import threading
from urllib.parse import urldefrag, urljoin, urlparse

import nbformat
import pytest

from conftest import ROOT
from notebook_runs import LOG_LINE

SITE = ROOT / "build" / "site"
SCREENSHOTS = ROOT / "build" / "site-screenshots"
# each chapter page: its anchors' prefix, how many steps, the figures each step shows
CHAPTERS = {
    "1_artificial_neural_networks/ann.html": ("ann", 17, {9: 1, 13: 2, 15: 1, 16: 1, 17: 1}),
    "2_convolutional_neural_networks/cnn.html": ("cnn", 9, {5: 1, 6: 1, 7: 2, 8: 1}),
    "1_artificial_neural_networks/how_ann_learns.html": (
        "how-ann-learns",
        7,
        {1: 1, 5: 1, 6: 1, 7: 2},
    ),
    "2_convolutional_neural_networks/how_cnn_sees.html": ("how-cnn-sees", 4, {1: 2, 2: 2, 4: 1}),
    "2_convolutional_neural_networks/transfer_learning.html": (
        "transfer-learning",
        10,
        {4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1},
    ),
}
pytestmark = pytest.mark.site

# every image loaded (lazy ones made eager first), as a list of those that did not
BROKEN_IMAGES = """async () => {
    const images = [...document.images];
    images.forEach(image => { image.loading = "eager"; });
    await Promise.all(images.map(image => image.decode().catch(() => null)));
    return images.filter(image => !(image.complete && image.naturalWidth > 0)).map(i => i.src);
}"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no line per request in the test's output
        pass


@pytest.fixture(scope="module")
def site():
    """The site's address, served from build/site/ by Python's own HTTP server."""
    if not (SITE / "index.html").is_file():
        pytest.fail("build/site/index.html is missing: run make site first")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(SITE))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")  # requirements-site.txt
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("no chromium on the PATH: apt-get install chromium")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        yield browser
        browser.close()


OUTPUT_TEXT = "blocks => blocks.map(block => block.innerText)"


@pytest.fixture(scope="module")
def crawl(site, browser):
    """Every page reachable from the home page, visited once: what it showed and linked to."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    pages, queue, links = {}, [site + "index.html"], set()
    while queue:
        url = queue.pop()
        if url in pages:
            continue
        response = page.goto(url, wait_until="load")
        found = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        pages[url] = {
            "status": response.status,
            "broken_images": page.evaluate(BROKEN_IMAGES),
            "images": page.evaluate("document.images.length"),
            "text": page.inner_text("body"),
            # what the chapters' code printed (myst-nb's output blocks)
            "printed": "\n".join(page.eval_on_selector_all(".cell_output", OUTPUT_TEXT)),
            "ids": set(page.eval_on_selector_all("[id]", "nodes => nodes.map(n => n.id)")),
        }
        name = urlparse(url).path.strip("/").replace("/", "__") or "index.html"
        # JPEG: a tall page encodes in half the time of a PNG, and is as easy to look at
        page.screenshot(path=SCREENSHOTS / f"{name}.jpg", full_page=True, quality=80)
        for link in found:
            if link.startswith(site):
                links.add((url, link))
                target = urldefrag(link).url
                if target.endswith(".html") and target not in pages:
                    queue.append(target)
    page.close()
    return pages, links


def test_every_page_loads_with_all_its_images_and_no_traceback_or_log_line(crawl, site):
    pages, _ = crawl
    names = {urlparse(url).path.strip("/") for url in pages}
    assert {"index.html", *CHAPTERS} <= names
    assert {f"docs/{p.stem}.html" for p in (ROOT / "docs").glob("*.md")} <= names
    for url, seen in pages.items():
        assert seen["status"] == 200, url
        assert seen["broken_images"] == [], url
        assert "Traceback" not in seen["text"], url
        assert not LOG_LINE.search(seen["printed"]), (url, LOG_LINE.search(seen["printed"]))
    figures = (ROOT / "README.md").read_text().count("![")
    assert pages[site + "index.html"]["images"] >= figures  # the README's figures
    for path in CHAPTERS:  # the chapters' outputs: all the steps printed, every step in the run
        assert "=== Step 1" in pages[site + path]["printed"]
        assert "not in this run" not in pages[site + path]["text"]
    pretrained = pages[site + "2_convolutional_neural_networks/transfer_learning.html"]["printed"]
    assert "ImageNet's own head, its top class of 1,000" in pretrained  # the zero-shot table
    assert re.search(r"test accuracy 0\.\d{4} \(95 % interval 0\.\d{4} to", pretrained)


def test_every_local_link_answers_and_its_anchor_exists(crawl, browser):
    pages, links = crawl
    request = browser.new_context().request
    answers = {}
    for source, link in sorted(links):
        target, anchor = urldefrag(link)
        if target not in answers:
            answers[target] = pages[target]["status"] if target in pages else None
            answers[target] = answers[target] or request.get(target).status
        assert answers[target] == 200, (source, link)
        if anchor and target in pages:
            assert anchor in pages[target]["ids"], (source, link)


@pytest.mark.parametrize("path", CHAPTERS)
def test_a_chapter_page_is_its_steps_in_order_with_each_figure_under_its_step(path, site, browser):
    prefix, steps, figures = CHAPTERS[path]
    page = browser.new_page()
    page.goto(site + path, wait_until="load")
    headings = page.eval_on_selector_all("article h2", "nodes => nodes.map(n => n.textContent)")
    numbers = [int(m.group(1)) for h in headings if (m := re.match(r"Step (\d+): ", h))]
    assert numbers == list(range(1, steps + 1)) and len(headings) == steps, headings
    shown = {
        step: page.locator(f"section#{prefix}-step-{step} img").count()
        for step in range(1, steps + 1)
    }
    assert {step: count for step, count in shown.items() if count} == figures
    # each step reads along: its heading, the README's words for it, then its code
    for step in range(1, steps + 1):
        section = page.locator(f"section#{prefix}-step-{step}")
        first = section.locator("> :not(h2, span)").first
        assert first.evaluate("node => node.tagName") == "P", (path, step)
        assert len(first.inner_text()) > 30 and section.locator("div.cell").count() >= 1
    # the setup cell's code is folded; the lesson's first words come before any code shown
    assert page.locator("div.cell.tag_hide-input details.hide").count() == 1
    assert not page.locator("div.cell.tag_hide-input div.cell_input").first.is_visible()
    about = page.inner_text("main")  # the run named at the top: the script, its settings
    script = path.rsplit("/", 1)[-1].replace(".html", ".py")
    assert f"This page is {script} run as a notebook on" in about and "SETTINGS = " in about
    assert re.search(r"Keras \d+\.\d+\.\d+ on (TensorFlow|JAX|PyTorch)", about)
    page.close()


def test_the_downloaded_notebook_parses_and_has_its_outputs(site, browser):
    page = browser.new_page()
    page.goto(site + "1_artificial_neural_networks/ann.html", wait_until="load")
    hrefs = page.eval_on_selector_all("a.download", "links => links.map(a => a.href)")
    assert {h.rsplit("/", 1)[-1] for h in hrefs} == {"ann.ipynb", "ann.py"}
    notebook_url = next(h for h in hrefs if h.endswith(".ipynb"))
    notebook = nbformat.reads(page.request.get(notebook_url).text(), as_version=4)
    nbformat.validate(notebook)
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 6
    assert any("=== Step 17" in o.get("text", "") for o in outputs)
    script = page.request.get(next(h for h in hrefs if h.endswith(".py"))).text()
    assert script == (ROOT / "1_artificial_neural_networks" / "ann.py").read_text()
    page.close()


@pytest.mark.parametrize(
    "path", [p for p in CHAPTERS] + ["index.html", "docs/pretrained.html"], ids=str
)
def test_no_code_or_output_is_cut_off_at_1280_px(path, site, browser):
    """Long code and output lines (Keras' progress lines) wrap: nothing scrolls sideways."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(site + path, wait_until="load")
    cut = page.eval_on_selector_all(
        "article pre",
        "blocks => blocks.filter(b => b.scrollWidth > b.clientWidth + 1)"
        ".map(b => b.innerText.slice(0, 80))",
    )
    assert cut == [], (path, cut)
    page.close()


@pytest.mark.parametrize(
    ("words", "page_name"),
    [
        ("dropout", "ann.html"),
        ("Grad-CAM", "cnn.html"),
        ("frozen", "transfer_learning.html"),
        ("back-propagation", "how_ann_learns.html"),
        ("Sobel", "how_cnn_sees.html"),
    ],
)
def test_the_search_finds_a_step_by_its_words(words, page_name, site, browser):
    page = browser.new_page()
    page.goto(urljoin(site, f"search.html?q={words}"), wait_until="load")
    page.wait_for_selector("ul.search li a", timeout=30_000)
    results = page.eval_on_selector_all("ul.search li a", "links => links.map(a => a.href)")
    assert any(page_name in result for result in results), results
    page.close()
