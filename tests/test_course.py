"""utils.course (make course): a tiny notebook run with progress, a table of times, timings.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from utils import course

ROOT = Path(__file__).resolve().parents[1]
TCP_WARNING = "Kernel is running over TCP without encryption"


def write_notebook(path: Path, *sources: str) -> Path:
    """A notebook with a title and one code cell per source (an empty one too, never executed)."""
    cells = [new_markdown_cell("# 01 · Tiny"), *map(new_code_cell, sources), new_code_cell("")]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    nbformat.write(nb, path)
    return path


def run_course(*args: str, bars: bool = True) -> subprocess.CompletedProcess:
    """`python -m utils.course ARGS`, with progress bars on (as in a terminal) or off (TQDM_DISABLE)."""
    env = {
        k: v for k, v in os.environ.items() if k != "TQDM_DISABLE"
    }  # utils.setup() in CI sets it
    env |= {} if bars else {"TQDM_DISABLE": "1"}
    command = [sys.executable, "-m", "utils.course", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_runs_notebooks_with_progress_and_saves_their_times(tmp_path):
    (tmp_path / "lectures").mkdir()
    first = write_notebook(
        tmp_path / "lectures" / "01_tiny.ipynb",
        "from pathlib import Path\nprint(Path.cwd().name)",  # the kernel starts beside the notebook
        "6 * 7",
    )
    second = write_notebook(tmp_path / "lectures" / "02_tiny.ipynb", "print('two')")
    done = run_course("--out", str(tmp_path / "out"), str(first), str(second))
    assert done.returncode == 0, done.stderr
    log = done.stdout + done.stderr
    assert TCP_WARNING not in log and "WARNING" not in log
    assert "[1/2] 01_tiny: 2/2 cells" in log and "[2/2] 02_tiny: 1/1 cells" in log
    table = done.stdout[done.stdout.index("lecture ") :].splitlines()
    assert [line.split()[:2] for line in table[1:3]] == [
        ["01_tiny.ipynb", "2"],
        ["02_tiny.ipynb", "1"],
    ]
    assert table[3].startswith("total")

    executed = nbformat.read(tmp_path / "out" / "01_tiny.ipynb", as_version=4)
    assert executed.cells[1].outputs[0].text == "lectures\n"
    assert executed.cells[2].outputs[0].data["text/plain"] == "42"
    timings = json.loads((tmp_path / "out" / course.TIMINGS_FILE).read_text())
    assert [(t["notebook"], t["cells"], t["status"]) for t in timings["lectures"]] == [
        ("01_tiny.ipynb", 2, "ok"),
        ("02_tiny.ipynb", 1, "ok"),
    ]
    assert all(t["seconds"] > 0 for t in timings["lectures"]) and "CPU cores" in timings["machine"]


def test_stops_at_a_failing_notebook_and_says_where_the_error_is(tmp_path):
    bad = write_notebook(tmp_path / "01_bad.ipynb", "x = 1", "raise ValueError('no tweets here')")
    after = write_notebook(tmp_path / "02_after.ipynb", "print('never')")
    done = run_course("--out", str(tmp_path / "out"), str(bad), str(after), bars=False)
    assert done.returncode == 1
    start, end = done.stdout.splitlines()[:2]  # without bars: a line as it starts, one as it ends
    assert start == "[1/2] 01_bad: 2 cells" and end.startswith("[1/2] 01_bad: 2/2 cells [0:")
    assert end.endswith("], failed")
    assert "ValueError" in done.stderr and "no tweets here" in done.stderr
    assert (
        f"01_bad.ipynb failed (the whole traceback is in {tmp_path / 'out' / '01_bad.ipynb'})"
        in (done.stderr)
    )
    assert not (tmp_path / "out" / "02_after.ipynb").exists()
    executed = nbformat.read(tmp_path / "out" / "01_bad.ipynb", as_version=4)
    assert executed.cells[2].outputs[0].output_type == "error"
    timings = json.loads((tmp_path / "out" / course.TIMINGS_FILE).read_text())
    assert [t["status"] for t in timings["lectures"]] == ["failed"]


def test_missing_notebook_is_named(tmp_path):
    done = run_course(str(tmp_path / "nope.ipynb"))
    assert (
        done.returncode == 2 and "no such notebook" in done.stderr and "nope.ipynb" in done.stderr
    )


def test_table_and_durations():
    times = [
        course.LectureTime("01_a.ipynb", 65.4, 3, "ok"),
        course.LectureTime("02_b.ipynb", 3_700, 9, "failed"),
    ]
    lines = course.table(times).splitlines()
    assert lines[1].split() == ["01_a.ipynb", "3", "1:05"]
    assert lines[2].split() == ["02_b.ipynb", "9", "1:01:40", "failed"]
    assert lines[3].split() == ["total", "1:02:45"]
