"""Notebook editions: outputs kept only where nbval checks them, student copies, Colab badges.

python -m utils.editions strip [NOTEBOOK ...]          # clear unchecked outputs in place
python -m utils.editions student [--check] [--out DIR] [NB ...]  # notebooks/student/: solutions as stubs
python -m utils.editions badges [--check] [NB ...]     # Colab badge + install cell from pyproject
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

from .defaults import CHECKED_TAG, EXERCISE_TAG, INSTALL_TAG, NOTEBOOK_GLOB, SOLUTION_TAG
from .defaults import SOURCE_ROOT as ROOT

STUDENT_DIR = ROOT / "notebooks" / "student"  # committed, so that Colab can open it
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
    print("Lectures 3 to 6 run the model over every tweet: they want a GPU runtime")
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
    """Stub that replaces a solution: what to produce, then `# your code here`."""
    return f"# Task: {task_line(solution, task)}\n# your code here"


def student_edition(notebook, file_name: str | None = None, settings: dict | None = None):
    """Copy of `notebook` with solution cells turned into stubs and every output cleared.

    With `file_name` and `settings`, its Colab badge opens the student copy itself.
    """
    student = copy.deepcopy(notebook)
    if file_name is not None and settings is not None:
        set_badges(student, f"{STUDENT_DIR.name}/{file_name}", settings)
    student.metadata.pop("widgets", None)
    task = ""
    for cell in student.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "markdown":
            task = cell.source
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        if has_tag(cell, SOLUTION_TAG):
            cell.source = solution_stub(cell.source, task)
            tags = [t for t in cell.metadata["tags"] if t not in (SOLUTION_TAG, CHECKED_TAG)]
            cell.metadata["tags"] = [*tags, EXERCISE_TAG] if EXERCISE_TAG not in tags else tags
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
        for path in stale:
            print(f"stale {path}: run `make student`")
        return 1 if stale else 0
    elif args.command == "student":
        for path in write_student(paths, args.out, course_settings()):
            print(f"wrote {path}")
    else:
        stale = badge_files(paths, course_settings(), check=args.check)
        for path in stale:
            print(f"{'stale' if args.check else 'updated'} {path}")
        return 1 if args.check and stale else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
