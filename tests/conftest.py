"""Shared fixtures: the local Hub stand-in, and each lecture notebook executed once per profile."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from utils import editions
from utils.config import resolve_data_dir

ROOT = Path(__file__).resolve().parents[1]
CI_SUBSET = "300"
NBVAL_TIMEOUT = 1_500  # seconds for all lectures of one profile


@pytest.fixture(scope="session")
def hub_mirror(tmp_path_factory) -> str:
    """URL of a running Hub stand-in (olah) with DistilBERT, a classifier and dair-ai/emotion."""
    import hub_standin

    work = tmp_path_factory.mktemp("hub")
    mirrors = hub_standin.build_repos(work / "mirrors", resolve_data_dir(online=False, root=ROOT))
    with hub_standin.serve(mirrors, work) as url:
        yield url


def _plain_env() -> dict[str, str]:
    """This process's environment without Hugging Face or course settings, in CI mode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "COURSE_"))}
    env.pop("TRANSFORMERS_OFFLINE", None)
    return env | {"CI": "true"}


def online_env(hub_url: str, hf_home: Path) -> dict[str, str]:
    """The environment of a student online: the Hub at `hub_url`, an empty Hugging Face cache."""
    return _plain_env() | {"HF_ENDPOINT": hub_url, "HF_HOME": str(hf_home)}


def offline_env() -> dict[str, str]:
    """The environment of an air-gapped classroom (and of CI)."""
    return _plain_env() | {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


class ExecutedLectures:
    """One nbval run of every notebook in one profile, in the background: result and executed copies.

    Each notebook starts with an empty COURSE_CACHE_DIR of its own, as on a fresh Colab machine.
    """

    def __init__(
        self, profile: str, env: dict[str, str], workdir: Path, notebooks: list[Path] | None = None
    ) -> None:
        self.profile = profile
        self.folder = workdir / "executed"
        env = {
            **env,
            "COURSE_SUBSET": CI_SUBSET,
            "NBVAL_FRESH_ROOT": str(workdir / "machines"),  # one empty cache per notebook
            "NBVAL_KEEP_DIR": str(self.folder),
            "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), env.get("PYTHONPATH", "")]),
            "OMP_NUM_THREADS": "1",  # the two profiles run side by side
        }
        command = [sys.executable, "-m", "pytest", "-p", "nbval_course", "--nbval-lax"]
        command += ["--nbval-current-env", "-p", "no:cacheprovider", "-q"]
        notebooks = notebooks or editions.course_notebooks()
        command += [str(path.relative_to(ROOT)) for path in notebooks]
        self._log = (workdir / "nbval.log").open("w+")
        self._process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, text=True
        )
        self._returncode: int | None = None

    def wait(self) -> int:
        """nbval's exit status, once it has finished."""
        if self._returncode is None:
            try:
                self._returncode = self._process.wait(timeout=NBVAL_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._returncode = self._process.wait()
        return self._returncode

    @property
    def report(self) -> str:
        """The end of nbval's output, for a failure message."""
        self.wait()
        self._log.seek(0)
        return self._log.read()[-6000:]

    def notebook(self, name: str) -> Path:
        """The executed copy of notebooks/`name`, once nbval has finished."""
        self.wait()
        return self.folder / name


LECTURE_FIXTURES = {
    "offline": "offline_lectures",
    "online": "online_lectures",
    "student": "student_lectures",
}


@pytest.fixture(scope="session")
def lecture_runs() -> dict[str, ExecutedLectures]:
    """The nbval runs started so far, by profile (see `start_lecture_runs`)."""
    return {}


def start(profile: str, runs: dict, request, tmp_path_factory) -> ExecutedLectures:
    """The nbval run of `profile`, started now unless it already runs."""
    if profile not in runs:
        work = tmp_path_factory.mktemp(profile)
        env = (
            online_env(request.getfixturevalue("hub_mirror"), work / "hf-home")
            if profile == "online"
            else offline_env()
        )
        # The student edition as a student meets it: offline, every exercise left untouched.
        notebooks = [editions.STUDENT_DIR / p.name for p in editions.course_notebooks()]
        runs[profile] = ExecutedLectures(
            profile, env, work, notebooks if profile == "student" else None
        )
    return runs[profile]


@pytest.fixture(scope="session", autouse=True)
def start_lecture_runs(request, lecture_runs, tmp_path_factory):
    """Start, at the beginning of the session, the nbval runs that selected tests will need.

    The notebooks then execute while the quick tests run, and both profiles side by side.
    """
    needed = {name for item in request.session.items for name in item.fixturenames}
    for profile, fixture in LECTURE_FIXTURES.items():
        if fixture in needed or ("lectures" in needed and profile != "student"):
            start(profile, lecture_runs, request, tmp_path_factory)


@pytest.fixture(scope="session")
def offline_lectures(lecture_runs, request, tmp_path_factory) -> ExecutedLectures:
    """Every notebook executed offline under nbval, CI-sized, each from an empty cache folder."""
    return start("offline", lecture_runs, request, tmp_path_factory)


@pytest.fixture(scope="session")
def online_lectures(lecture_runs, request, tmp_path_factory) -> ExecutedLectures:
    """Every notebook executed online (against the Hub stand-in) under nbval, CI-sized."""
    return start("online", lecture_runs, request, tmp_path_factory)


@pytest.fixture(scope="session")
def student_lectures(lecture_runs, request, tmp_path_factory) -> ExecutedLectures:
    """Every notebook of the student edition executed offline, CI-sized, exercises untouched."""
    return start("student", lecture_runs, request, tmp_path_factory)


@pytest.fixture(scope="session", params=["offline", "online"])
def lectures(request) -> ExecutedLectures:
    """The nbval run of each profile in turn (teacher edition)."""
    return request.getfixturevalue(LECTURE_FIXTURES[request.param])


# --- Chromium, for the slide decks and the site --------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> str:
    """The path of a Chromium that playwright can drive; the test is skipped without one."""
    from slides import pdf

    path = pdf.find_chromium()
    if path is None:
        pytest.skip("no Chromium found (apt-get install chromium): nothing opened in a browser")
    pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
    )
    return path


@pytest.fixture(scope="module")
def browser(chromium):
    """A headless Chromium with the course's flags, for one test module."""
    from playwright.sync_api import sync_playwright

    from slides import pdf

    with sync_playwright() as pw:
        args = [f for f in pdf.CHROMIUM_FLAGS if f != "--headless"]
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=args)
        yield browser
        browser.close()
