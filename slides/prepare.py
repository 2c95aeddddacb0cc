"""A lecture notebook made ready for its deck: title slide, dropped cells, trimmed outputs, warnings."""

from __future__ import annotations

import base64
import copy
import re
from dataclasses import dataclass, field

from nbconvert.preprocessors import TagRemovePreprocessor
from nbformat import NotebookNode

from utils.defaults import INSTALL_TAG, REMOVE_TAG

MAX_SLIDES = 25  # slides + subslides; more earns a warning

# Cells that never reach a deck, and cells whose input or output is hidden on it.
DROP_TAGS = (INSTALL_TAG, "skip", REMOVE_TAG)
HIDE_INPUT_TAGS = ("hide-input", "remove-input")
HIDE_OUTPUT_TAGS = ("hide-output", "remove-output")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
FIGURE_TAG = "slides-figure"  # added by prepare(): code beside its figure (see theme.css)
IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")
BESIDE_MAX_WIDTH = 850  # px; a wider figure goes below its code, at full slide width
LONG_FIGURE_CODE = 8  # lines; more above a figure earns a hint to tag the cell hide-input

TITLE_RE = re.compile(r"^#\s+(\d+)\s*[·.:-]\s*(.+?)\s*$", re.MULTILINE)
BADGE_RE = re.compile(r"^\s*\[!\[[^\]]*\]\([^)]*\)\]\([^)]*\)\s*$")
GOALS_RE = re.compile(r"^\s*\*\*([^*]+?)\*\*:?\s*$")
BULLET_RE = re.compile(r"^\s*[-*]\s+(.*\S)\s*$")
MATH_RE = re.compile(r"\$\$|(?<![\\$])\$[^$\n]+\$|\\\(|\\\[|\\begin\{")


@dataclass
class TitleInfo:
    """What the title slide shows, read from a notebook's first markdown cell."""

    number: str
    title: str
    goals_heading: str = "Learning goals"
    goals: list[str] = field(default_factory=list)
    intro: str = ""


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


def _tags(cell: NotebookNode) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def slide_type(cell: NotebookNode) -> str:
    """A cell's `slideshow.slide_type` ("-" where it has none)."""
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-") or "-"


def prepare(notebook: NotebookNode) -> tuple[NotebookNode, TitleInfo | None]:
    """A copy of `notebook` ready for the deck: dropped cells gone, outputs trimmed, title cell marked."""
    nb = copy.deepcopy(notebook)
    nb.metadata.pop("widgets", None)
    nb, _ = TagRemovePreprocessor(remove_cell_tags=set(DROP_TAGS)).preprocess(nb, {})
    nb.cells = [c for c in nb.cells if slide_type(c) != "skip"]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [trim_output(o) for o in cell.outputs if keep_output(o)]
            hidden = _tags(cell) & {*HIDE_INPUT_TAGS, *HIDE_OUTPUT_TAGS}
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


def keep_output(output: NotebookNode) -> bool:
    """Warnings, progress bars and widget-only outputs have no place on a slide (nor on the site)."""
    if output.get("output_type") == "stream":
        return output.get("name") != "stderr"
    data = output.get("data", {})
    return not (WIDGET_MIME in data and set(data) <= {WIDGET_MIME, "text/plain"})


def _figure_width(cell: NotebookNode) -> int:
    """Displayed width in px of the widest PNG among a code cell's outputs (0: none)."""
    widths = [0]
    for output in cell.outputs:
        png = output.get("data", {}).get("image/png")
        if png:
            shown = output.get("metadata", {}).get("image/png", {}).get("width")
            header = base64.b64decode(png.replace("\n", "")[:32])  # IHDR: width at bytes 16-20
            widths.append(int(shown or int.from_bytes(header[16:20], "big")))
    return max(widths)


def trim_output(output: NotebookNode) -> NotebookNode:
    """The output without its widget view (the plain text or picture beside it stays)."""
    output.get("data", {}).pop(WIDGET_MIME, None)
    return output


def has_image(cell: NotebookNode) -> bool:
    """Whether a code cell shows a picture."""
    return any(set(IMAGE_MIMES) & set(o.get("data", {})) for o in cell.get("outputs", []))


def has_math(nb: NotebookNode) -> bool:
    """Whether any markdown cell holds TeX that MathJax must typeset."""
    return any(c.cell_type == "markdown" and MATH_RE.search(c.source) for c in nb.cells)


def count_slides(nb: NotebookNode) -> int:
    """Slides plus subslides of a prepared notebook, the way nbconvert's reveal exporter cuts it."""
    visible = [c for c in nb.cells if slide_type(c) not in ("notes", "skip")]
    starts = sum(slide_type(c) in ("slide", "subslide") for c in visible)
    return starts + (1 if visible and slide_type(visible[0]) not in ("slide", "subslide") else 0)


def deck_warnings(nb: NotebookNode, info: TitleInfo | None, slides: int) -> list[str]:
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
