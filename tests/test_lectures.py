"""Every lecture notebook, executed under nbval once per profile (CI-sized, each notebook alone)."""

import re

import nbformat
import pytest

from utils import editions

NOTEBOOKS = [path.name for path in editions.course_notebooks()]


def printed(executed_notebook, marker: str) -> str:
    """What the cells whose source contains `marker` printed, in an executed notebook."""
    notebook = nbformat.read(executed_notebook, as_version=4)
    return "".join(
        out.get("text", "")
        for cell in notebook.cells
        if marker in cell.source
        for out in cell.outputs
    )


def error_outputs(executed_notebook) -> list:
    """The error outputs (tracebacks) of every code cell of an executed notebook."""
    notebook = nbformat.read(executed_notebook, as_version=4)
    return [
        out
        for cell in notebook.cells
        for out in cell.get("outputs", [])
        if out.output_type == "error"
    ]


@pytest.mark.slow
def test_every_notebook_passes_nbval(lectures):
    profile = lectures.profile
    assert lectures.wait() == 0, f"nbval failed in the {profile} profile:\n{lectures.report}"
    for name in NOTEBOOKS:
        errors = error_outputs(lectures.notebook(name))
        assert not errors, f"{name} ({profile}): {errors[0].ename}: {errors[0].evalue}"


@pytest.mark.slow
def test_setup_reports_the_profile(lectures):
    profile = lectures.profile
    report = printed(lectures.notebook("00_setup.ipynb"), "utils.setup()")
    assert f"profile      : {profile}" in report, report


@pytest.mark.slow
def test_online_lecture_6_scores_the_published_classifier(online_lectures):
    comparison = printed(online_lectures.notebook("06_fine_tuning.ipynb"), "HUB_CLASSIFIER")
    assert "bhadresh-savani/distilbert-base-uncased-emotion: accuracy" in comparison, comparison


@pytest.mark.slow
def test_lecture_7_runs_the_nli_pipeline_online_and_skips_it_offline(lectures):
    said = printed(lectures.notebook("07_how_many_labels.ipynb"), "NLI_MODEL")
    if lectures.profile == "online":
        assert "NLI pipeline (typeform/distilbert-base-uncased-mnli):" in said, said
        assert "description similarity, same tweets:" in said, said
    else:
        assert (
            said.strip() == "The NLI pipeline downloads a model from the Hub: skipped offline."
        ), said


@pytest.mark.slow
def test_lecture_7_measures_its_points_and_draws_the_curve(lectures):
    executed = nbformat.read(lectures.notebook("07_how_many_labels.ipynb"), as_version=4)
    said = printed(lectures.notebook("07_how_many_labels.ipynb"), "len(points)} points")
    # CI-sized: random budgets of 48 and 192 tweets and the whole split, 3 seeds, 3 methods
    assert re.search(r"^27 points, \d+ s$", said, re.MULTILINE), said
    readings = [
        "".join(out.get("data", {}).get("text/markdown", ""))
        for cell in executed.cells
        for out in cell.get("outputs", [])
    ]
    assert any("Every point was measured." in r for r in readings), "no limit on a CI-sized run"
    figure = next(c for c in executed.cells if "references=references" in c.source)
    assert any("image/png" in out.get("data", {}) for out in figure.outputs)


CHECK_LINE = re.compile(
    r"^(\S+) Exercise (\d+)\.(\d+) \(.*?\) (correct|incorrect|not attempted): ", re.M
)


def check_lines(executed_notebook) -> list[tuple[int, str, str]]:
    """(exercise number, status, the code cell's source) of every check line the notebook printed."""
    notebook = nbformat.read(executed_notebook, as_version=4)
    found = []
    for cell in notebook.cells:
        text = "".join(out.get("text", "") for out in cell.get("outputs", []))
        found += [(int(m[3]), m[4], cell.source) for m in CHECK_LINE.finditer(text)]
    return found


@pytest.mark.slow
def test_every_exercise_of_the_teacher_edition_prints_correct(lectures):
    assert lectures.wait() == 0, lectures.report
    for name in NOTEBOOKS[1:]:
        lines = check_lines(lectures.notebook(name))
        called = {
            int(n)
            for cell in nbformat.read(lectures.notebook(name), as_version=4).cells
            if "solution" in cell.metadata.get("tags", [])
            for n in re.findall(r"ex\.q(\d+)\.check\(", cell.source)
        }
        assert called, f"{name}: no exercise calls check"
        assert {n for n, status, _ in lines if status == "correct"} == called, (
            f"{name} ({lectures.profile}): {[(n, s) for n, s, _ in lines]}"
        )
        assert all(status == "correct" for _, status, _ in lines), lines


@pytest.mark.slow
def test_every_student_notebook_runs_untouched_and_says_not_attempted(student_lectures):
    assert student_lectures.wait() == 0, f"a student notebook failed:\n{student_lectures.report}"
    for name in NOTEBOOKS:
        executed = nbformat.read(student_lectures.notebook(name), as_version=4)
        errors = error_outputs(student_lectures.notebook(name))
        assert not errors, f"{name}: {errors[0].ename}: {errors[0].evalue}"
        stubs = [c for c in executed.cells if "exercise" in c.metadata.get("tags", [])]
        lines = check_lines(student_lectures.notebook(name))
        assert len(lines) == len(stubs), f"{name}: {len(stubs)} stubs, {len(lines)} check lines"
        assert all(status == "not attempted" for _, status, _ in lines), (name, lines)
