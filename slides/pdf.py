"""PDFs of the decks, one slide per page: reveal.js's print view in headless Chromium (Playwright)."""

from __future__ import annotations

import importlib.util
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

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


def find_chromium() -> str | None:
    """The path of a Chromium (or Chrome) executable, or None."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def pdf_printer() -> tuple[str | None, str]:
    """The Chromium that prints the PDFs, or None with what is missing."""
    chromium = find_chromium()
    if chromium is None:
        names = ", ".join(CHROMIUM_NAMES)
        return None, f"no Chromium found (looked for {names}); on Debian: apt-get install chromium"
    if importlib.util.find_spec("playwright") is None:
        return None, "the Python package playwright is missing: pip install playwright"
    return chromium, ""


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


def print_pages(
    browser: Browser | BrowserContext, pages: list[tuple[Path, Path]], attempts: int = 3
) -> None:
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


def _print(browser: Browser | BrowserContext, deck_html: Path, pdf: Path) -> int:
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
