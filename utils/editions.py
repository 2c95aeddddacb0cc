"""Notebook editions: outputs kept only where nbval checks them, student copies, Colab badges.

python -m utils.editions strip [NOTEBOOK ...]          # clear unchecked outputs in place
python -m utils.editions student [--check] [--out DIR] [NB ...]  # notebooks/student/: solutions as stubs
python -m utils.editions badges [--check] [NB ...]     # Colab badge + install cell from pyproject

A solution cell marks what the student writes, as otter-grader does: the lines between
`# BEGIN SOLUTION` and `# END SOLUTION` become `...`, and `name = value  # SOLUTION` becomes
`name = ...`; everything else (the names to fill, the `check` call) is the student's skeleton.
`make student` also writes the worked solutions, without the markers, into utils/solutions.json,
which `utils.exercises` ships to Colab.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import re
import sys
from pathlib import Path

import nbformat

from .defaults import (
    CHECKED_TAG,
    EXERCISE_TAG,
    EXPORT_MARKER,
    INSTALL_TAG,
    INSTRUCTOR_TAG,
    NOTEBOOK_GLOB,
    REMOVE_TAG,
    SOLUTION_TAG,
)
from .defaults import SOURCE_ROOT as ROOT

STUDENT_DIR = ROOT / "notebooks" / "student"  # committed, so that Colab can open it
SOLUTIONS_JSON = ROOT / "utils" / "solutions.json"  # shipped with the package: ex.qN.solution()
BEGIN_SOLUTION = re.compile(r"^([ \t]*)# BEGIN SOLUTION[ \t]*$")
END_SOLUTION = re.compile(r"^[ \t]*# END SOLUTION[ \t]*$")
CHECK_CALL = re.compile(r"\bex\.q(\d+)\.check\(")
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_RE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")
TASK_PREFIX_RE = re.compile(
    r"^((exercise|solution|answer|task)\b\s*\d*|\d+)\s*[·:.)\-–—]*\s*", re.I
)
BARE_HEADING_RE = re.compile(r"(exercises?|solutions?|answers?|tasks?)\s*\d*\W*", re.IGNORECASE)
INSTALL_CELL = """\
# In Google Colab this cell installs the course; anywhere else it does nothing.
import subprocess
import sys

if "google.colab" in sys.modules:
    # A plain URL, without "name @": Colab's pip may be old.
    source = "git+{repository}.git@{branch}"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", source], check=True)
    print("Course installed.")
    print("Lectures 3 to 7 run the model over the tweets: they want a GPU runtime")
    print("(Runtime > Change runtime type > T4 GPU). Changing it restarts Colab:")
    print("then run the notebook again from the top.")"""


def is_checked(cell) -> bool:
    """Whether nbval compares this cell's output."""
    return CHECKED_TAG in cell.get("metadata", {}).get("tags", [])


def has_tag(cell, tag: str) -> bool:
    """Whether `cell` carries `tag`."""
    return tag in cell.get("metadata", {}).get("tags", [])


def strip_outputs(notebook) -> bool:
    """Clear outputs and counts of unchecked code cells and run timings; True if anything changed."""
    changed = notebook.metadata.pop("widgets", None) is not None
    for cell in notebook.cells:
        changed |= cell.metadata.pop("execution", None) is not None
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


def course_notebooks(root: Path = ROOT) -> list[Path]:
    """The course notebooks `notebooks/NN_*.ipynb`, sorted."""
    return sorted((root / "notebooks").glob(NOTEBOOK_GLOB))


def course_settings(root: Path = ROOT) -> dict[str, str]:
    """Package name, repository URL, branch and site address from pyproject.toml ([tool.emotion_course])."""
    import tomllib  # Python 3.11+, like the course tooling

    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    course = pyproject["tool"]["emotion_course"]
    return {
        "name": pyproject["project"]["name"],
        "repository": course["repository"].rstrip("/").removesuffix(".git"),
        "branch": course.get("branch", "main"),
        "site": course.get("site", ""),
    }


def colab_url(file_name: str, settings: dict[str, str]) -> str:
    """Colab address that opens notebooks/`file_name` (e.g. "student/01_x.ipynb") of the repo."""
    repo = re.sub(r"^https?://github\.com/", "", settings["repository"])
    return f"https://colab.research.google.com/github/{repo}/blob/{settings['branch']}/notebooks/{file_name}"


def badge(file_name: str, settings: dict[str, str]) -> str:
    """The markdown 'Open in Colab' badge for notebooks/`file_name`."""
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(file_name, settings)})"


def install_cell_source(settings: dict[str, str]) -> str:
    """Source of the `colab-install` cell: install the course in Colab, do nothing elsewhere."""
    return INSTALL_CELL.format(**settings)


def set_badges(notebook, file_name: str, settings: dict[str, str]) -> bool:
    """Rewrite the badge of the first markdown cell and the install cell; True if anything changed."""
    changed = False
    title = next((c for c in notebook.cells if c.cell_type == "markdown"), None)
    if title is not None:
        new = badge(file_name, settings)
        if BADGE_RE.search(title.source):
            source = BADGE_RE.sub(lambda _: new, title.source, count=1)
        else:  # no badge yet: put it right under the title line
            head, _, rest = title.source.partition("\n")
            source = f"{head}\n\n{new}\n\n{rest.lstrip()}".rstrip()
        changed |= source != title.source
        title.source = source
    for cell in notebook.cells:
        if cell.cell_type == "code" and has_tag(cell, INSTALL_TAG):
            changed |= cell.source != install_cell_source(settings)
            cell.source = install_cell_source(settings)
    return changed


def badge_files(paths: list[Path], settings: dict[str, str], check: bool = False) -> list[Path]:
    """Regenerate badges and install cells of `paths` (only report them if `check`); return the stale."""
    stale = []
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        if set_badges(notebook, path.name, settings):
            stale.append(path)
            if not check:
                nbformat.write(notebook, path)
    return stale


def task_line(solution: str, task: str = "") -> str:
    """What a solution should produce: its leading comment, else the task's title or first sentence."""
    first = next((line.strip() for line in solution.splitlines() if line.strip()), "")
    candidates = [first.lstrip("#")] if first.startswith("#") else []
    for paragraph in (" ".join(p.split()) for p in task.split("\n\n") if p.strip()):
        if heading := re.fullmatch(r"#+\s*(.*)", paragraph):
            candidates.append(heading[1])
            continue
        if lead := re.match(r"\*\*(.+?)\*\*", paragraph):
            candidates.append(lead[1])
            paragraph = paragraph[lead.end() :]
        candidates.append(re.split(r"(?<=[.?!])\s", paragraph.replace("**", "").strip())[0])
    for candidate in candidates:
        text = TASK_PREFIX_RE.sub("", candidate.strip()).strip().removesuffix(".")
        if text and not BARE_HEADING_RE.fullmatch(text):
            return text if len(text) <= 90 else text[:87].rsplit(" ", 1)[0] + " ..."
    return "the answer to the exercise above"


def solution_stub(solution: str, task: str = "") -> str:
    """The student's skeleton of a solution cell: its marked parts replaced by `...`.

    A solution without markers becomes what to produce, then `# your code here`.
    """
    if not has_markers(solution):
        return f"# Task: {task_line(solution, task)}\n# your code here"
    lines = solution.splitlines()
    assignments = _marked_assignments(solution)
    stub, inside, skip_to = [], False, 0
    for number, line in enumerate(lines, start=1):
        if number <= skip_to:
            continue
        if begin := BEGIN_SOLUTION.match(line):
            if inside:
                raise ValueError("'# BEGIN SOLUTION' inside another solution block")
            stub.append(f"{begin[1]}...  # your code here")
            inside = True
        elif END_SOLUTION.match(line):
            if not inside:
                raise ValueError("'# END SOLUTION' without '# BEGIN SOLUTION'")
            inside = False
        elif inside:
            continue
        elif number in assignments:
            skip_to, targets = assignments[number]
            indent = line[: len(line) - len(line.lstrip())]
            stub.append(f"{indent}{targets} = ...")
        else:
            stub.append(line)
    if inside:
        raise ValueError("'# BEGIN SOLUTION' without '# END SOLUTION'")
    return "\n".join(stub)


def _marked_assignments(solution: str) -> dict[int, tuple[int, str]]:
    """First line -> (last line, targets) of every assignment whose last line ends in `# SOLUTION`.

    The assignment may span several lines (as the formatter wraps a long one).
    """
    lines = solution.splitlines()
    marked = {n for n, line in enumerate(lines, start=1) if line.rstrip().endswith("# SOLUTION")}
    marked -= {n for n, line in enumerate(lines, start=1) if END_SOLUTION.match(line)}
    found = {}
    for node in ast.walk(ast.parse(solution)):
        simple = isinstance(node, ast.stmt) and not hasattr(node, "body")
        if not simple or node.end_lineno not in marked:
            continue
        if not isinstance(node, ast.Assign | ast.AnnAssign):
            raise ValueError(f"'# SOLUTION' marks assignments only: {lines[node.lineno - 1]!r}")
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        text = " = ".join(ast.get_source_segment(solution, target) for target in targets)
        found[node.lineno] = (node.end_lineno, text)
        marked.discard(node.end_lineno)
    if marked:
        raise ValueError(f"'# SOLUTION' marks assignments only: {lines[min(marked) - 1].strip()!r}")
    return found


def hidden_lines(solution: str) -> list[str]:
    """The lines of a solution that its stub hides: marked blocks and marked assignments."""
    if not has_markers(solution):
        return solution.splitlines()
    lines = solution.splitlines()
    hidden, inside = [], False
    spans = {
        n
        for first, (last, _) in _marked_assignments(solution).items()
        for n in range(first, last + 1)
    }
    for number, line in enumerate(lines, start=1):
        if BEGIN_SOLUTION.match(line) or END_SOLUTION.match(line):
            inside = bool(BEGIN_SOLUTION.match(line))
        elif inside or number in spans:
            hidden.append(line)
    return hidden


def has_markers(solution: str) -> bool:
    """Whether a solution cell marks the student's part (otter-grader style markers)."""
    return any(
        BEGIN_SOLUTION.match(line)
        or END_SOLUTION.match(line)
        or line.rstrip().endswith("# SOLUTION")
        for line in solution.splitlines()
    )


def solution_code(solution: str) -> str:
    """The worked solution as the teacher edition shows it, without the markers."""
    lines = []
    for line in solution.splitlines():
        if BEGIN_SOLUTION.match(line) or END_SOLUTION.match(line):
            continue
        lines.append(re.sub(r"\s*# SOLUTION[ \t]*$", "", line))
    return "\n".join(lines)


def lecture_solutions(paths: list[Path]) -> dict[str, str]:
    """The worked solution of every checked exercise, by 'lecture.number' (from `ex.qN.check(`)."""
    found = {}
    for path in paths:
        lecture = int(path.name[:2])
        for cell in nbformat.read(path, as_version=4).cells:
            calls = CHECK_CALL.findall(cell.source) if has_tag(cell, SOLUTION_TAG) else []
            for number in sorted(set(calls)):
                found[f"{lecture}.{int(number)}"] = solution_code(cell.source)
    return dict(sorted(found.items(), key=lambda item: tuple(map(int, item[0].split(".")))))


def solutions_text(paths: list[Path]) -> str:
    """The content of utils/solutions.json for the teacher notebooks `paths`."""
    return json.dumps(lecture_solutions(paths), indent=1, ensure_ascii=False) + "\n"


def student_edition(notebook, file_name: str | None = None, settings: dict | None = None):
    """Copy of `notebook` for students: solution cells turned into stubs, every output cleared,
    and nothing that exists for the tools or the instructor (instructor prompts, cells tagged
    remove-cell, nbval's tags, export markers).

    With `file_name` and `settings`, its Colab badge opens the student copy itself.
    """
    student = copy.deepcopy(notebook)
    if file_name is not None and settings is not None:
        set_badges(student, f"{STUDENT_DIR.name}/{file_name}", settings)
    student.metadata.pop("widgets", None)
    left_out = (INSTRUCTOR_TAG, REMOVE_TAG)
    student.cells = [c for c in student.cells if not any(has_tag(c, tag) for tag in left_out)]
    task = ""
    for cell in student.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "markdown":
            task = cell.source
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        if cell.source.startswith(EXPORT_MARKER):
            cell.source = cell.source.partition("\n")[2]
        tags = [t for t in cell.metadata.get("tags", []) if t not in (SOLUTION_TAG, CHECKED_TAG)]
        if has_tag(cell, SOLUTION_TAG):
            cell.source = solution_stub(cell.source, task)
            tags = [*tags, EXERCISE_TAG] if EXERCISE_TAG not in tags else tags
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
    return student


def write_student(
    paths: list[Path], out_dir: Path, settings: dict[str, str] | None = None
) -> list[Path]:
    """Write the student edition of every notebook in `paths` into `out_dir`; return the new files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        (out_dir / path.name).write_text(student_text(path, settings), encoding="utf-8")
        written.append(out_dir / path.name)
    return written


def student_text(path: Path, settings: dict[str, str] | None = None) -> str:
    """The file content of the student edition of the notebook at `path`, validated."""
    student = student_edition(nbformat.read(path, as_version=4), path.name, settings)
    nbformat.validate(student)
    return nbformat.writes(student) + "\n"  # as nbformat.write saves it


def stale_students(
    paths: list[Path], out_dir: Path, settings: dict[str, str] | None = None
) -> list[Path]:
    """Student copies in `out_dir` that are missing or differ from what `write_student` would write."""
    stale = []
    for path in paths:
        target = out_dir / path.name
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current != student_text(path, settings):
            stale.append(target)
    return stale


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command's options: which job, which notebooks, check only or write."""
    parser = argparse.ArgumentParser(
        prog="python -m utils.editions", description=__doc__.strip().splitlines()[0]
    )
    parser.add_argument(
        "command",
        choices=["strip", "student", "badges"],
        help="strip outputs, write the student edition, or rewrite badges and install cells",
    )
    parser.add_argument(
        "notebooks", nargs="*", type=Path, help="notebooks to process (default: every lecture)"
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file is stale"
    )
    parser.add_argument(
        "--out", type=Path, default=STUDENT_DIR, help="folder of the student edition"
    )
    return parser.parse_intermixed_args(argv)  # options before or after the notebooks


def main(argv: list[str]) -> int:
    """Command line: strip, student or badges (see the module docstring)."""
    try:
        args = parse_args(argv)
    except SystemExit as stop:  # argparse printed the usage; unknown commands exit with 2
        return int(stop.code or 0)
    paths = args.notebooks or course_notebooks()
    if args.command == "strip":
        for path in strip_files([str(p) for p in paths]):
            print(f"stripped {path}")
    elif args.command == "student" and args.check:
        stale = stale_students(paths, args.out, course_settings())
        if not args.notebooks and _read(SOLUTIONS_JSON) != solutions_text(paths):
            stale.append(SOLUTIONS_JSON)
        for path in stale:
            print(f"stale {path}: run `make student`")
        return 1 if stale else 0
    elif args.command == "student":
        for path in write_student(paths, args.out, course_settings()):
            print(f"wrote {path}")
        if not args.notebooks:  # the shipped solutions come from every lecture at once
            SOLUTIONS_JSON.write_text(solutions_text(paths), encoding="utf-8")
            print(f"wrote {SOLUTIONS_JSON}")
    else:
        stale = badge_files(paths, course_settings(), check=args.check)
        for path in stale:
            print(f"{'stale' if args.check else 'updated'} {path}")
        return 1 if args.check and stale else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
