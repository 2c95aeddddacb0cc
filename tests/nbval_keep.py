"""A pytest plugin for nbval runs: keep each executed notebook, with its outputs, in NBVAL_KEEP_DIR.

nbval executes every cell but throws the outputs away. The slide tests need executed notebooks, so
instead of executing the lectures a second time they read the copies this plugin writes.
Use: `NBVAL_KEEP_DIR=DIR python -m pytest -p nbval_keep --nbval-lax notebooks/` (tests/ on PYTHONPATH).
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest


def _keep_dir() -> Path | None:
    folder = os.environ.get("NBVAL_KEEP_DIR")
    return Path(folder) if folder else None


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    """Store the cell's outputs in its notebook; write the notebook after its last cell."""
    folder = _keep_dir()
    if folder is None or not hasattr(item, "test_outputs"):
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
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook.nb, folder / Path(str(notebook.fspath)).name)
