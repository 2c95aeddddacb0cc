"""Build reveal.js decks (and their PDFs) from executed lecture notebooks, for offline presenting.

python slides/build.py [--from DIR] [--out build/slides] [--no-pdf]

Slide structure comes from each cell's `slideshow.slide_type` (Jupyter's convention); see slides/README.md.
"""

from __future__ import annotations

import argparse
import base64
import copy
import html
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbconvert.exporters import SlidesExporter
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]
SLIDES_DIR = Path(__file__).resolve().parent
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
COURSE_NAME = "Text classification with transformers"
WIDTH, HEIGHT = 1280, 720
MAX_SLIDES = 25

# Cells that never reach a deck, and cells whose input or output is hidden on it.
DROP_TAGS = ("colab-install", "skip", "remove-cell")
HIDE_INPUT_TAGS = ("hide-input", "remove-input")
HIDE_OUTPUT_TAGS = ("hide-output", "remove-output")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
FIGURE_TAG = "slides-figure"  # added by prepare(): code beside its figure (see theme.css)
IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")
BESIDE_MAX_WIDTH = 850  # px; a wider figure goes below its code, at full slide width
LONG_FIGURE_CODE = 8  # lines; more above a figure earns a hint to tag the cell hide-input

# reveal.js and MathJax come from PyPI wheels that ship them, so a deck needs no CDN.
REVEAL_WHEEL = ("sphinx-revealjs", "3.2.1", "sphinx_revealjs/_static/revealjs/")
MATHJAX_WHEEL = ("jupyter-server-mathjax", "0.2.6", "jupyter_server_mathjax/static/")
MATHJAX_URL = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

TITLE_RE = re.compile(r"^#\s+(\d+)\s*[·.:-]\s*(.+?)\s*$", re.MULTILINE)
BADGE_RE = re.compile(r"^\s*\[!\[[^\]]*\]\([^)]*\)\]\([^)]*\)\s*$")
GOALS_RE = re.compile(r"^\s*\*\*([^*]+?)\*\*:?\s*$")
BULLET_RE = re.compile(r"^\s*[-*]\s+(.*\S)\s*$")
MATH_RE = re.compile(r"\$\$|(?<![\\$])\$[^$\n]+\$|\\\(|\\\[|\\begin\{")
REMOTE_RE = re.compile(
    r"""<(?:script|img|iframe|source|video|audio)\b[^>]*\bsrc\s*=\s*["']?(?:https?:)?//[^"'\s>]+"""
    r"""|<link\b[^>]*\bhref\s*=\s*["']?(?:https?:)?//[^"'\s>]+"""
    r"""|@import\s+(?:url\()?["']?(?:https?:)?//[^"')\s;]+"""
    r"""|url\(\s*["']?(?:https?:)?//[^"')\s]+""",
    re.IGNORECASE,
)


@dataclass
class TitleInfo:
    """What the title slide shows, read from a notebook's first markdown cell."""

    number: str
    title: str
    goals_heading: str = "Learning goals"
    goals: list[str] = field(default_factory=list)
    intro: str = ""


@dataclass
class Deck:
    """One built deck: where it is and what it holds."""

    name: str
    number: str
    title: str
    slides: int
    html: Path
    pdf: Path | None = None
    warnings: list[str] = field(default_factory=list)


def lecture_notebooks(folder: Path) -> list[Path]:
    """The lecture notebooks (NN_name.ipynb) in `folder`, in lecture order."""
    return sorted(Path(folder).glob(NOTEBOOK_GLOB))


def parse_title(source: str) -> TitleInfo | None:
    """Lecture number, title, learning goals and intro from a `# NN · Title` markdown cell."""
    match = TITLE_RE.search(source)
    if not match:
        return None
    info = TitleInfo(number=match.group(1), title=match.group(2))
    lines = source[match.end() :].splitlines()
    intro, goals_at = [], None
    for i, line in enumerate(lines):
        heading = GOALS_RE.match(line)
        if heading and _bullets(lines[i + 1 :]):
            goals_at = i
            if "goal" in heading.group(1).lower():
                break  # "Learning goals" wins over any other bold list heading
    for line in lines[:goals_at]:
        if not BADGE_RE.match(line):
            intro.append(line)
    if goals_at is not None:
        info.goals_heading = GOALS_RE.match(lines[goals_at]).group(1).strip().rstrip(":")
        info.goals = _bullets(lines[goals_at + 1 :])
    info.intro = "\n".join(intro).strip()
    return info


def _bullets(lines: list[str]) -> list[str]:
    """The bullet items at the top of `lines` (blank lines before the first, wrapped items allowed)."""
    items = []
    for line in lines:
        bullet = BULLET_RE.match(line)
        if bullet:
            items.append(bullet.group(1))
        elif items and line.strip():
            items[-1] += " " + line.strip()  # an item that wraps onto the next line
        elif line.strip() or items:
            break
    return items


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def slide_type(cell) -> str:
    """A cell's `slideshow.slide_type` ("-" where it has none)."""
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-") or "-"


def prepare(notebook: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, TitleInfo | None]:
    """A copy of `notebook` ready for the deck: dropped cells gone, outputs trimmed, title cell marked."""
    nb = copy.deepcopy(notebook)
    nb.metadata.pop("widgets", None)
    nb.cells = [c for c in nb.cells if not (_tags(c) & set(DROP_TAGS)) and slide_type(c) != "skip"]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [_trim(o) for o in cell.outputs if _keep_output(o)]
            tags = _tags(cell)
            hidden = tags & {*HIDE_INPUT_TAGS, *HIDE_OUTPUT_TAGS}
            width = _figure_width(cell)
            if width and width <= BESIDE_MAX_WIDTH and cell.source.strip() and not hidden:
                cell.metadata["tags"] = [*cell.metadata.get("tags", []), FIGURE_TAG]
    info = None
    first = next((c for c in nb.cells if slide_type(c) != "notes"), None)
    if first is not None and first.cell_type == "markdown":
        info = parse_title(first.source)
        if info is not None:
            first.metadata["course_title"] = info.__dict__
    return nb, info


def _keep_output(output) -> bool:
    """Warnings, progress bars and widget-only outputs have no place on a slide."""
    if output.get("output_type") == "stream":
        return output.get("name") != "stderr"
    data = output.get("data", {})
    return not (WIDGET_MIME in data and set(data) <= {WIDGET_MIME, "text/plain"})


def _figure_width(cell) -> int:
    """Displayed width in px of the widest PNG among a code cell's outputs (0: none)."""
    widths = [0]
    for output in cell.outputs:
        png = output.get("data", {}).get("image/png")
        if png:
            shown = output.get("metadata", {}).get("image/png", {}).get("width")
            header = base64.b64decode(png.replace("\n", "")[:32])  # IHDR: width at bytes 16-20
            widths.append(int(shown or int.from_bytes(header[16:20], "big")))
    return max(widths)


def has_image(cell) -> bool:
    """Whether a code cell shows a picture."""
    return any(set(IMAGE_MIMES) & set(o.get("data", {})) for o in cell.get("outputs", []))


def _trim(output):
    output.get("data", {}).pop(WIDGET_MIME, None)
    return output


def has_math(nb: nbformat.NotebookNode) -> bool:
    """Whether any markdown cell holds TeX that MathJax must typeset."""
    return any(c.cell_type == "markdown" and MATH_RE.search(c.source) for c in nb.cells)


def count_slides(nb: nbformat.NotebookNode) -> int:
    """Slides plus subslides of a prepared notebook, the way nbconvert's reveal exporter cuts it."""
    visible = [c for c in nb.cells if slide_type(c) not in ("notes", "skip")]
    starts = sum(slide_type(c) in ("slide", "subslide") for c in visible)
    return starts + (1 if visible and slide_type(visible[0]) not in ("slide", "subslide") else 0)


def exporter(math: bool) -> SlidesExporter:
    """nbconvert's SlidesExporter on the course template, pointed at the local reveal.js."""
    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_input_tags = set(HIDE_INPUT_TAGS)
    config.TagRemovePreprocessor.remove_all_outputs_tags = set(HIDE_OUTPUT_TAGS)
    config.TemplateExporter.exclude_input_prompt = True
    config.TemplateExporter.exclude_output_prompt = True
    config.SlidesExporter.reveal_url_prefix = "reveal.js"
    config.SlidesExporter.reveal_width = str(WIDTH)
    config.SlidesExporter.reveal_height = str(HEIGHT)
    config.SlidesExporter.reveal_transition = "none"
    config.HTMLExporter.mathjax_url = MATHJAX_URL if math else ""
    config.HTMLExporter.embed_images = True  # markdown images too, so a deck is one file
    return SlidesExporter(
        config=config,
        extra_template_basedirs=[str(SLIDES_DIR / "templates")],
        template_name="course",
    )


def export_deck(path: Path, out_dir: Path) -> Deck:
    """Write `out_dir/<notebook name>.html`, a deck of the notebook at `path`."""
    notebook = nbformat.read(path, as_version=4)
    nb, info = prepare(notebook)
    name = path.stem
    number, title = (info.number, info.title) if info else (name[:2], name[3:].replace("_", " "))
    math = has_math(nb)
    resources = {
        "metadata": {"name": name, "path": str(_image_folder(path))},
        "course": {
            "name": COURSE_NAME,
            "number": number,
            "title": title,
            "math": math,
            "theme_css": (SLIDES_DIR / "theme.css").read_text(encoding="utf-8"),
        },
    }
    body, _ = exporter(math).from_notebook_node(nb, resources=resources)
    remote = remote_references(body)
    if remote:
        raise ValueError(f"{path.name}: the deck would load from the network: {remote[:5]}")
    target = out_dir / f"{name}.html"
    target.write_text(body, encoding="utf-8")
    deck = Deck(name=name, number=number, title=title, slides=count_slides(nb), html=target)
    deck.warnings = deck_warnings(nb, info, deck.slides)
    return deck


def deck_warnings(nb: nbformat.NotebookNode, info: TitleInfo | None, slides: int) -> list[str]:
    """What in the notebook's slide metadata makes a poor deck (the build still goes on)."""
    warnings = []
    if info is None:
        warnings.append("first cell is not a `# NN · Title` markdown cell: no title slide")
    visible = [c for c in nb.cells if slide_type(c) != "notes"]
    if len(visible) > 1 and slide_type(visible[1]) not in ("slide", "subslide"):
        warnings.append(
            "cells after the title share its slide and run off it: "
            "give the cell after the title slide_type 'slide'"
        )
    long_code = sum(
        c.cell_type == "code"
        and has_image(c)
        and len(c.source.splitlines()) > LONG_FIGURE_CODE
        and not _tags(c) & set(HIDE_INPUT_TAGS)
        for c in nb.cells
    )
    if long_code:
        warnings.append(
            f"{long_code} figure(s) below more than {LONG_FIGURE_CODE} lines of code: "
            "tag those cells hide-input where only the figure matters"
        )
    if slides > MAX_SLIDES:
        warnings.append(f"{slides} slides, more than {MAX_SLIDES}: mark some cells 'skip' or '-'")
    return warnings


def _image_folder(path: Path) -> Path:
    """Where the notebook's markdown images live: beside the source notebook in notebooks/."""
    source = ROOT / "notebooks" / path.name
    return source.parent if source.is_file() else path.parent


def remote_references(page: str) -> list[str]:
    """Scripts, styles, images and fonts that `page` would fetch from another host."""
    return REMOTE_RE.findall(page)


def vendor_assets(out_dir: Path, cache_dir: Path, math: bool) -> None:
    """Copy reveal.js (and MathJax when a deck needs it) into `out_dir` from their PyPI wheels."""
    _copy_from_wheel(REVEAL_WHEEL, cache_dir, out_dir / "reveal.js")
    if math:
        _copy_from_wheel(MATHJAX_WHEEL, cache_dir, out_dir / "mathjax")
    else:
        shutil.rmtree(out_dir / "mathjax", ignore_errors=True)


def _copy_from_wheel(wheel: tuple[str, str, str], cache_dir: Path, target: Path) -> None:
    package, version, prefix = wheel
    unpacked = cache_dir / f"{package}-{version}"
    if not (unpacked / "COMPLETE").exists():
        archive = _download_wheel(package, version, cache_dir)
        shutil.rmtree(unpacked, ignore_errors=True)
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                if member.startswith(prefix) and not member.endswith((".map", ".scss", "/")):
                    dest = unpacked / member[len(prefix) :]
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(zf.read(member))
        (unpacked / "COMPLETE").touch()
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(unpacked, target, ignore=shutil.ignore_patterns("COMPLETE"))


def _download_wheel(package: str, version: str, cache_dir: Path) -> Path:
    """The wheel of `package==version` from pip's configured index (kept in `cache_dir`)."""
    stem = f"{package.replace('-', '_')}-{version}-"
    found = sorted(cache_dir.glob(f"{stem}*.whl"))
    if not found:
        cache_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q"]
        cmd += ["--disable-pip-version-check", "-d", str(cache_dir), f"{package}=={version}"]
        result = subprocess.run(cmd, capture_output=True, text=True)
        found = sorted(cache_dir.glob(f"{stem}*.whl"))
        if result.returncode or not found:
            raise RuntimeError(
                f"could not download {package}=={version} from PyPI (it ships the files the decks "
                f"load offline):\n{result.stderr.strip()}"
            )
    return found[-1]


def write_index(decks: list[Deck], out_dir: Path) -> Path:
    """index.html listing every deck with its PDF."""
    rows = []
    for deck in decks:
        pdf = f' · <a href="{deck.pdf.name}">PDF</a>' if deck.pdf else ""
        rows.append(
            f'<li><span class="num">{deck.number}</span> <a href="{deck.html.name}">'
            f'{html.escape(deck.title)}</a> <span class="meta">{deck.slides} slide{"s" * (deck.slides != 1)}{pdf}</span></li>'
        )
    page = (SLIDES_DIR / "templates" / "index.html").read_text(encoding="utf-8")
    page = page.replace("{{course}}", html.escape(COURSE_NAME)).replace(
        "{{decks}}", "\n".join(rows)
    )
    page = page.replace("{{theme}}", (SLIDES_DIR / "theme.css").read_text(encoding="utf-8"))
    target = out_dir / "index.html"
    target.write_text(page, encoding="utf-8")
    return target


def find_chromium() -> str | None:
    """The path of a Chromium (or Chrome) executable, or None."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def print_pdfs(pages: list[tuple[Path, Path]], chromium: str) -> None:
    """Print each (deck HTML, PDF) pair one slide per page: headless Chromium, reveal's ?print-pdf.

    Driven through Playwright, which waits until reveal.js has laid out the print pages; Chromium's
    own --print-to-pdf often prints before that (a blank page).
    """
    from playwright.sync_api import sync_playwright

    args = [flag for flag in CHROMIUM_FLAGS if flag != "--headless"]  # Playwright adds its own
    with (
        tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch_persistent_context(
            profile, executable_path=chromium, headless=True, args=args
        )
        print_pages(browser, pages)
        browser.close()


def print_pages(browser, pages: list[tuple[Path, Path]], attempts: int = 3) -> None:
    """Print with an open Playwright browser (or context), one PDF page per slide, checked."""
    for deck_html, pdf in pages:
        for _ in range(attempts):
            slides = _print(browser, deck_html, pdf)
            # Now and then (2 prints in 135 here) Chromium still prints the screen view as a
            # single page although reveal.js had laid out every print page: print it again.
            if pdf_page_count(pdf) == slides:
                break
        else:
            raise RuntimeError(
                f"{pdf}: Chromium printed {pdf_page_count(pdf)} pages for {slides} slides "
                f"{attempts} times; open the deck with ?print-pdf and print it by hand"
            )


def _print(browser, deck_html: Path, pdf: Path) -> int:
    """Print `deck_html` in reveal.js's print view to `pdf`; the number of slides it laid out."""
    page = browser.new_page()
    page.goto(deck_html.resolve().as_uri() + "?print-pdf")
    page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=60_000)
    page.wait_for_function("document.fonts.status === 'loaded'", timeout=60_000)
    # reveal.js lays out the print pages after it reports ready; printing earlier gives one page.
    page.wait_for_function(
        "document.querySelectorAll('.pdf-page').length >= Reveal.getTotalSlides()",
        timeout=60_000,
    )
    slides = page.evaluate("Reveal.getTotalSlides()")
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    page.close()
    return slides


def pdf_page_count(pdf: Path) -> int:
    """Pages of a PDF that Chromium wrote (it lists every page object uncompressed)."""
    return len(re.findall(rb"/Type\s*/Page\b", pdf.read_bytes()))


def pdf_printer() -> tuple[str | None, str]:
    """The Chromium that prints the PDFs, or None with what is missing."""
    chromium = find_chromium()
    if chromium is None:
        names = ", ".join(CHROMIUM_NAMES)
        return None, f"no Chromium found (looked for {names}); on Debian: apt-get install chromium"
    if importlib.util.find_spec("playwright") is None:
        return None, "the Python package playwright is missing: pip install playwright"
    return chromium, ""


def build(
    source: Path, out_dir: Path, pdf: bool = True, cache_dir: Path | None = None
) -> list[Deck]:
    """Decks (and PDFs where Chromium is found) of every lecture notebook in `source`."""
    notebooks = lecture_notebooks(source)
    if not notebooks:
        raise FileNotFoundError(f"no lecture notebooks ({NOTEBOOK_GLOB}) in {source}")
    out_dir.mkdir(parents=True, exist_ok=True)
    cache_dir = cache_dir or ROOT / "build" / "cache" / "slides"
    math = any(has_math(prepare(nbformat.read(p, as_version=4))[0]) for p in notebooks)
    vendor_assets(out_dir, cache_dir, math)
    decks = [export_deck(path, out_dir) for path in notebooks]
    for deck in decks:
        print(f"{deck.html}: {deck.slides} slides")
        for warning in deck.warnings:
            print(f"  warning: {deck.name}: {warning}", file=sys.stderr)
    chromium, missing = pdf_printer() if pdf else (None, "")
    if missing:
        print(f"PDFs skipped: {missing}", file=sys.stderr)
    if chromium:
        for deck in decks:
            deck.pdf = out_dir / f"{deck.name}.pdf"
        print_pdfs([(deck.html, deck.pdf) for deck in decks], chromium)
        print(f"{len(decks)} PDFs printed with {chromium}")
    write_index(decks, out_dir)
    (out_dir / "decks.json").write_text(
        json.dumps([{"name": d.name, "slides": d.slides} for d in decks], indent=1) + "\n"
    )
    return decks


def main(argv: list[str] | None = None) -> int:
    """Command line: build the decks, print where they are."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, default=ROOT / "build" / "notebooks")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "slides")
    parser.add_argument("--no-pdf", action="store_true", help="HTML decks only")
    args = parser.parse_args(argv)
    decks = build(args.source, args.out, pdf=not args.no_pdf)
    print(f"{len(decks)} decks: open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
