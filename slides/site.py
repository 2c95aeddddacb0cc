"""The course as a static website: the executed lectures, results, slides and setup, built with Sphinx.

python -m slides.site [--from build/notebooks] [--out build/site]   (`make site`)

Pages are MyST-NB renderings of executed notebooks (nothing runs here) and pages made from templates
in slides/site/: home, results, instructors, setting up and troubleshooting (the last two include the
README's sections). The built site loads nothing from the network.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import importlib.resources
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from slides.prepare import keep_output, parse_title, trim_output
from utils import editions
from utils.course import TIMINGS_FILE
from utils.defaults import INSTALL_TAG, INSTRUCTOR_TAG, NOTEBOOK_GLOB, SOLUTION_TAG, SOURCE_ROOT

SITE_SOURCES = Path(__file__).resolve().parent / "site"  # conf.py, templates, _static
BUILD = SOURCE_ROOT / "build"
COURSE_TITLE = "Text classification with transformers"
SETUP_CALL = "utils.setup("
REPORT_LINE_RE = re.compile(r"^(\w+)\s+:\s+(.*\S)\s*$")
SOLUTION_PROMPTS = {"code_prompt_show": "Show solution", "code_prompt_hide": "Hide solution"}
NOTE_TITLE = "Instructor's note"
RUN_TITLE = "The run behind this page"


# --- one lecture ----------------------------------------------------------------------------------


@dataclass
class Lecture:
    """What the site shows about one lecture besides its page."""

    name: str  # file stem, e.g. "01_dataset"
    number: str
    title: str
    goals: list[str] = field(default_factory=list)
    time: str = ""  # how long the lecture ran, e.g. "3 min 8 s"
    deck: str = ""  # the slide deck's address in the site, when slides are included
    pdf: str = ""


def setup_report(notebook: NotebookNode) -> dict[str, str]:
    """The fields of the setup report (`profile`, `model`, `data`, `device`, `subset`, ...) it printed."""
    for cell in notebook.cells:
        if cell.cell_type != "code" or SETUP_CALL not in cell.source:
            continue
        text = "".join(
            o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout"
        )
        fields = {}
        for line in text.splitlines():
            match = REPORT_LINE_RE.match(line)
            if match and match.group(1) not in fields:
                fields[match.group(1)] = match.group(2)
        if fields:
            return fields
    return {}


def run_date(notebook: NotebookNode, path: Path) -> str:
    """When the notebook ran: its last cell timestamp (nbclient records them), else the file's date."""
    stamps = [
        value
        for cell in notebook.cells
        for value in cell.get("metadata", {}).get("execution", {}).values()
        if isinstance(value, str)
    ]
    if stamps:
        return max(stamps)[:10]
    return dt.date.fromtimestamp(path.stat().st_mtime).isoformat()


def describe_run(report: dict[str, str], date: str) -> str:
    """One sentence: the profile, model, data and its size, device and date of the run."""
    if not report:
        return f"These outputs come from a run on {date} (its setup report was not found)."
    data = report.get("data", "")
    if data and not data.startswith("Hub"):
        data = f"a local copy ({Path(data).name}/)"
    size = report.get("subset", "")
    parts = [
        f"the **{report.get('profile', '?')}** profile",
        f"model {report.get('model', '?')}",
        f"data from {data or '?'}" + (f", {size}" if size else ""),
        f"device {report.get('device', '?')}",
    ]
    return f"These outputs come from a run on {date}: {', '.join(parts)}."


def _fence(text: str, char: str = "`") -> str:
    """A fence longer than any run of `char` in `text`."""
    runs = [len(run) for run in re.findall(f"{re.escape(char)}+", text)]
    return char * max(4, max(runs, default=0) + 1)


def note_cell(source: str) -> str:
    """An instructor's note, folded: an admonition that opens on a click."""
    fence = _fence(source)
    return (
        f"{fence}{{admonition}} {NOTE_TITLE}\n:class: dropdown instructor-note\n\n{source}\n{fence}"
    )


def lecture_header(title_source: str, links: str, run: str) -> str:
    """The first cell: the title, the Colab and download links and the run line, then the rest."""
    source = editions.BADGE_RE.sub("", title_source)
    head, _, rest = source.partition("\n")
    block = (
        f":::{{container}} lecture-links\n{links}\n:::\n\n"
        f":::{{admonition}} {RUN_TITLE}\n:class: note run-info\n{run}\n:::"
    )
    rest = re.sub(r"\n{3,}", "\n\n", rest.strip())
    return f"{head}\n\n{block}\n\n{rest}".rstrip() + "\n"


def prepare_lecture(notebook: NotebookNode, links: str, run: str) -> NotebookNode:
    """A copy of an executed lecture, ready for its page.

    Install cells go, the first cell gets the links and the run line, solutions fold behind "Show
    solution", instructor notes fold as such, and warnings and widget outputs are dropped.
    """
    nb = copy.deepcopy(notebook)
    nb.metadata.pop("widgets", None)
    nb.cells = [c for c in nb.cells if not editions.has_tag(c, INSTALL_TAG)]
    header_done = False
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "markdown" and not header_done:
            cell.source, header_done = lecture_header(cell.source, links, run), True
        elif cell.cell_type == "markdown" and INSTRUCTOR_TAG in tags:
            cell.source = note_cell(cell.source)  # speaker notes for students stay plain text
        if cell.cell_type != "code":
            continue
        cell.outputs = [trim_output(o) for o in cell.outputs if keep_output(o)]
        if SOLUTION_TAG in tags:
            cell.source = editions.solution_code(cell.source).strip("\n")
            cell.metadata["tags"] = [*tags, "hide-cell"]
            cell.metadata["mystnb"] = {**cell.metadata.get("mystnb", {}), **SOLUTION_PROMPTS}
    return nb


def lecture_notebooks(folder: Path) -> list[Path]:
    """The lecture notebooks (NN_name.ipynb) in `folder`, in lecture order."""
    return sorted(Path(folder).glob(NOTEBOOK_GLOB))


# --- what the run left: times, results, slides ----------------------------------------------------


def duration(seconds: float) -> str:
    """Seconds in words: '45 s', '3 min 8 s', '1 h 2 min'."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


@dataclass
class Timings:
    """Time per lecture of one `make course` run (build/notebooks/timings.json)."""

    seconds: dict[str, float]  # by notebook stem
    describe: str  # machine, date and data size, in words

    @property
    def total(self) -> str:
        """All lectures together, in words."""
        return duration(sum(self.seconds.values()))


def read_timings(folder: Path) -> Timings | None:
    """The times `make course` saved beside the executed notebooks; None when there are none."""
    path = Path(folder) / TIMINGS_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        seconds = {
            Path(row["notebook"]).stem: float(row["seconds"])
            for row in record.get("lectures", [])
            if row.get("status", "ok") == "ok"
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if not seconds:
        return None
    subset = record.get("subset")
    size = f"{subset} training tweets" if subset else "full data"
    where = record.get("machine") or "an unnamed machine"
    when = str(record.get("date", ""))[:10] or "an unknown date"
    return Timings(seconds, f"`make course` on {where}, {size}, {when}")


def copy_slides(slides_dir: Path | None, extra_dir: Path) -> dict[str, tuple[str, str]]:
    """Copy `make slides`' output into the site; return each lecture's (deck, PDF) address."""
    if slides_dir is None or not (Path(slides_dir) / "decks.json").is_file():
        return {}
    target = extra_dir / "slides"
    shutil.copytree(slides_dir, target, ignore=shutil.ignore_patterns("screenshots"))
    links = {}
    for deck in json.loads((target / "decks.json").read_text(encoding="utf-8")):
        name = deck["name"]
        if (target / f"{name}.html").is_file():
            pdf = f"slides/{name}.pdf" if (target / f"{name}.pdf").is_file() else ""
            links[name] = (f"slides/{name}.html", pdf)
    return links


# --- building -------------------------------------------------------------------------------------


def course_settings() -> dict[str, str]:
    """Title, repository, branch and published address (pyproject's [tool.emotion_course])."""
    settings = editions.course_settings()
    return {
        **settings,
        "title": COURSE_TITLE,
        "year": str(dt.date.today().year),
    }


def vendor_mathjax(static_dir: Path) -> None:
    """MathJax 2 from the installed jupyter-server-mathjax package into `static_dir`/mathjax."""
    try:
        source = importlib.resources.files("jupyter_server_mathjax") / "static"
    except ModuleNotFoundError as missing:
        raise RuntimeError(
            "jupyter-server-mathjax is missing: install the site extra (make install)"
        ) from missing
    with importlib.resources.as_file(source) as folder:
        shutil.copytree(folder, static_dir / "mathjax", ignore=shutil.ignore_patterns("*.map"))


def render(template: str, target: Path, **values) -> None:
    """Fill the Jinja template slides/site/`template` and write it to `target`."""
    import jinja2

    loader = jinja2.FileSystemLoader(SITE_SOURCES)
    env = jinja2.Environment(
        loader=loader, keep_trailing_newline=True, undefined=jinja2.StrictUndefined
    )
    target.write_text(env.get_template(template).render(**values), encoding="utf-8")


def stage_lectures(
    source: Path, stage: Path, student_dir: Path, settings: dict[str, str]
) -> list[Lecture]:
    """Prepared lecture notebooks in `stage`/lectures and student copies in `stage`/_student."""
    (stage / "lectures").mkdir(parents=True)
    (stage / "_student").mkdir()
    lectures = []
    for path in lecture_notebooks(source):
        notebook = nbformat.read(path, as_version=4)
        first = next((c for c in notebook.cells if c.cell_type == "markdown"), None)
        info = parse_title(first.source) if first is not None else None
        number, title = (info.number, info.title) if info else (path.stem[:2], path.stem)
        run = describe_run(setup_report(notebook), run_date(notebook, path))
        links = f"[Open in Colab]({editions.colab_url(f'student/{path.name}', settings)})"
        student = student_dir / path.name
        if student.is_file():
            shutil.copy(student, stage / "_student" / path.name)
            links += f" · {{download}}`Download the student notebook <../_student/{path.name}>`"
        nbformat.write(prepare_lecture(notebook, links, run), stage / "lectures" / path.name)
        lectures.append(Lecture(path.stem, number, title, info.goals if info else []))
    return lectures


def build(
    source: Path,
    out_dir: Path,
    results_dir: Path | None = None,
    slides_dir: Path | None = None,
    student_dir: Path | None = None,
    strict: bool = False,
) -> Path:
    """Build the site from the executed notebooks in `source` into `out_dir`; return index.html."""
    from slides.results import results_page

    source, out_dir = Path(source), Path(out_dir)
    if not lecture_notebooks(source):
        raise FileNotFoundError(
            f"no executed lecture notebooks ({NOTEBOOK_GLOB}) in {source}: run `make course` "
            "first, or point SITE_FROM at a folder of executed notebooks"
        )
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not (out_dir / ".buildinfo").is_file():
            raise RuntimeError(
                f"{out_dir} is not empty and holds no earlier site: choose another --out"
            )
        shutil.rmtree(out_dir)  # pages of lectures that are gone must go too
    stage = out_dir.parent / f"{out_dir.name}-src"
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree(SITE_SOURCES, stage, ignore=shutil.ignore_patterns("*.j2", "__pycache__"))
    settings = course_settings()
    (stage / "_course.json").write_text(json.dumps(settings), encoding="utf-8")
    vendor_mathjax(stage / "_static")
    student_dir = student_dir or SOURCE_ROOT / "notebooks" / "student"
    lectures = stage_lectures(source, stage, student_dir, settings)

    timings = read_timings(source)
    decks = copy_slides(slides_dir, stage / "_extra")
    (stage / "_extra").mkdir(exist_ok=True)
    for lecture in lectures:
        if timings and lecture.name in timings.seconds:
            lecture.time = duration(timings.seconds[lecture.name])
        lecture.deck, lecture.pdf = decks.get(lecture.name, ("", ""))
    readme = Path(os.path.relpath(SOURCE_ROOT / "README.md", stage)).as_posix()
    first_colab = editions.colab_url(f"student/{lectures[0].name}.ipynb", settings)
    values = dict(course=settings, lectures=lectures, timings=timings, readme=readme)
    render("index.md.j2", stage / "index.md", first_colab=first_colab, **values)
    render("instructors.md.j2", stage / "instructors.md", slides=bool(decks), **values)
    render("setup.md.j2", stage / "setup.md", **values)
    render("troubleshooting.md.j2", stage / "troubleshooting.md", **values)
    results = results_page(results_dir, stage / "_generated")
    render("results.md.j2", stage / "results.md", results=results, **values)

    # In a process of its own: Sphinx keeps state between builds and its extensions warn on import.
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-d", str(stage / ".doctrees")]
    command += ["-W", "--keep-going"] if strict else []
    status = subprocess.run([*command, str(stage), str(out_dir)]).returncode
    if status:
        raise RuntimeError(f"Sphinx failed to build the site (exit status {status}); see above")
    return out_dir / "index.html"


def main(argv: list[str] | None = None) -> int:
    """Command line: build the site, print where it is."""
    parser = argparse.ArgumentParser(
        prog="python -m slides.site", description=__doc__.strip().splitlines()[0]
    )
    parser.add_argument("--from", dest="source", type=Path, default=BUILD / "notebooks")
    parser.add_argument("--out", type=Path, default=BUILD / "site")
    parser.add_argument(
        "--results", type=Path, default=BUILD / "results", help="results/*.json of the run"
    )
    parser.add_argument(
        "--slides", type=Path, default=BUILD / "slides", help="make slides' output, if built"
    )
    parser.add_argument("--strict", action="store_true", help="fail on any Sphinx warning")
    args = parser.parse_args(argv)
    try:
        index = build(args.source, args.out, args.results, args.slides, strict=args.strict)
    except (FileNotFoundError, RuntimeError) as problem:
        print(f"make site: {problem}", file=sys.stderr)
        return 1
    print(f"site built: open {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
