"""Lecture 1 as a student meets it in Colab: a bare runtime, the install cell, the Hub online.

A virtual environment holds only what Colab preinstalls and the course needs before its install
cell (torch, a Jupyter kernel). `google.colab` is imported when the kernel starts, as Colab does,
so the install cell runs: it pip-installs the course from a local git repository (git+file://, in
place of GitHub) with its base dependencies only, and the lecture then runs online against the Hub
stand-in. Afterwards every module that any lecture imports must import in that environment.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import CI_SUBSET, ROOT, online_env

from utils import editions

TORCH = "torch==2.13.0"  # the CPU wheel of these machines; Colab has its own CUDA build
LECTURE = "01_dataset.ipynb"


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{' '.join(command)}:\n{(done.stdout + done.stderr)[-4000:]}"
    return done


def course_repository(target: Path) -> Path:
    """A git repository of the working tree as it is now (tracked and new files), on `main`."""
    files = run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT
    ).stdout.split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    git = ["git", "-C", str(target), "-c", "user.name=t", "-c", "user.email=t@localhost"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "course"]):
        run(git + args)
    return target


def colab_kernel(work: Path) -> dict[str, str]:
    """A bare environment (torch, ipykernel) and a kernel in it that imports google.colab."""
    venv = work / "runtime"
    run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    run([str(python), "-m", "pip", "install", "-q", TORCH, "ipykernel"], timeout=900)
    fake = work / "colab-stub" / "google" / "colab"
    fake.mkdir(parents=True)
    (fake.parent / "__init__.py").write_text("")
    (fake / "__init__.py").write_text('"""Stand-in: Colab imports google.colab at start."""\n')
    startup = work / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-colab.py").write_text("import google.colab  # noqa: F401\n")
    spec = work / "jupyter" / "kernels" / "colab"
    spec.mkdir(parents=True)
    kernel = {
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab stand-in",
        "language": "python",
        "env": {"PYTHONPATH": str(fake.parents[1]), "IPYTHONDIR": str(work / "ipython")},
    }
    (spec / "kernel.json").write_text(json.dumps(kernel))
    return {"JUPYTER_PATH": str(work / "jupyter"), "python": str(python)}


def lecture_imports() -> set[str]:
    """Top-level modules that the lecture notebooks import."""
    modules = set()
    for path in editions.course_notebooks():
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code" or cell.source.lstrip().startswith(("%", "!")):
                continue
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names)


@pytest.mark.slow
def test_lecture_1_installs_the_course_in_a_bare_colab_runtime_and_runs(hub_mirror, tmp_path):
    repo = course_repository(tmp_path / "clone")
    kernel = colab_kernel(tmp_path)
    content = tmp_path / "content"  # Colab's working folder: no course files in it
    content.mkdir()
    lecture = nbformat.read(ROOT / "notebooks" / "student" / LECTURE, as_version=4)
    settings = editions.course_settings()
    install = next(c for c in lecture.cells if editions.has_tag(c, editions.INSTALL_TAG))
    github = f"git+{settings['repository']}.git@{settings['branch']}"
    assert github in install.source
    install.source = install.source.replace(github, f"git+file://{repo}@main")
    # A student stuck on an exercise asks for a nudge and a worked solution.
    help_cell = nbformat.v4.new_code_cell("ex.q1.hint()\nex.q1.solution()")
    lecture.cells.append(help_cell)
    nbformat.write(lecture, content / LECTURE)

    env = online_env(hub_mirror, tmp_path / "hf-home") | {
        "JUPYTER_PATH": kernel["JUPYTER_PATH"],
        "COURSE_SUBSET": CI_SUBSET,
    }
    command = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute"]
    command += ["--inplace", "--ExecutePreprocessor.kernel_name=colab"]
    command += ["--ExecutePreprocessor.timeout=900", str(content / LECTURE)]
    run(command, cwd=content, env=env, timeout=1_800)

    executed = nbformat.read(content / LECTURE, as_version=4)
    printed = {
        c.id: "".join(o.get("text", "") for o in c.outputs)
        for c in executed.cells
        if c.cell_type == "code"
    }
    assert "Course installed." in printed[install.id]
    setup = next(c for c in executed.cells if "utils.setup()" in c.source)
    assert "profile      : online" in printed[setup.id]
    stubs = [c for c in executed.cells if editions.has_tag(c, editions.EXERCISE_TAG)]
    assert stubs and all("not attempted:" in printed[c.id] for c in stubs)
    asked = next(c for c in executed.cells if c.source == help_cell.source)
    assert printed[asked.id].startswith("Hint for Exercise 1.1")
    shown = "".join(o.get("data", {}).get("text/markdown", "") for o in asked.outputs)
    assert "Solution to Exercise 1.1" in shown and "```python" in shown, asked.outputs
    # The base dependencies must bring every module a lecture imports (no offline extra on Colab).
    code = f"import {', '.join(sorted(lecture_imports()))}"
    run([kernel["python"], "-c", code], env=env, timeout=300)
