"""Build reveal.js decks (and their PDFs) from executed lecture notebooks, for offline presenting.

python slides/build.py [--from DIR] [--out build/slides] [--no-pdf]   (or: python -m slides.build)

Slide structure comes from each cell's `slideshow.slide_type` (Jupyter's convention); see slides/README.md.
This module only orchestrates: prepare, export, assets, index and pdf do the work.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if not __package__:  # run as `python slides/build.py`: import slides/ as the package it is
    _HERE = Path(__file__).resolve().parent
    sys.path = [str(_HERE.parent), *(p for p in sys.path if Path(p).resolve() != _HERE)]

import nbformat  # noqa: E402

from slides.assets import vendor_assets  # noqa: E402
from slides.export import Deck, export_deck  # noqa: E402
from slides.index import write_index  # noqa: E402
from slides.pdf import pdf_printer, print_pdfs  # noqa: E402
from slides.prepare import has_math, prepare  # noqa: E402
from utils.defaults import NOTEBOOK_GLOB, SOURCE_ROOT  # noqa: E402


def lecture_notebooks(folder: Path) -> list[Path]:
    """The lecture notebooks (NN_name.ipynb) in `folder`, in lecture order."""
    return sorted(Path(folder).glob(NOTEBOOK_GLOB))


def build(
    source: Path, out_dir: Path, pdf: bool = True, cache_dir: Path | None = None
) -> list[Deck]:
    """Decks (and PDFs where Chromium is found) of every lecture notebook in `source`."""
    notebooks = lecture_notebooks(source)
    if not notebooks:
        raise FileNotFoundError(f"no lecture notebooks ({NOTEBOOK_GLOB}) in {source}")
    out_dir.mkdir(parents=True, exist_ok=True)
    cache_dir = cache_dir or SOURCE_ROOT / "build" / "cache" / "slides"
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
    built = SOURCE_ROOT / "build"
    parser.add_argument("--from", dest="source", type=Path, default=built / "notebooks")
    parser.add_argument("--out", type=Path, default=built / "slides")
    parser.add_argument("--no-pdf", action="store_true", help="HTML decks only")
    args = parser.parse_args(argv)
    decks = build(args.source, args.out, pdf=not args.no_pdf)
    print(f"{len(decks)} decks: open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
