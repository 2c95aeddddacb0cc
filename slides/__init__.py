"""Offline reveal.js decks (and PDFs) of the lecture notebooks; `python -m slides.build` builds them.

Modules, each imported by build only (build → the others; export → prepare, assets; index → export, assets):
prepare (notebook → deck-ready notebook), export (nbconvert), assets (reveal.js, MathJax),
index (the page listing the decks), pdf (headless Chromium).
"""
