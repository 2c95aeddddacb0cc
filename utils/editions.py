"""Notebook housekeeping: outputs kept only where nbval checks them."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

CHECKED_TAG = "nbval-check-output"


def is_checked(cell) -> bool:
    """Whether nbval compares this cell's output."""
    return CHECKED_TAG in cell.get("metadata", {}).get("tags", [])


def strip_outputs(notebook) -> bool:
    """Clear outputs and counts of unchecked code cells; True if anything changed."""
    changed = False
    for cell in notebook.cells:
        if cell.cell_type != "code" or is_checked(cell):
            continue
        if cell.outputs or cell.execution_count is not None:
            cell.outputs, cell.execution_count = [], None
            changed = True
    return changed


def strip_files(paths: list[str]) -> list[Path]:
    """Strip every notebook in `paths` in place; return those that changed."""
    changed = []
    for path in map(Path, paths):
        notebook = nbformat.read(path, as_version=4)
        if strip_outputs(notebook):
            nbformat.write(notebook, path)
            changed.append(path)
    return changed


if __name__ == "__main__":
    command, *args = sys.argv[1:] or ["help"]
    if command == "strip":
        for path in strip_files(args or sorted(map(str, Path("notebooks").glob("*.ipynb")))):
            print(f"stripped {path}")
    else:
        sys.exit("usage: python -m utils.editions strip [NOTEBOOK ...]")
