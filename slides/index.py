"""index.html: the page that lists every deck (and its PDF), from the Jinja template index.html.j2."""

from __future__ import annotations

from pathlib import Path

import jinja2

from slides.assets import REVEAL_DIR
from slides.export import COURSE_NAME, SLIDES_DIR, THEME_CSS, Deck

TEMPLATE = "index.html.j2"  # in slides/


def render_index(decks: list[Deck]) -> str:
    """The index page listing `decks` (titles escaped), styled with the course theme."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(SLIDES_DIR),
        autoescape=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template(TEMPLATE).render(
        course=COURSE_NAME,
        decks=decks,
        reveal=REVEAL_DIR,
        theme=THEME_CSS.read_text(encoding="utf-8"),
    )


def write_index(decks: list[Deck], out_dir: Path) -> Path:
    """Write `out_dir/index.html`, listing every deck with its PDF; its path."""
    target = out_dir / "index.html"
    target.write_text(render_index(decks), encoding="utf-8")
    return target
