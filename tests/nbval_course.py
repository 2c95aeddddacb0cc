"""A pytest plugin for nbval runs of the lectures: each on a fresh machine, each copy kept.

- NBVAL_FRESH_ROOT: every notebook's kernel starts with its own empty COURSE_CACHE_DIR under this
  folder, as on Colab, where each notebook opens on a new machine: a lecture that needs what an
  earlier one computed must recompute it.
- NBVAL_KEEP_DIR: nbval executes every cell but throws the outputs away; this writes each executed
  notebook, with its outputs, into that folder, so the slide tests need not execute them again.

Use: `python -m pytest -p nbval_course --nbval-lax notebooks/NN_*.ipynb` with tests/ on PYTHONPATH.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest


def _notebook_path(notebook) -> Path:
    return Path(str(notebook.fspath))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before the first cell of a notebook (nbval then starts its kernel): a fresh cache folder."""
    fresh = os.environ.get("NBVAL_FRESH_ROOT")
    notebook = item.parent
    if not fresh or not hasattr(item, "cell") or getattr(notebook, "_course_started", False):
        return
    notebook._course_started = True
    folder = Path(fresh) / _notebook_path(notebook).stem
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["COURSE_CACHE_DIR"] = str(folder)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    """Store the cell's outputs in its notebook; write the notebook after its last cell."""
    keep = os.environ.get("NBVAL_KEEP_DIR")
    if not keep or not hasattr(item, "test_outputs"):
        return
    notebook = item.parent
    executed = getattr(notebook, "_executed_cells", 0)
    if item.test_outputs is not None:  # None: the cell was skipped
        executed += 1
        item.cell.outputs = list(item.test_outputs)
        item.cell.execution_count = executed
        for output in item.cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = executed
    notebook._executed_cells = executed
    if nextitem is None or nextitem.parent is not notebook:
        Path(keep).mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook.nb, Path(keep) / _notebook_path(notebook).name)
