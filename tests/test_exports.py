"""Lecture cells marked `#| export utils.<module>` and their copies in utils stay identical."""

from __future__ import annotations

import ast
import difflib
import importlib
import inspect
import re

import nbformat
import pytest

from utils import editions

MARKER = re.compile(r"\A#\| export (utils\.\w+)[ \t]*\n")
DEFINITIONS = (ast.FunctionDef, ast.ClassDef)


def exported_cells() -> list[tuple[str, int, str, str]]:
    """(notebook, cell index, module, source without the marker) of every exported cell."""
    found = []
    for path in editions.course_notebooks():
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            match = MARKER.match(cell.source) if cell.cell_type == "code" else None
            if match:
                found.append((path.name, index, match[1], cell.source[match.end() :]))
    return found


def definitions(source: str) -> dict[str, str]:
    """Top-level functions and classes of `source`, by name, with their exact text."""
    tree = ast.parse(source)
    return {
        node.name: ast.get_source_segment(source, node)
        for node in tree.body
        if isinstance(node, DEFINITIONS)
    }


EXPORTED = exported_cells()


def test_lectures_5_and_6_export_their_lesson_code():
    modules = {(name[:2], module) for name, _, module, _ in EXPORTED}
    assert ("05", "utils.evaluation") in modules
    assert ("06", "utils.finetune") in modules


@pytest.mark.parametrize(
    ("notebook", "index", "module", "source"),
    EXPORTED,
    ids=[f"{name}-cell{index}" for name, index, _, _ in EXPORTED],
)
def test_exported_cell_matches_its_module(notebook, index, module, source):
    tree = ast.parse(source)
    extra = [
        type(node).__name__
        for node in tree.body
        if not isinstance(node, (*DEFINITIONS, ast.Import, ast.ImportFrom))
    ]
    assert not extra, (
        f"{notebook} cell {index}: an exported cell holds only imports and definitions"
    )
    cell_defs = definitions(source)
    assert cell_defs, f"{notebook} cell {index}: nothing to export"
    module_defs = definitions(inspect.getsource(importlib.import_module(module)))
    for name, text in cell_defs.items():
        assert name in module_defs, f"{notebook} cell {index} exports {name}, missing in {module}"
        diff = "\n".join(
            difflib.unified_diff(
                module_defs[name].splitlines(), text.splitlines(), module, notebook, lineterm=""
            )
        )
        assert text == module_defs[name], f"{name} differs between {module} and {notebook}:\n{diff}"
