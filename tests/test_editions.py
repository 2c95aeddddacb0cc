"""Student editions, Colab badges and output stripping, on small notebooks built here."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from utils import editions

SETTINGS = {
    "name": "my-course",
    "repository": "https://github.com/someone/my-course",
    "branch": "dev",
}
SOLUTION_ONE = "# Count the tweets per label.\ncounts = df.label.value_counts()\ncounts"
SOLUTION_TWO = "model = fit(features)\nmodel.score(x_valid, y_valid)"


def cell(kind: str, source: str, slide: str = "-", tags: tuple[str, ...] = ()):
    """A cell with slide metadata and tags, like the course generator makes."""
    meta = {"slideshow": {"slide_type": slide}, **({"tags": list(tags)} if tags else {})}
    make = new_code_cell if kind == "code" else new_markdown_cell
    return make(source, metadata=meta)


def executed(code_cell, text: str, count: int):
    """`code_cell` as if it had run: a count, one stream output and run timings."""
    code_cell.execution_count = count
    code_cell.outputs = [new_output("stream", name="stdout", text=text)]
    code_cell.metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
    return code_cell


def teacher_notebook():
    """A tiny lecture: title with a stale badge, install cell, setup, two exercises with solutions."""
    cells = [
        cell(
            "markdown",
            "# 07 · Tiny\n\n[![Open In Colab](x.svg)](https://old/url)\n\nIntro.",
            "slide",
        ),
        cell("code", "print('old install cell')", "skip", ("colab-install",)),
        executed(cell("code", "import utils\n\ncfg = utils.setup()"), "profile: offline\n", 1),
        executed(
            cell("code", "sorted(['b', 'a'])", tags=("nbval-check-output",)), "['a', 'b']\n", 2
        ),
        cell("markdown", "## Exercises", "slide"),
        cell("markdown", "**Exercise 1.** Count the tweets of each emotion.", "subslide"),
        executed(cell("code", SOLUTION_ONE, tags=("solution",)), "joy 3\n", 3),
        cell(
            "markdown",
            "### Exercise 2\n\nTrain a classifier and report its accuracy. Then plot it.",
        ),
        executed(cell("code", SOLUTION_TWO, tags=("solution", "nbval-check-output")), "0.5\n", 4),
    ]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return notebook


def test_student_edition_is_valid_and_solution_free():
    teacher = teacher_notebook()
    student = editions.student_edition(teacher)
    nbformat.validate(student)
    assert len(student.cells) == len(teacher.cells)
    solution_lines = set()
    for old, new in zip(teacher.cells, student.cells):
        assert new.cell_type == old.cell_type
        assert new.metadata["slideshow"] == old.metadata["slideshow"]
        if editions.has_tag(old, "solution"):
            assert "# your code here" in new.source
            assert "solution" not in new.metadata["tags"] and "exercise" in new.metadata["tags"]
            solution_lines |= {ln for ln in old.source.splitlines() if not ln.startswith("#")}
        else:
            assert new.source == old.source  # every task and prose cell is kept word for word
        if new.cell_type == "code":
            assert new.outputs == [] and new.execution_count is None
        assert "execution" not in new.metadata
    student_text = "\n".join(c.source for c in student.cells)
    assert solution_lines and not any(line in student_text for line in solution_lines)
    assert teacher.cells[6].outputs, "the teacher edition itself must stay untouched"


def test_stubs_say_what_to_produce():
    student = editions.student_edition(teacher_notebook())
    # From the solution's leading comment, else from the task markdown before it.
    assert student.cells[6].source == "# Task: Count the tweets per label\n# your code here"
    assert (
        student.cells[8].source
        == "# Task: Train a classifier and report its accuracy\n# your code here"
    )
    assert "nbval-check-output" not in student.cells[8].metadata["tags"]


@pytest.mark.parametrize(
    ("solution", "task", "expected"),
    [
        ("# Solution: plot the matrix\nplot()", "", "plot the matrix"),
        ("# Solution\nplot()", "**Exercise 3.** Plot the loss curve.", "Plot the loss curve"),
        ("plot()", "### Exercise 1 · Duplicates\n\nDo tweets repeat?", "Duplicates"),
        ("plot()", "## Exercises\n\n**2. Class weights.** Refit it.", "Class weights"),
        (
            "x = 1  # not a leading comment",
            "Refit the model\nwith weights. Compare.",
            "Refit the model with weights",
        ),
        ("plot()", "", "the answer to the exercise above"),
    ],
)
def test_task_line(solution, task, expected):
    assert editions.task_line(solution, task) == expected


def test_write_student_writes_valid_copies(tmp_path):
    source = tmp_path / "07_tiny.ipynb"
    nbformat.write(teacher_notebook(), source)
    (written,) = editions.write_student([source], tmp_path / "student")
    assert written == tmp_path / "student" / "07_tiny.ipynb"
    nbformat.validate(nbformat.read(written, as_version=4))
    assert "counts = df" in source.read_text() and "counts = df" not in written.read_text()


def test_badges_regenerate_idempotently(tmp_path):
    path = tmp_path / "07_tiny.ipynb"
    nbformat.write(teacher_notebook(), path)
    assert editions.badge_files([path], SETTINGS, check=True) == [path]
    assert "https://old/url" in path.read_text(), "--check must not write"
    assert editions.badge_files([path], SETTINGS) == [path]
    notebook = nbformat.read(path, as_version=4)
    url = "https://colab.research.google.com/github/someone/my-course/blob/dev/notebooks/07_tiny.ipynb"
    assert (
        f"]({url})" in notebook.cells[0].source
        and "https://old/url" not in notebook.cells[0].source
    )
    assert notebook.cells[0].source.startswith("# 07 · Tiny\n\n[![Open In Colab]")
    assert "git+https://github.com/someone/my-course.git@dev" in notebook.cells[1].source
    before = path.read_text()
    assert editions.badge_files([path], SETTINGS) == []
    assert path.read_text() == before


def test_badge_added_under_title_when_missing():
    notebook = new_notebook(cells=[new_markdown_cell("# 09 · New\nSome intro.")])
    assert editions.set_badges(notebook, "09_new.ipynb", SETTINGS)
    title, blank, badge, blank2, intro = notebook.cells[0].source.split("\n")
    assert (title, blank, blank2, intro) == ("# 09 · New", "", "", "Some intro.")
    assert badge == editions.badge("09_new.ipynb", SETTINGS)
    assert not editions.set_badges(notebook, "09_new.ipynb", SETTINGS)


def test_course_settings_read_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x-course"\n[tool.emotion_course]\n'
        'repository = "https://github.com/a/b.git"\nbranch = "v1"\nsite = "https://a.github.io/b/"\n'
    )
    settings = editions.course_settings(tmp_path)
    assert settings == {
        "name": "x-course",
        "repository": "https://github.com/a/b",
        "branch": "v1",
        "site": "https://a.github.io/b/",
    }
    assert editions.colab_url("01_x.ipynb", settings).endswith(
        "/github/a/b/blob/v1/notebooks/01_x.ipynb"
    )


def run_install_cell(monkeypatch, in_colab: bool) -> list[list[str]]:
    """Run the generated install cell with pip replaced by a recorder; return the commands."""
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: calls.append(list(args)))
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(editions.install_cell_source(SETTINGS), {})
    return calls


def test_install_cell_does_nothing_outside_colab(monkeypatch, capsys):
    assert run_install_cell(monkeypatch, in_colab=False) == []
    assert capsys.readouterr().out == ""


def test_install_cell_installs_the_course_in_colab(monkeypatch, capsys):
    (command,) = run_install_cell(monkeypatch, in_colab=True)
    # A plain VCS URL: pips older than 19 reject "name @ git+..." requirements.
    source = "git+https://github.com/someone/my-course.git@dev"
    assert command == [sys.executable, "-m", "pip", "install", "-q", source]
    out = capsys.readouterr().out
    assert "Lectures 3 to 7" in out and "GPU" in out and "Change runtime type" in out


def test_install_cell_matches_the_real_project():
    settings = editions.course_settings()
    source = editions.install_cell_source(settings)
    # Colab is online: the base dependencies suffice, the offline model extra is not installed.
    assert f'"git+{settings["repository"]}.git@{settings["branch"]}"' in source
    assert "[offline]" not in source


def test_strip_outputs_keeps_checked_cells_only(tmp_path):
    notebook = teacher_notebook()
    notebook.metadata["widgets"] = {"state": {}}
    assert editions.strip_outputs(notebook)
    for code_cell in (c for c in notebook.cells if c.cell_type == "code"):
        assert "execution" not in code_cell.metadata
        checked = editions.is_checked(code_cell)
        assert bool(code_cell.outputs) == checked
        assert (code_cell.execution_count is not None) == checked
    assert "widgets" not in notebook.metadata
    assert not editions.strip_outputs(notebook)
    path = tmp_path / "07_tiny.ipynb"
    nbformat.write(teacher_notebook(), path)
    assert editions.strip_files([str(path)]) == [path]
    assert editions.strip_files([str(path)]) == []


def test_command_line_check_exit_code(tmp_path):
    path = tmp_path / "07_tiny.ipynb"
    nbformat.write(teacher_notebook(), path)
    assert editions.main(["badges", "--check", str(path)]) == 1
    assert editions.main(["badges", str(path)]) == 0
    assert editions.main(["badges", "--check", str(path)]) == 0
    assert editions.main(["student", "--out", str(tmp_path / "s"), str(path)]) == 0
    assert Path(tmp_path / "s" / "07_tiny.ipynb").is_file()
    assert editions.main(["nonsense"]) == 2


def test_committed_student_edition_is_current_solution_free_and_opens_itself():
    settings = editions.course_settings()
    teacher = editions.course_notebooks()
    assert editions.stale_students(teacher, editions.STUDENT_DIR, settings) == [], (
        "run `make student`"
    )
    assert sorted(p.name for p in editions.STUDENT_DIR.glob("*.ipynb")) == [p.name for p in teacher]
    for path in teacher:
        solutions = [
            c.source
            for c in nbformat.read(path, as_version=4).cells
            if editions.has_tag(c, "solution")
        ]
        student = nbformat.read(editions.STUDENT_DIR / path.name, as_version=4)
        code = [c for c in student.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), path.name
        assert not any(editions.has_tag(c, "solution") for c in student.cells), path.name
        kept = {c.source for c in code}
        assert not any(solution in kept for solution in solutions), path.name
        url = editions.colab_url(f"student/{path.name}", settings)
        assert url in student.cells[0].source, path.name


def test_a_stale_student_copy_is_reported(tmp_path):
    path = tmp_path / "07_tiny.ipynb"
    nbformat.write(teacher_notebook(), path)
    out = tmp_path / "student"
    assert editions.stale_students([path], out) == [out / path.name]  # missing
    editions.write_student([path], out)
    assert editions.stale_students([path], out) == []
    edited = teacher_notebook()
    edited.cells[-1].source += "\nprint('changed')"
    nbformat.write(edited, path)
    assert editions.stale_students([path], out) == [out / path.name]


MARKED = '''\
texts = load()
# BEGIN SOLUTION
counts = count(texts)
# END SOLUTION
best = counts.most_common(
    1
)  # SOLUTION


def split(word):
    """Pieces of one word."""
    # BEGIN SOLUTION
    return [word]
    # END SOLUTION


ex.q2.check(best, split)'''


def test_a_marked_solution_becomes_the_students_skeleton():
    stub = editions.solution_stub(MARKED)
    assert stub.splitlines() == [
        "texts = load()",
        "...  # your code here",
        "best = ...",
        "",
        "",
        "def split(word):",
        '    """Pieces of one word."""',
        "    ...  # your code here",
        "",
        "",
        "ex.q2.check(best, split)",
    ]
    compile(stub, "stub", "exec")  # the skeleton runs
    assert editions.hidden_lines(MARKED) == [
        "counts = count(texts)",
        "best = counts.most_common(",
        "    1",
        ")  # SOLUTION",
        "    return [word]",
    ]
    shown = editions.solution_code(MARKED)
    assert "# BEGIN" not in shown and "# SOLUTION" not in shown and "return [word]" in shown


@pytest.mark.parametrize(
    "broken",
    [
        "# BEGIN SOLUTION\nx = 1",
        "x = 1\n# END SOLUTION",
        "# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION",
        "print(x)  # SOLUTION",
    ],
)
def test_broken_markers_are_refused(broken):
    with pytest.raises(ValueError, match="SOLUTION"):
        editions.solution_stub(broken)


def test_solutions_are_collected_by_the_exercise_they_check(tmp_path):
    notebook = teacher_notebook()
    notebook.cells[8].source = MARKED
    path = tmp_path / "07_tiny.ipynb"
    nbformat.write(notebook, path)
    assert editions.lecture_solutions([path]) == {"7.2": editions.solution_code(MARKED)}
    assert json.loads(editions.solutions_text([path])) == {"7.2": editions.solution_code(MARKED)}


def test_instructor_prompts_stay_out_of_the_student_edition():
    notebook = teacher_notebook()
    prompt = cell("markdown", "Ask the room which emotion is hardest.", "notes", ("instructor",))
    notebook.cells.insert(4, prompt)
    student = editions.student_edition(notebook)
    assert len(student.cells) == len(notebook.cells) - 1
    assert not any("Ask the room" in c.source for c in student.cells)
