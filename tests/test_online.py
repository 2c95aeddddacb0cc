"""The online profile against the local Hub stand-in: setup, `make data`, the fine-tuning command."""

import filecmp
import json
import subprocess
import sys

import pytest
from conftest import ROOT, online_env

from utils.config import resolve_data_dir


def run(args: list[str], env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess:
    """Run a Python command in the course folder; fail with its output if it fails."""
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{(done.stdout + done.stderr)[-4000:]}"
    return done


@pytest.fixture
def env(hub_mirror, tmp_path):
    return online_env(hub_mirror, tmp_path / "hf-home")


def test_setup_reports_the_online_profile_and_distilbert(env):
    code = "import utils; cfg = utils.setup(); print(cfg.model_name, cfg.data_dir)"
    out = run(["-c", code], env).stdout
    assert "profile      : online" in out
    assert "distilbert/distilbert-base-uncased None" in out


def test_make_data_writes_the_shared_copy_byte_for_byte(env, tmp_path):
    run(["-m", "utils.data", str(tmp_path / "emotion")], env)
    shared = resolve_data_dir(online=False, root=ROOT)
    for split in ("train", "validation", "test"):
        written, original = tmp_path / "emotion" / f"{split}.txt", shared / f"{split}.txt"
        assert filecmp.cmp(written, original, shallow=False), f"{split}.txt differs"


@pytest.mark.slow
def test_finetune_command_runs_online_on_a_folder_with_a_700_token_text(env, tmp_path):
    folder = tmp_path / "emotion"
    folder.mkdir()
    long_text = " ".join(["i feel wonderful and"] * 175)  # 700 words, 700 tokens and more
    lines = [f"i feel number {i} today;{('joy', 'sadness')[i % 2]}" for i in range(30)]
    for split in ("train", "validation", "test"):
        rows = [*lines, f"{long_text};joy"] if split == "train" else lines[:8]
        (folder / f"{split}.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "model"
    args = ["-m", "utils.finetune", "--data-dir", str(folder), "--output", str(out)]
    run([*args, "--max-steps", "2", "--batch-size", "16"], env)
    metrics = json.loads((out / "all_results.json").read_text())
    assert metrics["model"] == "distilbert/distilbert-base-uncased"
    assert metrics["global_step"] == 2
    assert json.loads((out / "tokenizer_config.json").read_text())["model_max_length"] == 512
