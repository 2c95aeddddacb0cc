"""Sphinx configuration of the course site; slides/site.py copies it into the staging folder.

The build writes `_course.json` beside it (title, repository, branch, address). Nothing here reaches
the network: notebooks are not executed, no intersphinx, MathJax and the theme's fonts are local.
"""

import json
from pathlib import Path

course = json.loads((Path(__file__).parent / "_course.json").read_text(encoding="utf-8"))

project = course["title"]
author = "the course authors"
copyright = f"{course['year']}, {author}"
html_title = course["title"]
html_baseurl = course["site"]

extensions = ["myst_nb", "sphinx_togglebutton"]
exclude_patterns = ["_build", "_student", "_course.json", ".doctrees"]
myst_enable_extensions = ["colon_fence", "dollarmath", "attrs_inline"]
myst_heading_anchors = 3

# The notebooks were executed before (make course, or the tests' nbval run): never run them here.
nb_execution_mode = "off"
nb_ipywidgets_js = {}  # no require.js or widget manager from a CDN (the build drops widget outputs)
nb_merge_streams = True

html_theme = "sphinx_book_theme"
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_extra_path = ["_extra"]  # the slide decks, copied as they are
html_copy_source = False  # the .ipynb sources would carry every figure a second time
html_show_sourcelink = False
html_last_updated_fmt = None
html_context = {"default_mode": "light"}  # figures and tables are drawn on white
html_theme_options = {
    "repository_url": course["repository"],
    "repository_branch": course["branch"],
    "use_repository_button": True,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "show_toc_level": 2,
    "home_page_in_toc": True,
}

# MathJax 2 from the jupyter-server-mathjax package, copied into _static/mathjax by the build.
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
# Its web fonts are STIX-Web only (as for the slides, slides/templates/course/index.html.j2).
mathjax2_config = {
    "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]]},
    "HTML-CSS": {
        "webFont": "STIX-Web",
        "availableFonts": [],
        "imageFont": None,
        # the blank fallback font is url('about:blank'), which pages opened as files refuse
        "styles": {"@font-face": {"font-family": "MathJax_Blank", "src": "local('MathJax_Blank')"}},
    },
    "messageStyle": "none",
    "showMathMenu": False,
}
myst_update_mathjax = False  # its settings are for MathJax 3 and 4

# The notebooks are written for Jupyter, where a heading may skip a level (H1 to H3).
suppress_warnings = ["myst.header"]
