"""One deck: a prepared notebook through nbconvert's SlidesExporter on the course template."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbconvert.exporters import SlidesExporter
from traitlets.config import Config

from slides.assets import MATHJAX_URL, REVEAL_DIR
from slides.prepare import (
    HIDE_INPUT_TAGS,
    HIDE_OUTPUT_TAGS,
    count_slides,
    deck_warnings,
    has_math,
    prepare,
)
from utils.defaults import SOURCE_ROOT

SLIDES_DIR = Path(__file__).resolve().parent
THEME_CSS = SLIDES_DIR / "theme.css"
COURSE_NAME = "Text classification with transformers"
WIDTH, HEIGHT = 1280, 720

REMOTE_RE = re.compile(
    r"""<(?:script|img|iframe|source|video|audio)\b[^>]*\bsrc\s*=\s*["']?(?:https?:)?//[^"'\s>]+"""
    r"""|<link\b[^>]*\bhref\s*=\s*["']?(?:https?:)?//[^"'\s>]+"""
    r"""|@import\s+(?:url\()?["']?(?:https?:)?//[^"')\s;]+"""
    r"""|url\(\s*["']?(?:https?:)?//[^"')\s]+""",
    re.IGNORECASE,
)


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


def exporter(math: bool) -> SlidesExporter:
    """nbconvert's SlidesExporter on the course template, pointed at the local reveal.js."""
    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_input_tags = set(HIDE_INPUT_TAGS)
    config.TagRemovePreprocessor.remove_all_outputs_tags = set(HIDE_OUTPUT_TAGS)
    config.TemplateExporter.exclude_input_prompt = True
    config.TemplateExporter.exclude_output_prompt = True
    config.SlidesExporter.reveal_url_prefix = REVEAL_DIR
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
            "theme_css": THEME_CSS.read_text(encoding="utf-8"),
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


def _image_folder(path: Path) -> Path:
    """Where the notebook's markdown images live: beside the source notebook in notebooks/."""
    source = SOURCE_ROOT / "notebooks" / path.name
    return source.parent if source.is_file() else path.parent


def remote_references(page: str) -> list[str]:
    """Scripts, styles, images and fonts that `page` would fetch from another host."""
    return REMOTE_RE.findall(page)
