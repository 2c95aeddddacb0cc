"""Hygiene of the committed notebooks: outputs, first cells, lecture structure, metadata, editions."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from utils import editions

NOTEBOOKS = editions.course_notebooks()
LECTURES = [path for path in NOTEBOOKS if int(path.name[:2]) >= 1]
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}
PERSONAL_PATHS = ("/home/", "/root/", "/work/", "/Users/", "C:\\\\Users")
NOISE_RE = re.compile(r"0x[0-9a-f]{6,}|\d+(\.\d+)?\s*it/s|\r")  # addresses, progress bars


def read(path: Path):
    """The notebook at `path`, as nbformat version 4."""
    return nbformat.read(path, as_version=4)


def code_cells(notebook) -> list:
    """The code cells of `notebook`."""
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def is_heading(cell, word: str) -> bool:
    """Whether a markdown cell has a heading or bold line starting with `word`."""
    pattern = rf"^(#+ *|\*\*){word}"
    return cell.cell_type == "markdown" and bool(re.search(pattern, cell.source, re.I | re.M))


def by_name(paths: list[Path]) -> dict:
    """Parametrize over notebook paths, with the file name as test id."""
    return {"argvalues": paths, "ids": [path.name for path in paths]}


def test_the_setup_notebook_exists():
    assert (editions.ROOT / "notebooks" / "00_setup.ipynb") in NOTEBOOKS


@pytest.mark.parametrize("path", **by_name(NOTEBOOKS))
def test_outputs_only_in_checked_cells(path):
    notebook = read(path)
    nbformat.validate(notebook)
    for index, cell in enumerate(code_cells(notebook)):
        where = f"{path.name}, code cell {index}"
        if not editions.is_checked(cell):
            assert cell.outputs == [], (
                f"{where}: outputs committed; run `python -m utils.editions strip`"
            )
            assert cell.execution_count is None, f"{where}: stale execution count"
            continue
        assert cell.outputs, f"{where} is tagged nbval-check-output but has no output to check"
        assert all(out.output_type != "error" for out in cell.outputs), f"{where}: error output"
        counts = {out.get("execution_count") for out in cell.outputs} - {None}
        assert counts <= {cell.execution_count}, f"{where}: execution count differs from its result"
        text = nbformat.writes(nbformat.v4.new_notebook(cells=[cell]))
        assert not NOISE_RE.search(text), f"{where}: checked output has an address or progress bar"


@pytest.mark.parametrize("path", **by_name(NOTEBOOKS))
def test_first_cells_follow_the_setup_pattern(path):
    notebook = read(path)
    settings = editions.course_settings()
    title, install, setup = notebook.cells[:3]
    assert title.cell_type == "markdown" and title.source.startswith(f"# {path.name[:2]} · ")
    assert editions.badge(path.name, settings) in title.source, "stale badge: run `make badges`"
    url = re.search(r"\]\((https://colab\.research\.google\.com/github/[^)]+)\)", title.source)[1]
    target = url.split(f"/blob/{settings['branch']}/", 1)[1]
    assert target == f"notebooks/{path.name}" and (editions.ROOT / target).is_file()
    assert install.cell_type == "code" and editions.has_tag(install, editions.INSTALL_TAG)
    assert install.source == editions.install_cell_source(settings), "run `make badges`"
    assert setup.cell_type == "code" and "cfg = utils.setup()" in setup.source


@pytest.mark.parametrize("path", **by_name(LECTURES))
def test_lecture_has_goals_recap_and_exercises(path):
    cells = read(path).cells
    goals = re.search(r"learning goals\W*\n((?:\s*[-*] .*\n?)+)", cells[0].source, re.IGNORECASE)
    assert goals, "the first cell needs **Learning goals** as a bullet list"
    assert 3 <= len(goals[1].strip().splitlines()) <= 5, "3-5 learning goals"
    assert any(is_heading(cell, "recap") for cell in cells), "no Recap heading"
    heading = next((i for i, c in enumerate(cells) if is_heading(c, "exercise")), None)
    assert heading is not None, "no Exercises heading"
    solutions = [i for i, cell in enumerate(cells) if editions.has_tag(cell, editions.SOLUTION_TAG)]
    assert 2 <= len(solutions) <= 4, f"{len(solutions)} solution cells; a lecture has 2-4 exercises"
    assert all(i > heading for i in solutions), "solution cells belong under the Exercises"
    for i in solutions:
        assert cells[i].cell_type == "code", f"cell {i}: a solution is a code cell"
        assert cells[i - 1].cell_type == "markdown", f"cell {i}: a task markdown cell comes first"
        kind = cells[i].metadata.get("slideshow", {}).get("slide_type")
        assert kind == "skip", f"cell {i}: solutions stay off the slides (slide_type 'skip')"


@pytest.mark.parametrize("path", **by_name(NOTEBOOKS))
def test_every_cell_has_slide_metadata(path):
    for index, cell in enumerate(read(path).cells):
        slide_type = cell.metadata.get("slideshow", {}).get("slide_type")
        assert slide_type in SLIDE_TYPES, f"{path.name}, cell {index}: slide_type {slide_type!r}"


@pytest.mark.parametrize("path", **by_name(NOTEBOOKS))
def test_metadata_is_clean(path):
    text = path.read_text(encoding="utf-8")
    notebook = nbformat.reads(text, as_version=4)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    assert "widgets" not in notebook.metadata
    assert "application/vnd.jupyter.widget" not in text, "widget output committed"
    for personal in PERSONAL_PATHS:
        assert personal not in text, f"{path.name} contains the personal path {personal}"
    for index, cell in enumerate(notebook.cells):
        assert "execution" not in cell.metadata, f"cell {index}: run timings; strip the notebook"


@pytest.mark.parametrize("path", **by_name(NOTEBOOKS))
def test_student_edition_is_valid_and_solution_free(path):
    teacher = read(path)
    student = editions.student_edition(teacher)
    nbformat.validate(student)
    left_out = (editions.INSTRUCTOR_TAG, editions.REMOVE_TAG)
    kept = [c for c in teacher.cells if not any(editions.has_tag(c, t) for t in left_out)]
    assert [c.cell_type for c in student.cells] == [c.cell_type for c in kept]
    assert not any("ask the" in c.source.lower() for c in student.cells), "an instructor prompt"
    for old, new in zip(kept, student.cells):
        assert not editions.has_tag(new, editions.SOLUTION_TAG)
        assert not editions.has_tag(new, editions.CHECKED_TAG), "nbval's tag in the student copy"
        assert "#| export" not in new.source, "an export marker in the student copy"
        if not editions.has_tag(old, editions.SOLUTION_TAG):
            exported = old.source.startswith("#| export ")
            assert new.source == (old.source.partition("\n")[2] if exported else old.source)
            continue
        hidden = editions.hidden_lines(old.source)
        code = [ln for ln in hidden if ln.strip() and not ln.lstrip().startswith("#")]
        leaked = [line for line in code if line in new.source]
        assert not leaked, f"{path.name}: solution code in the student edition: {leaked}"
    assert all(not c.outputs and c.execution_count is None for c in code_cells(student))


# A number that reads a model result (a percentage, a score such as 0.63, a gap in points) in a
# lecture's prose must come from the run (a cell writes that sentence) or say where it comes from.
RESULT_RE = re.compile(
    r"(?<![\w.])[+-]?\d+(?:\.\d+)?(?:\s?%|\s+(?:accuracy\s+)?points?\b)"  # 70.1%, 5 points
    r"|(?<![\w.])[+-]\d+\.\d+"  # a signed gap: +3.4
    r"|\b\d+\.\d+[-–]\d+\.\d+\b"  # a range: 30.2-39.7
    r"|(?<![\w.])0\.\d+\b"  # a score: 0.63
)
NOT_RESULTS = {"0%", "95%", "100%"}  # a confidence level or a bound, not a measurement
SOURCE_LABELS = ("the book", "our full offline run")


def unlabelled_results(markdown: str) -> list[str]:
    """Result-like numbers of `markdown` whose paragraph or list item names no source."""
    found = []
    for part in re.split(r"\n\s*\n|\n(?=\s*(?:[-*]|\d+\.) )", markdown):
        if any(label in part.lower() for label in SOURCE_LABELS):
            continue
        found += [m.group().strip() for m in RESULT_RE.finditer(part)]
    return [number for number in found if number not in NOT_RESULTS]


def test_the_result_rule_catches_unlabelled_numbers():
    assert unlabelled_results("We measured **70.1% accuracy**, macro F1 0.63.") == ["70.1%", "0.63"]
    assert unlabelled_results("The gap: +3.4 to +7.3 points.") == ["+3.4", "+7.3 points"]
    assert unlabelled_results("- our full offline run (README): 70.1%\n- the rest: 12%") == ["12%"]
    assert unlabelled_results("The book reports 63.3%.\n\nA 95% interval, 3 layers, lr 1e-4.") == []


@pytest.mark.parametrize("path", **by_name(LECTURES))
def test_prose_states_no_unlabelled_result(path):
    for index, cell in enumerate(read(path).cells):
        if cell.cell_type == "markdown":
            numbers = unlabelled_results(cell.source)
            assert not numbers, (
                f"{path.name}, cell {index} states {numbers} without a source: write the sentence "
                "from the run's variables in a cell, or say 'the book' / 'our full offline run "
                "(README)'"
            )
