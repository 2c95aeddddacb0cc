"""Run the lectures into executed copies: progress per lecture, then a table of the time each took.

python -m utils.course [--out build/notebooks] [--timeout 7200] [NOTEBOOK ...]   (`make course`)

Each notebook runs in a fresh kernel in its own folder, as `jupyter nbconvert --execute` would; the
copy, with every output, goes to --out, and the times to --out/timings.json (the site reads it).
The kernel talks to this process over IPC sockets (local files), not TCP on localhost, so its log
holds no "Kernel is running over TCP without encryption" warning.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from .defaults import SOURCE_ROOT
from .editions import course_notebooks

TIMINGS_FILE = "timings.json"
CELL_TIMEOUT = 7_200  # seconds one cell may run: lecture 6 fine-tunes in one cell


@dataclass
class LectureTime:
    """How one notebook's run went."""

    notebook: str
    seconds: float
    cells: int  # code cells executed
    status: str  # "ok" or "failed"
    error: str = ""  # the end of the traceback, if it failed


def code_cells(notebook: nbformat.NotebookNode) -> int:
    """Code cells that a kernel executes (nbclient skips empty ones)."""
    return sum(c.cell_type == "code" and bool(c.source.strip()) for c in notebook.cells)


def execute(path: Path, out_dir: Path, timeout: int = CELL_TIMEOUT, label: str = "") -> LectureTime:
    """Run the notebook at `path` with a progress bar; write the executed copy into `out_dir`."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from traitlets.config import Config

    notebook = nbformat.read(path, as_version=4)
    sockets = Path(tempfile.mkdtemp(prefix="course-kernel-"))
    config = Config()
    config.KernelManager.transport = "ipc"
    # The socket files' prefix: absolute, or kernel and client would look in different folders.
    config.KernelManager.ip = str(sockets / "ipc")
    progress = Progress(label or path.stem, code_cells(notebook))
    client = NotebookClient(
        notebook,
        timeout=timeout,
        resources={"metadata": {"path": str(path.parent)}},  # the kernel starts in notebooks/
        on_cell_execute=progress.cell_started,
        on_cell_executed=progress.cell_done,
        config=config,
    )
    start, status, error = time.perf_counter(), "ok", ""
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as failure:
        status, error = "failed", "\n".join(str(failure).strip().splitlines()[-12:])
    finally:
        seconds = time.perf_counter() - start
        progress.close("failed" if status != "ok" else "", seconds)
        shutil.rmtree(sockets, ignore_errors=True)
        out_dir.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, out_dir / path.name)
    return LectureTime(path.name, round(seconds, 1), progress.done, status, error)


class Progress:
    """A tqdm bar of code cells whose clock keeps running while a long cell works.

    With progress bars turned off (TQDM_DISABLE=1), one line when a lecture starts and one when it ends.
    """

    def __init__(self, label: str, total: int) -> None:
        from tqdm.auto import tqdm

        self.label, self.total, self.done = label, total, 0
        interactive = sys.stdout.isatty()
        self.bar = tqdm(
            total=total, desc=label, file=sys.stdout, mininterval=0 if interactive else 30
        )
        self.bar.bar_format = "{desc}: {n_fmt}/{total_fmt} cells [{elapsed}]{postfix}"
        if self.bar.disable:
            print(f"{label}: {total} cells", flush=True)
        self._stop = threading.Event()
        every = 1 if interactive else 60  # a terminal ticks every second, a log file every minute
        self._clock = threading.Thread(target=self._tick, args=(every,), daemon=True)
        self._clock.start()

    def _tick(self, every: float) -> None:
        while not self._stop.wait(every):
            self.bar.refresh()

    def cell_started(self, cell, cell_index: int) -> None:
        """Show which cell runs now (its first line of code)."""
        lines = [ln for ln in cell.source.splitlines() if ln.strip() and not ln.startswith("#")]
        first = lines[0].strip() if lines else ""
        self.bar.set_postfix_str(first if len(first) <= 40 else first[:37] + "...")

    def cell_done(self, cell, cell_index: int, execute_reply) -> None:
        """Count a finished cell."""
        self.done += 1
        self.bar.update(1)

    def close(self, note: str, seconds: float) -> None:
        """Stop the clock; leave the final line with `note`."""
        self._stop.set()
        self._clock.join()
        self.bar.set_postfix_str(note, refresh=False)
        self.bar.close()
        if self.bar.disable:
            ending = f", {note}" if note else ""
            print(f"{self.label}: {self.done}/{self.total} cells [{duration(seconds)}]{ending}")


def duration(seconds: float) -> str:
    """Seconds as m:ss (or h:mm:ss)."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def table(times: list[LectureTime]) -> str:
    """The time each lecture took, as a plain text table with a total."""
    width = max([len(t.notebook) for t in times] + [len("total")])
    lines = [f"{'lecture':<{width}}  {'cells':>5}  {'time':>8}"]
    for t in times:
        note = "  failed" if t.status != "ok" else ""
        lines.append(f"{t.notebook:<{width}}  {t.cells:>5}  {duration(t.seconds):>8}{note}")
    total = sum(t.seconds for t in times)
    lines.append(f"{'total':<{width}}  {'':>5}  {duration(total):>8}")
    return "\n".join(lines)


def machine() -> str:
    """The machine in a few words (each lecture's setup report names its device: CPU or GPU)."""
    return f"{platform.machine()}, {os.cpu_count()} CPU cores"


def write_timings(times: list[LectureTime], out_dir: Path) -> Path:
    """Save the times in `out_dir`/timings.json with when, where and on how much data they ran."""
    record = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "subset": os.environ.get("COURSE_SUBSET") or None,
        "lectures": [{k: v for k, v in asdict(t).items() if k != "error"} for t in times],
    }
    target = out_dir / TIMINGS_FILE
    target.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return target


def run(paths: list[Path], out_dir: Path, timeout: int = CELL_TIMEOUT) -> list[LectureTime]:
    """Run the notebooks in order, stopping at the first that fails; print and save the times."""
    times: list[LectureTime] = []
    for number, path in enumerate(paths, 1):
        times.append(execute(path, out_dir, timeout, label=f"[{number}/{len(paths)}] {path.stem}"))
        if times[-1].status != "ok":
            print(
                f"{times[-1].error}\n\n{path.name} failed (the whole traceback is in "
                f"{out_dir / path.name}); the lectures after it did not run.",
                file=sys.stderr,
            )
            break
    print(table(times))
    print(f"saved {write_timings(times, out_dir)}")
    return times


def main(argv: list[str] | None = None) -> int:
    """Command line: run the lectures (default: every one) into --out."""
    parser = argparse.ArgumentParser(
        prog="python -m utils.course", description=__doc__.strip().splitlines()[0]
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every lecture")
    parser.add_argument("--out", type=Path, default=SOURCE_ROOT / "build" / "notebooks")
    parser.add_argument(
        "--timeout", type=int, default=CELL_TIMEOUT, help="seconds one cell may run"
    )
    args = parser.parse_args(argv)
    paths = args.notebooks or course_notebooks()
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    times = run(paths, args.out, args.timeout)
    return 0 if all(t.status == "ok" for t in times) else 1


if __name__ == "__main__":
    sys.exit(main())
