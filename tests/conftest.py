"""Shared fixtures: the local Hub stand-in, and each lecture notebook executed once per profile."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def online_env(hub_url: str, hf_home: Path) -> dict[str, str]:
    """The environment of a student online: the Hub at `hub_url`, an empty Hugging Face cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "COURSE_"))}
    env.pop("TRANSFORMERS_OFFLINE", None)
    env.update(HF_ENDPOINT=hub_url, HF_HOME=str(hf_home), CI="true")
    return env


def offline_env() -> dict[str, str]:
    """The environment of an air-gapped classroom (and of CI)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "COURSE_"))}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", CI="true")
    return env


class ExecutedLectures:
    """One nbval run of every notebook in one profile: its result and the executed copies."""

    def __init__(self, profile: str, env: dict[str, str], workdir: Path) -> None:
        self.profile = profile
        self.folder = workdir / "executed"
        env = {
            **env,
            "COURSE_SUBSET": CI_SUBSET,
            "COURSE_BUILD_DIR": str(workdir / "build"),  # an empty build folder, as on Colab
            "NBVAL_KEEP_DIR": str(self.folder),
            "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), env.get("PYTHONPATH", "")]),
        }
        command = [sys.executable, "-m", "pytest", "-p", "nbval_keep", "--nbval-lax"]
        command += ["--nbval-current-env", "-p", "no:cacheprovider", "-q", "notebooks/"]
        self.run = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=NBVAL_TIMEOUT
        )

    @property
    def report(self) -> str:
        """The end of nbval's output, for a failure message."""
        return (self.run.stdout + self.run.stderr)[-6000:]

    def notebook(self, name: str) -> Path:
        """The executed copy of notebooks/`name`."""
        return self.folder / name


@pytest.fixture(scope="session")
def offline_lectures(tmp_path_factory) -> ExecutedLectures:
    """Every notebook executed offline under nbval, CI-sized, from an empty build folder."""
    return ExecutedLectures("offline", offline_env(), tmp_path_factory.mktemp("offline"))


@pytest.fixture(scope="session")
def online_lectures(hub_mirror, tmp_path_factory) -> ExecutedLectures:
    """Every notebook executed online (against the Hub stand-in) under nbval, CI-sized."""
    work = tmp_path_factory.mktemp("online")
    return ExecutedLectures("online", online_env(hub_mirror, work / "hf-home"), work)
