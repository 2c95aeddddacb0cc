"""The slides package: decks from executed notebooks, opened in headless Chromium (skipped without one)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import CI_SUBSET, offline_env
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from slides import build, export, index, pdf, prepare

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "build" / "slides" / "screenshots"
CHECK_DECK = "90_slides_check"  # a notebook this test writes: every slide type, a figure, math
ORANGE_PNG = (  # 24x12 pixels
    "iVBORw0KGgoAAAANSUhEUgAAABgAAAAMCAIAAAD3UuoiAAAAGklEQVR4nGN8UKDNQA3ARBVTRg0aNWjYGgQAO2oBk0R/UlEAAAAASUVORK5CYII="
)

LECTURES = [p.stem for p in build.lecture_notebooks(ROOT / "notebooks")]


def _cell(kind, source, slide="-", tags=()):
    meta = {"slideshow": {"slide_type": slide}}
    if tags:
        meta["tags"] = list(tags)
    make = new_markdown_cell if kind == "md" else new_code_cell
    return make(source, metadata=meta)


def check_notebook() -> nbformat.NotebookNode:
    """A small lecture: title, dropped and hidden cells, a figure, fragments, notes and math."""
    cells = [
        _cell(
            "md",
            "# 90 · Checking the slides\n\n"
            "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            "(https://colab.research.google.com/github/x/y/blob/main/notebooks/90_slides_check.ipynb)"
            "\n\nA lecture the test suite writes.\n\n**Learning goals**\n"
            "- see a figure on a slide;\n- see `code` in a goal;\n- read the notes.",
            slide="slide",
        ),
        _cell("code", "print('installing')", slide="skip", tags=["colab-install"]),
        _cell("md", "The intro, said aloud.", slide="notes"),
        _cell("md", "## A figure\n\nOnly the picture matters here.", slide="slide"),
        _cell(
            "code",
            "import matplotlib.pyplot as plt\n\n"
            "fig, ax = plt.subplots(figsize=(8, 3.6))\n"
            "ax.bar(['sadness', 'joy', 'love', 'anger', 'fear', 'surprise'], [29, 34, 8, 13, 12, 4])\n"
            "ax.set(title='Share of tweets per emotion', xlabel='emotion', ylabel='share (%)')\n"
            "plt.show()",
            tags=["hide-input"],
        ),
        _cell("md", "A sentence that appears on the next key press.", slide="fragment"),
        _cell("md", "### Code and its output\n\nA subslide below the figure.", slide="subslide"),
        _cell("code", "print('an output nobody needs')", tags=["hide-output"]),
        _cell("code", "import sys\n\nprint('stderr is dropped', file=sys.stderr)\nsum(range(10))"),
        _cell("code", "print('never shown')", slide="skip"),
        _cell("code", "print('never shown either')", tags=["skip"]),
        _cell("code", "print('never shown: removed')", tags=["remove-cell"]),
        _cell(
            "md", "## Some math\n\nThe softmax: $p_i = e^{z_i} / \\sum_j e^{z_j}$.", slide="slide"
        ),
        _cell("md", "Speaker notes for the math slide.", slide="notes"),
        _cell("md", "A pasted picture: ![an orange bar](attachment:bar.png)"),
    ]
    cells[-1].attachments = {"bar.png": {"image/png": ORANGE_PNG}}
    nb = new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
    }
    return nb


def expected_slides(nb: nbformat.NotebookNode) -> int:
    """Slides + subslides that Jupyter's slideshow metadata defines once skipped cells are gone."""

    def kind(cell):
        return cell.metadata.get("slideshow", {}).get("slide_type", "-")

    dropped = {"colab-install", "skip", "remove-cell"}
    shown = [c for c in nb.cells if kind(c) not in ("skip", "notes")]
    shown = [c for c in shown if not dropped & set(c.metadata.get("tags", []))]
    starts = sum(kind(c) in ("slide", "subslide") for c in shown)
    return starts + (kind(shown[0]) not in ("slide", "subslide"))


# --- without a browser ----------------------------------------------------------------------------


def test_parse_title_reads_number_title_goals_and_intro():
    info = prepare.parse_title(check_notebook().cells[0].source)
    assert (info.number, info.title, info.goals_heading) == (
        "90",
        "Checking the slides",
        "Learning goals",
    )
    assert info.goals == ["see a figure on a slide;", "see `code` in a goal;", "read the notes."]
    assert info.intro == "A lecture the test suite writes."  # the Colab badge is not part of it


def test_parse_title_takes_another_bold_list_when_no_learning_goals():
    info = prepare.parse_title(
        "# 00 · Setup\n\nIntro.\n\n**You will check that:**\n- one;\n- two\n  lines.\n"
    )
    assert (info.goals_heading, info.goals) == ("You will check that", ["one;", "two lines."])
    assert prepare.parse_title("## Not a lecture title") is None


def test_prepare_drops_skipped_cells_and_stderr():
    executed = check_notebook()
    noisy = next(c for c in executed.cells if "stderr is dropped" in c.source)
    noisy.outputs = [  # as the kernel left them
        new_output("stream", name="stderr", text="stderr is dropped\n"),
        new_output("execute_result", data={"text/plain": "45"}, execution_count=1),
    ]
    nb, info = prepare.prepare(executed)
    sources = "\n".join(c.source for c in nb.cells)
    assert "never shown" not in sources and "installing" not in sources
    kept = next(c for c in nb.cells if "stderr is dropped" in c.source)
    assert [o.output_type for o in kept.outputs] == ["execute_result"]
    assert nb.cells[0].metadata["course_title"]["number"] == info.number == "90"
    assert prepare.count_slides(nb) == expected_slides(check_notebook()) == 4


def test_prepare_puts_code_beside_narrow_figures_only():
    def figure_cell(width):
        cell = new_code_cell("plt.show()", metadata={"slideshow": {"slide_type": "-"}})
        meta = {"image/png": {"width": width}} if width else {}
        cell.outputs = [new_output("display_data", data={"image/png": ORANGE_PNG}, metadata=meta)]
        return cell

    nb = new_notebook(cells=[check_notebook().cells[0], figure_cell(None), figure_cell(1200)])
    prepared, _ = prepare.prepare(nb)
    tags = [set(c.metadata.get("tags", [])) for c in prepared.cells]
    assert "slides-figure" in tags[1] and "slides-figure" not in tags[2]  # 24 px wide vs 1200


def test_print_pages_prints_again_until_every_slide_has_its_page(tmp_path, monkeypatch):
    printed = []

    def chromium_print(browser, deck_html, target):  # the second print lays out all four slides
        printed.append(target)
        target.write_bytes(b"/Type /Pages" + b" /Type /Page" * (4 if len(printed) == 2 else 1))
        return 4

    monkeypatch.setattr(pdf, "_print", chromium_print)
    deck = (tmp_path / "deck.html", tmp_path / "deck.pdf")
    pdf.print_pages(None, [deck])
    assert len(printed) == 2 and pdf.pdf_page_count(deck[1]) == 4
    printed.clear()
    monkeypatch.setattr(pdf, "_print", lambda *args: chromium_print(*args) and 5)
    with pytest.raises(RuntimeError, match="printed 1 pages for 5 slides 3 times"):
        pdf.print_pages(None, [deck])
    assert len(printed) == 3


def test_remote_references_finds_cdn_loads_but_not_links():
    page = (
        '<script src="https://unpkg.com/reveal.js/dist/reveal.js"></script>'
        '<link rel="stylesheet" href="//cdn.example/x.css"><img src="http://x/y.png">'
        "<style>@import url(https://fonts.googleapis.com/css?family=Lato);</style>"
        '<a href="https://colab.research.google.com/">a link is fine</a><img src="data:image/png;base64,AA">'
    )
    assert len(export.remote_references(page)) == 4


def test_index_page_lists_each_deck_with_its_title_link_and_pdf(tmp_path):
    decks = [
        export.Deck("01_one", "01", "The emotion data set", 1, tmp_path / "01_one.html"),
        export.Deck("02_two", "02", "Tokens <b>& 'words'</b>", 12, tmp_path / "02_two.html"),
    ]
    decks[0].pdf = tmp_path / "01_one.pdf"
    page = index.write_index(decks, tmp_path).read_text(encoding="utf-8")
    items = re.findall(r"<li>.*?</li>", page)
    assert items == [
        '<li><span class="num">01</span> <a href="01_one.html">The emotion data set</a> '
        '<span class="meta">1 slide · <a href="01_one.pdf">PDF</a></span></li>',
        '<li><span class="num">02</span> <a href="02_two.html">'
        "Tokens &lt;b&gt;&amp; &#39;words&#39;&lt;/b&gt;</a> "
        '<span class="meta">12 slides</span></li>',
    ]
    assert f"<title>{export.COURSE_NAME}: slides</title>" in page
    theme = export.THEME_CSS.read_text(encoding="utf-8")
    assert theme in page and '"' in theme  # inlined as is, quotes and all (not escaped)
    assert "{{" not in page and "{%" not in page
    assert export.remote_references(page) == []


@pytest.mark.parametrize("how", ["script", "module"])
def test_build_runs_as_a_script_and_as_a_module(how, tmp_path):
    """`python slides/build.py` (the Makefile's call; here from another folder), `python -m slides.build`."""
    args, cwd = {
        "script": ([str(ROOT / "slides" / "build.py")], tmp_path),
        "module": (["-m", "slides.build"], ROOT),
    }[how]
    done = subprocess.run(
        [sys.executable, *args, "--help"], cwd=cwd, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "--no-pdf" in done.stdout


# --- decks in Chromium ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def decks(offline_lectures, tmp_path_factory):
    """Decks of the lectures as nbval executed them offline (CI-sized), and of the check notebook."""
    source = tmp_path_factory.mktemp("executed")
    for path in build.lecture_notebooks(ROOT / "notebooks"):
        executed = offline_lectures.notebook(path.name)
        assert executed.is_file(), f"nbval left no executed copy of {path.name}"
        shutil.copy(executed, source)
    nbformat.write(check_notebook(), source / f"{CHECK_DECK}.ipynb")
    env = {**offline_env(), "COURSE_SUBSET": CI_SUBSET}
    run = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute"]
    _run_all([run + ["--inplace", str(source / f"{CHECK_DECK}.ipynb")]], env)
    out = tmp_path_factory.mktemp("slides")
    built = build.build(source, out, pdf=False)
    return {d.name: (d, nbformat.read(source / f"{d.name}.ipynb", as_version=4)) for d in built}


def _run_all(commands: list[list[str]], env: dict[str, str]) -> None:
    """Run the commands side by side; each must succeed."""
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for cmd in commands
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=1_500)  # a CI-sized run of every lecture
        assert proc.returncode == 0, err.decode(errors="replace")[-3000:]


def _open(page, deck):
    problems = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    page.on(
        "request",
        lambda r: None if r.url.startswith(("file:", "data:")) else problems.append(r.url),
    )
    page.goto(deck.html.as_uri())
    page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=20_000)
    return problems


def overflowing_slides(page, tolerance: int = 24) -> list[str]:
    """Slides (number: first line) whose content, fragments included, runs off the bottom."""
    return page.evaluate(
        """(tolerance) => Reveal.getSlides().flatMap((slide, i) => {
            const at = Reveal.getIndices(slide);
            Reveal.slide(at.h, at.v);
            const over = slide.scrollHeight - slide.clientHeight;
            const line = (slide.innerText.trim().split("\\n")[0] || "").slice(0, 50);
            return over > tolerance ? [`${i + 1}: ${line} (+${over}px)`] : [];
        })""",
        tolerance,
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", [*LECTURES, CHECK_DECK])
def test_deck_opens_with_the_slides_the_notebook_defines(name, decks, browser):
    deck, nb = decks[name]
    page = browser.new_page(viewport={"width": export.WIDTH, "height": export.HEIGHT})
    problems = _open(page, deck)
    assert page.evaluate("Reveal.getTotalSlides()") == expected_slides(nb)
    title = page.locator(".course-title .lecture-title")
    first_line = nb.cells[0].source.splitlines()[0]
    assert re.sub(r"^#\s*\d+\s*·\s*", "", first_line) == title.inner_text()

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}-title.png")
    indices = page.evaluate(
        "Reveal.getSlides().filter(s => s.querySelector('.jp-OutputArea img'))"
        ".map(s => Reveal.getIndices(s))"
    )
    if indices:
        page.evaluate(f"Reveal.slide({indices[0]['h']}, {indices[0]['v']})")
        page.wait_for_timeout(300)
        page.screenshot(path=SCREENSHOTS / f"{name}-figure.png")
    images = page.evaluate(
        "[...document.images].map(i => [i.complete && i.naturalWidth > 0, i.src.slice(0, 40)])"
    )
    assert all(ok for ok, _ in images), [src for ok, src in images if not ok]
    overflow = overflowing_slides(page)
    assert overflow == [], f"{name}: slides that run off the bottom (see slides/README.md)"
    if name == CHECK_DECK:
        assert len(images) == 2 and indices, "the check deck's figure or pasted picture is missing"
        page.wait_for_function("document.querySelector('.MathJax')", timeout=20_000)
        assert page.locator("aside.notes").count() == 3  # title intro + two notes cells
        page.evaluate("Reveal.slide(0, 0)")
        with page.expect_popup() as speaker_view:
            page.keyboard.press("s")
        notes = speaker_view.value.locator(".speaker-controls-notes")
        notes.get_by_text("A lecture the test suite writes.").wait_for(timeout=10_000)
        speaker_view.value.close()
        outputs = "\n".join(page.locator(".jp-OutputArea").all_inner_texts())
        assert "45" in outputs and "stderr is dropped" not in outputs and "nobody" not in outputs
        assert "never shown" not in page.content()
    page.close()
    assert problems == [], "\n".join(problems)


@pytest.mark.slow
def test_decks_load_only_files_beside_them(decks):
    for deck, _ in decks.values():
        page = deck.html.read_text(encoding="utf-8")
        assert export.remote_references(page) == []
        local = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"?#]+)', page)
        assert any(path.endswith("reveal.js/dist/reveal.js") for path in local)
        missing = [path for path in local if not (deck.html.parent / path).is_file()]
        assert missing == [], f"{deck.name} loads files the build did not copy: {missing}"


@pytest.mark.slow
def test_index_lists_every_deck(decks):
    page = (next(iter(decks.values()))[0].html.parent / "index.html").read_text(encoding="utf-8")
    for deck, _ in decks.values():
        assert f'href="{deck.html.name}"' in page
    assert export.remote_references(page) == []


@pytest.mark.slow
def test_pdf_has_one_page_per_slide(decks, browser, tmp_path):
    deck, nb = decks[CHECK_DECK]
    printed = tmp_path / f"{CHECK_DECK}.pdf"
    pdf.print_pages(browser, [(deck.html, printed)])
    assert pdf.pdf_page_count(printed) == expected_slides(nb)
